"""Looking into an image's filesystem during a build: its unpacked layers, stacked.

COPY must know what is already at its destination (a directory to copy into? the
mode and owner of a parent directory it must not reset?) and ``--chown=name`` must
read the image's /etc/passwd. :class:`LayerStack` answers such questions from
the layer directories with overlayfs' own rules (a whiteout hides, an opaque
directory hides what is below it), without mounting anything.

``COPY --from`` copies whole trees out of another stage, where merging
directories by hand would be a second overlayfs; :func:`merged_view` lets the
kernel do it with a read-only overlay mount, for the duration of the copy.
"""
from __future__ import annotations

import os
import posixpath
import shutil
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runtime.errors import InvalidArgument

# changes.py holds overlay's lookup rules (whiteouts, opaque directories, files
# hiding lower directories); reuse them rather than keep a second copy.
from runtime.image.changes import lookup


class LayerStack:
    def __init__(self, layer_dirs: list[Path], syscalls):
        self.layers = [Path(d) for d in layer_dirs]      # lowest first
        self.syscalls = syscalls

    def stat(self, path: str) -> os.stat_result | None:
        """lstat of ``path`` (absolute, in the image) as a container would see it, or None."""
        rel = path.strip("/")
        if not rel:
            return None if not self.layers else os.lstat(self.layers[-1])
        return lookup(list(reversed(self.layers)), rel, self.syscalls)

    def is_dir(self, path: str) -> bool:
        st = self.stat(path)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def resolve(self, path: str) -> str:
        """``path`` (absolute, in the image) with every symlink on the way followed.

        COPY, ADD and WORKDIR write *through* a symlink the image has, as Docker
        does: ``COPY x /bin/`` on an image whose /bin links to usr/bin puts x in
        /usr/bin. Writing the path as given would put a real /bin directory in the
        layer, and it would hide the link and everything behind it. Links are
        followed inside the image only: ".." and absolute targets stop at "/".
        The part of the path that does not exist yet is kept as it is.
        """
        todo = [p for p in path.split("/") if p]
        done: list[str] = []
        hops = 0
        while todo:
            part = todo.pop(0)
            if part in (".", ".."):
                if part == ".." and done:
                    done.pop()
                continue
            current = "/" + "/".join([*done, part])
            st = self.stat(current)
            if st is None or not stat.S_ISLNK(st.st_mode):
                done.append(part)
                continue
            hops += 1
            if hops > 40:          # Linux's own limit (MAXSYMLINKS)
                raise InvalidArgument(f"{path}: too many levels of symbolic links in the image")
            target = os.readlink(self.find(current))
            if target.startswith("/"):
                done = []
            todo = [p for p in target.split("/") if p] + todo
        return posixpath.join("/", *done)

    def find(self, path: str) -> Path | None:
        """The host path of the file a container would see at ``path``, or None."""
        rel = path.strip("/")
        if self.stat(path) is None:
            return None
        for layer in reversed(self.layers):
            candidate = layer / rel
            if os.path.lexists(candidate):
                return candidate
        return None


@contextmanager
def merged_view(layer_dirs: list[Path], syscalls, scratch: Path) -> Iterator[Path]:
    """A read-only directory showing the merged layers; gone when the block ends.

    No layers: an empty directory. One layer: that directory itself (read it,
    never write it). Several: an overlay mount with only lower directories, which
    overlayfs makes read-only.
    """
    from runtime.linux.syscalls import MNT_DETACH, MS_RDONLY
    dirs = [str(d) for d in layer_dirs]
    if len(dirs) == 1:
        yield Path(dirs[0])
        return
    scratch.mkdir(parents=True, exist_ok=True)
    point = Path(tempfile.mkdtemp(prefix="view-", dir=scratch))
    mounted = False
    try:
        if dirs:
            syscalls.mount("overlay", point, "overlay", MS_RDONLY,
                           "lowerdir=" + ":".join(reversed(dirs)))
            mounted = True
        yield point
    finally:
        if mounted:
            syscalls.umount2(point, MNT_DETACH)
        shutil.rmtree(point, ignore_errors=True)
