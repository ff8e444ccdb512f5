"""runtime/cgroups/v1.py on fake v1 trees: separate cpu/cpuacct, combined cpu,cpuacct, hybrid."""
from __future__ import annotations

import errno
import os

import pytest

from runtime.cgroups import Limits, Stats, make_dir, open_manager, v1
from runtime.errors import Conflict, Unsupported

UNLIMITED = "9223372036854771712"   # the kernel's v1 "no memory limit"

MiB = 1 << 20
USED = ("memory", "cpu", "cpuacct", "pids")
UNTOUCHED = ("cpuset", "devices", "freezer", "blkio", "systemd")


@pytest.fixture(params=["v1", "v1-combined", "hybrid"])
def fake(request, cgroupfs):
    return cgroupfs(request.param)


@pytest.fixture
def manager(fake):
    return open_manager(fake.root, parent="onggi")


def cpu_dir(fake):
    return "cpu,cpuacct" if fake.layout == "v1-combined" else "cpu"


def test_create_makes_the_cgroup_only_in_the_controllers_it_uses(fake, manager):
    cgroup = manager.create("c1", Limits())
    for controller in USED:
        assert (fake.root / controller / "onggi" / "c1" / "cgroup.procs").exists()
    for controller in UNTOUCHED:
        assert not (fake.root / controller / "onggi").exists()
    if fake.layout == "hybrid":
        assert sorted(p.name for p in (fake.root / "unified").iterdir() if p.is_dir()) == []
    assert cgroup.path == "/onggi/c1"
    assert cgroup.name == "c1"


def test_dirs_follow_the_combined_mount(fake, manager):
    dirs = manager.get("c1").dirs()
    assert set(dirs) == set(USED)
    assert dirs["cpu"] == fake.root / cpu_dir(fake) / "onggi" / "c1"
    if fake.layout == "v1-combined":
        assert dirs["cpuacct"] == dirs["cpu"]
        assert len(manager.get("c1").unique_dirs()) == 3


def test_create_writes_the_limits(fake, manager):
    manager.create("c1", Limits.from_cpus(0.5, memory=64 * MiB, pids=100, cpu_shares=512))
    assert fake.read("memory", "onggi", "c1", "memory.limit_in_bytes") == str(64 * MiB)
    # swap off: memory+swap = memory
    assert fake.read("memory", "onggi", "c1", "memory.memsw.limit_in_bytes") == str(64 * MiB)
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.cfs_quota_us") == "50000"
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.cfs_period_us") == "100000\n"   # left alone
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.shares") == "512"
    assert fake.read("pids", "onggi", "c1", "pids.max") == "100"


def test_create_new_without_limits_writes_nothing(fake, manager):
    manager.create("c1", Limits())
    for controller in USED:
        for path in (fake.root / controller / "onggi" / "c1").iterdir():
            assert path.read_text().endswith("\n"), f"{path.name} was written"


def test_create_writes_a_non_default_period(fake, manager):
    manager.create("c1", Limits(cpu_quota=25_000, cpu_period=50_000))
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.cfs_period_us") == "50000"
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.cfs_quota_us") == "25000"


def test_create_again_resets_unset_limits(fake, manager):
    manager.create("c1", Limits.from_cpus(1.5, memory=64 * MiB, pids=100, cpu_shares=512))
    cgroup = manager.create("c1", Limits())
    d = {c: fake.root / c / "onggi" / "c1" for c in USED}
    assert (d["memory"] / "memory.limit_in_bytes").read_text() == "-1"
    assert (d["memory"] / "memory.memsw.limit_in_bytes").read_text() == "-1"
    assert (d["cpu"] / "cpu.cfs_quota_us").read_text() == "-1"
    assert (d["cpu"] / "cpu.cfs_period_us").read_text() == "100000"
    assert (d["cpu"] / "cpu.shares").read_text() == "1024"
    assert (d["pids"] / "pids.max").read_text() == "max"
    assert cgroup.limits() == Limits()


