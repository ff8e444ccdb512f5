"""The network view: bridges, veth pairs, each container's network namespace and ports.

Read from the kernel by ``runtime.network.topology.read_topology`` (netlink in
the host's and each container's netns): the host's bridges with their addresses,
each veth's host end plugged into its bridge, the container end (eth0) inside
the container's netns with its addresses and routes, published ports, and which
network each container is on. Query: ``container=ID`` shows that one only.
In simulated mode the topology comes from ``rt.truth`` (the same shape) and the
view says it is simulated.
"""
from __future__ import annotations

from . import short
from .html import HEAD, NOTE, OWN, PALE, SHARED, cell, mark_simulated, new_graph, row, table
from .text import t


def collect(rt, scans, query) -> dict:
    if getattr(rt, "simulated", False):
        model = rt.truth.topology()
    else:
        try:
            from runtime.network.topology import read_topology
        except ImportError as exc:
            return {"unavailable": f"runtime.network.topology: {exc}"}
        model = read_topology(rt)
    want = query.get("container")
    if want:
        keep = {c["id"] for c in model.get("containers", [])
                if c["id"].startswith(want) or c.get("name") == want}
        model["containers"] = [c for c in model["containers"] if c["id"] in keep]
        model["veths"] = [v for v in model.get("veths", []) if v.get("container") in keep]
        model["ports"] = [p for p in model.get("ports", []) if p.get("container") in keep]
    return model


def draw(model, lang="ko"):
    g = new_graph("network", rankdir="TB", lang=lang)
    if model.get("simulated"):
        mark_simulated(g, lang)
    if model.get("unavailable"):
        g.node("net-unavailable", id="net-unavailable",
               label=table([row(cell(t("net_unavailable", lang), bg=NOTE)),
                            row(cell(model["unavailable"], mono=True, size=9))]))
        return g
    bridges = model.get("bridges", [])
    containers = model.get("containers", [])
    if not bridges and not containers:
        g.node("net-empty", id="net-empty", label=table([row(cell(t("no_network", lang)))], cellborder=0))
        return g
    with g.subgraph(name="cluster_host") as host:
        host.attr(label=t("host", lang), id="net-host", style="rounded", color="#999999",
                  fontsize="13")
        for b in bridges:
            node = f"net-br-{b['name']}"
            rows = [row(cell(f"{t('bridge', lang)} {b['name']}", bold=True, bg=HEAD, id=f"{node}-title")),
                    row(cell(", ".join(b.get("addresses") or []) or "-", mono=True, id=f"{node}-addr")),
                    row(cell(f"{b.get('state', '')}  {t('network', lang)}: {b.get('network') or '-'}",
                             size=9, id=f"{node}-state"))]
            host.node(node, label=table(rows), id=node)
        for v in model.get("veths", []):
            node = f"net-veth-{v['ifindex']}"
            host.node(node, id=node, label=table([row(cell(v["name"], mono=True, bg=PALE,
                                                                 id=f"{node}-name",
                                                                 title=v.get("alias") or v["name"]))]))
            if v.get("bridge"):
                g.edge(f"net-br-{v['bridge']}", node, arrowhead="none", penwidth="2")
    by_ifindex = {}
    for c in containers:
        cid = short(c["id"])
        node = f"net-c-{cid}"
        rows = [row(cell(f"{c.get('name') or cid}  ({cid})", bold=True, colspan=2, bg=HEAD, id=f"{node}-title")),
                row(cell(t("netns", lang), align="LEFT", size=9),
                    cell(c.get("netns_inode") or "-", mono=True, id=f"{node}-netns",
                         bg=OWN if c.get("network_mode") not in ("host",) else SHARED)),
                row(cell(t("network", lang), align="LEFT", size=9),
                    cell(_mode(c.get("network_mode"), lang), id=f"{node}-mode"))]
        for iface in c.get("interfaces", []):
            port = f"if{iface['ifindex']}"
            rows.append(row(cell(iface["name"], mono=True, align="LEFT", port=port),
                            cell(", ".join(iface.get("addresses") or []) or iface.get("state", "-"),
                                 mono=True, id=f"{node}-if-{iface['name']}")))
            if iface.get("peer_ifindex"):
                by_ifindex[iface["peer_ifindex"]] = (node, port)
        for n, r in enumerate(c.get("routes", [])[:4]):
            text = r if isinstance(r, str) else " ".join(str(r.get(k, "")) for k in ("dst", "gateway", "dev")
                                                         if r.get(k))
            rows.append(row(cell(text, colspan=2, mono=True, size=9, id=f"{node}-route-{n}")))
        g.node(node, label=table(rows), id=node)
    for v in model.get("veths", []):
        target = by_ifindex.get(v["ifindex"])
        if target:
            g.edge(f"net-veth-{v['ifindex']}", f"{target[0]}:{target[1]}", arrowhead="none",
                   penwidth="2", color="#3c7dc4", id=f"net-cable-{v['ifindex']}")
    for n, p in enumerate(model.get("ports", [])):
        node = f"net-port-{p['host_ip']}-{p['host_port']}-{p['proto']}"
        g.node(node, id=node, label=table([row(cell(
            f"{p['host_ip']}:{p['host_port']} → {p['port']}/{p['proto']}", mono=True, bg=NOTE))]))
        g.edge(node, f"net-c-{short(p['container'])}", style="dashed", label=t("ports", lang))
    if model.get("simulated"):
        # Keep the band above the host's box: rank=source alone loses to the cluster.
        for b in bridges or containers:
            g.edge("sim-mark", f"net-br-{b['name']}" if bridges else f"net-c-{short(b['id'])}", style="invis")
    return g


def _mode(mode, lang) -> str:
    if mode == "none":
        return t("mode_none", lang)
    if mode == "host":
        return t("mode_host", lang)
    return mode or "-"
