"""A simulated container and its verbs: the same names and contracts as ``runtime/container/container.py``.

``create`` writes a record into the world; ``start`` walks the six launch steps
(:mod:`.launch`), pausing at a gate like the real monitor does, and leaves the
container "running" with a plan (:mod:`.plan`) of what its first process does.
From then on time does the rest: when the plan says the process exits (or is
OOM-killed), the next look at the world (or the runtime's timer) records the
exit and publishes ``container.oom``/``container.exited`` (and
``container.deleted`` for ``--rm``), in the real order. Signals follow the
kernel's rules for a namespace's PID 1: ignored unless it has a handler (a
shell's ``trap``), except SIGKILL from the host.

``exec`` and the terminal run commands in the tiny shell (:mod:`.shell`) on a
:class:`~runtime.sim.machine.LiveMachine`, which changes the container's
writable layer, its processes and, through signals, its life.
"""
from __future__ import annotations

import os
import secrets
import signal
import time
from dataclasses import replace

from runtime import events
from runtime.container.record import Record
from runtime.container.spec import ContainerSpec, Process, resolve_process
from runtime.container.state import State, Status
from runtime.container.steps import STEPS
from runtime.errors import (Cancelled, ContainerNotFound, ContainerNotRunning, ContainerRunning,
                            InvalidArgument, InvalidTransition, NameInUse, OnggiError)
from runtime.image.digest import Digest

from . import launch
from .cgroups import limits_of
from .fs import FS
from .machine import SIGKILL, LiveMachine
from .plan import Plan, command_line
from .shell.interp import CantFork, ExitShell, Interp, Interrupted, Out, RunsForever, SIGNALS
from .state import next_number

_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
FORCED = (9, 19)          # SIGKILL and SIGSTOP reach a namespace's init from outside, handler or not


# -- records --------------------------------------------------------------------------------

class SimRecord(Record):
    """A :class:`Record` whose state comes from the world, not from state.json."""

    rt = None

    def load_state(self) -> State:
        c = self.rt.snapshot()["containers"].get(self.id)
        return State.from_dict(c["state"]) if c else State(status=Status.REMOVING)

    current_state = load_state

    def save_state(self, state: State) -> None:
        with self.rt.world.edit() as world:
            if self.id in world["containers"]:
                world["containers"][self.id]["state"] = state.to_dict()

    def monitor_alive(self) -> bool:
        return self.load_state().status is Status.RUNNING


def record_of(rt, c: dict) -> SimRecord:
    p = c["process"]
    r = SimRecord(id=c["id"], name=c["name"], created=c["created"], image=c["image"], image_id=c["image_id"],
                  spec=ContainerSpec.from_dict(c["spec"]),
                  process=Process(args=tuple(p["args"]), env=tuple(p["env"]), cwd=p["cwd"], user=p["user"],
                                  hostname=p["hostname"], tty=p.get("tty", False)),
                  layers=[str(rt.config.layers_dir / h) for h in c["layers"]],
                  dir=rt.config.containers_dir / c["id"], run_dir=rt.config.run_containers_dir / c["id"])
    r.rt = rt
    return r


class SimContainerStore:
    """``rt.containers`` in simulated mode: find, list and forget records (ContainerStore's verbs)."""

    def __init__(self, rt):
        self.rt = rt
        self.config = rt.config

    @staticmethod
    def new_id() -> str:
        return secrets.token_hex(32)

    def load(self, cid: str) -> SimRecord:
        c = self.rt.snapshot()["containers"].get(cid)
        if c is None:
            raise ContainerNotFound(f"no such container: {cid}")
        return record_of(self.rt, c)

    def get(self, ref: str) -> SimRecord:
        """By name, full id, or a unique id prefix (Docker's rules)."""
        if not ref:
            raise InvalidArgument("a container name or id is required")
        ref = ref.lstrip("/")
        containers = self.rt.snapshot()["containers"]
        by_name = [c for c in containers.values() if c["name"] == ref]
        if by_name:
            return record_of(self.rt, by_name[0])
        if ref in containers:
            return record_of(self.rt, containers[ref])
        matches = [i for i in containers if i.startswith(ref)] if all(ch in "0123456789abcdef" for ch in ref) else []
        if len(matches) == 1:
            return record_of(self.rt, containers[matches[0]])
        if len(matches) > 1:
            raise InvalidArgument(f"multiple containers match '{ref}': use more of the id")
        raise ContainerNotFound(f"no such container: {ref}")

    def ids(self) -> list[str]:
        return list(self.rt.snapshot()["containers"])

    def list(self) -> list[SimRecord]:
        out = [record_of(self.rt, c) for c in self.rt.snapshot()["containers"].values()]
        out.sort(key=lambda r: r.created, reverse=True)
        return out

    def remove(self, record) -> None:
        with self.rt.world.edit() as world:
            world["containers"].pop(record.id, None)

    def lock(self, cid: str):
        from contextlib import nullcontext
        return nullcontext()           # every change goes through the world's own lock


