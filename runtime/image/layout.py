"""The OCI image layout on disk: ``oci-layout``, ``index.json`` and ``blobs/``.

This is the whole of onggi's image database, in the format skopeo and umoci read
(``skopeo inspect oci:/var/lib/onggi/image:busybox:latest`` works). Each entry of
``index.json`` is a manifest descriptor; a tag is the annotation
``org.opencontainers.image.ref.name`` holding the familiar full name
(``busybox:latest``, ``localhost:5000/foo:1``). Tags live only here. An image with
no tag (dangling) is an entry without that annotation: the index is also what
keeps blobs alive.

Concurrency (many CLIs and the server at once):

* Readers never lock: ``index.json`` is only ever replaced by rename, so a reader
  sees the old or the new index, never half of one.
* Writers go through :meth:`Layout.transaction`, which holds an exclusive
  ``flock`` on ``index.json.lock`` while it reads, lets the caller change the
  :class:`Index`, and writes a temporary file renamed over ``index.json``.
* Whoever deletes blobs does so inside a transaction, and whoever adds an image
  puts its blobs inside the transaction that indexes it; so a garbage collection
  never sees a blob that is about to be referenced. (Nested transactions in one
  process deadlock: flock locks per open file.)
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from runtime.image.store import BlobStore
from runtime.files import locked, write_atomic

REF_NAME = "org.opencontainers.image.ref.name"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
# An index of manifests (one per platform), in OCI's and Docker's spelling.
INDEX_TYPES = (INDEX_MEDIA_TYPE, "application/vnd.docker.distribution.manifest.list.v2+json")
LAYOUT_VERSION = {"imageLayoutVersion": "1.0.0"}


def empty_index() -> dict:
    return {"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": []}


class Layout:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.blobs = BlobStore(self.root / "blobs")
        self.index_path = self.root / "index.json"

    def read_index(self) -> "Index":
        """The current index (an empty one if the layout does not exist yet). No lock."""
        try:
            with open(self.index_path, "rb") as f:
                return Index(json.load(f))
        except FileNotFoundError:
            return Index(empty_index())

    @contextmanager
    def transaction(self) -> Iterator["Index"]:
        """Lock, read, let the caller change the index, write it back if changed.

        If the block raises, the index on disk is left as it was.
        """
        self._init()
        with locked(self.root / "index.json.lock"):
            index = self.read_index()
            before = index.dump()
            yield index
            after = index.dump()
            if after != before:
                self._write(after)

    def _init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        marker = self.root / "oci-layout"
        if not marker.exists():
            write_atomic(marker, json.dumps(LAYOUT_VERSION))

    def _write(self, data: bytes) -> None:
        write_atomic(self.index_path, data)


class Index:
    """``index.json`` in memory, with the tag rules. Plain dict descriptors in and out."""

    def __init__(self, data: dict):
        self.data = data
        self.data.setdefault("manifests", [])

    @property
    def entries(self) -> list[dict]:
        return self.data["manifests"]

    def dump(self) -> bytes:
        return json.dumps(self.data, separators=(",", ":"), sort_keys=True).encode()

    # -- questions ------------------------------------------------------------------
    def names(self) -> dict[str, dict]:
        """Tag -> manifest descriptor."""
        return {n: d for d in self.entries if (n := name_of(d))}

    def find(self, name: str) -> dict | None:
        return next((d for d in self.entries if name_of(d) == name), None)

    def tags_of(self, manifest_digest: str) -> list[str]:
        return sorted(n for d in self.entries
                      if d["digest"] == manifest_digest and (n := name_of(d)))

    def manifest_digests(self) -> list[str]:
        """Each indexed manifest once, in index order."""
        return list(dict.fromkeys(d["digest"] for d in self.entries))

    # -- changes ------------------------------------------------------------------
    def tag(self, name: str, descriptor: dict) -> str | None:
        """Point ``name`` at ``descriptor``; return the manifest digest it left, if any.

        The image the tag left stays indexed, untagged (dangling), unless another
        entry still holds it: Docker's "renaming the old one to empty string".
        """
        old = self.find(name)
        if old is not None and old["digest"] == descriptor["digest"]:
            return None
        if old is not None:
            self.untag(name)
        # An untagged entry for the same manifest is now redundant.
        self.data["manifests"] = [d for d in self.entries
                                  if not (d["digest"] == descriptor["digest"] and not name_of(d))]
        entry = {k: v for k, v in descriptor.items() if k != "annotations"}
        entry["annotations"] = {**descriptor.get("annotations", {}), REF_NAME: name}
        self.entries.append(entry)
        return old["digest"] if old is not None else None

    def untag(self, name: str) -> dict | None:
        """Remove the tag; keep its manifest as a dangling entry if nothing else holds it."""
        old = self.find(name)
        if old is None:
            return None
        self.entries.remove(old)
        if not any(d["digest"] == old["digest"] for d in self.entries):
            self.add(old)
        return old

    def add(self, descriptor: dict) -> None:
        """Index a manifest without a tag, unless it is indexed already."""
        if any(d["digest"] == descriptor["digest"] for d in self.entries):
            return
        entry = {k: v for k, v in descriptor.items() if k != "annotations"}
        extra = {k: v for k, v in descriptor.get("annotations", {}).items() if k != REF_NAME}
        if extra:
            entry["annotations"] = extra
        self.entries.append(entry)

    def drop(self, manifest_digest: str) -> None:
        """Forget a manifest entirely (every tag and the untagged entry)."""
        self.data["manifests"] = [d for d in self.entries if d["digest"] != manifest_digest]


def name_of(descriptor: dict) -> str | None:
    return (descriptor.get("annotations") or {}).get(REF_NAME) or None
