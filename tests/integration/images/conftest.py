"""Fixtures for image tests on the real kernel: real whiteouts, xattrs and overlay mounts.

Root only. Every store lives in the test's own temporary directory, every overlay
mount is unmounted at teardown (lazily if it is busy), and the directory is then
removed, so nothing is left on the host even when a test fails.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from runtime.config import Config
from runtime.events import RecordingPublisher
from runtime.image.images import ImageStore
from runtime.linux.syscalls import MNT_DETACH, Syscalls

ARCHIVES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "archives"
BUSYBOX = Path("/bin/busybox")


@pytest.fixture
def tmp_path(tmp_path):
    """pytest's tmp_path, removed at teardown: layer dirs hold device nodes and root's files."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def syscalls() -> Syscalls:
    if os.geteuid() != 0:
        pytest.skip("needs root: real whiteouts, trusted.* xattrs and overlay mounts")
    return Syscalls()


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def store(tmp_path, syscalls, publisher) -> ImageStore:
    return ImageStore(Config(root=tmp_path / "root", run=tmp_path / "run"), publisher, syscalls)


@pytest.fixture
def archives() -> Path:
    if not (ARCHIVES / "docker-save.tar").exists():
        pytest.skip(f"fixture archives not found at {ARCHIVES}")
    return ARCHIVES


@pytest.fixture
def busybox() -> Path:
    if not os.access(BUSYBOX, os.X_OK):
        pytest.skip("no static busybox (apt-get install busybox-static)")
    return BUSYBOX


@pytest.fixture
def overlay(tmp_path, syscalls):
    """mount(lower_dirs lowest first, name) -> (merged, upper): an overlay mount, gone at teardown."""
    mounted: list[Path] = []

    def mount(lower_dirs: list[Path], name: str = "ovl") -> tuple[Path, Path]:
        top = tmp_path / name
        merged, upper, work = top / "merged", top / "upper", top / "work"
        for d in (merged, upper, work):
            d.mkdir(parents=True)
        # overlayfs wants the *top* lower layer first.
        lower = ":".join(str(d) for d in reversed(lower_dirs))
        syscalls.mount("overlay", merged, "overlay", 0,
                       f"lowerdir={lower},upperdir={upper},workdir={work}")
        mounted.append(merged)
        return merged, upper

    def unmount(merged: Path) -> None:
        syscalls.umount2(merged)
        mounted.remove(merged)

    mount.unmount = unmount
    yield mount
    for merged in reversed(mounted):
        try:
            syscalls.umount2(merged)
        except OSError:
            syscalls.umount2(merged, MNT_DETACH)


@pytest.fixture
def run_in():
    """run_in(rootfs, *argv) -> CompletedProcess: argv chrooted into rootfs (the image's own busybox)."""
    def run(rootfs: Path, *argv: str, env: dict | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(["chroot", str(rootfs), *argv], capture_output=True, text=True, timeout=30,
                              env=env or {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})
    return run

