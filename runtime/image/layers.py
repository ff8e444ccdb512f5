"""Layer tars to directories and back, translating whiteouts between OCI and overlayfs.

A layer records changes: new and changed files as themselves, deletions as
*whiteouts*. The OCI image spec writes a deletion of ``NAME`` as an empty file
``.wh.NAME``, and "this directory replaces the lower one entirely" as a file
``.wh..wh..opq`` inside it. Overlayfs, which stacks the unpacked layers, wants a
deletion as a character device with device number 0/0 named ``NAME`` and an opaque
directory as the xattr ``trusted.overlay.opaque="y"`` (Documentation/filesystems/
overlayfs.rst: "A whiteout is created as a character device with 0/0 device number
... A directory is made opaque by setting the xattr "trusted.overlay.opaque" to "y"").

* :func:`extract` turns a layer tar into an overlay lower directory (OCI -> overlay);
  :func:`unpack` does so exactly once per layer into ``layers/<diff_id hex>``.
* :func:`write_layer` turns an overlay upper directory back into a layer tar
  (overlay -> OCI), for ``commit``; :func:`write_tree` writes a tar from a spec in
  memory (the base image), both reproducibly: members sorted, uid/gid numbers only
  (empty user and group names), PAX format, integer mtimes.

Device nodes and xattrs go through the ``syscalls`` seam. This module imports
tarfile; the image store imports it only when a layer must actually be unpacked or
written, so resolving an image and finding its (already unpacked) layers stay cheap.
"""
from __future__ import annotations

import errno
import io
import os
import shutil
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from runtime.errors import DigestMismatch
from runtime.image.digest import Digest
from runtime.image.streams import Hashing, decompressed
from runtime.image.tarsafe import (MemberChecker, OPAQUE_MARKER, WHITEOUT_PREFIX, clean_name,
                                   disk_kind)

OVERLAY_OPAQUE = "trusted.overlay.opaque"
WHITEOUT_DEVICE = 0  # os.makedev(0, 0)
_XATTR_PAX = "SCHILY.xattr."
# xattrs a layer may not set: overlayfs reads trusted.overlay.* as instructions
# (opaque, redirect, metacopy); only the whiteout translation here sets them.
_FORBIDDEN_XATTR = "trusted.overlay."
_IGNORED_XATTR_ERRORS = (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP)


@dataclass(frozen=True)
class LayerStats:
    files: int  # entries extracted (files, directories, links, whiteouts)
    size: int   # bytes of regular-file content


def _is_root() -> bool:
    return os.geteuid() == 0


# -- tar -> directory -----------------------------------------------------------------

def extract(stream: BinaryIO, dest: Path, syscalls) -> LayerStats:
    """Extract an uncompressed layer tar read from ``stream`` into the empty directory ``dest``.

    Every member is vetted by :mod:`tarsafe` against what is on disk first;
    :class:`UnsafeLayer` stops the extraction (the caller removes ``dest``).
    Whiteouts become overlay whiteouts. Mode, mtime, xattrs and (as root)
    ownership are kept; hard links stay hard links; symlinks are never followed.
    """
    dest = Path(dest)
    checker = MemberChecker(disk_kind(dest))
    dirs: list[tuple[str, object]] = []
    files = size = 0
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        for member in tar:
            rel = checker.check(member)
            path = os.path.join(dest, rel)
            parent, _, base = rel.rpartition("/")
            if rel:
                _make_parents(dest, parent)
            if base == OPAQUE_MARKER:
                syscalls.lsetxattr(os.path.join(dest, parent), OVERLAY_OPAQUE, b"y")
            elif base.startswith(WHITEOUT_PREFIX):
                hidden = os.path.join(dest, parent, base[len(WHITEOUT_PREFIX):])
                _remove(hidden, keep_dir=False)
                syscalls.mknod(hidden, stat.S_IFCHR | 0o000, WHITEOUT_DEVICE)
            elif member.isdir():
                if rel:
                    _remove(path, keep_dir=True)
                    os.makedirs(path, 0o755, exist_ok=True)
                dirs.append((path, member))
            else:
                _remove(path, keep_dir=False)
                size += _create(tar, member, path, dest)
                if not member.islnk():  # a hard link shares its target's inode and metadata
                    _set_metadata(path, member, syscalls)
            files += 1 if rel else 0
    # Directories last and deepest first: creating children changes a directory's
    # mtime, and a read-only directory would refuse them. A later member may have
    # replaced the directory, or one above it, with a symlink; chmod follows
    # symlinks, so only a path that is still directories all the way is touched.
    for path, member in reversed(dirs):
        if _still_a_directory(dest, path):
            _set_metadata(path, member, syscalls)
    return LayerStats(files=files, size=size)


