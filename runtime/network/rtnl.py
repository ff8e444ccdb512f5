"""The few rtnetlink requests a container launch makes, packed with ``struct``.

Why not pyroute2 here, when the rest of this package uses it: importing pyroute2
0.9 costs about 120 ms of CPU on this project's machine (``python -X importtime
-c 'import pyroute2'``: its package imports asyncio, multiprocessing, conntrack,
ndb and more), as long as the whole rest of ``onggi run``, while wiring a
container needs only seven message types. So the launch (and ``network
connect/disconnect``, which do the same thing to a running container) use this
module; bridges, prune and the topology view use pyroute2.

Each method is one ``ip`` command, named after it. Names and constants are the
kernel's (<linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>,
<linux/veth.h>), so ``man 7 rtnetlink`` applies. A refused request raises
``OSError(errno, strerror, "ip ...")``: the layer that knows why it asked says
what to tell the user. Nothing here decides names, addresses or routes.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import struct
from typing import NamedTuple

NETLINK_ROUTE = 0
# <linux/netlink.h>
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP, NLM_F_EXCL, NLM_F_CREATE = 0x300, 0x200, 0x400
# <linux/rtnetlink.h>
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_GETADDR = 20, 22
RTM_NEWROUTE, RTM_GETROUTE = 24, 26
RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 3, 0, 1
RTA_DST, RTA_OIF, RTA_GATEWAY, RTA_TABLE = 1, 4, 5, 15
# <linux/if_link.h>, <linux/veth.h>, <linux/if_addr.h>
IFLA_ADDRESS, IFLA_IFNAME, IFLA_LINK, IFLA_MASTER = 1, 3, 5, 10
IFLA_OPERSTATE, IFLA_LINKINFO, IFLA_NET_NS_PID, IFLA_IFALIAS = 16, 18, 19, 20
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
IFF_UP = 0x1
CLONE_NEWNET = 0x40000000
OPERSTATES = ("unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up")

_HDR = struct.Struct("=IHHII")         # struct nlmsghdr: len, type, flags, seq, pid
_IFINFO = struct.Struct("=BxHiII")     # struct ifinfomsg: family, type, index, flags, change
_IFADDR = struct.Struct("=BBBBi")      # struct ifaddrmsg: family, prefixlen, flags, scope, index
_RTMSG = struct.Struct("=BBBBBBBBI")   # struct rtmsg: family, dst_len, src_len, tos, table,
                                       #   protocol, scope, type, flags
_ATTR = struct.Struct("=HH")           # struct nlattr: len, type (payload padded to 4)


# --- attributes ---------------------------------------------------------------------

def attr(kind: int, data: bytes) -> bytes:
    """One netlink attribute (TLV), padded to 4 bytes as NLA_ALIGN says."""
    return _ATTR.pack(_ATTR.size + len(data), kind) + data + b"\0" * (-len(data) % 4)


def attr_str(kind: int, text: str) -> bytes:
    return attr(kind, text.encode() + b"\0")


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, struct.pack("=I", value))


def parse_attrs(data: bytes) -> dict[int, bytes]:
    """Attributes by type (the type's flag bits masked off); the last one of a type wins."""
    out, pos = {}, 0
    while pos + _ATTR.size <= len(data):
        length, kind = _ATTR.unpack_from(data, pos)
        if length < _ATTR.size:
            break
        out[kind & 0x3FFF] = data[pos + _ATTR.size:pos + length]
        pos += (length + 3) & ~3
    return out


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _cstr(raw: bytes | None) -> str | None:
    return None if raw is None else raw.split(b"\0", 1)[0].decode()


def _u32(raw: bytes | None) -> int | None:
    return None if raw is None else struct.unpack("=I", raw[:4])[0]


# --- what the kernel answers (NamedTuples: a fraction of a dataclass's import cost) ----

class Link(NamedTuple):
    index: int
    name: str
    flags: int
    mac: str | None = None
    master: int | None = None      # the bridge's ifindex
    peer: int | None = None        # IFLA_LINK: a veth's other end (ifindex, maybe in another netns)
    alias: str | None = None
    kind: str | None = None        # "veth", "bridge"... (IFLA_INFO_KIND)
    operstate: str = "unknown"

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)

    def to_dict(self) -> dict:
        return {"name": self.name, "ifindex": self.index, "mac": self.mac, "state": self.operstate,
                "master": self.master, "peer_ifindex": self.peer, "alias": self.alias, "kind": self.kind}


class Addr(NamedTuple):
    index: int
    address: str
    prefixlen: int

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


class Route(NamedTuple):
    dst: str                        # "default" or "10.88.0.0/16", as `ip route` prints it
    gateway: str | None
    oif: int | None


