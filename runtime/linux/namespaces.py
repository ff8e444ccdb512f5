"""Namespace kinds: their /proc/PID/ns names, clone flags and what each isolates."""
from __future__ import annotations

from . import syscalls as sc

# Order matters for setns(2): join mnt last, because after it /proc paths resolve
# inside the container (runc's nsexec does the same).
FLAGS = {
    "ipc": sc.CLONE_NEWIPC,
    "uts": sc.CLONE_NEWUTS,
    "net": sc.CLONE_NEWNET,
    "pid": sc.CLONE_NEWPID,
    "cgroup": sc.CLONE_NEWCGROUP,
    "mnt": sc.CLONE_NEWNS,
}
# Every kind /proc/PID/ns shows (user and time are never unshared by onggi, but
# the diagrams show them so that a learner sees they are shared with the host).
ALL_KINDS = ("pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time")


def flags_for(kinds) -> int:
    bits = 0
    for kind in kinds:
        bits |= FLAGS[kind]
    return bits
