"""Loading the real archives in shared/fixtures/archives, and save -> load round trips."""
import hashlib
import io
import json
import os
import re
import tarfile
import threading

import pytest

from runtime.config import Config
from runtime.errors import DigestMismatch, InvalidArchive, UnsafeLayer
from runtime.image.images import ImageStore
from runtime.image.layers import OVERLAY_OPAQUE
from runtime.linux.fake import RecordingSyscalls

DOCKER_ID = "sha256:aa291aa9cb56c40f1070b37bff0445b1f5869d8002087131c18a88255268b509"
OCI_ID = "sha256:2455f47edea5ce3c2f5950ba59b8b311871835139dfa57fb2be9d132264880f9"
OCI_MANIFEST = "sha256:f9d45904e063a7b910d2832feec48358cb9bfddd122931e67d774b13950373ad"
DIFF_IDS = ["sha256:ea6344955226041badecfb17fa4df36a68868ac955ee1907f86ef2ee2a03523f",
            "sha256:9354a08ec334bd6712b05f63a56a75e246e04b8ba30dac2df2b4a6133d14a70f",
            "sha256:ab4f71c0b6ad5fccf6a9836ead7930b5f8a082d52cab91d03cf987c21d7fe293"]

FIXTURES = [  # (file, name it loads as, image id)
    ("docker-save.tar", "fixture/layered:1", DOCKER_ID),
    ("podman-docker-archive.tar", "localhost/fixture/layered:1", DOCKER_ID),
    ("podman-oci-archive.tar", "localhost/fixture/layered:1", OCI_ID),
    ("skopeo-oci-archive.tar", "fixture/layered:1", OCI_ID),
]