# -- create ---------------------------------------------------------------------------------

def create(rt, spec: ContainerSpec) -> "SimContainer":
    """Resolve the image, write the record, publish container.created (as the real create)."""
    image = rt.image(spec.image)
    rt.images.layer_dirs(image)
    cid = rt.containers.new_id()
    process = resolve_process(spec, image.config, cid, rt.host_hostname())
    rt.limits_for(spec)                                   # validates before anything is written
    if spec.network not in ("none", "host"):
        rt.networks.validate(spec)
    name = spec.name
    if name is not None and (not set(name) <= _NAME_OK or not name[:1].isalnum()):
        raise InvalidArgument(f"invalid container name '{name}': use letters, digits, _ . -, "
                              "starting with a letter or digit")
    with rt.world.edit() as world:
        taken = {c["name"]: c["id"] for c in world["containers"].values()}
        if name is None:
            from runtime.container.names import random_name
            name = next((n for n in (random_name() for _ in range(20)) if n not in taken),
                        random_name() + "_" + secrets.token_hex(2))
        if name in taken:
            raise NameInUse(f'the container name "/{name}" is already in use by container "{taken[name][:12]}"')
        world["containers"][cid] = {
            "id": cid, "name": name, "created": launch.iso(time.time()), "image": spec.image,
            "image_id": image.id, "spec": spec.to_dict(),
            "process": {"args": list(process.args), "env": list(process.env), "cwd": process.cwd,
                        "user": process.user, "hostname": process.hostname, "tty": process.tty},
            "layers": [Digest.parse(d).hex for d in image.diff_ids],
            "networks": [spec.network], "state": State().to_dict(), "launch": [], "procs": [], "ns": {},
            "pid": 0, "upper": {}, "log": []}
    rt.publisher.publish(events.ContainerCreated(id=cid, name=name, image=spec.image))
    return SimContainer(rt, rt.containers.load(cid))


# -- time passing ------------------------------------------------------------------------------

def _ending(world: dict) -> list[dict]:
    """Running containers whose plan ends by itself (not one still finishing its launch:
    its container.started comes first)."""
    return [c for c in world["containers"].values() if c["state"]["status"] == "running"
            and not c.get("launching") and c.get("plan") and c["plan"].get("ends") is not None]


def _moments(world: dict) -> list[tuple[float, str, dict]]:
    """What the running containers' plans say happens next: (unix time, "oom" or "exit", record)."""
    out = []
    for c in _ending(world):
        plan = c["plan"]
        if plan.get("oom_at") is not None and not c.get("oom_told"):
            out.append((c["started"] + plan["oom_at"], "oom", c))
        out.append((c["started"] + plan["ends"], "exit", c))
    return out


def due(world: dict) -> float | None:
    """When the next running container's plan says something happens (unix time), or None."""
    times = [t for t, _, _ in _moments(world)]
    return min(times) if times else None


def advance(rt, world: dict, now: float) -> None:
    """Record every OOM kill and exit that is due by NOW (in the order they happened)."""
    while True:
        moments = [m for m in _moments(world) if m[0] <= now]
        if not moments:
            return
        at, what, c = min(moments, key=lambda m: (m[0], m[1] == "exit"))
        if what == "oom":
            # The kill is counted in the cgroup (memory.events oom_kill: the gauge turns red)
            # and announced while the cgroup is still there to be drawn; the exit follows.
            c["oom_told"] = True
            rt.publisher.publish(_oom_event(c))
        else:
            exit_container(rt, world, c, c["plan"]["code"], c["plan"].get("oom", False), at)


