"""Manifests, configs and descriptors: the JSON documents of the OCI image spec.

A *descriptor* points at a blob (``mediaType``, ``digest``, ``size``); a *manifest*
lists an image's config and layers as descriptors; the *config* holds what a
container starts with (``config.Env``, ``Cmd``...), the layers' ``rootfs.diff_ids``
(digests of the *uncompressed* layer tars) and the ``history``. The config's digest
is the image ID.

Docker's formats are read too: its config JSON is an OCI config with extra fields,
and its manifest media types are listed below. Everything onggi writes is OCI.
"""
from __future__ import annotations

import copy
import json

from runtime.errors import InvalidArgument
from runtime.image.digest import Digest
from runtime.image.layout import INDEX_MEDIA_TYPE as OCI_INDEX, INDEX_TYPES  # noqa: F401 (re-exported)
from runtime.image.store import BlobStore

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)

# The keys of config["config"] a user may set (commit -c, import -c), in Docker's
# capitalisation, which the OCI spec kept.
CONFIG_KEYS = ("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes",
               "WorkingDir", "Labels", "StopSignal", "Healthcheck", "OnBuild", "Shell")
# Fields Docker writes that describe the container a layer was made in; they would
# be wrong in an image derived from this one.
_DOCKER_CONTAINER_FIELDS = ("container", "container_config", "docker_version", "id", "parent")

_GOARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
           "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386",
           "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}


def encode(doc: dict) -> bytes:
    """Canonical bytes for a JSON document: sorted keys, no spaces, so equal docs hash equal."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def descriptor(media_type: str, digest: Digest | str, size: int, annotations: dict | None = None) -> dict:
    d = {"mediaType": media_type, "digest": str(digest), "size": size}
    if annotations:
        d["annotations"] = dict(annotations)
    return d


def host_platform() -> dict:
    """{"architecture": "amd64", "os": "linux"} (Go's names) for this machine."""
    import platform
    machine = platform.machine().lower()
    return {"architecture": _GOARCH.get(machine, machine), "os": "linux"}


def now_rfc3339() -> str:
    """The current UTC time as the image spec writes it: 2024-05-01T12:00:00.123456Z."""
    from datetime import datetime, timezone
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_gzip(media_type: str) -> bool:
    return media_type in (OCI_LAYER_GZIP, DOCKER_LAYER_GZIP)


# -- reading and writing whole images ---------------------------------------------

def read_json(blobs: BlobStore, digest: Digest | str) -> dict:
    """A verified blob parsed as JSON."""
    return json.loads(blobs.get(digest))


def put_image(blobs: BlobStore, config: dict, layers: list[dict]) -> dict:
    """Store ``config`` and a manifest over ``layers``; return the manifest's descriptor."""
    config_bytes = encode(config)
    config_digest, config_size = blobs.put(config_bytes)
    return put_manifest(blobs, descriptor(OCI_CONFIG, config_digest, config_size), layers)


def put_manifest(blobs: BlobStore, config_desc: dict, layers: list[dict]) -> dict:
    digest, size = blobs.put(manifest_bytes(config_desc, layers))
    return descriptor(OCI_MANIFEST, digest, size)


def manifest_bytes(config_desc: dict, layers: list[dict]) -> bytes:
    return encode({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                   "config": config_desc, "layers": layers})


# -- configs -----------------------------------------------------------------------

def new_config(created: str, history: dict, diff_ids: list[str], settings: dict | None = None,
               author: str = "") -> dict:
    """A fresh image config for this platform (import, the base image)."""
    config = {**host_platform(), "created": created,
              "config": apply_changes({}, settings or {}),
              "rootfs": {"type": "layers", "diff_ids": list(diff_ids)},
              "history": [history]}
    if author:
        config["author"] = author
    return config


def derive_config(parent: dict, diff_id: str | None, history: dict, changes: dict | None = None,
                  author: str = "") -> dict:
    """The config of an image made on top of ``parent``: one more layer (or none), one more history entry."""
    config = copy.deepcopy(parent)
    for key in _DOCKER_CONTAINER_FIELDS:
        config.pop(key, None)
    config["created"] = history["created"]
    config["config"] = apply_changes(config.get("config") or {}, changes or {})
    rootfs = config.setdefault("rootfs", {"type": "layers", "diff_ids": []})
    if diff_id is not None:
        rootfs["diff_ids"] = [*rootfs.get("diff_ids", []), diff_id]
    else:
        history = {**history, "empty_layer": True}
    config["history"] = [*config.get("history", []), history]
    if author:
        config["author"] = author
    else:
        config.pop("author", None)
    return config


def apply_changes(settings: dict, changes: dict) -> dict:
    """``settings`` (a config's ``config`` object) with ``changes`` applied, as a new dict.

    Keys are Docker's (``Cmd``, ``Env``, ``WorkingDir``...). ``Env`` entries replace
    variables of the same name and add the others; ``Labels``, ``ExposedPorts`` and
    ``Volumes`` merge; every other key replaces. A value of None removes the key.
    """
    result = {k: copy.deepcopy(v) for k, v in settings.items() if v is not None}
    for key, value in changes.items():
        if key not in CONFIG_KEYS:
            raise InvalidArgument(f"invalid config change {key!r}: expected one of {', '.join(CONFIG_KEYS)}")
        if value is None:
            result.pop(key, None)
        elif key == "Env":
            result["Env"] = merge_env(result.get("Env") or [], value)
        elif key in ("Labels", "ExposedPorts", "Volumes"):
            result[key] = {**(result.get(key) or {}), **value}
        else:
            result[key] = copy.deepcopy(value)
    return result


def merge_env(env: list[str], updates: list[str]) -> list[str]:
    """``KEY=value`` lists: updates replace same-named variables in place, others are appended."""
    merged = {e.partition("=")[0]: e for e in env}
    for e in updates:
        merged[e.partition("=")[0]] = e
    return list(merged.values())
