"""Moving a container's bytes: its output into the log (and to whoever is attached),
and an attached terminal's keystrokes into its pty.

The log is Docker's json-file format, one object per line:
``{"log": "hello\\n", "stream": "stdout", "time": "2026-11-28T08:00:00.000000Z"}``.
Bytes that are not UTF-8 survive the round trip (surrogateescape).
"""
from __future__ import annotations

import errno
import json
import os
import select
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path


@contextmanager
def raw_mode(enabled: bool, fd: int = 0):
    """Put a terminal in raw mode while it is attached to a container's pty (-it)."""
    if not enabled or not os.isatty(fd):
        yield
        return
    import termios
    import tty
    saved = termios.tcgetattr(fd)
    # TCSANOW, not setraw's default TCSAFLUSH: that would throw away what was typed while
    # onggi started (a learner who types at once in the browser terminal lost the first
    # keys). Docker's CLI does not flush either.
    tty.setraw(fd, termios.TCSANOW)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LogWriter:
    def __init__(self, path: Path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o640)

    def write(self, stream: str, data: bytes) -> None:
        # One entry per line, as Docker's json-file driver keeps them: a read(2)
        # brings any number of lines at once, and `logs --tail N` and `-t` count
        # and stamp lines, not reads. A piece with no newline yet stays one entry.
        when = now_iso()
        pieces = data.split(b"\n")
        lines = [p + b"\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        out = "".join(json.dumps({"log": line.decode("utf-8", "surrogateescape"), "stream": stream,
                                  "time": when}) + "\n" for line in lines)
        os.write(self.fd, out.encode())

    def close(self) -> None:
        os.close(self.fd)


def read_log(path: Path, *, follow_until=None, tail: int | None = None, timestamps=False):
    """Yield (stream, bytes, time) from a json-file log; follow while follow_until() is false."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        lines = f.readlines()
        if tail is not None:
            lines = lines[-tail:] if tail > 0 else []
        for line in lines:
            yield from _decode(line)
        if follow_until is None:
            return
        pending = b""
        while True:
            chunk = f.read()
            if chunk:
                pending += chunk
                *full, pending = pending.split(b"\n")
                for line in full:
                    yield from _decode(line)
                continue
            if follow_until():
                rest = f.read()
                for line in (pending + rest).split(b"\n"):
                    yield from _decode(line)
                return
            time.sleep(0.05)


def _decode(line: bytes):
    if not line.strip():
        return
    try:
        entry = json.loads(line)
    except ValueError:
        return
    yield entry.get("stream", "stdout"), entry.get("log", "").encode("utf-8", "surrogateescape"), entry.get("time", "")


class Pump:
    """poll(2) loop: sources -> (log stream, attached fd); attached stdin -> pty."""

    def __init__(self, log: LogWriter):
        self.log = log
        self.sources: dict[int, tuple[str, int | None]] = {}   # fd -> (stream, attached sink fd)
        self.stdin: tuple[int, int] | None = None                # (attached fd, pty master)

    def add_source(self, fd: int, stream: str, sink: int | None) -> None:
        os.set_blocking(fd, False)
        self.sources[fd] = (stream, sink)

    def forward_stdin(self, fd: int, master: int) -> None:
        self.stdin = (fd, master)

    def run(self, pidfd: int, on_exit_drain: float = 2.0) -> None:
        """Until the process behind pidfd exits and its output is drained."""
        poller = select.poll()
        for fd in self.sources:
            poller.register(fd, select.POLLIN)
        poller.register(pidfd, select.POLLIN)
        if self.stdin:
            poller.register(self.stdin[0], select.POLLIN)
        deadline = None
        while self.sources:
            timeout = None if deadline is None else max(0, deadline - time.monotonic()) * 1000
            if deadline is not None and timeout == 0:
                break
            for fd, ev in poller.poll(timeout):
                if fd == pidfd:
                    poller.unregister(pidfd)
                    deadline = time.monotonic() + on_exit_drain
                elif self.stdin and fd == self.stdin[0]:
                    if not self._copy_stdin():
                        poller.unregister(fd)
                        self.stdin = None
                elif fd in self.sources and not self._drain(fd):
                    poller.unregister(fd)
                    del self.sources[fd]

    def _drain(self, fd: int) -> bool:
        stream, sink = self.sources[fd]
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return True
        except OSError as e:
            if e.errno == errno.EIO:       # a pty whose other side is closed: EOF
                return False
            raise
        if not data:
            return False
        self.log.write(stream, data)
        if sink is not None:
            try:
                _write_all(sink, data)
            except OSError:                # the attached CLI went away: keep logging
                self.sources[fd] = (stream, None)
        return True

    def _copy_stdin(self) -> bool:
        src, master = self.stdin
        try:
            data = os.read(src, 65536)
        except OSError:
            return False
        if not data:
            return False
        try:
            _write_all(master, data)
        except OSError:
            return False
        return True


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [], 1.0)
            continue
        view = view[n:]
