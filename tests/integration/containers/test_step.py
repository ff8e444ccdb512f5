"""`onggi run --step` at a real terminal: explain, wait for Enter, report; q cancels cleanly."""
import os
import pty
import re
import select
import time

import pytest

pytestmark = pytest.mark.root


def drive(env, answers, lang="en_US.UTF-8"):
    pid, fd = pty.fork()
    if pid == 0:
        os.environ.clear()
        os.environ.update(env, LANG=lang)
        os.execv(".venv/bin/onggi", [".venv/bin/onggi", "run", "--step", "--rm", "--network", "none",
                                     "--name", "stepped", "busybox", "echo", "stepped-through"])
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
        os.write(fd, answer + b"\r")
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
    _, status = os.waitpid(pid, 0)
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
