"""The four live views, drawn from the kernel: namespaces, cgroups, network, layers;
and the lessons' views: vm (a real VM beside a container, measured), components
(Docker's parts, onggi's real ones with live counts) and multihost (Machine and
Swarm, simulated).

Each view is a module with ``collect(rt, scans, query) -> model`` (reads /proc,
cgroupfs, netlink, mountinfo and layer directories through ``runtime.inspect``;
plain data, so tests can build one by hand) and ``draw(model, lang) -> Digraph``.
:func:`render` runs both and Graphviz's ``dot`` and returns the SVG.

Element ids are stable across renders (``ns-<id12>-net``, ``cg-<id12>-memory``,
``layer-<hex12>``...), so the browser can compare two renders and highlight what
changed. Labels follow ``lang`` ("ko" or "en").
"""
from __future__ import annotations

import importlib

VIEWS = ("namespaces", "cgroups", "network", "layers", "vm", "components", "multihost")
LANGS = ("ko", "en")
# What a view may be asked about: a container or image (the four kernel views), a
# part of Docker to highlight (components), a simulated scenario (multihost), and
# the lesson result a computed view draws (vm, components, multihost).
QUERY_KEYS = ("container", "image", "component", "scenario", "result")


def view_module(view: str):
    from runtime.errors import NotFound
    if view not in VIEWS:
        raise NotFound(f"no such diagram: {view}", hint="use one of " + ", ".join(VIEWS))
    return importlib.import_module(f"{__name__}.{view}")


def check_lang(lang: str | None) -> str:
    from runtime.errors import InvalidArgument
    lang = lang or "ko"
    if lang not in LANGS:
        raise InvalidArgument(f"invalid lang '{lang}': use ko or en")
    return lang


def render(rt, scans, view: str, *, lang: str = "ko", query: dict | None = None) -> str:
    """The SVG of VIEW now (the XML prolog dropped, ready to put inside a page)."""
    module = view_module(view)
    model = module.collect(rt, scans, dict(query or {}))
    return to_svg(module.draw(model, check_lang(lang)))


def to_svg(graph) -> str:
    svg = graph.pipe(format="svg").decode()
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def short(cid: str) -> str:
    return cid[:12]
