"""A container's life through the CLI: detached runs, logs, exec, stop, kill, wait, rm,
exit codes, limits (OOM, pids), events, and many CLIs at once."""
import concurrent.futures
import json
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.root

NONE = ("--network", "none")


def wait_for(predicate, timeout=10.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(step)
    return False


@pytest.mark.parametrize("argv, code", [
    (["sh", "-c", "exit 0"], 0),
    (["sh", "-c", "exit 3"], 3),
    (["sh", "-c", "sh -c 'kill -9 $$'; exit $?"], 137),   # PID 1 itself ignores even SIGKILL from inside
    (["nosuchcommand"], 127),
    (["/etc/passwd"], 126),
    (["/nonexistent/bin"], 127),
])
def test_exit_codes_are_dockers(onggi, argv, code):
    proc = onggi("run", "--rm", *NONE, "busybox", *argv)
    assert proc.returncode == code, proc.stderr
    if code in (126, 127):
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("onggi: exec:")


@pytest.mark.parametrize("args, message", [
    (["run", "--rm", "nosuchimage:1", "true"], "no such image"),
    (["run", "--rm", "-m", "64x", "busybox", "true"], "invalid memory size '64x'"),
    (["run", "--rm", "--cpus", "abc", "busybox", "true"], "cpus"),
    (["run", "--rm", "-v", "relative:/x", "busybox", "true"], "absolute"),
    (["run", "--rm", "-p", "notaport", "busybox", "true"], "invalid -p"),
    (["run", "--frobnicate", "busybox"], "unrecognized arguments"),
    (["stop", "nosuchcontainer"], "no such container"),
    (["exec", "nosuchcontainer", "true"], "no such container"),
    (["kill", "-s", "NOTASIG", "x"], "invalid signal"),
    (["nosuchverb"], "not an onggi command"),
])
def test_bad_input_is_one_line_and_125(onggi, args, message):
    proc = onggi(*args)
    assert proc.returncode == 125
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_root_is_one_line(onggi):
    proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                           ".venv/bin/onggi", "run", "--rm", "busybox", "true"],
                          capture_output=True, text=True, env=onggi.env)
    assert proc.returncode == 125
    assert "root" in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_detached_logs_exec_stop(onggi, rt):
    cid = onggi("run", "-d", *NONE, "--name", "ticker", "busybox", "sh", "-c",
                "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done",
                check=True).stdout.strip()
    assert len(cid) == 64
    assert wait_for(lambda: "tick 2" in onggi("logs", "ticker").stdout)
    assert "ticker" in onggi("ps").stdout
    exe = onggi("exec", "ticker", "sh", "-c", "echo $$ && hostname", check=True).stdout.split()
    assert int(exe[0]) > 1 and exe[1] == cid[:12]
    assert onggi("exec", "ticker", "sh", "-c", "exit 7").returncode == 7
    assert onggi("exec", "ticker", "nosuch").returncode == 127
    top = onggi("top", "ticker", check=True).stdout
    assert "PID" in top and "sh -c" in top
    t0 = time.monotonic()
    assert onggi("stop", "ticker", check=True).stdout.strip() == "ticker"
    assert time.monotonic() - t0 < 5            # the trap answered SIGTERM
    assert onggi("wait", "ticker", check=True).stdout.strip() == "0"
    assert "bye" in onggi("logs", "ticker").stdout
    state = json.loads(onggi("inspect", "ticker", check=True).stdout)[0]["State"]
    assert state["Status"] == "exited" and state["ExitCode"] == 0 and state["FinishedAt"] > state["StartedAt"]
    assert "Exited (0)" in onggi("ps", "-a").stdout
    onggi("rm", "ticker", check=True)
    assert "ticker" not in onggi("ps", "-a").stdout


def test_detached_container_outlives_its_cli_and_is_killed(onggi, rt):
    cid = onggi("run", "-d", *NONE, "busybox", "sleep", "300", check=True).stdout.strip()
    c = rt.container(cid)
    assert c.state.status.value == "running"
    assert onggi("rm", cid).returncode == 125                  # running: needs -f
    onggi("kill", "-s", "TERM", cid, check=True)              # PID 1 ignores an unhandled TERM
    time.sleep(0.3)
    assert c.state.status.value == "running"
    onggi("kill", cid, check=True)                            # SIGKILL
    assert onggi("wait", cid, check=True).stdout.strip() == "137"
    onggi("rm", cid, check=True)


def test_start_a_created_container_and_restart_an_exited_one(onggi):
    cid = onggi("create", *NONE, "busybox", "sh", "-c", "echo run", check=True).stdout.strip()
    assert "Created" in onggi("ps", "-a").stdout
    assert onggi("start", "-a", cid, check=True).stdout == "run\n"
    onggi("start", cid, check=True)
    assert onggi("wait", cid, check=True).stdout.strip() == "0"
    assert onggi("logs", cid).stdout == "run\nrun\n"
    onggi("rm", cid, check=True)


def test_stdin_with_i(onggi):
    proc = onggi("run", "--rm", "-i", *NONE, "busybox", "sh", "-c", "tr a-z A-Z", input="annyeong\n")
    assert proc.stdout == "ANNYEONG\n"


