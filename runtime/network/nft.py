"""onggi's nftables table: masquerade, isolation between networks, published ports.

Everything onggi asks of netfilter lives in one ``inet`` table (``config.nft_table``),
so ``nft delete table inet onggi`` removes all of it and nothing else is touched.
The table is generated whole from what onggi knows (its networks and the ports
its running containers publish, :func:`ruleset`) and replaced atomically in one
transaction (:func:`apply`): there is no rule-by-rule state to drift.

We shell out to ``nft -f -`` because no maintained Python binding for nftables is
installable from PyPI (Debian's python3-nftables is not in the venv), and the
text format is what a learner reads in ``nft list ruleset`` anyway.

The chains, in the order a packet meets them::

    raw_prerouting  drop packets from a container bridge to 127.0.0.0/8 (see below)
    prerouting      DNAT: packets from elsewhere to HOST:PORT go to the container
    output          DNAT: the same for the host's own connections (127.0.0.1:PORT)
    forward         published ports are reachable from anywhere; otherwise two
                    onggi bridges never forward to each other (isolation)
    postrouting     masquerade what leaves a network for the outside, and what the
                    host sends from 127.0.0.1 into a bridge
"""
from __future__ import annotations

import json
import subprocess
from typing import NamedTuple


class Published(NamedTuple):
    """One -p mapping of a running container: HOST_IP:HOST_PORT/PROTO -> ADDRESS:PORT."""
    container: str
    host_ip: str
    host_port: int
    address: str
    port: int
    proto: str = "tcp"


def _q(name: str) -> str:
    return '"' + name.replace('"', "") + '"'


def _set(names) -> str:
    names = list(names)
    return _q(names[0]) if len(names) == 1 else "{ " + ", ".join(_q(n) for n in names) + " }"


def ruleset(table: str, networks, published=()) -> str:
    """The whole table as ``nft -f`` text, replacing any table of that name.

    networks: objects with .bridge and .subnet (every onggi bridge network);
    published: :class:`Published` mappings. Pure: the same input, the same text.
    """
    nets = sorted(networks, key=lambda n: n.bridge)
    bridges = [n.bridge for n in nets]
    lines = [f"table inet {table} {{", "}", f"delete table inet {table}", f"table inet {table} {{"]

    def chain(name: str, hook: str | None, body: list[str], comment: str = "") -> None:
        lines.append(f"\tchain {name} {{")
        if comment:
            lines.append(f"\t\t# {comment}")
        if hook:
            lines.append(f"\t\t{hook}")
        lines.extend(f"\t\t{rule}" for rule in body)
        lines.append("\t}")

    chain("raw_prerouting", "type filter hook prerouting priority raw; policy accept;",
          [f"iifname {_set(bridges)} ip daddr 127.0.0.0/8 drop"] if bridges else [],
          "route_localnet=1 on our bridges lets 127.0.0.1:PORT reach a container; "
          "it must not let a container reach the host's loopback")
    chain("prerouting", "type nat hook prerouting priority dstnat; policy accept;",
          ["fib daddr type local jump published"])
    # nft 1.0.6 accepts the name "dstnat" only for prerouting; -100 is the same priority.
    chain("output", "type nat hook output priority -100; policy accept;",
          ["fib daddr type local jump published"])
    rules = []
    for p in sorted(published, key=lambda p: (p.host_port, p.proto, p.host_ip)):
        match = "" if p.host_ip in ("", "0.0.0.0") else f"ip daddr {p.host_ip} "
        rules.append(f"{match}{p.proto} dport {p.host_port} dnat ip to {p.address}:{p.port} "
                     f"comment {_q(p.container)}")
    chain("published", None, rules, "-p HOST_PORT:PORT of running containers (comment: container id)")
    isolation = ["ct status dnat accept"] if bridges else []
    for b in bridges:
        others = [o for o in bridges if o != b]
        if others:
            isolation.append(f"iifname {_q(b)} oifname {_set(others)} drop")
    chain("forward", "type filter hook forward priority filter; policy accept;", isolation,
          "containers on different networks cannot reach each other; published ports can be reached")
    masq = [f"ip saddr {n.subnet} oifname != {_q(n.bridge)} masquerade" for n in nets]
    if bridges:
        masq.append(f"ip saddr 127.0.0.0/8 oifname {_set(bridges)} masquerade")
    chain("postrouting", "type nat hook postrouting priority srcnat; policy accept;", masq)
    lines.append("}")
    return "\n".join(lines) + "\n"


def apply(text: str) -> None:
    """Load ruleset text in one transaction (all or nothing)."""
    proc = _nft(["-f", "-"], text)
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["nft failed"])[0]
        raise OSError(proc.returncode, f"nft -f: {first}")


def delete(table: str) -> bool:
    """``nft delete table inet TABLE``; False if there was none."""
    return _nft(["delete", "table", "inet", table]).returncode == 0


def _nft(args: list[str], text: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["nft", *args], input=text, capture_output=True, text=True)
    except FileNotFoundError:
        from ..errors import Unsupported
        raise Unsupported("cannot set up the network's NAT rules: the nft command is missing",
                          hint="install Debian's nftables package ('make setup' does)") from None


def read_published(table: str) -> list[Published]:
    """The DNAT rules the kernel holds now in our ``published`` chain (``nft -j``).

    Read back from the kernel, not from onggi's files: this is what the
    topology view shows as ports.
    """
    try:
        proc = subprocess.run(["nft", "-j", "list", "chain", "inet", table, "published"],
                              capture_output=True, text=True)
    except FileNotFoundError:
        return []
    if proc.returncode != 0:
        return []
    return parse_published(json.loads(proc.stdout or "{}"))


def parse_published(doc: dict) -> list[Published]:
    out = []
    for item in doc.get("nftables", []):
        rule = item.get("rule")
        if not rule:
            continue
        host_ip, proto, host_port, addr, port = "0.0.0.0", None, None, None, None
        for expr in rule.get("expr", []):
            if "match" in expr:
                left, right = expr["match"].get("left", {}), expr["match"].get("right")
                payload = left.get("payload", {})
                if payload.get("field") == "dport":
                    proto, host_port = payload.get("protocol"), right
                elif payload.get("protocol") == "ip" and payload.get("field") == "daddr":
                    host_ip = right
            elif "dnat" in expr:
                addr, port = expr["dnat"].get("addr"), expr["dnat"].get("port")
        if proto and host_port is not None and addr:
            out.append(Published(container=rule.get("comment", ""), host_ip=str(host_ip),
                                 host_port=int(host_port), address=str(addr), port=int(port or host_port),
                                 proto=proto))
    return out
