"""`onggi run --step` at the terminal: what a pause accepts, and what each step's report says."""
import os
import pty
import signal
import threading
import time

import pytest

from runtime.cli import terminal
from runtime.container.steps import BY_NAME
from runtime.linux import syscalls as sc


@pytest.fixture
def term():
    """A StepPrompter on a pty of its own; (prompter, the pty's master fd)."""
    master, slave = pty.openpty()
    p = terminal.StepPrompter.__new__(terminal.StepPrompter)
    p.lang, p._told_no_tty = "en", False
    p.tty = open(os.ttyname(slave), "r+b", buffering=0)
    os.close(slave)
    yield p, master
    p.tty.close()
    os.close(master)


def test_enter_goes_and_q_cancels(term):
    p, master = term
    os.write(master, b"\n")
    assert p.gate(BY_NAME["rootfs"], 0) is True
    os.write(master, b"q\n")
    assert p.gate(BY_NAME["cgroup"], 1) is False


def test_end_of_input_at_a_pause_cancels(term):
    """Ctrl-D (or a terminal that went away) is nobody saying "go": it used to run the step."""
    p, master = term
    os.write(master, b"\x04")                 # Ctrl-D on an empty line: read() returns nothing
    assert p.gate(BY_NAME["rootfs"], 0) is False


def test_ctrl_c_at_a_pause_cancels_even_under_a_signal_proxy(term):
    """Without -t the signal proxy holds SIGINT for the container, which only got it
    after the launch the user had tried to stop: the pause itself must take it."""
    p, master = term
    held = []
    old = signal.signal(signal.SIGINT, lambda s, f: held.append(s))    # as SignalProxy does
    try:
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
        unblock = threading.Timer(3, os.write, (master, b"\n"))    # (what the user did next)
        unblock.start()
        started = time.monotonic()
        assert p.gate(BY_NAME["namespaces"], 2) is False
        assert time.monotonic() - started < 3 and held == []
        unblock.cancel()
        assert signal.getsignal(signal.SIGINT) is not signal.default_int_handler   # put back
    finally:
        signal.signal(signal.SIGINT, old)


def _drain(master) -> str:
    import select
    out = b""
    while select.select([master], [], [], 0.2)[0]:
        out += os.read(master, 65536)
    return out.decode(errors="replace")


def test_the_prompt_says_how_to_cancel_in_both_languages(term):
    p, master = term
    os.write(master, b"\n")
    p.gate(BY_NAME["rootfs"], 0)
    assert "q or Ctrl-C: cancel" in _drain(master)
    p.lang = "ko"
    os.write(master, b"\n")
    p.gate(BY_NAME["rootfs"], 0)
    assert "q, Ctrl-C: 취소" in _drain(master)


def test_the_terminal_is_found_on_stderr_when_stdin_is_a_pipe(monkeypatch):
    """`echo data | onggi run --step -i ...`: ask at the terminal, in a warm worker too
    (no controlling terminal there, so not /dev/tty: the two used to differ)."""
    master, slave = pty.openpty()
    r, w = os.pipe()
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    try:
        os.dup2(r, 0)
        os.dup2(slave, 2)
        found = terminal._terminal()
        assert found is not None and os.ttyname(found.fileno()) == os.ttyname(slave)
        found.close()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        assert terminal._terminal() is None
    finally:
        for fd, s in zip((0, 1, 2), saved):
            os.dup2(s, fd)
            os.close(s)
        for fd in (master, slave, r, w):
            os.close(fd)


def test_no_terminal_runs_through_and_says_so_without_colour_codes(capsys):
    p = terminal.StepPrompter.__new__(terminal.StepPrompter)
    p.lang, p._told_no_tty, p.tty = "en", False, None
    assert p.gate(BY_NAME["rootfs"], 0) is True and p.gate(BY_NAME["cgroup"], 1) is True
    err = capsys.readouterr().err
    assert err.count("without pausing") == 1 and "\033[" not in err and "[2/6] cgroup" in err


# -- what each step's report says -------------------------------------------------------------

