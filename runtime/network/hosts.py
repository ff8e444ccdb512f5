"""Names: each container's /etc/hosts lists its own address and, on user-defined
networks, every other container on the same network.

Docker answers names with a DNS server inside each container's netns. We write
/etc/hosts instead: it needs no process of ours to stay alive, and it is what the
tools in busybox read. Debian's busybox-static is statically linked against glibc;
with no /etc/nsswitch.conf in the image, its getaddrinfo() reads /etc/resolv.conf
and then /etc/hosts, and answers from /etc/hosts without sending a DNS query
(checked with strace), so ``ping NAME`` and ``wget http://NAME/`` work.
``nslookup`` does not: busybox's nslookup always asks the DNS server.

The file is ``<container dir>/hosts``, bind-mounted onto the container's
/etc/hosts. A bind mount pins the inode, so it is rewritten in place (truncate
and write), never replaced by rename. Our lines sit below a marker line, and
everything above it (localhost, what the image or the user wrote) is kept.
"""
from __future__ import annotations

import os

MARKER = "# onggi: containers on this container's networks"


def render(current: str, entries: list[tuple[str, list[str]]]) -> str:
    """current with our section replaced by entries ((address, names), ...)."""
    head = current.split(MARKER, 1)[0].rstrip("\n")
    lines = [head] if head else []
    if entries:
        lines.append(MARKER)
        lines += [f"{address}\t{' '.join(names)}" for address, names in entries]
    return "\n".join(lines) + "\n"


def rewrite(path: str, entries: list[tuple[str, list[str]]]) -> bool:
    """Replace our section of the hosts file at path, in place. False if it is gone."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    with os.fdopen(fd, "r+") as f:
        text = render(f.read(), entries)
        f.seek(0)
        f.truncate()
        f.write(text)
    return True


def entries_for(container: str, leases_by_network) -> list[tuple[str, list[str]]]:
    """What container's /etc/hosts should list.

    leases_by_network: iterable of (network, LeaseTable). The container's own
    addresses come first with its hostname; peers follow, by name and hostname,
    only on user-defined networks (as Docker resolves names only there).
    """
    own, peers, seen = [], [], set()
    for net, table in leases_by_network:
        mine = table.of(container)
        if not mine:
            continue
        for lease in mine:
            own.append((lease.address, [n for n in (lease.hostname, lease.name) if n]))
        if not net.user_defined:
            continue
        for lease in table.leases.values():
            if lease.container != container and lease.address not in seen:
                seen.add(lease.address)
                peers.append((lease.address, [n for n in (lease.name, lease.hostname) if n]))
    return own + peers


def copy(src: str, dst: str) -> None:
    """Make dst's content src's (in place: dst is a bind-mount source)."""
    with open(src) as f:
        text = f.read()
    with open(dst, "r+") as f:
        f.seek(0)
        f.truncate()
        f.write(text)
