"""Which tar members a layer may contain: the rules that keep a layer inside its directory.

An image layer is a tar written by whoever built the image, extracted by root on
the host. Each member is checked *before* anything is written for it; the first bad
one raises :class:`UnsafeLayer` naming it, and the caller removes everything the
layer made so far. A layer is refused when a member:

* has a NUL byte in its name, an absolute name, or a ``..`` component (``../x``,
  ``a/../../x``): it would land outside the layer root;
* sits below a path the layer made a symlink (``lnk -> /etc`` then ``lnk/passwd``):
  extraction never follows symlinks, so writing through one is an attack;
* sits below a path the layer made a file, which cannot have children;
* is a hard link whose target is absolute, leaves the root, goes through a
  symlink, is a directory, or was not extracted before it: a hard link to a host
  file (``/etc/passwd``) would give the container write access to it;
* is a character or block device (the runtime makes /dev; an image must not carry
  a device node that opens the host's disk). FIFOs are fine, as are setuid bits:
  images need ``su`` and ``ping``;
* is a whiteout of ``..``, ``.`` or nothing (``.wh...``: deleting ``..`` would
  delete the directory the layer is unpacked in), or replaces the layer root
  itself with something that is not a directory.

Symlink *targets* are not checked: ``/bin/sh -> /bin/busybox`` is normal, and a
symlink means nothing until a process inside the container resolves it against
the container's own root.

:class:`MemberChecker` applies the rules in order, remembering what the layer made.
It asks a ``kind_of`` function what a path is: by default its own memory (to vet a
tar without extracting it), or the real directory (``disk_kind``) while extracting,
where the filesystem is the truth.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from runtime.errors import UnsafeLayer

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

DIR, FILE, SYMLINK = "dir", "file", "symlink"


def refuse(name: str, why: str) -> UnsafeLayer:
    return UnsafeLayer(f"refusing layer: member {name!r} {why}")


def clean_name(name: str, *, member: str | None = None) -> str:
    """The member's path relative to the layer root ("" for the root itself).

    ``./etc/`` becomes ``etc``; absolute names and ``..`` components are refused.
    """
    shown = member or name
    if "\x00" in name:
        raise refuse(shown, "has a NUL byte in its name")
    if name.startswith("/"):
        raise refuse(shown, "has an absolute path: it escapes the layer root")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise refuse(shown, "escapes the layer root")
    return "/".join(parts)


def disk_kind(root: Path) -> Callable[[str], str | None]:
    """``kind_of`` for a real directory: lstat, never following a symlink."""
    def kind_of(rel: str) -> str | None:
        try:
            mode = os.lstat(os.path.join(root, rel)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        if stat.S_ISDIR(mode):
            return DIR
        return SYMLINK if stat.S_ISLNK(mode) else FILE
    return kind_of


class MemberChecker:
    """Applies the rules to members in tar order; :meth:`check` returns the clean path."""

    def __init__(self, kind_of: Callable[[str], str | None] | None = None):
        self._made: dict[str, str] = {"": DIR}
        self._kind_of = kind_of or self._made.get

    def check(self, member) -> str:
        """Vet one ``tarfile.TarInfo``; raise :class:`UnsafeLayer` or return its clean path."""
        rel = clean_name(member.name)
        if not rel and not member.isdir():
            raise refuse(member.name, "would replace the layer root")
        base = rel.rpartition("/")[2]
        if base.startswith(WHITEOUT_PREFIX) and base != OPAQUE_MARKER:
            if base[len(WHITEOUT_PREFIX):] in ("", ".", ".."):
                raise refuse(member.name, "is a whiteout of '..', '.' or nothing: it escapes the layer root")
        if member.ischr() or member.isblk():
            raise refuse(member.name, "is a device node; images may not carry devices")
        if not (member.isreg() or member.isdir() or member.issym() or member.islnk()
                or member.isfifo()):
            raise refuse(member.name, f"has unsupported type {member.type!r}")
        self._check_parents(rel, member.name, member.name)
        if member.islnk():
            self._check_hardlink(rel, member)
        self._remember(rel, member)
        return rel

    def _check_parents(self, rel: str, name: str, what: str) -> None:
        parts = rel.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            parent = "/".join(parts[:i])
            kind = self._kind_of(parent)
            if kind == SYMLINK:
                raise refuse(name, f"writes through the symlink {parent!r}"
                             if what == name else f"reaches {what!r} through the symlink {parent!r}")
            if kind == FILE:
                raise refuse(name, f"is below {parent!r}, which is not a directory")

    def _check_hardlink(self, rel: str, member) -> None:
        link = member.linkname
        if link.startswith("/") or ".." in link.split("/"):
            raise refuse(member.name, f"is a hard link to {link!r}, outside the layer root")
        target = clean_name(link, member=member.name)
        self._check_parents(target, member.name, link)
        kind = self._kind_of(target)
        if kind is None or target == rel:
            raise refuse(member.name, f"is a hard link to {link!r}, which the layer has not created")
        if kind == DIR:
            raise refuse(member.name, f"is a hard link to the directory {link!r}")

    def _remember(self, rel: str, member) -> None:
        parent, _, base = rel.rpartition("/")
        if base.startswith(WHITEOUT_PREFIX):
            # A whiteout deletes from lower layers; in this one it makes nothing a
            # later member could write through or link to.
            if base != OPAQUE_MARKER:
                hidden = base[len(WHITEOUT_PREFIX):]
                self._made.pop(f"{parent}/{hidden}" if parent else hidden, None)
            return
        self._made[rel] = DIR if member.isdir() else SYMLINK if member.issym() else FILE
