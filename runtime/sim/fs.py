"""A layered filesystem as data: image layers (read-only, lowest first) under one writable upper.

The same rules overlayfs follows, on dictionaries instead of directories, so the
simulated container's ``ls``, ``rm`` and ``echo > file`` change what the layers
view and ``diff`` show in the way the real overlay would:

* the topmost layer that has a path decides what it is; a **whiteout** there
  hides it, and an **opaque** directory hides everything below it;
* writing a file that only a lower layer has **copies it up** whole (and every
  parent directory on the way), so appending one line stores the whole file again;
* deleting a file that a lower layer has leaves a whiteout in the upper layer.

A layer is ``{"/abs/path": entry}``; an entry is a small dict::

    {"k": "f"|"d"|"l"|"w",   file, directory, symlink, whiteout
     "m": 0o644, "s": size, "t": mtime,
     "d": "text",            content, when it is small text (else only the size is known)
     "l": "target",          a symlink's target
     "h": "/bin/busybox",    a hard link to that path (its bytes are counted once)
     "o": 1}                 an opaque directory

Nothing here touches a real file.
"""
from __future__ import annotations

import posixpath
import time

FILE, DIR, LINK, WHITEOUT = "f", "d", "l", "w"
MAX_TEXT = 64 * 1024          # bigger contents keep only their size


def norm(path: str, cwd: str = "/") -> str:
    """PATH made absolute against CWD and normalised (no ``..`` above /)."""
    full = posixpath.normpath(posixpath.join(cwd, path)) if path else cwd
    return "/" + full.lstrip("/") if full != "/" else "/"


def parents(path: str) -> list[str]:
    """The directories above PATH, outermost first, without /."""
    out, p = [], posixpath.dirname(path)
    while p not in ("/", ""):
        out.append(p)
        p = posixpath.dirname(p)
    return out[::-1]


def file_entry(data: str | None, *, size: int | None = None, mode: int = 0o644) -> dict:
    entry = {"k": FILE, "m": mode, "t": int(time.time()),
             "s": size if size is not None else len((data or "").encode())}
    if data is not None and entry["s"] <= MAX_TEXT:
        entry["d"] = data
    return entry


