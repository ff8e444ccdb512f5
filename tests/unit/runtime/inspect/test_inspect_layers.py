"""runtime/inspect/layers.py: per-layer changes, waste and why, range diffs, file content."""
import os
import stat

import pytest

from runtime.inspect import layers as L
from runtime.inspect.layers import DIR, FILE, SYMLINK, WHITEOUT, Entry

ROOT = os.geteuid() == 0


def f(path, size):
    return Entry(path, FILE, size)


def d(path, opaque=False):
    return Entry(path, DIR, opaque=opaque)


def wh(path):
    return Entry(path, WHITEOUT)


# A base layer, a layer that overwrites and deletes, one that empties a directory.
STACK = [
    [d("/etc"), f("/etc/passwd", 100), f("/etc/big", 5000), d("/opt"), f("/opt/a", 10), f("/opt/b", 20)],
    [d("/etc"), f("/etc/passwd", 120), wh("/etc/big"), f("/new", 7)],
    [d("/opt", opaque=True), f("/opt/c", 30)],
]


def test_changes_per_layer():
    reports = L.analyze(STACK)
    assert [(c.kind, c.path) for c in reports[0].changes] == [
        ("A", "/etc"), ("A", "/etc/passwd"), ("A", "/etc/big"), ("A", "/opt"), ("A", "/opt/a"), ("A", "/opt/b")]
    # /etc is only carried along as the parent of a change: not a change itself.
    assert [(c.kind, c.path) for c in reports[1].changes] == [
        ("M", "/etc/passwd"), ("D", "/etc/big"), ("A", "/new")]
    assert reports[1].counts() == {"A": 1, "M": 1, "D": 1}
    assert [(c.kind, c.path) for c in reports[2].changes] == [
        ("M", "/opt"), ("D", "/opt/a"), ("D", "/opt/b"), ("A", "/opt/c")]


def test_waste_is_charged_to_the_layer_that_stores_it():
    reports = L.analyze(STACK)
    waste = {(w.path, w.why, w.by) for w in reports[0].wasted}
    assert waste == {("/etc/passwd", "overwritten", 1), ("/etc/big", "deleted", 1),
                     ("/opt/a", "hidden", 2), ("/opt/b", "hidden", 2)}
    assert reports[0].wasted_bytes == 100 + 5000 + 10 + 20
    assert reports[1].wasted_bytes == 0 and reports[2].wasted_bytes == 0
    assert reports[0].size == 5130 and reports[1].size == 127


def test_a_whiteout_of_nothing_is_no_change():
    reports = L.analyze([[f("/a", 1)], [wh("/zzz")]])
    assert reports[1].changes == []


def test_deleting_a_directory_wastes_everything_inside():
    reports = L.analyze([[d("/x"), f("/x/1", 3), f("/x/2", 4)], [wh("/x")]])
    assert [(c.kind, c.path, c.size) for c in reports[1].changes] == [("D", "/x", 7)]
    assert reports[0].wasted_bytes == 7


@pytest.mark.parametrize("lo,hi,expected", [
    (0, 0, {("A", "/etc"), ("A", "/etc/passwd"), ("A", "/etc/big"), ("A", "/opt"), ("A", "/opt/a"), ("A", "/opt/b")}),
    (1, 1, {("M", "/etc/passwd"), ("D", "/etc/big"), ("A", "/new")}),
    (1, 2, {("M", "/etc/passwd"), ("D", "/etc/big"), ("A", "/new"), ("D", "/opt/a"), ("D", "/opt/b"),
            ("A", "/opt/c")}),
    # A range diff names directories only when they appear or disappear.
    (2, 2, {("D", "/opt/a"), ("D", "/opt/b"), ("A", "/opt/c")}),
])
def test_diff_range(lo, hi, expected):
    assert {(c.kind, c.path) for c in L.diff_range(STACK, lo, hi)} == expected


def test_diff_range_refuses_a_bad_range():
    from runtime.errors import InvalidArgument
    with pytest.raises(InvalidArgument):
        L.diff_range(STACK, 2, 1)
    with pytest.raises(InvalidArgument):
        L.diff_range(STACK, 0, 3)


class NoXattrs:
    def lgetxattr(self, path, name):
        return None


def test_scan_reads_files_links_and_counts_hard_links_once(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin/busybox").write_bytes(b"x" * 1000)
    os.link(tmp_path / "bin/busybox", tmp_path / "bin/ls")
    os.symlink("busybox", tmp_path / "bin/sh")
    entries = L.scan(tmp_path, NoXattrs())
    assert [(e.path, e.kind, e.size) for e in entries] == [
        ("/bin", DIR, 0), ("/bin/busybox", FILE, 1000), ("/bin/ls", FILE, 0), ("/bin/sh", SYMLINK, 0)]
    assert entries[2].link


@pytest.mark.skipif(not ROOT, reason="a whiteout is a 0/0 character device: mknod needs root")
def test_scan_sees_whiteouts(tmp_path):
    os.mknod(tmp_path / "gone", stat.S_IFCHR | 0o600, 0)
    assert L.scan(tmp_path, NoXattrs()) == [Entry("/gone", WHITEOUT)]


def test_scans_cache_fixed_layers_only(tmp_path):
    scans = L.Scans(NoXattrs())
    (tmp_path / "a").write_text("1")
    first = scans.get(tmp_path)
    (tmp_path / "b").write_text("2")
    assert scans.get(tmp_path) is first                  # a fixed layer is read once
    assert len(scans.get(tmp_path, fixed=False)) == 2    # an upper dir is read every time


def test_read_file(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hostname").write_text("box\n")
    os.symlink("/etc/shadow", tmp_path / "etc/link")
    assert L.read_file(tmp_path, "/etc/hostname")["content"] == b"box\n"
    assert L.read_file(tmp_path, "/etc/link") == {"path": "/etc/link", "kind": SYMLINK, "size": 0,
                                                  "target": "/etc/shadow"}
    big = L.read_file(tmp_path, "etc/hostname", limit=2)
    assert big["content"] == b"bo" and big["truncated"]


@pytest.mark.parametrize("path", ["/", "/../etc/passwd", "/etc/link/x", "/nope"])
def test_read_file_refuses_paths_outside_or_missing(tmp_path, path):
    from runtime.errors import InvalidArgument, NotFound
    (tmp_path / "etc").mkdir()
    os.symlink("/etc", tmp_path / "etc/link")
    with pytest.raises((InvalidArgument, NotFound)):
        L.read_file(tmp_path, path)


def test_created_by_skips_empty_layers():
    class Image:
        diff_ids = ["sha256:a", "sha256:b"]
        config = {"history": [{"created_by": "ADD x"}, {"created_by": "ENV A=1", "empty_layer": True},
                              {"created_by": "RUN make"}]}
    assert L.created_by(Image()) == ["ADD x", "RUN make"]