V1_CGROUP = {"path": "/onggi/abc", "version": "hybrid",
             "dirs": {c: f"/sys/fs/cgroup/{c}/onggi/abc" for c in ("memory", "cpu", "pids")},
             "files": {"memory.limit_in_bytes": "67108864", "cpu.cfs_quota_us": "50000",
                       "cpu.cfs_period_us": "100000", "pids.max": "20"}}


def test_cgroup_limits_are_shown_with_what_they_mean():
    text = "\n".join(terminal.summarize("cgroup", V1_CGROUP))
    assert "/sys/fs/cgroup/{memory,cpu,pids}/onggi/abc" in text
    assert "memory.limit_in_bytes = 67108864 (64 MiB)" in text
    assert "cpu.cfs_quota_us = 50000 / cpu.cfs_period_us 100000 (0.5 CPU)" in text
    assert "pids.max = 20" in text
    v2 = {"path": "/onggi/abc", "version": "v2", "dirs": {"unified": "/sys/fs/cgroup/onggi/abc"},
          "files": {"memory.max": "max", "cpu.max": "150000 100000", "pids.max": "max"}}
    text = "\n".join(terminal.summarize("cgroup", v2, "ko"))
    assert "/sys/fs/cgroup/onggi/abc" in text and "memory.max = max (제한 없음)" in text
    assert 'cpu.max = "150000 100000" (CPU 1.5개 분량)' in text


def test_namespaces_report_names_the_clone_flags_used_and_the_cgroup_move():
    r = {"pid": 42, "flags": sc.CLONE_NEWPID | sc.CLONE_NEWNS | sc.CLONE_NEWUTS | sc.CLONE_NEWIPC,
         "namespaces": {"net": {"container": 1, "host": 1, "isolated": False}},
         "joined_cgroup_by": "cgroup.procs"}
    text = "\n".join(terminal.summarize("namespaces", r))
    assert "clone flags: CLONE_NEWPID|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC\n" in text + "\n"
    assert "net    1 (host 1) shared" in text and "cgroup.procs" in text


def test_network_report_shows_the_veth_pair_the_bridge_and_the_route():
    r = {"mode": "bridge", "bridge": "onggi0", "address": "10.213.0.2/16", "gateway": "10.213.0.1",
         "host_veth": {"name": "veth1234567"}, "container_veth": {"name": "eth0", "addresses": ["10.213.0.2/16"]},
         "interfaces": [{"name": "lo", "addresses": ["127.0.0.1/8"]}, {"name": "eth0", "addresses": ["10.213.0.2/16"]}]}
    text = "\n".join(terminal.summarize("network", r))
    assert "veth1234567 on the host (plugged into bridge onggi0) <-> eth0 10.213.0.2/16 inside" in text
    assert "default route: via 10.213.0.1" in text
    text = "\n".join(terminal.summarize("network", {"mode": "none", "interfaces": ["lo"]}, "ko"))
    assert "루프백(lo)만" in text


def test_mounts_report_sorts_fresh_bound_hidden_and_read_only():
    mounts = [{"mountpoint": "/", "fstype": "overlay"},
              {"mountpoint": "/proc", "fstype": "proc", "options": "rw,nosuid"},
              {"mountpoint": "/sys", "fstype": "sysfs", "options": "ro,nosuid"},
              {"mountpoint": "/etc/hosts", "fstype": "ext4", "options": "rw"},
              {"mountpoint": "/proc/keys", "fstype": "tmpfs", "options": "rw"},
              {"mountpoint": "/proc/sys", "fstype": "proc", "options": "ro"}]
    text = "\n".join(terminal.summarize("mounts", {"mounts": mounts, "root": mounts[0]}))
    assert "6 mounts; / is now overlay (pivot_root done" in text
    assert "mounted: /proc proc, /sys sysfs (ro)" in text and "bound in: /etc/hosts" in text
    assert "hidden: /proc/keys" in text and "read-only: /proc/sys" in text


def test_exec_report_in_korean_says_on_not_true():
    r = {"pid": 42, "args": ["sh"], "hostname": "box", "cap_effective": ["CAP_KILL"], "no_new_privs": True}
    text = "\n".join(terminal.summarize("exec", r, "ko"))
    assert "PID 1은 sh (호스트에서는 PID 42)" in text and "호스트 이름: box" in text
    assert "no_new_privs: 켜짐" in text and "True" not in text