def _link(payload: bytes) -> Link:
    _fam, _type, index, flags, _change = _IFINFO.unpack_from(payload)
    a = parse_attrs(payload[_IFINFO.size:])
    kind = None
    if IFLA_LINKINFO in a:
        kind = _cstr(parse_attrs(a[IFLA_LINKINFO]).get(IFLA_INFO_KIND))
    state = a.get(IFLA_OPERSTATE)
    return Link(index=index, name=_cstr(a.get(IFLA_IFNAME)) or "", flags=flags,
                mac=mac_text(a[IFLA_ADDRESS]) if IFLA_ADDRESS in a else None,
                master=_u32(a.get(IFLA_MASTER)), peer=_u32(a.get(IFLA_LINK)),
                alias=_cstr(a.get(IFLA_IFALIAS)), kind=kind,
                operstate=OPERSTATES[state[0]] if state and state[0] < len(OPERSTATES) else "unknown")


# --- the socket -----------------------------------------------------------------------

def socket_in_netns(syscalls, netns: str) -> socket.socket:
    """A NETLINK_ROUTE socket that talks to the network namespace at ``netns``.

    A netlink socket talks to the netns its creator was in at socket(2) time, for
    its whole life. So this thread joins that netns with setns(2), makes the
    socket, and comes back; only the calling thread ever moves (a threaded web
    server stays where it is). Close the socket soon: it keeps the netns alive.
    """
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            syscalls.setns(target, CLONE_NEWNET)
            try:
                return socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                     NETLINK_ROUTE)
            finally:
                syscalls.setns(own, CLONE_NEWNET)
        finally:
            os.close(target)
    finally:
        os.close(own)


