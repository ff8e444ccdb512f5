"""The default network: a bridge, a veth pair per container, an address, a route, and
nothing left once the container is gone."""
import json
import subprocess
import time

import pytest

from .helpers import links, wait_until

pytestmark = pytest.mark.root


def test_a_container_is_wired_to_the_bridge(net, onggi_config):
    cid = net.ok("run", "-d", "--name", "wired", "busybox", "sleep", "60")
    doc = net.inspect("wired")
    ns = doc["NetworkSettings"]
    ip, gw = ns["IPAddress"], ns["Gateway"]
    assert ns["Networks"]["bridge"]["IPAddress"] == ip and ns["Bridge"] == onggi_config.bridge_name
    assert ip.startswith(onggi_config.bridge_subnet.rsplit(".", 1)[0]) and ns["IPPrefixLen"] == 24
    assert ns["MacAddress"] == "02:42:" + ":".join(f"{int(x):02x}" for x in ip.split("."))

    # the host's side, as the kernel shows it: the bridge has the gateway, the veth is its port
    host = links()
    veth = ns["Networks"]["bridge"]["HostVeth"]
    assert host[veth]["master"] == onggi_config.bridge_name
    assert host[veth]["ifalias"] == f"{onggi_config.bridge_prefix}:{cid}"
    assert host[veth]["linkinfo"]["info_kind"] == "veth" and len(veth) <= 15
    addr = subprocess.run(["ip", "-j", "addr", "show", onggi_config.bridge_name],
                          capture_output=True, text=True, check=True).stdout
    assert f"{gw}" in [a["local"] for a in json.loads(addr)[0]["addr_info"]]
    # outbound traffic is masqueraded, in onggi's own table, and the host forwards
    rules = subprocess.run(["nft", "list", "table", "inet", onggi_config.nft_table],
                           capture_output=True, text=True, check=True).stdout
    assert f'ip saddr {onggi_config.bridge_subnet} oifname != "{onggi_config.bridge_name}" masquerade' in rules
    assert open("/proc/sys/net/ipv4/ip_forward").read().strip() == "1"

    # the container's side: eth0 with the address, a default route through the gateway, /etc/hosts
    inside = net.sh("wired", "ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /etc/hostname").stdout
    assert f"inet {ip}/24" in inside and f"default via {gw} dev eth0" in inside
    assert f"{ip}\t{cid[:12]} wired" in inside

    # the launch step reported what it made, read back from the kernel
    step = [e for e in net.events("container.step", cid) if e["data"]["step"] == "network"][-1]["data"]
    report = step["report"]
    assert report["host_veth"]["name"] == veth and report["bridge"] == onggi_config.bridge_name
    assert report["address"] == f"{ip}/24" and report["container_veth"]["name"] == "eth0"
    assert report["container_veth"]["peer_ifindex"] == report["host_veth"]["ifindex"]
    assert {"dst": "default", "gateway": gw, "dev": "eth0"} in report["routes"]
    connected = net.events("network.connected", cid)[-1]["data"]
    assert (connected["host_veth"], connected["container_veth"], connected["address"]) == (veth, "eth0", f"{ip}/24")


def test_two_containers_ping_and_talk_tcp(net):
    net.serve("srv", text="over-tcp")
    net.ok("run", "-d", "--name", "cli", "busybox", "sleep", "60")
    ip = net.ours(net.ip("srv"))
    assert net.sh("cli", f"ping -c 1 -W 2 {ip}").returncode == 0
    got = net.fetch("cli", f"http://{ip}/")
    assert got.returncode == 0 and got.stdout == "over-tcp\n", got.stderr
    # and the other way round, with nc: a TCP stream both ways
    cli = net.ours(net.ip("cli"))
    net.sh("cli", "nc -l -p 7000 -e echo pong > /dev/null 2>&1 &")
    for _ in range(20):
        reply = net.sh("srv", f"echo ping | timeout 3 nc {cli} 7000").stdout
        if reply.strip() == "pong":
            break
        time.sleep(0.1)                      # nc is still starting
    assert reply.strip() == "pong"


def test_none_has_only_loopback(net):
    out = net.ok("run", "--rm", "--network", "none", "busybox", "ip", "-o", "link")
    names = [line.split(":")[1].strip() for line in out.splitlines()]
    assert names == ["lo"] and "UP" in out


def test_container_mode_shares_the_netns(net):
    net.ok("run", "-d", "--name", "owner", "busybox", "sleep", "60")
    ip = net.ip("owner")
    owner_ns = net.sh("owner", "readlink /proc/self/ns/net").stdout.strip()
    out = net.ok("run", "--rm", "--network", "container:owner", "busybox", "sh", "-c",
                 "readlink /proc/self/ns/net; ip -4 -o addr show eth0; hostname")
    assert out.splitlines()[0] == owner_ns
    assert f"inet {ip}/" in out
    # and, as in Docker, the owner's host name (its /etc/hosts names it)
    assert out.splitlines()[-1] == net.sh("owner", "hostname").stdout.strip()


def test_nothing_is_left_after_rm(net, onggi_config, rt):
    cid = net.ok("run", "-d", "--name", "gone", "busybox", "sleep", "60")
    veth = net.inspect("gone")["NetworkSettings"]["Networks"]["bridge"]["HostVeth"]
    assert veth in links()
    net.ok("rm", "-f", "gone")
    assert wait_until(lambda: veth not in links()), "the kernel did not remove the veth"
    leases = rt.networks.store.leases(rt.networks.get("bridge")).leases
    assert cid not in {lease.container for lease in leases.values()}
    assert net.events("network.disconnected", cid)


def test_run_rm_leaves_no_lease_or_veth(net, rt, onggi_config):
    def ours():
        return {name for name, link in links().items()
                if (link.get("ifalias") or "").startswith(onggi_config.bridge_prefix + ":")}
    before = ours()
    net.ok("run", "--rm", "--name", "quick", "busybox", "true")
    leases = rt.networks.store.leases(rt.networks.get("bridge")).leases.values()
    assert "quick" not in {lease.name for lease in leases}
    assert wait_until(lambda: ours() <= before)
