"""busybox's older network tools in a simulated container: ``ifconfig``, ``route``, ``netstat``
and ``hostname -i``, in the shapes busybox 1.35 (Debian 12's) prints them.

They read the same machine answers as ``ip`` (:meth:`View.interfaces`, :meth:`View.routes`)
and the web servers the container runs (its ``listens``). The simulation counts no packets,
so the RX/TX counters say 0.
"""
from __future__ import annotations

import ipaddress

NETSTAT_USAGE = """BusyBox v1.35.0 (Debian 1:1.35.0-4+deb12u1+b1) multi-call binary.

Usage: netstat [-ral] [-tuwx] [-en]

Display networking information

\t-r\tRouting table
\t-a\tAll sockets
\t-l\tListening sockets
\t\tElse: connected sockets
\t-t\tTCP sockets
\t-u\tUDP sockets
\t-w\tRaw sockets
\t-x\tUnix sockets
\t\tElse: all socket types
\t-e\tOther/more information
\t-n\tDon't resolve names
"""


def link_local(mac: str) -> str:
    """The fe80:: address the kernel gives an Ethernet link (EUI-64 from its MAC)."""
    b = [int(x, 16) for x in mac.split(":")]
    eui = bytes([b[0] ^ 0x02, b[1], b[2], 0xFF, 0xFE, b[3], b[4], b[5]])
    return str(ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui))


def _short_flags(c, known: str) -> tuple[set[str], str | None]:
    """The single-letter flags in c.args, and the first one busybox would not know."""
    flags = set()
    for a in c.args:
        if a.startswith("-") and len(a) > 1:
            for ch in a[1:]:
                if ch not in known:
                    return flags, ch
                flags.add(ch)
    return flags, None


def ifconfig(c) -> int:
    # busybox lists the links as /proc/net/dev has them: eth0 before lo.
    links = sorted(c.m.interfaces(), key=lambda i: i["name"] == "lo")
    names = [a for a in c.args if not a.startswith("-")]
    if names:
        links = [i for i in links if i["name"] == names[0]]
        if not links:
            c.err(f"ifconfig: {names[0]}: error fetching interface information: Device not found\n")
            return 1
    for i in links:
        lo = i["name"] == "lo"
        head = "Link encap:Local Loopback  " if lo else f"Link encap:Ethernet  HWaddr {i['mac'].upper()}  "
        c.out(f"{i['name']:<10}{head}\n")
        for a in i.get("addresses", []):
            iface = ipaddress.IPv4Interface(a)
            bcast = "" if lo else f"  Bcast:{iface.network.broadcast_address}"
            c.out(f"          inet addr:{iface.ip}{bcast}  Mask:{iface.netmask}\n")
        c.out("          inet6 addr: ::1/128 Scope:Host\n" if lo else
              f"          inet6 addr: {link_local(i['mac'])}/64 Scope:Link\n")
        c.out("          UP LOOPBACK RUNNING  MTU:65536  Metric:1\n" if lo else
              "          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n")
        c.out("          RX packets:0 errors:0 dropped:0 overruns:0 frame:0\n"
              "          TX packets:0 errors:0 dropped:0 overruns:0 carrier:0\n"
              "          collisions:0 txqueuelen:1000 \n"
              "          RX bytes:0 (0.0 B)  TX bytes:0 (0.0 B)\n\n")
    return 0


def _route_rows(c) -> list[tuple[str, str, str, str, str]]:
    """(destination, gateway, genmask, flags, device) of each route, numeric."""
    rows = []
    for r in c.m.routes():
        if r["dst"] == "default":
            rows.append(("0.0.0.0", r["gateway"], "0.0.0.0", "UG", r["dev"]))
        else:
            net = ipaddress.IPv4Network(r["dst"])
            gateway = r.get("gateway") or "0.0.0.0"
            rows.append((str(net.network_address), gateway, str(net.netmask), "UG" if r.get("gateway") else "U",
                         r["dev"]))
    return rows


def route(c) -> int:
    flags, bad = _short_flags(c, "neFCA")
    if bad is not None or any(not a.startswith("-") for a in c.args):
        # Adding or deleting a route needs CAP_NET_ADMIN, which a container does not have.
        c.err("route: SIOCADDRT: Operation not permitted\n" if bad is None else
              f"route: invalid option -- '{bad}'\n")
        return 1
    numeric = "n" in flags
    c.out("Kernel IP routing table\n"
          "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n")
    for dst, gw, mask, fl, dev in _route_rows(c):
        if not numeric:
            dst = "default" if dst == "0.0.0.0" else dst
            gw = "*" if gw == "0.0.0.0" else gw
        c.out(f"{dst:<15.15} {gw:<15.15} {mask:<16}{fl:<6}{0:<6} {0:<2} {0:7d} {dev}\n")
    return 0


def netstat(c) -> int:
    flags, bad = _short_flags(c, "raltuwxen")
    if bad is not None:
        c.err(f"netstat: invalid option -- '{bad}'\n{NETSTAT_USAGE}")
        return 1
    if "r" in flags:
        c.out("Kernel IP routing table\n"
              "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n")
        for dst, gw, mask, fl, dev in _route_rows(c):
            if "n" not in flags:
                dst, gw = ("default" if dst == "0.0.0.0" else dst), ("*" if gw == "0.0.0.0" else gw)
            c.out(f"{dst:<15} {gw:<15} {mask:<15} {fl:<5} {0:5d} {0:<6} {0:5d} {dev}\n")
        return 0
    which = "servers and established" if "a" in flags else "only servers" if "l" in flags else "w/o servers"
    kinds = flags & set("tuwx") or set("tuwx")
    if kinds & set("tuw"):
        c.out(f"Active Internet connections ({which})\n"
              "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n")
        if "t" in kinds and flags & set("al"):
            # busybox httpd listens on the IPv6 wildcard (which takes IPv4 too).
            for port in c.m.listen_ports():
                c.out(f"tcp        0      0 {':::' + str(port):<23} {':::*':<23} LISTEN      \n")
    if "x" in kinds:
        c.out(f"Active UNIX domain sockets ({which})\n"
              "Proto RefCnt Flags       Type       State         I-Node Path\n")
    return 0


def hostname_address(c) -> int:
    """hostname -i: the addresses its own name resolves to (from /etc/hosts)."""
    address = c.m.resolve(c.m.hostname)
    if address is None:
        c.err(f"hostname: {c.m.hostname}: Host name lookup failure\n")
        return 1
    c.out(address + "\n")
    return 0
