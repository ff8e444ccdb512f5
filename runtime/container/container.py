"""A container and its verbs: create, start, kill, stop, wait, remove, logs, top, stats,
inspect, diff, commit (exec is in execs.py). One method per verb, Docker's names.

Verbs that change state take the container's lock and ask the state machine
(state.py) first; a forbidden move raises InvalidTransition before anything is
touched.
"""
from __future__ import annotations

import fcntl
import os
import signal
import socket
import threading
import time
from datetime import datetime, timezone

from .. import events
from ..errors import (Conflict, ContainerNotRunning, ContainerRunning, InvalidArgument,
                      InvalidTransition, NotFound, OnggiError)
from .control import Channel, MonitorHandle
from .record import Record
from .spec import ContainerSpec, resolve_process, to_oci
from .state import State, Status

HOSTS = ("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
         "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
         "ff02::2\tip6-allrouters\n")


def create(rt, spec: ContainerSpec) -> "Container":
    """Resolve the image, write the container's files, publish container.created."""
    image = rt.image(spec.image)
    layers = [str(p) for p in rt.images.layer_dirs(image)]
    cid = rt.containers.new_id()
    spec = _joined_hostname(rt, spec)
    process = resolve_process(spec, image.config, cid, rt.host_hostname())
    limits = rt.limits_for(spec)                 # validates before anything is written
    if spec.network not in ("none", "host"):
        rt.networks.validate(spec)
    oci = to_oci(spec, process, namespaces=_namespaces(spec),
                 cgroup_path=f"/{rt.config.cgroup_parent}/{cid}",
                 limits={"memory": limits.memory, "cpu_quota": limits.cpu_quota,
                         "cpu_period": limits.cpu_period, "pids": limits.pids},
                 capabilities=["CAP_" + c for c in _default_caps()],
                 mounts=[{"destination": v.target, "type": "bind", "source": v.source,
                          "options": ["rbind", "ro" if v.readonly else "rw"]} for v in spec.volumes],
                 annotations={"org.onggi.image": spec.image, "org.onggi.name": spec.name or ""})
    if spec.network.startswith("container:"):
        _point_netns_at(rt, oci, spec.network.partition(":")[2])
    record = rt.containers.create(
        {"id": cid, "created": _now(), "image": spec.image, "image_id": image.id,
         "spec": spec, "process": process, "layers": layers},
        name=spec.name, oci_config=oci, etc_files=_etc_files(spec, process))
    rt.publisher.publish(events.ContainerCreated(id=cid, name=record.name, image=spec.image))
    return Container(rt, record)


def _namespaces(spec) -> list[str]:
    kinds = ["pid", "mnt", "uts", "ipc", "cgroup"]
    return kinds if spec.network == "host" else kinds + ["net"]


def _joined_hostname(rt, spec: ContainerSpec) -> ContainerSpec:
    """Docker: a container that joins another's network (container:NAME) takes its
    host name too, so both answer to the name their shared /etc/hosts gives them."""
    if spec.hostname or not spec.network.startswith("container:"):
        return spec
    try:
        other = rt.container(spec.network.partition(":")[2])
    except NotFound:
        return spec          # validate() reports a missing container
    from dataclasses import replace
    return replace(spec, hostname=other.record.process.hostname)


def _point_netns_at(rt, oci: dict, ref: str) -> None:
    """--network container:NAME joins NAME's network namespace: say which, as runc reads it."""
    try:
        pid = rt.container(ref).state.pid
    except Exception:        # noqa: BLE001 - validate() reports a missing container
        return
    if pid:
        oci["linux"]["namespaces"].append({"type": "network", "path": f"/proc/{pid}/ns/net"})


def _default_caps():
    from ..linux.caps import DOCKER_DEFAULT
    return DOCKER_DEFAULT


def _etc_files(spec, process) -> dict[str, str]:
    if spec.network == "host":
        return {"hostname": process.hostname + "\n", "hosts": _read("/etc/hosts", HOSTS),
                "resolv.conf": _read("/etc/resolv.conf", "")}
    return {"hostname": process.hostname + "\n", "hosts": HOSTS,
            "resolv.conf": _resolv_conf_without_loopback()}


