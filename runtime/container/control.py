"""The channel between whoever starts a container and its monitor (JSON lines on a socketpair).

Monitor -> starter::

    {"t": "before", "step": "cgroup", "index": 1}     step mode: waits for go/cancel
    {"t": "report", "step": "cgroup", "index": 1, "report": {...}}
    {"t": "started", "pid": 1234}
    {"t": "error", "type": "CommandNotFound", "message": "...", "hint": "..."}
    {"t": "exited", "code": 0, "oom": false}

Starter -> monitor: ``{"t": "go"}`` or ``{"t": "cancel"}``.

If the starter goes away (its end closes), the monitor carries on alone: a
step-through is cancelled, a running container keeps running.
"""
from __future__ import annotations

import json
import socket

from .. import errors
from .steps import BY_NAME


class Channel:
    def __init__(self, sock: socket.socket):
        self.sock = sock
        self._buf = b""
        self.closed = False

    def send(self, **msg) -> bool:
        if self.closed:
            return False
        try:
            self.sock.sendall(json.dumps(msg).encode() + b"\n")
            return True
        except OSError:
            self.closed = True
            return False

    def recv(self) -> dict | None:
        """The next message, or None once the other end is gone."""
        while b"\n" not in self._buf:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.closed = True
                return None
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return json.loads(line)

    def close(self) -> None:
        self.closed = True
        self.sock.close()


class MonitorHandle:
    """The starter's view of a monitor: answer its gates, learn the pid, then the exit."""

    def __init__(self, chan: Channel, monitor_pid: int, *, gate=None, on_report=None):
        self.chan = chan
        self.monitor_pid = monitor_pid
        self.gate = gate
        self.on_report = on_report
        self.pid: int | None = None

    def wait_started(self) -> int:
        while True:
            msg = self._next()
            if msg["t"] == "started":
                self.pid = msg["pid"]
                return self.pid

    def wait_exit(self) -> tuple[int, bool]:
        while True:
            msg = self._next()
            if msg["t"] == "exited":
                return msg["code"], msg.get("oom", False)

    def _next(self) -> dict:
        while True:
            msg = self.chan.recv()
            if msg is None:
                raise errors.OnggiError("the container's monitor went away without a word",
                                        hint="see 'onggi logs' and 'onggi inspect' for what happened")
            t = msg["t"]
            if t == "before":
                go = True if self.gate is None else self.gate(BY_NAME[msg["step"]], msg["index"])
                self.chan.send(t="go" if go else "cancel")
            elif t == "report":
                if self.on_report is not None:
                    self.on_report(BY_NAME[msg["step"]], msg["index"], msg["report"])
            elif t == "error":
                raise errors.rebuild(msg.get("type", ""), msg["message"], msg.get("hint"))
            else:
                return msg

    def close(self) -> None:
        self.chan.close()
