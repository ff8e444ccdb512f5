"""The namespaces step clones the container's first process straight into its cgroup
where the kernel can (cgroup v2: clone3 with CLONE_INTO_CGROUP), and otherwise clones
and moves it (v1, or a kernel without clone3)."""
import errno

from runtime.container.launch import Launch
from runtime.linux import syscalls as sc
from runtime.linux.fake import RecordingSyscalls


class Cgroup:
    def __init__(self, target):
        self.target = target

    def clone_target(self):
        return self.target


def launch(sys, target):
    la = Launch(None, syscalls=sys, cgroups=None, limits=None, publisher=None)
    la.cgroup = Cgroup(target)
    return la


def test_v2_clones_into_the_cgroup(tmp_path):
    sys = RecordingSyscalls()
    pid, moved = launch(sys, tmp_path)._clone(sc.CLONE_NEWPID)
    assert moved and pid == sys.next_pid
    assert [c[0] for c in sys.calls] == ["clone3"] and sys.calls[0][1] == sc.CLONE_NEWPID


def test_v1_clones_then_moves():
    sys = RecordingSyscalls()
    assert launch(sys, None)._clone(sc.CLONE_NEWPID) == (sys.next_pid, False)
    assert sys.calls == [("clone", sc.CLONE_NEWPID)]


def test_a_kernel_without_clone3_falls_back(tmp_path):
    sys = RecordingSyscalls()
    sys.fail["clone3"] = errno.ENOSYS
    assert launch(sys, tmp_path)._clone(sc.CLONE_NEWNET) == (sys.next_pid, False)
    assert [c[0] for c in sys.calls] == ["clone3", "clone"]


def test_a_cgroup_directory_that_is_gone_falls_back(tmp_path):
    sys = RecordingSyscalls()
    assert launch(sys, tmp_path / "gone")._clone(0) == (sys.next_pid, False)
    assert [c[0] for c in sys.calls] == ["clone"]
