"""IPAM: which address each container gets on a network, and the file that remembers it.

The choice is pure (:func:`allocate`): the lowest host address of the subnet
that is neither the network address, the broadcast address, the gateway nor
already leased. Lowest-free keeps addresses small and predictable for a learner;
reusing a freed address is safe because a container's MAC address is derived
from its IP (:func:`mac_for`), so no neighbour keeps a stale ARP entry for it.

Leases are persisted per network in ``leases.json`` (see store.py) and changed
only under the networks lock (flock), so twenty ``onggi run`` started at once
never get the same address; the file survives restarts of onggi and the host.
A lease is taken when a container is wired (launch, or ``network connect``) and
released when it stops, is disconnected, or is removed; ``system prune`` drops
leases whose container has no monitor left.
"""
from __future__ import annotations

import ipaddress
from typing import NamedTuple

from ..errors import Conflict, InvalidArgument


class Lease(NamedTuple):
    """One container's endpoint on one network: its address and what was made for it."""
    address: str                  # "10.88.0.2"
    container: str                # full container id
    name: str = ""                # container name (resolvable by peers on user networks)
    hostname: str = ""
    endpoint: str = ""            # endpoint id (Docker's EndpointID)
    veth: str = ""                # host end of the veth pair
    ifname: str = ""              # the container's end, inside its netns (eth0...)
    mac: str = ""
    ports: tuple = ()             # ((host_ip, host_port, port, proto), ...) published
    hosts_file: str = ""          # the container's /etc/hosts on the host (rewritten for peers)

    def to_dict(self) -> dict:
        d = self._asdict()
        d["ports"] = [list(p) for p in self.ports]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Lease":
        known = {k: v for k, v in d.items() if k in cls._fields}
        known["ports"] = tuple(tuple(p) for p in known.get("ports", ()))
        return cls(**known)


def parse_subnet(text: str) -> ipaddress.IPv4Network:
    """A CIDR as given to --subnet; host bits must be zero, as Docker requires."""
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError:
        raise InvalidArgument(f"invalid subnet '{text}': use an IPv4 CIDR such as 10.89.0.0/24") from None
    if net.prefixlen > 30:
        raise InvalidArgument(f"invalid subnet '{text}': it leaves no room for containers",
                              hint="use a prefix of /30 or shorter, e.g. /24")
    return net


def default_gateway(subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    """The first host address, as Docker and podman choose it."""
    return subnet.network_address + 1


def parse_gateway(text: str, subnet: ipaddress.IPv4Network) -> ipaddress.IPv4Address:
    try:
        gw = ipaddress.IPv4Address(text)
    except ValueError:
        raise InvalidArgument(f"invalid gateway '{text}': use an IPv4 address") from None
    if gw not in subnet or gw in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(f"invalid gateway '{text}': it is not a host address of {subnet}")
    return gw


def allocate(subnet: ipaddress.IPv4Network, gateway: ipaddress.IPv4Address,
             taken) -> ipaddress.IPv4Address:
    """The lowest free host address of subnet (pure: taken is a set of address strings)."""
    taken = set(taken) | {str(gateway)}
    for host in subnet.hosts():
        if str(host) not in taken:
            return host
    raise Conflict(f"no free address left in {subnet}: {len(taken) - 1} containers hold them all",
                   hint="remove stopped containers ('onggi rm'), or create a network with a larger --subnet")


def mac_for(address: ipaddress.IPv4Address | str) -> str:
    """02:42 followed by the four bytes of the IPv4 address (Docker's classic scheme).

    02 marks a locally administered unicast address; a learner can read the IP in it.
    """
    raw = ipaddress.IPv4Address(address).packed
    return "02:42:" + ":".join(f"{b:02x}" for b in raw)


def overlaps(subnet: ipaddress.IPv4Network, others) -> ipaddress.IPv4Network | None:
    """The first of others (networks) that overlaps subnet, or None."""
    for other in others:
        if subnet.overlaps(other):
            return other
    return None


class LeaseTable:
    """The leases of one network, by address (what leases.json holds)."""

    def __init__(self, leases: dict[str, Lease] | None = None):
        self.leases: dict[str, Lease] = leases if leases is not None else {}

    def __eq__(self, other) -> bool:
        return isinstance(other, LeaseTable) and self.leases == other.leases

    def __repr__(self) -> str:
        return f"LeaseTable({self.leases!r})"

    @classmethod
    def from_json(cls, data: dict) -> "LeaseTable":
        return cls({addr: Lease.from_dict(d) for addr, d in (data or {}).items()})

    def to_json(self) -> dict:
        return {addr: lease.to_dict() for addr, lease in sorted(
            self.leases.items(), key=lambda kv: ipaddress.IPv4Address(kv[0]))}

    def of(self, container: str) -> list[Lease]:
        return [lease for lease in self.leases.values() if lease.container == container]

    def take(self, subnet, gateway, lease_for) -> Lease:
        """Allocate the lowest free address and record lease_for(address) under it."""
        address = allocate(subnet, gateway, self.leases)
        lease = lease_for(address)
        self.leases[str(address)] = lease
        return lease

    def release(self, container: str) -> list[Lease]:
        """Drop every lease of container; return them."""
        gone = self.of(container)
        for lease in gone:
            del self.leases[lease.address]
        return gone