def _oom_event(c: dict) -> events.ContainerOOM:
    """container.oom as the monitor says it: the memory reached the limit, one process killed."""
    limit = limits_of(c["spec"]).memory or 0
    return events.ContainerOOM(id=c["id"], name=c["name"], memory_peak=limit, memory_max=limit, oom_kills=1)


def exit_container(rt, world: dict, c: dict, code: int, oom: bool, at: float) -> None:
    """PID 1 ended (code, OOM kill) at AT: tear down what the launch made, as the monitor does."""
    c["log"] = [e for e in c.get("log", []) if e[0] <= at]
    told = c.pop("oom_told", False)            # its container.oom went out at the kill
    if oom:
        c["oom_kills"] = c.get("oom_kills", 0) + 1
        if not told:
            rt.publisher.publish(_oom_event(c))
    launch.undo(rt, world, c)
    c["plan"] = None
    c["state"].update(status="exited", exit_code=code, oom_killed=oom, finished_at=launch.iso(at), pid=0,
                      monitor_pid=0)
    rt.publisher.publish(events.ContainerExited(id=c["id"], exit_code=code, oom_killed=oom))
    if c["spec"].get("auto_remove"):
        del world["containers"][c["id"]]
        rt.publisher.publish(events.ContainerDeleted(id=c["id"], name=c["name"]))


# -- starting ------------------------------------------------------------------------------------

class SimHandle:
    """The starter's view of a simulated launch (MonitorHandle's interface)."""

    def __init__(self, container: "SimContainer", gate, on_report):
        self.container = container
        self.gate = gate
        self.on_report = on_report
        self.pid: int | None = None
        self.monitor_pid = 0
        self._ran = False

    def run(self) -> None:
        """Walk the six steps (asking the gate before each); undo everything on failure or cancel."""
        self._ran = True
        rt, cid = self.container.rt, self.container.id
        try:
            for index, st in enumerate(STEPS):
                if self.gate is not None:
                    rt.publisher.publish(events.ContainerStep(id=cid, step=st.name, index=index + 1,
                                                              total=len(STEPS), phase="before"))
                    if not self.gate(st, index):
                        raise Cancelled(f"launch of {self.container.name} cancelled before step "
                                        f"'{st.name}'; everything made so far was removed")
                with rt.world.edit() as world:
                    c = world["containers"][cid]
                    report = launch.step(rt, world, c, st.name)
                    rt.publisher.publish(events.ContainerStep(id=cid, step=st.name, index=index + 1,
                                                              total=len(STEPS), phase="after", report=report))
                if self.on_report is not None:
                    self.on_report(st, index, report)
        except BaseException as exc:
            self._fail(exc)
            raise
        with rt.world.edit() as world:
            c = world["containers"][cid]
            c["launching"] = False
            self.pid = c["pid"]
            rt.publisher.publish(events.ContainerStarted(id=cid, name=c["name"], pid=c["pid"]))
        rt.wake()

    def _fail(self, exc: BaseException) -> None:
        rt, cid = self.container.rt, self.container.id
        with rt.world.edit() as world:
            c = world["containers"].get(cid)
            if c is None:
                return
            launch.undo(rt, world, c)
            c["launching"] = False
            if isinstance(exc, OnggiError) and not isinstance(exc, Cancelled):
                c["state"]["error"] = exc.one_line()
                if exc.exit_code in (126, 127):
                    c["state"]["exit_code"] = exc.exit_code
                if c["spec"].get("auto_remove"):
                    del world["containers"][cid]
                    rt.publisher.publish(events.ContainerDeleted(id=cid, name=c["name"]))

    def wait_started(self) -> int:
        if not self._ran:
            self.run()
        return self.pid

    def wait_exit(self) -> tuple[int, bool]:
        state = self.container.wait_state()
        return (state.exit_code if state.exit_code is not None else 0), state.oom_killed

    def close(self) -> None:
        pass


# -- the container ------------------------------------------------------------------------------

