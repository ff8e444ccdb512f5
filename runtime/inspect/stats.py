"""`onggi stats`: usage read from the container's cgroup and network namespace."""
from __future__ import annotations

import os
import time
from pathlib import Path


def net_io(pid: int, proc: Path = Path("/proc")) -> tuple[int, int]:
    """Bytes received and sent on every interface but lo, in pid's network namespace."""
    rx = tx = 0
    try:
        lines = (proc / str(pid) / "net/dev").read_text().splitlines()[2:]
    except OSError:
        return 0, 0
    for line in lines:
        name, _, data = line.partition(":")
        if name.strip() == "lo":
            continue
        fields = data.split()
        rx += int(fields[0])
        tx += int(fields[8])
    return rx, tx


def host_memory(proc: Path = Path("/proc")) -> int:
    with open(proc / "meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def sample(container, interval: float = 0.5) -> dict | None:
    """Two readings `interval` apart: CPU % (of one CPU, like Docker), memory, net, pids."""
    state = container.state
    if not state.pid:
        return None
    cg = container.rt.cgroups.get(container.id)
    proc = container.rt.config.proc
    try:
        first, t0 = cg.stats(), time.monotonic()
        time.sleep(interval)
        s, t1 = cg.stats(), time.monotonic()
    except OSError:
        return None
    cpu = 0.0
    if first.cpu_usage_ns is not None and s.cpu_usage_ns is not None:
        cpu = (s.cpu_usage_ns - first.cpu_usage_ns) / ((t1 - t0) * 1e9) * 100
    usage = (s.memory_current or 0) - (s.memory_inactive_file or 0)
    limit = s.memory_max or host_memory(proc)
    rx, tx = net_io(state.pid, proc)
    return {"cpu_percent": max(cpu, 0.0), "memory_usage": max(usage, 0), "memory_limit": limit,
            "memory_percent": usage / limit * 100 if limit else 0.0, "net_rx": rx, "net_tx": tx,
            "pids": s.pids_current, "pids_max": s.pids_max, "oom_kills": s.oom_kills,
            "cpu_throttled": s.cpu_nr_throttled, "ncpu": os.cpu_count()}
