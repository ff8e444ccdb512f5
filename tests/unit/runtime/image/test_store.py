import io
import os

import pytest

from runtime.errors import BlobNotFound, DigestMismatch
from runtime.image.digest import Digest
from runtime.image.store import BlobStore


@pytest.fixture
def blobs(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def files_in(blobs: BlobStore) -> list[str]:
    return sorted(os.listdir(blobs.root / "sha256"))


def test_put_and_get(blobs):
    digest, size = blobs.put(b"hello")
    assert digest == Digest.of(b"hello") and size == 5
    assert blobs.get(digest) == b"hello"
    assert blobs.get(str(digest)) == b"hello"
    assert blobs.stat(digest) == 5
    assert blobs.has(digest)
    assert blobs.path(digest) == blobs.root / "sha256" / digest.hex
    assert blobs.list() == [digest]


def test_put_is_idempotent(blobs):
    first = blobs.put(b"same")
    second = blobs.put(io.BytesIO(b"same"))
    assert first == second
    assert files_in(blobs) == [first[0].hex]  # no temporary files left either


def test_put_stream_in_chunks(blobs):
    data = os.urandom(3 * (1 << 20) + 17)
    digest, size = blobs.put(io.BytesIO(data))
    assert size == len(data) and digest == Digest.of(data)
    with blobs.open(digest) as f:
        assert f.read() == data


def test_put_with_wrong_expected_digest_stores_nothing(blobs):
    with pytest.raises(DigestMismatch):
        blobs.put(b"content", expected=Digest.of(b"other"))
    assert files_in(blobs) == []
    assert blobs.put(b"content", expected=Digest.of(b"content"))[0] == Digest.of(b"content")


def test_get_verifies(blobs):
    digest, _ = blobs.put(b"original")
    blobs.path(digest).write_bytes(b"tampered")
    with pytest.raises(DigestMismatch, match=digest.short):
        blobs.get(digest)


def test_open_verifies_at_the_end(blobs):
    digest, _ = blobs.put(b"x" * 1000)
    blobs.path(digest).write_bytes(b"y" * 1000)
    with blobs.open(digest) as f:
        f.read(10)  # not at the end yet: nothing to say
        with pytest.raises(DigestMismatch):
            f.verify()
    with blobs.open(digest) as f, pytest.raises(DigestMismatch):
        f.read()


def test_open_verify_passes_for_good_content(blobs):
    digest, _ = blobs.put(b"z" * 5000)
    with blobs.open(digest) as f:
        assert f.read(100) == b"z" * 100
        f.verify()


def test_missing_blob(blobs):
    missing = Digest.of(b"nope")
    for op in (blobs.get, blobs.stat, blobs.open):
        with pytest.raises(BlobNotFound, match="blob not found"):
            op(missing)
    assert not blobs.has(missing)
    assert blobs.list() == []


def test_delete_is_idempotent(blobs):
    digest, _ = blobs.put(b"bye")
    blobs.delete(digest)
    blobs.delete(digest)
    assert blobs.list() == []


def test_writer_is_invisible_until_commit_and_aborts_cleanly(blobs):
    with blobs.writer() as w:
        w.write(b"partial")
        assert blobs.list() == []  # the temporary file is not a blob
    assert files_in(blobs) == []  # left without commit: removed

    with pytest.raises(RuntimeError):
        with blobs.writer() as w:
            w.write(b"doomed")
            raise RuntimeError("boom")
    assert files_in(blobs) == []


def test_list_ignores_strays(blobs):
    digest, _ = blobs.put(b"real")
    (blobs.root / "sha256" / ".tmp-crashed").write_bytes(b"half")
    (blobs.root / "sha256" / "not-a-digest").write_bytes(b"?")
    assert blobs.list() == [digest]


def test_put_touches_an_existing_blob(blobs):
    digest, _ = blobs.put(b"old")
    os.utime(blobs.path(digest), (1, 1))
    blobs.put(b"old")
    assert os.stat(blobs.path(digest)).st_mtime > 1
