import pytest

from runtime.errors import InvalidArgument
from runtime.image.digest import Digest, is_digest

EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_of_bytes_is_sha256():
    assert str(Digest.of(b"")) == EMPTY


def test_parts():
    d = Digest.parse(EMPTY)
    assert d.algorithm == "sha256"
    assert d.hex == EMPTY[7:]
    assert d.short == "e3b0c44298fc"
    assert Digest.from_hex(d.hex) == d
    assert Digest.parse(d) is d


def test_value_semantics():
    a, b = Digest(EMPTY), Digest(EMPTY)
    assert a == b and hash(a) == hash(b)
    assert sorted([Digest.from_hex("f" * 64), a])[0] == a


@pytest.mark.parametrize("bad", [
    "", "sha256:", "sha256:abc", "md5:" + "0" * 64, "sha256:" + "A" * 64,
    "sha256:" + "g" * 64, "sha256" + "0" * 64, "sha256:" + "0" * 65, " sha256:" + "0" * 64,
])
def test_rejects_malformed(bad):
    with pytest.raises(InvalidArgument, match="invalid digest"):
        Digest.parse(bad)
    assert not is_digest(bad)


def test_is_digest():
    assert is_digest(EMPTY)