def test_oom_kill_exits_137_and_inspect_says_so(onggi, rt):
    proc = onggi("run", "--name", "hungry", *NONE, "-m", "16m", "busybox", "sh", "-c",
                 "x=$(head -c 67108864 /dev/zero | tr '\\0' a); echo survived")
    try:
        assert proc.returncode == 137, proc.stdout + proc.stderr
        doc = json.loads(onggi("inspect", "hungry", check=True).stdout)[0]
        assert doc["State"]["OOMKilled"] is True and doc["State"]["ExitCode"] == 137
        assert doc["HostConfig"]["Memory"] == 16 * 1024 * 1024
        # container.oom says what the kernel counted before the cgroup went away (the views
        # show it after the container's node is gone), and comes before container.exited.
        mine = [e for e in rt.publisher.read() if e.get("id") == doc["Id"]]
        oom = next(e for e in mine if e["type"] == "container.oom")
        assert oom["data"]["name"] == "hungry" and oom["data"]["memory_max"] == 16 << 20
        assert 0 < oom["data"]["memory_peak"] <= 16 << 20 and oom["data"]["oom_kills"] >= 1
        assert [e["type"] for e in mine].index("container.oom") < [e["type"] for e in mine].index("container.exited")
    finally:
        onggi("rm", "-f", "hungry")


def test_pids_limit_stops_a_fork_loop(onggi, rt):
    cid = onggi("run", "-d", *NONE, "--pids-limit", "12", "busybox", "sleep", "300",
                check=True).stdout.strip()
    try:
        loop = onggi("exec", cid, "sh", "-c", "while true; do sleep 300 >/dev/null 2>&1 & done")
        assert loop.returncode != 0 and "can't fork" in loop.stderr      # the loop was stopped
        stats = rt.cgroups.get(cid).stats()
        # at the peak: PID 1, the looping shell, the exec helper and the sleeps = 12;
        # the shell and helper are gone now, the sleeps stay.
        assert stats.pids_max == 12 and 8 <= stats.pids_current <= 12
        assert rt.container(cid).state.status.value == "running"      # PID 1 is unharmed
    finally:
        onggi("rm", "-f", cid)


def test_cpu_quota_is_written(onggi, rt):
    cid = onggi("run", "-d", *NONE, "--cpus", "0.5", "busybox", "sleep", "30", check=True).stdout.strip()
    try:
        assert rt.cgroups.get(cid).limits().cpu_quota == 50000
        stats = json.loads(onggi("inspect", cid, check=True).stdout)[0]["HostConfig"]
        assert stats["NanoCpus"] == 500_000_000 and stats["CpuQuota"] == 50000
    finally:
        onggi("rm", "-f", cid)


def test_events_come_in_order(onggi, rt):
    log = rt.config.events_log
    start = log.stat().st_size if log.exists() else 0
    cid = onggi("run", "--rm", *NONE, "busybox", "true", check=True)
    with open(log) as f:
        f.seek(start)
        events = [json.loads(line) for line in f if line.strip()]
    mine = [e for e in events if e["type"].startswith("container.")]
    types = [e["type"] for e in mine if e["type"] != "container.step"]
    assert types == ["container.created", "container.started", "container.exited", "container.deleted"]
    steps = [e["data"]["step"] for e in mine if e["type"] == "container.step"]
    assert steps == ["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"]
    ns = next(e for e in mine if e["type"] == "container.step" and e["data"]["step"] == "namespaces")
    assert ns["data"]["report"]["namespaces"]["pid"]["isolated"] is True
    del cid


def test_twenty_parallel_runs(onggi, rt):
    def one(i):
        return onggi("run", "--rm", *NONE, "--name", f"par{i}", "busybox", "sh", "-c", f"echo {i}")
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(one, range(20)))
    assert [r.returncode for r in results] == [0] * 20, [r.stderr for r in results if r.returncode]
    assert sorted(int(r.stdout) for r in results) == list(range(20))
    assert rt.containers.ids() == [] and rt.cgroups.names() == []


def test_name_taken_once(onggi):
    onggi("create", *NONE, "--name", "only-one", "busybox", "true", check=True)
    try:
        proc = onggi("create", *NONE, "--name", "only-one", "busybox", "true")
        assert proc.returncode == 125 and "already in use" in proc.stderr
    finally:
        onggi("rm", "only-one")


