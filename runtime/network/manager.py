"""NetworkManager: Docker's network verbs, and what a container launch asks of networks.

One object per Runtime (``rt.networks``). It owns the network records and leases
(store.py, ipam.py), the bridges (bridge.py), the endpoints (endpoint.py) and the
nftables table (nft.py), and is the only place that changes them together,
always under the networks lock, so that records, leases, /etc/hosts files and
rules agree.

It knows containers only through the ContainerStore it is given (records with
``id``, ``name``, ``dir``, ``process.hostname``, ``current_state()`` and
``monitor_alive()``); it never imports the container package.

Importing this module is cheap: pyroute2 is imported only by the functions that
make or remove bridges, prune and draw the topology, never on a container's
launch or exit path.
"""
from __future__ import annotations

import ipaddress
import json
import os
import secrets

from .. import events
from ..files import write_json
from ..errors import (Conflict, ContainerNotFound, InvalidArgument, NetworkInUse, NetworkNotFound,
                      NotFound)
from . import bridge, endpoint, hosts, ports as portmod
from .ipam import Lease, mac_for, overlaps, parse_gateway, parse_subnet, default_gateway
from .store import Network, NetworkStore, validate_name

AUTO_POOL = ipaddress.IPv4Network("10.89.0.0/16")     # user networks without --subnet: its /24s
EXTRA_NETWORKS = "networks.json"                      # in a container's dir, after connect/disconnect


