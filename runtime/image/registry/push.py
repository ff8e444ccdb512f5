"""``onggi push``: an image from the store to a registry, sending only what it lacks.

For each blob (the config, then the layers, in parallel):

1. ``HEAD`` it in the target repository: there already means nothing to send
   ("Layer already exists");
2. else, if onggi knows another repository of the same registry that holds it
   (:mod:`sources`), ask for a cross-repository *mount*: the registry links the
   blob, no bytes move ("Mounted from app");
3. else upload it whole, streamed from the blob store.

Then the manifest is PUT under the tag, byte for byte as the store has it, so
the digest the registry reports is the image's own manifest digest (``skopeo
inspect`` shows the same). Layers onggi built are uncompressed OCI layers, which
registries accept as they are.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from runtime.errors import InvalidReference, RegistryError
from runtime.events import ImagePushed
from runtime.image import reference
from runtime.image.digest import Digest
from runtime.image.manifest import OCI_MANIFEST

PARALLEL = 4


def push(rt, ref: str, *, progress: Callable[[object], None] | None = None) -> str:
    """Push the image named ``ref`` to the registry its name says; the manifest digest."""
    from runtime.image.registry.client import for_runtime
    from runtime.image.registry.sources import Sources
    say = progress or (lambda item: None)
    parsed = reference.parse(ref)
    if parsed.digest:
        raise InvalidReference(f"cannot push {ref}: push a tag, not a digest")
    image = rt.images.resolve(parsed.familiar)
    client = for_runtime(rt, parsed.domain)
    sources = Sources(rt.config.root / "distribution.json")
    repo = parsed.path
    say(f"The push refers to repository [{parsed.name}]")
    blobs = [image.manifest["config"], *image.layers]

    lock = threading.Lock()

    def tell(line: str) -> None:
        with lock:
            say(line)

    def send(desc: dict) -> None:
        digest, short = desc["digest"], Digest.parse(desc["digest"]).short
        if client.has_blob(repo, digest):
            tell(f"{short}: Layer already exists")
            return
        location = None
        for other in sources.repos(parsed.domain, digest):
            if other == repo:
                continue
            location = client.mount_blob(repo, digest, other)
            if location is None:
                tell(f"{short}: Mounted from {other}")
                return
            break          # the registry opened an upload instead: use it
        # The registry hashes what it receives and refuses a blob that is not its digest.
        with open(rt.images.blobs.path(digest), "rb") as stream:
            client.upload_blob(repo, digest, int(desc["size"]), stream, location)
        tell(f"{short}: Pushed")

    try:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(blobs))) as pool:
            for _ in pool.map(send, blobs):
                pass
        data = rt.images.blobs.get(image.manifest_digest)
        media_type = image.manifest.get("mediaType") or OCI_MANIFEST
        digest = client.put_manifest(repo, parsed.tag, data, media_type) or image.manifest_digest
    finally:
        client.close()
    if digest != image.manifest_digest:
        raise RegistryError(f"push {parsed.familiar}: the registry stored the manifest as {digest}, "
                            f"not {image.manifest_digest}")
    sources.add(parsed.domain, repo, [d["digest"] for d in blobs])
    say(f"{parsed.tag}: digest: {digest} size: {len(data)}")
    rt.publisher.publish(ImagePushed(id=image.id, ref=parsed.familiar, digest=digest))
    return digest
