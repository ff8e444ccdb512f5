"""Taking a layer into the blob store: vetted, hashed and stored in one pass.

A layer that arrives (``load``, ``import``) is read once: its bytes stream into a
:class:`BlobWriter` while the tar checker (:mod:`tarsafe`) walks the members and a
hasher computes the diff_id. If any member is refused, the writer is aborted and
no blob is stored; so an unsafe archive leaves nothing in the store.
"""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from typing import BinaryIO

from runtime.errors import InvalidArchive
from runtime.image.digest import Digest
from runtime.image.manifest import OCI_LAYER, descriptor
from runtime.image.store import BlobStore
from runtime.image.streams import Hashing, Tee, decompressed
from runtime.image.tarsafe import MemberChecker


@dataclass(frozen=True)
class Ingested:
    descriptor: dict  # of the stored blob
    diff_id: str      # sha256 of the uncompressed tar


def vet(stream: BinaryIO, what: str = "layer") -> int:
    """Read an uncompressed tar to its end, checking every member; return the member count.

    Raises :class:`UnsafeLayer` for a refused member and :class:`InvalidArchive`
    when the bytes are not a tar at all.
    """
    checker = MemberChecker()
    count = 0
    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                checker.check(member)
                count += 1
    except tarfile.TarError as e:
        raise InvalidArchive(f"read {what}: not a tar archive ({e})",
                             hint="layers and rootfs archives are tar files, maybe gzip-compressed") from None
    while stream.read(1 << 20):  # the zero padding after the end-of-archive marker
        pass
    return count


def ingest_uncompressed(blobs: BlobStore, source: BinaryIO, what: str = "layer") -> Ingested:
    """Store ``source`` (any supported compression) as an uncompressed OCI layer.

    The blob's digest is then its diff_id: local layers are kept uncompressed.
    """
    with blobs.writer() as w:
        vet(Tee(decompressed(source), w), what)
        digest, size = w.commit()
    return Ingested(descriptor(OCI_LAYER, digest, size), str(digest))


def ingest_as_is(blobs: BlobStore, source: BinaryIO, layer: dict, what: str = "layer") -> Ingested:
    """Store ``source`` byte for byte as the blob ``layer`` describes (e.g. gzip), verified.

    The diff_id is computed from the decompressed stream on the way through.
    """
    with blobs.writer() as w:
        raw = Tee(source, w)
        plain = Hashing(decompressed(raw))
        vet(plain, what)
        while raw.read(1 << 20):  # anything the decompressor left unread
            pass
        blobs_digest, size = w.commit(Digest.parse(layer["digest"]))
    return Ingested(descriptor(layer["mediaType"], blobs_digest, size), str(plain.digest))
