"""Resolve a path inside a root directory as the container will see it.

Before pivot_root, a path like ``/data`` in the rootfs may be a symlink an image
put there (``data -> /etc``). Following it on the host would make a bind mount or
a mkdir land in the host's /etc. secure_join follows symlinks *as if root were /*
(the idea of cyphar/filepath-securejoin), so the answer never leaves root.
"""
from __future__ import annotations

import os
import stat

_MAX_LINKS = 40          # the kernel's own limit (ELOOP)


def secure_join(root: str, unsafe: str, *, follow_last: bool = True,
                must_exist: bool = False) -> str | None:
    """UNSAFE (a path inside the container) as a host path under ROOT.

    ``..`` never climbs above ROOT; every symlink is re-rooted at ROOT (the last
    component's only with follow_last). A missing component is kept as named,
    for the caller to create, or with must_exist the answer is None. Raises
    OSError(ELOOP) past the kernel's limit of links.
    """
    root = os.path.abspath(root)
    parts = [p for p in unsafe.split("/") if p not in ("", ".")]
    resolved: list[str] = []
    links = 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = os.path.join(root, *resolved, part)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            if must_exist:
                return None
            resolved.append(part)
            continue
        if stat.S_ISLNK(st.st_mode) and (parts or follow_last):
            links += 1
            if links > _MAX_LINKS:
                raise OSError(40, "too many levels of symbolic links", candidate)
            target = os.readlink(candidate)
            if target.startswith("/"):
                resolved = []
            parts = [p for p in target.split("/") if p not in ("", ".")] + parts
            continue
        resolved.append(part)
    return os.path.join(root, *resolved)


def ensure_inside(root: str, unsafe: str, *, is_dir: bool = True) -> str:
    """secure_join, then create what is missing (a directory, or an empty file)."""
    path = secure_join(root, unsafe)
    if is_dir:
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if not os.path.lexists(path):
            with open(path, "a"):
                pass
    return path
