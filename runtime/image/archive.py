"""Image archives: ``save`` writes one, ``load`` reads ours, OCI's and Docker's.

One file serves both worlds. :func:`save` writes an OCI image layout (``oci-layout``,
``index.json``, ``blobs/sha256/...``) and, beside it, Docker's ``manifest.json`` and
``repositories`` pointing into the same blobs, as Docker 25 does; so ``skopeo
inspect oci-archive:FILE``, ``skopeo inspect docker-archive:FILE`` and ``docker
load`` all accept it.

:func:`load` reads:

* OCI archives (ours, ``skopeo copy ... oci-archive:``, ``podman save --format
  oci-archive``). The name comes from ``io.containerd.image.name`` or from
  ``org.opencontainers.image.ref.name`` when that holds a full name
  (``fixture/layered:1``); a bare tag there (``1``) names no repository, so the
  image loads untagged unless ``manifest.json`` names it. Blobs are kept as they
  are, gzip layers included, so the manifest digest survives.
* Docker archives (``docker save``, ``podman save --format docker-archive``):
  ``manifest.json`` lists each image's config file and layer tars (which may be
  symlinks inside the archive). Layers are stored uncompressed, so the config,
  and with it Docker's image ID, is kept byte for byte.

Every layer is vetted while it is stored (:mod:`ingest`); on any error the blobs
this load added are deleted again. The caller holds the layout's transaction.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from runtime.errors import DigestMismatch, InvalidArchive, InvalidReference
from runtime.image import reference
from runtime.image.digest import Digest
from runtime.image.ingest import ingest_as_is, ingest_uncompressed
from runtime.image.layout import REF_NAME
from runtime.image.manifest import (INDEX_TYPES, OCI_CONFIG, OCI_INDEX, OCI_MANIFEST, descriptor,
                                    encode, host_platform, manifest_bytes)
from runtime.image.model import Image
from runtime.image.store import BlobStore
from runtime.image.streams import Hashing, decompressed

CONTAINERD_NAME = "io.containerd.image.name"
_HINT = ("expected an archive from 'onggi save', 'docker save', 'podman save' or "
         "'skopeo copy ... oci-archive:'; for a root filesystem tar use 'onggi import'")


@dataclass(frozen=True)
class Loaded:
    descriptor: dict       # the manifest's, to put in the index
    names: tuple[str, ...]  # familiar names to tag it with (may be empty)


# -- load ------------------------------------------------------------------------------

def load(blobs: BlobStore, source: str | Path | BinaryIO) -> list[Loaded]:
    """Store every image in the archive ``source``; return what to index. See the module doc."""
    added: list[Digest] = []
    try:
        with _open(source, blobs.root) as tar:
            reader = _Archive(tar, blobs, added)
            try:
                if reader.has("index.json") and reader.has("oci-layout"):
                    return reader.load_oci()
                if reader.has("manifest.json"):
                    return reader.load_docker()
            except (KeyError, TypeError) as e:  # a document without a field the format requires
                raise InvalidArchive(f"load image: malformed index.json or manifest.json (missing {e})",
                                     hint=_HINT) from None
            raise InvalidArchive("load image: the archive has neither index.json nor manifest.json",
                                 hint=_HINT)
    except BaseException:
        for digest in added:
            blobs.delete(digest)
        raise


def _open(source, scratch: Path) -> tarfile.TarFile:
    """A random-access TarFile over a path or a stream (spooled to a file first)."""
    try:
        if isinstance(source, (str, Path)):
            return tarfile.open(source, "r:*")
        if source.seekable():
            return tarfile.open(fileobj=source, mode="r:*")
    except tarfile.TarError as e:
        raise InvalidArchive(f"load image: not a tar archive ({e})", hint=_HINT) from None
    scratch.mkdir(parents=True, exist_ok=True)
    spool = tempfile.TemporaryFile(dir=scratch)
    while chunk := source.read(1 << 20):
        spool.write(chunk)
    spool.seek(0)
    return _open(spool, scratch)


class _Archive:
    """One archive being loaded: member lookup and the blobs it added."""

    def __init__(self, tar: tarfile.TarFile, blobs: BlobStore, added: list[Digest]):
        self.tar, self.blobs, self.added = tar, blobs, added
        self.members = {_norm(m.name): m for m in tar.getmembers()}

    def has(self, name: str) -> bool:
        return _norm(name) in self.members

    def open(self, name: str) -> BinaryIO:
        """A member's content, following symlinks inside the archive (podman's layer.tar)."""
        path = _norm(name)
        for _ in range(8):
            member = self.members.get(path)
            if member is None:
                raise InvalidArchive(f"load image: the archive has no {name!r}", hint=_HINT)
            if not member.issym() and not member.islnk():
                return self.tar.extractfile(member)
            base = posixpath.dirname(path) if member.issym() else ""
            path = _norm(posixpath.join(base, member.linkname))
        raise InvalidArchive(f"load image: too many symlinks at {name!r}", hint=_HINT)

    def json(self, name: str):
        try:
            return json.load(self.open(name))
        except ValueError as e:
            raise InvalidArchive(f"load image: {name} is not valid JSON ({e})", hint=_HINT) from None

    def _note(self, digest: Digest, existed: bool) -> None:
        if not existed:
            self.added.append(digest)

    # -- OCI -----------------------------------------------------------------------------
    def blob(self, digest: str) -> BinaryIO:
        return self.open(f"blobs/sha256/{Digest.parse(digest).hex}")

    def copy_blob(self, desc: dict) -> bytes:
        """Store a small blob (manifest, config) from the archive, verified; return its bytes."""
        data = self.blob(desc["digest"]).read()
        existed = self.blobs.has(desc["digest"])
        digest, _ = self.blobs.put(data, expected=desc["digest"])
        self._note(digest, existed)
        return data

    def load_oci(self) -> list[Loaded]:
        index = self.json("index.json")
        docker_names = self._docker_names() if self.has("manifest.json") else {}
        loaded = []
        for entry in index.get("manifests", []):
            desc = self._platform_manifest(entry)
            config_digest = self._load_oci_image(desc)
            names = _names_from(entry.get("annotations") or {}) or docker_names.get(config_digest, ())
            loaded.append(Loaded({k: desc[k] for k in ("mediaType", "digest", "size")}, tuple(names)))
        return loaded

    def _platform_manifest(self, desc: dict, depth: int = 0) -> dict:
        """``desc`` itself, or the manifest for this machine inside an image index."""
        if desc.get("mediaType") not in INDEX_TYPES:
            return desc
        if depth > 2:
            raise InvalidArchive("load image: image indexes nested too deep", hint=_HINT)
        index = json.loads(self.copy_blob(desc))
        want = host_platform()
        for child in index.get("manifests", []):
            platform = child.get("platform") or {}
            if (platform.get("architecture"), platform.get("os")) == (want["architecture"], want["os"]):
                return self._platform_manifest(child, depth + 1)
        raise InvalidArchive(f"load image: no {want['os']}/{want['architecture']} image in {desc['digest']}",
                             hint="save the image for this machine's platform")

    def _load_oci_image(self, desc: dict) -> str:
        manifest = json.loads(self.copy_blob(desc))
        config = json.loads(self.copy_blob(manifest["config"]))
        diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
        layers = manifest.get("layers") or []
        if len(diff_ids) != len(layers):
            raise InvalidArchive(f"load image: {len(layers)} layers but {len(diff_ids)} diff_ids",
                                 hint=_HINT)
        for layer, diff_id in zip(layers, diff_ids):
            existed = self.blobs.has(layer["digest"])
            got = ingest_as_is(self.blobs, self.blob(layer["digest"]), layer,
                               f"layer {Digest.parse(layer['digest']).short}")
            self._note(Digest.parse(layer["digest"]), existed)
            if got.diff_id != diff_id:
                raise DigestMismatch(f"load image: layer {layer['digest']} unpacks to {got.diff_id}, "
                                     f"the config says {diff_id}")
        return manifest["config"]["digest"]

    # -- Docker --------------------------------------------------------------------------
    def _docker_names(self) -> dict[str, tuple[str, ...]]:
        """config digest -> RepoTags, from manifest.json."""
        result = {}
        for item in self.json("manifest.json"):
            data = self.open(item["Config"]).read()
            result[str(Digest.of(data))] = tuple(_familiar(t) for t in item.get("RepoTags") or ()
                                                 if _familiar(t))
        return result

    def load_docker(self) -> list[Loaded]:
        items = self.json("manifest.json")
        if not isinstance(items, list):
            raise InvalidArchive("load image: manifest.json is not a list", hint=_HINT)
        done: dict[str, dict] = {}  # layer path -> descriptor (images share layers)
        loaded = []
        for item in items:
            data = self.open(item["Config"]).read()
            existed = self.blobs.has(Digest.of(data))
            config_digest, config_size = self.blobs.put(data)
            self._note(config_digest, existed)
            diff_ids = (json.loads(data).get("rootfs") or {}).get("diff_ids") or []
            paths = item.get("Layers") or []
            if len(paths) != len(diff_ids):
                raise InvalidArchive(f"load image: {len(paths)} layers but {len(diff_ids)} diff_ids "
                                     f"in {item['Config']}", hint=_HINT)
            layers = []
            for path, diff_id in zip(paths, diff_ids):
                if path not in done:
                    existed = self.blobs.has(diff_id)
                    got = ingest_uncompressed(self.blobs, self.open(path), f"layer {path}")
                    self._note(Digest.parse(got.diff_id), existed)
                    done[path] = got.descriptor
                if done[path]["digest"] != diff_id:
                    raise DigestMismatch(f"load image: layer {path} is {done[path]['digest']}, "
                                         f"the config says {diff_id}")
                layers.append(done[path])
            data = manifest_bytes(descriptor(OCI_CONFIG, config_digest, config_size), layers)
            existed = self.blobs.has(Digest.of(data))
            digest, size = self.blobs.put(data)
            self._note(digest, existed)
            desc = descriptor(OCI_MANIFEST, digest, size)
            names = tuple(n for t in item.get("RepoTags") or () if (n := _familiar(t)))
            loaded.append(Loaded(desc, names))
        return loaded


def _norm(name: str) -> str:
    return posixpath.normpath("/" + name).lstrip("/")


def _familiar(name: str) -> str | None:
    try:
        return reference.parse(name).familiar
    except InvalidReference:
        return None


def _names_from(annotations: dict) -> tuple[str, ...]:
    """The image's name from an index entry's annotations, if they hold a full one."""
    full = annotations.get(CONTAINERD_NAME)
    if full and _familiar(full):
        return (_familiar(full),)
    ref_name = annotations.get(REF_NAME) or ""
    # A bare "1" or "latest" is, by the OCI spec, a tag without a repository.
    if ("/" in ref_name or ":" in ref_name) and _familiar(ref_name):
        return (_familiar(ref_name),)
    return ()


# -- save ------------------------------------------------------------------------------

def save(blobs: BlobStore, images: list[tuple[Image, list[str]]], out: str | Path | BinaryIO) -> None:
    """Write ``images`` (each with the names to save it under) as one archive to ``out``.

    A path is written to a temporary file beside it and renamed, so a failed save
    leaves no half archive. Members are sorted with mtime 0: the same images give
    the same bytes.
    """
    if not isinstance(out, (str, Path)):
        _write_archive(blobs, images, out)
        return
    out = Path(out)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            _write_archive(blobs, images, f)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_archive(blobs: BlobStore, images: list[tuple[Image, list[str]]], out: BinaryIO) -> None:
    files: dict[str, object] = {}  # archive path -> bytes or a blob digest to copy
    index, docker, repositories = [], [], {}
    with tempfile.TemporaryDirectory(dir=blobs.root) as scratch:
        for image, names in images:
            desc = descriptor(image.manifest.get("mediaType") or OCI_MANIFEST, image.manifest_digest,
                              blobs.stat(image.manifest_digest))
            wanted = [image.manifest_digest, image.manifest["config"]["digest"]]
            wanted += [layer["digest"] for layer in image.layers]
            for digest in wanted:
                files[_blob_path(digest)] = Digest.parse(digest)
            docker_layers = []
            for layer, diff_id in zip(image.layers, image.diff_ids):
                if layer["digest"] != diff_id:  # compressed: Docker wants the plain tar
                    files[_blob_path(diff_id)] = _plain_copy(blobs, layer["digest"], diff_id, scratch)
                docker_layers.append(_blob_path(diff_id))
            index += [descriptor(desc["mediaType"], desc["digest"], desc["size"], {REF_NAME: n})
                      for n in names] or [desc]
            docker.append({"Config": _blob_path(image.id), "RepoTags": list(names) or None,
                           "Layers": docker_layers})
            for n in names:
                ref = reference.parse(n)
                repositories.setdefault(ref.familiar_name, {})[ref.tag] = Digest.parse(image.id).hex
        files["index.json"] = encode({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": index})
        files["manifest.json"] = json.dumps(docker, separators=(",", ":")).encode()
        files["repositories"] = json.dumps(repositories, separators=(",", ":"), sort_keys=True).encode()
        files["oci-layout"] = b'{"imageLayoutVersion":"1.0.0"}'
        _write_tar(blobs, files, out)


def _blob_path(digest: str) -> str:
    return f"blobs/sha256/{Digest.parse(digest).hex}"


def _plain_copy(blobs: BlobStore, digest: str, diff_id: str, scratch: str) -> Path:
    """Decompress a layer blob into ``scratch``, checked against its diff_id."""
    path = Path(scratch) / Digest.parse(diff_id).hex
    with blobs.open(digest) as raw, open(path, "wb") as out:
        plain = Hashing(decompressed(raw))
        while chunk := plain.read(1 << 20):
            out.write(chunk)
        raw.verify()
    if plain.digest != Digest.parse(diff_id):
        raise DigestMismatch(f"save image: layer {digest} unpacks to {plain.digest}, not {diff_id}")
    return path


def _write_tar(blobs: BlobStore, files: dict[str, object], out: BinaryIO) -> None:
    def info(name: str, type_=tarfile.REGTYPE, size: int = 0, mode: int = 0o644) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.size, ti.mode, ti.mtime, ti.uname, ti.gname = type_, size, mode, 0, "", ""
        return ti

    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info("blobs", tarfile.DIRTYPE, mode=0o755))
        tar.addfile(info("blobs/sha256", tarfile.DIRTYPE, mode=0o755))
        for name in sorted(files):
            content = files[name]
            if isinstance(content, bytes):
                tar.addfile(info(name, size=len(content)), io.BytesIO(content))
            elif isinstance(content, Digest):
                with blobs.open(content) as f:
                    tar.addfile(info(name, size=blobs.stat(content)), f)
                    f.verify()
            else:
                with open(content, "rb") as f:
                    tar.addfile(info(name, size=os.path.getsize(content)), f)
