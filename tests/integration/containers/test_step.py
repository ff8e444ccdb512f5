"""`onggi run --step` at a real terminal: explain, wait for Enter, report; q cancels cleanly."""
import os
import pty
import re
import select
import time

import pytest

pytestmark = pytest.mark.root


def drive(env, answers, lang="en_US.UTF-8", argv=None, shell=None):
    """Answer each pause in turn: an answer is a line, or Ctrl-C / Ctrl-D (sent as is)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(env, LANG=lang)
        if shell is not None:
            os.execv("/bin/sh", ["/bin/sh", "-c", shell])
        os.execv(".venv/bin/onggi", [".venv/bin/onggi", "run", "--step", "--rm", "--network", "none",
                                     "--name", "stepped", *(argv or ["busybox", "echo", "stepped-through"])])
    out = b""

    def read_until(pattern, timeout=20):
        nonlocal out
        end = time.time() + timeout
        while time.time() < end:
            if re.search(pattern, out):
                return True
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return False
        return False

    for answer in answers:
        assert read_until(rb"> $"), out.decode(errors="replace")[-400:]
        os.write(fd, answer if answer in (b"\x03", b"\x04") else answer + b"\r")
        out += b"<sent>"
    end = time.time() + 20                    # the rest, until the program closes its terminal
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            out += data
    done, status = os.waitpid(pid, os.WNOHANG)
    if not done:                              # still waiting at a pause: hang up its terminal
        os.close(fd)
        time.sleep(2)
        done, status = os.waitpid(pid, os.WNOHANG)
        if not done:
            os.kill(pid, 9)
            _, status = os.waitpid(pid, 0)
        out += b"<hung up>"
    else:
        os.close(fd)
    return re.sub(r"\x1b\[[0-9;]*m", "", out.decode(errors="replace")), os.waitstatus_to_exitcode(status)


def test_step_through_all_six_steps(onggi):
    text, code = drive(onggi.env, [b""] * 6)
    assert code == 0, text
    for i, name in enumerate(["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"], 1):
        assert f"[{i}/6] {name}" in text
    assert "pid    " in text and "new" in text and "stepped-through" in text


def test_korean_explanations(onggi):
    text, code = drive(onggi.env, [b""] * 6, lang="ko_KR.UTF-8")
    assert code == 0, text
    assert "overlay 마운트" in text and "새로 만듦" in text and "호스트에서 본 컨테이너의 PID" in text


def test_cancel_removes_everything_made(onggi, rt, onggi_config):
    text, code = drive(onggi.env, [b"", b"", b"q"])
    assert code == 125 and "cancelled before step 'namespaces'" in text
    time.sleep(0.3)
    assert rt.containers.ids() == []                  # --rm: the record went too
    assert rt.cgroups.names() == []
    assert str(onggi_config.containers_dir) not in open("/proc/self/mountinfo").read()


@pytest.mark.parametrize("key", [b"\x03", b"\x04"], ids=["ctrl-c", "ctrl-d"])
def test_ctrl_c_or_end_of_input_at_a_pause_cancels_and_removes_everything(onggi, rt, onggi_config, key):
    """Ctrl-C used to be held for the container (run after the next Enter, then
    interrupted), and Ctrl-D counted as Enter."""
    text, code = drive(onggi.env, [b"", b"", key], argv=["busybox", "sh", "-c", "echo RAN; sleep 30"])
    assert code == 125 and "cancelled before step 'namespaces'" in text, text
    assert "RAN" not in text
    time.sleep(0.3)
    assert rt.containers.ids() == [] and rt.cgroups.names() == []
    assert str(onggi_config.containers_dir) not in open("/proc/self/mountinfo").read()


def test_piped_input_still_pauses_at_the_terminal(onggi):
    """stdin is the container's (-i): the pauses ask at the terminal on stderr/stdout,
    with the warm server or without (one used /dev/tty, the other ran straight through)."""
    for extra in ({}, {"ONGGI_NO_WARM": "1"}):
        text, code = drive(onggi.env | extra, [b""] * 6,
                           shell="echo piped-in | exec .venv/bin/onggi run --step --rm -i --network none busybox cat")
        assert code == 0 and text.count("Enter: run it") == 6 and "piped-in" in text, (extra, text)


def test_rm_waits_for_a_paused_launch_instead_of_pulling_its_files(rt):
    """A launch paused between steps owns what it made: rm refuses, rm -f after a
    cancel lets the launch undo itself first, and nothing is left anywhere."""
    import queue
    import threading

    from runtime.container.spec import ContainerSpec
    from runtime.errors import Cancelled, ContainerRunning
    c = rt.create(ContainerSpec(image="busybox", cmd=("true",), network="none"))
    paused, decisions, result = queue.Queue(), queue.Queue(), {}

    def gate(step, index):
        paused.put(index)
        return decisions.get() == "next"

    def launch():
        try:
            c.start(gate=gate, on_report=lambda *a: None).wait_started()
        except Cancelled as exc:
            result["cancelled"] = exc
    t = threading.Thread(target=launch)
    t.start()
    try:
        assert paused.get(timeout=20) == 0
        decisions.put("next")
        assert paused.get(timeout=20) == 1              # rootfs mounted, paused before cgroup
        with pytest.raises(ContainerRunning, match="it is starting"):
            c.remove()
        decisions.put("cancel")
        c.remove(force=True)
    finally:
        decisions.put("cancel")
        t.join(20)
    assert "cancelled" in result
    assert c.id not in rt.containers.ids() and not rt.cgroups.exists(c.id)
    assert str(c.record.dir) not in open("/proc/self/mountinfo").read()
    assert not rt.config.trash_dir.exists() or c.id not in os.listdir(rt.config.trash_dir)


def test_rm_f_during_a_launch_waits_for_it_to_start_then_kills_it(rt):
    import queue
    import threading
    import time as clock

    from runtime.container.spec import ContainerSpec
    c = rt.create(ContainerSpec(image="busybox", cmd=("sleep", "60"), network="none"))
    paused, started = queue.Queue(), []

    def gate(step, index):
        paused.put(index)
        if index == 2:
            clock.sleep(0.3)                           # rm -f arrives in the middle of it
        return True

    def launch():
        handle = c.start(gate=gate, on_report=lambda *a: None)
        try:
            started.append(handle.wait_started())
        finally:
            handle.close()
    t = threading.Thread(target=launch)
    t.start()
    while paused.get(timeout=20) != 2:
        pass
    c.remove(force=True)                               # waits for the launch, then kills it
    t.join(20)
    assert started and c.id not in rt.containers.ids() and not rt.cgroups.exists(c.id)
    assert str(c.record.dir) not in open("/proc/self/mountinfo").read()