class KernelMemoryRules:
    """Records writes and refuses, like the kernel, any that would leave
    memory.limit_in_bytes above memory.memsw.limit_in_bytes."""

    def __init__(self):
        self.log = []

    def __call__(self, path, value):
        if path.name in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):
            def current(name):
                text = (path.parent / name).read_text().strip()
                return float("inf") if text in ("-1", UNLIMITED) else int(text)
            new = float("inf") if int(value) == -1 else int(value)
            limit = new if path.name == "memory.limit_in_bytes" else current("memory.limit_in_bytes")
            memsw = new if path.name == "memory.memsw.limit_in_bytes" else current("memory.memsw.limit_in_bytes")
            if limit > memsw:
                raise OSError(errno.EINVAL, "Invalid argument", str(path))
            self.log.append((path.name, str(value)))
        path.write_text(str(value))


@pytest.mark.parametrize("old, new, first", [
    (None, 64 * MiB, "memory.limit_in_bytes"),          # a new limit lowers "unlimited"
    (64 * MiB, 128 * MiB, "memory.memsw.limit_in_bytes"),  # raising: memsw first
    (128 * MiB, 32 * MiB, "memory.limit_in_bytes"),     # lowering: limit first
    (64 * MiB, None, "memory.memsw.limit_in_bytes"),    # lifting: memsw first
    (64 * MiB, 64 * MiB, "memory.limit_in_bytes"),
])
def test_memory_and_swap_are_written_in_the_order_the_kernel_accepts(fake, manager, monkeypatch, old, new, first):
    manager.create("c1", Limits(memory=old))
    rules = KernelMemoryRules()
    monkeypatch.setattr(v1, "write", rules)
    manager.create("c1", Limits(memory=new))
    assert rules.log[0][0] == first
    expected = "-1" if new is None else str(new)
    assert [value for _, value in rules.log] == [expected, expected]


def test_memory_without_swap_accounting(fake, manager):
    os.mkdir(fake.root / "memory" / "onggi")
    os.mkdir(fake.root / "memory" / "onggi" / "c1")
    (fake.root / "memory" / "onggi" / "c1" / "memory.memsw.limit_in_bytes").unlink()
    manager.create("c1", Limits(memory=64 * MiB))
    assert fake.read("memory", "onggi", "c1", "memory.limit_in_bytes") == str(64 * MiB)


def test_create_refuses_a_limit_whose_controller_is_not_mounted(cgroupfs):
    fake = cgroupfs("v1")
    (fake.root / "pids").rename(fake.root / "not-pids")
    manager = open_manager(fake.root, parent="onggi")
    with pytest.raises(Unsupported, match="controller 'pids' is not mounted") as info:
        manager.create("c1", Limits(pids=10))
    assert "--pids-limit" in info.value.hint
    cgroup = manager.create("c1", Limits(memory=64 * MiB))     # fine without the limit
    assert "pids" not in cgroup.dirs()


def test_create_refuses_when_no_controller_we_use_is_mounted(cgroupfs):
    fake = cgroupfs("v1")
    for controller in USED:
        (fake.root / controller).rename(fake.root / f"x-{controller}")
    with pytest.raises(Unsupported, match="none of the cgroup v1 controllers"):
        open_manager(fake.root, version="v1").create("c1", Limits())


def test_add_writes_every_hierarchy_once(fake, manager, monkeypatch):
    cgroup = manager.create("c1", Limits())
    written = []
    monkeypatch.setattr(v1, "write", lambda path, value: (written.append(path), path.write_text(f"{value}\n")))
    cgroup.add(4321)
    assert sorted(written) == sorted(set(written))
    assert len(written) == (3 if fake.layout == "v1-combined" else 4)
    for controller in USED:
        assert fake.read(controller, "onggi", "c1", "cgroup.procs") == "4321\n"


