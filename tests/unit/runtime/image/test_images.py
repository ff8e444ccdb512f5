import gzip
import io
import os
import stat

import pytest

from runtime.config import Config
from runtime.errors import Conflict, ImageInUse, ImageNotFound, InvalidReference
from runtime.image.digest import Digest
from runtime.image.images import ImageStore
from runtime.image.layers import OVERLAY_OPAQUE
from runtime.image.store import BlobStore


@pytest.fixture
def base(store, busybox):
    return store.ensure_base(busybox)


@pytest.fixture
def child(store, base, rootfs_tar, tmp_path):
    """A second image on top of busybox: committed from an upper dir."""
    upper = tmp_path / "upper"
    (upper / "etc").mkdir(parents=True)
    (upper / "etc/motd").write_text("child\n")
    return store.commit(upper, base, {"Cmd": ["cat", "/etc/motd"]}, "child:1", "sh -c 'echo child'")


def test_construction_does_no_io(tmp_path):
    ImageStore(Config(root=tmp_path / "nowhere"))
    assert not (tmp_path / "nowhere").exists()


def test_resolve_every_way(store, base):
    manifest = base.manifest_digest
    for ref in ("busybox", "busybox:latest", "docker.io/library/busybox:latest", "library/busybox",
                base.id, base.id[7:], base.short_id, base.id[:19], base.short_id[:4],
                f"busybox@{manifest}"):
        assert store.resolve(ref) == base, ref


def test_resolve_reads_the_index_and_two_blobs(store, base, monkeypatch):
    reads = []
    real = BlobStore.get
    monkeypatch.setattr(BlobStore, "get", lambda self, d: reads.append(str(d)) or real(self, d))
    store.resolve("busybox")
    assert reads == [base.manifest_digest, base.id]


def test_not_found(store, base):
    with pytest.raises(ImageNotFound) as err:
        store.resolve("foo")
    assert str(err.value) == "no such image: foo:latest"
    with pytest.raises(ImageNotFound, match="no such image: 0123abc"):
        store.resolve("0123abc")
    with pytest.raises(ImageNotFound, match=r"no such image: sha256:0{64}"):
        store.resolve("sha256:" + "0" * 64)
    with pytest.raises(InvalidReference):
        store.resolve("Not/Valid")


def test_name_wins_over_id_prefix(store, base, rootfs_tar):
    prefix = base.short_id[:6]
    if not prefix.isdigit():
        other = store.import_rootfs(io.BytesIO(rootfs_tar), f"{prefix}:latest")
        assert store.resolve(prefix) == other
        assert store.resolve(base.short_id) == base


def test_ambiguous_prefix(store, rootfs_tar):
    # 17 images: at least two IDs start with the same hex digit.
    ids = [store.import_rootfs(io.BytesIO(rootfs_tar), None, {"Cmd": [str(i)]}).id for i in range(17)]
    first = [i[7] for i in ids]
    shared = next(c for c in first if first.count(c) > 1)
    with pytest.raises(ImageNotFound, match=f"no such image: {shared} is ambiguous") as err:
        store.resolve(shared)
    assert "more digits" in err.value.one_line()


def test_list_one_per_image_with_all_tags(store, base, child):
    store.tag("busybox", "mybox:1")
    images = store.list()
    assert [i.id for i in images] == [child.id, base.id]  # newest first
    assert images[1].tags == ["busybox:latest", "mybox:1"]


def test_image_value(base):
    assert base.short_id == base.id[7:19]
    assert base.diff_ids == [base.layers[0]["digest"]]
    assert base.size == base.layers[0]["size"] > 1_000_000
    assert base.created.endswith("Z")
    assert hash(base) == hash(base)


