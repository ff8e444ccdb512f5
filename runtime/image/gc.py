"""Garbage: which blobs and unpacked layer directories no image needs any more.

The index is the root set: every blob reachable from an indexed manifest is live,
and so is the layer directory of every diff_id of an indexed image. Everything else
may go, with two exceptions the store cannot see for itself:

* layer directories a container is using (its overlay mount has them as
  lowerdir), which the caller passes as ``in_use_layers``: removing an image must
  not pull the floor from under a container made from it;
* things younger than :data:`GRACE_SECONDS` that nothing references *yet*: a blob
  or a ``.tmp-*`` unpack directory another process is in the middle of writing.
  (Blobs of a removed image are deleted at once: we know whose they were.)

Callers run these inside the layout's transaction, so no writer indexes a blob
while it is being judged. Removing a directory renames it aside first, so another
process never sees a half-deleted layer under its real name.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path
from typing import Iterable

from runtime.errors import OnggiError
from runtime.image.digest import Digest, is_digest
from runtime.image.layout import Index, name_of
from runtime.image.manifest import INDEX_TYPES
from runtime.image.store import BlobStore

GRACE_SECONDS = 600


class Live:
    """What the index keeps alive: blobs, unpacked layers (diff_id hexes), and how they relate.

    ``complete`` is False when some indexed manifest or config could not be read
    (missing or corrupt): then nobody knows all that image needs, and callers
    delete nothing.
    """

    def __init__(self, blobs: BlobStore, index: Index):
        self.complete = True
        self.blobs: set[str] = set()
        self.layers: set[str] = set()
        self.documents: set[str] = set()         # manifests, indexes, configs (not layers)
        self.config_of: dict[str, str] = {}      # indexed manifest digest -> config digest (image id)
        self.diff_id_of: dict[str, str] = {}     # layer blob digest -> diff_id
        for digest in index.manifest_digests():
            self._walk(blobs, digest, digest)

    def _walk(self, blobs: BlobStore, digest: str, top: str) -> None:
        self.blobs.add(digest)
        self.documents.add(digest)
        try:
            doc = json.loads(blobs.get(digest))
            if doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
                for child in doc.get("manifests", []):
                    self._walk(blobs, child["digest"], top)
                return
            config_digest = doc["config"]["digest"]
            self.config_of.setdefault(top, config_digest)
            self.blobs.add(config_digest)
            self.documents.add(config_digest)
            layers = [layer["digest"] for layer in doc.get("layers", [])]
            self.blobs.update(layers)
            diff_ids = json.loads(blobs.get(config_digest))["rootfs"]["diff_ids"]
            self.layers.update(Digest.parse(d).hex for d in diff_ids)
            self.diff_id_of.update(zip(layers, diff_ids))
        except (OnggiError, KeyError, ValueError, TypeError):
            self.complete = False


def dangling(index: Index, live: Live, in_use: Iterable[str]) -> list[str]:
    """Manifest digests indexed only without a tag, whose image no container uses."""
    tagged = {d["digest"] for d in index.entries if name_of(d)}
    used = set(in_use)
    return [m for m in index.manifest_digests()
            if m not in tagged and live.config_of.get(m) not in used]


def delete_blobs(blobs: BlobStore, candidates: Iterable[str], live: Live) -> list[str]:
    """Delete the candidates that are not live; return those deleted."""
    gone = []
    for digest in dict.fromkeys(candidates):
        if digest not in live.blobs and blobs.has(digest):
            blobs.delete(digest)
            gone.append(digest)
    return gone


def orphan_blobs(blobs: BlobStore, live: Live, now: float | None = None) -> list[str]:
    """Blobs nothing references and nobody touched within the grace period."""
    now = time.time() if now is None else now
    result = []
    for digest in blobs.list():
        if str(digest) in live.blobs:
            continue
        try:
            if now - os.stat(blobs.path(digest)).st_mtime >= GRACE_SECONDS:
                result.append(str(digest))
        except FileNotFoundError:
            pass
    return result


def remove_layer_dirs(layers_dir: Path, hexes: Iterable[str], live: Live,
                      in_use_layers: Iterable[str]) -> list[str]:
    """Remove unpacked layers (by diff_id hex) that are neither live nor in use; return those removed."""
    keep = live.layers | {layer_hex(x) for x in in_use_layers}
    removed = []
    for hex_ in dict.fromkeys(hexes):
        if hex_ in keep:
            continue
        path = Path(layers_dir) / hex_
        if path.is_dir():
            _remove_dir(path)
            removed.append(hex_)
    return removed


def layer_dir_hexes(layers_dir: Path) -> list[str]:
    """The diff_id hex of every unpacked layer directory."""
    try:
        return sorted(n for n in os.listdir(layers_dir) if is_digest(f"sha256:{n}"))
    except FileNotFoundError:
        return []


def remove_stale_temporaries(layers_dir: Path, now: float | None = None) -> None:
    """Remove ``.tmp-*``/``.rm-*`` directories left by crashed unpacks or removals.

    Only those older than the grace period: a young one is another process at work.
    """
    now = time.time() if now is None else now
    try:
        names = os.listdir(layers_dir)
    except FileNotFoundError:
        return
    for name in names:
        if name.startswith((".tmp-", ".rm-")):
            path = Path(layers_dir) / name
            try:
                if now - os.lstat(path).st_mtime >= GRACE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except FileNotFoundError:
                pass


def layer_hex(value) -> str:
    """A diff_id ("sha256:ab..."), a bare hex, or a layer directory path -> the hex."""
    return str(value).rstrip("/").rpartition("/")[2].rpartition(":")[2]


def tree_size(path: Path) -> int:
    """Bytes of regular-file content below ``path``, hard links counted once."""
    seen, total = set(), 0
    for root, dirs, files in os.walk(path):
        for name in files:
            try:
                st = os.lstat(os.path.join(root, name))
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode) and (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_size
    return total


def _remove_dir(path: Path) -> None:
    aside = path.with_name(f".rm-{path.name[:12]}-{os.urandom(4).hex()}")
    os.rename(path, aside)
    shutil.rmtree(aside)
