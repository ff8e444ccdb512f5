"""Looking at a container's files from the host, safely: through its overlay or its layers.

A path inside a container must be resolved as the container would resolve it:
an absolute symlink (``/bin/vi -> /bin/busybox``) points into the container's
root, never into the host's. :func:`resolve` walks the components itself under
a root directory (a running container's ``/proc/PID/root``: its overlay with
what is mounted on it), checking each component with lstat and re-rooting
every symlink, so the kernel itself never follows one;
:func:`in_layers` answers for a container whose overlay is not mounted, by
overlay's own rules over its upper and lower directories (a whiteout hides,
an opaque directory hides what is below it). Nothing here writes.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from runtime.rootfs.securejoin import secure_join

MAX_READ = 1024 * 1024


def resolve(root: Path, path: str, *, follow_last: bool = True) -> Path | None:
    """PATH (absolute, inside the container) as a host path under ROOT, or None if
    missing (or a loop of links). ``..`` never climbs above ROOT; symlinks are
    followed inside ROOT (the last component only with ``follow_last``): the walk
    the runtime uses before its mounts (runtime/rootfs/securejoin.py)."""
    try:
        found = secure_join(str(root), path, follow_last=follow_last, must_exist=True)
    except OSError:
        return None
    return None if found is None else Path(found)


def read_text(host_path: Path) -> str | None:
    """A regular file's text (at most 1 MiB), or None."""
    try:
        fd = os.open(host_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        return os.read(fd, MAX_READ).decode("utf-8", "replace")
    finally:
        os.close(fd)


def in_layers(layers_top_first: list[Path], path: str, syscalls) -> Path | None:
    """Where PATH is visible in this stack of overlay layers (the topmost first), or None.

    Overlay's rules: the first layer holding the path wins; a whiteout hides it;
    an opaque directory on the way hides the layers below. Symlinked directories
    on the way are not followed (None), so this never leaves the layers.
    """
    from runtime.image.layers import OVERLAY_OPAQUE
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts:
        return Path(layers_top_first[0]) if layers_top_first else None
    for layer in layers_top_first:
        blocked = False
        for i in range(1, len(parts) + 1):
            here = os.path.join(layer, *parts[:i])
            try:
                st = os.lstat(here)
            except (FileNotFoundError, NotADirectoryError):
                break
            if _whiteout(st):
                return None
            if i == len(parts):
                return Path(here)
            if not stat.S_ISDIR(st.st_mode):
                return None
            if syscalls.lgetxattr(here, OVERLAY_OPAQUE) == b"y":
                blocked = True
        if blocked:
            return None
    return None


def is_whiteout(host_path: Path) -> bool:
    """Whether HOST_PATH is an overlay whiteout: a character device 0/0."""
    try:
        return _whiteout(os.lstat(host_path))
    except OSError:
        return False


def _whiteout(st: os.stat_result) -> bool:
    from runtime.image.layers import WHITEOUT_DEVICE
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == WHITEOUT_DEVICE
