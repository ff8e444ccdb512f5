"""The attacks a layer tar can make, each refused with nothing left behind."""
import io
import os
import tarfile

import pytest

from runtime.errors import UnsafeLayer
from runtime.image import layers
from runtime.image.digest import Digest
from runtime.image.ingest import vet
from runtime.image.tarsafe import MemberChecker, clean_name

PASSWD = "/etc/passwd"

# (id, members, message). Targets point at "outside", a directory beside the
# store in tmp_path that the attack must not touch (see `outside` below).
ATTACKS = [
    ("dotdot", [{"name": "../x", "data": b"pwned"}],
     "refusing layer: member '../x' escapes the layer root"),
    ("deep-dotdot", [{"name": "../../../../outside/x", "data": b"pwned"}],
     "refusing layer: member '../../../../outside/x' escapes the layer root"),
    ("inner-dotdot", [{"name": "a/../../x", "data": b"pwned"}],
     "refusing layer: member 'a/../../x' escapes the layer root"),
    ("absolute", [{"name": "/etc/passwd", "data": b"root::0:0::/:/bin/sh\n"}],
     "refusing layer: member '/etc/passwd' has an absolute path: it escapes the layer root"),
    ("symlink-write-through", [{"name": "lnk", "type": "symlink", "target": "{outside}"},
                               {"name": "lnk/pwned", "data": b"pwned"}],
     "refusing layer: member 'lnk/pwned' writes through the symlink 'lnk'"),
    ("relative-symlink-write-through", [{"name": "d", "type": "dir"},
                                        {"name": "d/up", "type": "symlink", "target": "../../../.."},
                                        {"name": "d/up/outside/pwned", "data": b"pwned"}],
     "refusing layer: member 'd/up/outside/pwned' writes through the symlink 'd/up'"),
    ("symlink-dir-write-through", [{"name": "lnk", "type": "symlink", "target": "{outside}"},
                                   {"name": "lnk/sub", "type": "dir"}],
     "refusing layer: member 'lnk/sub' writes through the symlink 'lnk'"),
    ("hardlink-absolute", [{"name": "x", "type": "link", "target": PASSWD}],
     "refusing layer: member 'x' is a hard link to '/etc/passwd', outside the layer root"),
    ("hardlink-dotdot", [{"name": "x", "type": "link", "target": "../../../../etc/passwd"}],
     "refusing layer: member 'x' is a hard link to '../../../../etc/passwd', outside the layer root"),
    ("hardlink-via-symlink", [{"name": "lnk", "type": "symlink", "target": "/etc"},
                              {"name": "x", "type": "link", "target": "lnk/passwd"}],
     "refusing layer: member 'x' reaches 'lnk/passwd' through the symlink 'lnk'"),
    ("hardlink-not-yet-extracted", [{"name": "x", "type": "link", "target": "later"},
                                    {"name": "later", "data": b"x"}],
     "refusing layer: member 'x' is a hard link to 'later', which the layer has not created"),
    ("hardlink-to-dir", [{"name": "d", "type": "dir"}, {"name": "x", "type": "link", "target": "d"}],
     "refusing layer: member 'x' is a hard link to the directory 'd'"),
    ("char-device", [{"name": "dev/sda", "type": "chr"}],
     "refusing layer: member 'dev/sda' is a device node; images may not carry devices"),
    ("block-device", [{"name": "disk", "type": "blk"}],
     "refusing layer: member 'disk' is a device node; images may not carry devices"),
    ("below-a-file", [{"name": "f", "data": b"x"}, {"name": "f/g", "data": b"y"}],
     "refusing layer: member 'f/g' is below 'f', which is not a directory"),
    ("whiteout-of-dotdot", [{"name": ".wh..."}],
     "refusing layer: member '.wh...' is a whiteout of '..', '.' or nothing: it escapes the layer root"),
    ("whiteout-of-dot", [{"name": "etc/.wh.."}],
     "refusing layer: member 'etc/.wh..' is a whiteout of '..', '.' or nothing: it escapes the layer root"),
    ("whiteout-of-nothing", [{"name": "etc/.wh."}],
     "refusing layer: member 'etc/.wh.' is a whiteout of '..', '.' or nothing: it escapes the layer root"),
    ("root-replaced-by-a-file", [{"name": ".", "data": b"x"}],
     "refusing layer: member '.' would replace the layer root"),
    ("root-replaced-by-a-symlink", [{"name": "./", "type": "symlink", "target": "/"}],
     "refusing layer: member './' would replace the layer root"),
    ("whiteout-through-symlink", [{"name": "lnk", "type": "symlink", "target": "{outside}"},
                                  {"name": "lnk/.wh.victim"}],
     "refusing layer: member 'lnk/.wh.victim' writes through the symlink 'lnk'"),
]


@pytest.fixture
def outside(tmp_path):
    """A directory outside the store holding a file an attack would like to replace."""
    path = tmp_path / "outside"
    path.mkdir()
    (path / "victim").write_text("safe")
    return path


def attack_tar(build_tar, members, outside) -> bytes:
    return build_tar([{**m, "target": m.get("target", "").replace("{outside}", str(outside))}
                      for m in members])


def assert_untouched(outside, tmp_path):
    assert sorted(os.listdir(outside)) == ["victim"]
    assert (outside / "victim").read_text() == "safe"
    assert not (tmp_path / "x").exists() and not (tmp_path / "root" / "x").exists()


