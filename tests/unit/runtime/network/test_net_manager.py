"""NetworkManager's bookkeeping without a kernel: validation, leases, inspect, prune."""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.config import Config
from runtime.container.spec import ContainerSpec, PortMapping
from runtime.errors import ContainerNotFound, InvalidArgument, NetworkNotFound, PortInUse
from runtime.events import RecordingPublisher
from runtime.network.ipam import Lease
from runtime.network.manager import NetworkManager

A, B, GONE = "a" * 64, "b" * 64, "9" * 64


class FakeContainers:
    """The slice of ContainerStore the manager uses: records that say whether a monitor lives."""

    def __init__(self, root: Path):
        self.root, self.records = root, {}

    def add(self, cid, name, alive=True, network="bridge", ports=()):
        d = self.root / cid
        d.mkdir(parents=True)
        (d / "hosts").write_text("127.0.0.1\tlocalhost\n")
        rec = SimpleNamespace(id=cid, name=name, dir=d, process=SimpleNamespace(hostname=cid[:12]),
                              spec=ContainerSpec(image="busybox", network=network, ports=tuple(ports)),
                              monitor_alive=lambda: alive)
        self.records[cid] = rec
        return rec

    def load(self, cid):
        try:
            return self.records[cid]
        except KeyError:
            raise ContainerNotFound(f"no such container: {cid}") from None

    def get(self, ref):
        for r in self.records.values():
            if ref in (r.id, r.name):
                return r
        raise ContainerNotFound(f"no such container: {ref}")


@pytest.fixture
def world(tmp_path):
    config = Config(root=tmp_path / "root", bridge_name="onggi1a2b0", bridge_prefix="onggi1a2b",
                    bridge_subnet="10.150.3.0/24", nft_table="onggi_test_1a2b")
    containers = FakeContainers(tmp_path / "containers")
    pub = RecordingPublisher()
    return SimpleNamespace(nm=NetworkManager(config, publisher=pub, containers=containers),
                           containers=containers, pub=pub)


def lease(world, cid, address, net="bridge", ports=()):
    rec = world.containers.records.get(cid)
    store = world.nm.store
    n = store.get(net)
    table = store.leases(n)
    table.leases[address] = Lease(address=address, container=cid, name=rec.name if rec else "",
                                  hostname=cid[:12], veth="veth" + cid[:7], ifname="eth0",
                                  mac="02:42:00:00:00:00", ports=tuple(ports),
                                  hosts_file=str(rec.dir / "hosts") if rec else "")
    store.save_leases(n, table)


def test_validate_unknown_network(world):
    with pytest.raises(NetworkNotFound, match="network nosuch not found"):
        world.nm.validate(ContainerSpec(image="busybox", network="nosuch"))
    world.nm.validate(ContainerSpec(image="busybox", network="bridge"))


def test_validate_a_port_another_container_publishes(world):
    world.containers.add(A, "web")
    lease(world, A, "10.150.3.2", ports=[("0.0.0.0", 18080, 80, "tcp")])
    with pytest.raises(PortInUse, match="already allocated"):
        world.nm.validate(ContainerSpec(image="busybox", network="bridge",
                                        ports=(PortMapping("127.0.0.1", 18080, 8080),)))


def test_a_dead_containers_port_does_not_block(world):
    world.containers.add(A, "web", alive=False)
    lease(world, A, "10.150.3.2", ports=[("127.0.0.1", 1, 80, "tcp")])
    world.nm.validate(ContainerSpec(image="busybox", network="bridge", ports=()))


def test_validate_container_mode(world):
    world.containers.add(A, "web")
    world.nm.validate(ContainerSpec(image="busybox", network="container:web"))
    with pytest.raises(ContainerNotFound):
        world.nm.validate(ContainerSpec(image="busybox", network="container:nosuch"))
    with pytest.raises(InvalidArgument, match="conflicting options"):
        world.nm.validate(ContainerSpec(image="busybox", network="container:web",
                                        ports=(PortMapping("0.0.0.0", 8080, 80),)))


