"""What a container changed, read from its overlay upper directory: ``docker diff``.

Overlayfs keeps every change a container makes in the upper directory: new and
modified files (copied up whole), deletions as whiteouts (0/0 character devices),
and replaced directories marked opaque (``trusted.overlay.opaque="y"``). Comparing
it with the image's layers (the lower directories) gives Docker's three kinds:

* ``A`` added: not visible in the lower layers;
* ``C`` changed: visible below and present in the upper directory (which includes
  every directory on the way to a change: overlay copies parents up);
* ``D`` deleted: a whiteout, and, under an opaque directory, each lower entry it
  now hides (the directory itself is shown as ``C``). As with a whiteout of a
  directory, a hidden directory is one line: its contents go with it.

"Visible below" follows overlay's own rules through the lower stack: a whiteout or
an opaque directory in a higher lower layer hides what the layers under it hold.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from runtime.image.layers import OVERLAY_OPAQUE, WHITEOUT_DEVICE

ADDED, CHANGED, DELETED = "A", "C", "D"


def changes(upper_dir: Path, lower_dirs: list[Path], syscalls=None) -> list[tuple[str, str]]:
    """[(kind, "/abs/path")] sorted by path, for ``upper_dir`` over ``lower_dirs`` (lowest first).

    ``syscalls`` reads the opaque xattr (the real one when None).
    """
    if syscalls is None:
        from runtime.linux.syscalls import Syscalls
        syscalls = Syscalls()
    lowers = [Path(d) for d in reversed(lower_dirs)]  # overlay searches the top one first
    result: list[tuple[str, str]] = []

    def walk(rel: str) -> None:
        with os.scandir(os.path.join(upper_dir, rel)) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            if _is_whiteout(st):
                if _visible(lowers, child, syscalls):
                    result.append((DELETED, "/" + child))
                continue
            below = _visible(lowers, child, syscalls)
            result.append((CHANGED if below else ADDED, "/" + child))
            if stat.S_ISDIR(st.st_mode):
                if below and syscalls.lgetxattr(entry.path, OVERLAY_OPAQUE) == b"y":
                    upper_names = {e.name for e in entries_of(entry.path)}
                    for hidden in _lower_names(lowers, child, syscalls) - upper_names:
                        result.append((DELETED, f"/{child}/{hidden}"))
                walk(child)

    walk("")
    return sorted(result, key=lambda kc: kc[1])


def entries_of(path: str) -> list[os.DirEntry]:
    with os.scandir(path) as it:
        return list(it)


def _is_whiteout(st: os.stat_result) -> bool:
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == WHITEOUT_DEVICE


def lookup(lowers: list[Path], rel: str, syscalls) -> os.stat_result | None:
    """lstat of ``rel`` as the merged lower stack shows it, or None if it is not visible."""
    parts = rel.split("/")
    for layer in lowers:
        blocked = False  # an opaque directory on the way hides the layers below
        for i in range(1, len(parts) + 1):
            path = os.path.join(layer, *parts[:i])
            try:
                st = os.lstat(path)
            except (FileNotFoundError, NotADirectoryError):
                break
            if _is_whiteout(st):
                return None
            if i == len(parts):
                return st
            if not stat.S_ISDIR(st.st_mode):
                return None  # a file here hides anything below it in lower layers
            if syscalls.lgetxattr(path, OVERLAY_OPAQUE) == b"y":
                blocked = True
        if blocked:
            return None
    return None


def _visible(lowers: list[Path], rel: str, syscalls) -> bool:
    return lookup(lowers, rel, syscalls) is not None


def _lower_names(lowers: list[Path], rel: str, syscalls) -> set[str]:
    """Names the merged lower stack shows inside directory ``rel``."""
    names: set[str] = set()
    for layer in lowers:
        try:
            names.update(e.name for e in entries_of(os.path.join(layer, rel)))
        except (FileNotFoundError, NotADirectoryError):
            pass
    return {n for n in names if _visible(lowers, f"{rel}/{n}", syscalls)}