class Rtnl:
    """One NETLINK_ROUTE socket, in the network namespace it was made in."""

    def __init__(self, sock: socket.socket | None = None):
        self.sock = sock or socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC,
                                          NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    @classmethod
    def in_netns(cls, syscalls, netns: str) -> "Rtnl":
        """A socket in the network namespace at ``netns`` (e.g. /proc/PID/ns/net)."""
        return cls(socket_in_netns(syscalls, netns))

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "Rtnl":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- one request, its answers -------------------------------------------------------
    def request(self, msg_type: int, body: bytes, *, flags: int = 0, what: str = "") -> list[tuple[int, bytes]]:
        """Send one message; return its answers, read up to the ACK or a dump's DONE."""
        self.seq += 1
        dump = flags & NLM_F_DUMP == NLM_F_DUMP
        flags |= NLM_F_REQUEST | (0 if dump else NLM_F_ACK)
        self.sock.send(_HDR.pack(_HDR.size + len(body), msg_type, flags, self.seq, 0) + body)
        out: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(1 << 16)
            pos = 0
            while pos + _HDR.size <= len(data):
                length, mtype, _f, seq, _pid = _HDR.unpack_from(data, pos)
                payload = data[pos + _HDR.size:pos + length]
                pos += (length + 3) & ~3
                if seq != self.seq:
                    continue
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", payload)[0]
                    if err:
                        raise OSError(err, os.strerror(err), what or f"rtnetlink message {msg_type}")
                    return out
                if mtype == NLMSG_DONE:
                    return out
                out.append((mtype, payload))

    # -- ip link ---------------------------------------------------------------------------
    def link_add_veth(self, name: str, peer: str, *, peer_netns_pid: int, master: int | None = None,
                      peer_mac: str | None = None) -> None:
        """``ip link add NAME [master M] up type veth peer name PEER [address MAC] netns PID``.

        The peer end is born inside the container's namespace with its final name,
        so there is never a moment when it sits on the host half-made.
        """
        peer_attrs = attr_str(IFLA_IFNAME, peer) + attr_u32(IFLA_NET_NS_PID, peer_netns_pid)
        if peer_mac:
            peer_attrs += attr(IFLA_ADDRESS, mac_bytes(peer_mac))
        info = attr_str(IFLA_INFO_KIND, "veth") + attr(
            IFLA_INFO_DATA, attr(VETH_INFO_PEER, _IFINFO.pack(0, 0, 0, 0, 0) + peer_attrs))
        body = _IFINFO.pack(0, 0, 0, IFF_UP, IFF_UP) + attr_str(IFLA_IFNAME, name) + attr(IFLA_LINKINFO, info)
        if master is not None:
            body += attr_u32(IFLA_MASTER, master)
        where = f" master {master}" if master is not None else ""
        self.request(RTM_NEWLINK, body, flags=NLM_F_CREATE | NLM_F_EXCL,
                     what=f"ip link add {name}{where} type veth peer name {peer} netns {peer_netns_pid}")

    def link_set(self, index: int, *, up: bool | None = None, alias: str | None = None) -> None:
        """``ip link set dev INDEX [up|down] [alias TEXT]``."""
        flags = 0 if up is None else (IFF_UP if up else 0)
        change = 0 if up is None else IFF_UP
        body = _IFINFO.pack(0, 0, index, flags, change)
        if alias is not None:
            body += attr_str(IFLA_IFALIAS, alias)
        self.request(RTM_NEWLINK, body, what=f"ip link set {index}")

    def link_del(self, name: str) -> None:
        """``ip link del NAME`` (a veth's peer goes with it)."""
        self.request(RTM_DELLINK, _IFINFO.pack(0, 0, 0, 0, 0) + attr_str(IFLA_IFNAME, name),
                     what=f"ip link del {name}")

    def link(self, name: str) -> Link | None:
        """``ip link show NAME``, or None when there is no such link."""
        try:
            answers = self.request(RTM_GETLINK, _IFINFO.pack(0, 0, 0, 0, 0) + attr_str(IFLA_IFNAME, name),
                                   what=f"ip link show {name}")
        except OSError as exc:
            if exc.errno == 19:            # ENODEV
                return None
            raise
        return next((_link(p) for t, p in answers if t == RTM_NEWLINK), None)

    def links(self) -> list[Link]:
        """``ip link show``."""
        return [_link(p) for t, p in self.request(RTM_GETLINK, _IFINFO.pack(0, 0, 0, 0, 0),
                                                  flags=NLM_F_DUMP, what="ip link show")
                if t == RTM_NEWLINK]

    # -- ip addr ------------------------------------------------------------------------------
    def addr_add(self, index: int, iface: ipaddress.IPv4Interface) -> None:
        """``ip addr add ADDRESS/PREFIX broadcast + dev INDEX``."""
        body = _IFADDR.pack(socket.AF_INET, iface.network.prefixlen, 0, RT_SCOPE_UNIVERSE, index)
        body += attr(IFA_LOCAL, iface.ip.packed) + attr(IFA_ADDRESS, iface.ip.packed)
        body += attr(IFA_BROADCAST, iface.network.broadcast_address.packed)
        self.request(RTM_NEWADDR, body, flags=NLM_F_CREATE | NLM_F_EXCL,
                     what=f"ip addr add {iface} dev {index}")

    def addrs(self) -> list[Addr]:
        """``ip -4 addr show``."""
        out = []
        for t, p in self.request(RTM_GETADDR, _IFADDR.pack(socket.AF_INET, 0, 0, 0, 0),
                                 flags=NLM_F_DUMP, what="ip -4 addr show"):
            if t != RTM_NEWADDR:
                continue
            _fam, prefixlen, _flags, _scope, index = _IFADDR.unpack_from(p)
            a = parse_attrs(p[_IFADDR.size:])
            raw = a.get(IFA_LOCAL) or a.get(IFA_ADDRESS)
            if raw:
                out.append(Addr(index, str(ipaddress.IPv4Address(raw)), prefixlen))
        return out

    # -- ip route -------------------------------------------------------------------------------
    def route_add(self, gateway: str, oif: int, dst: str = "0.0.0.0/0") -> None:
        """``ip route add DST via GATEWAY dev OIF`` in the main table."""
        net = ipaddress.IPv4Network(dst)
        body = _RTMSG.pack(socket.AF_INET, net.prefixlen, 0, 0, RT_TABLE_MAIN, RTPROT_BOOT,
                           RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
        if net.prefixlen:
            body += attr(RTA_DST, net.network_address.packed)
        body += attr(RTA_GATEWAY, ipaddress.IPv4Address(gateway).packed) + attr_u32(RTA_OIF, oif)
        self.request(RTM_NEWROUTE, body, flags=NLM_F_CREATE | NLM_F_EXCL,
                     what=f"ip route add {dst} via {gateway} dev {oif}")

    def routes(self) -> list[Route]:
        """``ip -4 route show`` (the main table)."""
        out = []
        for t, p in self.request(RTM_GETROUTE, _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0),
                                 flags=NLM_F_DUMP, what="ip -4 route show"):
            if t != RTM_NEWROUTE:
                continue
            fam, dst_len, _s, _tos, table, _proto, _scope, rtype, _f = _RTMSG.unpack_from(p)
            a = parse_attrs(p[_RTMSG.size:])
            table = _u32(a.get(RTA_TABLE)) or table
            if table != RT_TABLE_MAIN or rtype != RTN_UNICAST:
                continue
            dst = f"{ipaddress.IPv4Address(a[RTA_DST])}/{dst_len}" if RTA_DST in a else "default"
            gw = str(ipaddress.IPv4Address(a[RTA_GATEWAY])) if RTA_GATEWAY in a else None
            out.append(Route(dst=dst, gateway=gw, oif=_u32(a.get(RTA_OIF))))
        return out
