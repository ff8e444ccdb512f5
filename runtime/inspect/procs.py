"""Processes as /proc shows them: status fields, NSpid, command lines (for top and diagrams)."""
from __future__ import annotations

import os
from pathlib import Path


def status(pid: int, proc: Path = Path("/proc")) -> dict[str, str]:
    out = {}
    with open(proc / str(pid) / "status") as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def nspid(pid: int, proc: Path = Path("/proc")) -> list[int]:
    """PIDs from the host's view down to the innermost namespace (NSpid line)."""
    try:
        return [int(x) for x in status(pid, proc).get("NSpid", str(pid)).split()]
    except (OSError, ValueError):
        return []


def cmdline(pid: int, proc: Path = Path("/proc")) -> list[str]:
    try:
        raw = (proc / str(pid) / "cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a] or []


def stat_fields(pid: int, proc: Path = Path("/proc")) -> dict:
    """ppid, utime+stime (clock ticks), start time (ticks after boot), tty, comm."""
    raw = (proc / str(pid) / "stat").read_text()
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    return {"comm": comm, "state": rest[0], "ppid": int(rest[1]), "tty_nr": int(rest[4]),
            "utime": int(rest[11]), "stime": int(rest[12]), "starttime": int(rest[19]),
            "rss_pages": int(rest[21])}


def uid(pid: int, proc: Path = Path("/proc")) -> int:
    return os.stat(proc / str(pid)).st_uid


def capabilities(pid: int, proc: Path = Path("/proc")) -> dict:
    s = status(pid, proc)
    return {k: int(s[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb") if k in s} | \
        {"NoNewPrivs": int(s.get("NoNewPrivs", "0"))}
