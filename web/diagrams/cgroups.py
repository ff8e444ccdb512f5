"""The cgroups view: the tree under onggi's cgroup parent, with the kernel's gauges.

Per cgroup: memory current vs limit, pids current vs max, CPU time used and how
often the quota throttled it, OOM kills (a cgroup with one is drawn red and
carries the class ``oom``, which the page flashes). Read by
``runtime.inspect.cgroups.tree``. Query: ``container=ID`` shows that one only.
In simulated mode ``rt.cgroups`` is the simulated manager (the same interface),
and the view says it is simulated.
"""
from __future__ import annotations

from runtime.inspect.cgroups import percent, tree

from . import short
from .html import HEAD, PALE, WARN, bar, cell, human, mark_simulated, new_graph, row, table
from .text import t


def collect(rt, scans, query) -> dict:
    model = tree(rt.cgroups)
    names = {}
    for r in rt.containers.list():
        names[r.id] = r.name
    want = query.get("container")
    if want:
        model["children"] = [c for c in model["children"]
                             if c.name.startswith(want) or names.get(c.name) == want]
    model["children"] = [c.to_dict() | {"container": names.get(c.name, "")} for c in model["children"]]
    model["simulated"] = bool(getattr(rt, "simulated", False))
    return model


# Containers side by side, at most this many to a row: one row of twenty was scaled down
# until no one could read it, least of all on a projector.
PER_ROW = 3


def draw(model, lang="ko"):
    g = new_graph("cgroups", lang=lang)
    if model.get("simulated"):
        mark_simulated(g, lang)
    root_rows = [row(cell(t("cgroup_root", lang), bold=True, bg=HEAD, id="cg-root-title", size=13)),
                 row(cell(f"{model['parent']}  (cgroup {model['version']})", mono=True))]
    g.node("cg-root", label=table(root_rows), id="cg-root")
    if not model["children"]:
        g.node("cg-empty", label=table([row(cell(t("no_cgroups", lang)))], cellborder=0), id="cg-empty")
        g.edge("cg-root", "cg-empty", style="invis")
    nodes = []
    for i, c in enumerate(model["children"]):
        node = f"cg-{short(c['name'])}"
        nodes.append(node)
        oom = (c["stats"].get("oom_kills") or 0) > 0
        g.node(node, label=_gauges(c, lang), id=node, **({"class": "oom"} if oom else {}))
        g.edge("cg-root", node, arrowhead="none")
        if i >= PER_ROW:        # the next row: below the one PER_ROW before it
            g.edge(nodes[i - PER_ROW], node, style="invis")
        for sub in c.get("children", []):
            _nested(g, node, sub)
    return g


def _gauges(c, lang) -> str:
    cid = short(c["name"])
    s, lim = c["stats"], c["limits"]
    title = f"{c['container'] or c['name'][:12]}  ({cid})"
    oom = s.get("oom_kills") or 0
    rows = [row(cell(title, bold=True, colspan=3, bg=WARN if oom else HEAD, id=f"cg-{cid}-title", size=12)),
            row(cell(_short_path(c["path"]), colspan=3, mono=True, size=9, id=f"cg-{cid}-path", title=c["path"]))]
    mem, mem_max = s.get("memory_current"), s.get("memory_max")
    rows.append(row(cell(t("memory", lang), align="LEFT"),
                    bar(_fraction(mem, mem_max), id=f"cg-{cid}-memory-bar"),
                    cell(f"{human(mem)} / {human(mem_max) if mem_max else t('no_limit', lang)}",
                         mono=True, id=f"cg-{cid}-memory", align="RIGHT")))
    pids, pids_max = s.get("pids_current"), s.get("pids_max")
    rows.append(row(cell(t("pids", lang), align="LEFT"),
                    bar(_fraction(pids, pids_max), id=f"cg-{cid}-pids-bar"),
                    cell(f"{pids if pids is not None else '-'} / {pids_max or t('no_limit', lang)}",
                         mono=True, id=f"cg-{cid}-pids", align="RIGHT")))
    usage = s.get("cpu_usage_ns")
    quota = lim.get("cpu_quota")
    quota_text = (f"{quota / lim['cpu_period']:.2f} CPU" if quota else t("no_limit", lang))
    rows.append(row(cell(t("cpu", lang), align="LEFT"),
                    cell(f"{usage / 1e9:.2f} s" if usage is not None else "-", mono=True, id=f"cg-{cid}-cpu"),
                    cell(f"{t('cpu_quota', lang)}: {quota_text}", id=f"cg-{cid}-quota", align="RIGHT")))
    throttled = s.get("cpu_nr_throttled")
    rows.append(row(cell(t("throttled", lang), align="LEFT"),
                    cell(f"{throttled if throttled is not None else '-'} {t('times', lang)}", mono=True,
                         id=f"cg-{cid}-throttled"),
                    cell(f"{t('oom', lang)}: {oom}", id=f"cg-{cid}-oom", bg=WARN if oom else None,
                         align="RIGHT")))
    rows.append(row(cell(t("procs", lang), align="LEFT"),
                    cell(" ".join(map(str, c["procs"][:8])) + (" …" if len(c["procs"]) > 8 else "") or "-",
                         colspan=2, mono=True, id=f"cg-{cid}-procs", align="LEFT")))
    return table(rows)


def _short_path(path: str) -> str:
    """/onggi/<64 hex digits> as /onggi/<12 of them>…: the widest line of the gauges, and the
    short id is the one a learner knows from `onggi ps` (the whole path is its tooltip)."""
    parent, _, name = path.rpartition("/")
    if len(name) == 64 and all(ch in "0123456789abcdef" for ch in name):
        return f"{parent}/{name[:12]}…"
    return path


def _nested(g, parent_node: str, sub: dict) -> None:
    node = f"{parent_node}-{sub['name']}"
    g.node(node, label=table([row(cell(sub["path"], mono=True, bg=PALE)),
                              row(cell(" ".join(map(str, sub["procs"][:8])) or "-", mono=True))]), id=node)
    g.edge(parent_node, node, arrowhead="none")
    for child in sub.get("children", []):
        _nested(g, node, child)


def _fraction(used, limit):
    p = percent(used, limit)
    return None if p is None else p / 100
