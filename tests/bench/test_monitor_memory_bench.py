"""Issue 2's memory figure: the host memory that supervising one container costs.

A detached `sleep` container's monitor (the process that waits for it, keeps its log
and tears it down: onggi's conmon), measured from /proc/PID/smaps_rollup: RSS,
PSS (shared pages split among their users) and private memory (what the host gets
back when it exits). Started warm (`run -d` forked from the warm CLI's worker) and
cold (ONGGI_NO_WARM=1: forked from a CLI of its own). Either way the process it was
forked from exits, so the pages it only read become its own too: the warm worker
copied its pages from the server ahead of time (warm.py: _prefault, worth ~2.5 ms of
every launch), so warm costs as much as cold, as a monitor the web app spawns does.
The peer is podman's monitor, conmon (written in C), for the same container.
"""
import subprocess
import time
import uuid

import pytest

pytestmark = pytest.mark.root

FIELDS = ("Rss", "Pss", "Private_Clean", "Private_Dirty")


def memory_kib(pid: int) -> dict:
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in FIELDS:
                out[key] = int(rest.split()[0])
    return {"rss": out["Rss"], "pss": out["Pss"],
            "private": out["Private_Clean"] + out["Private_Dirty"]}


def onggi_monitor(onggi, rt, env_extra=None) -> dict:
    name = f"mem{uuid.uuid4().hex[:8]}"
    onggi("run", "-d", "--network", "none", "--name", name, "busybox", "sleep", "60",
          env_extra=env_extra, check=True)
    try:
        time.sleep(0.5)                        # settled: log writer open, waiting
        return memory_kib(rt.container(name).state.monitor_pid)
    finally:
        onggi("rm", "-f", name, check=True)


def conmon(image, env) -> dict:
    name = f"onggi-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["podman", "run", "-d", "--name", name, "--network", "none", image, "sleep", "60"],
                   env=env, check=True, capture_output=True)
    try:
        time.sleep(0.5)
        pid = subprocess.run(["podman", "inspect", "-f", "{{.State.ConmonPid}}", name], env=env,
                             check=True, capture_output=True, text=True).stdout.strip()
        return memory_kib(int(pid))
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "0", name], env=env, capture_output=True)


def test_memory_of_supervising_one_container(onggi, rt, onggi_config, podman_busybox):
    image, podman_env = podman_busybox
    onggi("ps", check=True)                    # starts the warm server...
    deadline = time.monotonic() + 10
    while not (onggi_config.run / "cli.sock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)                       # ...which is ready once its socket is there
    rows = [("onggi monitor (warm)", onggi_monitor(onggi, rt)),
            ("onggi monitor (cold, ONGGI_NO_WARM=1)", onggi_monitor(onggi, rt, {"ONGGI_NO_WARM": "1"})),
            ("podman's conmon", conmon(image, podman_env))]
    print("\nhost memory to supervise one running container (KiB)")
    for label, m in rows:
        print(f"  {label:<40} private {m['private']:7d}   PSS {m['pss']:7d}   RSS {m['rss']:7d}")
    print()
    assert all(m["private"] > 0 and m["rss"] >= m["pss"] > 0 for _, m in rows)
