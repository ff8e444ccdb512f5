"""Live quiz answers read from the real state, and live values in commands."""
import os
import socket

import pytest

from runtime.errors import Conflict, NotFound
from runtime.inspect import procs
from web.lessons import answers

pytestmark = pytest.mark.root


def test_answers_about_a_running_container(ctx, onggi, names, rt):
    box = names("box")
    cid = onggi("run", "-d", "--name", box, "-m", "64m", "--hostname", "hbox", "busybox", "sleep", "300",
                check=True).stdout.strip()
    c = ctx()
    pid = answers.answer(c, "host_pid", {"name": box})
    assert procs.nspid(int(pid)) == [int(pid), 1]                       # the host's number for PID 1
    assert pid == str(rt.container(box).state.pid)
    assert answers.answer(c, "ns_inode", {"name": box, "kind": "net"}) == str(os.stat(f"/proc/{pid}/ns/net").st_ino)
    assert answers.answer(c, "cgroup_value", {"name": box, "file": "memory.max"}) == "67108864"
    assert answers.answer(c, "hostname", {"name": box}) == "hbox"
    ip = answers.answer(c, "ip_address", {"name": box})
    assert ip == rt.container(box).inspect()["NetworkSettings"]["IPAddress"] and ip.count(".") == 3
    assert answers.answer(c, "host_hostname", {}) == socket.gethostname()
    assert answers.answer(c, "host_kernel", {}) == os.uname().release
    assert answers.substitute(c, "ping {{ip_address:%s}}" % box) == (f"ping {ip}", [])
    with pytest.raises(Conflict, match=f"container {box} has not exited yet"):
        answers.answer(c, "exit_code", {"name": box})
    del cid


def test_answers_about_images_and_an_exited_container(ctx, onggi, names, rt):
    done = names("done")
    onggi("run", "--name", done, "busybox", "sh", "-c", "exit 7")
    c = ctx()
    assert answers.answer(c, "exit_code", {"name": done}) == "7"
    assert answers.answer(c, "layer_count", {"ref": "busybox"}) == "1"
    assert answers.answer(c, "image_size", {"ref": "busybox"}) == str(rt.images.resolve("busybox").size)
    with pytest.raises(Conflict, match=f"container {done} is not running"):
        answers.answer(c, "host_pid", {"name": done})
    with pytest.raises(NotFound, match="no container named"):
        answers.answer(c, "host_pid", {"name": names("nobody")})