def _still_a_directory(dest: Path, path: str) -> bool:
    rel = os.path.relpath(path, dest)
    parts = [] if rel == "." else rel.split("/")
    for i in range(1, len(parts) + 1):
        try:
            if not stat.S_ISDIR(os.lstat(os.path.join(dest, *parts[:i])).st_mode):
                return False
        except FileNotFoundError:
            return False
    return True


def _make_parents(dest: Path, parent: str) -> None:
    # Parents a layer omits are made like Docker does: 0755, owned by root. The
    # checker has already refused any parent that is a symlink or a file.
    if parent:
        os.makedirs(os.path.join(dest, parent), 0o755, exist_ok=True)


def _remove(path: str, *, keep_dir: bool) -> None:
    """Clear the way for a member: a later entry replaces an earlier one."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if stat.S_ISDIR(mode):
        if not keep_dir:
            shutil.rmtree(path)  # rmtree never follows symlinks
    else:
        os.unlink(path)


def _create(tar, member, path: str, dest: Path) -> int:
    if member.isreg():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(tar.extractfile(member), out, 1 << 20)
        return member.size
    if member.issym():
        os.symlink(member.linkname, path)
    elif member.islnk():
        os.link(os.path.join(dest, clean_name(member.linkname)), path, follow_symlinks=False)
    elif member.isfifo():
        os.mkfifo(path, 0o600)
    return 0


def _set_metadata(path: str, member, syscalls) -> None:
    if _is_root():
        os.lchown(path, member.uid, member.gid)
    if not member.issym():
        os.chmod(path, member.mode & 0o7777)  # after chown, which clears setuid bits
    for key, value in member.pax_headers.items():
        if key.startswith(_XATTR_PAX) and not key[len(_XATTR_PAX):].startswith(_FORBIDDEN_XATTR):
            try:
                syscalls.lsetxattr(path, key[len(_XATTR_PAX):],
                                   value.encode("utf-8", "surrogateescape"))
            except OSError as e:
                # Not root, or a filesystem without xattrs: the file is still right.
                if e.errno not in _IGNORED_XATTR_ERRORS:
                    raise
    os.utime(path, (member.mtime, member.mtime), follow_symlinks=False)


def unpack(stream: BinaryIO, layers_dir: Path, diff_id: str, syscalls) -> tuple[Path, LayerStats | None]:
    """Unpack a (possibly compressed) layer blob once into ``layers_dir/<diff_id hex>``.

    Returns (directory, stats), stats None when the directory already existed.
    The tar goes into a temporary directory beside the final one, its uncompressed
    bytes are checked against ``diff_id`` (:class:`DigestMismatch`), and it is
    renamed into place: a layer directory that exists is complete. When several
    processes unpack the same layer, the first rename wins and the others remove
    their copies. On any error the temporary directory is removed.
    """
    want = Digest.parse(diff_id)
    final = Path(layers_dir) / want.hex
    if final.is_dir():
        return final, None
    Path(layers_dir).mkdir(parents=True, exist_ok=True)
    tmp = Path(layers_dir) / f".tmp-{want.hex[:12]}-{os.urandom(4).hex()}"
    os.mkdir(tmp, 0o755)
    try:
        hashed = Hashing(decompressed(stream))
        stats = extract(hashed, tmp, syscalls)
        hashed.drain()
        if hashed.digest != want:
            raise DigestMismatch(f"unpack layer {want.short}: its content is {hashed.digest}")
        try:
            os.rename(tmp, final)
        except OSError as e:
            if e.errno not in (errno.EEXIST, errno.ENOTEMPTY):
                raise
            shutil.rmtree(tmp)  # another process won the race; its copy is identical
            return final, None
        return final, stats
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -- directory -> tar ----------------------------------------------------------------

def write_layer(src: Path, out: BinaryIO, syscalls) -> None:
    """Write the overlay upper directory ``src`` to ``out`` as an OCI layer tar.

    A 0/0 character device becomes ``.wh.NAME`` and an opaque directory gets a
    ``.wh..wh..opq`` member, as Docker's overlay2 driver writes them (mode 0600 for
    whiteouts; the opaque marker takes its directory's mode and mtime 0). Hard links
    within ``src`` stay hard links. Other device nodes and sockets are left out: the
    runtime makes /dev at run time, and extraction would refuse them.
    """
    seen: dict[tuple[int, int], str] = {}
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for rel, st in _walk(Path(src)):
            path = os.path.join(src, rel)
            parent, _, base = rel.rpartition("/")
            mode = st.st_mode
            if stat.S_ISCHR(mode) and st.st_rdev == WHITEOUT_DEVICE:
                whiteout = f"{parent}/{WHITEOUT_PREFIX}{base}" if parent else WHITEOUT_PREFIX + base
                tar.addfile(_info(whiteout, tarfile.REGTYPE, st, mode=0o600))
            elif stat.S_ISDIR(mode):
                tar.addfile(_info(rel, tarfile.DIRTYPE, st))
                if syscalls.lgetxattr(path, OVERLAY_OPAQUE) == b"y":
                    tar.addfile(_info(f"{rel}/{OPAQUE_MARKER}", tarfile.REGTYPE, st, mtime=0))
            elif stat.S_ISREG(mode):
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in seen:
                    tar.addfile(_info(rel, tarfile.LNKTYPE, st, linkname=seen[key]))
                    continue
                seen[key] = rel
                info = _info(rel, tarfile.REGTYPE, st, size=st.st_size)
                cap = syscalls.lgetxattr(path, "security.capability")
                if cap:
                    info.pax_headers = {_XATTR_PAX + "security.capability":
                                        cap.decode("utf-8", "surrogateescape")}
                with open(path, "rb") as f:
                    tar.addfile(info, f)
            elif stat.S_ISLNK(mode):
                tar.addfile(_info(rel, tarfile.SYMTYPE, st, linkname=os.readlink(path)))
            elif stat.S_ISFIFO(mode):
                tar.addfile(_info(rel, tarfile.FIFOTYPE, st))


def _walk(root: Path) -> Iterable[tuple[str, os.stat_result]]:
    """(relative path, lstat) of everything below ``root``, sorted, parents first."""
    def walk(rel: str):
        with os.scandir(os.path.join(root, rel)) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            child = f"{rel}/{entry.name}" if rel else entry.name
            st = entry.stat(follow_symlinks=False)
            yield child, st
            if stat.S_ISDIR(st.st_mode):
                yield from walk(child)
    return walk("")


def _info(name: str, type_: bytes, st, *, mode: int | None = None, size: int = 0,
          linkname: str = "", mtime: int | None = None):
    info = tarfile.TarInfo(name)
    info.type = type_
    info.mode = stat.S_IMODE(st.st_mode) if mode is None else mode
    info.uid, info.gid = st.st_uid, st.st_gid
    info.uname = info.gname = ""
    info.mtime = int(st.st_mtime) if mtime is None else mtime
    info.size = size
    info.linkname = linkname
    return info


@dataclass(frozen=True)
class Entry:
    """One member of a tree written by :func:`write_tree`.

    ``kind`` is "dir", "file", "symlink" or "link" (hard link to ``target``).
    """
    path: str
    kind: str
    mode: int = 0o755
    data: bytes = b""
    source: Path | None = None  # a file's content, read when written
    target: str = ""
    uid: int = 0
    gid: int = 0


def write_tree(entries: Iterable[Entry], out: BinaryIO, mtime: int) -> None:
    """Write ``entries`` as a layer tar, every member at ``mtime``.

    Members are sorted by path, hard links after everything else: a link must
    come after its target (``bin/[`` sorts before ``bin/busybox``).

    Nothing is read from the filesystem except ``source`` contents, so the tar is
    the same whoever writes it (root or not): the base image is reproducible.
    """
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for e in sorted(entries, key=lambda e: (e.kind == "link", e.path)):
            info = tarfile.TarInfo(e.path)
            info.mode, info.uid, info.gid, info.mtime = e.mode, e.uid, e.gid, mtime
            info.uname = info.gname = ""
            if e.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif e.kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, e.target
                tar.addfile(info)
            elif e.kind == "link":
                info.type, info.linkname = tarfile.LNKTYPE, e.target
                tar.addfile(info)
            elif e.source is not None:
                info.size = os.stat(e.source).st_size
                with open(e.source, "rb") as f:
                    tar.addfile(info, f)
            else:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
