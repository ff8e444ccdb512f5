"""Small binary-stream adapters for reading layers once: sniff, decompress, hash, tee.

A layer is read exactly once on its way in (load, import): the same bytes go to the
blob store, through the decompressor, through a hasher (the diff_id) and through the
tar checker. These adapters chain for that; each has ``read(size)`` and nothing more.
"""
from __future__ import annotations

from typing import BinaryIO

from runtime.errors import InvalidArchive
from runtime.image.digest import Digest, new_hasher

_GZIP = b"\x1f\x8b"
_BZIP2 = b"BZh"
_XZ = b"\xfd7zXZ\x00"
_ZSTD = b"\x28\xb5\x2f\xfd"


class Prefixed:
    """A stream with some bytes already read from it put back in front."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self._head, self._rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self._head:
            return self._rest.read(size)
        if size is None or size < 0:
            data, self._head = self._head + self._rest.read(), b""
            return data
        data, self._head = self._head[:size], self._head[size:]
        return data


def decompressed(stream: BinaryIO) -> BinaryIO:
    """``stream`` uncompressed: gzip, bzip2 and xz are recognised by their magic bytes.

    Sniffing rather than trusting a media type is what Docker does
    (``DecompressStream``): ``docker save`` layers have no media type at all.
    zstd has no decoder in Python's standard library and is refused.
    """
    head = b""
    while len(head) < 6:
        more = stream.read(6 - len(head))
        if not more:
            break
        head += more
    whole = Prefixed(head, stream)
    if head.startswith(_GZIP):
        import gzip
        return gzip.GzipFile(fileobj=whole, mode="rb")
    if head.startswith(_BZIP2):
        import bz2
        return bz2.BZ2File(whole, mode="rb")
    if head.startswith(_XZ):
        import lzma
        return lzma.LZMAFile(whole, mode="rb")
    if head.startswith(_ZSTD):
        raise InvalidArchive("read layer: zstd compression is not supported",
                             hint="save the image with gzip or uncompressed layers")
    return whole


class Hashing:
    """Passes reads through and hashes them; :attr:`digest` after the end."""

    def __init__(self, stream: BinaryIO):
        self._stream = stream
        self._hasher = new_hasher()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hasher.update(data)
        self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    @property
    def digest(self) -> Digest:
        return Digest.from_hex(self._hasher.hexdigest())


class Tee:
    """Passes reads through and writes a copy of every byte to ``sink``."""

    def __init__(self, stream: BinaryIO, sink):
        self._stream, self._sink = stream, sink

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._sink.write(data)
        return data