class FS:
    """The merged view of LOWERS (lowest first, read-only) and UPPER (changed in place)."""

    def __init__(self, lowers: list[dict], upper: dict | None = None):
        self.lowers = lowers
        self.upper = upper if upper is not None else {}

    # -- looking -----------------------------------------------------------------------
    def _stack(self) -> list[dict]:
        return [self.upper] + self.lowers[::-1]          # the top one first

    def lookup(self, path: str) -> dict | None:
        """The entry the merged view shows at PATH, or None."""
        path = norm(path)
        if path == "/":
            return {"k": DIR, "m": 0o755, "t": 0}
        for layer in self._stack():
            entry = layer.get(path)
            if entry is not None:
                return None if entry["k"] == WHITEOUT else entry
            if self._hidden_below(layer, path):
                return None
        return None

    @staticmethod
    def _hidden_below(layer: dict, path: str) -> bool:
        """Does LAYER hide the layers under it at PATH (a whiteout or opaque dir above it)?"""
        for p in parents(path):
            e = layer.get(p)
            if e is not None and (e["k"] == WHITEOUT or e["k"] != DIR or e.get("o")):
                return True
        return False

    def exists(self, path: str) -> bool:
        return self.lookup(path) is not None

    def is_dir(self, path: str) -> bool:
        e = self.lookup(path)
        return e is not None and e["k"] == DIR

    def listdir(self, path: str) -> list[str]:
        """Names in directory PATH (sorted), as the merged view shows them."""
        path = norm(path)
        prefix = "/" if path == "/" else path + "/"
        names = set()
        for layer in self._stack():
            for p in layer:
                if p.startswith(prefix) and "/" not in p[len(prefix):] and p != "/":
                    names.add(p[len(prefix):])
        return sorted(n for n in names if self.exists(prefix + n))

    def walk(self, path: str = "/") -> list[str]:
        """Every visible path under PATH (not PATH itself), parents first, sorted."""
        out = []
        for name in self.listdir(path):
            child = norm(name, path)
            out.append(child)
            if self.is_dir(child):
                out += self.walk(child)
        return out

    def read(self, path: str) -> str | None:
        """The text of file PATH; None when only its size is known (a binary, a big file)."""
        e = self.lookup(path)
        if e is None or e["k"] != FILE:
            return None
        return e.get("d")

    def nlink(self, path: str) -> int:
        """Hard links: a file and the entries that link to it (busybox's applets)."""
        e = self.lookup(path)
        if e is None or e["k"] != FILE:
            return 2 if e is not None and e["k"] == DIR else 1
        target = e.get("h", norm(path))
        return 1 + sum(1 for layer in self.lowers + [self.upper] for p, x in layer.items()
                       if x.get("h") == target and self.lookup(p) is not None)

    # -- changing (always in the upper layer) ---------------------------------------------
    def _copy_up_parents(self, path: str) -> None:
        for p in parents(path):
            if p not in self.upper:
                below = self.lookup(p)
                self.upper[p] = dict(below) if below is not None else {"k": DIR, "m": 0o755,
                                                                          "t": int(time.time())}
                self.upper[p].pop("o", None)

    def write(self, path: str, data: str | None, *, append: bool = False, size: int | None = None,
              mode: int | None = None) -> None:
        """Write (or append to) file PATH: the whole file lands in the upper layer (copy-up)."""
        path = norm(path)
        old = self.lookup(path)
        if append and old is not None and old["k"] == FILE:
            before = old.get("d")
            if before is None:
                entry = file_entry(None, size=old.get("s", 0) + (size if size is not None
                                                                   else len((data or "").encode())))
            else:
                entry = file_entry(before + (data or ""), size=None if size is None else old["s"] + size)
            entry["m"] = old.get("m", 0o644)
        else:
            entry = file_entry(data, size=size, mode=(old or {}).get("m", 0o644) if mode is None else mode)
        self._copy_up_parents(path)
        self.upper[path] = entry

    def mkdir(self, path: str, mode: int = 0o755) -> None:
        path = norm(path)
        self._copy_up_parents(path)
        self.upper[path] = {"k": DIR, "m": mode, "t": int(time.time())}

    def symlink(self, target: str, path: str) -> None:
        path = norm(path)
        self._copy_up_parents(path)
        self.upper[path] = {"k": LINK, "m": 0o777, "t": int(time.time()), "l": target, "s": len(target)}

    def remove(self, path: str) -> None:
        """Delete PATH (and, for a directory, all under it): gone from the upper layer,
        and a whiteout where a lower layer still has it."""
        path = norm(path)
        for p in [p for p in self.upper if p == path or p.startswith(path + "/")]:
            del self.upper[p]
        if self._in_lowers(path):
            self._copy_up_parents(path)
            self.upper[path] = {"k": WHITEOUT, "m": 0, "t": int(time.time())}

    def _in_lowers(self, path: str) -> bool:
        return FS(self.lowers, {}).lookup(path) is not None

    # -- what the upper layer holds (docker diff) -----------------------------------------
    def diff(self) -> list[tuple[str, str]]:
        """[(A|C|D, path)] sorted by path, as ``runtime.image.changes.changes`` reports them."""
        below = FS(self.lowers, {})
        out = []
        for path in sorted(self.upper):
            if any(self.upper.get(p, {}).get("k") == WHITEOUT for p in parents(path)):
                continue
            entry = self.upper[path]
            visible = below.lookup(path) is not None
            if entry["k"] == WHITEOUT:
                if visible:
                    out.append(("D", path))
                continue
            out.append(("C" if visible else "A", path))
            if entry["k"] == DIR and entry.get("o") and visible:
                for name in below.listdir(path):
                    if norm(name, path) not in self.upper:
                        out.append(("D", norm(name, path)))
        return sorted(out, key=lambda kp: kp[1])


def scan_entries(layer: dict) -> list:
    """LAYER as ``runtime.inspect.layers.scan`` reads a real layer directory: Entry values,
    sorted by path, a hard link's bytes counted once."""
    from runtime.inspect.layers import DIR as S_DIR, FILE as S_FILE, SYMLINK, WHITEOUT as S_WHITEOUT
    from runtime.inspect.layers import Entry
    kinds = {FILE: S_FILE, DIR: S_DIR, LINK: SYMLINK, WHITEOUT: S_WHITEOUT}
    out, counted = [], set()
    for path in sorted(layer):
        e = layer[path]
        kind = kinds[e["k"]]
        if kind != S_FILE:
            out.append(Entry(path, kind, opaque=bool(e.get("o"))))
            continue
        target = e.get("h") or path
        repeat = target in counted
        counted.add(target)
        out.append(Entry(path, S_FILE, 0 if repeat else e.get("s", 0), link=repeat))
    return out


def layer_size(layer: dict) -> int:
    return sum(e.size for e in scan_entries(layer))
