"""The layers view: image layer stacks, what each layer changes and wastes, containers on top.

Read from the unpacked layer directories and the container's upper dir
(``runtime.inspect.layers``) and from mountinfo (is the overlay mounted?):

* no query: every image as a stack of layers, a layer shared by images drawn
  once, each container's writable layer on top of its image;
* ``image=REF``: that image's stack, lowest at the bottom: per layer its size,
  the instruction that made it, files added/modified/deleted, bytes wasted (a
  file a later layer overwrites or deletes still costs its size here) and which
  other images and containers share it;
* ``container=ID``: its image's stack, the init layer, the upper dir and the
  merged overlay on top.

Per-file lists, a file's content and the diff across a range of layers are the
JSON API's (``/api/layers...``); the page opens them when a layer is clicked.

In simulated mode the layers' contents come from ``rt.truth`` (the simulated
world's layers, read as ``runtime.inspect.layers.scan`` would read a directory)
and the view says it is simulated.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runtime.inspect import layers as L
from runtime.inspect import mounts

from . import short
from .fit import short_path
from .html import HEAD, NOTE, OWN, PALE, WARN, cell, human, mark_simulated, new_graph, row, table
from .text import shared_counts, status, t


@dataclass
class Stack:
    title: str
    layers: list[dict]                 # index, dir, kind (image|init|upper), node_id, diff_id, created_by, shared
    entries: list[list] = field(default_factory=list)
    reports: list = field(default_factory=list)
    merged: dict | None = None         # container only: mountpoint and whether mounted


def _hex(path) -> str:
    return Path(path).name


def _scan(rt, scans, directory, *, fixed: bool = True) -> list:
    """What a layer directory holds: read from disk, or from the simulated world."""
    if getattr(rt, "simulated", False):
        return rt.truth.layer_entries(directory)
    return scans.get(directory, fixed=fixed)


def _size(rt, scans, directory, *, fixed: bool = True) -> int | None:
    """Bytes a layer directory holds (None when it is not there)."""
    if not getattr(rt, "simulated", False) and not Path(directory).is_dir():
        return None
    return sum(e.size for e in _scan(rt, scans, directory, fixed=fixed))


def _mounted(rt, rec) -> bool:
    if getattr(rt, "simulated", False):
        return rt.truth.overlay_mounted(rec.id)
    try:
        m = mounts.find(mounts.mountinfo("self", rt.config.proc), str(rec.merged))
    except OSError:
        m = None
    return m is not None and m.fstype == "overlay"


def _sharing(rt) -> tuple[dict, dict]:
    """layer dir name -> image tags/ids using it; -> container names using it."""
    images, containers = {}, {}
    for img in rt.images.list():
        label = img.tags[0] if img.tags else img.short_id
        for p in rt.images.layer_paths(img):
            images.setdefault(p.name, []).append(label)
    for r in rt.containers.list():
        for d in r.layers:
            containers.setdefault(Path(d).name, []).append(r.name)
    return images, containers


def stack_for(rt, scans, *, image: str | None = None, container: str | None = None) -> Stack:
    """The layer stack of an image, or of a container (upper dir on top), analysed."""
    rec = None
    if container:
        rec = rt.container(container).record
        img = rt.images.resolve(rec.image_id)
        dirs = [str(d) for d in rec.layers]
        title = f"{rec.name} ({short(rec.id)}) ← {rec.image}"
    else:
        img = rt.images.resolve(image)
        dirs = [str(d) for d in rt.images.layer_dirs(img)]
        title = img.tags[0] if img.tags else img.short_id
    made_by = L.created_by(img)
    shared_images, shared_containers = _sharing(rt)
    layers = []
    for i, d in enumerate(dirs):
        h = _hex(d)
        layers.append({"index": i, "dir": d, "kind": "image", "node_id": f"layer-{h[:12]}",
                       "diff_id": "sha256:" + h, "created_by": made_by[i] if i < len(made_by) else "",
                       "images": shared_images.get(h, []), "containers": shared_containers.get(h, [])})
    entries = [_scan(rt, scans, d) for d in dirs]
    merged = None
    if rec is not None:
        cid = short(rec.id)
        layers.append({"index": len(layers), "dir": str(rec.init), "kind": "init",
                       "node_id": f"layer-{cid}-init", "created_by": "", "images": [], "containers": [rec.name]})
        layers.append({"index": len(layers), "dir": str(rec.upper), "kind": "upper",
                       "node_id": f"layer-{cid}-upper", "created_by": "", "images": [], "containers": [rec.name]})
        entries += [_scan(rt, scans, rec.init, fixed=False), _scan(rt, scans, rec.upper, fixed=False)]
        merged = {"mountpoint": str(rec.merged), "mounted": _mounted(rt, rec), "node_id": f"layer-{cid}-merged"}
    reports = L.analyze(entries, [x["dir"] for x in layers])
    return Stack(title=title, layers=layers, entries=entries, reports=reports, merged=merged)


def collect(rt, scans, query) -> dict:
    if query.get("image") or query.get("container"):
        stack = stack_for(rt, scans, image=query.get("image"), container=query.get("container"))
        return {"mode": "stack", "title": stack.title, "merged": stack.merged,
                "layers": [info | rep.to_dict(changes=False) for info, rep in zip(stack.layers, stack.reports)],
                "simulated": bool(getattr(rt, "simulated", False))}
    return _overview(rt, scans) | {"simulated": bool(getattr(rt, "simulated", False))}


def _overview(rt, scans) -> dict:
    images = []
    sizes = {}
    for img in rt.images.list():
        paths = rt.images.layer_paths(img)
        for p in paths:
            if p.name not in sizes:
                sizes[p.name] = _size(rt, scans, p)
        images.append({"id": img.id, "label": img.tags[0] if img.tags else img.short_id,
                       "tags": list(img.tags), "layers": [p.name for p in paths],
                       "made_by": L.created_by(img)})
    containers = []
    for r in rt.containers.list():
        state = r.current_state()
        upper = _size(rt, scans, r.upper, fixed=False) or 0
        containers.append({"id": r.id, "name": r.name, "image_id": r.image_id, "status": state.status.value,
                           "top": Path(r.layers[-1]).name if r.layers else None, "upper_size": upper})
    return {"mode": "overview", "images": images, "containers": containers, "sizes": sizes}


def draw(model, lang="ko"):
    g = _draw_overview(model, lang) if model["mode"] == "overview" else _draw_stack(model, lang)
    if model.get("simulated"):
        mark_simulated(g, lang, bottom_up=True)
    return g


# Containers side by side, at most this many to a row: eight in one row (exited ones count,
# they keep their upper dir) were scaled down until no name could be read.
PER_ROW = 4


def _draw_overview(model, lang):
    g = new_graph("layers", rankdir="BT", lang=lang)
    if not model["images"]:
        g.node("layers-empty", id="layers-empty", label=table([row(cell(t("no_images", lang)))], cellborder=0))
        return g
    drawn = set()
    users = {}
    for img in model["images"]:
        for h in img["layers"]:
            users.setdefault(h, []).append(img["label"])
    for img in model["images"]:
        below = None
        for i, h in enumerate(img["layers"]):
            node = f"layer-{h[:12]}"
            if node not in drawn:
                drawn.add(node)
                shared = len(users[h]) > 1
                made = img["made_by"][i] if i < len(img["made_by"]) else ""
                rows = [row(cell(f"{t('layer', lang)} {h[:12]}", bold=True, mono=True,
                                 bg=OWN if shared else HEAD, id=f"{node}-title")),
                        row(cell(human(model["sizes"].get(h)), id=f"{node}-size")),
                        row(cell(_cut(made, 48) or "-", mono=True, size=9))]
                if shared:
                    rows.append(row(cell(f"{t('shared_by', lang)}: {', '.join(users[h])}", size=9)))
                g.node(node, id=node, label=table(rows))
            if below:
                g.edge(below, node, arrowhead="none")
            below = node
        inode = f"img-{img['id'].partition(':')[2][:12]}"
        g.node(inode, id=inode, label=table([row(cell(f"{t('image', lang)} {img['label']}", bold=True,
                                                       bg=NOTE, id=f"{inode}-title"))]))
        if below:
            g.edge(below, inode)
    uppers = []
    for i, c in enumerate(model["containers"]):
        node = f"layer-{short(c['id'])}-upper"
        uppers.append(node)
        g.node(node, id=node, label=table([
            row(cell(f"{c['name']} ({short(c['id'])})", bold=True, bg=HEAD, id=f"{node}-title")),
            row(cell(f"{t('upper', lang)}: {human(c['upper_size'])}", id=f"{node}-size")),
            row(cell(status(c["status"], lang), id=f"{node}-status", size=9))]))
        if c["top"]:
            g.edge(f"layer-{c['top'][:12]}", node, style="dashed")
        if i >= PER_ROW:        # the next row: above the one PER_ROW before it (bottom-up)
            g.edge(uppers[i - PER_ROW], node, style="invis")
    return g


def _draw_stack(model, lang):
    g = new_graph("layers", rankdir="BT", lang=lang)
    below = None
    for layer in model["layers"]:
        node = layer["node_id"]
        counts = layer["counts"]
        if layer["kind"] == "image":
            head = f"{t('layer', lang)} {layer['index']} · {layer['diff_id'][7:19]}"
            bg = HEAD
        else:
            head = t("upper" if layer["kind"] == "upper" else "init", lang)
            bg = OWN if layer["kind"] == "upper" else PALE
        rows = [row(cell(head, bold=True, colspan=3, bg=bg, id=f"{node}-title", size=12))]
        if layer.get("created_by"):
            rows.append(row(cell(_cut(layer["created_by"], 60), colspan=3, mono=True, size=9, align="LEFT")))
        rows.append(row(cell(f"{human(layer['size'])}", id=f"{node}-size"),
                        cell(f"{layer['files']} {t('files', lang)}", id=f"{node}-files"),
                        cell(t("writable" if layer["kind"] == "upper" else "readonly", lang), size=9)))
        rows.append(row(cell(f"+{counts['A']} {t('added', lang)}", id=f"{node}-added", bg="#e3f4e3"),
                        cell(f"~{counts['M']} {t('modified', lang)}", id=f"{node}-modified", bg="#fdf1d6"),
                        cell(f"-{counts['D']} {t('deleted', lang)}", id=f"{node}-deleted", bg="#f9dcd9")))
        if layer["wasted_bytes"]:
            rows.append(row(cell(f"{t('wasted', lang)}: {human(layer['wasted_bytes'])}", colspan=3,
                                 bg=WARN, id=f"{node}-wasted")))
        others = [i for i in layer.get("images", [])]
        if len(others) > 1 or (layer["kind"] == "image" and layer.get("containers")):
            text = shared_counts(len(others), len(layer.get("containers", [])), lang)
            rows.append(row(cell(text, colspan=3, size=9, id=f"{node}-shared")))
        g.node(node, id=node, label=table(rows))
        if below:
            g.edge(below, node, arrowhead="none")
        below = node
    merged = model.get("merged")
    if merged:
        node = merged["node_id"]
        state = t("mounted" if merged["mounted"] else "not_mounted", lang)
        g.node(node, id=node, label=table([
            row(cell(t("merged", lang), bold=True, bg=OWN if merged["mounted"] else PALE, id=f"{node}-title")),
            row(cell(state, id=f"{node}-state", bg=OWN if merged["mounted"] else None)),
            row(cell(short_path(merged["mountpoint"]), mono=True, size=8, id=f"{node}-path",
                     title=merged["mountpoint"]))]))
        if below:
            g.edge(below, node, style="bold")
    g.attr(label=model["title"], labelloc="t", fontsize="14")
    return g


def _cut(text: str, n: int) -> str:
    text = " ".join((text or "").split())
    # History says "RUN /bin/sh -c X" (Docker since BuildKit, and onggi's builder) or the
    # classic "/bin/sh -c X" and "/bin/sh -c #(nop) CMD ..."; show each as its Dockerfile line.
    text = text.replace("/bin/sh -c #(nop) ", "").replace("RUN /bin/sh -c ", "RUN ")
    text = text.replace("/bin/sh -c ", "RUN ")
    return text if len(text) <= n else text[:n - 1] + "…"
