"""The namespaces step has the container's first process born in its cgroup where it
can: cloned by the zygote waiting there (v1, its spare adopted), or cloned into it
(cgroup v2: clone3 with CLONE_INTO_CGROUP); otherwise it clones and moves it (v1
without a zygote, or a kernel without clone3)."""
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
    pid, joined = launch(sys, tmp_path)._clone(sc.CLONE_NEWPID, None, None)
    assert joined == "clone3(CLONE_INTO_CGROUP)" and pid == sys.next_pid
    assert [c[0] for c in sys.calls] == ["clone3"] and sys.calls[0][1] == sc.CLONE_NEWPID


def test_v1_clones_then_moves():
    sys = RecordingSyscalls()
    assert launch(sys, None)._clone(sc.CLONE_NEWPID, None, None) == (sys.next_pid, "cgroup.procs")
    assert sys.calls == [("clone", sc.CLONE_NEWPID)]


def test_a_kernel_without_clone3_falls_back(tmp_path):
    sys = RecordingSyscalls()
    sys.fail["clone3"] = errno.ENOSYS
    assert launch(sys, tmp_path)._clone(sc.CLONE_NEWNET, None, None) == (sys.next_pid, "cgroup.procs")
    assert [c[0] for c in sys.calls] == ["clone3", "clone"]


def test_a_cgroup_directory_that_is_gone_falls_back(tmp_path):
    sys = RecordingSyscalls()
    assert launch(sys, tmp_path / "gone")._clone(0, None, None) == (sys.next_pid, "cgroup.procs")
    assert [c[0] for c in sys.calls] == ["clone"]


class Zygote:
    """Stands in for zygote.Zygote: answers a clone with PID, or None (could not)."""

    def __init__(self, pid):
        self.pid = pid
        self.asked = []

    def clone(self, flags, chan, plan):
        self.asked.append((flags, chan, plan))
        return self.pid


def test_an_adopted_spare_has_the_zygote_clone():
    sys = RecordingSyscalls()
    la = launch(sys, None)
    la.zygote, la._via_zygote = Zygote(4242), True
    pid, joined = la._clone(sc.CLONE_NEWPID, "chan", "plan")
    assert pid == 4242 and joined.startswith("clone(CLONE_PARENT)")
    assert la.zygote.asked == [(sc.CLONE_NEWPID, "chan", "plan")] and sys.calls == []


def test_a_zygote_that_cannot_falls_back_to_clone_and_move():
    sys = RecordingSyscalls()
    la = launch(sys, None)
    la.zygote, la._via_zygote = Zygote(None), True
    assert la._clone(sc.CLONE_NEWPID, "chan", "plan") == (sys.next_pid, "cgroup.procs")
    assert sys.calls == [("clone", sc.CLONE_NEWPID)]


# --- which launches adopt the zygote's spare cgroup ------------------------------------

class SpareZygote:
    def __init__(self, serves=True, ready=True):
        self._serves, self._ready = serves, ready
        self.cgroup = "spare"

    def serves(self, cgroups):
        return self._serves

    def ready(self):
        return self._ready

    def adopted(self):
        self.cgroup = None


class Manager:
    def __init__(self, refuse=False):
        self.refuse = refuse
        self.adopted = []

    def adopt(self, spare, name, limits):
        if self.refuse:
            raise OSError(5, "rename refused")
        self.adopted.append((spare, name, limits))
        return "cgroup of " + name


class Record:
    id = "c0ffee"


def spare_launch(zygote, manager=None, limits=None, network=None):
    from runtime.cgroups import Limits
    return Launch(Record(), syscalls=None, cgroups=manager or Manager(), limits=limits or Limits(),
                  publisher=None, network=network, zygote=zygote)


def test_a_launch_adopts_the_spare_of_a_ready_zygote():
    z = SpareZygote()
    la = spare_launch(z)
    assert la._adopt_spare() == "cgroup of c0ffee"
    assert la._via_zygote and z.cgroup is None          # the spare is the container's now


def test_launches_the_zygote_cannot_serve_make_their_own_cgroup():
    from runtime.cgroups import Limits

    class JoinNetns:
        def netns_path(self, record):
            return "/proc/1/ns/net"
    cases = [spare_launch(None), spare_launch(SpareZygote(serves=False)),
             spare_launch(SpareZygote(ready=False)),
             spare_launch(SpareZygote(), limits=Limits(pids=1)),
             spare_launch(SpareZygote(), network=JoinNetns()),
             spare_launch(SpareZygote(), manager=Manager(refuse=True))]
    for la in cases:
        assert la._adopt_spare() is None and not la._via_zygote
    assert cases[-1].zygote.cgroup == "spare"           # a refused rename leaves it the zygote's