def write_archive(path, files: dict[str, bytes]) -> None:
    with tarfile.open(path, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def read_archive(path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def recorded(fake: RecordingSyscalls, dirs) -> tuple[list[tuple], dict]:
    """The fake's calls and xattrs with each unpack's temporary directory renamed to its layer dir."""
    def final(path: str) -> str:
        for d in dirs:  # .tmp-<first 12 hex>-<random> was renamed to <hex>
            path = re.sub(rf"/\.tmp-{d.name[:12]}-[0-9a-f]+(?=/|$)", "/" + d.name, path)
        return path
    calls = [(c[0], final(c[1]), *c[2:]) for c in fake.calls]
    return calls, {(final(p), n): v for (p, n), v in fake.xattrs.items()}


def merged_view(dirs, fake: RecordingSyscalls) -> dict[str, str]:
    """What overlayfs would show for these layer dirs, from the fake's recorded whiteouts."""
    calls, xattrs = recorded(fake, dirs)
    view: dict[str, str] = {}
    for layer in dirs:
        prefix = str(layer) + "/"
        whiteouts = {c[1][len(prefix):] for c in calls if c[0] == "mknod" and c[1].startswith(prefix)}
        opaque = {p[len(prefix):] for (p, name), v in xattrs.items()
                  if name == OVERLAY_OPAQUE and v == b"y" and p.startswith(prefix)}
        for rel in opaque:
            view = {k: v for k, v in view.items() if not k.startswith(rel + "/")}
        for rel in whiteouts:
            view = {k: v for k, v in view.items() if k != rel and not k.startswith(rel + "/")}
        for root, dirnames, files in os.walk(layer):
            for name in dirnames + files:
                path = os.path.join(root, name)
                rel = path[len(prefix):]
                if rel in whiteouts:
                    continue
                if os.path.islink(path):
                    view[rel] = "symlink"
                elif os.path.isdir(path):
                    view[rel] = "dir"
                else:
                    view[rel] = open(path, "rb").read().decode(errors="replace")
    return view


@pytest.mark.parametrize("file, name, image_id", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_load_real_archives(store, archives, publisher, file, name, image_id):
    assert store.load(archives / file) == [name]
    image = store.resolve(name)
    assert image.id == image_id and image.tags == [name]
    assert image.diff_ids == DIFF_IDS
    assert "GREETING=annyeong" in image.settings["Env"]
    assert image.settings["WorkingDir"] == "/data"
    assert image.settings["Cmd"] == ["cat", "/etc/motd"]
    assert [(e.type, e.name, e.how) for e in publisher.events] == [("image.loaded", name, "load")]
    if image_id == OCI_ID:
        assert image.manifest_digest == OCI_MANIFEST  # kept byte for byte, gzip layers and all
        assert {layer["mediaType"] for layer in image.layers} == {"application/vnd.oci.image.layer.v1.tar+gzip"}
    else:
        assert [layer["digest"] for layer in image.layers] == DIFF_IDS  # stored uncompressed


@pytest.mark.parametrize("file, name, image_id", FIXTURES, ids=[f[0] for f in FIXTURES])
def test_loaded_layers_show_what_the_readme_says(store, archives, syscalls, file, name, image_id):
    store.load(archives / file)
    dirs = store.layer_dirs(store.resolve(name))
    top = dirs[-1]
    calls, xattrs = recorded(syscalls, dirs)
    assert ("mknod", str(top / "bin/ls"), 0o020000, 0) in calls
    assert ("mknod", str(top / "data/gone"), 0o020000, 0) in calls
    assert xattrs == {(str(top / "data/redo"), OVERLAY_OPAQUE): b"y"}
    view = merged_view(dirs, syscalls)
    assert view["etc/motd"] == "v2\n"
    assert "bin/ls" not in view and "data/gone" not in view and "data/gone/file" not in view
    assert sorted(k for k in view if k.startswith("data/redo/")) == ["data/redo/new"]
    assert view["data/keep/file"] == "keep\n"
    assert view["added"] == "added\n"
    assert view["bin/busybox"] != "" and view["bin/cat"] == "symlink"


def test_loading_twice_is_idempotent(store, archives):
    store.load(archives / "docker-save.tar")
    blobs = store.blobs.list()
    store.load(archives / "docker-save.tar")
    assert store.blobs.list() == blobs
    assert len(store.list()) == 1


def test_loading_all_four_moves_tags_like_docker(store, archives):
    for file, _, _ in FIXTURES:
        store.load(archives / file)
    images = {i.id: i.tags for i in store.list()}
    # The OCI archives came last: the names now point at their config; the Docker
    # image is still there, untagged.
    assert images == {OCI_ID: ["fixture/layered:1", "localhost/fixture/layered:1"], DOCKER_ID: []}


def test_load_from_a_pipe(store, archives):
    read, write = os.pipe()
    data = (archives / "docker-save.tar").read_bytes()
    writer = threading.Thread(target=lambda: (os.write(write, data), os.close(write)))
    writer.start()
    with os.fdopen(read, "rb") as stream:
        assert store.load(stream) == ["fixture/layered:1"]
    writer.join()
    assert not [n for n in os.listdir(store.layout.root) if n.startswith("tmp")]


# -- save -------------------------------------------------------------------------------

@pytest.fixture
def loaded(store, archives, busybox):
    store.ensure_base(busybox)
    store.load(archives / "skopeo-oci-archive.tar")  # gzip layers
    return store


def test_save_then_load_elsewhere_gives_the_same_images(loaded, tmp_path):
    out = tmp_path / "saved.tar"
    loaded.save(["busybox", "fixture/layered:1"], out)
    other = ImageStore(Config(root=tmp_path / "other"), syscalls=RecordingSyscalls())
    assert other.load(out) == ["busybox:latest", "fixture/layered:1"]
    for name in ("busybox:latest", "fixture/layered:1"):
        mine, theirs = loaded.resolve(name), other.resolve(name)
        assert (theirs.id, theirs.manifest_digest, theirs.tags) == (mine.id, mine.manifest_digest, mine.tags)


def test_saved_archive_is_both_oci_and_docker(loaded, tmp_path):
    out = tmp_path / "saved.tar"
    loaded.save(["busybox", "fixture/layered:1"], out)
    files = read_archive(out)
    assert json.loads(files["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(files["index.json"])
    names = {d["annotations"]["org.opencontainers.image.ref.name"]: d["digest"] for d in index["manifests"]}
    assert names == {"busybox:latest": loaded.resolve("busybox").manifest_digest,
                     "fixture/layered:1": OCI_MANIFEST}
    for name, blob in files.items():
        if name.startswith("blobs/sha256/"):
            assert sha(blob) == "sha256:" + name.rpartition("/")[2]  # content-addressed
    docker = json.loads(files["manifest.json"])
    assert [d["RepoTags"] for d in docker] == [["busybox:latest"], ["fixture/layered:1"]]
    for entry, name in zip(docker, ("busybox", "fixture/layered:1")):
        image = loaded.resolve(name)
        assert sha(files[entry["Config"]]) == image.id
        # Docker wants uncompressed layer tars whose digests are the diff_ids.
        assert [sha(files[p]) for p in entry["Layers"]] == image.diff_ids
    assert json.loads(files["repositories"])["fixture/layered"] == {"1": OCI_ID[7:]}


def test_save_is_reproducible(loaded, tmp_path):
    loaded.save(["fixture/layered:1"], tmp_path / "a.tar")
    loaded.save(["fixture/layered:1"], tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]  # no half archive left


def test_save_by_id_saves_untagged(loaded, tmp_path):
    image = loaded.resolve("busybox")
    loaded.save([image.short_id], tmp_path / "id.tar")
    files = read_archive(tmp_path / "id.tar")
    assert json.loads(files["manifest.json"])[0]["RepoTags"] is None
    assert "annotations" not in json.loads(files["index.json"])["manifests"][0]
    other = ImageStore(Config(root=tmp_path / "other"))
    assert other.load(tmp_path / "id.tar") == [image.id]
    assert other.resolve(image.id).tags == []


def test_docker_half_alone_loads_the_same_image(loaded, tmp_path):
    loaded.save(["fixture/layered:1"], tmp_path / "saved.tar")
    files = read_archive(tmp_path / "saved.tar")
    del files["index.json"], files["oci-layout"]
    write_archive(tmp_path / "docker-only.tar", files)
    other = ImageStore(Config(root=tmp_path / "other"))
    assert other.load(tmp_path / "docker-only.tar") == ["fixture/layered:1"]
    assert other.resolve("fixture/layered:1").id == OCI_ID  # the config survives as-is


# -- odd and hostile archives ----------------------------------------------------------------

def test_not_a_tar(store, tmp_path):
    (tmp_path / "junk").write_bytes(os.urandom(4096))
    with pytest.raises(InvalidArchive, match="not a tar archive"):
        store.load(tmp_path / "junk")


def test_a_tar_that_is_no_image(store, tmp_path):
    write_archive(tmp_path / "files.tar", {"hello.txt": b"hi"})
    with pytest.raises(InvalidArchive, match="neither index.json nor manifest.json") as err:
        store.load(tmp_path / "files.tar")
    assert "onggi import" in err.value.one_line()


def docker_archive(path, layers: list[bytes], diff_ids=None, tags=("evil:1",)) -> None:
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": diff_ids or [sha(l) for l in layers]}}).encode()
    files = {"config.json": config}
    for i, layer in enumerate(layers):
        files[f"l{i}/layer.tar"] = layer
    files["manifest.json"] = json.dumps([{"Config": "config.json", "RepoTags": list(tags),
                                          "Layers": [f"l{i}/layer.tar" for i in range(len(layers))]}]).encode()
    write_archive(path, files)


def test_unsafe_layer_in_an_archive_leaves_nothing(store, busybox, build_tar, tmp_path):
    store.ensure_base(busybox)
    blobs, index = store.blobs.list(), store.layout.index_path.read_bytes()
    good = build_tar([{"name": "ok", "data": b"fine"}])
    evil = build_tar([{"name": "../../escape", "data": b"pwned"}])
    docker_archive(tmp_path / "evil.tar", [good, evil])
    with pytest.raises(UnsafeLayer, match="member '../../escape' escapes the layer root"):
        store.load(tmp_path / "evil.tar")
    assert store.blobs.list() == blobs  # the good layer and the config went again
    assert store.layout.index_path.read_bytes() == index
    assert sorted(os.listdir(store.blobs.root / "sha256")) == [d.hex for d in blobs]  # no temporaries


def test_layer_that_is_not_its_diff_id(store, build_tar, tmp_path):
    layer = build_tar([{"name": "f", "data": b"x"}])
    docker_archive(tmp_path / "lie.tar", [layer], diff_ids=[sha(b"something else")])
    with pytest.raises(DigestMismatch, match="the config says"):
        store.load(tmp_path / "lie.tar")
    assert store.blobs.list() == [] and store.list() == []


def oci_variant(archives, tmp_path, edit) -> str:
    files = read_archive(archives / "skopeo-oci-archive.tar")
    edit(files)
    write_archive(tmp_path / "variant.tar", files)
    return tmp_path / "variant.tar"


def test_bare_tag_in_ref_name_loads_untagged(store, archives, tmp_path):
    def bare(files):
        index = json.loads(files["index.json"])
        index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "1"}
        files["index.json"] = json.dumps(index).encode()
    assert store.load(oci_variant(archives, tmp_path, bare)) == [OCI_ID]
    assert store.resolve(OCI_ID[7:19]).tags == []


def test_containerd_name_annotation_wins(store, archives, tmp_path):
    def named(files):
        index = json.loads(files["index.json"])
        index["manifests"][0]["annotations"] = {"org.opencontainers.image.ref.name": "1",
                                                "io.containerd.image.name": "docker.io/library/layered:1"}
        files["index.json"] = json.dumps(index).encode()
    assert store.load(oci_variant(archives, tmp_path, named)) == ["layered:1"]


def test_multi_platform_index_picks_this_machine(store, archives, tmp_path):
    from runtime.image.manifest import host_platform

    def nested(files):
        entry = json.loads(files["index.json"])["manifests"][0]
        child = {k: entry[k] for k in ("mediaType", "digest", "size")}
        other = {**child, "digest": "sha256:" + "0" * 64, "platform": {"architecture": "mips", "os": "linux"}}
        here = {**child, "platform": host_platform()}
        inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": [other, here]}).encode()
        files["blobs/sha256/" + sha(inner)[7:]] = inner
        files["index.json"] = json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json", "digest": sha(inner), "size": len(inner),
            "annotations": entry["annotations"]}]}).encode()
    assert store.load(oci_variant(archives, tmp_path, nested)) == ["fixture/layered:1"]
    assert store.resolve("fixture/layered:1").manifest_digest == OCI_MANIFEST


def test_missing_blob_in_an_oci_archive(store, archives, tmp_path):
    def drop_layer(files):
        del files["blobs/sha256/591fb84bffa4b15a7cdf6f605eedf5e22712c08abde9bb7bf9ec195227bdf468"]
    with pytest.raises(InvalidArchive, match="the archive has no"):
        store.load(oci_variant(archives, tmp_path, drop_layer))
    assert store.blobs.list() == []
