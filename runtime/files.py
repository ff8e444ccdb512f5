"""The two file operations every subsystem needs: replace a file atomically, and flock.

* :func:`write_atomic` / :func:`write_json`: readers see the old content or the
  new, never half of it, even with many processes (a temp file in the same
  directory, then rename(2), which replaces in one step). The temp file is
  removed if anything fails. No fsync: onggi's state is worth a crash's
  consistency, not a power cut's durability.
* :func:`locked`: an flock(2) held for a ``with`` block, on a lock file created
  if missing. flock locks belong to the open file, so a lock taken twice in one
  process through two opens blocks itself: take each lock once.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path


def write_atomic(path, data: bytes | str, *, mode: int = 0o644) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(3).hex()}.tmp")
    raw = data.encode() if isinstance(data, str) else data
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        view = memoryview(raw)
        while view:
            view = view[os.write(fd, view):]
        os.close(fd)
        fd = -1
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise


def write_json(path, data, *, mode: int = 0o644, indent: int | None = 1) -> None:
    write_atomic(path, json.dumps(data, indent=indent), mode=mode)


@contextmanager
def locked(path, *, shared: bool = False, blocking: bool = True):
    """flock PATH for the block; yields the fd. Raises BlockingIOError if not blocking and taken."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        flags = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        fcntl.flock(fd, flags if blocking else flags | fcntl.LOCK_NB)
        yield fd
    finally:
        os.close(fd)
