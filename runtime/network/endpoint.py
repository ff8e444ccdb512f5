"""An endpoint in the kernel: one container plugged into one bridge by a veth pair.

:func:`wire` does what these commands would, through rtnl.py (see there for why
not pyroute2), then reads back what the kernel now shows::

    ip link add vethXXXXXXX master BRIDGE up type veth peer name eth0 address MAC netns PID
    ip link set vethXXXXXXX alias PREFIX:CONTAINER_ID
    # inside the container's netns:
    ip addr add 10.88.0.2/16 broadcast + dev eth0
    ip link set eth0 up; ip link set lo up
    ip route add default via 10.88.0.1 dev eth0

Removing is mostly the kernel's job: when the container's last process exits
its network namespace is destroyed, and the kernel deletes every interface in
it, taking the veth's host end along (in the background: deleting a veth
ourselves costs ~17 ms). :func:`unwire` is for ``network disconnect`` and prune.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import secrets
from pathlib import Path

from .rtnl import Rtnl

SYS_CLASS_NET = Path("/sys/class/net")


def alias(prefix: str, container: str) -> str:
    """The host end's alias, ``ip link`` shows it: which onggi and which container."""
    return f"{prefix}:{container}"


def parse_alias(prefix: str, text: str | None) -> str | None:
    """The container id in an alias of ours, or None if the alias is not ours."""
    if text and text.startswith(prefix + ":"):
        return text[len(prefix) + 1:]
    return None


def new_veth_name(sys_class_net: Path = SYS_CLASS_NET) -> str:
    """veth + 7 random hex digits, like Docker's: 11 characters, under IFNAMSIZ."""
    while True:
        name = "veth" + secrets.token_hex(4)[:7]
        if not (sys_class_net / name).exists():
            return name


def netns_path(pid: int, proc: Path = Path("/proc")) -> str:
    return str(proc / str(pid) / "ns" / "net")


def wire(syscalls, *, pid: int, veth: str, ifname: str, mac: str, bridge_index: int,
         address: ipaddress.IPv4Interface, gateway: str | None, alias_text: str,
         proc: Path = Path("/proc")) -> dict:
    """Plug the container (its netns is pid's) into the bridge; the host end as the kernel shows it.

    What the container's side looks like is read afterwards, once for all its
    networks (:func:`read_netns`): its link state settles a moment after "up".
    """
    with Rtnl() as host:
        host.link_add_veth(veth, ifname, peer_netns_pid=pid, master=bridge_index, peer_mac=mac)
        try:
            hv = host.link(veth)
            host.link_set(hv.index, alias=alias_text)
            with Rtnl.in_netns(syscalls, netns_path(pid, proc)) as inner:
                eth = inner.link(ifname)
                inner.addr_add(eth.index, address)
                inner.link_set(eth.index, up=True)
                lo = inner.link("lo")
                if lo is not None and not lo.up:
                    inner.link_set(lo.index, up=True)
                if gateway:
                    inner.route_add(gateway, eth.index)
        except BaseException:
            _delete(host, veth)
            raise
        hv = host.link(veth)
    return hv.to_dict() if hv else {"name": veth}


def read(sock: Rtnl) -> dict:
    """A netns as ``ip -4 addr; ip -4 route`` show it: interfaces (with addresses) and routes."""
    links = sock.links()
    addrs: dict[int, list[str]] = {}
    for a in sock.addrs():
        addrs.setdefault(a.index, []).append(str(a))
    names = {link.index: link.name for link in links}
    return {"interfaces": [{"name": link.name, "ifindex": link.index, "mac": link.mac,
                            "addresses": addrs.get(link.index, []), "state": link.operstate,
                            "peer_ifindex": link.peer if link.kind == "veth" else None}
                           for link in links],
            "routes": [{"dst": r.dst, "gateway": r.gateway, "dev": names.get(r.oif)}
                       for r in sock.routes()]}


def read_netns(syscalls, pid: int, proc: Path = Path("/proc")) -> dict:
    with Rtnl.in_netns(syscalls, netns_path(pid, proc)) as sock:
        return read(sock)


def next_ifname(syscalls, pid: int, proc: Path = Path("/proc")) -> str:
    """The first ethN not yet in pid's netns (eth1 for a second network...)."""
    with Rtnl.in_netns(syscalls, netns_path(pid, proc)) as sock:
        names = {link.name for link in sock.links()}
    n = 0
    while f"eth{n}" in names:
        n += 1
    return f"eth{n}"


def unwire(veth: str) -> bool:
    """``ip link del VETH`` (its peer inside the container goes too); False if gone already."""
    with Rtnl() as host:
        return _delete(host, veth)


def _delete(host: Rtnl, veth: str) -> bool:
    try:
        host.link_del(veth)
        return True
    except OSError as exc:
        if exc.errno == errno.ENODEV:
            return False
        raise


def netns_inode(pid: int, proc: Path = Path("/proc")) -> int | None:
    try:
        return os.stat(netns_path(pid, proc)).st_ino
    except OSError:
        return None
