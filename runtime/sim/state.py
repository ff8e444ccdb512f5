"""Where the simulated world lives: one JSON file under ``config.root / "sim"``, guarded by flock.

Every process that drives the simulation (the web server, a test, another
server on the same root) reads and changes the same file, so they all see one
world: containers, images, networks, the registry, the counters that hand out
pids, inode numbers and interface indexes. A change is read-modify-write under
an exclusive ``flock`` on ``sim/.lock`` and lands with one ``rename``, so a
reader never sees half a file and two writers never lose each other's change.

The world is plain data (dicts, lists, strings, numbers); the modules around it
give it meaning. Nothing here knows what a container is.
"""
from __future__ import annotations

import fcntl
import json
import os
from contextlib import contextmanager
from pathlib import Path

VERSION = 1


def empty_world() -> dict:
    """A world with nothing in it yet (the base image is added on first use)."""
    return {"version": VERSION,
            # Host-side numbers handed out in order, like the kernel does: pids,
            # namespace inode numbers, network interface indexes.
            "seq": {"pid": 4200, "inode": 4026532200, "ifindex": 40},
            "containers": {}, "images": {}, "tags": {}, "layers": {},
            "networks": {}, "registry": {}, "build_cache": {}}


class World:
    """The simulated world of one onggi root: ``with world.edit() as w: ...`` or ``world.read()``."""

    def __init__(self, root: Path):
        self.dir = Path(root) / "sim"
        self.path = self.dir / "world.json"
        self._lock_path = self.dir / ".lock"

    @contextmanager
    def _locked(self, kind: int):
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, kind)
            yield
        finally:
            os.close(fd)

    def _load(self) -> dict:
        try:
            with open(self.path) as f:
                data = json.load(f)
        except FileNotFoundError:
            return empty_world()
        except ValueError:
            # A world we cannot read is started afresh rather than wedging every
            # view; it is only a simulation, and the old file is kept for a look.
            os.replace(self.path, self.path.with_suffix(".broken"))
            return empty_world()
        if data.get("version") != VERSION:
            return empty_world()
        return data

    def read(self) -> dict:
        """The world as it is now (a copy: changing it changes nothing)."""
        with self._locked(fcntl.LOCK_SH):
            return self._load()

    @contextmanager
    def edit(self):
        """Yield the world for changing; written back (atomically) when the block ends without error."""
        with self._locked(fcntl.LOCK_EX):
            data = self._load()
            yield data
            tmp = self.path.with_name(f".world.{os.getpid()}.tmp")
            with open(tmp, "w") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, self.path)


def next_number(world: dict, counter: str, step: int = 1) -> int:
    """The next number of a counter ("pid", "inode", "ifindex") in WORLD."""
    value = world["seq"][counter]
    world["seq"][counter] = value + step
    return value