def test_detach_releases_every_lease_and_says_so(world):
    rec = world.containers.add(A, "web")
    lease(world, A, "10.150.3.2")
    gone = world.nm.detach(rec)
    assert [lz.address for _n, lz in gone] == ["10.150.3.2"]
    assert world.nm.store.leases(world.nm.get("bridge")).leases == {}
    assert world.pub.types() == ["network.disconnected"]
    assert world.nm.detach(rec) == []                               # idempotent (rm after exit)


def test_inspect_lists_live_endpoints_only(world):
    world.containers.add(A, "web")
    world.containers.add(B, "old", alive=False)
    lease(world, A, "10.150.3.2", ports=[("0.0.0.0", 8080, 80, "tcp")])
    lease(world, B, "10.150.3.3")
    doc = world.nm.inspect("bridge")
    assert doc["IPAM"]["Config"] == [{"Subnet": "10.150.3.0/24", "Gateway": "10.150.3.1"}]
    assert doc["Options"]["com.docker.network.bridge.name"] == "onggi1a2b0"
    assert list(doc["Containers"]) == [A]
    ep = doc["Containers"][A]
    assert (ep["Name"], ep["IPv4Address"], ep["HostVeth"], ep["ContainerVeth"]) == \
        ("web", "10.150.3.2/24", "veth" + A[:7], "eth0")
    assert ep["Ports"] == ["0.0.0.0:8080->80/tcp"]


def test_inspect_container_network_settings(world):
    rec = world.containers.add(A, "web", ports=[PortMapping("0.0.0.0", 8080, 80)])
    lease(world, A, "10.150.3.2", ports=[("0.0.0.0", 8080, 80, "tcp")])
    running = SimpleNamespace(record=rec, state=SimpleNamespace(status=SimpleNamespace(value="running"), pid=4242))
    ns = world.nm.inspect_container(running)
    assert (ns["IPAddress"], ns["Gateway"], ns["IPPrefixLen"], ns["Bridge"]) == \
        ("10.150.3.2", "10.150.3.1", 24, "onggi1a2b0")
    assert ns["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}
    assert ns["Networks"]["bridge"]["NetworkID"] == world.nm.get("bridge").id
    assert ns["SandboxKey"] == "/proc/4242/ns/net"
    stopped = SimpleNamespace(record=rec, state=SimpleNamespace(status=SimpleNamespace(value="exited"), pid=0))
    ns = world.nm.inspect_container(stopped)
    assert ns["IPAddress"] == "" and ns["Networks"]["bridge"]["IPAddress"] == "" and ns["Ports"] == {}


def test_networks_of_follows_connect_and_disconnect_files(world):
    rec = world.containers.add(A, "web")
    assert world.nm.networks_of(rec) == ["bridge"]
    (rec.dir / "networks.json").write_text(json.dumps(["bridge", "mynet"]))
    assert world.nm.networks_of(rec) == ["bridge", "mynet"]


def test_prune_drops_leases_without_a_monitor(world, monkeypatch):
    monkeypatch.setattr(NetworkManager, "_orphan_veths", lambda self, live: [])
    world.containers.add(A, "web")
    lease(world, A, "10.150.3.2")
    lease(world, GONE, "10.150.3.3")                    # its container record is gone
    done = world.nm.prune(live_ids=set())
    assert done == [f"Deleted stale lease: 10.150.3.3 on network bridge (container {GONE[:12]})"]
    assert list(world.nm.store.leases(world.nm.get("bridge")).leases) == ["10.150.3.2"]


def test_pyroute2_is_not_imported_by_the_manager():
    import subprocess
    import sys
    code = ("import sys, runtime.network.manager, runtime.network.plugins, runtime.network.endpoint; "
            "print('pyroute2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
