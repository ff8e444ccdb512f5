"""The warm CLI server: same answers as a cold CLI, fds/cwd/env of the client, signals
forwarded, stale code never served, and off when asked."""
import os
import signal
import subprocess
import time

import pytest

pytestmark = pytest.mark.root

NONE = ("--network", "none")


def server_pid(config):
    try:
        return int((config.run / "cli.pid").read_text())
    except (OSError, ValueError):
        return None


def warm_up(onggi, config):
    onggi("ps", check=True)
    for _ in range(100):
        pid = server_pid(config)
        if pid and os.path.exists(config.run / "cli.sock"):
            return pid
        time.sleep(0.05)
    raise AssertionError("the warm server did not start")


def test_commands_are_served_warm_with_the_clients_world(onggi, onggi_config, tmp_path):
    pid = warm_up(onggi, onggi_config)
    (tmp_path / "data").write_text("x")
    proc = subprocess.run([os.path.abspath(".venv/bin/onggi"), "run", "--rm", "-i", *NONE, "-v",
                           f"{tmp_path}:/w", "-e", "FROM_ENV", "busybox", "sh", "-c",
                           "cat; ls /w; echo $FROM_ENV; exit 4"],
                          input="from stdin\n", capture_output=True, text=True, cwd=tmp_path,
                          env=dict(onggi.env, FROM_ENV="hello"))
    assert proc.returncode == 4
    assert proc.stdout == "from stdin\ndata\nhello\n"
    assert server_pid(onggi_config) == pid            # still the same server: it was used


def test_ctrl_c_reaches_the_container(onggi, onggi_config):
    warm_up(onggi, onggi_config)
    proc = subprocess.Popen([".venv/bin/onggi", "run", "--rm", *NONE, "busybox", "sh", "-c",
                             "trap 'echo got INT; exit 9' INT; echo ready; while true; do sleep 0.1; done"],
                            env=onggi.env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert "got INT" in out and proc.returncode == 9


def test_stale_code_is_never_served(onggi, onggi_config):
    pid = warm_up(onggi, onggi_config)
    module = os.path.join("runtime", "cli", "output.py")
    st = os.stat(module)
    os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    try:
        assert onggi("ps").returncode == 0             # answered cold, by the client itself
        for _ in range(40):
            if not _alive(pid):
                break
            time.sleep(0.05)
        assert not _alive(pid)                         # the stale server left
    finally:
        os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_no_warm_means_no_server(onggi, onggi_config, stop_warm):
    stop_warm()
    for _ in range(50):
        if not os.path.exists(onggi_config.run / "cli.sock"):
            break
        time.sleep(0.05)
    proc = onggi("run", "--rm", *NONE, "busybox", "echo", "cold", env_extra={"ONGGI_NO_WARM": "1"})
    assert proc.stdout == "cold\n"
    time.sleep(0.3)
    assert not os.path.exists(onggi_config.run / "cli.sock")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_worker_itself_supervises_an_attached_container(onggi, onggi_config, rt):
    """Warm and attached, no monitor is forked: the container's parent is the worker
    that took the command, a child of the server; its exit code and output still come
    back, and a detached one still gets a monitor of its own."""
    server = warm_up(onggi, onggi_config)
    proc = subprocess.Popen([".venv/bin/onggi", "run", "--rm", *NONE, "--name", "inline", "busybox",
                             "sh", "-c", "echo up; sleep 1; exit 5"],
                            env=onggi.env, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "up\n"
    pid = rt.container("inline").state.pid
    monitor = _ppid(pid)
    assert _ppid(monitor) == server and monitor == rt.container("inline").state.monitor_pid
    assert proc.wait(timeout=10) == 5
    cid = onggi("run", "-d", *NONE, "busybox", "sleep", "30", check=True).stdout.strip()
    try:
        assert _ppid(rt.container(cid).state.monitor_pid) != server    # its own session, reparented
    finally:
        onggi("rm", "-f", cid)


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])
