import json
import multiprocessing
import os

import pytest

from runtime.image.layout import REF_NAME, Index, Layout, empty_index, name_of


def desc(n: int) -> dict:
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + f"{n:x}" * 64 if n < 16 else "sha256:" + f"{n:064x}", "size": 100 + n}


@pytest.fixture
def layout(tmp_path) -> Layout:
    return Layout(tmp_path / "image")


def test_missing_layout_reads_as_empty_and_creates_nothing(layout):
    assert layout.read_index().entries == []
    assert not layout.root.exists()


def test_transaction_writes_an_oci_layout(layout):
    with layout.transaction() as index:
        index.tag("busybox:latest", desc(1))
    assert json.loads((layout.root / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    on_disk = json.loads((layout.root / "index.json").read_text())
    assert on_disk["schemaVersion"] == 2
    assert on_disk["manifests"] == [{**desc(1), "annotations": {REF_NAME: "busybox:latest"}}]
    assert layout.read_index().names() == {"busybox:latest": on_disk["manifests"][0]}


def test_unchanged_transaction_does_not_rewrite(layout):
    with layout.transaction() as index:
        index.tag("a:1", desc(1))
    before = os.stat(layout.index_path).st_ino
    with layout.transaction() as index:
        index.tag("a:1", desc(1))  # already so
    assert os.stat(layout.index_path).st_ino == before


def test_failed_transaction_leaves_the_index(layout):
    with layout.transaction() as index:
        index.tag("a:1", desc(1))
    with pytest.raises(RuntimeError):
        with layout.transaction() as index:
            index.tag("b:1", desc(2))
            raise RuntimeError("boom")
    assert list(layout.read_index().names()) == ["a:1"]
    assert sorted(os.listdir(layout.root)) == ["index.json", "index.json.lock", "oci-layout"]


def test_tags_and_dangling_images():
    index = Index(empty_index())
    index.tag("a:1", desc(1))
    index.tag("a:2", desc(1))
    assert index.tags_of(desc(1)["digest"]) == ["a:1", "a:2"]
    # Moving a:1 and a:2 away leaves image 1 indexed without a tag (dangling).
    assert index.tag("a:1", desc(2)) == desc(1)["digest"]
    index.tag("a:2", desc(2))
    assert index.tags_of(desc(1)["digest"]) == []
    assert sorted(index.manifest_digests()) == [desc(1)["digest"], desc(2)["digest"]]
    assert sorted((name_of(d) or "", d["digest"]) for d in index.entries) == [
        ("", desc(1)["digest"]), ("a:1", desc(2)["digest"]), ("a:2", desc(2)["digest"])]
    # Tagging the dangling image again replaces its untagged entry.
    index.tag("b:1", desc(1))
    assert sorted(name_of(d) for d in index.entries) == ["a:1", "a:2", "b:1"]


def test_untag_add_drop():
    index = Index(empty_index())
    index.tag("a:1", desc(1))
    index.tag("a:2", desc(1))
    index.untag("a:1")
    assert index.tags_of(desc(1)["digest"]) == ["a:2"] and len(index.entries) == 1
    index.untag("a:2")
    assert index.entries == [desc(1)]  # kept, dangling
    assert index.untag("nothing:here") is None
    index.add(desc(1))
    assert len(index.entries) == 1  # add is idempotent
    index.drop(desc(1)["digest"])
    assert index.entries == []


def _tag_many(root, worker: int, count: int) -> None:
    layout = Layout(root)
    for i in range(count):
        with layout.transaction() as index:
            index.tag(f"img:{worker}-{i}", desc(worker * 100 + i + 16))


def test_concurrent_transactions_lose_nothing(layout):
    ctx = multiprocessing.get_context("fork")
    workers = [ctx.Process(target=_tag_many, args=(layout.root, w, 15)) for w in range(6)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(30)
        assert p.exitcode == 0
    names = layout.read_index().names()
    assert len(names) == 6 * 15
    assert not [n for n in os.listdir(layout.root) if ".tmp-" in n]
