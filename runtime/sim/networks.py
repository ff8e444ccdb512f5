"""Simulated networks: Docker's network verbs over the world file, with a simulated bridge.

The default network ``bridge`` is what the Config says (``bridge_name``,
``bridge_subnet``), ``host`` and ``none`` are listed as Docker lists them, and
user-defined networks get a /24 from 10.89.0.0/16 unless told, exactly as the
real :class:`~runtime.network.manager.NetworkManager` does; the records are the
same :class:`~runtime.network.store.Network` values. A container on a bridge
network gets an address (the next free one), a MAC made from it, a veth pair
(``vethXXXXXXX`` on the host, ``eth0`` inside) with interface indexes handed out
in order, and a default route through the gateway. Nothing is made in the
kernel: the network diagram and ``ip addr`` inside read these records.
"""
from __future__ import annotations

import ipaddress
import secrets

from runtime import events
from runtime.errors import Conflict, InvalidArgument, NetworkInUse, NetworkNotFound, NotFound, PortInUse
from runtime.network.ipam import default_gateway, mac_for, parse_gateway, parse_subnet
from runtime.network.store import Network, NetworkStore, validate_name

from .ports import port_free
from .state import next_number

AUTO_POOL = ipaddress.IPv4Network("10.89.0.0/16")


class SimNetworks:
    """``rt.networks`` in simulated mode (see NetworkManager for each verb's contract)."""

    def __init__(self, rt):
        self.rt = rt
        self.config = rt.config
        self.publisher = rt.publisher
        self._store = NetworkStore(rt.config)          # only for default() and pseudo(): no I/O

    # -- Docker's verbs ----------------------------------------------------------------------
    def list(self) -> list[Network]:
        return self._all(self.rt.snapshot())

    def get(self, ref: str, world: dict | None = None) -> Network:
        world = world if world is not None else self.rt.snapshot()
        nets = self._all(world)
        for n in nets:
            if n.name == ref:
                return n
        matches = [n for n in nets if n.id == ref] or \
                  ([n for n in nets if n.id.startswith(ref)] if ref and all(c in "0123456789abcdef" for c in ref)
                   else [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"network {ref} is ambiguous ({len(matches)} matches): use more of the id")
        raise NetworkNotFound(f"network {ref} not found")

    def create(self, name: str, subnet: str | None = None, gateway: str | None = None,
               labels: dict | None = None) -> Network:
        validate_name(name)
        with self.rt.world.edit() as world:
            if name in world["networks"]:
                raise Conflict(f"network with name {name} already exists",
                               hint="choose another name, or remove it with 'onggi network rm'")
            used = [ipaddress.IPv4Network(n.subnet) for n in self._bridges(world)]
            net_subnet = parse_subnet(subnet) if subnet else self._free(used)
            for other in self._bridges(world):
                if net_subnet.overlaps(ipaddress.IPv4Network(other.subnet)):
                    raise Conflict(f"invalid subnet {net_subnet}: it overlaps network {other.name} "
                                   f"({other.subnet})", hint="choose another --subnet")
            gw = parse_gateway(gateway, net_subnet) if gateway else default_gateway(net_subnet)
            net = self._store.new(name, net_subnet, gw, labels)
            world["networks"][name] = net.to_dict()
            self._bridge_index(world, net.bridge)
        self.publisher.publish(events.NetworkCreated(id=net.id, name=net.name, bridge=net.bridge,
                                                     subnet=net.subnet))
        return net

    def remove(self, ref: str) -> None:
        with self.rt.world.edit() as world:
            net = self.get(ref, world)
            if net.builtin:
                raise Conflict(f"{net.name} is a pre-defined network and cannot be removed")
            live = [c["name"] for c in world["containers"].values() if c["state"]["status"] == "running"
                    and any(ep["network"] == net.name for ep in c.get("net", {}).get("endpoints", []))]
            if live:
                raise NetworkInUse(f"error while removing network: network {net.name} id {net.short_id} "
                                   f"has active endpoints ({', '.join(sorted(live))})")
            del world["networks"][net.name]
            world.setdefault("bridges", {}).pop(net.bridge, None)
            for c in world["containers"].values():
                if net.name in c.get("networks", []):
                    c["networks"].remove(net.name)
        self.publisher.publish(events.NetworkRemoved(id=net.id, name=net.name))

    def prune_networks(self) -> list[str]:
        removed = []
        for net in self.list():
            if net.builtin:
                continue
            try:
                self.remove(net.name)
                removed.append(net.name)
            except (NetworkInUse, NetworkNotFound):
                continue
        return removed

    def inspect(self, ref: str) -> dict:
        world = self.rt.snapshot()
        net = self.get(ref, world)
        containers = {}
        for c in world["containers"].values():
            for ep in c.get("net", {}).get("endpoints", []) if c["state"]["status"] == "running" else []:
                if ep["network"] == net.name:
                    containers[c["id"]] = {"Name": c["name"], "EndpointID": ep["endpoint"],
                                           "MacAddress": ep["mac"], "IPv4Address": ep["address"],
                                           "IPv6Address": "", "HostVeth": ep["veth"],
                                           "ContainerVeth": ep["ifname"], "Ports": ep.get("ports", [])}
        doc = {"Name": net.name, "Id": net.id, "Created": net.created or "0001-01-01T00:00:00Z",
               "Scope": "local", "Driver": net.driver, "EnableIPv6": False,
               "IPAM": {"Driver": "default", "Options": {},
                        "Config": [{"Subnet": net.subnet, "Gateway": net.gateway}] if net.subnet else []},
               "Internal": False, "Attachable": False, "Ingress": False, "ConfigFrom": {"Network": ""},
               "ConfigOnly": False, "Containers": containers,
               "Options": {"com.docker.network.bridge.name": net.bridge} if net.bridge else {},
               "Labels": dict(net.labels), "Simulated": True}
        if net.is_bridge:
            index = world.get("bridges", {}).get(net.bridge)
            doc["Bridge"] = {"Name": net.bridge, "Exists": index is not None, "Simulated": True}
            if index is not None:
                doc["Bridge"].update(Ifindex=index, MacAddress=_bridge_mac(net.bridge), State="up",
                                     Ports=sorted(v["HostVeth"] for v in containers.values()))
        return doc

    def connect(self, ref: str, container) -> dict:
        cid = self._container_id(container)
        with self.rt.world.edit() as world:
            net = self.get(ref, world)
            c = world["containers"][cid]
            mode = c["spec"]["network"]
            if not net.is_bridge:
                raise Conflict(f"cannot connect container {c['name']} to the {net.name} network",
                               hint="connect it to a bridge network ('onggi network ls')")
            if mode in ("none", "host") or mode.startswith("container:"):
                raise Conflict(f"cannot connect container {c['name']} to network {net.name}: it uses --network {mode}",
                               hint="only containers on bridge networks can join other bridge networks")
            names = c.setdefault("networks", [mode])
            if net.name in names:
                raise Conflict(f"endpoint with name {c['name']} already exists in network {net.name}")
            names.append(net.name)
            if c["state"]["status"] != "running":
                return {}
            ep = self.attach(world, c, net.name, ifname=f"eth{len(c['net']['endpoints'])}", ports=())
            return dict(ep)

    def disconnect(self, ref: str, container, force: bool = False) -> None:
        cid = self._container_id(container)
        with self.rt.world.edit() as world:
            net = self.get(ref, world)
            c = world["containers"][cid]
            names = c.setdefault("networks", [c["spec"]["network"]])
            if net.name not in names:
                if not force:
                    raise NotFound(f"container {c['name']} is not connected to network {net.name}")
            else:
                names.remove(net.name)
            self.detach(world, c, only=net.name)

    # -- what containers ask ----------------------------------------------------------------
    def validate(self, spec) -> None:
        mode = spec.network
        if mode.startswith("container:"):
            ref = mode.split(":", 1)[1]
            self.rt.containers.get(ref)
            if spec.ports:
                raise InvalidArgument("conflicting options: port publishing and the container type network mode",
                                      hint="publish the ports on the container it joins")
            return
        net = self.get(mode)
        if not net.is_bridge:
            raise InvalidArgument(f"invalid network '{mode}'")
        taken = self._published(self.rt.snapshot())
        for p in spec.ports:
            if p.host_port and (p.host_port, p.proto) in taken:
                raise PortInUse(f"port {p.host_port}/{p.proto} is already published by another container")
            if p.host_port and p.proto == "tcp" and not port_free(p.host_port):
                # The simulated port answers on the real 127.0.0.1 (see ports.py).
                raise PortInUse(f"port {p.host_port}/tcp is already in use on this machine")

    def networks_of(self, record) -> list[str]:
        c = record if isinstance(record, dict) else self.rt.snapshot()["containers"].get(record.id, {})
        return list(c.get("networks") or [c.get("spec", {}).get("network", "none")])

    def attach(self, world: dict, c: dict, name: str, *, ifname: str, ports) -> dict:
        """Lease an address on NAME for container record C (in WORLD) and wire a simulated veth pair."""
        net = self.get(name, world)
        subnet = ipaddress.IPv4Network(net.subnet)
        leases = world.setdefault("leases", {}).setdefault(net.name, {})
        gateway = ipaddress.IPv4Address(net.gateway)
        address = next((a for a in subnet.hosts() if a != gateway and str(a) not in leases), None)
        if address is None:
            raise Conflict(f"no free address left in network {net.name} ({net.subnet})",
                           hint="remove containers from it, or make a network with a larger --subnet")
        leases[str(address)] = c["id"]
        bridge_index = self._bridge_index(world, net.bridge)
        veth_index = next_number(world, "ifindex")
        mappings = []
        used = self._published(world)
        for p in ports:
            host_port = p.host_port or _free_port(used)
            used.add((host_port, p.proto))
            mappings.append([p.host_ip or "0.0.0.0", host_port, p.port, p.proto])
        ep = {"network": net.name, "network_id": net.id, "bridge": net.bridge, "bridge_ifindex": bridge_index,
              "address": f"{address}/{subnet.prefixlen}", "gateway": net.gateway, "mac": mac_for(address),
              "veth": "veth" + secrets.token_hex(4)[:7], "veth_ifindex": veth_index,
              "ifname": ifname, "ifindex": 2 + len(c.setdefault("net", {}).setdefault("endpoints", [])),
              "endpoint": secrets.token_hex(32), "ports": mappings}
        c["net"]["endpoints"].append(ep)
        self.publisher.publish(events.NetworkConnected(
            id=net.id, network=net.name, container=c["id"], host_veth=ep["veth"], container_veth=ifname,
            address=ep["address"]))
        return ep

    def detach(self, world: dict, c: dict, only: str | None = None) -> None:
        """Release container record C's addresses (on every network, or only one)."""
        kept = []
        for ep in c.get("net", {}).get("endpoints", []):
            if only is not None and ep["network"] != only:
                kept.append(ep)
                continue
            world.get("leases", {}).get(ep["network"], {}).pop(ep["address"].split("/")[0], None)
            self.publisher.publish(events.NetworkDisconnected(id=ep["network_id"], network=ep["network"],
                                                              container=c["id"]))
        if "net" in c:
            c["net"]["endpoints"] = kept

    def release(self, record) -> None:
        with self.rt.world.edit() as world:
            c = world["containers"].get(_cid(record))
            if c is not None:
                self.detach(world, c)

    def published_ports(self, container_id: str) -> list[tuple]:
        c = self.rt.snapshot()["containers"].get(container_id, {})
        return [tuple(p) for ep in c.get("net", {}).get("endpoints", []) for p in ep.get("ports", [])]

    def inspect_container(self, container) -> dict:
        """Docker's NetworkSettings for ``inspect CONTAINER``."""
        world = self.rt.snapshot()
        c = world["containers"][container.id]
        running = c["state"]["status"] == "running"
        doc = {"Bridge": "", "SandboxID": "", "SandboxKey": f"/proc/{c['state']['pid']}/ns/net" if running else "",
               "HairpinMode": False, "Ports": {}, "IPAddress": "", "Gateway": "", "IPPrefixLen": 0,
               "MacAddress": "", "Networks": {}}
        if c["spec"]["network"].startswith("container:"):
            return doc
        eps = {ep["network"]: ep for ep in c.get("net", {}).get("endpoints", [])} if running else {}
        for name in self.networks_of(c):
            try:
                net = self.get(name, world)
            except NetworkNotFound:
                continue
            ep = eps.get(name)
            address, _, prefix = (ep["address"].partition("/") if ep else ("", "", "0"))
            entry = {"IPAMConfig": None, "Links": None, "Aliases": None, "NetworkID": net.id,
                     "EndpointID": ep["endpoint"] if ep else "", "Gateway": net.gateway if ep else "",
                     "IPAddress": address, "IPPrefixLen": int(prefix or 0), "IPv6Gateway": "",
                     "GlobalIPv6Address": "", "GlobalIPv6PrefixLen": 0, "MacAddress": ep["mac"] if ep else "",
                     "DriverOpts": None, "HostVeth": ep["veth"] if ep else "", "ContainerVeth": ep["ifname"] if ep else ""}
            doc["Networks"][name] = entry
            if ep and not doc["IPAddress"]:
                doc.update(IPAddress=address, Gateway=net.gateway, IPPrefixLen=int(prefix),
                           MacAddress=ep["mac"], Bridge=net.bridge)
                for host_ip, host_port, port, proto in ep.get("ports", []):
                    doc["Ports"].setdefault(f"{port}/{proto}", []).append({"HostIp": host_ip, "HostPort": str(host_port)})
        return doc

    def prune(self, live_ids) -> list[str]:
        """Leases of containers that are not running (a crashed simulation leaves none, but be sure)."""
        done = []
        with self.rt.world.edit() as world:
            for name, leases in world.get("leases", {}).items():
                for address, cid in list(leases.items()):
                    c = world["containers"].get(cid)
                    if c is None or c["state"]["status"] != "running":
                        del leases[address]
                        done.append(f"Deleted stale lease: {address} on network {name} (container {cid[:12]})")
        return done

    # -- internals ------------------------------------------------------------------------------
    def _container_id(self, container) -> str:
        return self.rt.containers.get(container).id if isinstance(container, str) else _cid(container)

    def _all(self, world: dict) -> list[Network]:
        users = []
        for d in world["networks"].values():
            d = dict(d, labels=tuple(sorted((d.get("labels") or {}).items())))
            users.append(Network(**{k: v for k, v in d.items() if k in Network._fields}))
        return [self._store.default(), self._store.pseudo("host"), self._store.pseudo("none")] + \
            sorted(users, key=lambda n: n.name)

    def _bridges(self, world: dict) -> list[Network]:
        return [n for n in self._all(world) if n.is_bridge]

    def _free(self, used) -> ipaddress.IPv4Network:
        for candidate in AUTO_POOL.subnets(new_prefix=24):
            if not any(candidate.overlaps(u) for u in used):
                return candidate
        raise Conflict(f"no free /24 left in {AUTO_POOL} for a new network", hint="give one with --subnet")

    @staticmethod
    def _bridge_index(world: dict, bridge: str) -> int:
        bridges = world.setdefault("bridges", {})
        if bridge not in bridges:
            bridges[bridge] = next_number(world, "ifindex")
        return bridges[bridge]

    @staticmethod
    def _published(world: dict) -> set:
        return {(p[1], p[3]) for c in world["containers"].values() if c["state"]["status"] == "running"
                for ep in c.get("net", {}).get("endpoints", []) for p in ep.get("ports", [])}


def _cid(container) -> str:
    if isinstance(container, str):
        return container
    if isinstance(container, dict):
        return container["id"]
    return container.id


def _free_port(used: set) -> int:
    port = 32768
    while any(p == port for p, _ in used):
        port += 1
    return port


def _bridge_mac(name: str) -> str:
    import hashlib
    raw = hashlib.sha256(name.encode()).digest()
    return "02:" + ":".join(f"{b:02x}" for b in raw[:5])
