"""A launch: the six named steps of DESIGN.md, run in the container's monitor.

Each step does one kernel thing, then reports what the kernel now shows (read
back from /proc and cgroupfs, not from what we asked for) and publishes it as a
``container.step`` event. Before each step an optional *gate* is asked whether
to go on: that is how ``onggi run --step`` and the web's step-through pause.

Whatever a step made is pushed on an undo stack; a failure or a cancel at any
point undoes it all in reverse (kill the child, remove the cgroup, unmount), so
nothing half-made is left behind.
"""
from __future__ import annotations

import errno
import os
import socket
from pathlib import Path
from typing import Callable, Protocol

from .. import events
from ..errors import Cancelled, OnggiError
from ..inspect import mounts as mountinfo
from ..inspect import namespaces as ns_inspect
from ..inspect import procs
from ..linux import caps
from ..linux import syscalls as sc
from ..rootfs import overlay
from ..rootfs.mounts import MountPlan
from . import process
from .record import Record
from .steps import STEPS, Step

Gate = Callable[[Step, int], bool]          # False cancels the launch


class NetworkPlugin(Protocol):
    """What the `network` step asks of a network (bridge, user-defined, container:NAME).

    connect() runs in the monitor after the child is cloned and before its mounts:
    it may rewrite the container's hostname/hosts/resolv.conf files in record.dir
    (they are bind-mounted later), must push an undo action for everything it
    makes onto ``undo`` (run in reverse when the container stops or the launch
    fails), and returns a report of what the kernel now shows (read back).
    A plugin may also have ``netns_path(record) -> str`` (``--network container:NAME``):
    then the child is cloned into that network namespace instead of a new one.
    """

    def connect(self, record: Record, child: "process.Child", undo: list) -> dict: ...