class SimContainer:
    def __init__(self, rt, record: SimRecord):
        self.rt = rt
        self.record = record

    id = property(lambda self: self.record.id)
    name = property(lambda self: self.record.name)
    short_id = property(lambda self: self.record.short_id)
    spec = property(lambda self: self.record.spec)

    def __repr__(self) -> str:
        return f"<SimContainer {self.short_id} {self.name}>"

    @property
    def state(self) -> State:
        return self.record.current_state()

    def _c(self, world: dict | None = None) -> dict:
        c = (world or self.rt.snapshot())["containers"].get(self.id)
        if c is None:
            raise ContainerNotFound(f"no such container: {self.name}")
        return c

    def _record_now(self) -> dict:
        return self._c()

    def is_running(self) -> bool:
        return self.state.status is Status.RUNNING

    def require_running(self) -> State:
        state = self.state
        if state.status is not Status.RUNNING:
            raise ContainerNotRunning(f"container {self.name} is not running")
        return state

    # -- start -------------------------------------------------------------------------------
    def start(self, *, attach: bool = False, gate=None, on_report=None) -> SimHandle:
        """Begin the launch; without a gate it runs at once, with one it runs in wait_started()."""
        with self.rt.world.edit() as world:
            c = self._c(world)
            status = Status(c["state"]["status"])
            if status is Status.RUNNING or c.get("launching"):
                raise InvalidTransition("running", "start")
            if not status.can_start():
                raise InvalidTransition(status.value, "start")
            c["launching"] = True
        handle = SimHandle(self, gate, on_report)
        if gate is None:
            handle.run()
        return handle

    # -- signals -------------------------------------------------------------------------------
    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send SIG to PID 1 from the host: SIGKILL always ends it; others need a handler."""
        if self.state.status is not Status.RUNNING:
            raise ContainerNotRunning(f"cannot kill container {self.name}: it is not running")
        self._deliver(int(sig), from_host=True)

    def _deliver(self, sig: int, *, from_host: bool) -> None:
        with self.rt.world.edit() as world:
            c = self._c(world)
            if c["state"]["status"] != "running":
                return
            if sig in FORCED and from_host:
                if sig == SIGKILL:
                    exit_container(self.rt, world, c, 128 + sig, False, time.time())
                return
            plan = Plan.from_dict(c.get("plan") or {})
            name = next((k for k, v in SIGNALS.items() if v == sig), str(sig))
            script = plan.traps.get(name) if plan.shell else None
        if script is not None:
            self._run_trap(script, plan)

    def _run_trap(self, script: str, plan: Plan) -> None:
        """PID 1's handler runs: its output goes to the log; an ``exit`` in it ends the container."""
        world = self.rt.snapshot()
        c = self._c(world)
        fs = self.rt.truth.container_fs(c, world)
        machine = LiveMachine(self, world, c, fs, current=(1, c["procs"][0]["cmd"] if c["procs"] else "sh"),
                              deadline=time.monotonic() + 5)
        sh = Interp(machine, plan.vars, cwd=plan.cwd, pid=1)
        lines: list = []
        out = Out(sink=lambda fd, t: lines.append([time.time(), "stdout" if fd == 1 else "stderr", t]))
        code = None
        try:
            sh.run(script, out)
            code = sh.status if sh.exited else None
        except (RunsForever, Interrupted):
            pass
        with self.rt.world.edit() as world:
            c = self._c(world)
            c["upper"] = fs.upper
            c.setdefault("log", []).extend(lines)
            if code is not None and c["state"]["status"] == "running":
                exit_container(self.rt, world, c, code, False, time.time())

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (or the image's StopSignal), then SIGKILL after timeout seconds."""
        if self.state.status is not Status.RUNNING:
            return
        self._deliver(self._stop_signal(), from_host=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.state.status is not Status.RUNNING:
                return
            time.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        if self.state.status is Status.RUNNING:
            self._deliver(SIGKILL, from_host=True)

    def _stop_signal(self) -> int:
        from runtime.container.container import parse_signal
        try:
            image = self.rt.images.resolve(self.record.image_id)
            return parse_signal((image.config.get("config") or {}).get("StopSignal") or "SIGTERM")
        except (OnggiError, LookupError):
            return signal.SIGTERM

    def wait_state(self) -> State:
        while True:
            c = self.rt.snapshot()["containers"].get(self.id)
            if c is None:
                raise InvalidArgument(f"container {self.name} was removed while waiting")
            if c["state"]["status"] == "exited" and not c.get("launching"):
                return State.from_dict(c["state"])
            self.rt.wake()
            time.sleep(0.05)

    def wait(self) -> int:
        """Block until the container stops; its exit code (Docker's `wait`)."""
        state = self.wait_state()
        return state.exit_code if state.exit_code is not None else 0

    # -- remove -----------------------------------------------------------------------------------
    def remove(self, force: bool = False) -> None:
        with self.rt.world.edit() as world:
            c = world["containers"].get(self.id)
            if c is None:
                return                                  # --rm got there first
            if c["state"]["status"] == "running" or c.get("launching"):
                if not force:
                    raise ContainerRunning(f"cannot remove container {self.name}: it is running")
                if c["state"]["status"] == "running":
                    exit_container(self.rt, world, c, 137, False, time.time())
                else:
                    launch.undo(self.rt, world, c)
            if self.id in world["containers"]:
                if c.get("net"):
                    self.rt.networks.detach(world, c)
                del world["containers"][self.id]
                self.rt.publisher.publish(events.ContainerDeleted(id=self.id, name=self.name))

    # -- looking inside -----------------------------------------------------------------------------
    def logs(self, *, follow: bool = False, tail: int | None = None):
        """Yield (stream, bytes, time) as the real log reader does; follow until it stops."""
        sent = 0
        while True:
            c = self.rt.snapshot()["containers"].get(self.id)
            if c is None:
                return
            now = time.time()
            entries = [e for e in c.get("log", []) if e[0] <= now]
            shown = entries[sent:]
            if not sent and tail is not None:
                shown = shown[-tail:] if tail > 0 else []
            for t, stream, text in shown:
                yield stream, text.encode(), launch.iso(t)
            sent = len(entries)
            if not follow or c["state"]["status"] != "running":
                return
            time.sleep(0.1)

    def top(self) -> list[dict]:
        c = self._c()
        now = time.time()
        out = []
        for p in c.get("procs", []):
            used = (now - p.get("since", now)) if p.get("kind") == "busy" else 0.0
            out.append({"uid": "root", "pid": p["pid"], "ppid": c["pid"] if p["nspid"] != 1 else c["pid"] - 1,
                        "c": "99" if p.get("kind") == "busy" else "0",
                        "stime": time.strftime("%H:%M", time.localtime(p.get("since", now))), "tty": "?",
                        "time": time.strftime("%H:%M:%S", time.gmtime(used)), "cmd": p["cmd"],
                        "nspid": [p["pid"], p["nspid"]]})
        return out

    def stats(self, interval: float = 0.5) -> dict | None:
        c = self._c()
        if c["state"]["status"] != "running":
            return None
        s = self.rt.truth.cgroup_stats(c)
        usage = s.memory_current or 0
        limit = s.memory_max or self.rt.host["mem_total"]
        rx = tx = 0
        return {"cpu_percent": self.rt.truth.cpu_rate(c) * 100, "memory_usage": usage, "memory_limit": limit,
                "memory_percent": usage / limit * 100 if limit else 0.0, "net_rx": rx, "net_tx": tx,
                "pids": s.pids_current, "pids_max": s.pids_max, "oom_kills": s.oom_kills,
                "cpu_throttled": s.cpu_nr_throttled, "ncpu": self.rt.host["ncpu"], "simulated": True}

    def inspect(self) -> dict:
        """Docker's document (the real builder of it, fed a state that asks no kernel), then
        what the simulated kernel shows: namespaces, the overlay, the cgroup."""
        from runtime.inspect.container import inspect as docker_doc
        state = self.state
        running = state.status is Status.RUNNING
        quiet = _Quiet(self, replace(state, status=Status.EXITED) if running else state)
        doc = docker_doc(quiet)
        doc["State"].update(Status=state.status.value, Running=running, Pid=state.pid if running else 0)
        c = self._c()
        if running:
            host = self.rt.truth.host_ns()
            doc["Namespaces"] = {k: {"Inode": v, "HostInode": host[k], "Isolated": v != host[k]}
                                 for k, v in c["ns"].items()}
            doc["GraphDriver"]["Mounted"] = True
        doc["Cgroup"] = {"Path": f"/{self.rt.config.cgroup_parent}/{self.id}", "Version": "v2",
                         "Exists": "cgroup" in c.get("launch", []),
                         "Files": self.rt.truth.cgroup_files(c) if running else {}}
        doc["Simulated"] = True
        return doc

    def diff(self) -> list[tuple[str, str]]:
        world = self.rt.snapshot()
        return self.rt.truth.container_fs(self._c(world), world).diff()

    def commit(self, ref: str | None = None, *, changes: dict | None = None, comment: str = "",
               author: str = ""):
        """The writable layer becomes a new top layer over the image (``docker commit``)."""
        from runtime.image.manifest import derive_config, now_rfc3339
        c = self._c()
        image = self.rt.images.resolve(c["image_id"])
        history = {"created": now_rfc3339(), "created_by": "onggi commit " + " ".join(c["process"]["args"])}
        if comment:
            history["comment"] = comment
        with self.rt.world.edit() as world:
            diff_id = self.rt.images.put_layer(world, dict(self._c(world)["upper"]))
            config = derive_config(image.config, diff_id, history, changes or {}, author)
            new = self.rt.images.add(world, config, image.diff_ids + [diff_id], ref)
        self.rt.publisher.publish(events.ImageLoaded(id=new.id, name=new.tags[0] if new.tags else "", how="commit"))
        return new

    # -- exec ----------------------------------------------------------------------------------------
    def exec(self, args, *, env=(), workdir=None, user=None, tty=False, interactive=False,
             detach=False, stdio=None, timeout: float | None = None) -> int:
        """Run ARGS in the container (the tiny shell); its output goes to stdio's fds 1 and 2
        (ours by default), as the real exec's does. A command that never ends keeps going until
        TIMEOUT seconds (None: until the container stops), then is killed (137)."""
        fds = tuple(stdio) if stdio else (0, 1, 2)
        stdin = ""
        if interactive and not tty:
            stdin = _read_all(fds[0])
        return self._exec(list(args), env, workdir, stdin, lambda fd, text: os.write(fds[fd], text.encode()),
                          detach=detach, timeout=timeout)

    def exec_output(self, args, *, env=(), workdir=None, stdin: str = "", timeout: float | None = 10.0) -> tuple[int, str]:
        """Run ARGS and return (exit code, what it printed: stdout and stderr in order)."""
        chunks: list[str] = []
        code = self._exec(list(args), env, workdir, stdin, lambda fd, text: chunks.append(text),
                          detach=False, timeout=timeout)
        return code, "".join(chunks)

    def _exec(self, args, env, workdir, stdin, write, *, detach: bool, timeout) -> int:
        if not args:
            raise InvalidArgument("no command specified", hint="give a command, e.g. 'onggi exec NAME sh'")
        self.require_running()
        nspid, host_pid = self._new_process(args)
        self.rt.publisher.publish(events.ContainerExecStarted(id=self.id, cmd=tuple(args), pid=host_pid))
        world = self.rt.snapshot()
        c = self._c(world)
        penv = dict(e.partition("=")[::2] for e in c["process"]["env"])
        penv.update(dict(e.partition("=")[::2] for e in env))
        fs = self.rt.truth.container_fs(c, world)
        deadline = None if timeout is None else time.monotonic() + timeout
        machine = LiveMachine(self, world, c, fs, current=(nspid, command_line(args)), deadline=deadline)
        sh = Interp(machine, penv, cwd=workdir or c["process"]["cwd"], pid=nspid)
        forever = None
        try:
            code = sh.call(args, stdin, write)
        except ExitShell as exc:
            code = exc.code
        except RunsForever as exc:
            forever, code = exc.kind, 137
        except Interrupted:
            code = 137 if not self.is_running() else 130
        finally:
            self._save_upper(fs)
        if forever is not None:
            if detach:
                self._set_process(nspid, forever)
                return 0
            if deadline is None or time.monotonic() < deadline:
                self._set_process(nspid, forever)
                self._wait_until(deadline)
        self._end_process(nspid)
        return 0 if detach else code

    def _wait_until(self, deadline: float | None) -> None:
        while self.is_running() and (deadline is None or time.monotonic() < deadline):
            time.sleep(0.05 if deadline is None else min(0.05, max(deadline - time.monotonic(), 0)))

    def shell(self, argv=("sh",), *, output, on_exit, on_line=None):
        """A terminal session in this container (see :class:`runtime.sim.terminal.ShellSession`):
        ``exec -it NAME ARGV``, or, for a ``run -it`` container whose first process is an
        interactive shell, that shell itself. Call ``open()`` on it."""
        from .terminal import ShellSession
        with self.rt.world.edit() as world:
            c = self._c(world)
            pid1 = bool((c.get("plan") or {}).get("interactive")) and not c.get("attached")
            if pid1:
                c["attached"] = True
        return ShellSession(self, argv, output=output, on_exit=on_exit, pid1=pid1, on_line=on_line)

    def _finish(self, code: int) -> None:
        """The first process ended by itself with CODE (an interactive shell's exit)."""
        with self.rt.world.edit() as world:
            c = world["containers"].get(self.id)
            if c is not None and c["state"]["status"] == "running":
                exit_container(self.rt, world, c, code, False, time.time())

    # -- the machine's hooks: processes, signals, files -------------------------------------------------
    def _new_process(self, args, kind: str = "idle") -> tuple[int, int]:
        """A process appears in the container (pid inside, pid on the host); it counts against pids.max."""
        with self.rt.world.edit() as world:
            c = self._c(world)
            nspid = max([p["nspid"] for p in c["procs"]] + [c.get("last_nspid", 1)]) + 1
            c["last_nspid"] = nspid
            host = next_number(world, "pid")
            c["procs"].append({"pid": host, "nspid": nspid, "cmd": command_line(args), "kind": kind,
                               "since": time.time()})
        return nspid, host

    def _set_process(self, nspid: int, kind: str) -> None:
        with self.rt.world.edit() as world:
            for p in self._c(world).get("procs", []):
                if p["nspid"] == nspid:
                    p["kind"], p["since"] = ("busy" if kind in ("busy", "forks") else "idle"), time.time()

    def _end_process(self, nspid: int) -> None:
        with self.rt.world.edit() as world:
            c = world["containers"].get(self.id)
            if c is not None:
                c["procs"] = [p for p in c.get("procs", []) if p["nspid"] != nspid]

    def _spawn(self, argv, kind: str) -> int:
        self._fork()
        return self._new_process(argv, "busy" if kind in ("busy", "forks") else "idle")[0]

    def _fork(self) -> None:
        """fork() in the container: refused (CantFork) when its pids limit is reached."""
        from runtime.sim.machine import MAX_PROCS
        with self.rt.world.edit() as world:
            c = self._c(world)
            limit = c["spec"].get("pids_limit") or MAX_PROCS
            full = len(c.get("procs", [])) >= min(limit, MAX_PROCS)
            if full:                           # pids.events "max": the kernel counts refused forks
                c["forks_refused"] = c.get("forks_refused", 0) + 1
        if full:
            raise CantFork()

    def _exec_image(self, nspid: int, argv: list[str]) -> None:
        """Process NSPID exec'd ARGV: its command line changes (what ps shows)."""
        with self.rt.world.edit() as world:
            for p in self._c(world).get("procs", []):
                if p["nspid"] == nspid:
                    p["cmd"] = command_line(argv)

    def _listen(self, port: int, home: str) -> None:
        """A web server in the container now serves HOME on PORT (see :mod:`runtime.sim.httpd`)."""
        with self.rt.world.edit() as world:
            c = self._c(world)
            c["listens"] = [lp for lp in c.get("listens", []) if lp[0] != port] + [[port, home]]

    def _signal_inside(self, nspid: int, sig: int) -> str | None:
        """kill(2) from inside the container's pid namespace."""
        c = self._c()
        if nspid == 1:
            # The kernel drops a signal to a namespace's init from inside unless it has a
            # handler; SIGKILL and SIGSTOP are never delivered this way.
            if sig not in FORCED:
                self._deliver(sig, from_host=False)
            return None
        if not any(p["nspid"] == nspid for p in c.get("procs", [])):
            return "No such process"
        if sig != 0:
            self._end_process(nspid)
        return None

    def _save_upper(self, fs: FS) -> None:
        with self.rt.world.edit() as world:
            c = world["containers"].get(self.id)
            if c is not None:
                c["upper"] = fs.upper


class _Quiet:
    """A container as the real ``inspect`` builder sees it, with a state that makes it read
    no /proc (a simulated pid may be a real process on this host)."""

    def __init__(self, container: SimContainer, state: State):
        self.rt, self.record, self.state, self.id = container.rt, container.record, state, container.id


def _read_all(fd: int) -> str:
    chunks = []
    while True:
        data = os.read(fd, 65536)
        if not data:
            return b"".join(chunks).decode(errors="replace")
        chunks.append(data)
