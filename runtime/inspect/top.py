"""`onggi top`: the container's processes as `ps -ef` on the host shows them."""
from __future__ import annotations

import os
import time
from pathlib import Path

from . import procs


def _user(uid: int) -> str:
    import pwd
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _tty(tty_nr: int) -> str:
    major, minor = os.major(tty_nr), os.minor(tty_nr)
    if tty_nr == 0:
        return "?"
    if 136 <= major <= 143:
        return f"pts/{minor + (major - 136) * 256}"
    return f"tty{minor}" if major == 4 else "?"


def processes(pids, proc: Path = Path("/proc")) -> list[dict]:
    hz = os.sysconf("SC_CLK_TCK")
    boot = _boot_time(proc)
    now = time.time()
    out = []
    for pid in sorted(pids):
        try:
            st = procs.stat_fields(pid, proc)
            uid = procs.uid(pid, proc)
        except (OSError, ValueError):
            continue          # exited between listing and reading
        cpu_s = (st["utime"] + st["stime"]) / hz
        started = boot + st["starttime"] / hz
        elapsed = max(now - started, 1e-6)
        cmd = " ".join(procs.cmdline(pid, proc)) or f"[{st['comm']}]"
        out.append({
            "uid": _user(uid), "pid": pid, "ppid": st["ppid"],
            "c": str(min(int(cpu_s / elapsed * 100), 99)),
            "stime": time.strftime("%H:%M" if now - started < 86400 else "%b%d", time.localtime(started)),
            "tty": _tty(st["tty_nr"]),
            "time": time.strftime("%H:%M:%S", time.gmtime(cpu_s)),
            "cmd": cmd, "nspid": procs.nspid(pid, proc),
        })
    return out


def _boot_time(proc: Path) -> float:
    with open(proc / "stat") as f:
        for line in f:
            if line.startswith("btime "):
                return float(line.split()[1])
    return 0.0
