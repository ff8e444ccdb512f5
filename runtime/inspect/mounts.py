"""/proc/PID/mountinfo, parsed (see proc(5): one mount per line)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mount:
    mount_id: int
    parent_id: int
    root: str
    mountpoint: str
    options: str
    fstype: str
    source: str
    super_options: str

    def option_map(self) -> dict[str, str]:
        """The superblock options as a dict (overlay's lowerdir, upperdir...)."""
        out = {}
        for item in self.super_options.split(","):
            key, _, value = item.partition("=")
            out[key] = value
        return out

    def to_dict(self) -> dict:
        return {"mountpoint": self.mountpoint, "fstype": self.fstype, "source": self.source,
                "options": self.options, "root": self.root}


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal.
    if "\\" not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out.append(chr(int(field[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse(text: str) -> list[Mount]:
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        a = left.split()
        b = right.split()
        if len(a) < 6 or len(b) < 2:
            continue
        mounts.append(Mount(int(a[0]), int(a[1]), _unescape(a[3]), _unescape(a[4]), a[5],
                            b[0], _unescape(b[1]), b[2] if len(b) > 2 else ""))
    return mounts


def mountinfo(pid: int | str = "self", proc: Path = Path("/proc")) -> list[Mount]:
    return parse((proc / str(pid) / "mountinfo").read_text())


def find(mounts: list[Mount], mountpoint: str) -> Mount | None:
    """The mount visible at mountpoint (the last one mounted there wins)."""
    found = None
    for m in mounts:
        if m.mountpoint == mountpoint:
            found = m
    return found
