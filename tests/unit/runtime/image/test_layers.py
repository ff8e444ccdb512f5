import errno
import gzip
import io
import os
import stat
import tarfile

import pytest

from runtime.errors import DigestMismatch
from runtime.image import layers
from runtime.image.digest import Digest
from runtime.image.layers import OVERLAY_OPAQUE, Entry, extract, unpack, write_layer, write_tree

WHITEOUT_MODE = stat.S_IFCHR | 0o000


@pytest.fixture
def dest(tmp_path):
    path = tmp_path / "layer"
    path.mkdir()
    return path


def members_of(data: bytes) -> list[tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return tar.getmembers()


def make_whiteout(path) -> None:
    """A real overlay whiteout; Linux >= 5.8 lets anyone make a 0/0 char device."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
    except PermissionError:
        pytest.skip("this kernel does not allow unprivileged whiteout devices")


def test_whiteouts_become_overlay_whiteouts(build_tar, dest, syscalls):
    data = build_tar([
        {"name": "bin", "type": "dir"},
        {"name": "bin/.wh.ls"},
        {"name": "data/redo", "type": "dir"},
        {"name": "data/redo/.wh..wh..opq"},
        {"name": "data/redo/new", "data": b"new\n"},
        {"name": ".wh.gone"},
    ])
    stats = extract(io.BytesIO(data), dest, syscalls)
    assert ("mknod", str(dest / "bin/ls"), WHITEOUT_MODE, 0) in syscalls.calls
    assert ("mknod", str(dest / "gone"), WHITEOUT_MODE, 0) in syscalls.calls
    assert ("lsetxattr", str(dest / "data/redo"), OVERLAY_OPAQUE, b"y") in syscalls.calls
    assert syscalls.names().count("mknod") == 2
    # No OCI marker files are left in the layer directory.
    assert sorted(os.listdir(dest / "data/redo")) == ["new"]
    assert not [p for p in dest.rglob(".wh.*")]
    assert stats.files == 6 and stats.size == 4


def test_metadata_is_kept(build_tar, dest, syscalls):
    data = build_tar([
        {"name": "dir", "type": "dir", "mode": 0o750, "mtime": 1234567},
        {"name": "dir/file", "data": b"abc", "mode": 0o640, "mtime": 7654321},
        {"name": "dir/link", "type": "symlink", "target": "file", "mtime": 1111},
        {"name": "dir/hard", "type": "link", "target": "dir/file"},
        {"name": "dir/pipe", "type": "fifo", "mode": 0o600},
        {"name": "suid", "data": b"x", "mode": 0o4755},
    ])
    extract(io.BytesIO(data), dest, syscalls)
    st = os.stat(dest / "dir")
    assert stat.S_IMODE(st.st_mode) == 0o750 and st.st_mtime == 1234567
    st = os.stat(dest / "dir/file")
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_mtime == 7654321
    assert os.readlink(dest / "dir/link") == "file"
    assert os.lstat(dest / "dir/link").st_mtime == 1111
    assert os.stat(dest / "dir/hard").st_ino == st.st_ino
    assert stat.S_ISFIFO(os.lstat(dest / "dir/pipe").st_mode)
    assert stat.S_IMODE(os.stat(dest / "suid").st_mode) == 0o4755


def test_xattrs_are_applied_but_not_overlay_ones(build_tar, dest, syscalls):
    data = build_tar([{"name": "ping", "data": b"x", "xattrs": {
        "security.capability": b"\x01\x00\x00\x02\xff", "trusted.overlay.redirect": b"/etc"}}])
    extract(io.BytesIO(data), dest, syscalls)
    assert syscalls.xattrs == {(str(dest / "ping"), "security.capability"): b"\x01\x00\x00\x02\xff"}


def test_xattr_refused_by_the_filesystem_is_skipped(build_tar, dest):
    from runtime.linux.fake import RecordingSyscalls
    fake = RecordingSyscalls(fail={"lsetxattr": errno.ENOTSUP})
    extract(io.BytesIO(build_tar([{"name": "f", "data": b"x", "xattrs": {"user.a": b"1"}}])), dest, fake)
    assert (dest / "f").read_bytes() == b"x"


def test_later_members_replace_earlier_ones(build_tar, dest, syscalls):
    data = build_tar([
        {"name": "a", "data": b"file first"},
        {"name": "a", "type": "dir"},
        {"name": "a/x", "data": b"1"},
        {"name": "b", "type": "dir"},
        {"name": "b/y", "data": b"2"},
        {"name": "b", "data": b"file now"},
        {"name": "c", "type": "symlink", "target": "/nowhere"},
        {"name": "c", "data": b"not a link"},
    ])
    extract(io.BytesIO(data), dest, syscalls)
    assert (dest / "a/x").read_bytes() == b"1"
    assert (dest / "b").read_bytes() == b"file now"
    assert not (dest / "c").is_symlink() and (dest / "c").read_bytes() == b"not a link"


def test_missing_parents_are_made(build_tar, dest, syscalls):
    extract(io.BytesIO(build_tar([{"name": "x/y/z", "data": b"deep"}])), dest, syscalls)
    assert (dest / "x/y/z").read_bytes() == b"deep"
    assert stat.S_IMODE(os.stat(dest / "x").st_mode) == 0o755


def test_unpack_once_into_the_diff_id_directory(rootfs_tar, tmp_path, syscalls, tree):
    diff_id = str(Digest.of(rootfs_tar))
    path, stats = unpack(io.BytesIO(rootfs_tar), tmp_path / "layers", diff_id, syscalls)
    assert path == tmp_path / "layers" / Digest.parse(diff_id).hex
    assert tree(path)["etc/motd"] == "file:b'hello\\n'"
    assert stats.files == 6
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    again, stats = unpack(io.BytesIO(b"not even read"), tmp_path / "layers", diff_id, syscalls)
    assert again == path and stats is None
    assert os.listdir(tmp_path / "layers") == [path.name]


def test_unpack_gzip_checks_the_uncompressed_digest(rootfs_tar, tmp_path, syscalls):
    compressed = gzip.compress(rootfs_tar)
    path, _ = unpack(io.BytesIO(compressed), tmp_path / "layers", str(Digest.of(rootfs_tar)), syscalls)
    assert (path / "bin/tool").exists()


def test_unpack_refuses_content_that_is_not_the_diff_id(rootfs_tar, tmp_path, syscalls):
    wrong = str(Digest.of(b"something else"))
    with pytest.raises(DigestMismatch, match="unpack layer"):
        unpack(io.BytesIO(rootfs_tar), tmp_path / "layers", wrong, syscalls)
    assert os.listdir(tmp_path / "layers") == []


def test_unpack_race_loser_removes_its_copy(rootfs_tar, tmp_path, syscalls, monkeypatch):
    layers_dir = tmp_path / "layers"
    diff_id = str(Digest.of(rootfs_tar))
    final = layers_dir / Digest.parse(diff_id).hex
    real_rename = os.rename

    def another_process_wins(src, dst):
        os.mkdir(final)
        (final / "winner").write_text("first")
        real_rename(src, dst)  # ENOTEMPTY, as when another unpacker renamed first

    monkeypatch.setattr(layers.os, "rename", another_process_wins)
    path, stats = unpack(io.BytesIO(rootfs_tar), layers_dir, diff_id, syscalls)
    assert path == final and stats is None
    assert os.listdir(layers_dir) == [final.name]
    assert os.listdir(final) == ["winner"]


# -- directory -> tar -------------------------------------------------------------------

@pytest.fixture
def upper(tmp_path, syscalls):
    """An overlay upper dir: an added file, a hard link, a symlink, a whiteout, an opaque dir."""
    root = tmp_path / "upper"
    (root / "etc").mkdir(parents=True)
    (root / "etc/motd").write_text("v3\n")
    os.link(root / "etc/motd", root / "etc/motd.bak")
    os.symlink("/etc/motd", root / "motd")
    (root / "bin").mkdir()
    make_whiteout(root / "bin/ls")
    (root / "data/redo").mkdir(parents=True)
    (root / "data/redo/new").write_text("new\n")
    syscalls.lsetxattr(root / "data/redo", OVERLAY_OPAQUE, b"y")
    for path in [root, *root.rglob("*")]:
        os.utime(path, (5, 5), follow_symlinks=False)
    return root


def test_write_layer_turns_overlay_back_into_oci(upper, syscalls):
    out = io.BytesIO()
    write_layer(upper, out, syscalls)
    members = {m.name: m for m in members_of(out.getvalue())}
    assert list(members) == ["bin", "bin/.wh.ls", "data", "data/redo", "data/redo/.wh..wh..opq",
                             "data/redo/new", "etc", "etc/motd", "etc/motd.bak", "motd"]
    assert members["bin/.wh.ls"].isreg() and members["bin/.wh.ls"].mode == 0o600
    assert members["data/redo/.wh..wh..opq"].isreg() and members["data/redo/.wh..wh..opq"].mtime == 0
    assert members["etc/motd.bak"].islnk() and members["etc/motd.bak"].linkname == "etc/motd"
    assert members["motd"].issym() and members["motd"].linkname == "/etc/motd"
    assert all(m.uname == "" and m.gname == "" for m in members.values())
    assert members["etc/motd"].mtime == 5


def test_write_layer_is_reproducible_and_round_trips(upper, syscalls, tmp_path, tree):
    first, second = io.BytesIO(), io.BytesIO()
    write_layer(upper, first, syscalls)
    write_layer(upper, second, syscalls)
    assert first.getvalue() == second.getvalue()
    again = tmp_path / "again"
    again.mkdir()
    extract(io.BytesIO(first.getvalue()), again, syscalls)
    assert ("mknod", str(again / "bin/ls"), WHITEOUT_MODE, 0) in syscalls.calls
    assert ("lsetxattr", str(again / "data/redo"), OVERLAY_OPAQUE, b"y") in syscalls.calls
    assert tree(again)["etc/motd"] == "file:b'v3\\n'"


def test_write_layer_keeps_capabilities_and_leaves_out_sockets(tmp_path, syscalls):
    import socket
    root = tmp_path / "upper"
    root.mkdir()
    (root / "ping").write_bytes(b"x")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock"))
    syscalls.lsetxattr(root / "ping", "security.capability", b"\x01\xff")
    out = io.BytesIO()
    write_layer(root, out, syscalls)
    (member,) = members_of(out.getvalue())
    assert member.pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape") == b"\x01\xff"


def test_write_tree_puts_hard_links_after_their_target(tmp_path):
    out = io.BytesIO()
    write_tree([Entry("bin", "dir"), Entry("bin/[", "link", target="bin/tool"),
                Entry("bin/tool", "file", data=b"t")], out, mtime=42)
    names = [(m.name, m.type) for m in members_of(out.getvalue())]
    assert names == [("bin", tarfile.DIRTYPE), ("bin/tool", tarfile.REGTYPE), ("bin/[", tarfile.LNKTYPE)]
