"""Both sides of the container's first process: the parent's handle and the child's code.

After ``clone()``, the child runs :func:`child_main`: it never returns into the
caller's stack, it either execs the user's command or exits. It does nothing on
its own: it waits on its channel (a Unix socketpair) for the parent to say what
to do next, one launch step at a time, and answers each command with ``ok`` or an
error. That is what lets a launch pause between steps.

Commands (parent -> child), one per line::

    cgroupns   unshare(CLONE_NEWCGROUP), after the parent put us in our cgroup
    lo         bring the loopback interface up
    mounts     rootfs/mounts.setup: /proc, /sys, /dev, pivot_root, masked paths
               (with a tty, the pty is made inside the container's devpts now and
               its master is passed back over the channel with SCM_RIGHTS)
    exec       hostname, user, capabilities, no_new_privs, execve

Answers (child -> parent): ``ok`` or ``err {"type": ..., "message": ...}``. A
successful execve closes the child's end of the channel (it is close-on-exec), so
the parent sees EOF: that is how it knows the user's command is running.
"""
from __future__ import annotations

# Everything the child uses is imported here, at the top: after pivot_root the
# host's filesystem (and so Python's import path) is gone.
import errno
import fcntl
import json
import os
import signal
import socket
import stat
import termios
from dataclasses import dataclass

from .. import errors
from ..linux import caps as caps_mod
from ..linux import syscalls as sc
from ..rootfs import mounts
from . import users

# <asm-generic/ioctls.h>; Python's termios module does not export these two.
TIOCSPTLCK = 0x40045431      # unlockpt()
TIOCGPTN = 0x80045430        # ptsname(): which /dev/pts/N belongs to this master


@dataclass(frozen=True)
class InitPlan:
    """Everything the child needs, decided by the parent before clone().

    An exec into a running container uses the same plan with no mounts and no
    hostname: it joins what the first process made.
    """
    mounts: mounts.MountPlan | None
    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    user: str
    hostname: str | None
    capabilities: int
    tty: bool = False
    stdio: tuple[int, int, int] = (-1, -1, -1)   # fds to become 0, 1, 2 (not with tty)


# --- the child ---------------------------------------------------------------------

def child_main(syscalls, chan: socket.socket, plan: InitPlan) -> None:
    """The body of the cloned child. Never returns."""
    code = 125
    try:
        syscalls.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)
        os.umask(0o022)
        reader = chan.makefile("rb", buffering=0)
        while True:
            line = reader.readline()
            if not line:           # the parent is gone: nothing to do but leave
                code = 1
                return
            cmd = line.decode().strip()
            try:
                if cmd == "cgroupns":
                    syscalls.unshare(sc.CLONE_NEWCGROUP)
                elif cmd == "lo":
                    syscalls.set_link_up("lo")
                elif cmd == "mounts":
                    mounts.setup(syscalls, plan.mounts)
                    if plan.tty:
                        master = open_container_pty()
                        socket.send_fds(chan, [b"ok\n"], [master])
                        os.close(master)
                        continue
                elif cmd == "exec":
                    become(syscalls, plan)    # returns only if execve itself failed
                else:
                    raise RuntimeError(f"unknown command {cmd!r}")
                chan.sendall(b"ok\n")
            except Exception as exc:          # noqa: BLE001 - everything goes to the parent
                code = getattr(exc, "exit_code", 125)
                _send_error(chan, exc)
                return
    finally:
        os._exit(code)


def _send_error(chan, exc: Exception) -> None:
    if isinstance(exc, errors.OnggiError):
        payload = errors.to_wire(exc)
    elif isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        payload = {"type": "OSError", "message": f"{exc.strerror or exc}{where}", "errno": exc.errno}
    else:
        payload = {"type": type(exc).__name__, "message": str(exc)}
    try:
        chan.sendall(b"err " + json.dumps(payload).encode() + b"\n")
    except OSError:
        pass


def open_container_pty() -> int:
    """Open a pty in the container's own devpts and make it our controlling tty.

    As runc does: the terminal lives inside the container (``tty`` prints
    /dev/pts/0), and only the master end goes back to the host.
    """
    master = os.open("/dev/ptmx", os.O_RDWR | os.O_NOCTTY)
    fcntl.ioctl(master, TIOCSPTLCK, b"\0\0\0\0")
    ptn = int.from_bytes(fcntl.ioctl(master, TIOCGPTN, b"\0\0\0\0"), "little")
    os.setsid()
    slave = os.open(f"/dev/pts/{ptn}", os.O_RDWR)
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    if slave > 2:
        os.close(slave)
    return master


def lookup(cmd: str, env: tuple[str, ...], cwd: str = "/") -> str:
    """Find cmd as execve will (inside the container): PATH search unless it has a '/'.

    A relative path with a slash (``bin/app.sh``) is relative to the working
    directory, as runc resolves it.
    """
    if "/" in cmd:
        candidates = [os.path.join(cwd, cmd)]
    else:
        path = next((e[5:] for e in env if e.startswith("PATH=")), "")
        candidates = [os.path.join(d or ".", cmd) for d in path.split(":")]
    for cand in candidates:
        try:
            mode = os.stat(cand).st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode) or not mode & 0o111:
            raise errors.CommandNotExecutable(f'exec: "{cmd}": permission denied')
        return cand
    if "/" in cmd:
        raise errors.CommandNotFound(f'exec: "{cmd}": stat {cmd}: no such file or directory')
    raise errors.CommandNotFound(f'exec: "{cmd}": executable file not found in $PATH')


