"""A zygote: a process that waits in a spare cgroup and, on request, clones a
container's first process there, so that on cgroup v1 that process never has to
be moved into its cgroup.

Why: a process joins a cgroup by being moved there (a write to ``cgroup.procs``),
and the first move after a quiet spell waits for an RCU grace period (6 to 17 ms
on the development machine; see runtime/linux/migration.py), the largest single
cost of a launch. But a child is born in its parent's cgroups. So the warm CLI's
spare worker, while it waits for a command, makes an empty cgroup ``spare-<pid>``
and forks a zygote, which moves itself there and pays that wait while nobody is
waiting. When ``onggi run`` comes, the launch renames the spare to the
container's id (cgroup v1 can rename a cgroup in place), writes the limits, and
asks the zygote to clone with the namespace flags: the container's first process
is born in its cgroup. (Android starts apps the same way, from a process warmed
up in advance, and calls it the zygote.)

On cgroup v2 there is no zygote: clone3 with CLONE_INTO_CGROUP starts a process
in any cgroup directly (launch.py), and cgroup2 cannot rename a cgroup anyway.

The zygote first says ``J`` once it is in its cgroup (or ``E<why>``): the spare
is renamed only after that, so a launch that comes before the move is done waits
for it (as a move of its own would) instead of renaming the spare from under it.
Then the request, one SOCK_SEQPACKET message: the clone flags (8 bytes), the
:class:`~runtime.container.process.InitPlan` (pickled), and as SCM_RIGHTS the
child's end of the launch channel and the fds its stdio is to become (the
zygote was forked before they existed, so they travel with the request). The
zygote clones with ``CLONE_PARENT``: the new process is the *launcher's* child,
not the zygote's, so the launcher waits for it, gets its SIGCHLD, and is the
parent its ``PR_SET_PDEATHSIG`` watches, exactly as if it had cloned it itself.
The zygote answers ``P<pid>`` (or ``E<why>``) and exits. It serves one launch.

Only from a single-threaded process (it forks).
"""
from __future__ import annotations

import os
import pickle
import signal
import socket
import threading
from dataclasses import replace

from ..linux import syscalls as sc
from . import process

CLONE_PARENT = 0x00008000       # <linux/sched.h>: the child's parent is our parent
_FLAGS = 8


class Zygote:
    """The launcher's handle on one zygote (see the module's docstring)."""

    def __init__(self, pid: int, sock: socket.socket, cgroup, cgroups):
        self.pid: int | None = pid
        self.sock = sock
        self.cgroup = cgroup                # the spare, until a launch adopts it
        self.cgroups = cgroups              # the manager that made it
        self.joined = False                 # it said it is in the spare

    @classmethod
    def start(cls, syscalls, cgroups) -> "Zygote | None":
        """Make a spare cgroup under CGROUPS and fork a zygote into it; None where
        the layout needs none (v2) or it cannot be made. Returns at once: the
        zygote joins its cgroup (the slow part) on its own."""
        if threading.active_count() != 1:
            return None
        try:
            spare = cgroups.spare(os.getpid())
        except OSError:
            return None
        if spare is None:
            return None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        launcher = os.getpid()
        try:
            pid = os.fork()
        except OSError:
            ours.close()
            theirs.close()
            spare.destroy(timeout=0.5)
            return None
        if pid == 0:                              # the zygote
            try:
                ours.close()
                _serve(syscalls, theirs, spare, launcher)
            finally:
                os._exit(0)
        theirs.close()
        return cls(pid, ours, spare, cgroups)

    def serves(self, cgroups) -> bool:
        """Whether a launch under CGROUPS can use this zygote: it is still there
        and its spare is in that manager's parent (a rename never changes parent)."""
        return self.pid is not None and (
            (self.cgroups.version, str(self.cgroups.root), self.cgroups.parent)
            == (cgroups.version, str(cgroups.root), cgroups.parent))

    def ready(self) -> bool:
        """Wait until the zygote is in its spare cgroup; False (and it is closed)
        if it could not get there or is gone."""
        if self.pid is not None and not self.joined:
            try:
                self.joined = self.sock.recv(256) == b"J"
            except OSError:
                pass
            if not self.joined:
                self.close()
        return self.joined

    def clone(self, flags: int, chan: socket.socket, plan: process.InitPlan) -> int | None:
        """Have the zygote clone a process that runs ``process.child_main(chan, plan)``
        with FLAGS, as our child; its pid. None if the zygote could not (it is gone,
        or the kernel refused the clone): then clone the ordinary way. Call only
        once :meth:`ready` said yes. Either way the zygote exits; :meth:`close` reaps it
        (later: tearing down a whole Python process takes a while, and until it is
        reaped it counts in the cgroup's pids.current)."""
        if self.pid is None:
            return None
        stdio = [fd for fd in plan.stdio if fd >= 0]
        payload = flags.to_bytes(_FLAGS, "little") + pickle.dumps(plan)
        try:
            socket.send_fds(self.sock, [payload], [chan.fileno(), *stdio])
            answer = self.sock.recv(256)
        except OSError:
            answer = b""
        if answer[:1] == b"P":
            return int(answer[1:])
        return None

    def close(self) -> None:
        """Kill and reap the zygote if it is still there, and remove its spare
        cgroup unless a launch adopted it. Idempotent; never raises."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:
                pass
            self.pid = None
            self.sock.close()
        if self.cgroup is not None:
            try:
                self.cgroup.destroy(timeout=0.5)     # gone already when it was adopted
            except OSError:
                pass
            self.cgroup = None

    def adopted(self) -> None:
        """The launch made the spare its container's cgroup: not ours to remove."""
        self.cgroup = None


def _serve(syscalls, sock: socket.socket, spare, launcher: int) -> None:
    """The zygote's body: join the spare, then serve one request. Never returns."""
    syscalls.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != launcher:                  # the launcher died before the line above
        os._exit(0)
    keep = sock.fileno()
    os.closerange(3, keep)                        # nothing of the worker's may reach a container
    os.closerange(keep + 1, os.sysconf("SC_OPEN_MAX"))
    try:
        spare.add(0)                              # "0": ourselves. The slow move, paid now.
        sock.send(b"J")
    except OSError as exc:
        sock.send(f"Ecould not join {spare.path}: {exc.strerror}".encode())
        os._exit(0)
    try:
        # close-on-exec, as every fd of ours is: the channel's EOF at execve is how
        # the launcher knows the command runs, and no fd may leak into a container.
        payload, fds, _, _ = socket.recv_fds(sock, 1 << 20, 8, socket.MSG_CMSG_CLOEXEC)
    except OSError:
        os._exit(0)
    if not payload:                               # the launcher closed: nothing to do
        os._exit(0)
    flags = int.from_bytes(payload[:_FLAGS], "little")
    plan = pickle.loads(payload[_FLAGS:])
    chan_fd, stdio = fds[0], iter(fds[1:])
    plan = replace(plan, stdio=tuple(next(stdio) if fd >= 0 else -1 for fd in plan.stdio))
    try:
        pid = syscalls.clone(flags | CLONE_PARENT)
    except OSError as exc:
        sock.send(b"E" + f"clone: {exc.strerror}".encode())
        os._exit(0)
    if pid == 0:                                  # the container's first process
        sock.close()
        process.child_main(syscalls, socket.socket(fileno=chan_fd), plan)   # never returns
    sock.send(b"P%d" % pid)
    os._exit(0)
