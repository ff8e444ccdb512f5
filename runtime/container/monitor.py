"""The container's monitor: one small process per running container (like conmon).

It runs the launch (container/launch.py), then stays as the container's parent:
it keeps the output in the log, waits for the exit, records the exit code, OOM
kill and finish time, tears down the kernel objects (cgroup, overlay mount,
network), and removes the container when it was started with --rm. It is its own
session leader, so a detached container outlives the CLI that started it, and it
holds ``monitor.lock`` for its whole life so others can tell it is alive and
``onggi wait`` can block on it.

A CLI forks the monitor (cheap: the CLI is single-threaded); a multi-threaded
process such as the web server starts it with ``python -m runtime.container.monitor``
instead, since forking a threaded process is unsafe. A warm CLI worker running an
attached container is the monitor itself (``Container.run_here``): the terminal
cannot kill it, since the user's process is the client, which only passes signals on.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import sys
from dataclasses import dataclass

from .. import errors, events
from .control import Channel
from .launch import Launch, as_error
from .record import Record
from .sigproxy import SignalProxy
from .state import Status
from .stdio import LogWriter, Pump, now_iso


@dataclass(frozen=True)
class Options:
    attach: bool = False      # our fds 0/1/2 are the starter's terminal or pipes
    step: bool = False        # gate every launch step through the channel
    reports: bool = False     # send each step's report through the channel (else events only)
    proxy: bool = False       # we are our own starter (Container.run_here): pass its signals on


def main(runtime, record: Record, ctl: socket.socket, opts: Options, lock_fd: int,
         *, zygote=None, defer=None) -> int:
    """The monitor's body. Returns the container's exit code (for os._exit).

    lock_fd is monitor.lock, already flock()ed by the starter (that is what made
    two concurrent starts of one container impossible); we hold it until we exit.
    zygote: ours (runtime.container.zygote), for the launch, when we have one.
    defer(fn): see Container.run_here; a forked monitor has none (its starter
    has its answer from the channel already) and does everything itself.
    """
    os.setsid()
    if not opts.attach:
        _detach_stdio()
    chan = Channel(ctl)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    proxy = SignalProxy(tty=record.spec.tty, winch=False) if opts.proxy else None
    try:
        if proxy is not None:
            proxy.__enter__()
        return _supervise(runtime, record, chan, opts, proxy, zygote, defer)
    finally:
        if proxy is not None:
            proxy.__exit__()
        os.close(lock_fd)


def _supervise(runtime, record: Record, chan: Channel, opts: Options, proxy, zygote, defer) -> int:
    spec = record.spec
    log = LogWriter(record.log_path)
    stdio, parent_ends, keep_open = _stdio_for(spec, opts)

    def gate(step, index):
        return chan.send(t="before", step=step.name, index=index) and \
            (chan.recv() or {}).get("t") == "go"

    def on_report(step, index, report):
        chan.send(t="report", step=step.name, index=index, report=report)

    launch = Launch(record, syscalls=runtime.syscalls, cgroups=runtime.cgroups,
                    limits=runtime.limits_for(spec), publisher=runtime.publisher,
                    network=runtime.network_for(spec), gate=gate if opts.step else None,
                    on_report=on_report if opts.reports else None, stdio=stdio, proc=runtime.config.proc,
                    zygote=zygote)
    try:
        child = launch.run()
    except BaseException as exc:            # noqa: BLE001 - reported, then we leave
        err = as_error(exc)
        state = record.load_state()
        state.error = err.one_line()
        if isinstance(err, (errors.CommandNotFound, errors.CommandNotExecutable)):
            state.exit_code = err.exit_code
        record.save_state(state)
        chan.send(**{"t": "error", **errors.to_wire(err)})
        if spec.auto_remove:
            runtime.remove_record(record)
        return err.exit_code
    finally:
        for fd in stdio:
            if fd > 2:
                os.close(fd)

    pid = child.pid
    pidfd = os.pidfd_open(pid)
    state = record.load_state()
    state.status, state.pid, state.monitor_pid = Status.RUNNING, pid, os.getpid()
    state.started_at, state.finished_at, state.exit_code = now_iso(), "", None
    state.oom_killed, state.error = False, ""
    record.save_state(state)
    runtime.publisher.publish(events.ContainerStarted(id=record.id, name=record.name, pid=pid))
    chan.send(t="started", pid=pid)

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass
    if proxy is not None:
        proxy.started(pid)
    else:
        signal.signal(signal.SIGTERM, forward)

    pump = Pump(log)
    if child.pty_master is not None:
        master = child.pty_master
        pump.add_source(master, "stdout", 1 if opts.attach else None)
        if opts.attach and spec.interactive:
            pump.forward_stdin(0, master)
        if opts.attach and os.isatty(0):
            _copy_winsize(0, master)
            signal.signal(signal.SIGWINCH, lambda *_: _copy_winsize(0, master))
    else:
        out_r, err_r = parent_ends
        pump.add_source(out_r, "stdout", 1 if opts.attach else None)
        pump.add_source(err_r, "stderr", 2 if opts.attach else None)
    pump.run(pidfd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    code = 128 - code if code < 0 else code
    for fd in keep_open:
        os.close(fd)

    oom = False
    try:
        oom = launch.cgroup.oom_kills() > 0     # one file; the rest only when it is so
        if oom:
            # Said while the cgroup still exists, with what it counted: undo removes it next.
            stats = launch.cgroup.stats()
            runtime.publisher.publish(events.ContainerOOM(
                id=record.id, name=record.name, memory_peak=stats.memory_peak or 0, memory_max=stats.memory_max or 0,
                oom_kills=stats.oom_kills or 0))
    except OSError:
        pass
    launch.undo()                            # network, cgroup, overlay: in reverse
    log.close()
    state = record.load_state()
    state.status, state.exit_code, state.oom_killed = Status.EXITED, code, oom
    state.finished_at, state.pid = now_iso(), 0
    record.save_state(state)
    runtime.publisher.publish(events.ContainerExited(id=record.id, exit_code=code, oom_killed=oom))
    # --rm: the container is gone (renamed into the trash) before we say it
    # exited, but deleting its files need not keep the starter waiting.
    trash = runtime.remove_record(record, purge=False) if spec.auto_remove else None
    chan.send(t="exited", code=code, oom=oom)
    if trash is not None and defer is not None:
        defer(lambda: runtime.containers.purge(trash))
    else:
        runtime.containers.purge(trash)
    return code


def _stdio_for(spec, opts: Options):
    """(fds for the child's 0/1/2, our read ends of its output, fds we keep open)."""
    keep = []
    if spec.tty:                              # the pty is made inside the container
        return (-1, -1, -1), (), keep
    if spec.interactive and opts.attach:
        stdin = os.dup(0)                     # the starter's stdin, directly
    elif spec.interactive:
        stdin, w = os.pipe()                  # -di: stdin stays open, nobody writes
        keep.append(w)
    else:
        stdin = os.open(os.devnull, os.O_RDONLY)
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    return (stdin, out_w, err_w), (out_r, err_r), keep


def _detach_stdio() -> None:
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _copy_winsize(src: int, dst: int) -> None:
    import termios
    try:
        size = fcntl.ioctl(src, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(dst, termios.TIOCSWINSZ, size)
    except OSError:
        pass


def spawn_main(argv: list[str]) -> int:
    """``python -m runtime.container.monitor CTL_FD LOCK_FD ID [--step] [--reports]``.

    Forks once more so that the process which spawned us (a threaded server)
    gets its child back at once and never collects a zombie later.
    """
    from ..core import Runtime
    ctl_fd, lock_fd, cid = int(argv[0]), int(argv[1]), argv[2]
    if os.fork() != 0:
        return 0
    opts = Options(attach=False, step="--step" in argv, reports="--reports" in argv)
    rt = Runtime()
    rt.cgroups.warm_up(rt.config.proc)       # a threaded starter could not do it for us
    record = rt.containers.load(cid)
    return main(rt, record, socket.socket(fileno=ctl_fd), opts, lock_fd)


if __name__ == "__main__":
    os._exit(spawn_main(sys.argv[1:]) & 0xFF)
