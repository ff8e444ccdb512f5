"""Images: the OCI image layout onggi keeps, and the layers containers are made of.

For: storing images content-addressed (``store``), naming them (``reference``,
``layout``), reading and writing their manifests and configs (``manifest``),
unpacking layers for overlayfs and packing an overlay upper directory back into a
layer (``layers``, vetted by ``tarsafe``), ``docker diff`` (``changes``), the
offline busybox base image (``base``), archives (``archive``), and the
:class:`ImageStore` facade over all of it (``images``).

Never: runs containers, mounts anything, talks to a registry, or prints.

Each module is loaded only when used (``from runtime.image import ImageStore``
works, lazily), so importing one small piece does not load the rest.
"""
from __future__ import annotations

_EXPORTS = {
    "ImageStore": "runtime.image.images",
    "Image": "runtime.image.model",
    "Digest": "runtime.image.digest",
    "Reference": "runtime.image.reference",
    "BlobStore": "runtime.image.store",
    "Layout": "runtime.image.layout",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'runtime.image' has no attribute {name!r}")
    import importlib
    return getattr(importlib.import_module(module), name)
