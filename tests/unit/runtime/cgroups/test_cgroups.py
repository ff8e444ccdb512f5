"""runtime/cgroups/__init__.py: detect(), open_manager(), Limits, and the shared file helpers."""
from __future__ import annotations

import errno
import math
import os
import time

import pytest

from runtime.cgroups import (
    Limits, Stats, check_name, check_parent, detect, kill_pids, open_manager, read, remove_dir, write,
)
from runtime.cgroups.v1 import V1Manager
from runtime.cgroups.v2 import V2Manager
from runtime.errors import Conflict, InvalidArgument, Unsupported


@pytest.mark.parametrize("layout, expected", [
    ("v1", "v1"),
    ("v1-combined", "v1"),
    ("v2", "v2"),
    ("hybrid", "hybrid"),
])
def test_detect(cgroupfs, layout, expected):
    fake = cgroupfs(layout)
    assert detect(fake.root) == expected


def test_detect_accepts_a_string_root(cgroupfs):
    assert detect(str(cgroupfs("v2").root)) == "v2"


@pytest.mark.parametrize("make", [
    lambda p: p.mkdir(),                          # an empty tmpfs: nothing mounted
    lambda p: None,                               # no such directory
    lambda p: (p.mkdir(), (p / "unified").mkdir(), (p / "unified" / "cgroup.controllers").write_text("")),
])
def test_detect_nothing_is_unsupported(tmp_path, make):
    root = tmp_path / "cgroup"
    make(root)
    with pytest.raises(Unsupported, match="no cgroup filesystem") as info:
        detect(root)
    assert info.value.hint


@pytest.mark.parametrize("layout, cls, version", [
    ("v1", V1Manager, "v1"),
    ("v1-combined", V1Manager, "v1"),
    ("hybrid", V1Manager, "hybrid"),
    ("v2", V2Manager, "v2"),
])
def test_open_manager_picks_the_backend(cgroupfs, layout, cls, version):
    manager = open_manager(cgroupfs(layout).root, parent="/test/")
    assert type(manager) is cls
    assert manager.version == version
    assert manager.parent == "test"


def test_open_manager_with_a_version_does_no_detection(tmp_path):
    manager = open_manager(tmp_path / "nothing-here", version="v2")
    assert manager.version == "v2"


def test_open_manager_refuses_an_unknown_version(tmp_path):
    with pytest.raises(InvalidArgument, match="invalid cgroup version 'v3'"):
        open_manager(tmp_path, version="v3")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "/abs", "new\nline", "nul\0"])
def test_check_name_refuses(name):
    with pytest.raises(InvalidArgument, match="invalid cgroup name"):
        check_name(name)


@pytest.mark.parametrize("parent, expected", [
    ("onggi", "onggi"), ("/onggi/", "onggi"), ("ci//onggi-test-1", "ci/onggi-test-1"),
])
def test_check_parent(parent, expected):
    assert check_parent(parent) == expected


@pytest.mark.parametrize("parent", ["", "/", "..", "onggi/../../etc", "."])
def test_check_parent_refuses(parent):
    with pytest.raises(InvalidArgument, match="invalid cgroup parent"):
        check_parent(parent)


# --- Limits -----------------------------------------------------------------------

@pytest.mark.parametrize("cpus, kw, quota, period", [
    (0.5, {}, 50_000, 100_000),
    (1.5, {}, 150_000, 100_000),
    (0.01, {}, 1_000, 100_000),
    (2, {}, 200_000, 100_000),
    (0.333333, {}, 33_333, 100_000),
    (2, {"cpu_period": 50_000}, 100_000, 50_000),
])
def test_limits_from_cpus(cpus, kw, quota, period):
    limits = Limits.from_cpus(cpus, **kw)
    assert (limits.cpu_quota, limits.cpu_period) == (quota, period)


def test_limits_from_cpus_keeps_other_limits():
    limits = Limits.from_cpus(0.5, memory=64 << 20, pids=10)
    assert limits == Limits(memory=64 << 20, cpu_quota=50_000, pids=10)


