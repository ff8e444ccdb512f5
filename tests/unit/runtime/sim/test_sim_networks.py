"""Simulated networks: Docker's verbs, addresses and veths, the topology the diagram draws."""
import socket

import pytest

from runtime.container.spec import parse_publish
from runtime.errors import Conflict, NetworkInUse, NetworkNotFound


def test_the_builtin_networks_are_listed_like_docker(sim):
    assert [n.name for n in sim.networks.list()] == ["bridge", "host", "none"]
    bridge = sim.networks.get("bridge")
    assert (bridge.bridge, bridge.subnet, bridge.gateway) == ("onggi0", "10.213.0.0/16", "10.213.0.1")


def test_user_networks_get_a_free_24_and_refuse_clashes(sim, events):
    net = sim.networks.create("lab")
    assert net.subnet == "10.89.0.0/24" and net.bridge.startswith("onggi-")
    assert sim.networks.create("lab2").subnet == "10.89.1.0/24"
    with pytest.raises(Conflict):
        sim.networks.create("lab")
    with pytest.raises(Conflict, match="overlaps network lab"):
        sim.networks.create("lab3", subnet="10.89.0.0/16")
    assert events("network.created")[0]["data"]["name"] == "lab"
    sim.networks.remove("lab2")
    with pytest.raises(NetworkNotFound):
        sim.networks.get("lab2")


def test_containers_get_addresses_and_reach_each_other_on_a_shared_network(sim, started):
    sim.networks.create("lab")
    a = started(name="a", network="lab")
    started(name="b", network="lab")
    loner = started(name="loner", network="bridge")
    assert sim.truth.ip_address("a") == "10.89.0.2" and sim.truth.ip_address("b") == "10.89.0.3"
    code, out = a.exec_output(["ping", "-c", "1", "b"])          # a user network resolves names
    assert code == 0 and "64 bytes from 10.89.0.3" in out
    code, out = a.exec_output(["ping", "-c", "1", sim.truth.ip_address("loner")], timeout=5)
    assert code == 1 and "0 packets received" in out
    doc = sim.networks.inspect("lab")
    assert {c["Name"] for c in doc["Containers"].values()} == {"a", "b"} and doc["Bridge"]["Exists"]
    with pytest.raises(NetworkInUse):
        sim.networks.remove("lab")
    settings = a.inspect()["NetworkSettings"]
    assert settings["IPAddress"] == "10.89.0.2" and settings["Networks"]["lab"]["HostVeth"].startswith("veth")
    loner.kill()
    assert sim.networks.inspect("bridge")["Containers"] == {}


def test_the_topology_is_read_topologys_shape(sim, started):
    # A simulated published port listens on the real 127.0.0.1 (ports.py): take a free one.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = started(name="web", network="bridge", ports=tuple(parse_publish(f"{port}:80")))
    topo = sim.truth.topology()
    assert topo["simulated"] is True
    assert [b["name"] for b in topo["bridges"]] == ["onggi0"] and topo["bridges"][0]["addresses"] == ["10.213.0.1/16"]
    veth = topo["veths"][0]
    entry = topo["containers"][0]
    eth0 = next(i for i in entry["interfaces"] if i["name"] == "eth0")
    assert veth["container"] == c.id and veth["bridge"] == "onggi0" and eth0["peer_ifindex"] == veth["ifindex"]
    assert veth["peer_ifindex"] == eth0["ifindex"] and entry["netns_inode"] == sim.truth.ns_of("web")["net"]
    assert topo["ports"] == [{"container": c.id, "host_ip": "0.0.0.0", "host_port": port, "port": 80,
                              "proto": "tcp", "address": "10.213.0.2"}]


def test_host_and_none_networks(sim, started):
    host = started(name="h", network="host")
    none = started(name="n", network="none")
    assert sim.truth.ns_of("h")["net"] == sim.truth.host_ns()["net"]
    assert sim.truth.ns_of("n")["net"] != sim.truth.host_ns()["net"]
    assert "eth0" in host.exec_output(["ip", "link"])[1]
    assert none.exec_output(["ip", "link"])[1].count(": <") == 1          # lo only
