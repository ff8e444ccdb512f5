"""cgroup v1 (and hybrid): one tree per controller, the cgroup made in each we use.

Layout: ``ROOT/<controller>/<parent>/<name>`` for memory, cpu, cpuacct and pids.
``cpu`` and ``cpuacct`` are either two mounts or one ``cpu,cpuacct`` mount that
both names link to (the usual systemd layout); a shared directory is made,
joined and removed once. Other controllers (cpuset, devices, freezer, blkio,
``name=systemd``) are never touched: a container stays where onggi was in them.
In the hybrid layout the cgroup2 mount at ``ROOT/unified`` is left alone too.

The files (Documentation/admin-guide/cgroup-v1/memory.rst, pids.rst and
Documentation/scheduler/sched-bwc.rst):

==========  ==================================================================
memory      memory.limit_in_bytes, memory.memsw.limit_in_bytes (memory+swap;
            only with swap accounting), memory.usage_in_bytes,
            memory.max_usage_in_bytes, memory.oom_control (oom_kill N),
            memory.stat
cpu         cpu.cfs_quota_us (-1 = none), cpu.cfs_period_us, cpu.shares, cpu.stat
cpuacct     cpuacct.usage (nanoseconds)
pids        pids.max ("max" = none), pids.current
==========  ==================================================================
"""
from __future__ import annotations

import os
import time
from functools import cached_property
from pathlib import Path

from runtime.cgroups import (
    DEFAULT_CPU_PERIOD, SPARE_PREFIX, Limits, Stats, check_name, check_parent, kill_pids,
    list_children, make_dir, pid_alive, read, read_int, read_keyed, read_pids, remove_dir,
    spare_owner, write,
)
from runtime.errors import Unsupported

CONTROLLERS = ("memory", "cpu", "cpuacct", "pids")
DEFAULT_SHARES = 1024

# The kernel shows "no memory limit" as the largest page-aligned long
# (9223372036854771712 with 4 KiB pages); anything this big is no limit.
_UNLIMITED_MEMORY = 1 << 62

# Which controller each limit needs, to name it when it is missing.
_NEEDS = (("memory", "memory", "-m/--memory"), ("pids", "pids", "--pids-limit"),
          ("cpu_quota", "cpu", "--cpus"), ("cpu_shares", "cpu", "--cpu-shares"))


class V1Manager:
    """The cgroups under PARENT in every v1 controller tree we use under ROOT."""

    def __init__(self, root: Path, parent: str = "onggi", *, version: str = "v1"):
        self.root = Path(root)
        self.parent = check_parent(parent)
        self.version = version

    @cached_property
    def mounts(self) -> dict[str, Path]:
        """Controller -> its hierarchy's root directory, for the ones mounted.

        A ``cpu`` that is a symlink (to ``cpu,cpuacct``) is followed, so both
        names map to the one real directory. One readlink per controller, once.
        """
        found = {}
        for controller in CONTROLLERS:
            path = self.root / controller
            try:
                path = self.root / os.readlink(path)
            except FileNotFoundError:
                continue                      # not mounted on this host
            except OSError:
                pass                          # EINVAL: a directory, not a link
            found[controller] = path
        return found

    def warm_up(self, proc: Path = Path("/proc")) -> None:
        """See :func:`runtime.cgroups.warm_up` (the lock is shared by every hierarchy)."""
        from . import own_cgroup, warm_up
        base = self.mounts.get("memory") or next(iter(self.mounts.values()), None)
        path = own_cgroup(proc, "memory" if "memory" in self.mounts else "pids")
        if base is not None and path is not None:
            warm_up(base / path.lstrip("/") / "cgroup.procs")

    def create(self, name: str, limits: Limits) -> "V1Cgroup":
        self._check_controllers(limits)
        cgroup = self.get(name)
        made = {d: make_dir(d) for d in cgroup.unique_dirs()}
        _apply(cgroup.dirs(), limits, made)
        return cgroup

    def _check_controllers(self, limits: Limits) -> None:
        if not self.mounts:
            raise Unsupported(f"none of the cgroup v1 controllers {', '.join(CONTROLLERS)} "
                              f"is mounted under {self.root}",
                              hint="mount at least memory and pids, or use cgroup v2")
        for field, controller, flag in _NEEDS:
            if getattr(limits, field) is not None and controller not in self.mounts:
                raise Unsupported(
                    f"cgroup v1 controller '{controller}' is not mounted under {self.root}",
                    hint=f"{flag} needs it; run without that limit, or mount the controller")

    # -- spares: see runtime.container.zygote for why -----------------------------------
    def spare(self, owner: int) -> "V1Cgroup | None":
        """An empty cgroup ``spare-OWNER`` in every tree, for a zygote to wait in.

        First removes the spares of owners that are gone (a killed CLI leaves
        them empty: its zygote dies with it).
        """
        if not self.mounts:
            return None
        self.remove_stale_spares()
        cgroup = self.get(f"{SPARE_PREFIX}{owner}")
        for d in cgroup.unique_dirs():
            make_dir(d)
        return cgroup

    def adopt(self, spare: "V1Cgroup", name: str, limits: Limits) -> "V1Cgroup":
        """Rename SPARE to NAME in every tree, then write LIMITS as create() would.

        cgroup v1 lets a cgroup be renamed in place (not moved to another
        parent); the processes in it stay, so whatever a zygote clones there is
        born in the container's cgroup. All or nothing: a failed rename puts the
        ones done back and raises.
        """
        self._check_controllers(limits)
        cgroup = self.get(name)
        done = []
        try:
            for old, new in zip(spare.unique_dirs(), cgroup.unique_dirs()):
                os.rename(old, new)
                done.append((old, new))
        except OSError:
            for old, new in reversed(done):
                os.rename(new, old)
            raise
        _apply(cgroup.dirs(), limits, dict.fromkeys(cgroup.unique_dirs(), True))
        return cgroup

    def remove_stale_spares(self) -> list[str]:
        """Remove the spare cgroups whose owner process is gone; their paths.

        A live owner's spare is left alone even when empty (its zygote may be
        joining it right now); one that still has a process in it cannot be
        removed, and is left for the next time.
        """
        removed = []
        for name in list_children(dict.fromkeys(m / self.parent for m in self.mounts.values())):
            owner = spare_owner(name)
            if owner is None or pid_alive(owner):
                continue
            cgroup = self.get(name)
            try:
                for d in cgroup.unique_dirs():
                    remove_dir(d, time.monotonic())
            except OSError:
                continue
            removed.append(cgroup.path)
        return removed

    def get(self, name: str) -> "V1Cgroup":
        return V1Cgroup(self, check_name(name))

    def names(self) -> list[str]:
        children = list_children(dict.fromkeys(m / self.parent for m in self.mounts.values()))
        return [n for n in children if spare_owner(n) is None]

    def exists(self, name: str) -> bool:
        return any(d.is_dir() for d in self.get(name).unique_dirs())


