"""The layered filesystem as data: overlay's rules (copy-up, whiteouts, opaque dirs), diff, scans."""
import pytest

from runtime.inspect.layers import analyze
from runtime.sim import busybox
from runtime.sim.fs import FS, norm, scan_entries


def base():
    return {"/etc": {"k": "d", "m": 0o755}, "/etc/passwd": {"k": "f", "s": 5, "d": "root\n"},
            "/bin": {"k": "d", "m": 0o755}, "/bin/busybox": {"k": "f", "s": 100, "m": 0o755},
            "/bin/ls": {"k": "f", "s": 100, "m": 0o755, "h": "/bin/busybox"},
            "/opt": {"k": "d"}, "/opt/a": {"k": "f", "s": 1, "d": "a"}}


def test_the_base_image_is_the_real_layout():
    layer = busybox.layer()
    entries = scan_entries(layer)
    # 14 directories, the binary, 268 applets hard-linked to it, passwd and group; the
    # binary's bytes counted once, as a scan of the real unpacked layer counts them.
    assert len(entries) == 285
    assert sum(e.size for e in entries) == busybox.BINARY_SIZE + len(busybox.layer()["/etc/passwd"]["d"]) \
        + len(busybox.layer()["/etc/group"]["d"])
    assert FS([layer]).nlink("/bin/vi") == 269


def test_write_copies_the_whole_file_up_with_its_parents():
    fs = FS([base()])
    fs.write("/etc/passwd", "student\n", append=True)
    assert fs.read("/etc/passwd") == "root\nstudent\n"
    assert set(fs.upper) == {"/etc", "/etc/passwd"}
    assert fs.lowers[0]["/etc/passwd"]["d"] == "root\n"          # the lower layer is untouched


def test_removing_a_lower_file_leaves_a_whiteout_and_an_upper_one_just_goes():
    fs = FS([base()])
    fs.write("/tmp-file", "x")
    fs.remove("/tmp-file")
    assert "/tmp-file" not in fs.upper
    fs.remove("/bin/ls")
    assert fs.upper["/bin/ls"]["k"] == "w" and not fs.exists("/bin/ls")
    assert "ls" not in fs.listdir("/bin") and "busybox" in fs.listdir("/bin")


def test_a_whiteout_or_an_opaque_dir_hides_what_is_below():
    upper = {"/opt": {"k": "d", "o": 1}, "/opt/b": {"k": "f", "s": 1, "d": "b"}}
    fs = FS([base()], upper)
    assert fs.listdir("/opt") == ["b"] and not fs.exists("/opt/a")
    assert ("D", "/opt/a") in fs.diff() and ("C", "/opt") in fs.diff()


def test_diff_reads_like_docker_diff():
    fs = FS([base()])
    fs.write("/root/note.txt", "hello\n")
    fs.write("/etc/passwd", "x\n", append=True)
    fs.remove("/bin/ls")
    assert fs.diff() == [("C", "/bin"), ("D", "/bin/ls"), ("C", "/etc"), ("C", "/etc/passwd"),
                         ("A", "/root"), ("A", "/root/note.txt")]


def test_scans_feed_the_real_layer_analysis():
    lower = base()
    upper = FS([lower])
    upper.write("/opt/a", "bigger one")
    upper.remove("/bin/ls")
    reports = analyze([scan_entries(lower), scan_entries(upper.upper)])
    assert reports[1].counts() == {"A": 0, "M": 1, "D": 1}
    assert reports[0].wasted_bytes == 1                 # /opt/a's old byte, overwritten above


@pytest.mark.parametrize("path,cwd,want", [("a/../b", "/x", "/x/b"), ("/../..", "/", "/"), ("", "/r", "/r"),
                                           ("./c", "/", "/c")])
def test_norm(path, cwd, want):
    assert norm(path, cwd) == want
