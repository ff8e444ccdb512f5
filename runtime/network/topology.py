"""The network as the kernel shows it right now: bridges, veth pairs, each container's
netns with its interfaces and routes, and the published ports (for the web's diagram).

The host's links and addresses come from one pyroute2 dump. Each running
container's netns is read through a netlink socket made inside it
(rtnl.socket_in_netns: setns on this thread only, so a threaded server is safe)
with the launch's own small reader (endpoint.read_netns): pyroute2 costs ~2 ms
per namespace here (its asyncio loop and full attribute decoding), ~45 ms for
twenty containers against the web's 100 ms budget for a whole view; the small
reader costs ~0.1 ms. Ports are the DNAT rules in onggi's nftables table
(``nft -j``). Nothing is taken from onggi's files except which networks exist
and which containers there are, so a bridge deleted by hand, or a veth that
outlived its container, shows as it is. A container shows once it has a
process: a running one by its recorded pid, one halfway through a launch (a
step-through) by the process in its cgroup.
"""
from __future__ import annotations

import socket

from . import endpoint, nft


def read_topology(rt) -> dict:
    """{"networks", "bridges", "veths", "containers", "ports"} (see the web's network view).

    networks:   [{"name", "bridge", "subnet", "gateway", "driver"}]
    bridges:    [{"name", "ifindex", "mac", "state", "addresses": ["10.88.0.1/16"], "network"}]
    veths:      [{"name", "ifindex", "bridge", "alias", "container", "peer_ifindex"}]
    containers: [{"id", "name", "pid", "netns_inode", "network_mode",
                  "interfaces": [{"name", "ifindex", "mac", "addresses", "state", "peer_ifindex"}],
                  "routes": [{"dst", "gateway", "dev"}]}]
    ports:      [{"container", "host_ip", "host_port", "port", "proto"}]
    """
    from pyroute2 import IPRoute
    config = rt.config
    networks = rt.networks.list()
    by_bridge = {n.bridge: n for n in networks if n.bridge}
    with IPRoute() as ipr:
        links = ipr.get_links()
        addrs = _addresses(ipr)
    bridges, veths = [], []
    index_to_bridge = {}
    for link in links:
        name = link.get_attr("IFLA_IFNAME")
        if name in by_bridge and _kind(link) == "bridge":
            index_to_bridge[link["index"]] = name
            bridges.append({"name": name, "ifindex": link["index"], "mac": link.get_attr("IFLA_ADDRESS"),
                            "state": _state(link), "addresses": addrs.get(link["index"], []),
                            "network": by_bridge[name].name})
    for link in links:
        if _kind(link) != "veth":
            continue
        alias = link.get_attr("IFLA_IFALIAS")
        container = endpoint.parse_alias(config.bridge_prefix, alias)
        bridge = index_to_bridge.get(link.get_attr("IFLA_MASTER"))
        if container is None and bridge is None:
            continue                        # someone else's veth
        veths.append({"name": link.get_attr("IFLA_IFNAME"), "ifindex": link["index"], "bridge": bridge,
                      "alias": alias, "container": container, "peer_ifindex": link.get_attr("IFLA_LINK"),
                      "state": _state(link)})
    containers = []
    for record in rt.containers.list():
        pid = _first_process(rt, record)
        if not pid:
            continue
        mode = record.spec.network
        entry = {"id": record.id, "name": record.name, "pid": pid,
                 "netns_inode": endpoint.netns_inode(pid, config.proc), "network_mode": mode,
                 "interfaces": [], "routes": []}
        if mode != "host":
            try:
                entry.update(endpoint.read_netns(rt.syscalls, pid, config.proc))
            except OSError:
                pass                        # it exited while we looked
        containers.append(entry)
    ports = [{"container": p.container, "host_ip": p.host_ip, "host_port": p.host_port,
              "port": p.port, "proto": p.proto, "address": p.address}
             for p in nft.read_published(config.nft_table)]
    return {"networks": [{"name": n.name, "bridge": n.bridge or None, "subnet": n.subnet or None,
                          "gateway": n.gateway or None, "driver": n.driver} for n in networks],
            "bridges": bridges, "veths": veths, "containers": containers, "ports": ports}


def _first_process(rt, record) -> int | None:
    """The container's first process: its recorded pid while it runs; during a launch
    (a step-through paused after ``namespaces``, before the pid is recorded) the
    process its cgroup holds that is PID 1 of its own PID namespace."""
    state = record.current_state()
    if state.status.value == "running" and state.pid:
        return state.pid
    try:
        if not rt.cgroups.exists(record.id):
            return None
        pids = rt.cgroups.get(record.id).procs()
    except OSError:
        return None
    from ..inspect import procs
    for pid in pids:
        nspid = procs.nspid(pid, rt.config.proc)
        if nspid and nspid[-1] == 1:
            return pid
    return pids[0] if pids else None


def _addresses(ipr) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for a in ipr.get_addr(family=socket.AF_INET):
        out.setdefault(a["index"], []).append(f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}")
    return out


def _kind(link) -> str | None:
    info = link.get_attr("IFLA_LINKINFO")
    return info.get_attr("IFLA_INFO_KIND") if info is not None else None


def _state(link) -> str:
    return (link.get_attr("IFLA_OPERSTATE") or "unknown").lower()