class NetworkManager:
    def __init__(self, config, *, publisher=None, containers=None, syscalls=None):
        self.config = config
        self.publisher = publisher if publisher is not None else events.NullPublisher()
        self.containers = containers
        self._syscalls = syscalls
        self.store = NetworkStore(config)

    @property
    def syscalls(self):
        if self._syscalls is None:
            from ..linux.syscalls import Syscalls
            self._syscalls = Syscalls()
        return self._syscalls

    # === Docker's verbs =====================================================================
    def list(self) -> list[Network]:
        """bridge, host, none, then the user-defined networks (``network ls``)."""
        return self.store.list()

    def get(self, ref: str) -> Network:
        return self.store.get(ref)

    def create(self, name: str, subnet: str | None = None, gateway: str | None = None,
               labels: dict | None = None) -> Network:
        """``network create [--subnet CIDR] [--gateway IP] NAME``: the record, the bridge, the rules."""
        validate_name(name)
        with self.store.lock():
            if any(n.name == name for n in self.store.user_networks()):
                raise Conflict(f"network with name {name} already exists",
                               hint="choose another name, or remove it with 'onggi network rm'")
            net_subnet = parse_subnet(subnet) if subnet else self._free_subnet()
            gw = parse_gateway(gateway, net_subnet) if gateway else default_gateway(net_subnet)
            self._check_overlap(net_subnet, mine=None)
            net = self.store.new(name, net_subnet, gw, labels)
            self.store.add(net)
            try:
                self._make_bridge(net)
            except BaseException:
                self.store.remove(net)
                self._remove_bridge(net)
                raise
        self.publisher.publish(events.NetworkCreated(id=net.id, name=net.name, bridge=net.bridge,
                                                     subnet=net.subnet))
        return net

    def remove(self, ref: str) -> None:
        """``network rm``: refuses while a running container is attached; removes bridge and rules."""
        net = self.get(ref)
        if net.builtin:
            raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
        with self.store.lock():
            table = self.store.leases(net)
            live = [lease for lease in table.leases.values() if self._alive(lease.container)]
            if live:
                names = ", ".join(sorted(lease.name or lease.container[:12] for lease in live))
                raise NetworkInUse(f"error while removing network: network {net.name} id {net.short_id} "
                                   f"has active endpoints ({names})")
            self.store.remove(net)
            self._remove_bridge(net)
        self.publisher.publish(events.NetworkRemoved(id=net.id, name=net.name))

    def prune_networks(self) -> list[str]:
        """``network prune``: remove every user-defined network no running container uses."""
        removed = []
        for net in self.store.user_networks():
            try:
                self.remove(net.name)
                removed.append(net.name)
            except (NetworkInUse, NetworkNotFound):
                continue
        return removed

    def inspect(self, ref: str) -> dict:
        """``network inspect``: Docker's document, plus the bridge as the kernel shows it now."""
        net = self.get(ref)
        containers = {}
        if net.is_bridge:
            prefix = net.ip_network.prefixlen
            for lease in self.store.leases(net).leases.values():
                if not self._alive(lease.container):
                    continue
                containers[lease.container] = {
                    "Name": lease.name, "EndpointID": lease.endpoint, "MacAddress": lease.mac,
                    "IPv4Address": f"{lease.address}/{prefix}", "IPv6Address": "",
                    "HostVeth": lease.veth, "ContainerVeth": lease.ifname,
                    "Ports": [portmod.text(*p) for p in lease.ports]}
        doc = {
            "Name": net.name, "Id": net.id, "Created": net.created or "0001-01-01T00:00:00Z",
            "Scope": "local", "Driver": net.driver, "EnableIPv6": False,
            "IPAM": {"Driver": "default", "Options": {},
                     "Config": [{"Subnet": net.subnet, "Gateway": net.gateway}] if net.subnet else []},
            "Internal": False, "Attachable": False, "Ingress": False,
            "ConfigFrom": {"Network": ""}, "ConfigOnly": False,
            "Containers": containers,
            "Options": {"com.docker.network.bridge.name": net.bridge} if net.bridge else {},
            "Labels": dict(net.labels),
        }
        if net.is_bridge:
            doc["Bridge"] = self._bridge_now(net)
        return doc

    def connect(self, ref: str, container) -> dict:
        """``network connect NET CONTAINER``: now if it runs (a new ethN), and at every start."""
        net = self.get(ref)
        record = self._record(container)
        mode = record.spec.network
        if not net.is_bridge:
            raise Conflict(f"cannot connect container {record.name} to the {net.name} network",
                           hint="connect it to a bridge network ('onggi network ls')")
        if mode in ("none", "host") or mode.startswith("container:"):
            raise Conflict(f"cannot connect container {record.name} to network {net.name}: "
                           f"it uses --network {mode}",
                           hint="only containers on bridge networks can join other bridge networks")
        with self.store.lock():
            names = self.networks_of(record)
            if net.name in names:
                raise Conflict(f"endpoint with name {record.name} already exists in network {net.name}")
            self._save_networks_of(record, names + [net.name])
        state = record.current_state()
        if state.status.value != "running" or not state.pid:
            return {}
        ifname = endpoint.next_ifname(self.syscalls, state.pid, self.config.proc)
        try:
            report = self.attach(net.name, record, state.pid, ifname=ifname, default_route=False)
            return {**report, **self.read_back(state.pid, [report])}
        except BaseException:
            self.detach(record, only=net.name)
            with self.store.lock():
                self._save_networks_of(record, [n for n in self.networks_of(record) if n != net.name])
            raise

    def disconnect(self, ref: str, container, force: bool = False) -> None:
        """``network disconnect NET CONTAINER``: its veth (if running) and lease go at once."""
        net = self.get(ref)
        record = self._record(container)
        with self.store.lock():
            names = self.networks_of(record)
            if net.name not in names:
                if not force:
                    raise NotFound(f"container {record.name} is not connected to network {net.name}")
            else:
                self._save_networks_of(record, [n for n in names if n != net.name])
        gone = self.detach(record, only=net.name)
        for _net, lease in gone:
            if lease.veth:
                endpoint.unwire(lease.veth)

    # === what containers ask =====================================================================
    def validate(self, spec) -> None:
        """Before a container is created: its network exists, its -p host ports are free."""
        mode = spec.network
        if mode.startswith("container:"):
            ref = mode.split(":", 1)[1]
            self.container_record(ref)
            if spec.ports:
                raise InvalidArgument("conflicting options: port publishing and the container type "
                                      "network mode", hint="publish the ports on the container it joins")
            return
        net = self.get(mode)
        if not net.is_bridge:
            raise InvalidArgument(f"invalid network '{mode}'")
        published = self._published() if spec.ports else []
        for mapping in spec.ports:
            portmod.check_unpublished(mapping, published)
            portmod.probe(mapping)

    def plugin_for(self, spec):
        """The launch's network plugin for --network bridge|NAME|container:NAME."""
        from .plugins import BridgePlugin, JoinPlugin
        if spec.network.startswith("container:"):
            return JoinPlugin(self, spec.network.split(":", 1)[1])
        return BridgePlugin(self, spec)

    def networks_of(self, record) -> list[str]:
        """The networks a container is on: --network's, changed by connect/disconnect."""
        try:
            return list(json.loads((record.dir / EXTRA_NETWORKS).read_text()))
        except (OSError, ValueError):
            return [record.spec.network]

    def attach(self, name: str, record, pid: int, *, ifname: str, default_route: bool,
               ports=(), sockets: list | None = None) -> dict:
        """Lease an address on network name and wire pid's netns to its bridge; the kernel's view."""
        net = self.get(name)
        if not net.is_bridge:
            raise InvalidArgument(f"invalid network '{name}'")
        bridge_index = self._bridge_index(net)
        held = []
        with self.store.lock():
            tables = self.store.all_leases()
            table = tables[net.name][1]
            stale = table.release(record.id)      # a previous run's, never released (killed monitor)
            published = self._published(tables) if ports else []
            mappings = []
            try:
                for m in ports:
                    portmod.check_unpublished(m, published)
                    sock = portmod.reserve(m)
                    held.append(sock)
                    mappings.append((m.host_ip or "0.0.0.0", sock.getsockname()[1], m.port, m.proto))
            except BaseException:
                for sock in held:
                    sock.close()
                raise
            veth = endpoint.new_veth_name()

            def lease_for(address) -> Lease:
                return Lease(address=str(address), container=record.id, name=record.name,
                             hostname=record.process.hostname, endpoint=secrets.token_hex(32), veth=veth,
                             ifname=ifname, mac=mac_for(address), ports=tuple(mappings),
                             hosts_file=str(record.dir / "hosts"))
            gateway = ipaddress.IPv4Address(net.gateway)
            try:
                lease = table.take(net.ip_network, gateway, lease_for)
            except Conflict:
                # The subnet looks full: free the leases of containers that have no
                # monitor any more (a reboot, a killed monitor), then try once more.
                for dead in [x for x in table.leases.values() if not self._alive(x.container)]:
                    del table.leases[dead.address]
                lease = table.take(net.ip_network, gateway, lease_for)
            self.store.save_leases(net, table)
            if sockets is not None:
                sockets.extend(held)
            if mappings or stale:
                self._apply_nft(tables)
            self._refresh_hosts(tables, {record.id} | (set(
                lease.container for lease in table.leases.values()) if net.user_defined else set()))
        address = ipaddress.IPv4Interface(f"{lease.address}/{net.ip_network.prefixlen}")
        host_veth = endpoint.wire(self.syscalls, pid=pid, veth=veth, ifname=ifname, mac=lease.mac,
                                  bridge_index=bridge_index, address=address,
                                  gateway=net.gateway if default_route else None,
                                  alias_text=endpoint.alias(self.config.bridge_prefix, record.id),
                                  proc=self.config.proc)
        self.publisher.publish(events.NetworkConnected(
            id=net.id, network=net.name, container=record.id, host_veth=veth, container_veth=ifname,
            address=str(address)))
        return {"network": net.name, "network_id": net.id, "bridge": net.bridge,
                "bridge_ifindex": bridge_index, "address": str(address), "gateway": net.gateway,
                "mac": lease.mac, "ports": [portmod.text(*p) for p in mappings],
                "host_veth": host_veth, "container_veth": {"name": ifname}}

    def read_back(self, pid: int, endpoints: list[dict]) -> dict:
        """pid's netns as the kernel shows it now; fills each endpoint's container_veth."""
        view = endpoint.read_netns(self.syscalls, pid, self.config.proc)
        by_name = {i["name"]: i for i in view["interfaces"]}
        for ep in endpoints:
            ep["container_veth"] = by_name.get(ep["container_veth"]["name"], ep["container_veth"])
        return view

    def detach(self, record, *, only: str | None = None, sockets: list | None = None) -> list:
        """Release the container's leases (on every network, or only one): addresses, ports,
        names in its peers' /etc/hosts. Veths are left to the kernel (see endpoint.py)."""
        gone = []
        with self.store.lock():
            tables = self.store.all_leases()
            touched = set()
            for name, (net, table) in tables.items():
                if only is not None and name != only:
                    continue
                released = table.release(record.id)
                if released:
                    self.store.save_leases(net, table)
                    gone += [(net, lease) for lease in released]
                    if net.user_defined:
                        touched |= {lease.container for lease in table.leases.values()}
            if any(lease.ports for _n, lease in gone):
                self._apply_nft(tables)
            self._refresh_hosts(tables, touched)
            if only is not None and gone:       # still running: its own file loses those lines
                hosts.rewrite(gone[0][1].hosts_file, hosts.entries_for(record.id, self._ordered(tables)))
        for sock in sockets or ():
            sock.close()
        if sockets:
            sockets.clear()
        for net, lease in gone:
            self.publisher.publish(events.NetworkDisconnected(id=net.id, network=net.name,
                                                              container=record.id))
        return gone

    def release(self, record) -> None:
        """The container is being removed: nothing of it may stay in the networks' state."""
        self.detach(record)

    def published_ports(self, container_id: str) -> list[tuple]:
        """(host_ip, host_port, port, proto) a running container publishes, as leased."""
        return [p for _n, t in self.store.all_leases().values() for lease in t.of(container_id)
                for p in lease.ports]

    def inspect_container(self, container) -> dict:
        """Docker's NetworkSettings for ``inspect CONTAINER``."""
        record, state = container.record, container.state
        running = state.status.value == "running" and bool(state.pid)
        mode = record.spec.network
        sandbox = endpoint.netns_path(state.pid, self.config.proc) if running else ""
        doc = {"Bridge": "", "SandboxID": "", "SandboxKey": sandbox, "HairpinMode": False, "Ports": {},
               "IPAddress": "", "Gateway": "", "IPPrefixLen": 0, "MacAddress": "", "Networks": {}}
        if mode.startswith("container:"):
            return doc
        for name in self.networks_of(record):
            try:
                net = self.get(name)
            except NetworkNotFound:
                continue
            lease = None
            if running and net.is_bridge:
                lease = next(iter(self.store.leases(net).of(record.id)), None)
            entry = {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": net.id,
                     "EndpointID": lease.endpoint if lease else "",
                     "Gateway": net.gateway if lease else "", "IPAddress": lease.address if lease else "",
                     "IPPrefixLen": net.ip_network.prefixlen if lease else 0, "IPv6Gateway": "",
                     "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0,
                     "MacAddress": lease.mac if lease else "", "DriverOpts": None,
                     "HostVeth": lease.veth if lease else "", "ContainerVeth": lease.ifname if lease else ""}
            doc["Networks"][name] = entry
            if lease and not doc["IPAddress"]:
                doc.update(IPAddress=entry["IPAddress"], Gateway=entry["Gateway"],
                           IPPrefixLen=entry["IPPrefixLen"], MacAddress=entry["MacAddress"],
                           Bridge=net.bridge)
                for host_ip, host_port, port, proto in lease.ports:
                    doc["Ports"].setdefault(f"{port}/{proto}", []).append(
                        {"HostIp": host_ip, "HostPort": str(host_port)})
        return doc

    def prune(self, live_ids) -> list[str]:
        """``system prune``: leases of containers with no monitor, veths of ours with no container."""
        live = set(live_ids)
        done = []
        with self.store.lock():
            tables = self.store.all_leases()
            stale = []
            for _name, (net, table) in tables.items():
                dead = [lease for lease in table.leases.values()
                        if lease.container not in live and not self._alive(lease.container)]
                for lease in dead:
                    del table.leases[lease.address]
                    stale.append((net, lease))
                if dead:
                    self.store.save_leases(net, table)
            if any(lease.ports for _n, lease in stale):
                self._apply_nft(tables)
            self._refresh_hosts(tables, {lease.container for _n, t in tables.values()
                                         for lease in t.leases.values()} if stale else set())
        done += [f"Deleted stale lease: {lease.address} on network {net.name} "
                 f"(container {lease.container[:12]})" for net, lease in stale]
        for name in self._orphan_veths(live):
            done.append(f"Deleted orphan veth: {name}")
        return done

    def container_record(self, ref: str):
        if self.containers is None:
            raise ContainerNotFound(f"no such container: {ref}")
        return self.containers.get(ref)

    # === internals ================================================================================
    def _record(self, container):
        if isinstance(container, str):
            return self.container_record(container)
        return getattr(container, "record", container)

    def _save_networks_of(self, record, names: list[str]) -> None:
        write_json(record.dir / EXTRA_NETWORKS, names, indent=None)

    def _alive(self, container_id: str) -> bool:
        """Does the container still have a monitor (running, or still launching)?"""
        if self.containers is None:
            return True
        try:
            return self.containers.load(container_id).monitor_alive()
        except (ContainerNotFound, OSError):
            return False

    def _published(self, tables=None) -> list[tuple]:
        """Host ports held by containers that still have a monitor (a dead one's lease holds none)."""
        tables = tables if tables is not None else self.store.all_leases()
        return [p for _n, t in tables.values() for lease in t.leases.values()
                if lease.ports and self._alive(lease.container) for p in lease.ports]

    def _refresh_hosts(self, tables, containers) -> None:
        """Rewrite the /etc/hosts of these containers from the leases (under the lock)."""
        if not containers:
            return
        files = {lease.container: lease.hosts_file for _n, t in tables.values()
                 for lease in t.leases.values() if lease.hosts_file}
        ordered = self._ordered(tables)
        for cid in containers:
            path = files.get(cid)
            if path:
                hosts.rewrite(path, hosts.entries_for(cid, ordered))

    @staticmethod
    def _ordered(tables) -> list:
        """(network, leases) pairs, the default network first (its address comes first in hosts)."""
        return [tables[name] for name in sorted(tables, key=lambda n: (n != "bridge", n))]

    def _free_subnet(self) -> ipaddress.IPv4Network:
        used = [n.ip_network for n in self.store.bridges()] + [r for r, _dev in bridge.host_routes(self.config.proc)]
        for candidate in AUTO_POOL.subnets(new_prefix=24):
            if overlaps(candidate, used) is None:
                return candidate
        raise Conflict(f"no free /24 left in {AUTO_POOL} for a new network", hint="give one with --subnet")

    def _check_overlap(self, subnet: ipaddress.IPv4Network, mine: Network | None) -> None:
        hint = ("set another subnet for the default network with ONGGI_BRIDGE_SUBNET"
                if mine is not None and mine.builtin else "choose another --subnet")
        for net in self.store.bridges():
            if mine is not None and net.name == mine.name:
                continue
            if subnet.overlaps(net.ip_network):
                raise Conflict(f"invalid subnet {subnet}: it overlaps network {net.name} ({net.subnet})",
                               hint=hint)
        own = {mine.bridge} if mine is not None else set()
        for route, dev in bridge.host_routes(self.config.proc):
            if dev not in own and subnet.overlaps(route):
                raise Conflict(f"invalid subnet {subnet}: it overlaps {route} routed via {dev} on this host",
                               hint=hint)

    def _bridge_index(self, net: Network) -> int:
        """The network's bridge ifindex, making the bridge first if the kernel has none (cheap when it has)."""
        index = bridge.ifindex(net.bridge)
        if index is not None:
            return index
        with self.store.lock():
            index = bridge.ifindex(net.bridge)
            if index is None:
                self._check_overlap(net.ip_network, mine=net)
                index = self._make_bridge(net)
        return index

    def _make_bridge(self, net: Network) -> int:
        index = bridge.create(net.bridge, net.interface)
        # IP forwarding is needed from the first bridge on; remember if it was off,
        # to put it back when the last bridge is gone.
        if bridge.sysctl("net/ipv4/ip_forward", "1") == "0":
            self.store.ip_forward_orig.write_text("0\n")
        self._apply_nft()
        return index

    def _remove_bridge(self, net: Network) -> None:
        from . import nft
        bridge.delete(net.bridge)
        if any(bridge.ifindex(n.bridge) is not None for n in self.store.bridges()):
            self._apply_nft()
            return
        nft.delete(self.config.nft_table)
        orig = self.store.ip_forward_orig
        if orig.exists():
            bridge.sysctl("net/ipv4/ip_forward", orig.read_text().strip())
            orig.unlink()

    def _apply_nft(self, tables=None) -> None:
        from . import nft          # (subprocess and json: only when rules change)
        tables = tables if tables is not None else self.store.all_leases()
        published = [nft.Published(lease.container, hip, hport, lease.address, port, proto)
                     for _n, t in tables.values() for lease in t.leases.values()
                     for hip, hport, port, proto in lease.ports]
        nft.apply(nft.ruleset(self.config.nft_table, self.store.bridges(), published))

    def _bridge_now(self, net: Network) -> dict:
        """The bridge as sysfs shows it this moment (no netlink, so inspect stays cheap)."""
        base = bridge.SYS_CLASS_NET / net.bridge
        index = bridge.ifindex(net.bridge)
        if index is None:
            return {"Name": net.bridge, "Exists": False}

        def read(name):
            try:
                return (base / name).read_text().strip()
            except OSError:
                return ""
        try:
            ports = sorted(os.listdir(base / "brif"))
        except OSError:
            ports = []
        return {"Name": net.bridge, "Exists": True, "Ifindex": index, "MacAddress": read("address"),
                "State": read("operstate"), "Ports": ports}

    def _orphan_veths(self, live: set) -> list[str]:
        """Delete veths of ours (alias, or plugged into our bridge) whose container is gone."""
        from pyroute2 import IPRoute
        from pyroute2.netlink.exceptions import NetlinkError
        ours = {bridge.ifindex(n.bridge) for n in self.store.bridges()} - {None}
        removed = []
        with IPRoute() as ipr:
            for link in ipr.get_links():
                info = link.get_attr("IFLA_LINKINFO")
                if info is None or info.get_attr("IFLA_INFO_KIND") != "veth":
                    continue
                alias = link.get_attr("IFLA_IFALIAS")
                cid = endpoint.parse_alias(self.config.bridge_prefix, alias)
                if cid is None and link.get_attr("IFLA_MASTER") not in ours:
                    continue
                if cid is not None and (cid in live or self._alive(cid)):
                    continue
                try:
                    ipr.link("del", index=link["index"])
                    removed.append(link.get_attr("IFLA_IFNAME"))
                except NetlinkError:
                    continue         # gone meanwhile (its netns was just destroyed)
        return removed
