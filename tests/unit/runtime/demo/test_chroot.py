"""The chroot demo without root: parsing what each side printed, and the chroot's mounts
(made and undone through the recording syscalls)."""
import errno
from pathlib import Path

import pytest

from runtime.demo import chroot as demo
from runtime.linux import syscalls as sc
from runtime.linux.fake import RecordingSyscalls

BUSYBOX_ROOT = """bin
dev
etc
home
proc
root
sys
tmp
usr
var
"""
CHROOT_OUT = "@@files\n" + BUSYBOX_ROOT + """@@ps
PID   USER     COMMAND
    1 root     /sbin/init
    2 root     [kthreadd]
  812 root     python -m runtime.cli demo chroot
  813 root     ps
@@hostname
classroom-7
@@interfaces
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 2000      20    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
onggi0:    0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
"""
CONTAINER_OUT = "@@files\n" + BUSYBOX_ROOT + """@@ps
PID   USER     COMMAND
    1 root     sh -c echo '@@ps'; ps
    7 root     ps
@@hostname
3f2a9c1d7e11
@@interfaces
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:     0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
"""
HOST = {"processes": 120, "hostname": "classroom-7", "interfaces": ["lo", "eth0", "onggi0", "veth1"],
        "pid": 812, "files": ["bin", "boot", "dev", "etc", "home", "lib", "opt", "proc", "root", "run", "srv",
                              "sys", "tmp", "usr", "var", "work"]}


def test_sections_split_at_the_markers():
    s = demo.sections(CHROOT_OUT)
    assert list(s) == ["files", "ps", "hostname", "interfaces"]
    assert s["hostname"] == ["classroom-7"] and len(s["ps"]) == 5


def test_parse_ps_and_net_dev():
    s = demo.sections(CHROOT_OUT)
    assert demo.parse_ps(s["ps"]) == [1, 2, 812, 813]
    assert demo.parse_net_dev(s["interfaces"]) == ["lo", "eth0", "onggi0"]
    assert demo.parse_ps([]) == [] and demo.parse_net_dev([]) == []


def test_the_chroot_sees_the_host_and_the_container_does_not():
    ch = demo.summarize(CHROOT_OUT, HOST)
    ct = demo.summarize(CONTAINER_OUT, HOST)
    # The one thing chroot fences: / holds the image's files on both sides, not the host's.
    assert ch["files"] == ct["files"] == BUSYBOX_ROOT.split() and not (ch["sees_host_files"] or ct["sees_host_files"])
    assert ch["processes"] == 4 and ch["sees_host_processes"] is True
    assert ch["hostname"] == "classroom-7" and ch["hostname_is_host"] is True
    assert ch["interfaces"] == ["lo", "eth0", "onggi0"] and ch["sees_host_interfaces"] is True
    assert ct["processes"] == 2 and ct["sees_host_processes"] is False and ct["pids"] == [1, 7]
    assert ct["hostname"] == "3f2a9c1d7e11" and ct["hostname_is_host"] is False
    assert ct["interfaces"] == ["lo"] and ct["sees_host_interfaces"] is False
    assert ch["output"] == CHROOT_OUT


def test_empty_output_summarizes_to_nothing_seen():
    s = demo.summarize("", HOST)
    assert s["processes"] == 0 and s["hostname"] == "" and s["interfaces"] == [] and s["files"] == []
    assert not (s["sees_host_processes"] or s["hostname_is_host"] or s["sees_host_interfaces"])


def test_host_view_reads_the_proc_it_is_given(tmp_path):
    for pid in ("1", "42", "self", "net"):
        (tmp_path / pid).mkdir(exist_ok=True)
    (tmp_path / "net" / "dev").write_text("\n".join(CHROOT_OUT.splitlines()[8:]) + "\n")
    root = tmp_path / "root"
    for name in ("usr", "etc", ".hidden"):
        (root / name).mkdir(parents=True)
    view = demo.host_view(tmp_path, root)
    assert view["files"] == ["etc", "usr"]
    assert view["processes"] == 2 and view["interfaces"] == ["lo", "eth0", "onggi0"]
    import os
    import socket
    assert view["pid"] == os.getpid() and view["hostname"] == socket.gethostname()


# -- the chroot's root ---------------------------------------------------------------------

def test_the_root_is_a_private_overlay_with_the_hosts_proc_bound_in(tmp_path):
    sys_ = RecordingSyscalls()
    layer = str(tmp_path / "layers" / "abc")
    with demo.ChrootRoot(sys_, [layer], tmp_path / "demo", proc=Path("/proc")) as root:
        merged = root.path
        assert merged.parent.parent == tmp_path / "demo" and merged.name == "merged"
        assert (merged / "proc").is_dir()
    over, bind = sys_.calls[0], sys_.calls[1]
    assert over[:4] == ("mount", "overlay", str(merged), "overlay")
    assert f"lowerdir={layer}" in over[5] and f"upperdir={merged.parent / 'upper'}" in over[5]
    assert bind == ("mount", "/proc", str(merged / "proc"), None, sc.MS_BIND, None)
    # Undone in reverse, and the scratch directory is gone.
    assert sys_.calls[2:] == [("umount2", str(merged / "proc"), sc.MNT_DETACH),
                              ("umount2", str(merged), sc.MNT_DETACH)]
    assert list((tmp_path / "demo").iterdir()) == []


class FailSecondMount(RecordingSyscalls):
    def mount(self, source, target, fstype, flags=0, data=None):
        super().mount(source, target, fstype, flags, data)
        if sum(1 for c in self.calls if c[0] == "mount") == 2:
            raise OSError(errno.EPERM, "Operation not permitted", str(target))


def test_a_failed_proc_bind_unmounts_the_overlay_and_removes_everything(tmp_path):
    sys_ = FailSecondMount()
    with pytest.raises(PermissionError):
        with demo.ChrootRoot(sys_, ["/l"], tmp_path / "demo"):
            pytest.fail("the body must not run")
    assert sys_.names() == ["mount", "mount", "umount2"]
    assert sys_.calls[2][1].endswith("/merged")
    assert list((tmp_path / "demo").iterdir()) == []


def test_a_failed_overlay_leaves_nothing(tmp_path):
    sys_ = RecordingSyscalls(fail={"mount": errno.EINVAL})
    with pytest.raises(OSError):
        with demo.ChrootRoot(sys_, ["/l"], tmp_path / "demo"):
            pass
    assert sys_.names() == ["mount"]
    assert list((tmp_path / "demo").iterdir()) == []


def test_a_mount_that_is_still_there_is_never_walked_into(tmp_path, monkeypatch):
    monkeypatch.setattr(demo, "_mounted_under", lambda path: True)
    sys_ = RecordingSyscalls()
    with demo.ChrootRoot(sys_, ["/l"], tmp_path / "demo") as root:
        pass
    assert root.dir.is_dir(), "kept rather than rmtree through a live mount"


def test_the_fake_records_chroot():
    sys_ = RecordingSyscalls()
    sys_.chroot(Path("/x"))
    assert sys_.calls == [("chroot", "/x")]


def test_the_real_chroot_fails_like_the_syscall_without_privilege(tmp_path):
    import os
    if os.geteuid() == 0:
        pytest.skip("as root chroot(2) would succeed; covered by the integration test")
    with pytest.raises(PermissionError):
        sc.Syscalls().chroot(tmp_path)