def become(syscalls, plan: InitPlan) -> None:
    """Turn this process into the user's command: user, capabilities, no_new_privs, execve."""
    if plan.hostname is not None:
        syscalls.sethostname(plan.hostname)
    user = users.resolve(plan.user)
    env = list(plan.env)
    if not any(e.startswith("HOME=") for e in env):
        env.append(f"HOME={user.home}")
    cwd = plan.cwd or "/"
    try:
        os.makedirs(cwd, exist_ok=True)         # runc creates a missing working dir
    except OSError as exc:
        raise _bad_workdir(cwd, exc) from None
    path = lookup(plan.args[0], tuple(env), cwd)
    # Capabilities: shrink the bounding set first (needs CAP_SETPCAP, which a
    # setuid to non-root would take away), then change user, then set the rest.
    keep = plan.capabilities
    for cap in range(caps_mod.last_cap() + 1):
        if not keep >> cap & 1:
            syscalls.prctl(sc.PR_CAPBSET_DROP, cap)
    syscalls.setgroups(list(user.groups))
    syscalls.setresgid(user.gid, user.gid, user.gid)
    syscalls.setresuid(user.uid, user.uid, user.uid)
    if user.uid == 0:
        syscalls.capset(keep, keep, 0)
    syscalls.prctl(sc.PR_CAP_AMBIENT, sc.PR_CAP_AMBIENT_CLEAR_ALL)
    syscalls.prctl(sc.PR_SET_NO_NEW_PRIVS, 1)
    try:
        os.chdir(cwd)                           # as the user: their permissions apply
    except OSError as exc:
        raise _bad_workdir(cwd, exc) from None
    if not plan.tty:
        for target, fd in enumerate(plan.stdio):
            if fd >= 0 and fd != target:
                os.dup2(fd, target)
    # An ignored signal stays ignored across execve, and a POSIX shell cannot even
    # trap one that was ignored when it started. Python ignores SIGPIPE and SIGXFSZ
    # and the monitor ignores SIGINT and SIGHUP: hand the command every signal at
    # its default, unblocked, as runc does.
    for sig in signal.valid_signals():
        if sig not in (signal.SIGKILL, signal.SIGSTOP):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass          # signals reserved by libc (32, 33)
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    _close_on_exec_from(3)
    try:
        syscalls.execve(path, list(plan.args), dict(e.partition("=")[::2] for e in env))
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.ENOEXEC, errno.EISDIR):
            raise errors.CommandNotExecutable(f'exec: "{plan.args[0]}": {exc.strerror.lower()}') from None
        if exc.errno == errno.ENOENT:
            raise errors.CommandNotFound(f'exec: "{plan.args[0]}": no such file or directory') from None
        raise


def _bad_workdir(cwd: str, exc: OSError) -> errors.OnggiError:
    # Raw, the OSError reads "File exists /etc/passwd": say it is the -w directory.
    why = "not a directory" if exc.errno in (errno.EEXIST, errno.ENOTDIR) else (exc.strerror or str(exc)).lower()
    return errors.InvalidArgument(f"cannot use working directory {cwd}: {why}",
                                  hint="give -w a directory in the container")


def _close_on_exec_from(first: int) -> None:
    """Mark every fd from FIRST up close-on-exec, as runc does before execve: only
    0, 1 and 2 reach the command, whatever fds the process that started onggi
    left open (a shell's, an IDE's). Marked, not closed: the channel must stay
    open to report an execve that fails. /proc/self/fd is the container's own
    procfs by now, which shows this process like any other."""
    try:
        fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:
        return
    for fd in fds:
        if fd >= first:
            try:
                os.set_inheritable(fd, False)
            except OSError:
                pass          # the listing's own directory fd, closed by now


# --- the parent's handle --------------------------------------------------------------

class ChildError(Exception):
    """The child reported a failure; .error is the OnggiError to raise."""


class Child:
    """The parent's side: send a command, wait for the answer."""

    def __init__(self, pid: int, chan: socket.socket):
        self.pid = pid
        self.chan = chan
        self._buf = b""
        self.pty_master: int | None = None

    def command(self, cmd: str) -> None:
        self.chan.sendall(cmd.encode() + b"\n")
        if cmd == "exec":
            line = self._readline()
            if line:            # anything but EOF means execve never happened
                raise _to_error(line)
            return
        fds: list[int] = []
        line = self._readline(fds)
        for fd in fds:
            self.pty_master = fd
        if line != b"ok":
            raise _to_error(line)

    def _readline(self, fds: list[int] | None = None) -> bytes:
        while b"\n" not in self._buf:
            if fds is not None:
                data, got, _flags, _addr = socket.recv_fds(self.chan, 65536, 1)
                fds.extend(got)
            else:
                data = self.chan.recv(65536)
            if not data:
                rest, self._buf = self._buf, b""
                return rest
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line


def _to_error(line: bytes) -> errors.OnggiError:
    if not line:
        return errors.OnggiError("container init: exited before answering")
    payload = json.loads(line[4:]) if line.startswith(b"err ") else {"message": line.decode()}
    if payload.get("type") in (None, "OSError") or not hasattr(errors, payload.get("type", "")):
        return errors.OnggiError(f"container init: {payload.get('message')}")
    return errors.rebuild(payload["type"], payload["message"], payload.get("hint"))