def test_tag_moves_and_publishes(store, base, child, publisher):
    assert store.tag(child.short_id, "busybox") == "busybox:latest"
    assert store.resolve("busybox").id == child.id
    assert store.resolve(base.id).tags == []  # dangling now, still there
    assert publisher.events[-1].type == "image.tagged"
    assert (publisher.events[-1].id, publisher.events[-1].name) == (child.id, "busybox:latest")
    with pytest.raises(InvalidReference, match="cannot include a digest"):
        store.tag("busybox", f"x@{child.manifest_digest}")


# -- remove -----------------------------------------------------------------------------

def test_remove_one_of_several_tags_only_untags(store, base):
    store.tag("busybox", "mybox:1")
    assert store.remove("mybox:1") == ["Untagged: mybox:1"]
    assert store.resolve("busybox").tags == ["busybox:latest"]


def test_remove_last_tag_deletes_image_blobs_and_layer_dirs(store, base, publisher):
    layer_dir = store.layer_dirs(base)[0]
    lines = store.remove("busybox")
    assert lines == ["Untagged: busybox:latest", f"Deleted: {base.id}", f"Deleted: {base.diff_ids[0]}"]
    assert store.blobs.list() == [] and store.list() == []
    assert not layer_dir.exists() and os.listdir(store.layers_dir) == []
    assert publisher.events[-1].type == "image.deleted" and publisher.events[-1].id == base.id


def test_remove_keeps_what_other_images_share(store, base, child):
    base_layer = store.layer_dirs(child)[0]
    store.remove("busybox")
    assert store.resolve("child:1") == child
    for digest in (child.manifest_digest, child.id, *(layer["digest"] for layer in child.layers)):
        assert store.blobs.has(digest)
    assert base_layer.is_dir()
    assert not store.blobs.has(base.id) and not store.blobs.has(base.manifest_digest)


def test_remove_refuses_images_in_use(store, base):
    with pytest.raises(ImageInUse, match="must force"):
        store.remove("busybox", in_use={base.id})
    with pytest.raises(ImageInUse, match="being used by a container"):
        store.remove(base.short_id, in_use={base.id})
    assert store.resolve("busybox") == base


def test_force_remove_of_an_image_in_use_untags_but_keeps_it(store, base):
    assert store.remove("busybox", force=True, in_use={base.id}) == ["Untagged: busybox:latest"]
    assert store.resolve(base.id).tags == []
    assert store.blobs.has(base.layers[0]["digest"])


def test_remove_by_id_with_several_tags_needs_force(store, base):
    store.tag("busybox", "mybox:1")
    with pytest.raises(Conflict, match="referenced in multiple repositories"):
        store.remove(base.short_id)
    lines = store.remove(base.short_id, force=True)
    assert lines[:3] == ["Untagged: busybox:latest", "Untagged: mybox:1", f"Deleted: {base.id}"]
    assert store.list() == []


def test_layer_dirs_in_use_survive_removal(store, base):
    layer_dir = store.layer_dirs(base)[0]
    store.remove("busybox", in_use_layers={str(layer_dir)})
    assert layer_dir.is_dir()
    assert not store.blobs.has(base.layers[0]["digest"])  # the blob goes; the mounted dir stays


def test_remove_dangling_by_id(store, base, child):
    store.tag("child:1", "busybox")
    assert store.remove(base.short_id)[0] == f"Deleted: {base.id}"


# -- layers ----------------------------------------------------------------------------------

def test_layer_dirs_unpacks_once_and_publishes(store, base, publisher):
    dirs = store.layer_dirs(base)
    assert dirs == [store.layers_dir / Digest.parse(base.diff_ids[0]).hex]
    assert (dirs[0] / "bin/busybox").is_file()
    extracted = [e for e in publisher.events if e.type == "layer.extracted"]
    assert len(extracted) == 1 and extracted[0].id == base.diff_ids[0] and extracted[0].files > 100
    assert store.layer_dirs(base) == dirs
    assert len([e for e in publisher.events if e.type == "layer.extracted"]) == 1


# -- history and inspect ---------------------------------------------------------------------