def test_procs_is_the_sorted_union(fake, manager):
    manager.create("c1", Limits())
    fake.put("memory", "onggi", "c1", "cgroup.procs", "12\n7\n12\n")    # v1 may repeat
    fake.put("pids", "onggi", "c1", "cgroup.procs", "7\n99\n")
    assert manager.get("c1").procs() == [7, 12, 99]


def test_limits_read_back(fake, manager):
    limits = Limits.from_cpus(0.5, memory=64 * MiB, pids=100, cpu_shares=512)
    assert manager.create("c1", limits).limits() == limits


def test_limits_read_kernel_defaults_as_none(fake, manager):
    manager.create("c1", Limits())
    assert manager.get("c1").limits() == Limits()


def test_stats_parse_what_the_kernel_shows(fake, manager):
    manager.create("c1", Limits(memory=64 * MiB, pids=50))
    put = fake.put
    put("memory", "onggi", "c1", "memory.usage_in_bytes", "21553152\n")
    put("memory", "onggi", "c1", "memory.max_usage_in_bytes", "33554432\n")
    put("memory", "onggi", "c1", "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    put(cpu_dir(fake), "onggi", "c1", "cpu.stat",
        "nr_periods 120\nnr_throttled 30\nthrottled_time 4500000000\nnr_bursts 0\nburst_time 0\n")
    put("cpuacct", "onggi", "c1", "cpuacct.usage", "7021358311\n")
    put("pids", "onggi", "c1", "pids.current", "3\n")
    assert manager.get("c1").stats() == Stats(
        memory_current=21553152, memory_max=64 * MiB, memory_peak=33554432,
        pids_current=3, pids_max=50,
        cpu_usage_ns=7021358311, cpu_nr_periods=120, cpu_nr_throttled=30,
        cpu_throttled_ns=4500000000, oom_kills=2, memory_inactive_file=5349376)
    assert manager.get("c1").oom_kills() == 2


def test_stats_of_a_missing_cgroup_are_unknown(manager):
    assert manager.get("gone").stats() == Stats()
    assert manager.get("gone").oom_kills() == 0
    assert manager.get("gone").procs() == []
    assert manager.get("gone").files() == {}


def test_files_show_the_kernel_names(fake, manager):
    cgroup = manager.create("c1", Limits.from_cpus(0.5, memory=64 * MiB, pids=100))
    files = cgroup.files()
    assert list(files)[:6] == ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes",
                               "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.shares", "pids.max"]
    assert files["memory.limit_in_bytes"] == str(64 * MiB)
    assert files["cpu.cfs_quota_us"] == "50000"
    assert files["cpu.cfs_period_us"] == "100000"
    assert files["pids.max"] == "100"
    assert files["memory.oom_control"].endswith("oom_kill 0")
    assert files["cgroup.procs"] == ""
    assert "cpuset.cpus" not in files


def test_names_and_exists(fake, manager):
    assert manager.names() == []
    manager.create("b", Limits())
    manager.create("a", Limits())
    os.makedirs(fake.root / "pids" / "onggi" / "leftover")   # half made by a crash
    assert manager.names() == ["a", "b", "leftover"]
    assert manager.exists("a") and manager.exists("leftover")
    assert not manager.exists("nope")


def test_destroy_removes_every_directory_and_is_idempotent(fake, manager):
    cgroup = manager.create("c1", Limits(memory=64 * MiB))
    cgroup.destroy()
    for controller in USED:
        assert not (fake.root / controller / "onggi" / "c1").exists()
        assert (fake.root / controller / "onggi").exists()      # the parent stays
    cgroup.destroy()
    manager.get("never-made").destroy()
    assert not manager.exists("c1")


def test_destroy_waits_for_a_busy_cgroup(fake, manager):
    cgroup = manager.create("c1", Limits())
    fake.busy[fake.root / "memory" / "onggi" / "c1"] = 5
    cgroup.destroy(timeout=2)
    assert not manager.exists("c1")


