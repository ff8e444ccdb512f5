"""Fixtures for cgroup tests on the real kernel: root only, a parent of their own.

Every test gets a cgroup parent ``onggi-test-<random>`` that no onggi in use
would touch. Teardown kills whatever is left in it and removes it from every
hierarchy, with plain os calls so that cleanup works even when the code under
test is broken.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path("/sys/fs/cgroup")


@pytest.fixture
def cgroup_parent():
    """A fresh parent name, removed (with all under it) at teardown."""
    if os.geteuid() != 0:
        pytest.skip("needs root: writes to the real cgroupfs")
    parent = f"onggi-test-{secrets.token_hex(4)}"
    yield parent
    for d in _parent_dirs(parent):
        _remove_tree(d)
    still = [str(d) for d in _parent_dirs(parent) if d.exists()]
    assert not still, f"could not remove test cgroups: {still}"


@pytest.fixture
def manager(cgroup_parent):
    from runtime.cgroups import open_manager
    from runtime.errors import Unsupported
    try:
        return open_manager(ROOT, parent=cgroup_parent)
    except Unsupported as e:
        pytest.skip(f"no usable cgroups here: {e.one_line()}")


@pytest.fixture
def spawn():
    """Popen(...) that is killed and reaped at teardown, whatever the test did."""
    procs = []

    def start(*args, **kw):
        proc = subprocess.Popen(*args, **kw)
        procs.append(proc)
        return proc
    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def _parent_dirs(parent: str) -> list[Path]:
    """PARENT in every hierarchy there is (even ones the code should not touch)."""
    if (ROOT / "cgroup.controllers").exists():
        return [ROOT / parent]
    return [mount / parent for mount in sorted(ROOT.iterdir())
            if mount.is_dir() and not mount.is_symlink()]


def _remove_tree(d: Path, deadline: float | None = None) -> None:
    deadline = deadline or time.monotonic() + 10
    if not d.is_dir():
        return
    for child in [c for c in d.iterdir() if c.is_dir()]:
        _remove_tree(child, deadline)
    while True:
        try:
            for pid in (d / "cgroup.procs").read_text().split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        except FileNotFoundError:
            return
        try:
            os.rmdir(d)
            return
        except FileNotFoundError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)
