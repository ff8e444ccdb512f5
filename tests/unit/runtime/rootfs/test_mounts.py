"""The mount sequence of a container's first process, on the recording fake."""
import os

import pytest

from runtime.linux import syscalls as sc
from runtime.linux.fake import RecordingSyscalls
from runtime.rootfs import mounts, overlay
from runtime.container.spec import Volume


@pytest.fixture
def rootfs(tmp_path):
    r = tmp_path / "merged"
    (r / "etc").mkdir(parents=True)
    return r


def targets(fake, fstype=None):
    return [c[2] for c in fake.calls if c[0] == "mount" and (fstype is None or c[3] == fstype)]


def test_before_pivot_order_and_flags(rootfs, tmp_path):
    fake = RecordingSyscalls()
    hosts = tmp_path / "hosts"
    hosts.write_text("x")
    vol = tmp_path / "vol"
    vol.mkdir()
    plan = mounts.MountPlan(rootfs=str(rootfs), files=((str(hosts), "/etc/hosts"),),
                            volumes=(Volume(str(vol), "/data", True),))
    mounts.before_pivot(fake, plan)
    first = fake.calls[0]
    assert first == ("mount", None, "/", None, sc.MS_REC | sc.MS_PRIVATE, None)
    assert targets(fake, "proc") == [str(rootfs / "proc")]
    sysfs = next(c for c in fake.calls if c[0] == "mount" and c[3] == "sysfs")
    assert sysfs[4] & sc.MS_RDONLY
    assert {c[1] for c in fake.calls if c[0] == "mknod"} == {str(rootfs / "dev" / n) for n, *_ in mounts.DEVICES}
    devpts = next(c for c in fake.calls if c[0] == "mount" and c[3] == "devpts")
    assert "newinstance" in devpts[5] and "ptmxmode=0666" in devpts[5]
    assert os.readlink(rootfs / "dev" / "ptmx") == "pts/ptmx"
    binds = [c for c in fake.calls if c[0] == "mount" and c[4] & sc.MS_BIND]
    assert binds[0][1:3] == (str(hosts), str(rootfs / "etc/hosts"))
    assert binds[-1][4] & sc.MS_RDONLY and binds[-1][2] == str(rootfs / "data")


def test_pivot_root_dot_dot_then_detach(tmp_path):
    fake = RecordingSyscalls()
    here = os.getcwd()
    try:
        mounts.pivot(fake, str(tmp_path))
    finally:
        os.chdir(here)
    assert fake.calls == [("pivot_root", ".", "."), ("umount2", ".", sc.MNT_DETACH)]


def test_after_pivot_masks_and_freezes_only_what_exists(tmp_path):
    fake = RecordingSyscalls()
    masked_dir, masked_file, ro = tmp_path / "acpi", tmp_path / "kcore", tmp_path / "sys"
    masked_dir.mkdir()
    masked_file.write_text("")
    ro.mkdir()
    plan = mounts.MountPlan(rootfs="/", masked=(str(masked_dir), str(masked_file), str(tmp_path / "nope")),
                            readonly_paths=(str(ro),), read_only=True)
    mounts.after_pivot(fake, plan)
    assert fake.calls[0] == ("mount", "tmpfs", str(masked_dir), "tmpfs", sc.MS_RDONLY, None)
    assert fake.calls[1] == ("mount", "/dev/null", str(masked_file), None, sc.MS_BIND, None)
    assert fake.calls[2][4] == sc.MS_BIND | sc.MS_REC
    assert fake.calls[3][4] & sc.MS_REMOUNT and fake.calls[3][4] & sc.MS_RDONLY
    assert fake.calls[4] == ("mount", "/", "/", None, sc.MS_BIND | sc.MS_REMOUNT | sc.MS_RDONLY, None)
    assert len(fake.calls) == 5


def test_overlay_options_put_the_top_layer_first(tmp_path):
    fake = RecordingSyscalls()
    data = overlay.mount(fake, ["/l/base", "/l/top"], "/c/upper", "/c/work", "/c/merged")
    assert data == "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work"
    assert fake.calls == [("mount", "overlay", "/c/merged", "overlay", 0, data)]


def test_overlay_with_many_layers_uses_short_links(tmp_path):
    fake = RecordingSyscalls()
    layers = [str(tmp_path / "layers" / (f"{i:03d}" + "a" * 61)) for i in range(120)]
    here = os.getcwd()
    data = overlay.mount(fake, layers, "/c/upper", "/c/work", tmp_path / "merged")
    assert len(data) < 4096 and data.startswith("lowerdir=77:76:")     # top layer (119) first
    assert os.readlink(tmp_path / "l" / "0") == layers[0]
    assert os.readlink(tmp_path / "l" / "77") == layers[119]
    assert os.getcwd() == here


def test_overlay_unmount_of_nothing_is_fine():
    import errno
    fake = RecordingSyscalls(fail={"umount2": errno.EINVAL})
    assert overlay.unmount(fake, "/not/mounted") is False
