"""Simulated images: the image verbs of ``runtime.image.images.ImageStore`` over the world file.

Images are real :class:`~runtime.image.model.Image` values (an OCI config and
manifest as dicts), so ``history``, ``inspect`` and everything that reads an
image works unchanged; their layers are file trees as data (:mod:`.fs`), named
by the sha256 of their canonical JSON as a real layer is by its tar's. The
store starts with ``busybox:latest`` (:mod:`.busybox`); builds and pulls add to
it. Layer "directories" are the paths a real store would use
(``ONGGI_ROOT/layers/<hex>``); nothing is written there.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from runtime.errors import ImageNotFound, InvalidReference, Unsupported
from runtime.image.images import rmi_untags, tag_name
from runtime.events import ImageDeleted, ImageLoaded, ImageTagged, LayerExtracted
from runtime.image import reference
from runtime.image.digest import Digest, is_digest
from runtime.image.manifest import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, descriptor, encode
from runtime.image.model import Image

from . import busybox
from .fs import layer_size, scan_entries

BASE_NAME = "busybox:latest"
_ID_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{1,64})")


def layer_digest(files: dict) -> str:
    """A layer's diff_id: the sha256 of its canonical JSON (a real one hashes its tar)."""
    return str(Digest.of(encode(files)))


def tar_size(files: dict) -> int:
    """About what the layer's tar would weigh: content plus a 512-byte header per entry."""
    return layer_size(files) + 512 * len(files) + 1024


