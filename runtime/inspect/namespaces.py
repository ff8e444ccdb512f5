"""Which namespaces a process is in: the inode numbers behind /proc/PID/ns/*.

Two processes share a namespace exactly when these numbers are equal; that is
the whole truth the namespaces diagram draws.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..linux.namespaces import ALL_KINDS


def inodes(pid: int | str = "self", proc: Path = Path("/proc"), kinds=ALL_KINDS) -> dict[str, int]:
    out = {}
    base = proc / str(pid) / "ns"
    for kind in kinds:
        try:
            out[kind] = os.stat(base / kind).st_ino
        except OSError:
            continue          # kernel without that kind (time < 5.6), or the process is gone
    return out


def compare(pid: int, proc: Path = Path("/proc"), host_pid: int | str = "self") -> dict[str, dict]:
    """For each kind: the container's inode, the host's, and whether they differ.

    "The host" is the caller (a CLI, monitor or server runs in the host's
    namespaces); /proc/1/ns may be unreadable where PID 1 is not ours.
    """
    mine, host = inodes(pid, proc), inodes(host_pid, proc)
    return {k: {"container": mine[k], "host": host.get(k), "isolated": mine[k] != host.get(k)}
            for k in mine}