def _read(path: str, default: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return default


def _resolv_conf_without_loopback() -> str:
    # A nameserver on the host's 127.x is unreachable from another network
    # namespace; Docker drops such lines the same way.
    lines = [line for line in _read("/etc/resolv.conf", "").splitlines()
             if not (line.startswith("nameserver") and (" 127." in line or " ::1" in line))]
    return "\n".join(lines) + "\n" if lines else ""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Container:
    def __init__(self, rt, record: Record):
        self.rt = rt
        self.record = record

    id = property(lambda self: self.record.id)
    name = property(lambda self: self.record.name)
    short_id = property(lambda self: self.record.short_id)
    spec = property(lambda self: self.record.spec)

    @property
    def state(self) -> State:
        return self.record.current_state()

    def __repr__(self) -> str:
        return f"<Container {self.short_id} {self.name}>"

    # -- start ---------------------------------------------------------------------
    def start(self, *, attach: bool = False, gate=None, on_report=None) -> MonitorHandle:
        """Start the monitor, which runs the launch; returns once it has begun.

        Call ``wait_started()`` on the handle for the pid (or the launch's error),
        then ``wait_exit()`` when attached. With attach=True the monitor inherits
        this process's fds 0/1/2 and copies the container's output to them.
        ``gate(step, index) -> bool`` pauses before every launch step.
        """
        from . import monitor
        lock_fd = self._lock_for_start()
        try:
            opts = monitor.Options(attach=attach, step=gate is not None, reports=on_report is not None)
            ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            if threading.active_count() == 1:
                pid = self._fork_monitor(monitor, ours, theirs, lock_fd, opts)
            else:
                pid = self._spawn_monitor(theirs, lock_fd, opts)
            theirs.close()
        finally:
            os.close(lock_fd)         # the monitor holds its own copy now
        return MonitorHandle(Channel(ours), pid, gate=gate, on_report=on_report)

    def run_here(self, *, zygote=None, defer=None) -> int:
        """Start attached with *this* process as the container's monitor; the exit code.

        Only for a starter that the user's terminal cannot kill or stop: the warm
        CLI's worker, whose user-facing process is the client (it only passes
        signals on). There, no monitor is forked, and the pages this process
        already owns serve the monitor too. Signals this process gets go to the
        container, as Docker's sig-proxy does. A launch error raises, as from
        ``start().wait_started()``. zygote: a zygote.Zygote of this process, for
        the container's first process to be born in its cgroup (cgroup v1).
        defer(fn): takes work that may wait until the caller has answered its
        user (deleting a --rm container's files); without it, done before return.
        """
        from . import monitor
        lock_fd = self._lock_for_start()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with ours:
            # main() reports on the channel as to any starter; we read it after.
            code = monitor.main(self.rt, self.record, theirs, monitor.Options(attach=True, proxy=True),
                                lock_fd, zygote=zygote, defer=defer)
            theirs.close()
            MonitorHandle(Channel(ours), os.getpid()).wait_started()   # raises the launch's error
        return code

    def _lock_for_start(self) -> int:
        """monitor.lock taken (an fd), once the state machine allows a start."""
        self.rt.check_host()
        lock_fd = self._take_monitor_lock()
        try:
            state = self.record.load_state()
            if state.status is Status.RUNNING:
                state.status = Status.EXITED          # a dead monitor's leftover
            if not state.status.can_start():
                raise InvalidTransition(state.status.value, "start")
        except BaseException:
            os.close(lock_fd)
            raise
        return lock_fd

    def _take_monitor_lock(self) -> int:
        self.record.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.record.monitor_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise InvalidTransition("running", "start") from None
        return fd

    def _fork_monitor(self, monitor, ours, theirs, lock_fd, opts) -> int:
        pid = os.fork()
        if pid == 0:
            code = 125
            try:
                ours.close()
                code = monitor.main(self.rt, self.record, theirs, opts, lock_fd)
            except BaseException as exc:      # noqa: BLE001 - the monitor must never return
                _crash_note(self.record, exc)
            finally:
                os._exit(code & 0xFF)
        return pid

    def _spawn_monitor(self, theirs, lock_fd, opts) -> int:
        import subprocess
        import sys
        os.set_inheritable(lock_fd, True)
        argv = [sys.executable, "-m", "runtime.container.monitor", str(theirs.fileno()),
                str(lock_fd), self.id] + (["--step"] if opts.step else []) + \
            (["--reports"] if opts.reports else [])
        env = dict(os.environ, **self.rt.config.to_env())
        proc = subprocess.Popen(argv, pass_fds=(theirs.fileno(), lock_fd), env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        proc.wait()             # the monitor double-forks: this returns at once
        return proc.pid

    # -- signals ----------------------------------------------------------------------
    def kill(self, sig: int = signal.SIGKILL) -> None:
        state = self.state
        if not state.status.can_kill() or not state.pid:
            raise ContainerNotRunning(f"cannot kill container {self.name}: it is not running")
        try:
            os.kill(state.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (or the image's StopSignal), then SIGKILL after timeout seconds."""
        state = self.state
        if state.status is not Status.RUNNING:
            return
        try:
            self.kill(self._stop_signal())
        except ContainerNotRunning:
            return
        if not self._wait_monitor(timeout):
            try:
                self.kill(signal.SIGKILL)
            except ContainerNotRunning:
                pass
            self._wait_monitor(None)

    def _stop_signal(self) -> int:
        try:
            image = self.rt.images.resolve(self.record.image_id)
            name = (image.config.get("config") or {}).get("StopSignal") or "SIGTERM"
            return parse_signal(name)
        except (OnggiError, LookupError):
            return signal.SIGTERM

    def _wait_monitor(self, timeout: float | None) -> bool:
        """Block until the monitor has exited (its lock is free); False on timeout."""
        try:
            fd = os.open(self.record.monitor_lock, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return True
        try:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_SH)
                return True
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        return False
                    time.sleep(0.02)
        finally:
            os.close(fd)

    def _wait_launch(self, timeout: float) -> State:
        """The state once a launch in progress has started or ended (or timeout passed)."""
        deadline = time.monotonic() + timeout
        state = self.state
        while (state.status is not Status.RUNNING and self.record.monitor_alive()
               and time.monotonic() < deadline):
            time.sleep(0.02)
            state = self.state
        return state

    def wait(self) -> int:
        """Block until the container stops; its exit code (Docker's `wait`)."""
        while self.record.load_state().status is Status.CREATED and not self.record.monitor_alive():
            time.sleep(0.1)
            if not self.record.dir.exists():
                raise InvalidArgument(f"container {self.name} was removed while waiting")
        self._wait_monitor(None)
        state = self.state
        return state.exit_code if state.exit_code is not None else 0

    # -- remove ------------------------------------------------------------------------
    def remove(self, force: bool = False) -> None:
        """Delete the container; with force, kill it first. Cleans whatever a crash left.

        A launch in progress (its monitor alive, the container not yet running, as
        in a step-through paused between steps) owns the files and kernel objects
        it is making: never pull them from under it. With force, wait until it
        has either started (then kill it) or given up (a cancel undoes it all).
        """
        state = self.state
        if state.status is not Status.RUNNING and self.record.monitor_alive():
            if not force:
                raise ContainerRunning(f"cannot remove container {self.name}: it is starting")
            state = self._wait_launch(10.0)
        if state.status is Status.RUNNING:
            if not force:
                raise ContainerRunning(f"cannot remove container {self.name}: it is running")
            try:
                self.kill(signal.SIGKILL)
            except ContainerNotRunning:
                pass
            self._wait_monitor(10.0)
        elif self.record.monitor_alive():
            raise Conflict(f"cannot remove container {self.name}: its launch is paused in a "
                           "step-through", hint="cancel the step-through first")
        with self.rt.containers.lock(self.id):
            if not self.record.dir.exists():      # --rm got there first
                return
            cleanup_kernel_objects(self.rt, self.record)
            self.rt.remove_record(self.record)

    # -- looking inside ----------------------------------------------------------------
    def logs(self, *, follow: bool = False, tail: int | None = None):
        from .stdio import read_log
        until = (lambda: not self.record.monitor_alive()) if follow else None
        return read_log(self.record.log_path, follow_until=until, tail=tail)

    def top(self) -> list[dict]:
        from ..inspect.top import processes
        return processes(self._cgroup().procs(), self.rt.config.proc)

    def stats(self, interval: float = 0.5) -> dict:
        from ..inspect.stats import sample
        return sample(self, interval)

    def inspect(self) -> dict:
        from ..inspect.container import inspect
        return inspect(self)

    def diff(self) -> list[tuple[str, str]]:
        from ..image.changes import changes
        return changes(self.record.upper, self.record.lower_dirs)

    def commit(self, ref: str | None = None, *, changes: dict | None = None,
               comment: str = "", author: str = ""):
        image = self.rt.images.resolve(self.record.image_id)
        created_by = "onggi commit " + " ".join(self.record.process.args)
        return self.rt.images.commit(self.record.upper, image, changes or {}, ref,
                                     created_by=created_by, comment=comment)

    def exec(self, args, **kw):
        from .execs import exec_in
        return exec_in(self, args, **kw)

    def _cgroup(self):
        return self.rt.cgroups.get(self.id)

    def require_running(self) -> State:
        state = self.state
        if state.status is not Status.RUNNING or not state.pid:
            raise ContainerNotRunning(f"container {self.name} is not running")
        return state


def cleanup_kernel_objects(rt, record: Record) -> None:
    """Undo whatever a launch left when its monitor died: processes, cgroup, mount."""
    from ..rootfs import overlay
    try:
        if rt.cgroups.exists(record.id):
            cg = rt.cgroups.get(record.id)
            cg.kill(signal.SIGKILL)
            cg.destroy(timeout=5.0)
    except OSError:
        pass
    overlay.unmount(rt.syscalls, record.merged)


def parse_signal(name: str | int) -> int:
    if isinstance(name, int) or str(name).isdigit():
        return int(name)
    n = str(name).upper()
    n = n if n.startswith("SIG") else "SIG" + n
    try:
        return int(signal.Signals[n])
    except KeyError:
        raise InvalidArgument(f"invalid signal '{name}': use a name like SIGTERM or a number") from None


def _crash_note(record: Record, exc: BaseException) -> None:
    """A monitor bug must leave a trace somewhere a person will look: the state."""
    import traceback
    try:
        state = record.load_state()
        state.error = "monitor crashed: " + "".join(traceback.format_exception_only(exc)).strip()
        record.save_state(state)
        (record.run_dir / "monitor.crash").write_text("".join(traceback.format_exception(exc)))
    except OSError:
        pass
