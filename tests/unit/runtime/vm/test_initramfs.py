"""The VM's initramfs: a newc cpio the kernel can unpack, read back here by a parser of its own."""
import os
import shutil
import stat
from pathlib import Path

import pytest

from runtime.errors import Unsupported
from runtime.vm import initramfs
from runtime.vm.qemu import parse_marker

BUSYBOX = Path("/bin/busybox")
pytestmark = pytest.mark.skipif(not BUSYBOX.is_file(), reason="needs Debian's busybox-static")


def read_newc(data: bytes) -> list[dict]:
    """An independent reader of the kernel's newc format (buffer-format.rst)."""
    out, pos = [], 0
    while True:
        assert pos % 4 == 0, "every header starts 4-byte aligned"
        assert data[pos:pos + 6] == b"070701", f"bad magic at {pos}"
        f = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        ino, mode, uid, gid, nlink, mtime, size, _, _, rmaj, rmin, namesize, check = f
        name_at = pos + 110
        name = data[name_at:name_at + namesize]
        assert name.endswith(b"\0")
        data_at = name_at + namesize + (-(110 + namesize) % 4)
        body = data[data_at:data_at + size]
        pos = data_at + size + (-size % 4)
        entry = {"name": name[:-1].decode(), "mode": mode, "uid": uid, "gid": gid, "nlink": nlink,
                 "mtime": mtime, "data": body, "rdev": (rmaj, rmin), "check": check, "ino": ino}
        out.append(entry)
        if entry["name"] == "TRAILER!!!":
            assert pos == len(data), "nothing after the trailer"
            return out


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    path = initramfs.ensure(tmp_path_factory.mktemp("vm"), BUSYBOX)
    return read_newc(path.read_bytes())


def by_name(entries):
    return {e["name"]: e for e in entries}


def test_the_archive_ends_with_the_trailer_and_everything_is_root_owned_at_time_zero(archive):
    assert archive[-1]["name"] == "TRAILER!!!"
    assert all(e["uid"] == 0 and e["gid"] == 0 and e["mtime"] == 0 for e in archive)
    inos = [e["ino"] for e in archive[:-1]]
    assert len(set(inos)) == len(inos), "each member has its own inode number"


def test_init_is_an_executable_script_that_prints_the_marker_and_powers_off(archive):
    init = by_name(archive)["init"]
    assert stat.S_ISREG(init["mode"]) and init["mode"] & 0o111
    text = init["data"].decode()
    assert text.startswith("#!/bin/sh\n")
    assert "mount -t proc proc /proc" in text and "poweroff -f" in text
    assert f'echo "{initramfs.MARKER} kernel=$(uname -r)' in text


def test_busybox_is_the_hosts_binary_and_every_applet_links_to_it(archive):
    members = by_name(archive)
    bb = members["bin/busybox"]
    assert stat.S_ISREG(bb["mode"]) and bb["data"] == BUSYBOX.read_bytes()
    for applet in ("sh", "mount", "poweroff", "uname", "sed", "cut", "nproc", "cat"):
        link = members[f"bin/{applet}"]
        assert stat.S_ISLNK(link["mode"]) and link["data"] == b"busybox", applet


def test_the_console_device_node_is_in_the_archive(archive):
    # The kernel opens /dev/console for init before anything can mount devtmpfs.
    console = by_name(archive)["dev/console"]
    assert stat.S_ISCHR(console["mode"]) and console["rdev"] == (5, 1)


def test_directories_come_before_what_they_hold(archive):
    names = [e["name"] for e in archive]
    for d in ("bin", "dev", "proc"):
        assert stat.S_ISDIR(by_name(archive)[d]["mode"])
    assert names.index("bin") < names.index("bin/busybox")
    assert names.index("dev") < names.index("dev/console")


def test_the_marker_init_prints_is_what_the_host_parses():
    # Run init's echo line with the host's busybox against made-up values.
    line = next(l for l in initramfs.INIT.splitlines() if l.startswith("echo"))
    import subprocess
    script = "uname() { echo 6.1.0-test; }; nproc() { echo 2; }; mem=81920; up=1.25; " + line
    out = subprocess.run([str(BUSYBOX), "sh", "-c", script], capture_output=True, text=True).stdout
    assert parse_marker(out) == {"kernel": "6.1.0-test", "memtotal": 81920, "uptime": 1.25, "cpus": 2}


def test_the_same_busybox_gives_the_same_bytes(tmp_path):
    a = initramfs.newc(initramfs.members(BUSYBOX))
    b = initramfs.newc(initramfs.members(BUSYBOX))
    assert a == b


def test_ensure_caches_and_does_not_rebuild(tmp_path):
    first = initramfs.ensure(tmp_path, BUSYBOX)
    os.utime(first, (1, 1))
    second = initramfs.ensure(tmp_path, BUSYBOX)
    assert second == first and second.stat().st_mtime == 1
    assert [p.name for p in tmp_path.iterdir()] == [first.name], "no temporary file left"


def test_another_busybox_gets_another_file(tmp_path):
    other = tmp_path / "busybox"
    shutil.copy(BUSYBOX, other)
    with open(other, "ab") as f:
        f.write(b"\0")          # still runs; different bytes
    assert initramfs.cache_name(other) != initramfs.cache_name(BUSYBOX)
    path = initramfs.ensure(tmp_path / "cache", other)
    assert by_name(read_newc(path.read_bytes()))["bin/busybox"]["data"] == other.read_bytes()


def test_no_busybox_is_a_one_line_error(tmp_path):
    with pytest.raises(Unsupported, match="does not exist") as info:
        initramfs.ensure(tmp_path, tmp_path / "missing")
    assert "busybox-static" in info.value.hint
    assert list(tmp_path.iterdir()) == []


def test_newc_of_nothing_is_just_the_trailer():
    entries = read_newc(initramfs.newc([]))
    assert [e["name"] for e in entries] == ["TRAILER!!!"]
