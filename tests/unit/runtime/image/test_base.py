import io
import os
import shutil
import subprocess
import tarfile

import pytest

from runtime.events import ImageLoaded
from runtime.image import base
from runtime.image.layers import extract
from runtime.image.manifest import host_platform
from runtime.image.store import BlobStore


def layer_members(store, image) -> dict[str, tarfile.TarInfo]:
    with store.blobs.open(image.layers[0]["digest"]) as f, tarfile.open(fileobj=io.BytesIO(f.read())) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_base_image_is_like_the_official_one(store, busybox):
    image = store.ensure_base(busybox)
    assert image.tags == ["busybox:latest"]
    assert len(image.layers) == 1
    assert image.layers[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert image.layers[0]["digest"] == image.diff_ids[0]  # stored uncompressed
    settings = image.settings
    assert settings["Cmd"] == ["sh"]
    assert settings["Env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    assert image.config["architecture"] == host_platform()["architecture"]
    assert image.config["os"] == "linux"
    assert "busybox" in image.config["history"][0]["created_by"]


def test_every_applet_is_a_hard_link_in_bin(store, busybox):
    members = layer_members(store, store.ensure_base(busybox))
    applets = set(subprocess.run([str(busybox), "--list"], capture_output=True, text=True).stdout.split())
    applets.discard("busybox")  # the binary itself, not a link
    assert len(applets) > 100
    assert members["bin/busybox"].isreg()
    for name in applets:
        link = members[f"bin/{name}"]
        assert link.islnk() and link.linkname == "bin/busybox", name
    mtime = int(os.stat(busybox).st_mtime)
    assert all(m.uid == 0 and m.gid == 0 and m.uname == "" and m.mtime == mtime for m in members.values())
    assert members["tmp"].mode == 0o1777 and members["root"].mode == 0o700
    for d in ("dev", "etc", "home", "proc", "sys", "usr/sbin", "var/spool/mail", "var/www"):
        assert members[d].isdir(), d


def test_passwd_and_group(store, busybox, syscalls, tmp_path):
    image = store.ensure_base(busybox)
    dest = tmp_path / "rootfs"
    dest.mkdir()
    with store.blobs.open(image.layers[0]["digest"]) as f:
        extract(f, dest, syscalls)
    passwd = (dest / "etc/passwd").read_text().splitlines()
    assert passwd[0] == "root:x:0:0:root:/root:/bin/sh"
    assert passwd[-1] == "nobody:x:65534:65534:nobody:/home:/bin/false"
    assert [line.split(":")[0] for line in passwd] == [
        "root", "daemon", "bin", "sys", "sync", "mail", "www-data", "operator", "nobody"]
    assert "nogroup:x:65534:" in (dest / "etc/group").read_text()
    assert os.stat(dest / "bin/ls").st_ino == os.stat(dest / "bin/busybox").st_ino


def test_same_binary_same_digests(busybox, tmp_path):
    copy = tmp_path / "elsewhere" / "busybox"
    copy.parent.mkdir()
    shutil.copy2(busybox, copy)  # same content and mtime, another path
    first = base.build(BlobStore(tmp_path / "a"), busybox)
    again = base.build(BlobStore(tmp_path / "a"), busybox)
    moved = base.build(BlobStore(tmp_path / "b"), copy)
    assert first == again == moved


def test_ensure_base_is_a_no_op_when_present(store, busybox, publisher):
    first = store.ensure_base(busybox)
    index_inode = os.stat(store.layout.index_path).st_ino
    again = store.ensure_base("/nonexistent/busybox")  # not even looked at
    assert again == first
    assert os.stat(store.layout.index_path).st_ino == index_inode
    assert [type(e) for e in publisher.events] == [ImageLoaded]
    assert publisher.events[0].how == "import" and publisher.events[0].name == "busybox:latest"


def test_no_busybox(store, tmp_path):
    from runtime.errors import Unsupported
    with pytest.raises(Unsupported, match="does not exist") as err:
        store.ensure_base(tmp_path / "missing")
    assert "apt-get install busybox-static" in err.value.one_line()
    assert store.blobs.list() == []
