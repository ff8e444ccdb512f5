"""User-defined networks: create/ls/inspect/rm, names that resolve, isolation, connect/disconnect."""
import json
import subprocess

import pytest

from .helpers import links

pytestmark = pytest.mark.root


def test_lifecycle_through_the_cli(net, onggi_config):
    doc = net.create("lifecycle")
    bridge = doc["Options"]["com.docker.network.bridge.name"]
    assert bridge.startswith(onggi_config.bridge_prefix) and len(bridge) <= 15
    assert doc["Driver"] == "bridge" and doc["Bridge"]["Exists"] and bridge in links()
    ls = net.ok("network", "ls")
    assert [line.split()[1] for line in ls.splitlines()[1:4]] == ["bridge", "host", "none"]
    assert "lifecycle" in ls
    assert net.events("network.created", doc["Id"])

    cid = net.ok("run", "-d", "--name", "member", "--network", "lifecycle", "busybox", "sleep", "60")
    doc = net.inspect_network("lifecycle")
    ep = doc["Containers"][cid]
    assert ep["Name"] == "member" and ep["ContainerVeth"] == "eth0" and ep["HostVeth"].startswith("veth")
    assert ep["IPv4Address"].startswith(doc["IPAM"]["Config"][0]["Subnet"].rsplit(".", 1)[0])
    assert links()[ep["HostVeth"]]["master"] == bridge

    busy = net.onggi("network", "rm", "lifecycle")
    assert busy.returncode == 125 and "active endpoints" in busy.stderr and busy.stderr.count("\n") == 1
    net.ok("rm", "-f", "member")
    net.ok("network", "rm", "lifecycle")
    net.networks.remove("lifecycle")
    assert bridge not in links()
    rules = subprocess.run(["nft", "list", "table", "inet", onggi_config.nft_table],
                           capture_output=True, text=True).stdout
    assert bridge not in rules
    assert net.events("network.removed", doc["Id"])


def test_names_resolve_on_a_user_network(net):
    net.create("names")
    net.serve("web", network="names", text="by-name")
    net.ok("run", "-d", "--name", "client", "--network", "names", "busybox", "sleep", "60")
    net.ours(net.ip("web", "names"))
    hosts = net.sh("client", "cat /etc/hosts").stdout
    assert f"{net.ip('web', 'names')}\tweb " in hosts
    assert net.sh("client", "ping -c 1 -W 2 web").returncode == 0
    got = net.fetch("client", "http://web/")
    assert got.stdout == "by-name\n", got.stderr
    # a container that leaves is forgotten by the others
    net.ok("rm", "-f", "web")
    assert "\tweb " not in net.sh("client", "cat /etc/hosts").stdout


def test_two_networks_are_isolated(net):
    net.create("left")
    net.create("right")
    net.ok("run", "-d", "--name", "l1", "--network", "left", "busybox", "sleep", "60")
    net.ok("run", "-d", "--name", "l2", "--network", "left", "busybox", "sleep", "60")
    net.ok("run", "-d", "--name", "r1", "--network", "right", "busybox", "sleep", "60")
    l1 = net.ours(net.ip("l1", "left"))
    assert net.sh("l2", f"ping -c 1 -W 2 {l1}").returncode == 0          # same network: yes
    assert net.sh("r1", f"ping -c 1 -W 1 {l1}").returncode != 0          # other network: no
    assert "l1" not in net.sh("r1", "cat /etc/hosts").stdout             # and no name for it


def test_connect_and_disconnect_a_running_container(net):
    net.create("extra")
    net.ok("run", "-d", "--name", "peer", "--network", "extra", "busybox", "sleep", "60")
    net.ok("run", "-d", "--name", "mover", "busybox", "sleep", "60")
    net.ok("network", "connect", "extra", "mover")
    inside = net.sh("mover", "ip -4 -o addr").stdout
    ip = net.ip("mover", "extra")
    assert f"eth1    inet {ip}/24" in inside
    assert net.sh("mover", "ping -c 1 -W 2 peer").returncode == 0
    assert "\tmover " in net.sh("peer", "cat /etc/hosts").stdout
    veth = net.inspect("mover")["NetworkSettings"]["Networks"]["extra"]["HostVeth"]

    net.ok("network", "disconnect", "extra", "mover")
    assert "eth1" not in net.sh("mover", "ip -o link").stdout
    assert veth not in links()
    assert "extra" not in net.inspect("mover")["NetworkSettings"]["Networks"]
    assert "\tmover " not in net.sh("peer", "cat /etc/hosts").stdout
    again = net.onggi("network", "disconnect", "extra", "mover")
    assert again.returncode == 125 and again.stderr.count("\n") == 1


def test_connect_before_start_wires_both_at_start(net):
    net.create("later")
    net.ok("create", "--name", "twice", "busybox", "sleep", "60")
    net.ok("network", "connect", "later", "twice")
    net.ok("start", "twice")
    nets = net.inspect("twice")["NetworkSettings"]["Networks"]
    assert set(nets) == {"bridge", "later"} and all(n["IPAddress"] for n in nets.values())
    names = [line.split(":")[1].strip().split("@")[0] for line in net.sh("twice", "ip -o link").stdout.splitlines()]
    assert names == ["lo", "eth0", "eth1"]


@pytest.mark.parametrize("args, words", [
    (("run", "--rm", "--network", "nosuch", "busybox", "true"), "network nosuch not found"),
    (("run", "--rm", "-p", "80:80:80:80", "busybox", "true"), "invalid -p"),
    (("run", "--rm", "-p", "8080:http", "busybox", "true"), "invalid -p"),
    (("run", "--rm", "--network", "container:nosuch", "busybox", "true"), "no such container"),
    (("network", "create", "--subnet", "10.0.0.0/99", "badnet"), "invalid subnet"),
    (("network", "create", "bridge"), "already exists"),
    (("network", "rm", "bridge"), "pre-defined network"),
    (("network", "rm", "nosuch"), "not found"),
    (("network", "create", "bad/name"), "invalid network name"),
    (("network", "connect", "nosuch", "nosuch"), "not found"),
])
def test_bad_input_is_one_line_and_125(net, args, words):
    proc = net.onggi(*args)
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.count("\n") == 1 and words in proc.stderr, proc.stderr


def test_an_overlapping_subnet_is_refused(net, onggi_config):
    proc = net.onggi("network", "create", "--subnet", onggi_config.bridge_subnet, "clash")
    assert proc.returncode == 125 and "overlaps" in proc.stderr and proc.stderr.count("\n") == 1
    assert "clash" not in net.ok("network", "ls")
    doc = net.create("first")
    subnet = doc["IPAM"]["Config"][0]["Subnet"]
    inner = subnet.replace(".0/24", ".128/25")
    proc = net.onggi("network", "create", "--subnet", inner, "second")
    assert proc.returncode == 125 and "overlaps network first" in proc.stderr
    assert json.loads(net.ok("network", "inspect", "first"))[0]["Name"] == "first"
