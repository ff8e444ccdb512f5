"""runtime/cgroups/v2.py on a fake unified tree."""
from __future__ import annotations

import errno
import os

import pytest

from runtime.cgroups import Limits, Stats, open_manager, v2
from runtime.cgroups.v2 import shares_to_weight, weight_to_shares
from runtime.errors import Conflict, Unsupported

MiB = 1 << 20


@pytest.fixture
def fake(cgroupfs):
    return cgroupfs("v2")


@pytest.fixture
def manager(fake):
    return open_manager(fake.root, parent="onggi")


def test_create_enables_controllers_down_to_the_parent(fake, manager):
    cgroup = manager.create("c1", Limits())
    assert fake.read("cgroup.subtree_control") == "+cpu +memory +pids"
    assert fake.read("onggi", "cgroup.subtree_control") == "+cpu +memory +pids"
    # The container's own cgroup holds processes: it must not enable anything.
    assert fake.read("onggi", "c1", "cgroup.subtree_control") == "\n"
    assert fake.read("onggi", "c1", "cgroup.controllers") == "cpu memory pids\n"
    assert cgroup.dirs() == {"unified": fake.root / "onggi" / "c1"}
    assert cgroup.path == "/onggi/c1"


def test_create_writes_the_limits(fake, manager):
    manager.create("c1", Limits.from_cpus(0.5, memory=64 * MiB, pids=100, cpu_shares=1024))
    assert fake.read("onggi", "c1", "memory.max") == str(64 * MiB)
    assert fake.read("onggi", "c1", "memory.swap.max") == "0"
    assert fake.read("onggi", "c1", "cpu.max") == "50000 100000"
    assert fake.read("onggi", "c1", "cpu.weight") == "100"
    assert fake.read("onggi", "c1", "pids.max") == "100"


def test_create_new_without_limits_writes_nothing_in_it(fake, manager):
    manager.create("c1", Limits())
    for path in (fake.root / "onggi" / "c1").iterdir():
        assert path.read_text().endswith("\n"), f"{path.name} was written"


def test_create_again_resets_unset_limits(fake, manager):
    manager.create("c1", Limits.from_cpus(2, memory=64 * MiB, pids=100, cpu_shares=512))
    cgroup = manager.create("c1", Limits())
    assert fake.read("onggi", "c1", "memory.max") == "max"
    assert fake.read("onggi", "c1", "memory.swap.max") == "max"
    assert fake.read("onggi", "c1", "cpu.max") == "max 100000"
    assert fake.read("onggi", "c1", "cpu.weight") == "100"
    assert fake.read("onggi", "c1", "pids.max") == "max"
    assert cgroup.limits() == Limits()


def test_controllers_already_enabled_are_not_written_again(fake, manager):
    fake.put("cgroup.subtree_control", "cpu memory pids\n")      # as the kernel shows it
    manager.create("c1", Limits())
    assert fake.read("cgroup.subtree_control") == "cpu memory pids\n"


def test_only_missing_controllers_are_enabled(fake, manager):
    fake.put("cgroup.subtree_control", "memory io\n")
    manager.create("c1", Limits())
    assert fake.read("cgroup.subtree_control") == "+cpu +pids"


def test_a_nested_parent_is_enabled_at_every_level(cgroupfs):
    fake = cgroupfs("v2")
    manager = open_manager(fake.root, parent="ci/run-7")
    manager.create("c1", Limits(memory=64 * MiB))
    for level in ((), ("ci",), ("ci", "run-7")):
        assert fake.read(*level, "cgroup.subtree_control") == "+cpu +memory +pids"
    assert fake.read("ci", "run-7", "c1", "memory.max") == str(64 * MiB)
    assert manager.get("c1").path == "/ci/run-7/c1"


def test_only_controllers_the_root_offers_are_written(cgroupfs):
    fake = cgroupfs("v2", offered="memory pids io")
    cgroup = open_manager(fake.root).create("c1", Limits(memory=64 * MiB))
    assert fake.read("cgroup.subtree_control") == "+memory +pids"
    assert not (cgroup.dirs()["unified"] / "cpu.max").exists()
    assert cgroup.limits() == Limits(memory=64 * MiB)


@pytest.mark.parametrize("offered, limits, missing", [
    ("cpu pids", Limits(memory=64 * MiB), "memory"),
    ("cpu memory", Limits(pids=10), "pids"),
    ("memory pids", Limits.from_cpus(1), "cpu"),
    ("memory pids", Limits(cpu_shares=512), "cpu"),
])
def test_a_limit_without_its_controller_is_unsupported(cgroupfs, offered, limits, missing):
    fake = cgroupfs("v2", offered=offered)
    with pytest.raises(Unsupported, match=f"controller '{missing}' is not available") as info:
        open_manager(fake.root).create("c1", limits)
    assert info.value.hint
    assert not (fake.root / "onggi").exists()


