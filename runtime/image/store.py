"""A content-addressed blob store: umoci's ``cas.Engine`` (``oci/cas/dir/dir.go``) in Python.

Blobs live at ``<root>/sha256/<hex>``; ``root`` is the ``blobs`` directory of an OCI
image layout (or any directory: the store knows nothing of indexes or images).

The contract:

* **put** is idempotent: putting the same content twice stores it once. A writer
  hashes while it writes to a temporary file in the blob directory itself and then
  renames it into place, so a blob's path either does not exist or holds the
  complete content; a crash leaves only a ``.tmp-*`` file that :meth:`list` ignores.
  No fsync: a blob lost in a power cut is fetched or built again, and the digest
  check on read catches a torn one.
* **get/open** verify: content that does not hash to its name raises
  :class:`DigestMismatch` (``get`` before returning, ``open`` when the reader reaches
  the end or :meth:`VerifyingReader.verify` is called).
* **delete** is idempotent: deleting a blob that is not there is not an error.
* Missing blobs raise :class:`BlobNotFound`.

Nothing here locks: two writers of the same blob write the same bytes, and the
rename makes either one's copy the blob. Deciding which blobs are garbage is the
image layout's job, under its lock (see ``layout.py``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from runtime.errors import BlobNotFound, DigestMismatch
from runtime.image.digest import ALGORITHM, Digest, is_digest, new_hasher

_CHUNK = 1 << 20
_TMP_PREFIX = ".tmp-"


class BlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self._dir = self.root / ALGORITHM

    # -- reading ------------------------------------------------------------------
    def path(self, digest: Digest | str) -> Path:
        """Where the blob lives (it may not exist). Read it, never write it."""
        return self._dir / Digest.parse(digest).hex

    def has(self, digest: Digest | str) -> bool:
        return self.path(digest).is_file()

    def stat(self, digest: Digest | str) -> int:
        """The blob's size in bytes; :class:`BlobNotFound` if absent."""
        try:
            return os.stat(self.path(digest)).st_size
        except FileNotFoundError:
            raise BlobNotFound(f"blob not found: {digest}") from None

    def get(self, digest: Digest | str) -> bytes:
        """The whole blob, verified. For small blobs (manifests, configs)."""
        digest = Digest.parse(digest)
        try:
            data = self.path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(f"blob not found: {digest}") from None
        if Digest.of(data) != digest:
            raise DigestMismatch(f"read blob {digest.short}: content does not match its digest")
        return data

    def open(self, digest: Digest | str) -> "VerifyingReader":
        """A reader over the blob that checks the digest at the end. The caller closes it."""
        digest = Digest.parse(digest)
        try:
            return VerifyingReader(open(self.path(digest), "rb"), digest)
        except FileNotFoundError:
            raise BlobNotFound(f"blob not found: {digest}") from None

    def list(self) -> list[Digest]:
        """Every complete blob, sorted (temporary files are not blobs)."""
        try:
            names = os.listdir(self._dir)
        except FileNotFoundError:
            return []
        return sorted(Digest.from_hex(n) for n in names if is_digest(f"{ALGORITHM}:{n}"))

    # -- writing ------------------------------------------------------------------
    def writer(self) -> "BlobWriter":
        """A :class:`BlobWriter` for streaming content in; commit() or abort() it."""
        self._dir.mkdir(parents=True, exist_ok=True)
        return BlobWriter(self._dir)

    def put(self, source: bytes | BinaryIO, expected: Digest | str | None = None) -> tuple[Digest, int]:
        """Store bytes or everything a binary stream yields; return (digest, size).

        With ``expected``, content hashing to anything else raises
        :class:`DigestMismatch` and nothing is stored.
        """
        with self.writer() as w:
            if isinstance(source, (bytes, bytearray, memoryview)):
                w.write(source)
            else:
                while chunk := source.read(_CHUNK):
                    w.write(chunk)
            return w.commit(expected)

    def delete(self, digest: Digest | str) -> None:
        """Remove the blob; absent already is fine."""
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            pass


class BlobWriter:
    """Content on its way into the store: hashed while written to a temporary file.

    Used as a context manager: leaving the block without :meth:`commit` (an error,
    a refused layer) removes the temporary file, so nothing is left behind.
    """

    def __init__(self, directory: Path):
        self._dir = directory
        self._tmp = directory / f"{_TMP_PREFIX}{os.urandom(8).hex()}"
        self._file = open(self._tmp, "xb")
        self._hasher = new_hasher()
        self.size = 0
        self.digest: Digest | None = None

    def write(self, data) -> int:
        self._file.write(data)
        self._hasher.update(data)
        self.size += len(data)
        return len(data)

    def commit(self, expected: Digest | str | None = None) -> tuple[Digest, int]:
        """Rename the content into place under its digest; return (digest, size)."""
        self._file.close()
        digest = Digest.from_hex(self._hasher.hexdigest())
        if expected is not None and digest != Digest.parse(expected):
            self.abort()
            raise DigestMismatch(f"store blob: content is {digest}, expected {expected}")
        final = self._dir / digest.hex
        if final.exists():
            # Idempotent: the same content is already there. Touch it so that a
            # prune's grace period (layout.py) counts from this put.
            os.utime(final)
            os.unlink(self._tmp)
        else:
            os.rename(self._tmp, final)
        self.digest = digest
        return digest, self.size

    def abort(self) -> None:
        self._file.close()
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc) -> None:
        if self.digest is None:
            self.abort()

    # file-like, so tarfile/gzip can write straight into the store
    def writable(self) -> bool:
        return True

    def flush(self) -> None:
        self._file.flush()

    def tell(self) -> int:
        return self.size


class VerifyingReader:
    """A binary reader that hashes what it returns and checks the digest at EOF.

    Raises :class:`DigestMismatch` from the read that reaches the end. Readers that
    stop early (tarfile stops at the end-of-archive marker) call :meth:`verify`,
    which reads the rest and checks.
    """

    def __init__(self, file: BinaryIO, digest: Digest):
        self._file = file
        self._digest = digest
        self._hasher = new_hasher()
        self._checked = False

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._hasher.update(data)
        if not data or size is None or size < 0:
            self._check()
        return data

    def verify(self) -> None:
        while self.read(_CHUNK):
            pass
        self._check()

    def _check(self) -> None:
        if self._checked:
            return
        self._checked = True
        if self._hasher.hexdigest() != self._digest.hex:
            raise DigestMismatch(f"read blob {self._digest.short}: content does not match its digest")

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "VerifyingReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
