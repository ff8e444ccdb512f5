"""COPY and ADD: lay out what a step adds in a staging directory that becomes its layer.

The staging directory mirrors the image's root: ``COPY hello.txt /app/`` makes
``<staging>/app/hello.txt``, and :func:`layers.write_layer` turns the directory into
the step's layer tar, as it does for a container's upper directory. Docker's rules:

* a directory source copies its *contents*, not the directory itself;
* a file goes *into* the destination when it ends with "/" or is a directory in
  the image already, else it *is* the destination; several sources need a
  directory destination ending with "/";
* copied files keep their permission bits and mtime, and are owned by 0:0
  unless ``--chown`` says otherwise (names are looked up in the image's own
  /etc/passwd and /etc/group); ``--chmod`` sets the bits;
* parent directories that exist in the image go into the layer with the image's
  mode, owner and time (so ``COPY x /tmp/`` does not reset /tmp's 1777); missing
  ones are made 0755;
* ADD of a local tar archive (plain, gzip, bzip2 or xz, recognised by its bytes)
  unpacks it into the destination, vetted by :mod:`tarsafe` like any layer.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
from pathlib import Path

from runtime.build.context import DIR, FILE, SYMLINK, Item, Source
from runtime.build.layerfs import LayerStack
from runtime.errors import InvalidArgument


class Staging:
    def __init__(self, root: Path, stack: LayerStack, owner: tuple[int, int] | None,
                 chmod: int | None):
        self.root = Path(root)
        self.stack = stack
        self.owner = owner
        self.chmod = chmod
        self._root_user = os.geteuid() == 0

    def host(self, path: str) -> Path:
        return self.root / path.strip("/")

    def ensure_dir(self, path: str) -> Path:
        """The staging directory for the image directory ``path``, parents made as described.

        ``path`` must already be resolved (:meth:`LayerStack.resolve`): a component
        that is a symlink in the image would be replaced by a directory here.
        """
        parts = [p for p in path.strip("/").split("/") if p]
        current = ""
        for part in parts:
            current += "/" + part
            target = self.host(current)
            if os.path.isdir(target):
                continue
            below = self.stack.stat(current)
            if below is not None and not stat.S_ISDIR(below.st_mode):
                # A directory here would hide the image's file (COPY x /etc/passwd/);
                # Docker fails the same way (mkdir: not a directory).
                raise InvalidArgument(f"mkdir {path}: {current} is a file in the image, not a "
                                      "directory", hint="pick a directory that is not an existing file")
            if os.path.lexists(target):
                os.unlink(target)
            os.mkdir(target, 0o755)
            if below is not None and stat.S_ISDIR(below.st_mode):
                self._chown(target, (below.st_uid, below.st_gid))
                os.chmod(target, stat.S_IMODE(below.st_mode))
                os.utime(target, ns=(below.st_atime_ns, below.st_mtime_ns))
            else:
                self._chown(target, self.owner or (0, 0))
        return self.host(path)

    def copy_sources(self, sources: list[Source], dest: str, workdir: str, keyword: str) -> None:
        """Place every source at ``dest`` (already expanded; relative to ``workdir``)."""
        target = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
        target = self.stack.resolve(posixpath.normpath(target))
        several = len(sources) > 1
        into = dest.endswith("/") or dest.endswith("/.") or dest in (".", "") or self.stack.is_dir(target)
        if several and not into:
            raise InvalidArgument(f"When using {keyword} with more than one source file, the "
                                  "destination must be a directory and end with a /")
        for source in sources:
            if source.is_dir:
                base = self.ensure_dir(target)
                for item in source.items:
                    self.put(item, base / item.rel)
            else:
                item = source.items[0]
                name = posixpath.basename(source.name)
                path = posixpath.join(target, name) if into else target
                parent = posixpath.dirname(path)
                self.ensure_dir(parent)
                self.put(item, self.host(path))

    def put(self, item: Item, target: Path) -> None:
        """Copy one context item to ``target`` (in the staging directory)."""
        if os.path.lexists(target) and not (item.kind == DIR and os.path.isdir(target)):
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.unlink(target)
        st = os.lstat(item.path)
        if item.kind == DIR:
            if not os.path.isdir(target):
                os.mkdir(target, 0o755)
        elif item.kind == FILE:
            shutil.copyfile(item.path, target, follow_symlinks=False)
        elif item.kind == SYMLINK:
            os.symlink(os.readlink(item.path), target)
        self._chown(target, self.owner or (0, 0))
        if item.kind != SYMLINK:
            os.chmod(target, self._mode(item.mode))     # after chown, which clears setuid bits
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)

    def extract(self, archive: Path, dest: str, workdir: str, syscalls) -> None:
        """ADD of a local archive: unpack it into the directory ``dest``."""
        from runtime.image.layers import extract
        from runtime.image.streams import decompressed
        target = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
        base = self.ensure_dir(self.stack.resolve(posixpath.normpath(target)))
        with open(archive, "rb") as f:
            extract(decompressed(f), base, syscalls)

    def _mode(self, mode: int) -> int:
        return self.chmod if self.chmod is not None else mode

    def _chown(self, path: Path, owner: tuple[int, int]) -> None:
        # Only root can give files away; a non-root build keeps its own uid.
        if self._root_user:
            os.lchown(path, *owner)


def is_archive(path: Path) -> bool:
    """True for a tar file, compressed (gzip, bzip2, xz) or not: what ADD unpacks.

    Docker's test (``isArchivePath``): decompress by the magic bytes, then read
    one tar header. A compressed file that holds no tar ("notes.txt.gz") is not
    an archive: ADD copies it as it is.
    """
    import tarfile

    from runtime.image.streams import decompressed
    with open(path, "rb") as f:
        stream = decompressed(f)
        head = b""
        try:
            while len(head) < tarfile.BLOCKSIZE:
                more = stream.read(tarfile.BLOCKSIZE - len(head))
                if not more:
                    return False
                head += more
        except (OSError, EOFError, ValueError):     # bad compressed data: not an archive
            return False
    try:
        tarfile.TarInfo.frombuf(head, "utf-8", "surrogateescape")
    except tarfile.HeaderError:          # zeros (an empty tar), or a bad checksum
        return False
    return True


def parse_chmod(text: str | None) -> int | None:
    if text is None:
        return None
    try:
        mode = int(text, 8)
    except ValueError:
        raise InvalidArgument(f"invalid chmod value {text!r}: use an octal mode like 755") from None
    if not 0 <= mode <= 0o7777:
        raise InvalidArgument(f"invalid chmod value {text!r}: use an octal mode like 755")
    return mode


def resolve_owner(spec: str | None, stack: LayerStack) -> tuple[int, int] | None:
    """``--chown=USER[:GROUP]`` as numbers, names looked up in the image's own files."""
    if spec is None:
        return None
    from runtime.container.users import resolve
    user, _, group = spec.partition(":")
    if user.isdigit() and (not group or group.isdigit()):
        return int(user), int(group) if group else int(user)
    passwd = stack.find("/etc/passwd") or "/nonexistent"
    groups = stack.find("/etc/group") or "/nonexistent"
    found = resolve(spec, passwd=str(passwd), group=str(groups))
    return found.uid, found.gid
