"""Capability numbers (<linux/capability.h>) and Docker's default set."""
from __future__ import annotations

from pathlib import Path

CAPS = (
    "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID",
    "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
    "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO",
    "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
    "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE",
    "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM",
    "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
)
NUMBER = {name: i for i, name in enumerate(CAPS)}

# What `docker run` grants by default (moby oci/caps/defaults.go): enough to act
# as root inside the container's own files, nothing that reaches the host
# (no SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE...).
DOCKER_DEFAULT = (
    "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
    "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
)


def mask(names) -> int:
    bits = 0
    for name in names:
        bits |= 1 << NUMBER[name.upper().removeprefix("CAP_")]
    return bits


def names(bits: int) -> list[str]:
    return ["CAP_" + n for i, n in enumerate(CAPS) if bits >> i & 1]


def last_cap(proc: Path = Path("/proc")) -> int:
    try:
        return int((proc / "sys/kernel/cap_last_cap").read_text())
    except OSError:
        return len(CAPS) - 1
