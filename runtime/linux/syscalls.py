"""The one seam through which the runtime makes Linux syscalls.

Everything that changes kernel state for a container (mount, pivot_root, clone,
setns, capabilities, device nodes, overlay xattrs) goes through a :class:`Syscalls`
object, so that container logic can be driven in unit tests by
:class:`runtime.linux.fake.RecordingSyscalls`, which records calls instead.

Names and argument order are the C ones, so ``man 2 pivot_root`` applies. A failed
call raises ``OSError(errno, strerror, path)``, never a wrapped error: the layer
that knows why it made the call decides what to tell the user.

Python 3.11 has no ``os.unshare``/``os.setns``; ctypes reaches libc. ctypes is
loaded on first use, not at import, so the CLI only pays for it when it needs it.
"""
from __future__ import annotations

import functools
import os
import platform
import struct

# mount(2) flags (<linux/mount.h>)
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_BIND = 4096
MS_MOVE = 8192
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_SLAVE = 1 << 19
MS_SHARED = 1 << 20
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
# umount2(2)
MNT_DETACH = 2
# clone(2) / unshare(2) / setns(2)
CLONE_NEWTIME = 0x00000080
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
CLONE_INTO_CGROUP = 0x200000000          # clone3(2) only: start the child in a cgroup2 directory
# prctl(2)
PR_SET_PDEATHSIG = 1
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
# capset(2)
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_SYSCALL_NUMBERS = {
    "x86_64": {"clone": 56, "pivot_root": 155, "clone3": 435},
    "aarch64": {"clone": 220, "pivot_root": 41, "clone3": 435},
}


def _path(p) -> bytes | None:
    return None if p is None else os.fsencode(p)


@functools.cache
def load_libc(*, hold_gil: bool = False):
    """libc through ctypes, loaded once per process (dlopen is not free).

    hold_gil: a PyDLL, which keeps the GIL held across the call (needed around a
    raw clone); a CDLL releases it.
    """
    import ctypes
    return (ctypes.PyDLL if hold_gil else ctypes.CDLL)(None, use_errno=True)