def test_killed_cli_and_monitor_leave_nothing_after_prune(onggi, rt, onggi_config):
    """SIGKILL the CLI and its monitor at several moments of a launch; prune cleans all.

    Cold (no warm server), so that the CLI process is the one doing the launch and
    killing its process tree kills the launch wherever it is.
    """
    env = dict(onggi.env, ONGGI_NO_WARM="1")
    for delay in (0.0, 0.03, 0.08, 0.15, 0.3, 0.5):
        proc = subprocess.Popen([".venv/bin/onggi", "run", *NONE, "--name", f"doomed{int(delay * 100)}",
                                 "busybox", "sleep", "60"], env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        _kill_tree(proc.pid)
        proc.wait()
    onggi("system", "prune", "-f", check=True)
    assert rt.containers.ids() == []
    assert rt.cgroups.names() == []
    mounts = open("/proc/self/mountinfo").read()
    assert str(onggi_config.containers_dir) not in mounts
    assert not list(onggi_config.names_dir.iterdir())
    assert not onggi_config.trash_dir.exists() or not list(onggi_config.trash_dir.iterdir())


def test_rm_leaves_no_trash_and_prune_empties_what_a_killed_monitor_left(onggi, onggi_config):
    onggi("run", "--rm", *NONE, "busybox", "sh", "-c", "echo x > /file", check=True)
    for _ in range(100):          # the monitor deletes its trash just after answering
        if not onggi_config.trash_dir.exists() or not list(onggi_config.trash_dir.iterdir()):
            break
        time.sleep(0.02)
    assert not onggi_config.trash_dir.exists() or not list(onggi_config.trash_dir.iterdir())
    leftover = onggi_config.trash_dir / ("f" * 64)
    (leftover / "upper").mkdir(parents=True)
    (leftover / "upper" / "file").write_text("x")
    out = onggi("system", "prune", "-f", check=True).stdout
    assert not leftover.exists() and f"Deleted leftover directory: {leftover}" in out


def _kill_tree(root_pid: int) -> None:
    """SIGKILL a process and every descendant (monitors are in their own session).

    Stopped first, until no new descendant shows up: a process forked between our
    look at /proc and the kill (a monitor just being born) would escape it, and
    live on as an ordinary running container."""
    stopped: set[int] = set()
    while True:
        tree = _descendants(root_pid)
        new = tree - stopped
        if not new:
            break
        for pid in new:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= new
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _descendants(root_pid: int) -> set[int]:
    """root_pid and every process below it, from /proc now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            children.setdefault(ppid, []).append(int(entry))
    stack, seen = [root_pid], set()
    while stack:
        pid = stack.pop()
        seen.add(pid)
        stack.extend(children.get(pid, []))
    return seen


def test_logs_follow_until_the_container_stops(onggi):
    cid = onggi("run", "-d", *NONE, "busybox", "sh", "-c", "for i in 1 2 3; do echo line $i; sleep 0.2; done",
                check=True).stdout.strip()
    try:
        out = onggi("logs", "-f", cid, timeout=20, check=True).stdout
        assert out == "line 1\nline 2\nline 3\n"
    finally:
        onggi("rm", "-f", cid)


def test_exec_detached_with_env_and_workdir(onggi):
    cid = onggi("run", "-d", *NONE, "busybox", "sleep", "60", check=True).stdout.strip()
    try:
        onggi("exec", "-d", "-e", "WHO=exec", "-w", "/tmp", cid, "sh", "-c", "echo $WHO $(pwd) > /tmp/out",
              check=True)
        assert wait_for(lambda: onggi("exec", cid, "cat", "/tmp/out").stdout == "exec /tmp\n")
        assert onggi("exec", "-u", "nobody", cid, "id", "-u", check=True).stdout == "65534\n"
    finally:
        onggi("rm", "-f", cid)


def test_a_fresh_root_has_busybox_without_any_network(tmp_path, onggi):
    env = dict(onggi.env, ONGGI_ROOT=str(tmp_path / "root"), ONGGI_RUN=str(tmp_path / "run"),
               ONGGI_NO_WARM="1")
    proc = subprocess.run([".venv/bin/onggi", "run", "--rm", *NONE, "busybox", "echo", "fresh"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0 and proc.stdout == "fresh\n", proc.stderr
    images = subprocess.run([".venv/bin/onggi", "images"], capture_output=True, text=True, env=env).stdout
    assert "busybox" in images and "latest" in images


def test_stats_no_stream(onggi):
    cid = onggi("run", "-d", *NONE, "-m", "32m", "busybox", "sh", "-c", "while true; do :; done",
                check=True).stdout.strip()
    try:
        out = onggi("stats", "--no-stream", cid, check=True).stdout.splitlines()
        assert out[0].split()[:3] == ["CONTAINER", "ID", "NAME"]
        row = out[1].split()
        assert row[0] == cid[:12]
        cpu = float(row[2].rstrip("%"))
        assert cpu > 20                      # a busy loop shows up
        assert row[5] == "32MiB"             # MEM USAGE / LIMIT: the limit read from the cgroup
    finally:
        onggi("rm", "-f", cid)


def test_events_follows_the_log(onggi):
    proc = subprocess.Popen([".venv/bin/onggi", "events", "--format", "json", "--filter", "type=container"],
                            env=onggi.env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        onggi("run", "--rm", *NONE, "--name", "evented", "busybox", "true", check=True)
        seen = []
        end = time.monotonic() + 10
        while time.monotonic() < end and "container.deleted" not in seen:
            event = json.loads(proc.stdout.readline())
            if event["type"] != "container.step":
                seen.append(event["type"])
        assert seen == ["container.created", "container.started", "container.exited", "container.deleted"]
    finally:
        proc.terminate()
        proc.wait(5)
