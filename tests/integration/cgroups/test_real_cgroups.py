"""runtime/cgroups on the real kernel (v1, v2 or hybrid, whatever this host has). Root only."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runtime.cgroups import VERSIONS, Limits, detect
from runtime.errors import Conflict

pytestmark = pytest.mark.root

MiB = 1 << 20


def test_detect_this_host():
    assert detect() in VERSIONS


def test_a_process_in_a_limited_cgroup(manager, spawn):
    limits = Limits.from_cpus(0.5, memory=64 * MiB, pids=20)
    cgroup = manager.create("c1", limits)
    proc = spawn(["sleep", "30"])
    cgroup.add(proc.pid)

    assert cgroup.procs() == [proc.pid]
    assert cgroup.limits() == limits
    # The kernel agrees: /proc/PID/cgroup shows our path in the controllers we use.
    lines = open(f"/proc/{proc.pid}/cgroup").read().splitlines()
    if manager.version == "v2":
        assert f"0::{cgroup.path}" in lines
    else:
        shown = {line.split(":")[1]: line.split(":")[2] for line in lines}
        for controllers, path in shown.items():
            used = {"memory", "cpu", "cpuacct", "pids"} & set(controllers.split(","))
            assert (path == cgroup.path) == bool(used), (controllers, path)

    stats = cgroup.stats()
    assert stats.pids_current == 1
    assert stats.pids_max == 20
    assert stats.memory_max == 64 * MiB
    assert isinstance(stats.memory_current, int)
    assert isinstance(stats.cpu_usage_ns, int)
    assert stats.oom_kills == 0

    files = cgroup.files()
    if manager.version == "v2":
        assert files["memory.max"] == str(64 * MiB)
        assert files["cpu.max"] == "50000 100000"
    else:
        assert files["memory.limit_in_bytes"] == str(64 * MiB)
        assert files["cpu.cfs_quota_us"] == "50000"
        assert files["cpu.cfs_period_us"] == "100000"
    assert files["pids.max"] == "20"
    assert files["cgroup.procs"] == str(proc.pid)

    cgroup.kill()
    assert proc.wait(5) == -9
    cgroup.destroy()
    for d in cgroup.dirs().values():
        assert not d.exists()
    assert not manager.exists("c1")
    assert manager.names() == []


def test_limits_change_on_an_existing_cgroup(manager):
    # Up, down and away again: memory and memory+swap must be written in an order
    # the kernel accepts every time.
    for memory in (64 * MiB, 128 * MiB, 32 * MiB, None, 48 * MiB):
        limits = Limits.from_cpus(1.5, memory=memory, pids=30) if memory else Limits()
        assert manager.create("c1", limits).limits() == limits
    manager.get("c1").destroy()


def test_pids_max_stops_a_fork_loop(manager, spawn):
    cgroup = manager.create("forky", Limits(pids=8))
    # The shell waits for a line on stdin, so it is in the cgroup before it forks.
    loop = spawn(["sh", "-c", "read go; i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; wait"],
                 stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cgroup.add(loop.pid)
    loop.stdin.write("go\n")
    loop.stdin.close()

    pids_dir = cgroup.dirs().get("pids") or cgroup.dirs()["unified"]
    refused = 0                         # pids.events "max N": forks the limit refused
    seen = []
    deadline = time.monotonic() + 10
    while not refused and time.monotonic() < deadline:
        seen.append(cgroup.stats().pids_current)
        refused = int((pids_dir / "pids.events").read_text().split()[1])
        time.sleep(0.002)
    seen.append(cgroup.stats().pids_current)
    assert refused > 0
    assert max(seen) <= 8
    if (pids_dir / "pids.peak").exists():          # the kernel's own high-water mark (6.1+)
        assert int((pids_dir / "pids.peak").read_text()) == 8
    assert len(cgroup.procs()) <= 8

    cgroup.kill()
    loop.wait(5)
    assert "fork" in loop.stderr.read().lower()      # dash: "sh: 1: Cannot fork"
    cgroup.destroy()
    assert not manager.exists("forky")


def test_the_oom_killer_is_counted(manager, spawn):
    cgroup = manager.create("hungry", Limits(memory=32 * MiB))
    hog = spawn([sys.executable, "-c",
                 "import sys; sys.stdin.readline(); b = b'x' * (200 << 20); print('survived')"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    cgroup.add(hog.pid)
    out, _ = hog.communicate("go\n", timeout=30)
    assert hog.returncode == -9, out
    assert cgroup.oom_kills() >= 1
    stats = cgroup.stats()
    assert stats.oom_kills >= 1
    assert stats.memory_peak is None or stats.memory_peak <= 32 * MiB
    cgroup.destroy()


def test_kill_reaches_every_process(manager, spawn):
    cgroup = manager.create("family", Limits())
    parent = spawn(["sh", "-c", "read go; sleep 30 & sleep 30 & sleep 30 & wait"],
                   stdin=subprocess.PIPE, text=True)
    cgroup.add(parent.pid)
    parent.stdin.write("go\n")
    parent.stdin.close()
    deadline = time.monotonic() + 5
    while len(cgroup.procs()) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(cgroup.procs()) == 4

    cgroup.kill()
    parent.wait(5)
    cgroup.destroy(timeout=5)           # the reparented sleeps are reaped by init meanwhile
    assert not manager.exists("family")


def test_destroy_waits_while_processes_exit(manager, spawn):
    cgroup = manager.create("exiting", Limits())
    proc = spawn(["sleep", "30"])
    cgroup.add(proc.pid)
    proc.kill()
    # Reaped a little later, as a monitor would: destroy must retry meanwhile.
    threading.Timer(0.2, proc.wait).start()
    cgroup.destroy(timeout=5)
    assert not manager.exists("exiting")


def test_destroy_refuses_while_a_process_lives(manager, spawn):
    cgroup = manager.create("alive", Limits())
    proc = spawn(["sleep", "30"])
    cgroup.add(proc.pid)
    with pytest.raises(Conflict, match=f"still in use .processes {proc.pid}"):
        cgroup.destroy(timeout=0.1)
    assert manager.exists("alive")
    cgroup.kill()
    proc.wait(5)
    cgroup.destroy()
    assert not manager.exists("alive")


def test_create_add_destroy_is_fast(manager):
    """Every `onggi run` pays for this; runc's whole launch takes ~45 ms."""
    limits = Limits.from_cpus(0.5, memory=64 * MiB, pids=100)
    manager.create("warm", limits).destroy()     # the parent exists from here on
    times = []
    for i in range(20):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:                              # a stand-in container: waits, then exits
            os.close(w)
            os.read(r, 1)
            os._exit(0)
        os.close(r)
        start = time.perf_counter()
        cgroup = manager.create(f"fast{i}", limits)
        cgroup.add(pid)
        middle = time.perf_counter()
        os.close(w)
        os.waitpid(pid, 0)
        resume = time.perf_counter()
        cgroup.destroy()
        times.append(middle - start + time.perf_counter() - resume)
    times.sort()
    assert times[len(times) // 2] < 0.010, f"median {times[len(times) // 2] * 1e3:.2f} ms"


def test_v2_backend_on_a_hybrid_hosts_unified_mount(cgroup_parent, spawn):
    """The v2 code on a real cgroup2 mount, where this host has one: the hybrid
    layout's /sys/fs/cgroup/unified (no memory, cpu or pids controller there)."""
    from runtime.cgroups import open_manager
    from runtime.errors import Unsupported
    unified = Path("/sys/fs/cgroup/unified")
    if not (unified / "cgroup.controllers").exists():
        pytest.skip("no separate cgroup2 mount on this host")
    manager = open_manager(unified, parent=cgroup_parent, version="v2")
    offered = (unified / "cgroup.controllers").read_text().split()
    if "pids" not in offered:
        with pytest.raises(Unsupported, match="controller 'pids' is not available"):
            manager.create("c1", Limits(pids=10))
    cgroup = manager.create("c1", Limits())
    proc = spawn(["sleep", "30"])
    cgroup.add(proc.pid)
    assert cgroup.procs() == [proc.pid]
    assert f"0::{cgroup.path}" in open(f"/proc/{proc.pid}/cgroup").read().splitlines()
    assert isinstance(cgroup.stats().cpu_usage_ns, int)     # cpu.stat is always there
    cgroup.kill()                                            # cgroup.kill on 5.14+
    assert proc.wait(5) == -9
    cgroup.destroy()
    assert not manager.exists("c1")


def test_clone3_puts_the_child_in_a_cgroup2_cgroup_from_its_first_instruction(cgroup_parent):
    """How a launch on cgroup v2 starts its first process (clone3 with CLONE_INTO_CGROUP):
    never moved, so never waiting for the grace period a move costs. Tried on this host's
    cgroup2 tree: all of it on v2, the one at unified/ on hybrid."""
    from runtime.linux.syscalls import CLONE_NEWPID, Syscalls
    root = Path("/sys/fs/cgroup")
    v2 = root if (root / "cgroup.controllers").exists() else root / "unified"
    if not (v2 / "cgroup.controllers").exists():
        pytest.skip("no cgroup2 tree on this host")
    d = v2 / cgroup_parent / "born-here"
    d.mkdir(parents=True)
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    r, w = os.pipe()
    pid = Syscalls().clone(CLONE_NEWPID, cgroup_fd=fd)
    if pid == 0:
        try:
            os.write(w, open("/proc/self/cgroup").read().encode())
        finally:
            os._exit(0)
    os.close(fd)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        lines = f.read().splitlines()
    assert f"0::/{cgroup_parent}/born-here" in lines
