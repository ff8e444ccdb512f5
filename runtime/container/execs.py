"""`onggi exec`: run another process inside a running container.

The new process must land in everything the container's first process has: its
cgroup, then its namespaces (setns(2) on each /proc/PID/ns/* file, mnt last), and
since setns(CLONE_NEWPID) only affects children, one more fork to actually be in
the container's PID namespace. Then the same last steps as the first process
(process.become): user, capabilities, no_new_privs, execve.

Process tree: this process (P) -> X (joins, forks) -> Y (the command). X waits
for Y and exits with its status, so P gets Y's exit code from X. With a tty, Y
opens a pty inside the container (its own devpts) and passes the master back to P.
"""
from __future__ import annotations

import json
import os
import socket

from .. import errors, events
from ..linux import caps
from . import process

# setns order: mnt last, because after it /proc/PID paths resolve in the container.
_ORDER = ("ipc", "uts", "net", "pid", "cgroup", "mnt")


def exec_in(container, args, *, env=(), workdir=None, user=None, tty=False,
            interactive=False, detach=False, stdio=None) -> int:
    """Run args in the container; the exit code (0 at once with detach).

    stdio: fds to use as the command's 0/1/2 instead of ours (the web terminal
    passes its pty's slave side).
    """
    state = container.require_running()
    rt = container.rt
    r = container.record
    proc = rt.config.proc
    ns_fds = [(os.open(proc / str(state.pid) / "ns" / kind, os.O_RDONLY | os.O_CLOEXEC), kind)
              for kind in _ORDER]
    from .spec import merge_env
    plan = process.InitPlan(
        mounts=None, args=tuple(args), env=tuple(merge_env(r.process.env, env)),
        cwd=workdir or r.process.cwd, user=user if user is not None else r.process.user,
        hostname=None, capabilities=caps.mask(caps.DOCKER_DEFAULT), tty=tty,
        stdio=tuple(stdio) if stdio else (0, 1, 2))
    cgroup = rt.cgroups.get(r.id)
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    x = os.fork()
    if x == 0:
        ours.close()
        _joiner(rt.syscalls, cgroup, ns_fds, plan, theirs, detach, interactive)   # never returns
    theirs.close()
    for fd, _ in ns_fds:
        os.close(fd)
    try:
        return _supervise(container, ours, x, plan, detach)
    finally:
        ours.close()


def _joiner(syscalls, cgroup, ns_fds, plan, chan, detach, interactive) -> None:
    code = 125
    try:
        cgroup.add(os.getpid())            # before cgroupns, so our cgroup root is theirs
        for fd, _kind in ns_fds:
            syscalls.setns(fd, 0)
        y = os.fork()
        if y == 0:
            _command(syscalls, plan, chan, detach, interactive)          # never returns
        chan.sendall(f"pid {y}\n".encode())
        if detach:
            code = 0
            return
        _, status = os.waitpid(y, 0)
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code
    except BaseException as exc:       # noqa: BLE001
        _send(chan, exc)
    finally:
        os._exit(code & 0xFF)


def _command(syscalls, plan, chan, detach, interactive) -> None:
    code = 125
    try:
        if plan.tty:
            master = process.open_container_pty()
            socket.send_fds(chan, [b"pty\n"], [master])
            os.close(master)
        elif detach:
            null = os.open(os.devnull, os.O_RDWR)
            plan = _with_stdio(plan, (null, null, null))
        elif not interactive:
            null = os.open(os.devnull, os.O_RDONLY)
            plan = _with_stdio(plan, (null, plan.stdio[1], plan.stdio[2]))
        if detach:
            os.setsid()
        process.become(syscalls, plan)
    except BaseException as exc:       # noqa: BLE001
        code = getattr(exc, "exit_code", 125)
        _send(chan, exc)
    finally:
        os._exit(code & 0xFF)


def _with_stdio(plan, fds):
    from dataclasses import replace
    return replace(plan, stdio=fds)


def _send(chan, exc: BaseException) -> None:
    if isinstance(exc, errors.OnggiError):
        payload = errors.to_wire(exc)
    elif isinstance(exc, OSError):
        payload = {"type": "OnggiError", "message": f"exec failed: {exc.strerror or exc}"
                   + (f" {exc.filename}" if exc.filename else ""), "hint": ""}
    else:
        payload = {"type": "OnggiError", "message": f"exec failed: {exc}", "hint": ""}
    try:
        chan.sendall(b"err " + json.dumps(payload).encode() + b"\n")
    except OSError:
        pass


def _supervise(container, chan, x: int, plan, detach: bool) -> int:
    master = None
    lines: list[bytes] = []
    buf = b""
    error = None
    pid = 0
    # Read the joiner's messages: "pid N", maybe "pty" (with the master fd), or "err {...}".
    while True:
        data, fds, _, _ = socket.recv_fds(chan, 65536, 1)
        for fd in fds:
            master = fd
        if not data:
            break
        buf += data
        *done, buf = buf.split(b"\n")
        lines += done
        if any(line.startswith(b"err ") for line in lines):
            break
        if any(line.startswith(b"pid ") for line in lines) and (not plan.tty or master is not None):
            break
    for line in lines:
        if line.startswith(b"pid "):
            pid = int(line[4:])
        elif line.startswith(b"err "):
            p = json.loads(line[4:])
            error = errors.rebuild(p["type"], p["message"], p.get("hint"))
    if pid:
        container.rt.publisher.publish(events.ContainerExecStarted(
            id=container.id, cmd=tuple(plan.args), pid=pid))
    if master is not None and error is None:
        _pump_tty(master, plan.stdio, x)
    _, status = os.waitpid(x, 0)
    code = os.waitstatus_to_exitcode(status)
    # The command may still fail after "pid": its error arrives before the socket closes.
    rest = b""
    try:
        chan.setblocking(False)
        rest = chan.recv(65536)
    except (BlockingIOError, OSError):
        pass
    for line in (buf + rest).split(b"\n"):
        if line.startswith(b"err ") and error is None:
            p = json.loads(line[4:])
            error = errors.rebuild(p["type"], p["message"], p.get("hint"))
    if error is not None:
        raise error
    return 0 if detach else (128 - code if code < 0 else code)


def _pump_tty(master: int, stdio, x: int) -> None:
    """Copy our terminal <-> the container's pty until the command ends."""
    import select
    import signal
    from .monitor import _copy_winsize
    src, dst = stdio[0], stdio[1]
    if os.isatty(src):
        _copy_winsize(src, master)
        old = signal.signal(signal.SIGWINCH, lambda *_: _copy_winsize(src, master))
    else:
        old = None
    from .stdio import raw_mode
    try:
        with raw_mode(os.isatty(src), src):
            inputs = [master, src]
            while master in inputs:
                ready, _, _ = select.select(inputs, [], [])
                if master in ready:
                    try:
                        data = os.read(master, 65536)
                    except OSError:
                        data = b""
                    if not data:
                        break
                    os.write(dst, data)
                if src in ready:
                    data = os.read(src, 65536)
                    if not data:
                        inputs.remove(src)
                    else:
                        os.write(master, data)
    finally:
        os.close(master)
        if old is not None:
            signal.signal(signal.SIGWINCH, old)