def refusing(path_name, err):
    """A write() that fails with ERR for every "+..." written to PATH_NAME."""
    real = v2.write

    def write(path, value):
        if path.name == path_name and str(value).startswith("+"):
            raise OSError(err, os.strerror(err), str(path))
        return real(path, value)
    return write


def test_no_internal_processes_rule_is_explained(fake, manager, monkeypatch):
    monkeypatch.setattr(v2, "write", refusing("cgroup.subtree_control", errno.EBUSY))
    with pytest.raises(Unsupported, match="has processes of its own") as info:
        manager.create("c1", Limits(memory=64 * MiB))
    assert "child cgroup" in info.value.hint


def test_controllers_refused_but_not_needed_are_left_out(fake, manager, monkeypatch):
    monkeypatch.setattr(v2, "write", refusing("cgroup.subtree_control", errno.EBUSY))
    cgroup = manager.create("c1", Limits())
    assert fake.read("onggi", "c1", "cgroup.controllers") == "\n"
    assert cgroup.stats().memory_current is None


def test_one_refused_controller_does_not_stop_the_others(fake, manager, monkeypatch):
    real = v2.write

    def write(path, value):
        if path.name == "cgroup.subtree_control" and "+cpu" in str(value):
            raise OSError(errno.EINVAL, "Invalid argument", str(path))   # e.g. an RT task below
        return real(path, value)
    monkeypatch.setattr(v2, "write", write)
    cgroup = manager.create("c1", Limits(memory=64 * MiB))
    assert fake.read("cgroup.subtree_control") == "+pids"    # the last one-at-a-time write
    assert fake.read("onggi", "c1", "memory.max") == str(64 * MiB)
    assert "cpu.max" not in cgroup.files()


def test_no_swap_accounting(fake, manager):
    os.mkdir(fake.root / "onggi")
    fake.put("cgroup.subtree_control", "cpu memory pids\n")
    fake.put("onggi", "cgroup.subtree_control", "cpu memory pids\n")
    os.mkdir(fake.root / "onggi" / "c1")
    (fake.root / "onggi" / "c1" / "memory.swap.max").unlink()
    manager.create("c1", Limits(memory=64 * MiB))
    assert fake.read("onggi", "c1", "memory.max") == str(64 * MiB)


@pytest.mark.parametrize("shares, weight", [
    (2, 1), (1024, 100), (262_144, 10_000), (512, 59), (2048, 174), (1, 1), (300_000, 10_000),
])
def test_shares_to_weight(shares, weight):
    assert shares_to_weight(shares) == weight


@pytest.mark.parametrize("shares", [2, 100, 512, 1024, 4096, 100_000, 262_144])
def test_weight_reads_back_close_to_the_shares(shares):
    back = weight_to_shares(shares_to_weight(shares))
    assert abs(back - shares) <= max(2, shares * 0.05)
    assert weight_to_shares(100) == 1024


def test_limits_read_back(fake, manager):
    limits = Limits.from_cpus(0.5, memory=64 * MiB, pids=100, cpu_period=200_000)
    assert manager.create("c1", limits).limits() == limits


def test_limits_read_back_shares_approximately(fake, manager):
    assert manager.create("c1", Limits(cpu_shares=512)).limits().cpu_shares == 521


def test_stats_parse_what_the_kernel_shows(fake, manager):
    manager.create("c1", Limits(memory=64 * MiB, pids=50))
    put = fake.put
    put("onggi", "c1", "memory.current", "21553152\n")
    put("onggi", "c1", "memory.peak", "33554432\n")
    put("onggi", "c1", "memory.events", "low 0\nhigh 0\nmax 41\noom 2\noom_kill 2\noom_group_kill 0\n")
    put("onggi", "c1", "cpu.stat", "usage_usec 7021358\nuser_usec 5000000\nsystem_usec 2021358\n"
                                   "nr_periods 120\nnr_throttled 30\nthrottled_usec 4500000\n"
                                   "nr_bursts 0\nburst_usec 0\n")
    put("onggi", "c1", "pids.current", "3\n")
    cgroup = manager.get("c1")
    assert cgroup.stats() == Stats(
        memory_current=21553152, memory_max=64 * MiB, memory_peak=33554432,
        pids_current=3, pids_max=50,
        cpu_usage_ns=7021358000, cpu_nr_periods=120, cpu_nr_throttled=30,
        cpu_throttled_ns=4500000000, oom_kills=2, memory_inactive_file=4194304)
    assert cgroup.oom_kills() == 2


