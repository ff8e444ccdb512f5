"""Images described the way Docker shows them: ``docker history`` rows and ``docker inspect``.

Pure functions over :class:`Image` values; the CLI and the web format the result.
"""
from __future__ import annotations

from pathlib import Path

from runtime.image.model import Image

MISSING = "<missing>"

# docker inspect's Config always has these keys, with these empty values.
_DOCKER_CONFIG = {
    "Hostname": "", "Domainname": "", "User": "", "AttachStdin": False, "AttachStdout": False,
    "AttachStderr": False, "Tty": False, "OpenStdin": False, "StdinOnce": False,
    "Env": None, "Cmd": None, "Image": "", "Volumes": None, "WorkingDir": "",
    "Entrypoint": None, "OnBuild": None, "Labels": None,
}


def history(image: Image, known: list[Image] = ()) -> list[dict]:
    """One row per history entry, newest first: id, created, created_by, size, comment.

    ``id`` is the image's own for the newest row; for an older row it is the ID of a
    local image that is exactly this image up to that step (its base, or a build
    step), else ``<missing>``, as Docker shows pulled images.
    """
    entries = image.config.get("history") or [{"created": image.created} for _ in image.layers]
    layers = image.layers
    rows, layer_no = [], 0
    for i, entry in enumerate(entries):
        empty = bool(entry.get("empty_layer"))
        size = 0 if empty or layer_no >= len(layers) else int(layers[layer_no].get("size", 0))
        layer_no += 0 if empty else 1
        newest = i == len(entries) - 1
        rows.append({
            "id": image.id if newest else _ancestor(entries[:i + 1], image.diff_ids[:layer_no], known),
            "created": entry.get("created", ""),
            "created_by": entry.get("created_by", ""),
            "size": size,
            "comment": entry.get("comment", ""),
        })
    return rows[::-1]


def _ancestor(entries: list[dict], diff_ids: list[str], known) -> str:
    for other in known:
        if other.config.get("history") == entries and other.diff_ids == diff_ids:
            return other.id
    return MISSING


def inspect(image: Image, layer_dirs: list[Path] | None = None) -> dict:
    """``docker image inspect``'s object for ``image``.

    ``layer_dirs`` (lowest first) fill GraphDriver.Data like Docker's overlay2:
    the top layer as UpperDir, the others, top first, as LowerDir.
    """
    config = image.config
    history = config.get("history") or [{}]
    result = {
        "Id": image.id,
        "RepoTags": list(image.tags),
        "RepoDigests": [],
        "Parent": "",
        "Comment": history[-1].get("comment", ""),
        "Created": image.created,
        "DockerVersion": config.get("docker_version", ""),
        "Author": config.get("author", ""),
        "Config": docker_config(image.settings),
        "Architecture": config.get("architecture", ""),
        "Os": config.get("os", ""),
        "Size": image.size,
        "RootFS": {"Type": "layers", "Layers": image.diff_ids},
        "Metadata": {"LastTagTime": ""},
    }
    if config.get("variant"):
        result["Variant"] = config["variant"]
    if layer_dirs:
        data = {"UpperDir": str(layer_dirs[-1])}
        if len(layer_dirs) > 1:
            data["LowerDir"] = ":".join(str(d) for d in reversed(layer_dirs[:-1]))
        result["GraphDriver"] = {"Name": "overlay", "Data": data}
    return result


def docker_config(settings: dict) -> dict:
    """An OCI config's ``config`` object with Docker's always-present keys filled in."""
    return {**_DOCKER_CONFIG, **{k: v for k, v in settings.items() if v is not None}}
