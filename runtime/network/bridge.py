"""A network's Linux bridge: make it, remove it, and the sysctls it needs (pyroute2).

The bridge is the network's switch; the host's address on it (the gateway, e.g.
10.88.0.1/16) is how containers reach the host and, through masquerade, the
outside. Its MAC address is fixed (02:42 + the gateway's IPv4 bytes): a bridge
left to choose takes the lowest MAC of its ports, which changes as containers
come and go, and would leave the containers' ARP entry for the gateway stale.

Making a bridge happens once per network (``network create``, or the first
container on the default network); a launch only reads /sys/class/net (cheap).
"""
from __future__ import annotations

import errno
import ipaddress
from pathlib import Path

from .ipam import mac_for

SYS_CLASS_NET = Path("/sys/class/net")
PROC_SYS = Path("/proc/sys")


def ifindex(name: str, sys_class_net: Path = SYS_CLASS_NET) -> int | None:
    """The bridge's ifindex from sysfs, or None if the kernel has no such link."""
    try:
        return int((sys_class_net / name / "ifindex").read_text())
    except (OSError, ValueError):
        return None


def create(name: str, gateway: ipaddress.IPv4Interface) -> int:
    """``ip link add NAME address MAC type bridge; ip addr add GATEWAY dev NAME; ip link set NAME up``.

    Idempotent: an existing bridge or address is kept. Returns the ifindex.
    """
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    with IPRoute() as ipr:
        try:
            ipr.link("add", ifname=name, kind="bridge", address=mac_for(gateway.ip))
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise OSError(exc.code, f"ip link add {name} type bridge: {exc}") from None
        index = ipr.link_lookup(ifname=name)[0]
        try:
            ipr.addr("add", index=index, address=str(gateway.ip), prefixlen=gateway.network.prefixlen,
                     broadcast=str(gateway.network.broadcast_address))
        except NetlinkError as exc:
            if exc.code != errno.EEXIST:
                raise OSError(exc.code, f"ip addr add {gateway} dev {name}: {exc}") from None
        ipr.link("set", index=index, state="up")
    # 127.0.0.1:HOST_PORT -> container: after DNAT in the output hook the packet
    # leaves through the bridge with source 127.0.0.1, which the kernel refuses
    # unless route_localnet is on for that device (nft.py drops the reverse way).
    sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")
    return index


def delete(name: str) -> bool:
    """``ip link del NAME``; False if there was none. Its ports (veths) stay, unplugged."""
    from pyroute2 import IPRoute
    from pyroute2.netlink.exceptions import NetlinkError
    with IPRoute() as ipr:
        try:
            ipr.link("del", ifname=name)
        except NetlinkError as exc:
            if exc.code == errno.ENODEV:
                return False
            raise OSError(exc.code, f"ip link del {name}: {exc}") from None
    return True


def sysctl(key: str, value: str | None = None, root: Path = PROC_SYS) -> str:
    """Read (and with value, write) /proc/sys/KEY; returns the value before."""
    path = root / key
    before = path.read_text().strip()
    if value is not None and before != value:
        path.write_text(value)
    return before


def host_routes(proc: Path = Path("/proc")) -> list[tuple[ipaddress.IPv4Network, str]]:
    """The host's IPv4 routes (main table) as (network, device), default route left out.

    /proc/net/route is the kernel's own table, in host byte order hex.
    """
    out = []
    try:
        lines = (proc / "net/route").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) < 8:
            continue
        dst = ipaddress.IPv4Address(int(f[1], 16).to_bytes(4, "little"))
        mask = ipaddress.IPv4Address(int(f[7], 16).to_bytes(4, "little"))
        net = ipaddress.IPv4Network(f"{dst}/{mask}", strict=False)
        if net.prefixlen:
            out.append((net, f[0]))
    return out