@pytest.mark.parametrize("members, message", [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_vetting_refuses(build_tar, outside, members, message):
    with pytest.raises(UnsafeLayer) as err:
        vet(io.BytesIO(attack_tar(build_tar, members, outside)))
    assert str(err.value) == message


@pytest.mark.parametrize("members, message", [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_unpack_refuses_and_leaves_nothing(build_tar, outside, tmp_path, syscalls, members, message):
    data = attack_tar(build_tar, members, outside)
    layers_dir = tmp_path / "root" / "layers"
    with pytest.raises(UnsafeLayer) as err:
        layers.unpack(io.BytesIO(data), layers_dir, str(Digest.of(data)), syscalls)
    assert str(err.value) == message
    assert os.listdir(layers_dir) == []  # no temporary directory, no layer
    assert_untouched(outside, tmp_path)


@pytest.mark.parametrize("members, message", [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS])
def test_import_refuses_and_leaves_nothing(build_tar, outside, tmp_path, store, members, message):
    data = attack_tar(build_tar, members, outside)
    with pytest.raises(UnsafeLayer, match="refusing layer"):
        store.import_rootfs(io.BytesIO(data), "evil:1")
    assert store.blobs.list() == []
    assert store.list() == []
    assert [n for n in os.listdir(store.blobs.root / "sha256")] == []
    assert_untouched(outside, tmp_path)


def test_one_line_message_with_hint(build_tar, outside):
    with pytest.raises(UnsafeLayer) as err:
        vet(io.BytesIO(attack_tar(build_tar, ATTACKS[0][1], outside)))
    line = err.value.one_line()
    assert "\n" not in line and line.startswith("refusing layer: member '../x'")
    assert "nothing was extracted" in line


def test_what_real_images_need_is_allowed(build_tar, tmp_path, syscalls):
    data = build_tar([
        {"name": "./", "type": "dir"},
        {"name": "./bin/", "type": "dir"},
        {"name": "./bin/busybox", "data": b"\x7fELF", "mode": 0o4755},  # setuid is fine
        {"name": "./bin/sh", "type": "symlink", "target": "/bin/busybox"},  # absolute target
        {"name": "./bin/ls", "type": "link", "target": "./bin/busybox"},
        {"name": "./up", "type": "symlink", "target": "../../../../etc"},  # never followed
        {"name": "./run/fifo", "type": "fifo"},
        {"name": "a/./b//c", "data": b"normalised"},
    ])
    assert vet(io.BytesIO(data)) == 8
    dest = tmp_path / "dest"
    dest.mkdir()
    layers.extract(io.BytesIO(data), dest, syscalls)
    assert os.readlink(dest / "bin/sh") == "/bin/busybox"
    assert os.stat(dest / "bin/busybox").st_mode & 0o7777 == 0o4755
    assert os.stat(dest / "bin/ls").st_ino == os.stat(dest / "bin/busybox").st_ino
    assert (dest / "a/b/c").read_bytes() == b"normalised"


def test_a_later_member_may_replace_a_symlink(build_tar, tmp_path, syscalls, outside):
    data = build_tar([{"name": "lnk", "type": "symlink", "target": str(outside)},
                      {"name": "lnk", "type": "dir"},
                      {"name": "lnk/file", "data": b"inside"}])
    vet(io.BytesIO(data))
    dest = tmp_path / "dest"
    dest.mkdir()
    layers.extract(io.BytesIO(data), dest, syscalls)
    assert (dest / "lnk").is_dir() and not (dest / "lnk").is_symlink()
    assert sorted(os.listdir(outside)) == ["victim"]


@pytest.mark.parametrize("name, message", [
    ("a\x00b", "has a NUL byte in its name"),
    ("/x", "has an absolute path"),
    ("x/../..", "escapes the layer root"),
])
def test_clean_name_refuses(name, message):
    with pytest.raises(UnsafeLayer, match=message):
        clean_name(name)


@pytest.mark.parametrize("name, clean", [("./", ""), (".", ""), ("./etc/", "etc"), ("a//b/./c", "a/b/c")])
def test_clean_name(name, clean):
    assert clean_name(name) == clean


def test_nul_in_a_member_name_is_refused():
    # tarfile cuts ustar names at NUL, but a PAX "path" record can carry one.
    with pytest.raises(UnsafeLayer, match="NUL"):
        MemberChecker().check(tarfile.TarInfo("bad\x00name"))


@pytest.mark.parametrize("members", [
    [{"name": "d", "type": "dir", "mode": 0o777}, {"name": "d", "type": "symlink", "target": "{outside}"}],
    [{"name": "a", "type": "dir"}, {"name": "a/victim", "type": "dir", "mode": 0o777, "mtime": 1},
     {"name": "a", "type": "symlink", "target": "{outside}"}],
], ids=["dir-replaced-by-symlink", "parent-replaced-by-symlink"])
def test_directory_metadata_never_lands_outside(build_tar, outside, tmp_path, syscalls, members):
    (outside / "victim").unlink()
    (outside / "victim").mkdir(mode=0o700)
    before = os.stat(outside), os.stat(outside / "victim")
    dest = tmp_path / "dest"
    dest.mkdir()
    layers.extract(io.BytesIO(attack_tar(build_tar, members, outside)), dest, syscalls)
    after = os.stat(outside), os.stat(outside / "victim")
    assert [(s.st_mode, s.st_mtime) for s in after] == [(s.st_mode, s.st_mtime) for s in before]
    assert syscalls.xattrs == {}
