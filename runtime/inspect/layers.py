"""What each layer of an image (and a container's upper dir) holds, read from the directories.

A layer directory is an overlay lower (or upper) dir: new and changed files as
themselves, deletions as whiteouts (character devices 0/0), and directories that
replace the lower one whole marked opaque (``trusted.overlay.opaque="y"``). Read
in order, lowest first, the layers give for each one:

* the files it **adds** (not visible below), **modifies** (visible below: the
  whole file is stored again) and **deletes** (a whiteout over something visible);
* its **wasted** bytes and why: a file that a later layer overwrites or deletes is
  invisible in the container, yet its bytes stay in this layer (and in every
  copy of the image) — the question dive asks, answered per file;
* the **diff across a range** of layers (what layers lo..hi change, together, over
  the layers below lo);
* a file's **content** as that layer stores it.

Directories that a layer carries only because something inside them changed
(tar and overlay both keep the parents) are not reported as modified.

Nothing here changes anything; every path is a parameter; reading the opaque
xattr goes through the ``syscalls`` seam (the real one when None). No caching
here: :class:`Scans` is a small cache its owner keeps, for layers that never
change (the unpacked image layers).
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

from ..errors import InvalidArgument, NotFound

OVERLAY_OPAQUE = "trusted.overlay.opaque"

FILE, DIR, SYMLINK, WHITEOUT, OTHER = "file", "dir", "symlink", "whiteout", "other"
ADDED, MODIFIED, DELETED = "A", "M", "D"
OVERWRITTEN, REMOVED, HIDDEN = "overwritten", "deleted", "hidden"   # why bytes are wasted


@dataclass(frozen=True)
class Entry:
    """One entry a layer directory holds itself (not what the merged view shows)."""
    path: str            # "/etc/passwd"
    kind: str            # file, dir, symlink, whiteout, other
    size: int = 0        # bytes of regular-file content (0 for a second hard link to it)
    opaque: bool = False  # a dir that hides everything below it
    link: bool = False   # a hard link to a file this layer already counted


@dataclass(frozen=True)
class Change:
    kind: str            # A, M, D
    path: str
    size: int            # bytes this layer stores for it (0 for D); for D, the bytes hidden


@dataclass(frozen=True)
class Waste:
    """Bytes a layer stores that no container will ever see, and why."""
    path: str
    size: int
    layer: int           # the layer that stores the dead bytes
    why: str             # overwritten, deleted, hidden (by an opaque dir)
    by: int              # the later layer that made them dead


@dataclass
class LayerReport:
    index: int
    dir: str
    size: int = 0        # bytes of regular-file content in this layer
    files: int = 0       # entries, whiteouts included
    changes: list[Change] = field(default_factory=list)
    wasted: list[Waste] = field(default_factory=list)   # dead bytes stored HERE

    @property
    def wasted_bytes(self) -> int:
        return sum(w.size for w in self.wasted)

    def counts(self) -> dict[str, int]:
        out = {ADDED: 0, MODIFIED: 0, DELETED: 0}
        for c in self.changes:
            out[c.kind] += 1
        return out

    def to_dict(self, *, changes: bool = True) -> dict:
        d = {"index": self.index, "dir": self.dir, "size": self.size, "files": self.files,
             "counts": self.counts(), "wasted_bytes": self.wasted_bytes}
        if changes:
            d["changes"] = [c.__dict__ for c in self.changes]
            d["wasted"] = [w.__dict__ for w in self.wasted]
        return d


# -- one layer ---------------------------------------------------------------------------

def scan(layer_dir, syscalls=None) -> list[Entry]:
    """Every entry LAYER_DIR holds, parents before children, sorted by path."""
    syscalls = _syscalls(syscalls)
    out: list[Entry] = []
    seen: set[tuple[int, int]] = set()     # hard links share their bytes: count them once

    def walk(abs_dir: str, rel: str) -> None:
        try:
            with os.scandir(abs_dir) as it:
                entries = sorted(it, key=lambda e: e.name)
        except (FileNotFoundError, NotADirectoryError):
            return
        for e in entries:
            path = f"{rel}/{e.name}"
            st = e.stat(follow_symlinks=False)
            mode = st.st_mode
            if stat.S_ISCHR(mode) and st.st_rdev == 0:
                out.append(Entry(path, WHITEOUT))
            elif stat.S_ISDIR(mode):
                opaque = syscalls.lgetxattr(e.path, OVERLAY_OPAQUE) == b"y"
                out.append(Entry(path, DIR, opaque=opaque))
                walk(e.path, path)
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                repeat = st.st_nlink > 1 and key in seen
                seen.add(key)
                out.append(Entry(path, FILE, 0 if repeat else st.st_size, link=repeat))
            elif stat.S_ISLNK(mode):
                out.append(Entry(path, SYMLINK))
            else:
                out.append(Entry(path, OTHER))

    walk(os.fspath(layer_dir), "")
    return out


class Scans:
    """A cache of :func:`scan` for directories that never change once written.

    Image layers are unpacked once and then only read, so their scans can be
    kept; a container's upper dir changes all the time and is scanned afresh
    (pass ``fixed=False``). The owner (e.g. the web app) keeps one instance.
    """

    def __init__(self, syscalls=None, limit: int = 256):
        self.syscalls = syscalls
        self.limit = limit
        self._cache: dict[str, tuple[int, list[Entry]]] = {}

    def get(self, layer_dir, *, fixed: bool = True) -> list[Entry]:
        key = os.fspath(layer_dir)
        if not fixed:
            return scan(key, self.syscalls)
        try:
            ino = os.stat(key).st_ino        # a layer removed and unpacked again is new
        except FileNotFoundError:
            return []
        hit = self._cache.get(key)
        if hit is not None and hit[0] == ino:
            return hit[1]
        entries = scan(key, self.syscalls)
        if len(self._cache) >= self.limit:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (ino, entries)
        return entries


# -- a stack of layers -----------------------------------------------------------------------

class _Merged:
    """The merged view while replaying layers: path -> (layer, kind, size)."""

    def __init__(self):
        self.live: dict[str, tuple[int, str, int]] = {}

    def under(self, path: str) -> list[str]:
        """path and everything below it that is visible."""
        found = [path] if path in self.live else []
        if path in self.live and self.live[path][1] != DIR:
            return found
        prefix = path + "/"
        return found + [p for p in self.live if p.startswith(prefix)]

    def remove(self, paths, layer: int, why: str, reports) -> int:
        hidden = 0
        for p in paths:
            owner, kind, size = self.live.pop(p)
            hidden += size
            if size and reports is not None:
                reports[owner].wasted.append(Waste(p, size, owner, why, layer))
        return hidden


def analyze(entries_per_layer: list[list[Entry]], dirs: list[str] | None = None) -> list[LayerReport]:
    """Per layer (lowest first): its changes over the layers below and the bytes wasted in it."""
    reports = [LayerReport(i, (dirs or [""] * len(entries_per_layer))[i])
               for i in range(len(entries_per_layer))]
    merged = _Merged()
    for j, entries in enumerate(entries_per_layer):
        _apply(merged, j, entries, reports)
    return reports


def _apply(merged: _Merged, j: int, entries: list[Entry], reports) -> None:
    report = reports[j] if reports is not None else None
    for e in entries:
        if report is not None:
            report.files += 1
            report.size += e.size
        below = merged.live.get(e.path)
        if e.kind == WHITEOUT:
            victims = merged.under(e.path)
            if victims:
                hidden = merged.remove(victims, j, REMOVED, reports)
                if report is not None:
                    report.changes.append(Change(DELETED, e.path, hidden))
            continue
        if e.kind == DIR and e.opaque and below is not None:
            victims = [p for p in merged.under(e.path) if p != e.path]
            merged.remove(victims, j, HIDDEN, reports)
            if report is not None:
                report.changes.append(Change(MODIFIED, e.path, 0))
                report.changes.extend(Change(DELETED, p, 0) for p in victims
                                      if p.rpartition("/")[0] == e.path)
            merged.live[e.path] = (j, DIR, 0)
            continue
        if below is not None:
            if e.kind == DIR and below[1] == DIR:
                continue          # a parent carried along; the changes are inside
            victims = merged.under(e.path)
            merged.remove(victims, j, OVERWRITTEN, reports)
            if report is not None:
                report.changes.append(Change(MODIFIED, e.path, e.size))
        elif report is not None:
            report.changes.append(Change(ADDED, e.path, e.size))
        merged.live[e.path] = (j, e.kind, e.size)


def diff_range(entries_per_layer: list[list[Entry]], lo: int, hi: int) -> list[Change]:
    """What layers lo..hi (inclusive) change together over the merged layers below lo.

    Sizes are of what the top of the range stores (A, M) or what disappears (D).
    Directories count only when they appear or disappear.
    """
    n = len(entries_per_layer)
    if not (0 <= lo <= hi < n):
        raise InvalidArgument(f"invalid layer range {lo}..{hi}: the image has layers 0..{n - 1}")
    before = _Merged()
    for j in range(lo):
        _apply(before, j, entries_per_layer[j], None)
    after = _Merged()
    after.live = dict(before.live)
    for j in range(lo, hi + 1):
        _apply(after, j, entries_per_layer[j], None)
    out = []
    for path, (layer, kind, size) in after.live.items():
        old = before.live.get(path)
        if old is None:
            out.append(Change(ADDED, path, size))
        elif layer >= lo and not (kind == DIR and old[1] == DIR):
            out.append(Change(MODIFIED, path, size))
    for path, (_, _, size) in before.live.items():
        if path not in after.live:
            out.append(Change(DELETED, path, size))
    return sorted(out, key=lambda c: c.path)


def read_file(layer_dir, path: str, *, limit: int = 65536) -> dict:
    """The file PATH as LAYER_DIR itself stores it (not the merged view).

    ``{"path", "kind", "size", "content": bytes, "truncated"}`` for a regular
    file (at most LIMIT bytes), ``{"kind": "symlink", "target"}`` for a link,
    ``{"kind": "whiteout"}`` for a deletion. Symlinks are never followed: the
    path is resolved inside the layer only.
    """
    rel = [p for p in path.split("/") if p not in ("", ".")]
    if not rel or ".." in rel:
        raise InvalidArgument(f"invalid path '{path}': use an absolute path inside the layer")
    root = os.fspath(layer_dir)
    parent = root
    for part in rel[:-1]:
        parent = os.path.join(parent, part)
        try:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                raise FileNotFoundError
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound(f"no such file in this layer: {path}",
                           hint="pick a file from the layer's list") from None
    full = os.path.join(parent, rel[-1])
    try:
        st = os.lstat(full)
    except (FileNotFoundError, NotADirectoryError):
        raise NotFound(f"no such file in this layer: {path}",
                       hint="pick a file from the layer's list") from None
    shown = "/" + "/".join(rel)
    if stat.S_ISLNK(st.st_mode):
        return {"path": shown, "kind": SYMLINK, "size": 0, "target": os.readlink(full)}
    if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
        return {"path": shown, "kind": WHITEOUT, "size": 0}
    if stat.S_ISDIR(st.st_mode):
        return {"path": shown, "kind": DIR, "size": 0,
                "entries": sorted(os.listdir(full))}
    if not stat.S_ISREG(st.st_mode):
        return {"path": shown, "kind": OTHER, "size": 0}
    fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        data = os.read(fd, limit + 1)
    finally:
        os.close(fd)
    return {"path": shown, "kind": FILE, "size": st.st_size, "content": data[:limit],
            "truncated": len(data) > limit or st.st_size > limit}


def created_by(image) -> list[str]:
    """The history line that made each layer of IMAGE, lowest first ('' when unknown)."""
    history = [h for h in (image.config.get("history") or []) if not h.get("empty_layer")]
    lines = [h.get("created_by", "") for h in history]
    n = len(image.diff_ids)
    return (lines + [""] * n)[:n]


def _syscalls(syscalls):
    if syscalls is None:
        from ..linux.syscalls import Syscalls
        syscalls = Syscalls()
    return syscalls
