"""The build context: the directory COPY and ADD read from, seen through .dockerignore.

:meth:`BuildContext.sources` turns the source arguments of one COPY into the exact
list of files it will copy (wildcards expanded, directories walked, ignored files
left out), and :func:`content_hash` hashes that list: names, types, permission
bits and file contents, not times or owners. That hash is what the build cache
compares, so saving a file unchanged (a new mtime) still hits the cache, and
changing one byte misses it, naming the file.

Only what a COPY names is read; the rest of the context is never walked. A
source path is resolved inside the context (or, for ``COPY --from``, inside the
stage's root filesystem): a symlink on the way is followed as if that directory
were "/", so it can never lead to the host's files. Symlinks *inside* a copied
directory are copied as symlinks.
"""
from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
from dataclasses import dataclass
from pathlib import Path

from runtime.build.dockerignore import Matcher
from runtime.errors import InvalidArgument
from runtime.rootfs.securejoin import secure_join
from runtime.image.digest import new_hasher

DIR, FILE, SYMLINK = "dir", "file", "symlink"
_WILDCARDS = set("*?[")


class SourceNotFound(InvalidArgument):
    hint = "check the path, and that .dockerignore does not exclude it"


@dataclass(frozen=True)
class Item:
    """One thing to copy. ``rel`` is its path below the source ("" for the source itself)."""
    rel: str
    path: Path
    kind: str
    mode: int              # permission bits (S_IMODE)
    digest: str            # sha256 of a file's bytes, a symlink's target, "" for a directory


@dataclass(frozen=True)
class Source:
    name: str              # context-relative ("." for the whole context)
    is_dir: bool
    items: tuple[Item, ...]


class BuildContext:
    def __init__(self, root: Path, ignore: Matcher):
        self.root = Path(root)
        self.ignore = ignore
        self._hashes: dict[tuple, str] = {}

    def sources(self, patterns: list[str]) -> list[Source]:
        """The sources ``patterns`` name, in order; :class:`SourceNotFound` if one names nothing."""
        found: list[Source] = []
        for pattern in patterns:
            matches = self._glob(pattern)
            if not matches:
                raise SourceNotFound(f"{pattern}: not found in the build context or excluded by "
                                     ".dockerignore")
            for name, real in matches:
                found.append(self._source(name, real))
        return found

    def _clean(self, pattern: str) -> str:
        cleaned = posixpath.normpath("/" + pattern).lstrip("/") or "."
        if posixpath.normpath(pattern).startswith(".."):
            raise SourceNotFound(f"{pattern}: outside the build context",
                                 hint="COPY can only read files inside the context directory")
        return cleaned

    def _inside(self, rel: str) -> Path:
        # Symlinks on the way are followed as if the context (or the stage's root
        # filesystem) were "/": a link to /etc must not read the host's /etc.
        return Path(secure_join(str(self.root), rel))

    def _glob(self, pattern: str) -> list[tuple[str, Path]]:
        """(context-relative name, the real path it resolves to) of each match."""
        cleaned = self._clean(pattern)
        if cleaned == ".":
            return [(".", self.root)]
        if not (set(cleaned) & _WILDCARDS):
            real = self._inside(cleaned)
            if os.path.lexists(real) and not self.ignore.excluded(cleaned):
                return [(cleaned, real)]
            return []
        matches = [""]
        for part in cleaned.split("/"):
            nxt = []
            for base in matches:
                if set(part) & _WILDCARDS:
                    try:
                        names = sorted(os.listdir(self._inside(base)))
                    except (NotADirectoryError, FileNotFoundError):
                        continue
                    nxt += [f"{base}/{n}" if base else n for n in names if fnmatch.fnmatchcase(n, part)]
                else:
                    nxt.append(f"{base}/{part}" if base else part)
            matches = nxt
        return [(m, self._inside(m)) for m in matches
                if os.path.lexists(self._inside(m)) and not self.ignore.excluded(m)]

    def _source(self, name: str, path: Path) -> Source:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            item = self._item("", path, st)
            if item is None:
                raise SourceNotFound(f"{name}: not a regular file, directory or symlink")
            return Source(name, False, (item,))
        items = []
        prefix = "" if name == "." else name + "/"

        def walk(directory: Path, rel: str):
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
            for entry in entries:
                child_rel = f"{rel}/{entry.name}" if rel else entry.name
                ctx_rel = prefix + child_rel
                est = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(est.st_mode):
                    if self.ignore.skip_dir(ctx_rel):
                        continue
                    if not self.ignore.excluded(ctx_rel):
                        items.append(self._item(child_rel, Path(entry.path), est))
                    walk(Path(entry.path), child_rel)
                elif not self.ignore.excluded(ctx_rel):
                    item = self._item(child_rel, Path(entry.path), est)
                    if item is not None:
                        items.append(item)

        walk(path, "")
        return Source(name, True, tuple(items))

    def _item(self, rel: str, path: Path, st: os.stat_result) -> Item | None:
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            return Item(rel, path, DIR, stat.S_IMODE(mode), "")
        if stat.S_ISLNK(mode):
            return Item(rel, path, SYMLINK, 0o777, os.readlink(path))
        if stat.S_ISREG(mode):
            return Item(rel, path, FILE, stat.S_IMODE(mode), self._file_digest(path, st))
        return None     # sockets, fifos, devices: Docker skips them too

    def _file_digest(self, path: Path, st: os.stat_result) -> str:
        # Within one build a file named by two COPYs is read once.
        key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        digest = self._hashes.get(key)
        if digest is None:
            h = new_hasher()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            digest = self._hashes[key] = h.hexdigest()
        return digest


def content_hash(sources: list[Source]) -> tuple[str, dict[str, str]]:
    """(one hash over everything the sources hold, {context path: its own hash}).

    The per-file hashes let the cache say *which* file changed.
    """
    h = new_hasher()
    files: dict[str, str] = {}
    for source in sources:
        h.update(f"source {source.name} {source.is_dir}\n".encode())
        for item in source.items:
            line = f"{item.rel}\0{item.kind}\0{item.mode:o}\0{item.digest}\n"
            h.update(line.encode("utf-8", "surrogateescape"))
            shown = source.name if not item.rel else (
                item.rel if source.name == "." else f"{source.name}/{item.rel}")
            files[shown] = f"{item.kind}:{item.mode:o}:{item.digest}"
    return h.hexdigest(), files
