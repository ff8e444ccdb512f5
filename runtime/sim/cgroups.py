"""Simulated cgroups: the :class:`runtime.cgroups.Manager` interface, with gauges that move.

A container's cgroup exists from its launch's ``cgroup`` step until it exits,
named like the real one (``/onggi/<id>``, cgroup v2). Its limits are the ones
the container asked for, read back as the kernel would (memory rounded down to
whole pages); its usage follows from what its processes do (:mod:`.plan`) and
how long they have done it:

* memory: a small process's few hundred KiB creeping up a little as it runs, or
  a memory eater's :data:`~runtime.sim.plan.EAT_RATE` per second up to its limit,
  where the OOM killer ends it (``oom_kills`` counts it);
* CPU: almost nothing for a sleeping process; a busy loop uses one CPU, or its
  quota when ``--cpus`` is less, and every period it hits the quota counts as
  throttled;
* pids: its processes; a fork loop stops at ``pids.max``, and ``pids.events``
  counts the forks that were refused.

Nothing here reads or writes cgroupfs.
"""
from __future__ import annotations

from pathlib import Path

from runtime.cgroups import DEFAULT_CPU_PERIOD, Limits, Stats

PAGE = 4096


class SimCgroup:
    """One container's simulated cgroup (the Cgroup protocol)."""

    def __init__(self, manager: "SimCgroups", name: str):
        self.manager = manager
        self.name = name
        self.path = f"/{manager.parent}/{name}"

    def _record(self) -> dict | None:
        return self.manager.rt.truth.cgroup_record(self.name)

    def dirs(self) -> dict[str, Path]:
        return {"unified": Path(self.manager.root) / self.manager.parent / self.name}

    def procs(self) -> list[int]:
        r = self._record()
        return sorted(p["pid"] for p in r.get("procs", [])) if r else []

    def limits(self) -> Limits:
        r = self._record()
        if not r:
            return Limits()
        return limits_of(r["spec"])

    def stats(self) -> Stats:
        r = self._record()
        if not r:
            return Stats()
        return self.manager.rt.truth.cgroup_stats(r)

    def oom_kills(self) -> int:
        r = self._record()
        return (self.stats().oom_kills or 0) if r else 0

    def files(self) -> dict[str, str]:
        r = self._record()
        return self.manager.rt.truth.cgroup_files(r) if r else {}

    def add(self, pid: int) -> None:
        pass                   # the simulation puts processes in their cgroup itself

    def clone_target(self) -> None:
        return None

    def kill(self, sig: int = 9) -> None:
        r = self._record()
        if r and sig == 9:
            self.manager.rt.container(r["id"]).kill(sig)

    def destroy(self, timeout: float = 2.0) -> None:
        pass                   # a simulated cgroup goes when its container stops


class SimCgroups:
    """``rt.cgroups`` in simulated mode: version "v2", the Config's parent."""

    version = "v2"

    def __init__(self, rt):
        self.rt = rt
        self.parent = rt.config.cgroup_parent
        self.root = rt.config.cgroup_root

    def create(self, name: str, limits: Limits) -> SimCgroup:
        return SimCgroup(self, name)

    def get(self, name: str) -> SimCgroup:
        return SimCgroup(self, name)

    def names(self) -> list[str]:
        return sorted(c["id"] for c in self.rt.snapshot()["containers"].values() if has_cgroup(c))

    def exists(self, name: str) -> bool:
        c = self.rt.snapshot()["containers"].get(name)
        return c is not None and has_cgroup(c)

    def spare(self, owner: int) -> None:
        return None            # simulated as v2: no zygotes, no spares

    def remove_stale_spares(self) -> list[str]:
        return []


def has_cgroup(c: dict) -> bool:
    """A container has its cgroup from its launch's cgroup step until it stops."""
    return "cgroup" in c.get("launch", [])


def limits_of(spec: dict) -> Limits:
    """The Limits the kernel would read back for SPEC (memory in whole pages)."""
    memory = spec.get("memory")
    memory = memory // PAGE * PAGE if memory else None
    if spec.get("cpus"):
        return Limits.from_cpus(spec["cpus"], memory=memory, pids=spec.get("pids_limit"))
    return Limits(memory=memory, pids=spec.get("pids_limit"), cpu_period=DEFAULT_CPU_PERIOD)
