"""The cgroup tree under onggi's parent, with the kernel's gauges for each cgroup.

For the cgroups diagram and the web's gauges: for every cgroup under the parent
(one per container, plus any a container made inside its own), what the kernel
counts now: memory current vs limit, pids current vs max, CPU time used and how
often the CFS quota throttled it, OOM kills. Read from cgroupfs through the
cgroups :class:`~runtime.cgroups.Manager` (v1, v2 or hybrid alike); nothing here
writes, and a cgroup that vanishes while being read is simply left out.
"""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field


@dataclass
class Node:
    name: str                 # the directory's name (a container id for onggi's own)
    path: str                 # as /proc/PID/cgroup shows it: /onggi/<id>[/sub]
    procs: list[int]
    stats: dict               # runtime.cgroups.Stats as a dict (None = the kernel doesn't say)
    limits: dict              # memory, cpu_quota, cpu_period, pids (None = no limit)
    children: list["Node"] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def tree(manager) -> dict:
    """``{"parent": "/onggi", "version": "v2", "children": [Node...]}`` for MANAGER's parent.

    Each direct child is read with the manager's own reader; cgroups nested
    inside a child (rare) are listed with their pids only, found by walking the
    first controller directory.
    """
    nodes = []
    for name in manager.names():
        try:
            cg = manager.get(name)
            stats, limits, procs = cg.stats(), cg.limits(), cg.procs()
        except (OSError, ValueError):
            continue           # removed between listing and reading
        node = Node(name=name, path=cg.path, procs=procs, stats=asdict(stats),
                    limits={"memory": limits.memory, "cpu_quota": limits.cpu_quota,
                            "cpu_period": limits.cpu_period, "pids": limits.pids})
        dirs = list(dict.fromkeys(cg.dirs().values()))
        if dirs:
            node.children = _nested(dirs[0], cg.path)
        nodes.append(node)
    return {"parent": "/" + manager.parent, "version": manager.version, "children": nodes}


def _nested(directory, path: str) -> list[Node]:
    out = []
    try:
        with os.scandir(directory) as it:
            subs = [e for e in it if e.is_dir(follow_symlinks=False)]
    except (FileNotFoundError, NotADirectoryError):
        return out
    for e in sorted(subs, key=lambda e: e.name):
        try:
            with open(os.path.join(e.path, "cgroup.procs")) as f:
                procs = sorted(int(x) for x in f.read().split())
        except OSError:
            continue
        node = Node(name=e.name, path=f"{path}/{e.name}", procs=procs, stats={}, limits={})
        node.children = _nested(e.path, node.path)
        out.append(node)
    return out


def percent(used: int | None, limit: int | None) -> float | None:
    """USED as a percentage of LIMIT, or None when either is unknown (no limit)."""
    if used is None or not limit:
        return None
    return min(used / limit * 100.0, 100.0)
