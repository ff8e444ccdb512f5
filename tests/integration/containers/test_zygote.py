"""The warm worker's zygote (runtime/container/zygote.py) on this host's cgroup v1:
an attached run's first process is born in its cgroup (the spare renamed, limits
written), cases it cannot serve fall back to a move, and no spare is left behind."""
import json
import os
import signal
import subprocess
import time

import pytest

from .test_warm_cli import server_pid, warm_up

pytestmark = pytest.mark.root

NONE = ("--network", "none")


def spares(config) -> list[str]:
    parent = config.cgroup_root / "memory" / config.cgroup_parent
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("spare-")) if parent.is_dir() else []


def wait_for(check, timeout=5.0):
    """Whether CHECK came true within TIMEOUT. Its last answer, not a fresh one: a spare
    seen once may be gone by a second look (the worker that served a command removes its own)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def steps_of(config, name: str) -> dict:
    """Each launch step's report ("after") for the container named NAME, from the events log."""
    cid, reports = None, {}
    for line in (config.run / "events.log").read_text().splitlines():
        ev = json.loads(line)
        if ev["type"] == "container.created" and ev["data"].get("name") == name:
            cid = ev["id"]
        elif ev["type"] == "container.step" and ev["id"] == cid and ev["data"]["phase"] == "after":
            reports[ev["data"]["step"]] = ev["data"]["report"]
    return reports


@pytest.fixture
def v1_host(onggi_config):
    if (onggi_config.cgroup_root / "cgroup.controllers").exists():
        pytest.skip("pure cgroup v2 host: launches clone3 into their cgroup, no zygote")


def zygote_waiting(onggi, config) -> tuple[int, object]:
    """(the warm server's pid, a spare cgroup's memory directory) once a zygote sits
    in a spare (a server killed before may have left its socket file: wait for the
    new server's spare, not just for the file)."""
    warm_up(onggi, config)
    found = []

    def joined():
        parent = config.cgroup_root / "memory" / config.cgroup_parent
        for name in spares(config):
            try:
                if (parent / name / "cgroup.procs").read_text().split():
                    found.append(parent / name)
                    return True
            except OSError:       # a worker that served a command removing its own (ENOENT, ENODEV)
                pass
        return False
    assert wait_for(joined)
    return server_pid(config), found[-1]


def test_an_attached_run_is_born_in_its_cgroup_with_its_limits(onggi, onggi_config, v1_host):
    server, spare = zygote_waiting(onggi, onggi_config)
    proc = onggi("run", "--rm", *NONE, "--name", "z1", "-m", "32m", "--pids-limit", "50",
                 "busybox", "sh", "-c", "echo born; exit 3")
    assert proc.returncode == 3 and proc.stdout == "born\n"
    steps = steps_of(onggi_config, "z1")
    assert steps["cgroup"]["made_by"] == "rename of a spare cgroup"
    assert steps["cgroup"]["files"]["memory.limit_in_bytes"] == str(32 << 20)   # read back
    assert steps["cgroup"]["files"]["pids.max"] == "50"
    assert steps["namespaces"]["joined_cgroup_by"].startswith("clone(CLONE_PARENT)")
    cid_path = steps["cgroup"]["path"]
    in_cgroups = [line.split(":", 1)[1] for line in steps["namespaces"]["cgroup"]]   # /proc/PID/cgroup
    assert f"memory:{cid_path}" in in_cgroups and f"pids:{cid_path}" in in_cgroups
    assert server_pid(onggi_config) == server
    assert not spare.exists()                       # it became the container's, then went with it
    assert wait_for(lambda: len(spares(onggi_config)) == 1)   # the next worker has its own


def test_a_launch_the_zygote_cannot_serve_is_moved_in_as_before(onggi, onggi_config, v1_host):
    """--pids-limit 1: the zygote and the child would be two tasks at once."""
    warm_up(onggi, onggi_config)
    proc = onggi("run", "--rm", *NONE, "--name", "z2", "--pids-limit", "1", "busybox", "true")
    assert proc.returncode == 0
    steps = steps_of(onggi_config, "z2")
    assert "made_by" not in steps["cgroup"]
    assert steps["namespaces"]["joined_cgroup_by"] == "cgroup.procs"


def test_commands_that_launch_nothing_leave_no_spares(onggi, onggi_config, v1_host):
    warm_up(onggi, onggi_config)
    for _ in range(3):
        onggi("ps", check=True)
    assert wait_for(lambda: len(spares(onggi_config)) == 1)


