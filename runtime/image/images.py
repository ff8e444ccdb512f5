"""The :class:`ImageStore`: every image verb the CLI and the web use, over one OCI layout.

What it never does: run containers, talk to registries, print. Callers tell it what
containers use (``in_use`` image IDs, ``in_use_layers`` diff_ids or layer
directories) because only they know.

Speed: ``ImageStore(config)`` does no I/O, and ``resolve`` reads ``index.json`` and
the image's two small JSON blobs (manifest, config). ``layer_dirs`` of unpacked
layers is one stat per layer. Everything heavier (tarfile, gzip, the base-image
builder, archives) is imported inside the method that needs it, so the
``onggi run`` path loads none of it.
"""
from __future__ import annotations

import json
import re
from contextlib import nullcontext
from pathlib import Path
from typing import BinaryIO, Iterable

from runtime.config import Config
from runtime.errors import (BlobNotFound, Conflict, DigestMismatch, ImageInUse, ImageNotFound,
                            InvalidArchive, InvalidReference)
from runtime.events import (ImageDeleted, ImageLoaded, ImageTagged, LayerExtracted, NullPublisher,
                            Publisher)
from runtime.image import reference
from runtime.image.digest import Digest, is_digest
from runtime.image.layout import INDEX_TYPES, Index, Layout
from runtime.image.model import Image

_ID_PREFIX = re.compile(r"(?:sha256:)?([0-9a-f]{1,64})")
BASE_NAME = "busybox:latest"


def rmi_untags(image: Image, name: str | None, *, used: bool, force: bool) -> list[str]:
    """Docker's rule for ``rmi``: which names to untag, or why not (ImageInUse/Conflict).

    By name: untag that name; refused only if it is the last name of an image a
    container uses. By id: untag every name; refused if a container uses it or
    several repositories name it, unless forced. The image itself goes when no
    name is left and nothing uses it (the caller decides that).
    """
    if name is not None:
        if used and len(image.tags) == 1 and not force:
            raise ImageInUse(f"unable to remove repository reference {name!r} (must force): "
                             f"a container is using its referenced image {image.short_id}")
        return [name]
    if used and not force:
        raise ImageInUse(f"unable to delete {image.short_id} (must be forced): "
                         "image is being used by a container")
    if len(image.tags) > 1 and not force:
        raise Conflict(f"unable to delete {image.short_id} (must be forced): "
                       "image is referenced in multiple repositories",
                       hint="remove the tags one by one, or use -f")
    return list(image.tags)


def resolve_or_base(images, ref: str):
    """The image REF names; busybox:latest is rebuilt offline if it is missing."""
    try:
        return images.resolve(ref)
    except ImageNotFound:
        if ref.removeprefix("docker.io/library/") not in ("busybox", "busybox:latest"):
            raise
    return images.ensure_base()


def list_with_base(images) -> list:
    """Every image; a fresh onggi root gets its busybox:latest first."""
    found = images.list()
    if not any(BASE_NAME in i.tags for i in found):
        images.ensure_base()
        found = images.list()
    return found


