"""Priming the cgroup migration lock: find our own cgroup.procs in any layout, and
write "0" to it from a throwaway child."""
import time

import pytest

from runtime.linux.migration import own_procs_file, prime


def tree(tmp_path, proc_cgroup: str, dirs: list[str]):
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(proc_cgroup)
    root = tmp_path / "cg"
    for d in dirs:
        (root / d).mkdir(parents=True)
        (root / d / "cgroup.procs").write_text("")
    return root, proc


V1 = "9:name=systemd:/x\n8:pids:/user/1\n4:memory:/user/1\n3:cpu,cpuacct:/user\n"


def test_v1_uses_a_controller_tree_not_systemds(tmp_path):
    root, proc = tree(tmp_path, V1, ["systemd/x", "pids/user/1", "memory/user/1"])
    assert own_procs_file(str(root), str(proc)) in (
        str(root / "pids/user/1/cgroup.procs"), str(root / "memory/user/1/cgroup.procs"))


def test_v1_follows_a_combined_controller_mount(tmp_path):
    root, proc = tree(tmp_path, "3:cpu,cpuacct:/user\n", ["cpu,cpuacct/user"])
    assert own_procs_file(str(root), str(proc)) == str(root / "cpu,cpuacct/user/cgroup.procs")


def test_v2_is_the_root_itself(tmp_path):
    root, proc = tree(tmp_path, "0::/user.slice/session-1.scope\n", ["user.slice/session-1.scope"])
    assert own_procs_file(str(root), str(proc)) == str(root / "user.slice/session-1.scope/cgroup.procs")


def test_hybrid_prefers_v1_and_falls_back_to_unified(tmp_path):
    root, proc = tree(tmp_path, V1 + "0::/u\n", ["memory/user/1", "unified/u"])
    assert own_procs_file(str(root), str(proc)) == str(root / "memory/user/1/cgroup.procs")
    root2, proc2 = tree(tmp_path / "b", "0::/u\n", ["unified/u"])
    assert own_procs_file(str(root2), str(proc2)) == str(root2 / "unified/u/cgroup.procs")


@pytest.mark.parametrize("content", ["", None])
def test_nothing_to_find(tmp_path, content):
    if content is None:
        assert own_procs_file(str(tmp_path / "cg"), str(tmp_path / "noproc")) is None
    else:
        root, proc = tree(tmp_path, "0::/gone\n", [])
        assert own_procs_file(str(root), str(proc)) is None


def test_prime_writes_zero_from_a_child_and_returns_at_once(tmp_path):
    root, proc = tree(tmp_path, "0::/me\n", ["me"])
    procs = root / "me" / "cgroup.procs"
    prime(str(root), str(proc))
    deadline = time.monotonic() + 5
    while procs.read_text() != "0" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert procs.read_text() == "0"


def test_nothing_to_prime_for_a_cloned_task_on_cgroup_v2(tmp_path):
    root, proc = tree(tmp_path, "0::/me\n", ["me"])
    (root / "cgroup.controllers").write_text("cpu memory pids\n")     # pure v2
    prime(str(root), str(proc), cloned=True)
    prime(str(root / "none"), str(proc), cloned=True)
    time.sleep(0.2)
    assert (root / "me" / "cgroup.procs").read_text() == ""
    prime(str(root), str(proc))                                     # exec: its joiner is moved
    deadline = time.monotonic() + 5
    while (root / "me" / "cgroup.procs").read_text() != "0" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert (root / "me" / "cgroup.procs").read_text() == "0"
