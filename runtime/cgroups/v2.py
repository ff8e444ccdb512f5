"""cgroup v2: one unified tree; a container's cgroup is ``ROOT/<parent>/<name>``.

A controller's files (``memory.max``...) appear in a cgroup only when its parent
lists the controller in ``cgroup.subtree_control``, and a parent can list it only
if its own parent does. So every level from the root down to the parent gets
``+memory +pids +cpu`` (those the root offers in ``cgroup.controllers``), once.
Two kernel rules bite here (Documentation/admin-guide/cgroup-v2.rst):

* "No Internal Process Constraint": a non-root cgroup with controllers enabled
  for its children may not hold processes itself. The parent never gets
  processes; a cgroup above it that has some makes the write fail with EBUSY.
* Writes name controllers with "+"; reading back shows them bare
  ("cpu memory pids").

The files: memory.max, memory.swap.max (swap beyond memory, 0 = none),
memory.current, memory.peak (5.19+), memory.events (oom_kill N), memory.stat,
cpu.max ("QUOTA PERIOD", QUOTA "max" = none), cpu.weight (1..10000, default 100),
cpu.stat (usage_usec, nr_periods, nr_throttled, throttled_usec), pids.max,
pids.current, cgroup.procs, cgroup.kill (5.14+).
"""
from __future__ import annotations

import errno
import math
import signal
import time
from pathlib import Path

from runtime.cgroups import (
    DEFAULT_CPU_PERIOD, Limits, Stats, check_name, check_parent, kill_pids, list_children,
    make_dir, read, read_int, read_keyed, read_pids, remove_dir, spare_owner, write,
)
from runtime.errors import Unsupported

CONTROLLERS = ("cpu", "memory", "pids")
DEFAULT_WEIGHT = 100

_FLAGS = {"memory": "-m/--memory", "pids": "--pids-limit", "cpu": "--cpus/--cpu-shares"}


def shares_to_weight(shares: int) -> int:
    """cgroup v1 ``cpu.shares`` (2..262144, default 1024) as v2 ``cpu.weight``
    (1..10000, default 100).

    The log-quadratic mapping runc (1.3.2+) and crun (1.23+) use, which keeps
    the defaults equal (1024 -> 100) and the ends in place (2 -> 1,
    262144 -> 10000); the older linear one turned 1024 into 39.
    """
    if shares <= 2:
        return 1
    if shares >= 262_144:
        return 10_000
    log = math.log2(shares)
    return math.ceil(10 ** ((log * log + 125 * log) / 612 - 7 / 34))


def weight_to_shares(weight: int) -> int:
    """The inverse of :func:`shares_to_weight`, to the nearest share (weights are
    coarser than shares, so this is close to what was written, not always equal)."""
    log = (-125 + math.sqrt(125 * 125 + 4 * 612 * (math.log10(weight) + 7 / 34))) / 2
    return min(max(round(2 ** log), 2), 262_144)


def _required(limits: Limits) -> set[str]:
    """The controllers LIMITS cannot do without."""
    needs = set()
    if limits.memory is not None:
        needs.add("memory")
    if limits.pids is not None:
        needs.add("pids")
    if limits.cpu_quota is not None or limits.cpu_shares is not None:
        needs.add("cpu")
    return needs


class V2Manager:
    """The cgroups under ROOT/PARENT on a cgroup2 mount."""

    version = "v2"

    def __init__(self, root: Path, parent: str = "onggi"):
        self.root = Path(root)
        self.parent = check_parent(parent)

    def warm_up(self, proc: Path = Path("/proc")) -> None:
        """Nothing to do: on v2 a launch clones its first process straight into
        its cgroup (V2Cgroup.clone_target), so no move waits for the RCU grace
        period; and priming would hold cgroup_mutex through that wait, stalling
        the mkdir of the container's own cgroup."""

    def create(self, name: str, limits: Limits) -> "V2Cgroup":
        cgroup = self.get(name)
        enabled = self._enable(_required(limits))
        d = cgroup.dir
        new = make_dir(d)
        # A new cgroup starts with every limit at "max" and weight 100: write
        # only what is asked for. An existing one gets every file rewritten.
        if "memory" in enabled and (limits.memory is not None or not new):
            write(d / "memory.max", "max" if limits.memory is None else limits.memory)
            try:
                write(d / "memory.swap.max", "max" if limits.memory is None else 0)
            except FileNotFoundError:
                pass                    # no swap accounting in this kernel: nothing to disable
        if "cpu" in enabled:
            if limits.cpu_quota is not None or limits.cpu_period != DEFAULT_CPU_PERIOD or not new:
                quota = "max" if limits.cpu_quota is None else limits.cpu_quota
                write(d / "cpu.max", f"{quota} {limits.cpu_period}")
            if limits.cpu_shares is not None or not new:
                weight = DEFAULT_WEIGHT if limits.cpu_shares is None else shares_to_weight(limits.cpu_shares)
                write(d / "cpu.weight", weight)
        if "pids" in enabled and (limits.pids is not None or not new):
            write(d / "pids.max", "max" if limits.pids is None else limits.pids)
        return cgroup

    def _enable(self, required: set[str]) -> set[str]:
        """Enable our controllers from the root down to the parent; return the
        ones the container's cgroup will have.

        Reads each level's ``cgroup.subtree_control`` and writes only what is
        missing, so after the first container this is reads only. A controller
        the root does not offer, or that a level refuses, is left out, unless
        REQUIRED (a limit needs it): then :class:`Unsupported` names it.
        """
        offered = set((read(self.root / "cgroup.controllers") or "").split())
        absent = sorted(required - offered)
        if absent:
            controller = absent[0]
            raise Unsupported(
                f"cgroup v2 controller '{controller}' is not available in "
                f"{self.root / 'cgroup.controllers'}",
                hint=f"{_FLAGS[controller]} needs it; run without that limit, or enable the "
                     "controller for this cgroup (systemd: Delegate=yes)")
        wanted = offered.intersection(CONTROLLERS)
        level = self.root
        for part in [""] + self.parent.split("/"):
            if part:
                level = level / part
                make_dir(level)
            control = level / "cgroup.subtree_control"
            missing = wanted - set((read(control) or "").split())
            if not missing:
                continue
            try:
                write(control, " ".join(f"+{c}" for c in sorted(missing)))
            except OSError:
                # One at a time, to keep the ones that work (e.g. cpu is refused
                # while a realtime process sits in a cgroup below).
                for controller in sorted(missing):
                    try:
                        write(control, f"+{controller}")
                    except OSError as e:
                        if controller in required:
                            raise _refused(controller, control, e) from None
                        wanted.discard(controller)
        return wanted

    def get(self, name: str) -> "V2Cgroup":
        return V2Cgroup(self, check_name(name))

    def names(self) -> list[str]:
        return [n for n in list_children([self.root / self.parent]) if spare_owner(n) is None]

    def exists(self, name: str) -> bool:
        return self.get(name).dir.is_dir()

    # No spares on v2: a launch clones its first process straight into its cgroup
    # (clone3 with CLONE_INTO_CGROUP), which is what a zygote is for on v1. And
    # cgroup2 refuses to rename a cgroup.
    def spare(self, owner: int) -> None:
        return None

    def adopt(self, spare, name: str, limits: Limits) -> "V2Cgroup":
        raise Unsupported("cgroup v2 cannot rename a cgroup, so it has no spare cgroups to adopt",
                          hint="create the cgroup instead")

    def remove_stale_spares(self) -> list[str]:
        return []


