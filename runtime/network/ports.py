"""-p HOST_PORT:PORT: is the host port free, and holding it while the container runs.

A published port is a DNAT rule (nft.py); nothing listens on the host port. So
that no host program binds the same port later and silently loses its traffic
to the container (and so that the check "is it free?" means something), the
container's monitor holds a socket bound to each host port for the container's
whole life, as Docker's docker-proxy holds one. The socket is never listened on:
packets are rewritten before they could reach it.
"""
from __future__ import annotations

import errno
import socket

from ..errors import PortInUse

_KINDS = {"tcp": socket.SOCK_STREAM, "udp": socket.SOCK_DGRAM}


def text(host_ip: str, host_port: int, port: int, proto: str) -> str:
    """Docker's notation: 0.0.0.0:8080->80/tcp."""
    return f"{host_ip or '0.0.0.0'}:{host_port}->{port}/{proto}"


def _clash(a_ip: str, b_ip: str) -> bool:
    wild = ("", "0.0.0.0")
    return a_ip in wild or b_ip in wild or a_ip == b_ip


def check_unpublished(mapping, published) -> None:
    """PortInUse if another onggi container already publishes this host port.

    published: iterable of (host_ip, host_port, port, proto) held by running containers.
    """
    for host_ip, host_port, _port, proto in published:
        if (host_port == mapping.host_port and proto == mapping.proto
                and _clash(host_ip, mapping.host_ip)):
            raise PortInUse(f"cannot publish {mapping.host_ip}:{mapping.host_port}/{mapping.proto}: "
                            "port is already allocated by another container")


def reserve(mapping) -> socket.socket:
    """Bind HOST_IP:HOST_PORT (port 0: the kernel picks one); PortInUse if taken."""
    sock = socket.socket(socket.AF_INET, _KINDS[mapping.proto])
    try:
        sock.bind((mapping.host_ip or "0.0.0.0", mapping.host_port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(f"cannot publish {mapping.host_ip}:{mapping.host_port}/{mapping.proto}: "
                            "the host port is already in use") from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise PortInUse(f"cannot publish {mapping.host_ip}:{mapping.host_port}/{mapping.proto}: "
                            f"{mapping.host_ip} is not an address of this host",
                            hint="use 0.0.0.0, 127.0.0.1 or one of the host's addresses") from None
        raise
    return sock


def probe(mapping) -> None:
    """PortInUse now if the host port is taken (checked again when the container starts)."""
    if mapping.host_port:
        reserve(mapping).close()
