"""The lesson VM's initramfs: the host's static busybox and an ``/init``, as a ``newc`` cpio.

The kernel unpacks an initramfs into its first root filesystem and runs ``/init``
as PID 1 (Documentation/filesystems/ramfs-rootfs-initramfs.rst: "When switching
to another root device ... If the initramfs contains a file /init, the kernel
runs it"). Ours holds ``/bin/busybox`` with every applet as a symlink beside it,
``/dev/console`` (the kernel opens it for init's stdin/stdout/stderr *before*
anything could mount devtmpfs, so the node must already be in the archive), the
empty ``/proc``, and an ``/init`` that mounts /proc, prints one marker line on the
console and powers the machine off.

The archive format is the "new ASCII" cpio the kernel reads
(Documentation/driver-api/early-userspace/buffer-format.rst): per member a
110-byte header of ``070701`` and thirteen 8-digit hex fields, the NUL-terminated
name and the data, each padded to 4 bytes; ``TRAILER!!!`` ends it. That is all
there is to it, so we write it here (as the kernel's own ``usr/gen_init_cpio.c``
does) rather than stage a directory tree for ``cpio(1)``: that would need root
for the device node, and would not be reproducible.

It is built offline and cached: the file name carries a hash of the busybox
binary and of this module's format, so a new busybox or a new ``/init`` gives a
new file, and the same inputs give the same bytes (every mtime is 0).
"""
from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BUSYBOX = Path("/bin/busybox")
MARKER = "ONGGI-VM"

# PID 1 of the VM. The console is ttyS0, the serial line qemu joins to its stdout.
# After the marker, init waits (at most 5 s) for a line from the host: meanwhile
# the host reads qemu's memory, then lets the guest go. poweroff -f is the
# reboot(2) syscall directly; with -no-reboot qemu exits when the guest does.
INIT = f"""#!/bin/sh
export PATH=/bin
mount -t proc proc /proc
mem=$(sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo)
up=$(cut -d' ' -f1 /proc/uptime)
echo "{MARKER} kernel=$(uname -r) memtotal=$mem uptime=$up cpus=$(nproc)"
read -t 5 _ignored
poweroff -f
"""

# Bump when the layout or INIT changes in a way the hash of INIT would not show.
FORMAT = "1"


@dataclass(frozen=True)
class Member:
    """One cpio member: name (no leading /), st_mode with its file type, content."""
    name: str
    mode: int
    data: bytes = b""
    rdev: tuple[int, int] = (0, 0)


def members(busybox: Path = DEFAULT_BUSYBOX) -> list[Member]:
    """Everything the initramfs holds, parents before children."""
    from ..image.base import applets
    busybox = Path(busybox)
    out = [Member("bin", stat.S_IFDIR | 0o755), Member("dev", stat.S_IFDIR | 0o755),
           Member("proc", stat.S_IFDIR | 0o755), Member("sys", stat.S_IFDIR | 0o755),
           Member("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1)),
           Member("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes())]
    out += [Member(f"bin/{name}", stat.S_IFLNK | 0o777, b"busybox") for name in applets(busybox)]
    out.append(Member("init", stat.S_IFREG | 0o755, INIT.encode()))
    return out


def newc(items: list[Member]) -> bytes:
    """The members as one newc cpio archive, ``TRAILER!!!`` included."""
    chunks = []
    for ino, m in enumerate(items + [Member("TRAILER!!!", 0)], start=1):
        trailer = m.name == "TRAILER!!!"
        name = m.name.encode() + b"\0"
        nlink = 2 if stat.S_ISDIR(m.mode) else 1
        fields = (0 if trailer else ino, m.mode, 0, 0, 0 if trailer else nlink, 0, len(m.data),
                  0, 0, m.rdev[0], m.rdev[1], len(name), 0)
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        chunks += [header, name, _pad(len(header) + len(name)), m.data, _pad(len(m.data))]
    return b"".join(chunks)


def _pad(n: int) -> bytes:
    return b"\0" * (-n % 4)


def cache_name(busybox: Path = DEFAULT_BUSYBOX) -> str:
    """initramfs-<hash>.cpio: the hash covers busybox's bytes, INIT and FORMAT."""
    h = hashlib.sha256()
    h.update(Path(busybox).read_bytes())
    h.update(INIT.encode())
    h.update(FORMAT.encode())
    return f"initramfs-{h.hexdigest()[:16]}.cpio"


def ensure(cache_dir: Path, busybox: Path = DEFAULT_BUSYBOX) -> Path:
    """The cached initramfs for this busybox, built first if missing; its path.

    Written to a temporary file and renamed into place, so a reader never sees
    half an archive and two builders racing both end with the same whole file.
    """
    from ..errors import Unsupported
    busybox = Path(busybox)
    if not busybox.is_file():
        raise Unsupported(f"cannot build the VM's initramfs: {busybox} does not exist",
                          hint="install Debian's busybox-static (apt-get install busybox-static)")
    cache_dir = Path(cache_dir)
    path = cache_dir / cache_name(busybox)
    if path.is_file():
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=".initramfs-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(newc(members(busybox)))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path
