"""Networks on disk: what each network is, and its leases. No kernel objects here.

``ONGGI_ROOT/networks/``::

    .lock                  flock held for every change to any network or lease
    <name>/network.json    a user-defined network: id, bridge, subnet, gateway, created
    <name>/leases.json     the network's leases, by address (ipam.LeaseTable)
    ip_forward.orig        present while onggi keeps net.ipv4.ip_forward on that was off

The default network ``bridge`` is not written: it is what the Config says
(``bridge_name``, ``bridge_subnet``), so changing the config changes it. ``host``
and ``none`` are listed like Docker lists them, and have no files either.
Files are replaced atomically (rename), so readers never need the lock.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import secrets
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from ..errors import Conflict, InvalidArgument, NetworkNotFound
from ..files import locked, write_json
from .ipam import LeaseTable, default_gateway, parse_subnet

BUILTIN = ("bridge", "host", "none")
_NAME_OK = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
IFNAMSIZ = 15          # a Linux interface name is at most 15 bytes (IFNAMSIZ - 1)


class Network(NamedTuple):
    name: str
    id: str
    driver: str = "bridge"        # "bridge", or "host"/"null" for the two pseudo-networks
    bridge: str = ""              # the Linux bridge's name
    subnet: str = ""
    gateway: str = ""
    created: str = ""
    labels: tuple = ()
    builtin: bool = False         # bridge, host, none: made by onggi, never removed

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def is_bridge(self) -> bool:
        return self.driver == "bridge"

    @property
    def user_defined(self) -> bool:
        """Docker resolves container names only on user-defined networks; so do we."""
        return self.is_bridge and not self.builtin

    @property
    def ip_network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    @property
    def interface(self) -> ipaddress.IPv4Interface:
        """The gateway with its prefix: the bridge's own address, e.g. 10.88.0.1/16."""
        return ipaddress.IPv4Interface(f"{self.gateway}/{self.ip_network.prefixlen}")

    def to_dict(self) -> dict:
        d = self._asdict()
        d["labels"] = dict(self.labels)
        return d


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _stable_id(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def validate_name(name: str) -> None:
    if not name or not set(name) <= _NAME_OK or not name[0].isalnum() or len(name) > 64:
        raise InvalidArgument(f"invalid network name '{name}': use letters, digits, _ . -, "
                              "starting with a letter or digit")
    if name in BUILTIN:
        raise Conflict(f"network with name {name} already exists",
                       hint=f"'{name}' is a pre-defined network; choose another name")


class NetworkStore:
    def __init__(self, config):
        self.config = config
        self.dir: Path = config.networks_dir

    # -- the lock -------------------------------------------------------------------
    @contextmanager
    def lock(self):
        """Serialise every change to networks and leases, across processes (flock)."""
        with locked(self.dir / ".lock"):
            yield

    # -- networks ---------------------------------------------------------------------
    def default(self) -> Network:
        c = self.config
        subnet = parse_subnet(c.bridge_subnet)
        return Network(name="bridge", id=_stable_id("bridge", c.bridge_name, str(subnet)),
                       bridge=c.bridge_name, subnet=str(subnet), gateway=str(default_gateway(subnet)),
                       builtin=True)

    def pseudo(self, name: str) -> Network:
        return Network(name=name, id=_stable_id(name, str(self.config.root)),
                       driver="host" if name == "host" else "null", builtin=True)

    def user_networks(self) -> list[Network]:
        out = []
        try:
            names = sorted(os.listdir(self.dir))
        except FileNotFoundError:
            return out
        for name in names:
            try:
                d = json.loads((self.dir / name / "network.json").read_text())
            except (OSError, ValueError):
                continue
            d["labels"] = tuple(sorted((d.get("labels") or {}).items()))
            out.append(Network(**{k: v for k, v in d.items() if k in Network._fields}))
        return out

    def bridges(self) -> list[Network]:
        """Every network that has a Linux bridge: the default one and the user-defined ones."""
        return [self.default()] + self.user_networks()

    def list(self) -> list[Network]:
        return [self.default(), self.pseudo("host"), self.pseudo("none")] + self.user_networks()

    def get(self, ref: str) -> Network:
        """By name, full id or unique id prefix (Docker's rules)."""
        if ref in ("host", "none"):
            return self.pseudo(ref)
        if ref == "bridge":
            return self.default()
        if ref and set(ref) <= _NAME_OK and (self.dir / ref / "network.json").exists():
            for net in self.user_networks():
                if net.name == ref:
                    return net
        nets = self.list()
        matches = [n for n in nets if n.id == ref] or \
                  ([n for n in nets if n.id.startswith(ref)] if ref and all(c in "0123456789abcdef" for c in ref)
                   else [])
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidArgument(f"network {ref} is ambiguous ({len(matches)} matches): use more of the id")
        raise NetworkNotFound(f"network {ref} not found")

    def new(self, name: str, subnet: ipaddress.IPv4Network, gateway: ipaddress.IPv4Address,
            labels: dict | None = None) -> Network:
        """A user-defined network's record (not yet written); its bridge name from its id."""
        taken = {n.bridge for n in self.bridges()}
        room = IFNAMSIZ - len(self.config.bridge_prefix) - 1
        if room < 4:
            raise InvalidArgument(f"bridge prefix '{self.config.bridge_prefix}' is too long: "
                                  "bridge names must fit in 15 characters")
        while True:
            nid = secrets.token_hex(32)
            bridge = f"{self.config.bridge_prefix}-{nid[:room]}"
            if bridge not in taken:
                break
        return Network(name=name, id=nid, bridge=bridge, subnet=str(subnet), gateway=str(gateway),
                       created=_now(), labels=tuple(sorted((labels or {}).items())))

    def add(self, net: Network) -> None:
        path = self.dir / net.name
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            raise Conflict(f"network with name {net.name} already exists",
                           hint="choose another name, or remove it with 'onggi network rm'") from None
        write_json(path / "network.json", net.to_dict())

    def remove(self, net: Network) -> None:
        shutil.rmtree(self.dir / net.name, ignore_errors=True)

    # -- leases ---------------------------------------------------------------------------
    def leases(self, net: Network) -> LeaseTable:
        try:
            return LeaseTable.from_json(json.loads((self.dir / net.name / "leases.json").read_text()))
        except FileNotFoundError:
            return LeaseTable()
        except ValueError:
            return LeaseTable()       # unreadable: prune rebuilds nothing from it; start afresh

    def save_leases(self, net: Network, table: LeaseTable) -> None:
        (self.dir / net.name).mkdir(parents=True, exist_ok=True)
        write_json(self.dir / net.name / "leases.json", table.to_json())

    def all_leases(self) -> dict[str, tuple[Network, LeaseTable]]:
        """Every bridge network's leases, by network name."""
        return {n.name: (n, self.leases(n)) for n in self.bridges()}

    # -- host state we changed and must put back ----------------------------------------------
    @property
    def ip_forward_orig(self) -> Path:
        return self.dir / "ip_forward.orig"



