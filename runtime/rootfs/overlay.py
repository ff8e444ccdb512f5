"""The overlay mount that is a container's root filesystem (host side).

``lowerdir`` lists the image's layers top first (overlayfs reads left to right),
``upperdir`` takes every write, ``workdir`` is overlayfs' scratch space on the same
filesystem as upperdir. See the kernel's Documentation/filesystems/overlayfs.rst.
"""
from __future__ import annotations

import errno
import os

from ..linux import syscalls as sc

# mount(2) passes its data in one page; beyond this the kernel refuses the mount.
_MAX_DATA = 4000


def options(lower_dirs, upper, work) -> str:
    """lower_dirs: lowest layer first (image order); reversed here for overlayfs."""
    lower = ":".join(str(d) for d in reversed(list(lower_dirs)))
    return f"lowerdir={lower},upperdir={upper},workdir={work}"


def mount(syscalls, lower_dirs, upper, work, merged, links_dir=None) -> str:
    """Mount the overlay at merged; returns the data string the kernel was given.

    mount(2) takes its data in one page: a long stack of layers does not fit as
    full paths. Then, as Docker's overlay2 does with its "l/" directory, each layer
    gets a short symlink in links_dir (default: beside merged) and the kernel is
    given those names, resolved relative to our working directory.
    """
    lower_dirs = [str(d) for d in lower_dirs]
    if not lower_dirs:
        raise ValueError("an overlay needs at least one lower layer")
    data = options(lower_dirs, upper, work)
    if len(data) <= _MAX_DATA:
        syscalls.mount("overlay", merged, "overlay", 0, data)
        return data
    links = str(links_dir or os.path.join(os.path.dirname(str(merged)), "l"))
    os.makedirs(links, exist_ok=True)
    short = []
    for i, d in enumerate(lower_dirs):
        name = format(i, "x")
        path = os.path.join(links, name)
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(d, path)
        short.append(name)
    data = options(short, upper, work)
    if len(data) > _MAX_DATA:
        raise OSError(errno.E2BIG, f"too many layers for one overlay mount ({len(lower_dirs)})",
                      str(merged))
    here = os.open(".", os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.chdir(links)
        syscalls.mount("overlay", merged, "overlay", 0, data)
    finally:
        os.fchdir(here)
        os.close(here)
    return data


def unmount(syscalls, merged) -> bool:
    """Detach the overlay if mounted; True if something was unmounted."""
    try:
        syscalls.umount2(merged, sc.MNT_DETACH)
        return True
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.ENOENT):   # not a mount point / gone
            return False
        raise
