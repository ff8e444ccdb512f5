"""IPAM: the pure choice, the lease table, and allocation racing across processes."""
import ipaddress
import multiprocessing
from pathlib import Path

import pytest

from runtime.config import Config
from runtime.errors import Conflict, InvalidArgument
from runtime.network.ipam import (Lease, LeaseTable, allocate, default_gateway, mac_for, overlaps,
                                  parse_gateway, parse_subnet)
from runtime.network.store import NetworkStore

N = ipaddress.IPv4Network


@pytest.mark.parametrize("subnet, gateway, taken, expected", [
    ("10.88.0.0/16", "10.88.0.1", set(), "10.88.0.2"),                       # first after the gateway
    ("10.88.0.0/16", "10.88.0.1", {"10.88.0.2"}, "10.88.0.3"),
    ("10.88.0.0/16", "10.88.0.1", {"10.88.0.2", "10.88.0.4"}, "10.88.0.3"),  # lowest free, reuse a hole
    ("10.88.0.0/16", "10.88.0.1", {f"10.88.0.{i}" for i in range(2, 255)}, "10.88.0.255"),
    ("10.89.0.0/24", "10.89.0.254", set(), "10.89.0.1"),                     # gateway elsewhere
    ("192.168.7.0/30", "192.168.7.1", set(), "192.168.7.2"),                 # the only host left
])
def test_allocate(subnet, gateway, taken, expected):
    assert str(allocate(N(subnet), ipaddress.IPv4Address(gateway), taken)) == expected


def test_allocate_never_hands_out_network_broadcast_or_gateway():
    subnet = N("10.1.2.0/29")
    got = set()
    for _ in range(5):                                   # .1 is the gateway: .2 to .6 are left
        got.add(str(allocate(subnet, default_gateway(subnet), got)))
    assert got == {f"10.1.2.{i}" for i in range(2, 7)}
    with pytest.raises(Conflict, match="no free address"):
        allocate(subnet, default_gateway(subnet), got)


@pytest.mark.parametrize("text", ["10.0.0.0/33", "10.0.0.1/24", "nonsense", "10.0.0.0/31", "::/64"])
def test_parse_subnet_rejects(text):
    with pytest.raises(InvalidArgument):
        parse_subnet(text)


def test_parse_gateway():
    subnet = parse_subnet("10.9.0.0/24")
    assert str(parse_gateway("10.9.0.254", subnet)) == "10.9.0.254"
    for bad in ("10.9.1.1", "10.9.0.0", "10.9.0.255", "x"):
        with pytest.raises(InvalidArgument):
            parse_gateway(bad, subnet)


def test_mac_carries_the_address():
    assert mac_for("10.88.0.2") == "02:42:0a:58:00:02"
    assert mac_for(ipaddress.IPv4Address("172.17.255.1")) == "02:42:ac:11:ff:01"


def test_overlaps():
    assert overlaps(N("10.88.0.0/16"), [N("10.89.0.0/24"), N("10.88.5.0/24")]) == N("10.88.5.0/24")
    assert overlaps(N("10.88.0.0/16"), [N("10.89.0.0/24")]) is None


def test_lease_table_round_trip_and_release():
    table = LeaseTable()
    subnet = N("10.5.0.0/24")
    for cid in ("a" * 64, "b" * 64, "a" * 64):
        table.take(subnet, default_gateway(subnet), lambda addr, cid=cid: Lease(
            address=str(addr), container=cid, ports=(("0.0.0.0", 8080, 80, "tcp"),)))
    again = LeaseTable.from_json(table.to_json())
    assert again == table
    assert [lease.address for lease in again.release("a" * 64)] == ["10.5.0.2", "10.5.0.4"]
    assert list(again.leases) == ["10.5.0.3"]


# --- several processes allocating at once: the flock is what makes it safe -----------------

def _allocate_many(root: str, who: int, count: int, out):
    config = Config(root=Path(root), bridge_subnet="10.77.0.0/24")
    store = NetworkStore(config)
    net = store.default()
    got = []
    for i in range(count):
        with store.lock():
            table = store.leases(net)
            lease = table.take(net.ip_network, ipaddress.IPv4Address(net.gateway),
                               lambda a: Lease(address=str(a), container=f"{who:02d}{i:062d}"))
            store.save_leases(net, table)
        got.append(lease.address)
    out.put(got)


def test_concurrent_allocation_from_several_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_allocate_many, args=(str(tmp_path), n, 10, out)) for n in range(6)]
    for p in procs:
        p.start()
    results = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    addresses = [a for got in results for a in got]
    assert len(addresses) == 60 and len(set(addresses)) == 60          # never twice
    store = NetworkStore(Config(root=tmp_path, bridge_subnet="10.77.0.0/24"))
    assert sorted(store.leases(store.default()).leases, key=ipaddress.IPv4Address) == \
        [f"10.77.0.{i}" for i in range(2, 62)]                         # and persisted


def test_leases_survive_a_new_store(tmp_path):
    config = Config(root=tmp_path, bridge_subnet="10.77.0.0/24")
    store = NetworkStore(config)
    net = store.default()
    table = store.leases(net)
    table.take(net.ip_network, ipaddress.IPv4Address(net.gateway), lambda a: Lease(str(a), "c" * 64))
    store.save_leases(net, table)
    again = NetworkStore(config).leases(net)
    assert str(allocate(net.ip_network, ipaddress.IPv4Address(net.gateway), again.leases)) == "10.77.0.3"


def test_lease_ignores_unknown_fields():
    assert Lease.from_dict({"address": "1.2.3.4", "container": "x", "future": 1}) == Lease("1.2.3.4", "x")