def _apply(dirs: dict[str, Path], limits: Limits, made: dict[Path, bool]) -> None:
    """Write LIMITS into a cgroup's directories; MADE says which are new (nothing
    set yet), so that only what differs from the kernel's defaults is written."""
    if "memory" in dirs:
        _set_memory(dirs["memory"], limits.memory, made[dirs["memory"]])
    if "cpu" in dirs:
        _set_cpu(dirs["cpu"], limits, made[dirs["cpu"]])
    if "pids" in dirs and (limits.pids is not None or not made[dirs["pids"]]):
        write(dirs["pids"] / "pids.max", "max" if limits.pids is None else limits.pids)


def _set_memory(d: Path, memory: int | None, new: bool) -> None:
    """memory.limit_in_bytes and, when the kernel has it, memory.memsw.limit_in_bytes.

    The kernel keeps limit_in_bytes <= memsw.limit_in_bytes at every moment and
    refuses (EINVAL) a write that would break it. So when the limit goes up (or
    away), memsw is raised first; when it goes down, the limit is lowered first
    (runc: ``setMemoryAndSwap`` in fs/memory.go). A new cgroup has no limit: only
    the lowering case, and nothing at all to write when no limit is asked for.
    Without swap accounting (no memsw file) the memory limit is all there is.
    """
    if memory is None and new:
        return
    value = -1 if memory is None else memory
    limit = d / "memory.limit_in_bytes"
    current = None if new else read_int(limit)
    if memory is None or (current is not None and current < memory):
        _write_memsw(d, value)
        write(limit, value)
    else:
        write(limit, value)
        _write_memsw(d, value)


def _write_memsw(d: Path, value: int) -> None:
    try:
        write(d / "memory.memsw.limit_in_bytes", value)
    except FileNotFoundError:
        pass


def _set_cpu(d: Path, limits: Limits, new: bool) -> None:
    """cpu.cfs_period_us, cpu.cfs_quota_us and cpu.shares.

    The kernel checks each quota/period pair as it is written (and against the
    parent's bandwidth), so on an existing cgroup the old quota is lifted first:
    any period is valid with no quota, then the new quota goes in. A new cgroup
    already has quota -1, period 100000 and shares 1024.
    """
    quota = d / "cpu.cfs_quota_us"
    if not new:
        write(quota, -1)
    if not new or limits.cpu_period != DEFAULT_CPU_PERIOD:
        write(d / "cpu.cfs_period_us", limits.cpu_period)
    if limits.cpu_quota is not None:
        write(quota, limits.cpu_quota)
    if limits.cpu_shares is not None or not new:
        write(d / "cpu.shares", limits.cpu_shares or DEFAULT_SHARES)


