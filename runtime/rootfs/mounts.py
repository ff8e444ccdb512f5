"""The mounts made inside a container's new mount namespace, then pivot_root.

Runs in the container's first process after clone(CLONE_NEWNS), before it execs
the user's command. The order is the one runc uses (libcontainer/rootfs_linux.go):
make our copy of the mount tree private, mount /proc, /sys and a small /dev into
the overlay, bind the per-container files and volumes, pivot_root into it,
detach the old root, then hide (mask) and freeze (read-only) the host's paths.

Every path inside the rootfs is resolved with secure_join, so a symlink planted
in an image cannot send a mount to the host.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from typing import Protocol

from ..errors import InvalidArgument
from ..linux import syscalls as sc
from .securejoin import ensure_inside, secure_join

# Docker's defaults (moby oci/defaults.go): hide what leaks host information, and
# make read-only what would let a container reconfigure the host's kernel.
MASKED_PATHS = (
    "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
    "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
    "/sys/firmware", "/sys/devices/virtual/powercap",
)
READONLY_PATHS = ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger")

NOEXEC_FLAGS = sc.MS_NOSUID | sc.MS_NODEV | sc.MS_NOEXEC

# runc's default devices: (name, major, minor). /dev/tty works once the process
# has a controlling terminal (with -t).
DEVICES = (("null", 1, 3), ("zero", 1, 5), ("full", 1, 7), ("random", 1, 8),
           ("urandom", 1, 9), ("tty", 5, 0))
DEV_LINKS = (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2"),
             ("core", "/proc/kcore"), ("ptmx", "pts/ptmx"))


class Bind(Protocol):
    """A host directory or file bind-mounted into the container (-v)."""
    source: str
    target: str
    readonly: bool


@dataclass(frozen=True)
class MountPlan:
    rootfs: str                                   # the overlay mount point
    volumes: tuple[Bind, ...] = ()
    files: tuple[tuple[str, str], ...] = ()       # (host file, path in container)
    read_only: bool = False
    console: str | None = None                    # pty slave to bind at /dev/console
    masked: tuple[str, ...] = MASKED_PATHS
    readonly_paths: tuple[str, ...] = READONLY_PATHS


def setup(syscalls, plan: MountPlan) -> None:
    """Prepare the rootfs, pivot into it, then mask. The caller's cwd ends at /."""
    before_pivot(syscalls, plan)
    pivot(syscalls, plan.rootfs)
    after_pivot(syscalls, plan)


def before_pivot(syscalls, plan: MountPlan) -> None:
    root = plan.rootfs
    # Our copy of the host's mount tree must not send events back to the host,
    # and pivot_root refuses a shared new root.
    syscalls.mount(None, "/", None, sc.MS_REC | sc.MS_PRIVATE)
    syscalls.mount("proc", ensure_inside(root, "/proc"), "proc", NOEXEC_FLAGS)
    syscalls.mount("sysfs", ensure_inside(root, "/sys"), "sysfs", NOEXEC_FLAGS | sc.MS_RDONLY)
    _mount_dev(syscalls, root, plan.console)
    for host_file, target in plan.files:
        dst = ensure_inside(root, target, is_dir=False)
        syscalls.mount(host_file, dst, None, sc.MS_BIND)
    for vol in plan.volumes:
        _bind_volume(syscalls, root, vol)


def _mount_dev(syscalls, root: str, console: str | None) -> None:
    dev = ensure_inside(root, "/dev")
    syscalls.mount("tmpfs", dev, "tmpfs", sc.MS_NOSUID | sc.MS_STRICTATIME, "mode=755,size=65536k")
    for name, major, minor in DEVICES:
        path = os.path.join(dev, name)
        syscalls.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.chmod(path, 0o666)      # mknod's mode is filtered by the umask
    os.mkdir(os.path.join(dev, "pts"), 0o755)
    syscalls.mount("devpts", os.path.join(dev, "pts"), "devpts", sc.MS_NOSUID | sc.MS_NOEXEC,
                   "newinstance,ptmxmode=0666,mode=0620,gid=5")
    os.mkdir(os.path.join(dev, "shm"), 0o1777)
    syscalls.mount("shm", os.path.join(dev, "shm"), "tmpfs", NOEXEC_FLAGS, "mode=1777,size=65536k")
    os.mkdir(os.path.join(dev, "mqueue"), 0o755)
    syscalls.mount("mqueue", os.path.join(dev, "mqueue"), "mqueue", NOEXEC_FLAGS)
    for name, target in DEV_LINKS:
        os.symlink(target, os.path.join(dev, name))
    if console:
        path = os.path.join(dev, "console")
        with open(path, "a"):
            pass
        syscalls.mount(console, path, None, sc.MS_BIND)


def _bind_volume(syscalls, root: str, vol: Bind) -> None:
    if not os.path.exists(vol.source):
        os.makedirs(vol.source, exist_ok=True)        # as docker does for -v
    try:
        dst = ensure_inside(root, vol.target, is_dir=os.path.isdir(vol.source))
        syscalls.mount(vol.source, dst, None, sc.MS_BIND | sc.MS_REC)
    except OSError as exc:
        # Raw, this reads "Not a directory /var/lib/onggi/containers/…/merged/bin":
        # say which -v it was and why (a directory onto a file, or the reverse).
        kind = "directory" if os.path.isdir(vol.source) else "file"
        raise InvalidArgument(f"cannot mount volume {vol.source}:{vol.target}: "
                              f"{(exc.strerror or str(exc)).lower()} (the source is a {kind})",
                              hint="mount a directory onto a directory, a file onto a file") from None
    if vol.readonly:
        syscalls.mount(vol.source, dst, None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC)


def pivot(syscalls, rootfs: str) -> None:
    """pivot_root(".", "."), then detach the old root.

    With both arguments ".", the old root ends up mounted on top of the new one at
    "/"; unmounting "." with MNT_DETACH peels it off and leaves only the rootfs
    (runc's pivotRoot). No put_old directory is needed in the image.
    """
    os.chdir(rootfs)
    syscalls.pivot_root(".", ".")
    syscalls.umount2(".", sc.MNT_DETACH)
    os.chdir("/")


def after_pivot(syscalls, plan: MountPlan) -> None:
    for path in plan.masked:
        if not os.path.lexists(path):
            continue
        if os.path.isdir(path):
            syscalls.mount("tmpfs", path, "tmpfs", sc.MS_RDONLY)
        else:
            syscalls.mount("/dev/null", path, None, sc.MS_BIND)
    for path in plan.readonly_paths:
        if not os.path.lexists(path):
            continue
        syscalls.mount(path, path, None, sc.MS_BIND | sc.MS_REC)
        syscalls.mount(path, path, None,
                       sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY | sc.MS_REC | NOEXEC_FLAGS)
    if plan.read_only:
        syscalls.mount("/", "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY)


def container_path(rootfs: str, path: str) -> str:
    """Where a container path lives on the host side of rootfs (symlinks confined)."""
    return secure_join(rootfs, path)
