"""Removing what a lesson made: its containers, networks and images, and nothing else.

What counts as the lesson's: containers and networks labelled
``org.onggi.lesson=<id>`` (every action labels what it makes), the images its
actions made (remembered in the progress store), and anything whose name starts
with the lesson's ``prefix`` (so what a learner made from their own terminal
with the suggested names goes too; for an image, its repository without the
registry host: ``localhost:5000/ship-hello`` has ``ship-``). The base image is
never removed. Containers go first (they hold networks and images), then
networks, then images. No Flask here.
"""
from __future__ import annotations

from runtime.errors import NotFound, OnggiError

from .actions import LABEL

BASE = "busybox:latest"


def is_ours(name: str, labels: dict, lesson_id: str, prefix: str) -> bool:
    return labels.get(LABEL) == lesson_id or bool(prefix and name.startswith(prefix))


def repository(tag: str) -> str:
    """An image name's repository without its registry host (``localhost:5000/a:v1`` -> ``a``)."""
    from runtime.image import reference
    try:
        ref = reference.parse(tag)
    except OnggiError:
        return tag
    path = ref.path
    return path.removeprefix("library/") if ref.domain == reference.DEFAULT_DOMAIN else path


def clean(rt, lesson_id: str, prefix: str, images=()) -> dict:
    """Remove the lesson's containers, networks and images; what was removed and what could not be."""
    out = {"containers": [], "networks": [], "images": [], "failed": []}
    for record in rt.containers.list():
        if is_ours(record.name, dict(record.spec.labels), lesson_id, prefix):
            try:
                rt.container(record.id).remove(force=True)
                out["containers"].append(record.name)
            except NotFound:
                pass
            except OnggiError as exc:
                out["failed"].append(f"{record.name}: {exc}")
    for net in rt.networks.list():
        if net.builtin:
            continue
        if is_ours(net.name, dict(net.labels), lesson_id, prefix):
            try:
                rt.networks.remove(net.name)
                out["networks"].append(net.name)
            except NotFound:
                pass
            except OnggiError as exc:
                out["failed"].append(f"{net.name}: {exc}")
    ids_made = {t for t in images if t.startswith("sha256:")}
    wanted = {t for t in images if not t.startswith("sha256:")}
    for image in rt.images.list():
        wanted |= {t for t in image.tags if prefix and repository(t).startswith(prefix)}
    wanted.discard(BASE)
    ids, layers = rt.images_in_use()
    for tag in sorted(wanted):
        try:
            rt.images.remove(tag, in_use=ids, in_use_layers=layers)
            out["images"].append(tag)
        except NotFound:
            pass
        except OnggiError as exc:
            out["failed"].append(f"{tag}: {exc}")
    # A rebuild under the same tag leaves the older image without a name: it was ours too.
    for image_id in sorted(ids_made):
        try:
            image = rt.images.resolve(image_id)
        except (NotFound, OnggiError):
            continue
        if image.tags or image.id in ids:
            continue
        try:
            rt.images.remove(image.id, in_use=ids, in_use_layers=layers)
            out["images"].append(image.short_id)
        except OnggiError as exc:
            out["failed"].append(f"{image.short_id}: {exc}")
    return out
