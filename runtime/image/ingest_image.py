"""Putting a whole image into the store: config and manifest blobs, then the index entry.

The builder and the registry client make images whose blobs they write themselves
(a build step's layer, a pulled manifest kept byte for byte); these helpers finish
the job the way :class:`ImageStore` does for load and commit: blobs first, then the
index entry inside the layout's transaction, so that a garbage collection never
sees a referenced blob missing.
"""
from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from runtime.image.digest import Digest
from runtime.image.manifest import OCI_CONFIG, descriptor, put_manifest
from runtime.image.model import Image
from runtime.image.store import BlobStore


def put_image_bytes(blobs: BlobStore, config: bytes, layers: list[dict]) -> dict:
    """Store ``config`` exactly as given and an OCI manifest over ``layers``; the manifest's descriptor.

    The same config bytes and layers always give the same manifest digest.
    """
    digest, size = blobs.put(config)
    return put_manifest(blobs, descriptor(OCI_CONFIG, digest, size), layers)


def read_image(blobs: BlobStore, manifest_digest: str, tags: list[str] | None = None) -> Image:
    manifest = json.loads(blobs.get(manifest_digest))
    config_digest = manifest["config"]["digest"]
    return Image(id=config_digest, manifest_digest=manifest_digest, manifest=manifest,
                 config=json.loads(blobs.get(config_digest)), tags=list(tags or []))


def index_image(store, manifest: dict, name: str | None) -> Image:
    """Index the manifest ``manifest`` (a descriptor whose blobs are stored), tagged ``name`` if given.

    ``name`` is a familiar name ("hello:latest"); a tag that pointed elsewhere moves,
    leaving that image dangling, as Docker does.
    """
    with store.layout.transaction() as index:
        entry = {k: manifest[k] for k in ("mediaType", "digest", "size")}
        if name:
            index.tag(name, entry)
        else:
            index.add(entry)
        tags = index.tags_of(manifest["digest"])
    return read_image(store.blobs, manifest["digest"], tags)


@contextmanager
def temporarily_indexed(store, manifest: dict) -> Iterator[Image]:
    """The image indexed (untagged) for the duration of the block, so a container can be made from it.

    A build step's image is not kept in the index (the build cache holds it); a
    RUN step needs it there only while its container is created. If the manifest
    was indexed already (a tagged base image), it is left as it was.
    """
    with store.layout.transaction() as index:
        added = not any(d["digest"] == manifest["digest"] for d in index.entries)
        if added:
            index.add({k: manifest[k] for k in ("mediaType", "digest", "size")})
    try:
        yield read_image(store.blobs, manifest["digest"])
    finally:
        if added:
            with store.layout.transaction() as index:
                if not index.tags_of(manifest["digest"]):
                    index.drop(manifest["digest"])


def image_id(config: bytes) -> str:
    return str(Digest.of(config))