class SimImageStore:
    """``rt.images`` in simulated mode: the same verbs as the real store (see its docstrings)."""

    def __init__(self, rt):
        self.rt = rt
        self.config = rt.config
        self.publisher = rt.publisher
        self.layers_dir = Path(rt.config.layers_dir)

    @property
    def blobs(self):
        """There are none: code that needs a real store's blobs (the real builder, the registry
        client) gets a one-line answer instead of a stack trace."""
        raise Unsupported("the simulated image store keeps no blobs",
                          hint="in simulated mode, build, pull and push through the runtime: "
                               "rt.build(), rt.pull(), rt.push()")

    layout = blobs

    # -- reading ---------------------------------------------------------------------------
    def resolve(self, ref: str) -> Image:
        return self._resolve(self.rt.snapshot(), ref)[0]

    def list(self) -> list[Image]:
        """Every image, newest first; the world starts with busybox:latest (once: rmi removes it)."""
        if not self.rt.snapshot().get("seeded"):
            self.ensure_base()
        return self._all(self.rt.snapshot())

    def history(self, ref: str) -> list[dict]:
        from runtime.image import describe
        world = self.rt.snapshot()
        return describe.history(self._resolve(world, ref)[0], self._all(world))

    def inspect(self, ref: str) -> dict:
        from runtime.image import describe
        image = self.resolve(ref)
        doc = describe.inspect(image, self.layer_paths(image))
        doc["Simulated"] = True
        return doc

    def layer_paths(self, image: Image) -> list[Path]:
        return [self.layers_dir / Digest.parse(d).hex for d in image.diff_ids]

    def layer_dirs(self, image: Image) -> list[Path]:
        """The layers' paths; the first use of a layer "unpacks" it (LayerExtracted, as the real store)."""
        hexes = [Digest.parse(d).hex for d in image.diff_ids]
        with self.rt.world.edit() as world:
            fresh = [h for h in hexes if h in world["layers"] and h not in world.setdefault("unpacked", [])]
            world["unpacked"] += fresh
            for h in fresh:
                entries = scan_entries(world["layers"][h])
                self.publisher.publish(LayerExtracted(id="sha256:" + h, size=sum(e.size for e in entries),
                                                      files=len(entries)))
        return self.layer_paths(image)

    def layer(self, hex_or_diff_id: str, world: dict | None = None) -> dict:
        """A layer's file tree (path -> entry); {} for one the world does not hold."""
        world = world if world is not None else self.rt.snapshot()
        return world["layers"].get(hex_or_diff_id.removeprefix("sha256:"), {})

    # -- names ----------------------------------------------------------------------------
    def tag(self, source: str, target: str) -> str:
        name = tag_name(target)
        with self.rt.world.edit() as world:
            image = self._resolve(world, source)[0]
            world["tags"][name] = image.id
        self.publisher.publish(ImageTagged(id=image.id, name=name))
        return name

    def remove(self, ref: str, force: bool = False, in_use: Iterable[str] = frozenset(),
               in_use_layers: Iterable[str] = frozenset()) -> list[str]:
        """``rmi``, by Docker's rules (see ImageStore.remove)."""
        lines: list[str] = []
        with self.rt.world.edit() as world:
            image, name = self._resolve(world, ref)
            used = image.id in set(in_use)
            untag = rmi_untags(image, name, used=used, force=force)
            for tag in untag:
                world["tags"].pop(tag, None)
                lines.append(f"Untagged: {tag}")
            delete = not used and not (set(image.tags) - set(untag))
            if delete:
                del world["images"][image.id]
                lines.append(f"Deleted: {image.id}")
                lines += self._sweep(world, in_use_layers)
        if delete:
            self.publisher.publish(ImageDeleted(id=image.id, name=untag[0] if untag else ""))
        return lines

    # -- making images ---------------------------------------------------------------------------
    def ensure_base(self, busybox_path=None) -> Image:
        """``busybox:latest``, added to the world the first time."""
        world = self.rt.snapshot()
        if BASE_NAME in world["tags"]:
            return self._resolve(world, BASE_NAME)[0]
        files = busybox.layer()
        created = datetime.fromtimestamp(busybox.MTIME, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        with self.rt.world.edit() as world:
            if BASE_NAME in world["tags"]:
                return self._resolve(world, BASE_NAME)[0]
            diff_id = self.put_layer(world, files)
            image = self.add(world, busybox.config(created, diff_id), [diff_id], BASE_NAME)
            world["seeded"] = True
        self.publisher.publish(ImageLoaded(id=image.id, name=BASE_NAME, how="import"))
        return image

    def add(self, world: dict, config: dict, diff_ids: list[str], name: str | None) -> Image:
        """Store CONFIG (with layers already in the world) as an image, tagged NAME if given."""
        config_bytes = encode(config)
        config_desc = descriptor(OCI_CONFIG, Digest.of(config_bytes), len(config_bytes))
        layers = [descriptor(OCI_LAYER, d, tar_size(world["layers"][Digest.parse(d).hex])) for d in diff_ids]
        manifest = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config_desc, "layers": layers}
        image_id = config_desc["digest"]
        world["images"][image_id] = {"manifest_digest": str(Digest.of(encode(manifest))),
                                     "manifest": manifest, "config": config}
        if name:
            world["tags"][tag_name(name)] = image_id
        return self._image(world, image_id)

    @staticmethod
    def put_layer(world: dict, files: dict) -> str:
        """Keep a layer's file tree in WORLD (once: layers are content-addressed); its diff_id."""
        diff_id = layer_digest(files)
        world["layers"].setdefault(Digest.parse(diff_id).hex, files)
        return diff_id

    # -- space ----------------------------------------------------------------------------------
    def disk_usage(self, in_use: Iterable[str] = frozenset(), in_use_layers: Iterable[str] = frozenset()) -> dict:
        world = self.rt.snapshot()
        in_use = set(in_use)
        ids = set(world["images"])
        sizes = {h: layer_size(files) for h, files in world["layers"].items()}
        live = {h for img in world["images"].values()
                for h in (Digest.parse(d).hex for d in img["config"]["rootfs"]["diff_ids"])}
        keep = live | {Path(x).name.removeprefix("sha256:") for x in in_use_layers}
        return {"images": len(ids), "active": len(ids & in_use),
                "size": sum(tar_size(f) for f in world["layers"].values()),
                "layers": len(world.get("unpacked", [])), "layers_size": sum(sizes.values()),
                "reclaimable": sum(s for h, s in sizes.items() if h not in keep)}

    def prune(self, in_use: Iterable[str] = frozenset(), in_use_layers: Iterable[str] = frozenset()) -> list[str]:
        """Dangling images no container uses, then layers nothing references."""
        lines, gone = [], []
        with self.rt.world.edit() as world:
            tagged = set(world["tags"].values())
            for image_id in list(world["images"]):
                if image_id not in tagged and image_id not in set(in_use):
                    del world["images"][image_id]
                    gone.append(image_id)
            lines += [f"Deleted: {i}" for i in gone]
            lines += self._sweep(world, in_use_layers)
        for image_id in gone:
            self.publisher.publish(ImageDeleted(id=image_id, name=""))
        return lines

    def _sweep(self, world: dict, in_use_layers) -> list[str]:
        live = {Digest.parse(d).hex for img in world["images"].values() for d in img["config"]["rootfs"]["diff_ids"]}
        keep = live | {Path(x).name.removeprefix("sha256:") for x in in_use_layers}
        gone = [h for h in world["layers"] if h not in keep]
        for h in gone:
            del world["layers"][h]
            if h in world.get("unpacked", []):
                world["unpacked"].remove(h)
        return [f"Deleted: sha256:{h}" for h in gone]

    # -- internals ------------------------------------------------------------------------------
    def _image(self, world: dict, image_id: str) -> Image:
        doc = world["images"][image_id]
        tags = sorted(t for t, i in world["tags"].items() if i == image_id)
        return Image(id=image_id, manifest_digest=doc["manifest_digest"], manifest=doc["manifest"],
                     config=doc["config"], tags=tags)

    def _all(self, world: dict) -> list[Image]:
        return sorted((self._image(world, i) for i in world["images"]), key=lambda i: i.created, reverse=True)

    def _resolve(self, world: dict, ref: str) -> tuple[Image, str | None]:
        if is_digest(ref):
            return self._by_id(world, ref, Digest.parse(ref).hex), None
        try:
            parsed = reference.parse(ref)
        except InvalidReference:
            if _ID_PREFIX.fullmatch(ref):
                return self._by_id(world, ref, _ID_PREFIX.fullmatch(ref).group(1)), None
            raise
        if parsed.digest:
            for image_id, doc in world["images"].items():
                if doc["manifest_digest"] == parsed.digest:
                    return self._image(world, image_id), None
        elif parsed.familiar in world["tags"]:
            return self._image(world, world["tags"][parsed.familiar]), parsed.familiar
        if _ID_PREFIX.fullmatch(ref):
            return self._by_id(world, ref, _ID_PREFIX.fullmatch(ref).group(1)), None
        raise ImageNotFound(f"no such image: {parsed.familiar}")

    def _by_id(self, world: dict, ref: str, prefix: str) -> Image:
        matches = [i for i in world["images"] if Digest.parse(i).hex.startswith(prefix)]
        if len(matches) == 1:
            return self._image(world, matches[0])
        if not matches:
            raise ImageNotFound(f"no such image: {ref}")
        raise ImageNotFound(f"no such image: {ref} is ambiguous ({len(matches)} images start with it)",
                            hint="give more digits of the image ID")
