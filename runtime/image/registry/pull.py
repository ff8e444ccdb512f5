"""``onggi pull``: an image from a registry into the image store, every byte verified.

1. The manifest is asked for by tag or digest, accepting OCI and Docker v2 types.
   An image index (Docker: manifest list) names one manifest per platform; the
   one for this machine (linux/amd64 here) is fetched next.
2. The config and every layer the store does not have yet are downloaded, the
   layers in parallel, each streamed into the blob store while it is hashed; a
   blob whose bytes do not hash to its digest is refused (:class:`DigestMismatch`)
   and nothing of it is kept. Layers stay as the registry has them (gzip
   usually), so the manifest, and the digest that names the image, are the
   registry's byte for byte. They are unpacked (and their tar members vetted,
   and their diff_ids checked) the first time a container needs them.
3. The manifest is stored and indexed under the reference's name: pulling by
   digest indexes the image without a tag, as Docker does.

Progress: ``image.pull`` events (bytes done/total per layer) to the events log and
to ``progress``, which also gets status lines (str), and one ``image.pulled``.
"""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from runtime.errors import ImageNotFound, RegistryError
from runtime.events import ImagePulled, ImagePullProgress
from runtime.image import reference
from runtime.image.digest import Digest
from runtime.image.layout import INDEX_TYPES
from runtime.image.manifest import MANIFEST_TYPES, descriptor, host_platform
from runtime.image.model import Image

PARALLEL = 4
_EVERY = 0.2        # seconds between progress events of one layer


def pull(rt, ref: str, *, progress: Callable[[object], None] | None = None) -> Image:
    """Pull ``ref`` (Docker's reference rules) into ``rt.images``; the image stored."""
    from runtime.image.ingest_image import index_image
    from runtime.image.registry.client import for_runtime
    from runtime.image.registry.sources import Sources
    say = progress or (lambda item: None)
    parsed = reference.parse(ref)
    client = for_runtime(rt, parsed.domain)
    repo = parsed.path
    try:
        say(f"{parsed.tag or parsed.digest}: Pulling from {parsed.familiar_name}")
        data, media_type = client.get_manifest(repo, parsed.digest or parsed.tag)
        digest = _verify_manifest(data, parsed.digest)
        manifest = json.loads(data)
        media_type = manifest.get("mediaType") or media_type
        if media_type in INDEX_TYPES:
            chosen = _platform(manifest, parsed.familiar)
            data, media_type = client.get_manifest(repo, chosen["digest"])
            digest = _verify_manifest(data, chosen["digest"])
            manifest = json.loads(data)
            media_type = manifest.get("mediaType") or media_type
        if media_type not in MANIFEST_TYPES or "config" not in manifest:
            raise RegistryError(f"pull {parsed.familiar}: unsupported manifest type {media_type!r}",
                                hint="onggi reads OCI and Docker v2 schema 2 images")
        blobs = rt.images.blobs
        fetcher = _Fetcher(rt, client, repo, parsed.familiar, say)
        fetcher.fetch(manifest["config"])
        todo = [layer for layer in manifest.get("layers", []) if not blobs.has(layer["digest"])]
        for layer in manifest.get("layers", []):
            if layer not in todo:
                say(f"{Digest.parse(layer['digest']).short}: Already exists")
        if todo:
            with ThreadPoolExecutor(max_workers=min(PARALLEL, len(todo))) as pool:
                for _ in pool.map(fetcher.fetch, todo):
                    pass
        blobs.put(data, expected=digest)
        name = None if parsed.digest else parsed.familiar
        image = index_image(rt.images, descriptor(media_type, digest, len(data)), name)
    finally:
        client.close()
    Sources(rt.config.root / "distribution.json").add(
        parsed.domain, repo, [manifest["config"]["digest"]] + [l["digest"] for l in manifest.get("layers", [])])
    say(f"Digest: {digest}")
    rt.publisher.publish(ImagePulled(id=image.id, ref=parsed.familiar, digest=digest))
    return image


def _verify_manifest(data: bytes, expected: str | None) -> str:
    digest = str(Digest.of(data))
    if expected is not None and digest != expected:
        from runtime.errors import DigestMismatch
        raise DigestMismatch(f"pull: the manifest is {digest}, not the {expected} asked for")
    return digest


def _platform(index: dict, shown: str) -> dict:
    want = host_platform()
    for entry in index.get("manifests", []):
        p = entry.get("platform") or {}
        if p.get("os") == want["os"] and p.get("architecture") == want["architecture"]:
            return entry
    have = sorted({f"{(e.get('platform') or {}).get('os')}/{(e.get('platform') or {}).get('architecture')}"
                   for e in index.get("manifests", [])})
    raise ImageNotFound(f"no matching manifest for {want['os']}/{want['architecture']} in the manifest "
                        f"list entries of {shown} (it has {', '.join(have) or 'none'})",
                        hint="this image is not built for this machine's platform")


class _Fetcher:
    """Downloads blobs into the store, publishing progress. Used from several threads."""

    def __init__(self, rt, client, repo: str, ref: str, say):
        self.rt, self.client, self.repo, self.ref, self.say = rt, client, repo, ref, say
        self._lock = threading.Lock()     # one publisher and one progress line at a time

    def fetch(self, desc: dict) -> None:
        digest = desc["digest"]
        blobs = self.rt.images.blobs
        if blobs.has(digest):
            return
        if desc.get("urls"):
            raise RegistryError(f"pull {self.ref}: layer {digest[:19]} is a foreign layer",
                                hint="onggi pulls only layers the registry itself holds")
        total = int(desc.get("size") or 0)
        short = Digest.parse(digest).short
        last = [0.0]

        def progress(done: int, size: int) -> None:
            now = time.monotonic()
            if done == size or now - last[0] >= _EVERY:
                last[0] = now
                self._publish(digest, done, size or total)

        with blobs.writer() as w:
            self.client.fetch_blob(self.repo, digest, w, progress, size=total)
            w.commit(expected=digest)     # DigestMismatch, and nothing stored, if it is not
        with self._lock:
            self.say(f"{short}: Pull complete")

    def _publish(self, digest: str, done: int, total: int) -> None:
        event = ImagePullProgress(id=self.ref, ref=self.ref, layer=digest, done=done, total=total)
        with self._lock:
            self.rt.publisher.publish(event)
            self.say(event)
