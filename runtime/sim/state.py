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

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from runtime.files import locked, write_json

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
        # The world this thread is editing: a read or an edit inside an edit sees it (a
        # second flock from this process would wait for the first one for ever).
        self._mine = threading.local()
        self._cache: tuple[tuple, dict] | None = None

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
        """The world as it is now. Do not change it: use :meth:`edit` for that.

        Parsed once per version of the file (a write replaces the file, so its
        inode says whether what we parsed last is still the world)."""
        editing = getattr(self._mine, "world", None)
        if editing is not None:
            return editing
        try:
            st = os.stat(self.path)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
        except FileNotFoundError:
            key = None
        cached = self._cache
        if key is not None and cached is not None and cached[0] == key:
            return cached[1]
        with locked(self._lock_path, shared=True):
            data = self._load()
        if key is not None:
            self._cache = (key, data)
        return data

    @contextmanager
    def edit(self):
        """Yield the world for changing; written back (atomically) when the block ends without error.

        Edits nest: an edit inside an edit (in the same thread) is part of the outer one."""
        editing = getattr(self._mine, "world", None)
        if editing is not None:
            yield editing
            return
        with locked(self._lock_path):
            data = self._load()
            self._mine.world = data
            try:
                yield data
            finally:
                self._mine.world = None
            write_json(self.path, data, indent=None)
            self._cache = None


def next_number(world: dict, counter: str, step: int = 1) -> int:
    """The next number of a counter ("pid", "inode", "ifindex") in WORLD."""
    value = world["seq"][counter]
    world["seq"][counter] = value + step
    return value