class Syscalls:
    """The real thing. Not thread-aware: clone() must be called single-threaded."""

    def __init__(self):
        self._nr = _SYSCALL_NUMBERS.get(platform.machine(), _SYSCALL_NUMBERS["x86_64"])

    # -- plumbing ---------------------------------------------------------------
    @property
    def libc(self):
        return load_libc()

    def _check(self, ret: int, path=None) -> int:
        if ret == -1:
            import ctypes
            err = ctypes.get_errno()
            if path is None:
                raise OSError(err, os.strerror(err))
            raise OSError(err, os.strerror(err), os.fsdecode(path))
        return ret

    # -- mounts -----------------------------------------------------------------
    def mount(self, source, target, fstype, flags: int = 0, data: str | None = None) -> None:
        ret = self.libc.mount(_path(source), _path(target), _path(fstype), flags,
                              None if data is None else data.encode())
        self._check(ret, target)

    def umount2(self, target, flags: int = 0) -> None:
        self._check(self.libc.umount2(_path(target), flags), target)

    def pivot_root(self, new_root, put_old) -> None:
        ret = self.libc.syscall(self._nr["pivot_root"], _path(new_root), _path(put_old))
        self._check(ret, new_root)

    def chroot(self, path) -> None:
        """chroot(2): change this process's root directory (not its cwd: chdir("/") after)."""
        os.chroot(path)

    # -- namespaces and processes --------------------------------------------------
    def unshare(self, flags: int) -> None:
        self._check(self.libc.unshare(flags))

    def setns(self, fd: int, nstype: int = 0) -> None:
        self._check(self.libc.setns(fd, nstype))

    def clone(self, flags: int, *, cgroup_fd: int | None = None) -> int:
        """clone(2) without a new stack: fork() semantics, plus namespace flags.

        Returns the child's pid in the parent and 0 in the child, like fork().
        With cgroup_fd (an open cgroup2 directory), clone3(2) with
        CLONE_INTO_CGROUP instead: the child is born in that cgroup, so it never
        has to be moved into it, and a move (a write to cgroup.procs) is what
        makes the kernel wait for an RCU grace period after a quiet spell.
        Raises OSError(ENOSYS) on a kernel without clone3 (before 5.7), EINVAL or
        EOPNOTSUPP where it refuses that cgroup: then clone without it and move.

        CPython must be told about the fork exactly as os.fork() tells it
        (PyOS_BeforeFork / AfterFork_Child / AfterFork_Parent: locks, at-fork
        hooks, thread state), and the GIL must stay held across the raw syscall,
        hence PyDLL for both. Only safe in a single-threaded process: the child
        gets one thread, and any lock another thread held stays held forever.
        """
        import ctypes
        import signal
        pylibc = load_libc(hold_gil=True)
        api = ctypes.pythonapi
        if cgroup_fd is not None:
            args = _clone_args_type()(flags=flags | CLONE_INTO_CGROUP, exit_signal=signal.SIGCHLD,
                                      cgroup=cgroup_fd)
            call = (self._nr["clone3"], ctypes.byref(args), ctypes.c_size_t(ctypes.sizeof(args)))
        else:
            call = (self._nr["clone"], ctypes.c_ulong(flags | signal.SIGCHLD), None, None, None, None)
        api.PyOS_BeforeFork()
        pid = pylibc.syscall(*call)
        if pid == 0:
            api.PyOS_AfterFork_Child()
            return 0
        err = ctypes.get_errno()
        api.PyOS_AfterFork_Parent()
        if pid < 0:
            raise OSError(err, os.strerror(err))
        return pid

    def sethostname(self, name: str) -> None:
        raw = name.encode()
        self._check(self.libc.sethostname(raw, len(raw)))

    def prctl(self, option: int, arg2: int = 0, arg3: int = 0, arg4: int = 0, arg5: int = 0) -> int:
        import ctypes
        u = ctypes.c_ulong
        return self._check(self.libc.prctl(option, u(arg2), u(arg3), u(arg4), u(arg5)))

    def capset(self, effective: int, permitted: int, inheritable: int) -> None:
        """capset(2) with version-3 headers: each set is a 64-bit mask of CAP_* bits."""
        import ctypes
        header = struct.pack("Ii", _LINUX_CAPABILITY_VERSION_3, 0)
        data = struct.pack("6I",
                           effective & 0xFFFFFFFF, permitted & 0xFFFFFFFF, inheritable & 0xFFFFFFFF,
                           effective >> 32, permitted >> 32, inheritable >> 32)
        hbuf = ctypes.create_string_buffer(header, len(header))
        dbuf = ctypes.create_string_buffer(data, len(data))
        self._check(self.libc.capset(hbuf, dbuf))

    def setgroups(self, groups: list[int]) -> None:
        os.setgroups(groups)

    def setresgid(self, rgid: int, egid: int, sgid: int) -> None:
        os.setresgid(rgid, egid, sgid)

    def setresuid(self, ruid: int, euid: int, suid: int) -> None:
        os.setresuid(ruid, euid, suid)

    def execve(self, path: str, argv: list[str], env: dict[str, str]):
        os.execve(path, argv, env)

    # -- files the kernel treats specially ------------------------------------------
    def mknod(self, path, mode: int, device: int = 0) -> None:
        os.mknod(path, mode, device)

    def lsetxattr(self, path, name: str, value: bytes) -> None:
        os.setxattr(path, name, value, follow_symlinks=False)

    def lgetxattr(self, path, name: str) -> bytes | None:
        try:
            return os.getxattr(path, name, follow_symlinks=False)
        except OSError as e:
            import errno
            if e.errno in (errno.ENODATA, errno.ENOTSUP):
                return None
            raise

    def set_link_up(self, ifname: str) -> None:
        """``ip link set IFNAME up`` via SIOCSIFFLAGS on an AF_INET socket.

        Used for ``lo`` in a fresh network namespace, where loading pyroute2 for
        one flag would cost more than the rest of the launch.
        """
        import fcntl
        import socket
        SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sh14x", ifname.encode(), 0)
            flags = struct.unpack("16sh14x", fcntl.ioctl(s, SIOCGIFFLAGS, req))[1]
            fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh14x", ifname.encode(), flags | IFF_UP))


@functools.cache
def _clone_args_type():
    """ctypes is imported on first use (see the module's docstring), so the struct is too."""
    import ctypes

    class CloneArgs(ctypes.Structure):
        """struct clone_args (linux/sched.h), as far as CLONE_INTO_CGROUP (88 bytes)."""
        _fields_ = [(name, ctypes.c_uint64) for name in (
            "flags", "pidfd", "child_tid", "parent_tid", "exit_signal", "stack", "stack_size",
            "tls", "set_tid", "set_tid_size", "cgroup")]
    return CloneArgs

