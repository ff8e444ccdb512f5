"""A fake cgroupfs in tmp_path that behaves like the kernel where it matters.

youki's ``set_fixture`` pre-creates interface files; this goes one step further
so that create() and destroy() can run unchanged on the fake:

* mkdir in a hierarchy fills the new directory with that hierarchy's interface
  files (on v2, only the controllers the parent enables in
  ``cgroup.subtree_control``), with the kernel's default contents, each ending in
  a newline as the kernel shows them. Our writes carry no newline, so a test can
  tell a file we wrote from one we left alone.
* rmdir of a cgroup removes its interface files with it, and fails with EBUSY
  while it has child cgroups, pids in ``cgroup.procs``, or a count of busy
  answers still to give (``fake.busy[path] = n``).
"""
from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

UNLIMITED = "9223372036854771712"   # the kernel's v1 "no memory limit"

MEMORY_STAT_V1 = """cache 9457664
rss 3977216
rss_huge 0
shmem 9138176
mapped_file 7696384
dirty 12288
writeback 0
swap 0
pgpgin 25111
pgpgout 21831
pgfault 29250
pgmajfault 0
inactive_anon 0
active_anon 1531904
inactive_file 45056
active_file 274432
unevictable 0
hierarchical_memory_limit 67108864
hierarchical_memsw_limit 67108864
total_cache 31694848
total_rss 16883712
total_rss_huge 0
total_shmem 9138176
total_mapped_file 15998976
total_dirty 114688
total_writeback 0
total_swap 0
total_pgpgin 3027749
total_pgpgout 3015945
total_pgfault 4438862
total_pgmajfault 1071
total_inactive_anon 12734464
total_active_anon 1560576
total_inactive_file 5349376
total_active_file 274432
total_unevictable 0
"""

MEMORY_STAT_V2 = """anon 1531904
file 9457664
kernel 1048576
kernel_stack 65536
pagetables 163840
sock 0
shmem 0
file_mapped 7696384
file_dirty 12288
file_writeback 0
swapcached 0
anon_thp 0
inactive_anon 0
active_anon 1531904
inactive_file 4194304
active_file 5263360
unevictable 0
slab_reclaimable 524288
slab_unreclaimable 262144
slab 786432
pgfault 29250
pgmajfault 0
"""

# Interface files per controller, with the kernel's defaults for a new cgroup.
V1_FILES = {
    "memory": {
        "memory.limit_in_bytes": UNLIMITED, "memory.memsw.limit_in_bytes": UNLIMITED,
        "memory.soft_limit_in_bytes": UNLIMITED, "memory.usage_in_bytes": "0",
        "memory.memsw.usage_in_bytes": "0", "memory.max_usage_in_bytes": "0",
        "memory.failcnt": "0", "memory.swappiness": "60", "memory.use_hierarchy": "1",
        "memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 0",
        "memory.stat": MEMORY_STAT_V1.strip(),
    },
    "cpu": {
        "cpu.cfs_quota_us": "-1", "cpu.cfs_period_us": "100000", "cpu.shares": "1024",
        "cpu.cfs_burst_us": "0", "cpu.idle": "0",
        "cpu.stat": "nr_periods 0\nnr_throttled 0\nthrottled_time 0\nnr_bursts 0\nburst_time 0",
    },
    "cpuacct": {"cpuacct.usage": "0", "cpuacct.stat": "user 0\nsystem 0"},
    "pids": {"pids.max": "max", "pids.current": "0", "pids.events": "max 0"},
    "cpuset": {"cpuset.cpus": "", "cpuset.mems": ""},
    "devices": {"devices.list": "a *:* rwm"},
    "freezer": {"freezer.state": "THAWED"},
    "blkio": {"blkio.weight": "500"},
    "name=systemd": {},
}
V1_COMMON = {"cgroup.procs": "", "tasks": "", "notify_on_release": "0", "cgroup.clone_children": "0"}

V2_FILES = {
    "memory": {
        "memory.max": "max", "memory.high": "max", "memory.low": "0", "memory.min": "0",
        "memory.swap.max": "max", "memory.swap.current": "0", "memory.current": "0",
        "memory.peak": "0", "memory.stat": MEMORY_STAT_V2.strip(),
        "memory.events": "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0",
    },
    "cpu": {"cpu.max": "max 100000", "cpu.weight": "100", "cpu.weight.nice": "0"},
    "pids": {"pids.max": "max", "pids.current": "0", "pids.events": "max 0"},
    "io": {"io.max": ""},
}
V2_COMMON = {
    "cgroup.procs": "", "cgroup.threads": "", "cgroup.type": "domain",
    "cgroup.subtree_control": "", "cgroup.events": "populated 0\nfrozen 0",
    "cgroup.kill": "", "cgroup.freeze": "0",
    # Always there, with or without the cpu controller (which adds the rest).
    "cpu.stat": "usage_usec 0\nuser_usec 0\nsystem_usec 0",
}
V2_CPU_STAT = ("usage_usec 0\nuser_usec 0\nsystem_usec 0\nnr_periods 0\nnr_throttled 0\n"
               "throttled_usec 0\nnr_bursts 0\nburst_usec 0")

LAYOUTS = ("v1", "v1-combined", "v2", "hybrid")