def test_destroy_times_out_with_conflict(fake, manager):
    cgroup = manager.create("c1", Limits())
    fake.put("pids", "onggi", "c1", "cgroup.procs", "4242\n")
    with pytest.raises(Conflict, match="4242"):
        cgroup.destroy(timeout=0.05)


def test_destroy_removes_child_cgroups_first(fake, manager):
    cgroup = manager.create("c1", Limits())
    os.mkdir(fake.root / "memory" / "onggi" / "c1" / "inner")
    os.mkdir(fake.root / "memory" / "onggi" / "c1" / "inner" / "deeper")
    cgroup.destroy()
    assert not manager.exists("c1")


def test_kill_signals_every_process(fake, manager, sleeper):
    cgroup = manager.create("c1", Limits())
    a, b = sleeper(), sleeper()
    fake.put("memory", "onggi", "c1", "cgroup.procs", f"{a.pid}\n")
    fake.put("pids", "onggi", "c1", "cgroup.procs", f"{a.pid}\n{b.pid}\n")
    cgroup.kill()
    assert a.wait(5) == -9 and b.wait(5) == -9


# --- spares (runtime/container/zygote.py) ----------------------------------------------

def dead_pid() -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_a_spare_is_made_in_every_tree_and_is_not_a_container(fake, manager):
    manager.create("c1", Limits())
    spare = manager.spare(os.getpid())
    assert spare.name == f"spare-{os.getpid()}"
    for d in spare.unique_dirs():
        assert (d / "cgroup.procs").exists()
    assert manager.names() == ["c1"]            # prune and the diagrams see containers only


def test_adopt_renames_the_spare_and_writes_the_limits(fake, manager):
    spare = manager.spare(os.getpid())
    cgroup = manager.adopt(spare, "c1", Limits(memory=64 * MiB, pids=100))
    assert not any(d.exists() for d in spare.unique_dirs())
    assert fake.read("memory", "onggi", "c1", "memory.limit_in_bytes") == str(64 * MiB)
    assert fake.read("pids", "onggi", "c1", "pids.max") == "100"
    assert fake.read(cpu_dir(fake), "onggi", "c1", "cpu.shares").endswith("\n")   # new: left alone
    assert manager.names() == ["c1"] and cgroup.path == "/onggi/c1"


def test_adopt_is_all_or_nothing(fake, manager, monkeypatch):
    spare = manager.spare(os.getpid())
    real = os.rename
    calls = []

    def rename(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError(errno.EIO, "refused")
        real(src, dst)
    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(OSError):
        manager.adopt(spare, "c1", Limits())
    monkeypatch.setattr(os, "rename", real)
    assert all(d.is_dir() for d in spare.unique_dirs())
    assert not manager.exists("c1")


def test_adopt_refuses_a_limit_without_its_controller_before_renaming(fake, manager):
    spare = manager.spare(os.getpid())
    manager.__dict__["mounts"] = {c: m for c, m in manager.mounts.items() if c != "pids"}
    with pytest.raises(Unsupported, match="'pids' is not mounted"):
        manager.adopt(spare, "c1", Limits(pids=10))
    assert all(d.is_dir() for d in spare.unique_dirs())


def test_stale_spares_are_removed_and_live_ones_kept(fake, manager):
    live = manager.spare(os.getpid())
    gone = manager.get(f"spare-{dead_pid()}")
    for d in gone.unique_dirs():
        make_dir(d)
    assert manager.remove_stale_spares() == [gone.path]
    assert not manager.exists(gone.name) and manager.exists(live.name)


def test_making_a_spare_sweeps_the_stale_ones(fake, manager):
    gone = manager.get(f"spare-{dead_pid()}")
    for d in gone.unique_dirs():
        make_dir(d)
    manager.spare(os.getpid())
    assert not manager.exists(gone.name)
