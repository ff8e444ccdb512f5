"""Images through the CLI: diff/commit round trip, save/load read by skopeo, import,
hostile tars refused with nothing left behind, rmi refusing an image in use."""
import io
import json
import os
import subprocess
import tarfile

import pytest

pytestmark = pytest.mark.root

NONE = ("--network", "none")
SHARED = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "shared", "fixtures", "archives")


def test_diff_commit_round_trip(onggi, rt):
    cid = onggi("run", "-d", *NONE, "busybox", "sleep", "60", check=True).stdout.strip()
    try:
        onggi("exec", cid, "sh", "-c", "echo v2 > /etc/motd; rm /bin/ls; mkdir -p /app; echo hi > /app/f",
              check=True)
        diff = onggi("diff", cid, check=True).stdout.splitlines()
        assert "A /etc/motd" in diff and "D /bin/ls" in diff and "A /app/f" in diff
        assert "C /bin" in diff
        assert not any("hosts" in line or "hostname" in line or "resolv" in line for line in diff)
        image_id = onggi("commit", "-c", 'CMD ["cat", "/app/f"]', cid, "committed:1", check=True).stdout.strip()
    finally:
        onggi("rm", "-f", cid)
    assert image_id.startswith("sha256:")
    assert onggi("run", "--rm", *NONE, "committed:1", check=True).stdout == "hi\n"
    probe = onggi("run", "--rm", *NONE, "committed:1", "sh", "-c", "cat /etc/motd; ls /bin/ls 2>&1 || true",
                  check=True).stdout
    assert probe.startswith("v2\n") and "No such file" in probe
    history = onggi("history", "committed:1", check=True).stdout
    assert "onggi commit" in history
    onggi("rmi", "committed:1", check=True)


def test_save_load_round_trip_read_by_skopeo(onggi, rt, tmp_path):
    archive = tmp_path / "busybox.tar"
    onggi("save", "-o", archive, "busybox:latest", check=True)
    for transport in ("oci-archive", "docker-archive"):
        out = subprocess.run(["skopeo", "inspect", f"{transport}:{archive}"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["Layers"], transport
    config = json.loads(subprocess.run(["skopeo", "inspect", "--config", f"oci-archive:{archive}"],
                                       capture_output=True, text=True, check=True).stdout)
    assert config["rootfs"]["diff_ids"] == rt.images.resolve("busybox").diff_ids
    onggi("tag", "busybox", "copy:1", check=True)
    onggi("rmi", "copy:1", check=True)
    assert "Loaded image: busybox:latest" in onggi("load", "-i", archive, check=True).stdout


@pytest.mark.parametrize("name", ["docker-save.tar", "skopeo-oci-archive.tar",
                                  "podman-docker-archive.tar", "podman-oci-archive.tar"])
def test_load_real_tools_archives_and_run(onggi, name):
    path = os.path.join(SHARED, name)
    if not os.path.exists(path):
        pytest.skip("shared fixtures not present")
    loaded = onggi("load", "-i", path, check=True).stdout
    name = loaded.split("Loaded image: ")[1].strip()
    assert name in ("fixture/layered:1", "localhost/fixture/layered:1")   # podman adds localhost/
    out = onggi("run", "--rm", *NONE, name, check=True).stdout
    assert out == "v2\n"
    probe = onggi("run", "--rm", *NONE, name, "sh", "-c",
                  "ls /data/redo; cat /data/keep/file /added; ls /bin/ls /data/gone 2>&1 | wc -l; pwd; echo $GREETING",
                  check=True).stdout.split()
    assert probe == ["new", "keep", "added", "2", "/data", "annyeong"]
    onggi("rmi", "-f", name, check=True)


def test_import_rootfs(onggi, tmp_path):
    tar = tmp_path / "rootfs.tar"
    with tarfile.open(tar, "w") as t:
        info = tarfile.TarInfo("hello.txt")
        data = b"imported\n"
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
        busybox = tarfile.TarInfo("bin/busybox")
        with open("/bin/busybox", "rb") as f:
            blob = f.read()
        busybox.size, busybox.mode = len(blob), 0o755
        t.addfile(busybox, io.BytesIO(blob))
    onggi("import", tar, "imported:1", check=True)
    out = onggi("run", "--rm", *NONE, "imported:1", "/bin/busybox", "cat", "/hello.txt", check=True)
    assert out.stdout == "imported\n"
    onggi("rmi", "imported:1", check=True)


def _attack_tar(path, kind):
    with tarfile.open(path, "w") as t:
        if kind == "dotdot":
            info = tarfile.TarInfo("../../../../tmp/onggi-escaped")
            info.size = 1
            t.addfile(info, io.BytesIO(b"x"))
        elif kind == "absolute":
            info = tarfile.TarInfo("/tmp/onggi-escaped")
            info.size = 1
            t.addfile(info, io.BytesIO(b"x"))
        elif kind == "symlink":
            link = tarfile.TarInfo("etc")
            link.type, link.linkname = tarfile.SYMTYPE, "/tmp"
            t.addfile(link)
            info = tarfile.TarInfo("etc/onggi-escaped")
            info.size = 1
            t.addfile(info, io.BytesIO(b"x"))
        elif kind == "hardlink":
            link = tarfile.TarInfo("passwd")
            link.type, link.linkname = tarfile.LNKTYPE, "/etc/passwd"
            t.addfile(link)
        elif kind == "device":
            dev = tarfile.TarInfo("sda")
            dev.type, dev.devmajor, dev.devminor = tarfile.BLKTYPE, 8, 0
            t.addfile(dev)


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "hardlink", "device"])
def test_hostile_tar_is_refused_and_leaves_nothing(onggi, rt, tmp_path, kind):
    tar = tmp_path / f"{kind}.tar"
    _attack_tar(tar, kind)
    blobs_before = sorted(os.listdir(rt.config.image_dir / "blobs" / "sha256"))
    layers_before = sorted(os.listdir(rt.config.layers_dir))
    proc = onggi("import", tar, f"evil:{kind}")
    assert proc.returncode == 125
    assert proc.stderr.count("\n") == 1 and "refus" in proc.stderr, proc.stderr
    assert not os.path.exists("/tmp/onggi-escaped")
    assert sorted(os.listdir(rt.config.image_dir / "blobs" / "sha256")) == blobs_before
    assert sorted(os.listdir(rt.config.layers_dir)) == layers_before
    assert "evil" not in onggi("images").stdout


def test_rmi_refuses_an_image_a_container_uses(onggi):
    # Docker's rule: untagging is fine while another tag remains; deleting the image is not.
    onggi("tag", "busybox", "alias:1", check=True)
    assert "Untagged: alias:1" in onggi("rmi", "alias:1", check=True).stdout
    base = onggi("create", *NONE, "busybox", "true", check=True).stdout.strip()
    onggi("commit", "-c", "CMD [\"true\"]", base, "inuse:1", check=True)
    onggi("rm", base, check=True)
    cid = onggi("create", *NONE, "inuse:1", check=True).stdout.strip()
    try:
        proc = onggi("rmi", "inuse:1")
        assert proc.returncode != 0 and proc.stderr.count("\n") == 1, proc.stderr
        assert "inuse" in onggi("images").stdout
    finally:
        onggi("rm", cid)
    onggi("rmi", "inuse:1", check=True)
