"""The events log: one JSON object per line, appended by every process that changes state.

A CLI, the web server and each container's monitor all publish here, so a
container started in a terminal appears in the browser at once: the server
follows this file. Appends use O_APPEND and one write(2) per event, so lines from
concurrent writers never interleave (each line is far below a page).

The log lives in ONGGI_RUN (a tmpfs: memory), so it is bounded: once it passes
``max_bytes`` (8 MiB, about a thousand launches) the writer that notices renames
it to ``events.log.1`` (the one generation kept) under a lock, and starts a new
one. Every writer checks before each append that its fd is still the current
log (one stat), and followers switch to the new file, as ``tail -F`` does.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from .events import Event


MAX_BYTES = 8 << 20


class EventLog:
    """A :class:`~runtime.events.Publisher` that appends to a file, and its reader."""

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES):
        self.path = Path(path)
        self.rotated = rotated_path(self.path)
        self.max_bytes = max_bytes
        self._fd: int | None = None
        self._inode = 0

    def publish(self, event: Event) -> None:
        self.append(event.to_wire())

    def append(self, wire: dict) -> None:
        line = json.dumps(wire, separators=(",", ":"), default=str) + "\n"
        fd = self._current()
        os.write(fd, line.encode())
        if os.fstat(fd).st_size > self.max_bytes:
            self._rotate()

    def _current(self) -> int:
        """Our fd on the log now at self.path (re-opened after a rotation or removal)."""
        if self._fd is not None:
            try:
                if os.stat(self.path).st_ino == self._inode:
                    return self._fd
            except FileNotFoundError:
                pass
            self.close()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            self._fd = os.open(self.path, flags, 0o644)
        except FileNotFoundError:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, flags, 0o644)
        self._inode = os.fstat(self._fd).st_ino
        return self._fd

    def _rotate(self) -> None:
        from .files import locked
        with locked(self.path.with_name(self.path.name + ".lock")):
            try:
                if os.stat(self.path).st_size <= self.max_bytes:
                    return                  # another writer rotated it first
            except FileNotFoundError:
                return
            os.replace(self.path, self.rotated)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def read(self, since: float | None = None):
        """Every event kept (the rotated generation, then the log; since a unix
        time), oldest first."""
        for path in (self.rotated, self.path):
            try:
                f = open(path, "rb")
            except FileNotFoundError:
                continue
            with f:
                for line in f:
                    event = parse_line(line)
                    if event and (since is None or event["time"] >= since):
                        yield event

    def follow(self, *, since: float | None = None, from_start: bool = False,
               stop=None, timeout: float = 0.5):
        """Yield events as they are appended, forever (or until stop() is true).

        Starts at the end of the log unless since/from_start say otherwise. A
        generator: the caller closes it to stop following. Survives the log being
        created later or replaced (re-opened when its inode changes).
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with _watcher(self.path.parent) as ino:
            f, inode, pending = None, None, b""
            try:
                while True:
                    if f is None:
                        try:
                            f = open(self.path, "rb")
                            inode = os.fstat(f.fileno()).st_ino
                            if not (since is not None or from_start):
                                f.seek(0, os.SEEK_END)
                        except FileNotFoundError:
                            f, from_start = None, True   # whatever appears is new
                    if f is not None:
                        chunk = f.read()
                        if chunk:
                            pending += chunk
                            *lines, pending = pending.split(b"\n")
                            for line in lines:
                                event = parse_line(line)
                                if event and (since is None or event["time"] >= since):
                                    yield event
                            continue
                        try:
                            if os.stat(self.path).st_ino != inode:
                                f.close()
                                f, pending, since, from_start = None, b"", None, True
                                continue
                        except FileNotFoundError:
                            pass
                    if stop is not None and stop():
                        return
                    ino.wait(timeout)
            finally:
                if f is not None:
                    f.close()


class _Poll:
    """Where inotify is missing (not Linux, in simulated mode): look again every 50 ms."""

    def wait(self, timeout: float | None) -> bool:
        import time
        time.sleep(min(0.05, timeout or 0.05))
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def _watcher(directory: Path):
    """inotify on DIRECTORY (wakes at once on an append), or polling where there is none."""
    try:
        from .linux.inotify import IN_CREATE, IN_MODIFY, IN_MOVED_TO, Inotify
        ino = Inotify()
    except (OSError, AttributeError, ImportError):
        return _Poll()
    ino.add_watch(directory, IN_MODIFY | IN_CREATE | IN_MOVED_TO)
    return ino


def rotated_path(path: Path) -> Path:
    """Where the log at PATH keeps its previous generation."""
    path = Path(path)
    return path.with_name(path.name + ".1")


def parse_line(line: bytes) -> dict | None:
    """One line of the log as an event (its time a float), or None if it is not one."""
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
        if not isinstance(event, dict) or "type" not in event:
            return None
        event["time"] = float(event.get("time") or 0)
    except (ValueError, TypeError):
        return None
    return event
