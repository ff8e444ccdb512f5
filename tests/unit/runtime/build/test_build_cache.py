"""The cache key (what decides reuse), the entries on disk, and the reason a miss gives."""
import pytest

from runtime.build.cache import BuildCache, StepKey
from runtime.image.store import BlobStore

P1 = "sha256:" + "1" * 64
P2 = "sha256:" + "2" * 64


@pytest.fixture
def blobs(tmp_path):
    return BlobStore(tmp_path / "blobs")


@pytest.fixture
def cache(tmp_path, blobs):
    return BuildCache(tmp_path / "buildcache", blobs)


def key(**kw):
    base = {"parent": P1, "instruction": "COPY hello.txt /app/", "args": (), "content": "c1",
            "source": None}
    base.update(kw)
    return StepKey(**base)


@pytest.mark.parametrize("change", [
    {"parent": P2}, {"instruction": "COPY hello.txt /srv/"}, {"args": (("V", "2"),)},
    {"content": "c2"}, {"source": P2},
])
def test_every_part_of_the_key_matters(change):
    assert key().digest() != key(**change).digest()


def test_per_file_hashes_are_not_part_of_the_key():
    assert key(files={"a": "1"}).digest() == key(files={"a": "2"}).digest()


def test_key_is_stable_across_processes():
    # A fixed input gives a fixed key: the cache survives restarts and upgrades of nothing else.
    assert key().digest() == StepKey(P1, "COPY hello.txt /app/", (), "c1", None).digest()
    assert len(key().digest()) == 64


def test_put_then_get_gives_the_same_config_bytes(cache):
    config = b'{"config":{},"rootfs":{"diff_ids":[],"type":"layers"}}'
    cache.put(key(), config, None)
    entry = cache.get(key())
    assert entry.config == config and entry.layer is None
    assert cache.get(key(content="other")) is None


def test_an_entry_whose_layer_blob_is_gone_is_a_miss(cache, blobs):
    digest, size = blobs.put(b"layer bytes")
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": str(digest), "size": size}
    cache.put(key(), b"{}", layer)
    assert cache.get(key()).layer == layer
    blobs.delete(digest)
    assert cache.get(key()) is None
    assert cache.why(key()) == "COPY: its cached layer was pruned"


def test_a_broken_entry_is_a_miss(cache):
    cache.put(key(), b"{}", None)
    path = next(p for p in cache.root.iterdir() if p.suffix == ".json")
    path.write_text("{not json")
    assert cache.get(key()) is None
    assert cache.entries() == []


@pytest.mark.parametrize("before,now,reason", [
    (key(content="c1", files={"hello.txt": "x", "b.txt": "y"}),
     key(content="c2", files={"hello.txt": "z", "b.txt": "y"}),
     "COPY hello.txt: content changed"),
    (key(content="c1", files={"a": "1", "b": "1", "c": "1", "d": "1"}),
     key(content="c2", files={"a": "2", "b": "2", "c": "2", "d": "2"}),
     "COPY a b c (+1 more): content changed"),
    (key(content="c1", files={"old.txt": "1"}), key(content="c2", files={"new.txt": "1"}),
     "COPY new.txt old.txt: content changed"),
    (key(instruction="RUN make", content=None, args=(("VERSION", "1"),)),
     key(instruction="RUN make", content=None, args=(("VERSION", "2"),)),
     "ARG VERSION changed"),
    (key(instruction="RUN make", content=None), key(instruction="RUN make", content=None, parent=P2),
     "RUN: parent layer changed"),
    (key(instruction="RUN make"), key(instruction="RUN make install"),
     "RUN: new or changed instruction"),
    (key(instruction="COPY --from=build /out /", content=None, source=P1),
     key(instruction="COPY --from=build /out /", content=None, source=P2),
     "COPY --from=build: the stage it copies from changed"),
])
def test_why(cache, before, now, reason):
    cache.put(before, b"{}", None)
    assert cache.get(now) is None
    assert cache.why(now, "build") == reason


def test_why_on_an_empty_cache(cache):
    assert cache.why(key(instruction="WORKDIR /app")) == "WORKDIR: not built before"


def test_why_compares_with_the_newest_build(cache):
    old = key(content="c0", files={"a.txt": "0", "b.txt": "0"})
    newer = key(content="c1", files={"a.txt": "0", "b.txt": "1"})
    cache.put(old, b"{}", None)
    cache.put(newer, b"{}", None)
    now = key(content="c2", files={"a.txt": "0", "b.txt": "2"})
    assert cache.why(now) == "COPY b.txt: content changed"
