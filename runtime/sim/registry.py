"""The classroom registry, simulated: push and pull against ``localhost:5000`` kept in the world.

It keeps what a Distribution registry keeps: per repository, tags pointing at
manifest digests, and the manifests, configs and layers they name. A pushed
image's digest is the sha256 of its manifest's bytes, as a real registry's is,
and a container on the host network can fetch the manifest with ``wget`` and
``sha256sum`` it to the same digest (:meth:`SimRegistry.http_get`). Only the
classroom registry exists here; any other registry is refused, saying so.
"""
from __future__ import annotations

import json

from runtime.errors import ImageNotFound, RegistryError
from runtime.events import ImagePulled, ImagePushed
from runtime.image import reference
from runtime.image.digest import Digest
from runtime.image.manifest import encode

HOSTS = ("localhost:5000", "127.0.0.1:5000")


class SimRegistry:
    def __init__(self, rt):
        self.rt = rt

    def _where(self, ref: str):
        parsed = reference.parse(ref)
        if parsed.domain not in HOSTS:
            raise RegistryError(f"cannot reach registry {parsed.domain}: only the classroom registry "
                                "(localhost:5000) exists in simulated mode",
                                hint="tag the image as localhost:5000/NAME:TAG and push that")
        return parsed

    def push(self, ref: str, *, progress=None) -> str:
        """Upload the local image REF; its manifest digest (as the real push returns it)."""
        parsed = self._where(ref)
        image = self.rt.images.resolve(ref)
        manifest_bytes = encode(image.manifest)
        digest = str(Digest.of(manifest_bytes))
        with self.rt.world.edit() as world:
            reg = world.setdefault("registry", {})
            layers = reg.setdefault("layers", {})
            for d in image.diff_ids:
                h = Digest.parse(d).hex
                layers.setdefault(h, world["layers"].get(h, {}))
            reg.setdefault("manifests", {})[digest] = {"manifest": image.manifest, "config": image.config}
            reg.setdefault("repos", {}).setdefault(parsed.path, {})[parsed.tag or "latest"] = digest
        self.rt.publisher.publish(ImagePushed(id=image.id, ref=parsed.familiar, digest=digest))
        return digest

    def pull(self, ref: str, *, progress=None):
        """Download REF from the classroom registry into the local store; the Image."""
        parsed = self._where(ref)
        with self.rt.world.edit() as world:
            reg = world.setdefault("registry", {})
            digest = parsed.digest or reg.get("repos", {}).get(parsed.path, {}).get(parsed.tag or "latest")
            doc = reg.get("manifests", {}).get(digest) if digest else None
            if doc is None:
                raise ImageNotFound(f"manifest for {parsed.familiar} not found: manifest unknown",
                                    hint="push it first, or check the name and tag")
            for d in doc["config"]["rootfs"]["diff_ids"]:
                h = Digest.parse(d).hex
                world["layers"].setdefault(h, reg["layers"].get(h, {}))
            image = self.rt.images.add(world, doc["config"], doc["config"]["rootfs"]["diff_ids"],
                                       None if parsed.digest else parsed.familiar)
        self.rt.publisher.publish(ImagePulled(id=image.id, ref=parsed.familiar, digest=digest))
        return image

    def http_get(self, path: str, headers: dict) -> tuple[int, str, str | None]:
        """The registry's HTTP API, as much as a learner's wget asks of it: (status, body, problem)."""
        reg = self.rt.snapshot().get("registry", {})
        parts = [p for p in path.split("?")[0].split("/") if p]
        if parts == ["v2"]:
            return 200, "{}", None
        if parts == ["v2", "_catalog"]:
            return 200, json.dumps({"repositories": sorted(reg.get("repos", {}))}) + "\n", None
        if len(parts) >= 4 and parts[0] == "v2" and parts[-2] in ("manifests", "tags"):
            name = "/".join(parts[1:-2])
            tags = reg.get("repos", {}).get(name)
            if tags is None:
                return 404, "", None
            if parts[-2] == "tags":
                return 200, json.dumps({"name": name, "tags": sorted(tags)}) + "\n", None
            digest = parts[-1] if parts[-1].startswith("sha256:") else tags.get(parts[-1])
            doc = reg.get("manifests", {}).get(digest)
            if doc is None:
                return 404, "", None
            body = encode(doc["manifest"]).decode()
            return 200, body, None
        return 404, "", None