@pytest.mark.parametrize("cpus", [0, 0.0, -1, math.nan, "1"])
def test_limits_from_cpus_refuses(cpus):
    with pytest.raises(InvalidArgument, match="invalid cpus"):
        Limits.from_cpus(cpus)


@pytest.mark.parametrize("kw, field", [
    ({"memory": 0}, "memory"),
    ({"memory": -1}, "memory"),
    ({"memory": 1.5}, "memory"),
    ({"cpu_quota": 999}, "cpu_quota"),
    ({"cpu_period": 999}, "cpu_period"),
    ({"cpu_period": 1_000_001}, "cpu_period"),
    ({"cpu_period": None}, "cpu_period"),
    ({"pids": 0}, "pids"),
    ({"pids": True}, "pids"),
    ({"cpu_shares": 1}, "cpu_shares"),
    ({"cpu_shares": 262_145}, "cpu_shares"),
])
def test_limits_refuse_what_the_kernel_would(kw, field):
    with pytest.raises(InvalidArgument, match=f"invalid cgroup limit {field}="):
        Limits(**kw)


def test_limits_and_stats_defaults():
    assert Limits() == Limits(None, None, 100_000, None, None)
    assert all(value is None for value in vars(Stats()).values())


# --- file helpers -------------------------------------------------------------------

def test_read_missing_is_none(tmp_path):
    assert read(tmp_path / "nope") is None
    assert read(tmp_path / "nope" / "deeper") is None


def test_write_never_creates_a_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        write(tmp_path / "memory.max", 5)
    assert not (tmp_path / "memory.max").exists()


def test_write_replaces_the_whole_value(tmp_path):
    (tmp_path / "pids.max").write_text("max\n")
    write(tmp_path / "pids.max", 12)
    assert (tmp_path / "pids.max").read_text() == "12"


def test_write_error_names_value_and_path(tmp_path, monkeypatch):
    (tmp_path / "memory.max").write_text("max\n")

    def refuse(fd, data):
        raise OSError(errno.EINVAL, "Invalid argument")
    monkeypatch.setattr(os, "write", refuse)
    with pytest.raises(OSError) as info:
        write(tmp_path / "memory.max", 5)
    assert info.value.errno == errno.EINVAL
    assert info.value.filename == str(tmp_path / "memory.max")
    assert "'5'" in info.value.strerror


def test_remove_dir_retries_while_busy(cgroupfs):
    fake = cgroupfs("v2")
    d = fake.root / "gone-soon"
    os.mkdir(d)
    fake.busy[d] = 3
    remove_dir(d, time.monotonic() + 2)
    assert not d.exists()


def test_remove_dir_gives_up_with_conflict(cgroupfs):
    fake = cgroupfs("v2")
    d = fake.root / "stuck"
    os.mkdir(d)
    fake.put("stuck", "cgroup.procs", "4242\n")
    started = time.monotonic()
    with pytest.raises(Conflict, match="still in use .processes 4242") as info:
        remove_dir(d, time.monotonic() + 0.1, lambda: [4242])
    assert time.monotonic() - started < 1
    assert "kill" in info.value.hint


def test_kill_pids_sigkill_lists_again_until_nothing_is_new(sleeper):
    first, second = sleeper(), sleeper()
    listings = iter([[first.pid], [first.pid, second.pid], [first.pid, second.pid]])
    seen = []

    def list_pids():
        seen.append(1)
        return next(listings)
    kill_pids(list_pids, 9)
    assert len(seen) == 3
    assert first.wait(5) == -9 and second.wait(5) == -9


def test_kill_pids_other_signals_go_once(sleeper):
    proc = sleeper()
    calls = []

    def list_pids():
        calls.append(1)
        return [proc.pid]
    kill_pids(list_pids, 15)
    assert calls == [1]
    assert proc.wait(5) == -15


def test_kill_pids_ignores_pids_already_gone():
    # Above PID_MAX_LIMIT (4194304): no process can have it, so no reused pid is hit.
    kill_pids(lambda: [4_194_400], 9)   # no ProcessLookupError
