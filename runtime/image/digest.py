"""The :class:`Digest` value type: how content names itself ("sha256:<64 hex>").

Only sha256 is accepted: it is what Docker, the OCI image spec and every registry
onggi talks to use, and one algorithm keeps the blob store a single directory.

Hashers are loaded on first use, not at import: the ``onggi run`` hot path parses
digests (string checks) and hashes only two small JSON blobs, and loading hashlib
(OpenSSL) costs about 3 ms, more than the rest of resolving an image.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.errors import InvalidArgument

ALGORITHM = "sha256"
_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, order=True)
class Digest:
    """A validated "sha256:<64 lowercase hex>"; ``str(d)`` gives that string back."""

    value: str

    def __post_init__(self):
        algo, sep, hex_ = self.value.partition(":")
        if algo != ALGORITHM or not sep or not _HEX.fullmatch(hex_):
            raise InvalidArgument(f"invalid digest {self.value!r}: want sha256:<64 hex digits>")

    @classmethod
    def parse(cls, value: "str | Digest") -> "Digest":
        """A Digest from its string (or itself); :class:`InvalidArgument` if malformed."""
        return value if isinstance(value, Digest) else cls(str(value))

    @classmethod
    def from_hex(cls, hex_: str) -> "Digest":
        return cls(f"{ALGORITHM}:{hex_}")

    @classmethod
    def of(cls, data: bytes) -> "Digest":
        """The digest of some bytes (meant for small ones: manifests, configs)."""
        return cls.from_hex(_small_hasher(data).hexdigest())

    @property
    def algorithm(self) -> str:
        return ALGORITHM

    @property
    def hex(self) -> str:
        return self.value[len(ALGORITHM) + 1:]

    @property
    def short(self) -> str:
        """The 12 hex digits Docker shows as IMAGE ID."""
        return self.hex[:12]

    def __str__(self) -> str:
        return self.value


def new_hasher():
    """A fresh sha256 hasher (``update``/``hexdigest``) for streams of any size."""
    import hashlib
    return hashlib.sha256()


def _small_hasher(data: bytes):
    # CPython's built-in sha256 loads in ~0.1 ms where hashlib loads OpenSSL (~3 ms);
    # OpenSSL only pays off on megabytes, which go through new_hasher(). The module
    # is _sha256 up to 3.11 and _sha2 from 3.12; hashlib is the portable fallback.
    try:
        from _sha256 import sha256
    except ImportError:
        try:
            from _sha2 import sha256
        except ImportError:
            from hashlib import sha256
    return sha256(data)


def is_digest(value: str) -> bool:
    """True if ``value`` is a well-formed "sha256:<64 hex>" (no exception)."""
    algo, sep, hex_ = value.partition(":")
    return algo == ALGORITHM and bool(sep) and bool(_HEX.fullmatch(hex_))