def test_a_killed_server_leaves_a_spare_that_prune_removes(onggi, onggi_config, rt, stop_warm, v1_host):
    zygote_waiting(onggi, onggi_config)
    parent = onggi_config.cgroup_root / "memory" / onggi_config.cgroup_parent

    def settled():
        # One spare, its owner (the waiting spare worker) alive and its zygote inside: the
        # worker that served warm_up's command has removed its own by then. (A fixed sleep
        # was not enough on a loaded host: the only spare left could be that worker's.)
        names = spares(onggi_config)
        if len(names) != 1 or not os.path.exists(f"/proc/{names[0].rpartition('-')[2]}"):
            return False
        try:
            return bool((parent / names[0] / "cgroup.procs").read_text().split())
        except OSError:              # ENOENT removed, ENODEV being removed
            return False
    assert wait_for(lambda: settled() and (time.sleep(0.3) or settled()), timeout=10)
    mine = f"ONGGI_RUN={onggi_config.run}".encode()
    for pid in map(int, subprocess.run(["pgrep", "-f", "runtime.cli.warm"], capture_output=True,
                                       text=True).stdout.split()):
        try:
            if mine in open(f"/proc/{pid}/environ", "rb").read().split(b"\0"):
                os.kill(pid, signal.SIGKILL)     # no chance to clean up: the zygote dies with it
        except (FileNotFoundError, ProcessLookupError):
            pass

    def emptied():
        try:
            return all(not (parent / name / "cgroup.procs").read_text().split() for name in spares(onggi_config))
        except OSError:              # ENOENT removed, ENODEV being removed
            return False
    assert wait_for(emptied)
    left = spares(onggi_config)
    assert left                                   # the killed spare worker's, at least
    # SIGKILLed is not yet gone: prune leaves a live owner's spare alone, so wait for the owners.
    from runtime.cgroups import pid_alive
    assert wait_for(lambda: not any(pid_alive(int(name.rpartition("-")[2])) for name in left))
    stop_warm()
    deleted = [line for line in rt.system_prune() if "/spare-" in line]
    assert sorted(deleted) == sorted(f"Deleted cgroup: /{onggi_config.cgroup_parent}/{name}" for name in left)
    assert spares(onggi_config) == []


def test_only_its_stdio_reaches_a_container_the_zygote_cloned(onggi, onggi_config, v1_host):
    """The fds the zygote received (channel, stdio) are close-on-exec: nothing else
    is open in the container, and the channel's EOF at execve tells the monitor the
    command runs (its output is copied while it runs, not after)."""
    zygote_waiting(onggi, onggi_config)
    proc = onggi("run", "--rm", *NONE, "--name", "z5", "busybox", "ls", "/proc/self/fd")
    assert proc.stdout.split() == ["0", "1", "2", "3"]        # 3: the directory ls reads
    assert steps_of(onggi_config, "z5")["namespaces"]["joined_cgroup_by"].startswith("clone(CLONE_PARENT)")
    live = subprocess.Popen([".venv/bin/onggi", "run", "--rm", *NONE, "busybox", "sh", "-c",
                             "echo early; sleep 3"], env=onggi.env, stdout=subprocess.PIPE, text=True)
    try:
        started = time.monotonic()
        assert live.stdout.readline() == "early\n" and time.monotonic() - started < 2.5
    finally:
        live.wait(timeout=10)


def test_a_whole_launch_on_this_hosts_cgroup2_tree_clones_into_its_cgroup(onggi, onggi_config):
    """The cgroup v2 path end to end, for real: onggi pointed at the cgroup2 mount
    (all of /sys/fs/cgroup on v2, unified/ on hybrid, which has no controllers, so
    no limits). No zygote: clone3 starts the first process in its cgroup. The warm
    server's zygote (made for the session's v1 tree) does not serve this command."""
    root = onggi_config.cgroup_root
    v2 = root if (root / "cgroup.controllers").exists() else root / "unified"
    if not (v2 / "cgroup.controllers").exists():
        pytest.skip("no cgroup2 tree on this host")
    env = {"ONGGI_CGROUP_ROOT": str(v2)}
    proc = onggi("run", "--rm", *NONE, "--name", "v2", "busybox", "echo", "on v2", env_extra=env)
    assert proc.returncode == 0 and proc.stdout == "on v2\n", proc.stderr
    steps = steps_of(onggi_config, "v2")
    assert steps["cgroup"]["version"] == "v2" and "made_by" not in steps["cgroup"]
    assert steps["namespaces"]["joined_cgroup_by"] == "clone3(CLONE_INTO_CGROUP)"
    assert f"0::{steps['cgroup']['path']}" in steps["namespaces"]["cgroup"]
    cid = steps["cgroup"]["path"].rsplit("/", 1)[1]
    assert wait_for(lambda: not (v2 / onggi_config.cgroup_parent / cid).exists())   # --rm took it
