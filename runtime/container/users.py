"""Resolve ``-u USER[:GROUP]`` against the container's own /etc/passwd and /etc/group.

Called inside the container after pivot_root, so "/etc/passwd" is the image's,
never the host's (as runc does in libcontainer/user).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..errors import InvalidArgument


@dataclass(frozen=True)
class User:
    uid: int
    gid: int
    groups: tuple[int, ...]
    home: str


def _read(path: str) -> list[list[str]]:
    try:
        with open(path) as f:
            return [line.rstrip("\n").split(":") for line in f if line.strip() and not line.startswith("#")]
    except FileNotFoundError:
        return []


def resolve(spec: str, passwd: str = "/etc/passwd", group: str = "/etc/group") -> User:
    """'' -> root; 'name', 'uid', 'name:group', 'uid:gid' (numbers need no entry)."""
    user_part, _, group_part = (spec or "0").partition(":")
    users = [e for e in _read(passwd) if len(e) >= 7]
    entry = next((e for e in users if e[0] == user_part), None)
    if entry is None and user_part.isdigit():
        entry = next((e for e in users if e[2] == user_part), None)
    if entry is not None:
        uid, gid, home = int(entry[2]), int(entry[3]), entry[5]
    elif user_part.isdigit():
        uid, gid, home = int(user_part), 0, "/"      # Docker: a bare UID runs with GID 0
    else:
        raise InvalidArgument(f"unable to find user {user_part}: no matching entries in passwd file",
                              hint="use a user the image defines, or a numeric UID")
    groups_db = [e for e in _read(group) if len(e) >= 4]
    if group_part:
        g = next((e for e in groups_db if e[0] == group_part), None)
        if g is None and not group_part.isdigit():
            raise InvalidArgument(f"unable to find group {group_part}: no matching entries in group file",
                                  hint="use a group the image defines, or a numeric GID")
        gid = int(g[2]) if g else int(group_part)
    name = entry[0] if entry else None
    extra = tuple(sorted({int(e[2]) for e in groups_db if name and name in e[3].split(",")} - {gid}))
    return User(uid, gid, extra, home or "/")