def fill(directory: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (directory / name).write_text(text + "\n")


class FakeCgroupfs:
    """A cgroupfs tree under ROOT in one of LAYOUTS."""

    def __init__(self, root: Path, layout: str, *, offered: str = "cpuset cpu io memory hugetlb pids rdma misc"):
        self.root = root
        self.layout = layout
        self.busy: dict[Path, int] = {}
        root.mkdir(parents=True, exist_ok=True)
        if layout == "v2":
            self._v2_root(root, offered)
            return
        mounts = ["memory", "cpuset", "devices", "freezer", "blkio", "pids", "systemd"]
        if layout == "v1-combined":
            mounts += ["cpu,cpuacct", "net_cls,net_prio"]
            for link, target in (("cpu", "cpu,cpuacct"), ("cpuacct", "cpu,cpuacct"),
                                 ("net_cls", "net_cls,net_prio"), ("net_prio", "net_cls,net_prio")):
                os.symlink(target, root / link)
        else:
            mounts += ["cpu", "cpuacct"]
        for mount in mounts:
            (root / mount).mkdir()
            fill(root / mount, {**V1_COMMON, "cgroup.sane_behavior": "0", **self._v1_files(mount, top=True)})
        if layout == "hybrid":
            (root / "unified").mkdir()
            self._v2_root(root / "unified", "hugetlb")

    @staticmethod
    def _v2_root(root: Path, offered: str) -> None:
        fill(root, {"cgroup.controllers": offered, "cgroup.subtree_control": "", "cgroup.procs": "1",
                    "cgroup.max.depth": "max", "cpu.stat": "usage_usec 84018440\nuser_usec 1\nsystem_usec 2",
                    "memory.stat": MEMORY_STAT_V2.strip()})

    @staticmethod
    def _v1_files(mount: str, top: bool = False) -> dict[str, str]:
        names = ["name=systemd"] if mount == "systemd" else mount.split(",")
        files = {}
        for name in names:
            files.update(V1_FILES.get(name, {}))
        if top:  # the root cgroup has no limits of its own
            for absent in ("pids.max", "pids.current", "pids.events"):
                files.pop(absent, None)
        return files

    def _v2_files(self, parent: Path) -> dict[str, str]:
        enabled = [c.lstrip("+") for c in (parent / "cgroup.subtree_control").read_text().split()]
        files = {**V2_COMMON, "cgroup.controllers": " ".join(enabled)}
        for controller in enabled:
            files.update(V2_FILES.get(controller, {}))
        if "cpu" in enabled:
            files["cpu.stat"] = V2_CPU_STAT
        return files

    # -- the two syscalls that make cgroupfs special ------------------------------
    def owns(self, path) -> bool:
        path = Path(os.path.abspath(path))
        return path != self.root and self.root in path.parents

    def mkdir(self, path, mode=0o777, *, dir_fd=None):
        if dir_fd is not None or not self.owns(path):
            return _real_mkdir(path, mode, dir_fd=dir_fd)
        _real_mkdir(path, mode)
        path = Path(path)
        parent = path.parent
        if (parent / "cgroup.subtree_control").exists():     # a cgroup2 tree
            fill(path, self._v2_files(parent))
        else:
            mount = Path(os.path.realpath(path)).relative_to(os.path.realpath(self.root)).parts[0]
            fill(path, {**V1_COMMON, **self._v1_files(mount)})

    def rmdir(self, path, *, dir_fd=None):
        if dir_fd is not None or not self.owns(path):
            return _real_rmdir(path, dir_fd=dir_fd)
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        if self.busy.get(path, 0) > 0:
            self.busy[path] -= 1
            raise OSError(errno.EBUSY, "Device or resource busy", str(path))
        if any(p.is_dir() for p in path.iterdir()) or (path / "cgroup.procs").read_text().strip():
            raise OSError(errno.EBUSY, "Device or resource busy", str(path))
        for entry in path.iterdir():
            entry.unlink()
        _real_rmdir(path)

    # -- helpers for tests -----------------------------------------------------------
    def read(self, *parts) -> str:
        return self.root.joinpath(*parts).read_text()

    def put(self, *parts_and_text) -> None:
        *parts, text = parts_and_text
        self.root.joinpath(*parts).write_text(text)


_real_mkdir = os.mkdir
_real_rmdir = os.rmdir


def make_fake(tmp_path, monkeypatch, layout, **kw) -> FakeCgroupfs:
    fake = FakeCgroupfs(tmp_path / "cgroup", layout, **kw)
    monkeypatch.setattr(os, "mkdir", fake.mkdir)
    monkeypatch.setattr(os, "rmdir", fake.rmdir)
    return fake


@pytest.fixture
def cgroupfs(tmp_path, monkeypatch):
    """A function LAYOUT -> a FakeCgroupfs in tmp_path, with mkdir/rmdir faked."""
    return lambda layout, **kw: make_fake(tmp_path, monkeypatch, layout, **kw)


@pytest.fixture
def sleeper():
    """A real `sleep` process a test may signal; reaped at teardown."""
    import subprocess
    procs = []

    def start():
        proc = subprocess.Popen(["sleep", "30"])
        procs.append(proc)
        return proc
    yield start
    for proc in procs:
        proc.kill()
        proc.wait()
