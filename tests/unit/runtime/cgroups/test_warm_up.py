"""warm_up: a throwaway child writes "0" to the caller's own cgroup.procs, early."""
import os
import time

from runtime.cgroups import own_cgroup, warm_up
from runtime.cgroups.v1 import V1Manager
from runtime.cgroups.v2 import V2Manager


def wait_for_content(path, want, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if path.exists() and path.read_text() == want:
            return True
        time.sleep(0.01)
    return False


def test_own_cgroup_reads_proc_self_cgroup(tmp_path):
    (tmp_path / "self").mkdir()
    (tmp_path / "self" / "cgroup").write_text("5:memory:/box/a\n3:cpu,cpuacct:/box\n0::/unified/x\n")
    assert own_cgroup(tmp_path, "memory") == "/box/a"
    assert own_cgroup(tmp_path, "cpuacct") == "/box"
    assert own_cgroup(tmp_path, "") == "/unified/x"
    assert own_cgroup(tmp_path, "pids") is None


def test_warm_up_writes_zero_from_a_child(tmp_path):
    procs = tmp_path / "cgroup.procs"
    procs.write_text("")
    warm_up(procs)
    assert wait_for_content(procs, "0")


def test_v1_primes_from_its_own_cgroup_and_v2_has_nothing_to_prime(tmp_path):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text("4:memory:/mine\n0::/mine2\n")
    root = tmp_path / "cg"
    (root / "memory" / "mine").mkdir(parents=True)
    (root / "memory" / "mine" / "cgroup.procs").write_text("")
    V1Manager(root, "onggi").warm_up(proc)
    assert wait_for_content(root / "memory" / "mine" / "cgroup.procs", "0")
    (root / "mine2").mkdir()
    (root / "mine2" / "cgroup.procs").write_text("")
    V2Manager(root, "onggi").warm_up(proc)      # v2 clones into the cgroup: no move to prime
    time.sleep(0.2)
    assert (root / "mine2" / "cgroup.procs").read_text() == ""
