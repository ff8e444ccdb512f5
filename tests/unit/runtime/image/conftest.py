"""Fixtures for the image unit tests: a store in tmp_path, recording fakes, tar builders.

No root needed: whiteouts and xattrs go to :class:`RecordingSyscalls`, and files are
owned by whoever runs the tests.
"""
from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from runtime.config import Config
from runtime.events import RecordingPublisher
from runtime.image.images import ImageStore
from runtime.linux.fake import RecordingSyscalls

ARCHIVES = Path(__file__).resolve().parents[4].parent / "shared" / "fixtures" / "archives"
BUSYBOX = Path("/bin/busybox")


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, removed at teardown rather than kept for three runs."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def config(tmp_path) -> Config:
    return Config(root=tmp_path / "root", run=tmp_path / "run")


@pytest.fixture
def syscalls() -> RecordingSyscalls:
    return RecordingSyscalls()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def store(config, publisher, syscalls) -> ImageStore:
    return ImageStore(config, publisher, syscalls)


@pytest.fixture
def archives() -> Path:
    """The real archives written by docker, podman and skopeo (see its README.md)."""
    if not (ARCHIVES / "docker-save.tar").exists():
        pytest.skip(f"fixture archives not found at {ARCHIVES}")
    return ARCHIVES


@pytest.fixture
def busybox() -> Path:
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("no static busybox (apt-get install busybox-static)")
    return BUSYBOX


@pytest.fixture
def build_tar():
    """build_tar(members, gzip=False) -> bytes.

    Each member is a dict: ``name`` and ``type`` ("file" default, "dir", "symlink",
    "link", "fifo", "chr", "blk"), plus ``data``, ``target``, ``mode``, ``mtime``,
    ``xattrs`` ({name: bytes}) as needed. Written in the given order.
    """
    kinds = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "link": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "chr": tarfile.CHRTYPE,
             "blk": tarfile.BLKTYPE}

    def build(members: list[dict], gzip: bool = False) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz" if gzip else "w", format=tarfile.PAX_FORMAT) as tar:
            for m in members:
                info = tarfile.TarInfo(m["name"])
                info.type = kinds[m.get("type", "file")]
                info.mode = m.get("mode", 0o755 if info.type == tarfile.DIRTYPE else 0o644)
                info.mtime = m.get("mtime", 1_000_000_000)
                info.linkname = m.get("target", "")
                if m.get("xattrs"):
                    info.pax_headers = {f"SCHILY.xattr.{k}": v.decode("utf-8", "surrogateescape")
                                        for k, v in m["xattrs"].items()}
                data = m.get("data", b"")
                info.size = len(data) if info.type == tarfile.REGTYPE else 0
                tar.addfile(info, io.BytesIO(data) if info.size else None)
        return buf.getvalue()

    return build


@pytest.fixture
def rootfs_tar(build_tar) -> bytes:
    """A tiny root filesystem: /bin/tool, /bin/alias (hard link), /etc/motd, /bin/sh symlink."""
    return build_tar([
        {"name": "bin", "type": "dir"},
        {"name": "bin/tool", "data": b"#!/bin/sh\necho tool\n", "mode": 0o755},
        {"name": "bin/alias", "type": "link", "target": "bin/tool"},
        {"name": "bin/sh", "type": "symlink", "target": "/bin/tool"},
        {"name": "etc", "type": "dir"},
        {"name": "etc/motd", "data": b"hello\n"},
    ])


@pytest.fixture
def tree():
    """tree(root) -> {relative path: "dir" | "file:<bytes>" | "symlink:<target>"}."""
    return read_tree


def read_tree(root: Path) -> dict[str, str]:
    result = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                result[rel] = f"symlink:{os.readlink(path)}"
            elif path.is_dir():
                result[rel] = "dir"
            else:
                result[rel] = f"file:{path.read_bytes()!r}"
    return result