def test_history(store, base, child):
    rows = store.history("child:1")
    assert [r["id"] for r in rows] == [child.id, base.id]  # the base is a local image
    assert rows[0]["created_by"] == "sh -c 'echo child'"
    assert rows[0]["size"] == child.layers[-1]["size"]
    assert set(rows[0]) == {"id", "created", "created_by", "size", "comment"}


def test_history_of_a_pulled_image(store, archives):
    store.load(archives / "docker-save.tar")
    rows = store.history("fixture/layered:1")
    assert len(rows) == 6
    assert rows[0]["created_by"].endswith('CMD ["cat" "/etc/motd"]') and rows[0]["size"] == 0
    assert [r["id"] for r in rows[1:]] == ["<missing>"] * 5
    assert rows[-1]["comment"] == "Imported from -" and rows[-1]["size"] > 1_000_000


def test_inspect_is_docker_shaped(store, base, child):
    info = store.inspect("child:1")
    assert info["Id"] == child.id and info["RepoTags"] == ["child:1"]
    assert info["Config"]["Cmd"] == ["cat", "/etc/motd"]
    assert info["Config"]["Env"][0].startswith("PATH=")
    assert info["Config"]["Entrypoint"] is None and info["Config"]["WorkingDir"] == ""
    assert info["RootFS"] == {"Type": "layers", "Layers": child.diff_ids}
    assert info["Os"] == "linux" and info["Size"] == child.size
    lower, upper = store.layer_paths(child)
    assert info["GraphDriver"] == {"Name": "overlay", "Data": {"UpperDir": str(upper), "LowerDir": str(lower)}}
    for key in ("Created", "Author", "Architecture", "RepoDigests"):
        assert key in info


# -- import and commit -----------------------------------------------------------------------