class Launch:
    def __init__(self, record: Record, *, syscalls, cgroups, limits, publisher,
                 network=None, gate: Gate | None = None, on_report=None,
                 stdio: tuple[int, int, int] = (-1, -1, -1), proc: Path = Path("/proc"),
                 zygote=None):
        self.record = record
        self.sys = syscalls
        self.cgroups = cgroups
        self.limits = limits
        self.publisher = publisher
        self.network = network
        self.gate = gate
        self.on_report = on_report
        self.stdio = stdio
        self.proc = proc
        self.zygote = zygote          # a zygote.Zygote waiting in a spare cgroup, or None
        self._via_zygote = False      # this launch adopted the zygote's spare
        self.child: process.Child | None = None
        self.cgroup = None
        self._undo: list[Callable[[], None]] = []

    # -- driver --------------------------------------------------------------------
    def run(self) -> process.Child:
        try:
            for index, step in enumerate(STEPS):
                if self.gate is not None:
                    self._publish(step, index, "before", None)
                    if not self.gate(step, index):
                        raise Cancelled(f"launch of {self.record.name} cancelled before step "
                                        f"'{step.name}'; everything made so far was removed")
                report = getattr(self, f"_step_{step.name}")()
                self._publish(step, index, "after", report)
                if self.on_report is not None:
                    self.on_report(step, index, report)
            return self.child
        except BaseException:
            self.undo()
            raise

    def undo(self) -> None:
        while self._undo:
            action = self._undo.pop()
            try:
                action()
            except OSError:
                pass          # best effort: prune finds what could not be removed now

    def _publish(self, step: Step, index: int, phase: str, report) -> None:
        self.publisher.publish(events.ContainerStep(
            id=self.record.id, step=step.name, index=index + 1, total=len(STEPS),
            phase=phase, report=report))

    # -- the steps -------------------------------------------------------------------
    def _step_rootfs(self) -> dict:
        r = self.record
        data = overlay.mount(self.sys, r.lower_dirs, r.upper, r.work, r.merged)
        self._undo.append(lambda: overlay.unmount(self.sys, r.merged))
        m = mountinfo.find(mountinfo.mountinfo("self", self.proc), str(r.merged))
        opts = m.option_map() if m else {}
        return {"mountpoint": str(r.merged), "fstype": m.fstype if m else None,
                "lowerdir": opts.get("lowerdir", "").split(":") if opts.get("lowerdir") else [],
                "upperdir": opts.get("upperdir"), "workdir": opts.get("workdir"),
                "layers": len(r.layers), "init_layer": str(r.init), "data": data}

    def _step_cgroup(self) -> dict:
        spare = self._adopt_spare()
        cg = spare or self.cgroups.create(self.record.id, self.limits)
        self.cgroup = cg
        self._undo.append(lambda: cg.destroy())
        report = {"path": cg.path, "version": self.cgroups.version,
                  "dirs": {k: str(v) for k, v in cg.dirs().items()}, "files": cg.files()}
        if spare is not None:
            self._undo.append(self.zygote.close)      # before the rmdir: it is still inside
            report["made_by"] = "rename of a spare cgroup"
        return report

    def _adopt_spare(self):
        """The zygote's spare cgroup, renamed to this container's and limited; or
        None to make a new one: no zygote, or one this launch cannot use."""
        z = self.zygote
        if (z is None or not z.serves(self.cgroups)
                or getattr(self.network, "netns_path", None) is not None   # it must clone from there
                or self.limits.pids == 1       # the zygote and the child would be 2 at once
                or not z.ready()):             # (waits for it to be in the spare)
            return None
        try:
            cg = self.cgroups.adopt(z.cgroup, self.record.id, self.limits)
        except OSError:
            return None       # (left as it was) make the cgroup the ordinary way
        z.adopted()
        self._via_zygote = True
        return cg

    def _step_namespaces(self) -> dict:
        # --network container:NAME: no new netns. The plugin names NAME's; we clone
        # while this thread sits in it (setns), so the child is born there.
        join = getattr(self.network, "netns_path", None)
        netns = join(self.record) if join is not None else None
        shared_net = self.record.spec.network == "host" or netns is not None
        kinds = ["pid", "mnt", "uts", "ipc"] + ([] if shared_net else ["net"])
        flags = 0
        for kind in kinds:
            flags |= {"pid": sc.CLONE_NEWPID, "mnt": sc.CLONE_NEWNS, "uts": sc.CLONE_NEWUTS,
                      "ipc": sc.CLONE_NEWIPC, "net": sc.CLONE_NEWNET}[kind]
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        plan = self._init_plan()
        back = self._enter_netns(netns) if netns else None
        try:
            pid, joined_by = self._clone(flags, child_end, plan)
            if pid == 0:                                    # the container's first process
                parent_end.close()
                process.child_main(self.sys, child_end, plan)   # never returns
        finally:
            if back is not None:                            # the monitor goes home
                self.sys.setns(back, sc.CLONE_NEWNET)
                os.close(back)
        child_end.close()
        self.child = process.Child(pid, parent_end)
        self._undo.append(self._kill_child)
        if joined_by == "cgroup.procs":
            self.cgroup.add(pid)
        self.child.command("cgroupns")
        if self._via_zygote:
            self.zygote.close()       # reaped once it has had time to exit, not waited for
        return {"pid": pid, "flags": flags, "namespaces": ns_inspect.compare(pid, self.proc),
                "cgroup": _proc_cgroup(pid, self.proc), "joined_cgroup_by": joined_by}

    def _step_network(self) -> dict:
        if self.network is not None:
            return self.network.connect(self.record, self.child, self._undo)
        if self.record.spec.network == "host":
            return {"mode": "host", "interfaces": _interfaces(self.child.pid, self.proc)}
        self.child.command("lo")
        return {"mode": "none", "interfaces": _interfaces(self.child.pid, self.proc)}

    def _step_mounts(self) -> dict:
        self.child.command("mounts")
        mounts = mountinfo.mountinfo(self.child.pid, self.proc)
        return {"mounts": [m.to_dict() for m in mounts],
                "root": next((m.to_dict() for m in mounts if m.mountpoint == "/"), None)}

    def _step_exec(self) -> dict:
        self.child.command("exec")
        pid = self.child.pid
        report = {"pid": pid, "args": list(self.record.process.args),
                  "hostname": self.record.process.hostname}
        try:
            c = procs.capabilities(pid, self.proc)
            report |= {"cap_effective": caps.names(c["CapEff"]), "cap_bounding": caps.names(c["CapBnd"]),
                       "no_new_privs": bool(c["NoNewPrivs"]), "nspid": procs.nspid(pid, self.proc)}
        except OSError:
            pass          # a command that exits at once (true) leaves nothing to read
        return report

    # -- helpers ------------------------------------------------------------------------
    def _clone(self, flags: int, child_end: socket.socket, plan: process.InitPlan) -> tuple[int, str]:
        """(pid, how it joins its cgroup), pid 0 in the child as for fork(). Born
        in the cgroup where we can: cloned by the zygote waiting in it (v1, the
        spare adopted), or cloned into it (v2, clone3 with CLONE_INTO_CGROUP);
        else cloned plainly, to be moved in with cgroup.add() ("cgroup.procs")."""
        if self._via_zygote:
            pid = self.zygote.clone(flags, child_end, plan)
            if pid is not None:
                return pid, "clone(CLONE_PARENT) by a process already in it"
        target = self.cgroup.clone_target()
        try:
            fd = None if target is None else os.open(target, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            fd = None
        if fd is not None:
            try:
                return self.sys.clone(flags, cgroup_fd=fd), "clone3(CLONE_INTO_CGROUP)"
            except OSError as exc:
                if exc.errno not in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.E2BIG):
                    raise                   # else: no clone3 (Linux < 5.7) or refused: clone and move
            finally:
                os.close(fd)
        return self.sys.clone(flags), "cgroup.procs"

    def _init_plan(self) -> process.InitPlan:
        r = self.record
        files = tuple((str(r.dir / name), target) for name, target in
                      (("hostname", "/etc/hostname"), ("hosts", "/etc/hosts"),
                       ("resolv.conf", "/etc/resolv.conf")) if (r.dir / name).exists())
        p = r.process
        return process.InitPlan(
            mounts=MountPlan(rootfs=str(r.merged), volumes=r.spec.volumes, files=files,
                             read_only=r.spec.read_only),
            args=p.args, env=p.env, cwd=p.cwd, user=p.user, hostname=p.hostname,
            capabilities=caps.mask(caps.DOCKER_DEFAULT), tty=p.tty, stdio=self.stdio)

    def _enter_netns(self, path: str) -> int:
        """setns(2) this thread into the netns at path; returns an fd of the one we left."""
        back = os.open(self.proc / "thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            try:
                self.sys.setns(fd, sc.CLONE_NEWNET)
            finally:
                os.close(fd)
        except BaseException:
            os.close(back)
            raise
        return back

    def _kill_child(self) -> None:
        if self.child is None:
            return
        try:
            os.kill(self.child.pid, 9)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(self.child.pid, 0)
        except ChildProcessError:
            pass
        self.child.chan.close()


def _interfaces(pid: int, proc: Path) -> list[str]:
    """Interface names in pid's network namespace (/proc/PID/net/dev)."""
    try:
        lines = (proc / str(pid) / "net/dev").read_text().splitlines()[2:]
    except OSError:
        return []
    return [line.split(":", 1)[0].strip() for line in lines]


def _proc_cgroup(pid: int, proc: Path) -> list[str]:
    try:
        return (proc / str(pid) / "cgroup").read_text().split()
    except OSError:
        return []


def as_error(exc: BaseException) -> OnggiError:
    """Any failure of a launch, as the one-line error the user sees."""
    if isinstance(exc, OnggiError):
        return exc
    if isinstance(exc, OSError):
        where = f" {exc.filename}" if exc.filename else ""
        return OnggiError(f"container launch failed: {exc.strerror or exc}{where}")
    return OnggiError(f"container launch failed: {exc}")
