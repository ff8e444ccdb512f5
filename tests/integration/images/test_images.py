"""The image store against the real kernel and real tools (root).

Layers unpack into real overlay whiteouts; an overlay mount of them shows what
shared/fixtures/archives/README.md says; committed layers come back; skopeo and
umoci read what we write.
"""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest

from runtime.config import Config
from runtime.image.changes import changes
from runtime.image.images import ImageStore
from runtime.image.layers import OVERLAY_OPAQUE
from runtime.linux.syscalls import Syscalls

pytestmark = pytest.mark.root

FIXTURES = [("docker-save.tar", "fixture/layered:1"),
            ("podman-docker-archive.tar", "localhost/fixture/layered:1"),
            ("podman-oci-archive.tar", "localhost/fixture/layered:1"),
            ("skopeo-oci-archive.tar", "fixture/layered:1")]


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return path


def is_whiteout(path) -> bool:
    st = os.lstat(path)
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(0, 0)


@pytest.mark.parametrize("file, name", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_archive_layers_mount_as_the_readme_says(store, archives, overlay, run_in, file, name):
    store.load(archives / file)
    image = store.resolve(name)
    dirs = store.layer_dirs(image)
    top = dirs[-1]
    assert is_whiteout(top / "bin/ls") and is_whiteout(top / "data/gone")
    assert os.getxattr(top / "data/redo", OVERLAY_OPAQUE, follow_symlinks=False) == b"y"
    assert not list(top.rglob(".wh.*"))

    merged, _ = overlay(dirs)
    assert (merged / "etc/motd").read_text() == "v2\n"
    assert not os.path.lexists(merged / "bin/ls")
    assert not os.path.lexists(merged / "data/gone")
    assert os.listdir(merged / "data/redo") == ["new"]
    assert (merged / "data/keep/file").read_text() == "keep\n"
    assert (merged / "added").read_text() == "added\n"
    # The image's default command, run with its own busybox.
    env = dict(e.split("=", 1) for e in image.settings["Env"])
    assert env["GREETING"] == "annyeong"
    done = run_in(merged, *image.settings["Cmd"], env=env)
    assert (done.returncode, done.stdout) == (0, "v2\n")


def test_base_image_runs(store, busybox, overlay, run_in):
    image = store.ensure_base(busybox)
    (layer,) = store.layer_dirs(image)
    assert os.stat(layer / "bin/ls").st_ino == os.stat(layer / "bin/busybox").st_ino
    assert stat.S_IMODE(os.stat(layer / "tmp").st_mode) == 0o1777
    merged, _ = overlay([layer])
    done = run_in(merged, "/bin/sh", "-c", "echo hello; id -un; id -u nobody; ls /bin | wc -l")
    hello, root, nobody, count = done.stdout.split()
    assert (hello, root, nobody) == ("hello", "root", "65534"), done.stderr
    assert int(count) == len(os.listdir(layer / "bin")) > 100


def test_commit_round_trip(store, busybox, overlay, run_in, syscalls):
    base = store.ensure_base(busybox)
    lowers = store.layer_dirs(base)
    merged, upper = overlay(lowers, "first")
    done = run_in(merged, "/bin/sh", "-c",
                  "rm /bin/ls && rm -rf /var/www && mkdir /var/www && echo hi > /var/www/index.html"
                  " && echo committed > /etc/motd && mkdir /data && echo d > /data/file")
    assert done.returncode == 0, done.stderr
    overlay.unmount(merged)

    # The upper dir now holds a real whiteout and an opaque directory.
    assert is_whiteout(upper / "bin/ls")
    assert syscalls.lgetxattr(upper / "var/www", OVERLAY_OPAQUE) == b"y"
    assert changes(upper, lowers) == [
        ("C", "/bin"), ("D", "/bin/ls"), ("A", "/data"), ("A", "/data/file"), ("C", "/etc"),
        ("A", "/etc/motd"), ("C", "/var"), ("C", "/var/www"), ("A", "/var/www/index.html")]

    image = store.commit(upper, base, {"Cmd": ["cat", "/etc/motd"]}, "committed:1", "/bin/sh -c edits")
    with store.blobs.open(image.layers[-1]["digest"]) as f, tarfile.open(fileobj=io.BytesIO(f.read())) as tar:
        names = tar.getnames()
    assert "bin/.wh.ls" in names and "var/www/.wh..wh..opq" in names

    again, _ = overlay(store.layer_dirs(image), "second")
    assert not os.path.lexists(again / "bin/ls")
    assert os.listdir(again / "var/www") == ["index.html"]
    assert run_in(again, *image.settings["Cmd"]).stdout == "committed\n"


def _unpack(root: str, name: str, barrier) -> None:
    store = ImageStore(Config(root=Path(root)), syscalls=Syscalls())
    image = store.resolve(name)
    barrier.wait()
    store.layer_dirs(image)


def test_concurrent_unpackers_share_one_directory(store, archives):
    store.load(archives / "docker-save.tar")
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(4)
    procs = [ctx.Process(target=_unpack, args=(str(store.config.root), "fixture/layered:1", barrier))
             for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    image = store.resolve("fixture/layered:1")
    assert sorted(os.listdir(store.layers_dir)) == sorted(p.name for p in store.layer_paths(image))
    assert (store.layer_paths(image)[0] / "bin/busybox").is_file()


# -- other tools read what we write --------------------------------------------------------

def skopeo(*args: str) -> dict:
    done = subprocess.run([tool("skopeo"), *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


@pytest.mark.parametrize("source", ["busybox", "skopeo-oci-archive.tar"])
def test_skopeo_inspects_saved_archives_both_ways(store, busybox, archives, tmp_path, source):
    if source == "busybox":
        image = store.ensure_base(busybox)
    else:
        store.load(archives / source)  # gzip layers: the Docker half gets plain copies
        image = store.resolve("fixture/layered:1")
    out = tmp_path / "saved.tar"
    store.save([image.tags[0]], out)

    oci = skopeo("inspect", f"oci-archive:{out}")
    assert oci["Digest"] == image.manifest_digest
    assert oci["Layers"] == [layer["digest"] for layer in image.layers]
    assert oci["Env"] == image.settings["Env"]
    config = skopeo("inspect", "--config", f"oci-archive:{out}")
    assert config["rootfs"]["diff_ids"] == image.diff_ids

    docker = skopeo("inspect", f"docker-archive:{out}")
    assert docker["Layers"] == image.diff_ids
    assert docker["Env"] == image.settings["Env"]
    assert skopeo("inspect", "--config", f"docker-archive:{out}")["rootfs"]["diff_ids"] == image.diff_ids


def test_skopeo_copies_out_of_our_layout_and_back(store, busybox, tmp_path):
    image = store.ensure_base(busybox)
    copy = tmp_path / "copy.tar"
    skopeo("copy", f"oci:{store.layout.root}:busybox:latest", f"docker-archive:{copy}:copied/busybox:1")
    assert store.load(copy) == ["copied/busybox:1"]
    assert store.resolve("copied/busybox:1").diff_ids == image.diff_ids


def test_umoci_unpacks_our_layout(store, busybox, tmp_path):
    umoci = tool("umoci")
    store.ensure_base(busybox)
    bundle = tmp_path / "bundle"
    done = subprocess.run([umoci, "unpack", "--image", f"{store.layout.root}:busybox:latest", str(bundle)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    rootfs = bundle / "rootfs"
    assert os.stat(rootfs / "bin/ls").st_ino == os.stat(rootfs / "bin/busybox").st_ino
    assert (rootfs / "etc/passwd").read_text().startswith("root:x:0:0:root:/root:/bin/sh\n")