def test_import_rootfs(store, rootfs_tar, tmp_path, publisher):
    (tmp_path / "rootfs.tar.gz").write_bytes(gzip.compress(rootfs_tar))
    image = store.import_rootfs(tmp_path / "rootfs.tar.gz", "mine:1", {"Cmd": ["/bin/tool"], "Env": ["A=1"]})
    assert image.tags == ["mine:1"]
    assert image.layers[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    assert image.layers[0]["digest"] == image.diff_ids[0] == str(Digest.of(rootfs_tar))
    assert image.settings == {"Cmd": ["/bin/tool"], "Env": ["A=1"]}
    assert image.config["history"][0]["comment"] == f"Imported from {tmp_path / 'rootfs.tar.gz'}"
    assert (publisher.events[-1].type, publisher.events[-1].how) == ("image.loaded", "import")
    assert (store.layer_dirs(image)[0] / "etc/motd").read_text() == "hello\n"


def test_import_from_a_stream_untagged(store, rootfs_tar):
    image = store.import_rootfs(io.BytesIO(rootfs_tar), None)
    assert image.tags == [] and store.list() == [image]
    assert image.config["history"][0]["comment"] == "Imported from -"


def test_commit(store, base, tmp_path, syscalls, publisher):
    upper = tmp_path / "upper"
    (upper / "bin").mkdir(parents=True)
    try:
        os.mknod(upper / "bin/ls", stat.S_IFCHR, os.makedev(0, 0))
    except PermissionError:
        pytest.skip("this kernel does not allow unprivileged whiteout devices")
    (upper / "etc").mkdir()
    syscalls.lsetxattr(upper / "etc", OVERLAY_OPAQUE, b"y")
    (upper / "etc/only").write_text("only\n")
    image = store.commit(upper, base, {"Env": ["MORE=1"], "WorkingDir": "/etc"}, "committed:1",
                         "/bin/sh", comment="a comment", author="onggi test")
    assert image.diff_ids[:-1] == base.diff_ids and len(image.layers) == 2
    assert image.settings["Env"][-1] == "MORE=1" and image.settings["Cmd"] == ["sh"]
    assert image.settings["WorkingDir"] == "/etc"
    history = image.config["history"][-1]
    assert (history["created_by"], history["comment"], history["author"]) == ("/bin/sh", "a comment", "onggi test")
    assert image.config["author"] == "onggi test"
    assert (publisher.events[-1].how, publisher.events[-1].name) == ("commit", "committed:1")
    top = store.layer_dirs(image)[-1]
    assert (top / "etc/only").read_text() == "only\n"
    recorded = [c for c in syscalls.calls if c[0] in ("mknod", "lsetxattr") and "/layers/" in c[1]]
    assert [c[0] for c in recorded] == ["mknod", "lsetxattr"]  # the whiteout and opaque dir came back


# -- space -----------------------------------------------------------------------------------

def test_disk_usage_and_prune(store, base, child, rootfs_tar):
    dangling = store.import_rootfs(io.BytesIO(rootfs_tar), None)
    for image in (base, child, dangling):
        store.layer_dirs(image)
    usage = store.disk_usage(in_use={child.id})
    assert usage["images"] == 3 and usage["active"] == 1 and usage["layers"] == 3
    assert usage["size"] == sum(store.blobs.stat(d) for d in store.blobs.list())
    assert 0 < usage["reclaimable"] < usage["size"] + usage["layers_size"]

    lines = store.prune(in_use={child.id})
    assert lines == [f"Deleted: {dangling.id}", f"Deleted: {dangling.diff_ids[0]}"]
    assert {i.id for i in store.list()} == {base.id, child.id}
    assert store.disk_usage()["reclaimable"] == 0


def test_prune_keeps_in_use_dangling_images_and_layers(store, base, rootfs_tar):
    dangling = store.import_rootfs(io.BytesIO(rootfs_tar), None)
    layer_dir = store.layer_dirs(dangling)[0]
    assert store.prune(in_use={dangling.id}) == []
    store.remove(dangling.id, force=True, in_use={dangling.id})  # still in use: kept
    assert store.prune(in_use=set(), in_use_layers={layer_dir.name})[0] == f"Deleted: {dangling.id}"
    assert layer_dir.is_dir()


def test_prune_collects_old_orphans_only(store, base):
    old, _ = store.blobs.put(b"crashed load, long ago")
    young, _ = store.blobs.put(b"another process, right now")
    os.utime(store.blobs.path(old), (1, 1))
    stray = store.layers_dir / ("e" * 64)
    stray.mkdir(parents=True)
    stale_tmp = store.layers_dir / ".tmp-abc-123"
    stale_tmp.mkdir()
    os.utime(stale_tmp, (1, 1))
    busy_tmp = store.layers_dir / ".tmp-def-456"
    busy_tmp.mkdir()
    lines = store.prune()
    assert f"Deleted: {old}" in lines and f"Deleted: sha256:{'e' * 64}" in lines
    assert not store.blobs.has(old) and store.blobs.has(young)
    assert not stray.exists() and not stale_tmp.exists() and busy_tmp.exists()
    assert store.resolve("busybox") == base


def test_a_broken_image_makes_collection_keep_everything(store, base, child):
    store.layer_dirs(child)
    store.blobs.path(child.id).write_bytes(b"corrupt")  # child's config no longer reads
    blobs = store.blobs.list()
    lines = store.remove("busybox")
    assert lines == ["Untagged: busybox:latest", f"Deleted: {base.id}"]
    assert store.blobs.list() == blobs  # child may need any of it
    assert all(p.is_dir() for p in store.layer_paths(base))
    assert store.prune() == []


def test_a_corrupt_image_can_still_be_untagged(store, base):
    from runtime.errors import DigestMismatch
    store.blobs.path(base.id).write_bytes(b"corrupt")
    with pytest.raises(DigestMismatch):
        store.resolve("busybox")
    with pytest.raises(DigestMismatch):
        store.remove(base.short_id)  # by ID there is no way to find it
    assert store.remove("busybox") == ["Untagged: busybox:latest"]
    assert store.layout.read_index().entries == []
    assert store.list() == []