def test_stats_without_the_cpu_controller(cgroupfs):
    fake = cgroupfs("v2", offered="memory pids")
    cgroup = open_manager(fake.root).create("c1", Limits())
    fake.put("onggi", "c1", "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n")
    stats = cgroup.stats()
    assert stats.cpu_usage_ns == 10_000
    assert stats.cpu_nr_periods is stats.cpu_throttled_ns is None


def test_stats_of_a_missing_cgroup_are_unknown(manager):
    assert manager.get("gone").stats() == Stats()
    assert manager.get("gone").oom_kills() == 0


def test_files_show_the_kernel_names(fake, manager):
    cgroup = manager.create("c1", Limits.from_cpus(0.5, memory=64 * MiB, pids=100))
    files = cgroup.files()
    assert list(files)[:5] == ["memory.max", "memory.swap.max", "cpu.max", "cpu.weight", "pids.max"]
    assert files["memory.max"] == "67108864"
    assert files["pids.max"] == "100"
    assert files["cpu.max"] == "50000 100000"
    assert files["cgroup.procs"] == ""
    assert "memory.high" not in files


def test_add_and_procs(fake, manager):
    cgroup = manager.create("c1", Limits())
    cgroup.add(4321)
    assert fake.read("onggi", "c1", "cgroup.procs") == "4321"
    fake.put("onggi", "c1", "cgroup.procs", "9\n4321\n")
    assert cgroup.procs() == [9, 4321]


def test_kill_uses_cgroup_kill(fake, manager):
    cgroup = manager.create("c1", Limits())
    fake.put("onggi", "c1", "cgroup.procs", "4194400\n")     # never signalled: cgroup.kill does it
    cgroup.kill()
    assert fake.read("onggi", "c1", "cgroup.kill") == "1"


def test_kill_without_cgroup_kill_signals_each(fake, manager, sleeper):
    cgroup = manager.create("c1", Limits())
    (fake.root / "onggi" / "c1" / "cgroup.kill").unlink()       # kernel before 5.14
    proc = sleeper()
    fake.put("onggi", "c1", "cgroup.procs", f"{proc.pid}\n")
    cgroup.kill()
    assert proc.wait(5) == -9


def test_kill_with_another_signal_signals_each(fake, manager, sleeper):
    cgroup = manager.create("c1", Limits())
    proc = sleeper()
    fake.put("onggi", "c1", "cgroup.procs", f"{proc.pid}\n")
    cgroup.kill(15)
    assert proc.wait(5) == -15
    assert fake.read("onggi", "c1", "cgroup.kill") == "\n"


def test_names_and_exists(fake, manager):
    assert manager.names() == []
    manager.create("b", Limits())
    manager.create("a", Limits())
    assert manager.names() == ["a", "b"]
    assert manager.exists("a") and not manager.exists("c")


def test_destroy_is_idempotent_and_keeps_the_parent(fake, manager):
    cgroup = manager.create("c1", Limits(memory=64 * MiB))
    cgroup.destroy()
    assert not (fake.root / "onggi" / "c1").exists()
    assert (fake.root / "onggi").is_dir()
    cgroup.destroy()


def test_destroy_removes_nested_cgroups(fake, manager):
    cgroup = manager.create("c1", Limits())
    os.mkdir(fake.root / "onggi" / "c1" / "init.scope")
    cgroup.destroy()
    assert not manager.exists("c1")


def test_destroy_retries_then_gives_up(fake, manager):
    cgroup = manager.create("c1", Limits())
    fake.busy[fake.root / "onggi" / "c1"] = 3
    cgroup.destroy()
    assert not manager.exists("c1")
    cgroup = manager.create("c2", Limits())
    fake.put("onggi", "c2", "cgroup.procs", "77\n")
    with pytest.raises(Conflict, match=r"remove cgroup .*c2: it is still in use \(processes 77\)"):
        cgroup.destroy(timeout=0.05)


def test_v2_has_no_spares(cgroupfs):
    """A launch on v2 clones straight into its cgroup: no zygote, so no spare."""
    fake = cgroupfs("v2")
    manager = open_manager(fake.root, parent="onggi")
    assert manager.spare(os.getpid()) is None
    assert manager.remove_stale_spares() == []
    with pytest.raises(Unsupported):
        manager.adopt(None, "c1", Limits())
