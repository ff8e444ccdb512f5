import socket
import threading

import pytest

from runtime import errors
from runtime.container.control import Channel, MonitorHandle


def fake_monitor(sock, script):
    chan = Channel(sock)
    answers = []
    for msg in script:
        chan.send(**msg)
        if msg["t"] == "before":
            answers.append(chan.recv())
    return answers


def test_gates_reports_started_exited():
    a, b = socket.socketpair()
    seen = []
    script = [{"t": "before", "step": "rootfs", "index": 0},
              {"t": "report", "step": "rootfs", "index": 0, "report": {"x": 1}},
              {"t": "started", "pid": 42}, {"t": "exited", "code": 3, "oom": False}]
    result = {}
    th = threading.Thread(target=lambda: result.setdefault("answers", fake_monitor(b, script)))
    th.start()
    h = MonitorHandle(Channel(a), 99, gate=lambda step, i: seen.append(("gate", step.name)) or True,
                      on_report=lambda step, i, r: seen.append(("report", step.name, r)))
    assert h.wait_started() == 42
    assert h.wait_exit() == (3, False)
    th.join()
    assert seen == [("gate", "rootfs"), ("report", "rootfs", {"x": 1})]
    assert result["answers"] == [{"t": "go"}]


def test_error_is_raised_as_its_class():
    a, b = socket.socketpair()
    Channel(b).send(t="error", type="CommandNotFound", message='exec: "x": not found', hint="")
    with pytest.raises(errors.CommandNotFound):
        MonitorHandle(Channel(a), 1).wait_started()


def test_monitor_gone_is_a_one_line_error():
    a, b = socket.socketpair()
    b.close()
    with pytest.raises(errors.OnggiError, match="monitor went away"):
        MonitorHandle(Channel(a), 1).wait_started()
