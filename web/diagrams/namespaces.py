"""The namespaces view: the host and each container, which namespaces are their own.

For the host (the server's own process) and each container with processes (its
cgroup's ``cgroup.procs``, so a container halfway through a step-through shows
too), the inode behind each /proc/PID/ns/* link: equal inodes mean the same
namespace. Also each process's PID on the host vs inside (NSpid), what its
root filesystem is (mountinfo: overlay after pivot_root), and its capabilities.
Query: ``container=ID`` shows that one only. In simulated mode the model comes
from ``rt.truth`` (the simulated kernel) and the view says it is simulated.
"""
from __future__ import annotations

import os

from runtime.inspect import mounts, namespaces, procs
from runtime.linux.namespaces import ALL_KINDS

from . import short
from .fit import short_cmd
from .html import HEAD, OWN, PALE, SHARED, cell, mark_simulated, new_graph, row, table
from .text import t

MAX_PROCS = 5
CMD_MAX = 300           # the whole command line goes into a tooltip; the cell shows a short one
COLUMNS = 4


def collect(rt, scans, query) -> dict:
    if getattr(rt, "simulated", False):
        return rt.truth.namespaces(query)
    proc = rt.config.proc
    want = query.get("container")
    out = {"host": {"pid": os.getpid(), "ns": namespaces.inodes("self", proc)}, "containers": []}
    for r in rt.containers.list():
        if want and not (r.id.startswith(want) or r.name == want):
            continue
        pids = _pids(rt, r)
        if not pids:
            continue
        rows = []
        for pid in pids[:MAX_PROCS]:
            nspid = procs.nspid(pid, proc)
            if nspid:
                rows.append({"pid": pid, "nspid": nspid, "cmd": " ".join(procs.cmdline(pid, proc))[:CMD_MAX]})
        if not rows:
            continue
        init = next((p["pid"] for p in rows if p["nspid"][-1] == 1), rows[0]["pid"])
        ns = namespaces.inodes(init, proc)
        if not ns:
            continue
        root = None
        try:
            m = mounts.find(mounts.mountinfo(init, proc), "/")
            root = m.fstype if m else None
        except OSError:
            pass
        caps = None
        try:
            c = procs.capabilities(init, proc)
            caps = {"effective": bin(c.get("CapEff", 0)).count("1"), "all": _all_caps(proc),
                    "no_new_privs": bool(c.get("NoNewPrivs"))}
        except OSError:
            pass
        out["containers"].append({"id": r.id, "name": r.name, "ns": ns, "procs": rows,
                                  "more": max(len(pids) - MAX_PROCS, 0), "root": root, "caps": caps})
    return out


def _all_caps(proc) -> int:
    try:
        return int((proc / "sys/kernel/cap_last_cap").read_text()) + 1
    except (OSError, ValueError):
        return 41


def _pids(rt, record) -> list[int]:
    try:
        if rt.cgroups.exists(record.id):
            return rt.cgroups.get(record.id).procs()
    except OSError:
        pass
    state = record.current_state()
    return [state.pid] if state.status.value == "running" and state.pid else []


def draw(model, lang="ko"):
    g = new_graph("namespaces", lang=lang)
    if model.get("simulated"):
        mark_simulated(g, lang)
    host = model["host"]["ns"]
    rows = [row(cell(t("host", lang), bold=True, colspan=3, bg=HEAD, id="ns-host-title", size=13)),
            row(cell(t("host_sub", lang), colspan=3, size=9))]
    for kind in ALL_KINDS:
        if kind in host:
            rows.append(row(cell(kind, align="LEFT", mono=True), cell(t(f"ns_{kind}", lang), align="LEFT"),
                            cell(host[kind], mono=True, id=f"ns-host-{kind}", bg=SHARED)))
    g.node("ns-host", label=table(rows), id="ns-host")
    g.attr(label=t("legend_ns", lang), labelloc="b", fontsize="11")
    if not model["containers"]:
        g.node("ns-empty", label=table([row(cell(t("no_containers", lang), size=12))], cellborder=0),
               id="ns-empty")
        g.edge("ns-host", "ns-empty", style="invis")
    previous = []
    for i, c in enumerate(model["containers"]):
        node = f"ns-{short(c['id'])}"
        g.node(node, label=_container(c, host, lang), id=node)
        # A grid: the first row hangs under the host, each next row under the one above.
        g.edge("ns-host" if i < COLUMNS else previous[i - COLUMNS], node, style="invis")
        previous.append(node)
    return g


def _container(c, host, lang) -> str:
    cid = short(c["id"])
    rows = [row(cell(f"{c['name']}  ({cid})", bold=True, colspan=3, bg=HEAD, id=f"ns-{cid}-title", size=12))]
    for kind in ALL_KINDS:
        inode = c["ns"].get(kind)
        if inode is None:
            continue
        own = inode != host.get(kind)
        rows.append(row(cell(kind, align="LEFT", mono=True),
                        cell(t("own" if own else "shared", lang), align="LEFT", bg=OWN if own else SHARED),
                        cell(inode, mono=True, id=f"ns-{cid}-{kind}", bg=OWN if own else SHARED)))
    rows.append(row(cell(t("pid_host_inside", lang), colspan=3, bg=PALE, size=10)))
    for n, p in enumerate(c["procs"]):
        inside = p["nspid"][-1]
        rows.append(row(cell(f"{p['pid']} → {inside}", mono=True, id=f"ns-{cid}-proc-{n}"),
                        cell(short_cmd(p["cmd"]) if p["cmd"] else "?", colspan=2, align="LEFT", mono=True,
                             id=f"ns-{cid}-cmd-{n}", title=p["cmd"] or "?")))
    if c["more"]:
        rows.append(row(cell(f"+{c['more']}", colspan=3)))
    if c.get("root"):
        rows.append(row(cell(t("root_fs", lang), colspan=2, align="LEFT"),
                        cell(c["root"], mono=True, id=f"ns-{cid}-root",
                             bg=OWN if c["root"] == "overlay" else SHARED)))
    if c.get("caps"):
        caps = c["caps"]
        rows.append(row(cell(t("caps", lang), colspan=2, align="LEFT"),
                        cell(f"{caps['effective']} / {caps['all']}", mono=True, id=f"ns-{cid}-caps")))
        rows.append(row(cell(t("no_new_privs", lang), colspan=2, align="LEFT"),
                        cell("1" if caps["no_new_privs"] else "0", mono=True, id=f"ns-{cid}-nnp")))
    return table(rows)
