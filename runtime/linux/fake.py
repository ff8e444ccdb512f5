"""A recording stand-in for :class:`runtime.linux.syscalls.Syscalls`.

Unit tests hand this to code that would otherwise need root, then assert on
``calls``: the exact sequence of mounts, pivot_root, capability drops... A test can
make any call fail by name with ``fail={"pivot_root": errno.EINVAL}``.
"""
from __future__ import annotations

import os


class RecordingSyscalls:
    def __init__(self, fail: dict[str, int] | None = None, *, next_pid: int = 4242):
        self.calls: list[tuple] = []
        self.fail = dict(fail or {})
        self.next_pid = next_pid
        self.xattrs: dict[tuple[str, str], bytes] = {}

    def _record(self, name: str, *args):
        self.calls.append((name, *args))
        if name in self.fail:
            err = self.fail[name]
            raise OSError(err, os.strerror(err), str(args[0]) if args else None)

    def names(self) -> list[str]:
        return [c[0] for c in self.calls]

    def mount(self, source, target, fstype, flags=0, data=None):
        self._record("mount", str(source) if source is not None else None, str(target),
                     fstype, flags, data)

    def umount2(self, target, flags=0):
        self._record("umount2", str(target), flags)

    def pivot_root(self, new_root, put_old):
        self._record("pivot_root", str(new_root), str(put_old))

    def chroot(self, path):
        self._record("chroot", str(path))

    def unshare(self, flags):
        self._record("unshare", flags)

    def setns(self, fd, nstype=0):
        self._record("setns", fd, nstype)

    def clone(self, flags, *, cgroup_fd=None):
        if cgroup_fd is None:
            self._record("clone", flags)
        else:
            self._record("clone3", flags, cgroup_fd)
        return self.next_pid

    def sethostname(self, name):
        self._record("sethostname", name)

    def prctl(self, option, arg2=0, arg3=0, arg4=0, arg5=0):
        self._record("prctl", option, arg2, arg3, arg4, arg5)
        return 0

    def capset(self, effective, permitted, inheritable):
        self._record("capset", effective, permitted, inheritable)

    def setgroups(self, groups):
        self._record("setgroups", list(groups))

    def setresgid(self, r, e, s):
        self._record("setresgid", r, e, s)

    def setresuid(self, r, e, s):
        self._record("setresuid", r, e, s)

    def execve(self, path, argv, env):
        self._record("execve", path, list(argv), dict(env))

    def mknod(self, path, mode, device=0):
        self._record("mknod", str(path), mode, device)
        # Leave a visible placeholder so directory walks still see the entry.
        with open(path, "wb"):
            pass

    def lsetxattr(self, path, name, value):
        self._record("lsetxattr", str(path), name, value)
        self.xattrs[(str(path), name)] = value

    def lgetxattr(self, path, name):
        return self.xattrs.get((str(path), name))

    def set_link_up(self, ifname):
        self._record("set_link_up", ifname)