class ImageStore:
    """Images in ``config.image_dir``, their unpacked layers in ``config.layers_dir``.

    Every method that changes the store publishes what it did (``ImageTagged``,
    ``ImageLoaded`` with how="load"|"import"|"commit", ``ImageDeleted``,
    ``LayerExtracted``) after the change is on disk.
    """

    def __init__(self, config: Config, publisher: Publisher | None = None, syscalls=None):
        self.config = config
        self.publisher = publisher if publisher is not None else NullPublisher()
        self._syscalls = syscalls
        self.layout = Layout(config.image_dir)
        self.blobs = self.layout.blobs
        self.layers_dir = Path(config.layers_dir)

    @property
    def syscalls(self):
        if self._syscalls is None:
            from runtime.linux.syscalls import Syscalls
            self._syscalls = Syscalls()
        return self._syscalls

    # -- reading ------------------------------------------------------------------------
    def resolve(self, ref: str) -> Image:
        """The image a name, ``name@sha256:...``, full ID or ID prefix names.

        Names win over ID prefixes (``abc123`` is first ``abc123:latest``), as in
        Docker. :class:`ImageNotFound` ("no such image: foo:latest") if none does.
        """
        return self._resolve(self.layout.read_index(), ref)[0]

    def list(self) -> list[Image]:
        """Every image once (by ID) with all its tags, dangling ones too; newest first."""
        return self._all(self.layout.read_index())

    def history(self, ref: str) -> list[dict]:
        """``docker history``: rows newest first (see :func:`describe.history`)."""
        from runtime.image import describe
        index = self.layout.read_index()
        return describe.history(self._resolve(index, ref)[0], self._all(index))

    def inspect(self, ref: str) -> dict:
        """``docker image inspect``'s object (see :func:`describe.inspect`)."""
        from runtime.image import describe
        image = self.resolve(ref)
        return describe.inspect(image, self.layer_paths(image))

    def layer_paths(self, image: Image) -> list[Path]:
        """Where each layer of ``image`` is (or will be) unpacked, lowest first. No I/O."""
        return [self.layers_dir / Digest.parse(d).hex for d in image.diff_ids]

    def layer_dirs(self, image: Image) -> list[Path]:
        """The unpacked layer directories of ``image``, lowest first, unpacking what is missing.

        Each layer is unpacked once into ``layers_dir/<diff_id hex>`` and shared by
        every container (see :func:`layers.unpack` for the race between unpackers);
        its content is checked against the diff_id. Publishes ``LayerExtracted``.
        """
        paths = self.layer_paths(image)
        if len(paths) != len(image.layers):
            raise InvalidArchive(f"image {image.short_id} is malformed: {len(image.layers)} layers "
                                 f"but {len(paths)} diff_ids", hint="remove it and load or pull it again")
        for path, layer, diff_id in zip(paths, image.layers, image.diff_ids):
            if not path.is_dir():
                self._unpack(layer, diff_id)
        return paths

    def _unpack(self, layer: dict, diff_id: str) -> None:
        from runtime.image import layers
        with self.blobs.open(layer["digest"]) as raw:
            _, stats = layers.unpack(raw, self.layers_dir, diff_id, self.syscalls)
        if stats is not None:
            self.publisher.publish(LayerExtracted(id=diff_id, size=stats.size, files=stats.files))

    # -- names --------------------------------------------------------------------------
    def tag(self, source: str, target: str) -> str:
        """Point the name ``target`` at the image ``source`` names; return the familiar name."""
        name = tag_name(target)
        with self.layout.transaction() as index:
            image = self._resolve(index, source)[0]
            index.tag(name, _entry(index, image.manifest_digest))
        self.publisher.publish(ImageTagged(id=image.id, name=name))
        return name

    def remove(self, ref: str, force: bool = False, in_use: Iterable[str] = frozenset(),
               in_use_layers: Iterable[str] = frozenset()) -> list[str]:
        """``docker rmi``: untag, and delete the image when no tag is left; return Docker's lines.

        By name: that tag goes; the image goes with its last tag. By ID: the image
        goes with all its tags, which needs ``force`` if it has several. An image
        in ``in_use`` (IDs of images containers were made from) is refused with
        :class:`ImageInUse`; with ``force`` it is untagged but kept, as Docker does.
        Deleting an image deletes the blobs no other image references and the
        unpacked layer directories that no remaining image references and that are
        not in ``in_use_layers`` (diff_ids, hexes or layer directory paths of the
        layers containers have mounted).
        """
        from runtime.image import gc
        lines: list[str] = []
        with self.layout.transaction() as index:
            try:
                image, name = self._resolve(index, ref)
            except (BlobNotFound, DigestMismatch) as err:
                return self._untag_broken(index, ref, err)
            used = image.id in set(in_use)
            untag = rmi_untags(image, name, used=used, force=force)
            for tag in untag:
                index.untag(tag)
                lines.append(f"Untagged: {tag}")
            delete = not used and not (set(image.tags) - set(untag))
            if delete:
                before = gc.Live(self.blobs, index)
                for manifest_digest, config_digest in before.config_of.items():
                    if config_digest == image.id:
                        index.drop(manifest_digest)
                lines.append(f"Deleted: {image.id}")
                lines += self._sweep(gc, index, before, in_use_layers, everything=False)
        if delete:
            self.publisher.publish(ImageDeleted(id=image.id, name=untag[0] if untag else ""))
        return lines

    # -- making images ------------------------------------------------------------------
    def import_rootfs(self, source: str | Path | BinaryIO, ref: str | None,
                      changes: dict | None = None) -> Image:
        """``docker import``: a root filesystem tar (plain, gzip, bzip2 or xz) becomes a one-layer image.

        ``changes`` sets config keys in Docker's spelling (``{"Cmd": ["sh"], "Env":
        [...]}``, see :func:`manifest.apply_changes`). The tar is vetted like any
        layer; a refused one leaves nothing behind.
        """
        from runtime.image.ingest import ingest_uncompressed
        from runtime.image.manifest import new_config, now_rfc3339, put_image
        name = tag_name(ref) if ref else None
        shown = str(source) if isinstance(source, (str, Path)) else "-"
        with self.layout.transaction() as index:
            # A path is ours to open and close; a caller's stream stays open.
            opened = open(source, "rb") if isinstance(source, (str, Path)) else nullcontext(source)
            with opened as stream:
                layer = ingest_uncompressed(self.blobs, stream, "rootfs")
            created = now_rfc3339()
            history = {"created": created, "created_by": "onggi import",
                       "comment": f"Imported from {shown}"}
            config = new_config(created, history, [layer.diff_id], changes)
            image = self._add(index, put_image(self.blobs, config, [layer.descriptor]), name)
        self.publisher.publish(ImageLoaded(id=image.id, name=name or "", how="import"))
        return image

    def commit(self, upper_dir: Path, parent: Image, config_changes: dict | None, ref: str | None,
               created_by: str, comment: str = "", author: str = "") -> Image:
        """``docker commit``: the overlay upper directory becomes a new top layer over ``parent``.

        Whiteouts and opaque directories become OCI whiteouts (see
        :func:`layers.write_layer`); the config is the parent's with
        ``config_changes`` applied and one more history entry.
        """
        from runtime.image.layers import write_layer
        from runtime.image.manifest import OCI_LAYER, derive_config, descriptor, now_rfc3339, put_image
        name = tag_name(ref) if ref else None
        with self.layout.transaction() as index:
            with self.blobs.writer() as w:
                write_layer(Path(upper_dir), w, self.syscalls)
                digest, size = w.commit()
            history = {"created": now_rfc3339(), "created_by": created_by}
            if comment:
                history["comment"] = comment
            if author:
                history["author"] = author
            config = derive_config(parent.config, str(digest), history, config_changes, author)
            layers = [*parent.layers, descriptor(OCI_LAYER, digest, size)]
            image = self._add(index, put_image(self.blobs, config, layers), name)
        self.publisher.publish(ImageLoaded(id=image.id, name=name or "", how="commit"))
        return image

    def ensure_base(self, busybox: str | Path = "/bin/busybox") -> Image:
        """``busybox:latest``, built offline from the host's static busybox if it is missing.

        When it exists this is one index read (plus the image's two JSON blobs).
        """
        index = self.layout.read_index()
        if index.find(BASE_NAME) is not None:
            return self._resolve(index, BASE_NAME)[0]
        from runtime.image import base
        with self.layout.transaction() as index:
            if index.find(BASE_NAME) is not None:  # another process built it meanwhile
                return self._resolve(index, BASE_NAME)[0]
            image = self._add(index, base.build(self.blobs, Path(busybox)), BASE_NAME)
        self.publisher.publish(ImageLoaded(id=image.id, name=BASE_NAME, how="import"))
        return image

    # -- archives -----------------------------------------------------------------------
    def save(self, refs: list[str], out_path: str | Path | BinaryIO) -> None:
        """``docker save``: one tar that OCI tools and ``docker load`` both read (see :mod:`archive`).

        An image named by a tag is saved under that name; one named by ID, untagged.
        """
        from runtime.image import archive
        index = self.layout.read_index()
        chosen: dict[str, tuple[Image, list[str]]] = {}
        for ref in refs:
            image, name = self._resolve(index, ref)
            names = chosen.setdefault(image.id, (image, []))[1]
            if name and name not in names:
                names.append(name)
        archive.save(self.blobs, list(chosen.values()), out_path)

    def load(self, path: str | Path | BinaryIO) -> list[str]:
        """``docker load``: store every image in the archive; return the names loaded
        (an untagged image is reported by its ID). Tags that pointed elsewhere move.
        """
        from runtime.image import archive
        results: list[tuple[str, str]] = []
        with self.layout.transaction() as index:
            for item in archive.load(self.blobs, path):
                image = self._add(index, item.descriptor, None)
                for name in item.names:
                    index.tag(name, item.descriptor)
                results += [(image.id, n) for n in item.names] or [(image.id, image.id)]
        for image_id, name in results:
            self.publisher.publish(ImageLoaded(id=image_id, name=name, how="load"))
        return [name for _, name in results]

    # -- space --------------------------------------------------------------------------
    def disk_usage(self, in_use: Iterable[str] = frozenset(),
                   in_use_layers: Iterable[str] = frozenset()) -> dict:
        """``docker system df`` for images: counts, bytes, and what :meth:`prune` would free.

        ``{"images", "active", "size" (blob bytes), "layers" (unpacked), "layers_size",
        "reclaimable"}``.
        """
        from runtime.image import gc
        in_use = set(in_use)
        index = self.layout.read_index()
        live = gc.Live(self.blobs, index)
        ids = set(live.config_of.values())
        after = Index({"manifests": [d for d in index.entries
                                     if d["digest"] not in gc.dangling(index, live, in_use)]})
        kept = gc.Live(self.blobs, after)
        blob_sizes = {str(d): self._size(d) for d in self.blobs.list()}
        hexes = gc.layer_dir_hexes(self.layers_dir)
        dir_sizes = {h: gc.tree_size(self.layers_dir / h) for h in hexes}
        keep_dirs = kept.layers | {gc.layer_hex(x) for x in in_use_layers}
        return {
            "images": len(ids),
            "active": len(ids & in_use),
            "size": sum(blob_sizes.values()),
            "layers": len(hexes),
            "layers_size": sum(dir_sizes.values()),
            "reclaimable": sum(s for d, s in blob_sizes.items() if d not in kept.blobs)
                           + sum(s for h, s in dir_sizes.items() if h not in keep_dirs),
        }

    def prune(self, in_use: Iterable[str] = frozenset(),
              in_use_layers: Iterable[str] = frozenset()) -> list[str]:
        """Delete dangling images no container uses, unreferenced blobs and layer directories.

        Returns "Deleted: sha256:..." lines (images, then layers). Blobs and
        temporary directories nothing references are only collected once they are
        older than :data:`gc.GRACE_SECONDS`: another process may be writing them.
        """
        from runtime.image import gc
        lines: list[str] = []
        with self.layout.transaction() as index:
            live = gc.Live(self.blobs, index)
            gone_ids = []
            for manifest_digest in gc.dangling(index, live, set(in_use)):
                index.drop(manifest_digest)
                image_id = live.config_of.get(manifest_digest, manifest_digest)
                if image_id not in gone_ids:
                    gone_ids.append(image_id)
            lines += [f"Deleted: {i}" for i in gone_ids]
            lines += self._sweep(gc, index, live, in_use_layers, everything=True)
        for image_id in gone_ids:
            self.publisher.publish(ImageDeleted(id=image_id, name=""))
        return lines

    # -- internals ----------------------------------------------------------------------
    def _untag_broken(self, index: Index, ref: str, err: Exception) -> list[str]:
        """Untag an image whose manifest or config cannot be read, or nobody could remove it.

        Its blobs stay until a prune finds them unreferenced.
        """
        name = reference.try_parse(ref)
        desc = index.find(name.familiar) if name else None
        if desc is None:
            raise err  # not a tag: nothing we can safely drop
        name = name.familiar
        index.untag(name)
        if not index.tags_of(desc["digest"]):
            index.drop(desc["digest"])
        return [f"Untagged: {name}"]

    def _sweep(self, gc, index: Index, before, in_use_layers, everything: bool) -> list[str]:
        """Delete what ``index`` no longer keeps alive but ``before`` did; "Deleted: <layer>" lines.

        ``everything`` (prune) also takes unreferenced blobs and layer directories
        that ``before`` did not know (see :mod:`gc` for the grace period).
        """
        live = gc.Live(self.blobs, index)
        if not (live.complete and before.complete):
            return []  # a broken image may share any of it: keep everything for now
        candidates = before.blobs - live.blobs
        hexes = before.layers - live.layers
        if everything:
            candidates |= set(gc.orphan_blobs(self.blobs, live))
            gc.remove_stale_temporaries(self.layers_dir)
            hexes = set(gc.layer_dir_hexes(self.layers_dir))
        deleted = gc.delete_blobs(self.blobs, sorted(candidates), live)
        removed = gc.remove_layer_dirs(self.layers_dir, sorted(hexes), live, in_use_layers)
        layers = [before.diff_id_of.get(d, d) for d in deleted if d not in before.documents]
        layers += [f"sha256:{h}" for h in removed]
        return [f"Deleted: {d}" for d in dict.fromkeys(layers)]

    def _size(self, digest) -> int:
        try:
            return self.blobs.stat(digest)
        except BlobNotFound:  # deleted by another process since we listed
            return 0

    def _add(self, index: Index, desc: dict, name: str | None) -> Image:
        """Index ``desc`` (tagged ``name``, or untagged) and return the image."""
        if name:
            index.tag(name, desc)
        else:
            index.add(desc)
        return self._image(index, desc["digest"])

    def _image(self, index: Index, manifest_digest: str) -> Image:
        manifest = json.loads(self.blobs.get(manifest_digest))
        if manifest.get("mediaType") in INDEX_TYPES:
            raise ImageNotFound(f"no such image: {manifest_digest} is an index of several platforms",
                                hint="pull or load the image for this machine's platform")
        config_digest = manifest["config"]["digest"]
        return Image(id=config_digest, manifest_digest=manifest_digest, manifest=manifest,
                     config=json.loads(self.blobs.get(config_digest)), tags=index.tags_of(manifest_digest))

    def _all(self, index: Index) -> list[Image]:
        by_id: dict[str, Image] = {}
        for manifest_digest in index.manifest_digests():
            image = self._image(index, manifest_digest)
            if image.id in by_id:  # the same config under two manifests: one image
                first = by_id[image.id]
                image = Image(first.id, first.manifest_digest, first.manifest, first.config,
                              sorted(set(first.tags) | set(image.tags)))
            by_id[image.id] = image
        return sorted(by_id.values(), key=lambda i: i.created, reverse=True)

    def _resolve(self, index: Index, ref: str) -> tuple[Image, str | None]:
        """(image, the familiar name it was found by, or None when found by ID or digest)."""
        if is_digest(ref):
            return self._by_id(index, ref, Digest.parse(ref).hex), None
        try:
            parsed = reference.parse(ref)
        except InvalidReference:
            if _ID_PREFIX.fullmatch(ref):
                return self._by_id(index, ref, _ID_PREFIX.fullmatch(ref).group(1)), None
            raise
        if parsed.digest:
            for desc in index.entries:
                if desc["digest"] == parsed.digest:
                    return self._image(index, parsed.digest), None
        elif index.find(parsed.familiar) is not None:
            return self._image(index, index.find(parsed.familiar)["digest"]), parsed.familiar
        if _ID_PREFIX.fullmatch(ref):
            return self._by_id(index, ref, _ID_PREFIX.fullmatch(ref).group(1)), None
        raise ImageNotFound(f"no such image: {parsed.familiar}")

    def _by_id(self, index: Index, ref: str, prefix: str) -> Image:
        matches = {image.id: image for image in self._all(index)
                   if Digest.parse(image.id).hex.startswith(prefix)}
        if len(matches) == 1:
            return next(iter(matches.values()))
        if not matches:
            raise ImageNotFound(f"no such image: {ref}")
        raise ImageNotFound(f"no such image: {ref} is ambiguous ({len(matches)} images start with it)",
                            hint="give more digits of the image ID")


def tag_name(ref: str) -> str:
    """The familiar name a tag is stored under; a digest reference is no tag."""
    parsed = reference.parse(ref)
    if parsed.digest:
        raise InvalidReference(f"invalid tag {ref!r}: a tag cannot include a digest")
    return parsed.familiar


def _entry(index: Index, manifest_digest: str) -> dict:
    """The index's descriptor for a manifest, without its annotations."""
    desc = next(d for d in index.entries if d["digest"] == manifest_digest)
    return {k: v for k, v in desc.items() if k != "annotations"}