def _memory(value: int | None) -> int | None:
    """A v1 memory limit as read: the kernel shows "none" as a huge number; -1
    (what was written) counts as none too."""
    return None if value is None or value < 0 or value >= _UNLIMITED_MEMORY else value


class V1Cgroup:
    """One cgroup, as a directory in each v1 controller tree."""

    def __init__(self, manager: V1Manager, name: str):
        self.manager = manager
        self.name = name
        self.path = f"/{manager.parent}/{name}"

    def dirs(self) -> dict[str, Path]:
        rel = f"{self.manager.parent}/{self.name}"
        return {c: m / rel for c, m in self.manager.mounts.items()}

    def unique_dirs(self) -> list[Path]:
        """The directories without repeats (cpu and cpuacct may be one)."""
        return list(dict.fromkeys(self.dirs().values()))

    def _file(self, controller: str, name: str) -> Path | None:
        d = self.dirs().get(controller)
        return None if d is None else d / name

    def _int(self, controller: str, name: str) -> int | None:
        path = self._file(controller, name)
        return None if path is None else read_int(path)

    def _keyed(self, controller: str, name: str) -> dict[str, int]:
        path = self._file(controller, name)
        return {} if path is None else read_keyed(path)

    def add(self, pid: int) -> None:
        for d in self.unique_dirs():
            write(d / "cgroup.procs", pid)

    def clone_target(self) -> None:
        return None

    def procs(self) -> list[int]:
        pids = set()
        for d in self.unique_dirs():
            pids |= read_pids(d / "cgroup.procs")
        return sorted(pids)

    def limits(self) -> Limits:
        quota = self._int("cpu", "cpu.cfs_quota_us")
        shares = self._int("cpu", "cpu.shares")
        return Limits(
            memory=_memory(self._int("memory", "memory.limit_in_bytes")),
            cpu_quota=None if quota is None or quota < 0 else quota,
            cpu_period=self._int("cpu", "cpu.cfs_period_us") or DEFAULT_CPU_PERIOD,
            pids=self._int("pids", "pids.max"),
            cpu_shares=None if shares in (None, DEFAULT_SHARES) else shares,
        )

    def stats(self) -> Stats:
        cpu = self._keyed("cpu", "cpu.stat")
        memory_stat = self._keyed("memory", "memory.stat")
        return Stats(
            memory_current=self._int("memory", "memory.usage_in_bytes"),
            memory_max=_memory(self._int("memory", "memory.limit_in_bytes")),
            memory_peak=self._int("memory", "memory.max_usage_in_bytes"),
            pids_current=self._int("pids", "pids.current"),
            pids_max=self._int("pids", "pids.max"),
            cpu_usage_ns=self._int("cpuacct", "cpuacct.usage"),
            cpu_nr_periods=cpu.get("nr_periods"),
            cpu_nr_throttled=cpu.get("nr_throttled"),
            cpu_throttled_ns=cpu.get("throttled_time"),
            oom_kills=self._keyed("memory", "memory.oom_control").get("oom_kill"),
            # total_: this cgroup and its children, like usage_in_bytes.
            memory_inactive_file=memory_stat.get("total_inactive_file"),
        )

    def oom_kills(self) -> int:
        return self._keyed("memory", "memory.oom_control").get("oom_kill", 0)

    _FILES = (("memory", "memory.limit_in_bytes"), ("memory", "memory.memsw.limit_in_bytes"),
              ("cpu", "cpu.cfs_quota_us"), ("cpu", "cpu.cfs_period_us"), ("cpu", "cpu.shares"),
              ("pids", "pids.max"),
              ("memory", "memory.usage_in_bytes"), ("memory", "memory.max_usage_in_bytes"),
              ("memory", "memory.oom_control"), ("cpuacct", "cpuacct.usage"),
              ("cpu", "cpu.stat"), ("pids", "pids.current"))

    def files(self) -> dict[str, str]:
        out = {}
        for controller, name in self._FILES:
            path = self._file(controller, name)
            text = None if path is None else read(path)
            if text is not None:
                out[name] = text.strip()
        dirs = self.unique_dirs()
        procs = read(dirs[0] / "cgroup.procs") if dirs else None
        if procs is not None:
            out["cgroup.procs"] = procs.strip()
        return out

    def kill(self, sig: int = 9) -> None:
        kill_pids(self.procs, sig)

    def destroy(self, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        for d in self.unique_dirs():
            remove_dir(d, deadline, self.procs)