def _refused(controller: str, control: Path, e: OSError) -> Unsupported:
    if e.errno == errno.EBUSY:
        return Unsupported(
            f"enable the {controller} controller in {control}: that cgroup has processes of its own",
            hint="cgroup v2 gives controllers only to cgroups without processes; move them to a "
                 "child cgroup first (as Docker-in-Docker does with /sys/fs/cgroup/init)")
    return Unsupported(f"enable the {controller} controller in {control}: {e.strerror.lower()}",
                       hint="check cgroup delegation on this host")


class V2Cgroup:
    """One cgroup in the unified tree."""

    def __init__(self, manager: V2Manager, name: str):
        self.manager = manager
        self.name = name
        self.path = f"/{manager.parent}/{name}"
        self.dir = manager.root / manager.parent / name

    def dirs(self) -> dict[str, Path]:
        return {"unified": self.dir}

    def add(self, pid: int) -> None:
        write(self.dir / "cgroup.procs", pid)

    def clone_target(self) -> Path:
        return self.dir

    def procs(self) -> list[int]:
        return sorted(read_pids(self.dir / "cgroup.procs"))

    def _cpu_max(self) -> tuple[int | None, int]:
        text = read(self.dir / "cpu.max")
        if text is None:
            return None, DEFAULT_CPU_PERIOD
        quota, _, period = text.strip().partition(" ")
        return (None if quota == "max" else int(quota)), int(period or DEFAULT_CPU_PERIOD)

    def limits(self) -> Limits:
        quota, period = self._cpu_max()
        weight = read_int(self.dir / "cpu.weight")
        return Limits(
            memory=read_int(self.dir / "memory.max"),
            cpu_quota=quota,
            cpu_period=period,
            pids=read_int(self.dir / "pids.max"),
            cpu_shares=None if weight in (None, DEFAULT_WEIGHT) else weight_to_shares(weight),
        )

    def stats(self) -> Stats:
        cpu = read_keyed(self.dir / "cpu.stat")
        usage, throttled = cpu.get("usage_usec"), cpu.get("throttled_usec")
        return Stats(
            memory_current=read_int(self.dir / "memory.current"),
            memory_max=read_int(self.dir / "memory.max"),
            memory_peak=read_int(self.dir / "memory.peak"),
            pids_current=read_int(self.dir / "pids.current"),
            pids_max=read_int(self.dir / "pids.max"),
            cpu_usage_ns=None if usage is None else usage * 1000,
            cpu_nr_periods=cpu.get("nr_periods"),
            cpu_nr_throttled=cpu.get("nr_throttled"),
            cpu_throttled_ns=None if throttled is None else throttled * 1000,
            oom_kills=read_keyed(self.dir / "memory.events").get("oom_kill"),
            memory_inactive_file=read_keyed(self.dir / "memory.stat").get("inactive_file"),
        )

    def oom_kills(self) -> int:
        return read_keyed(self.dir / "memory.events").get("oom_kill", 0)

    _FILES = ("memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "pids.max",
              "memory.current", "memory.peak", "memory.events", "cpu.stat", "pids.current",
              "cgroup.procs")

    def files(self) -> dict[str, str]:
        out = {}
        for name in self._FILES:
            text = read(self.dir / name)
            if text is not None:
                out[name] = text.strip()
        return out

    def kill(self, sig: int = 9) -> None:
        if sig == signal.SIGKILL:
            try:
                # The kernel kills every process, including ones forking right
                # now, in one go (5.14+).
                write(self.dir / "cgroup.kill", 1)
                return
            except FileNotFoundError:
                pass
        kill_pids(self.procs, sig)

    def destroy(self, timeout: float = 2.0) -> None:
        remove_dir(self.dir, time.monotonic() + timeout, self.procs)
