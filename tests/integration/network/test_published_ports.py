"""-p: the host reaches a container's port on 127.0.0.1, so do other hosts; a taken port
fails before anything is made; the rule goes with the container."""
import socket
import subprocess
import time
import urllib.request

import pytest

pytestmark = pytest.mark.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, tries: int = 30) -> str:
    for _ in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=3) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url}")


def rules(table: str) -> str:
    return subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True).stdout


def test_host_reaches_a_published_port_on_localhost(net, onggi_config):
    port = free_port()
    cid = net.serve("web", "-p", f"{port}:80", text="published")
    assert get(f"http://127.0.0.1:{port}/") == "published\n"
    ps = net.ok("ps")
    assert f"0.0.0.0:{port}->80/tcp" in ps
    assert net.inspect("web")["NetworkSettings"]["Ports"] == {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": str(port)}]}
    assert f"tcp dport {port} dnat ip to" in rules(onggi_config.nft_table)
    net.ok("rm", "-f", "web")
    assert f"dport {port}" not in rules(onggi_config.nft_table)       # the rule went with it
    assert cid not in rules(onggi_config.nft_table)


def test_other_hosts_reach_it_through_the_hosts_address(net):
    """Another host is played by a container on another network: it connects to the
    host's address on its own bridge, which is not loopback, so the prerouting DNAT
    (the path packets from other machines take) is what brings it to the container."""
    port = free_port()
    net.serve("web", "-p", f"{port}:80", text="from-afar")
    other = net.create("elsewhere")
    gateway = net.host_address_on_bridge(other["IPAM"]["Config"][0]["Gateway"],
                                         other["Options"]["com.docker.network.bridge.name"])
    net.ok("run", "-d", "--name", "visitor", "--network", "elsewhere", "busybox", "sleep", "60")
    got = net.fetch("visitor", f"http://{gateway}:{port}/")
    assert got.stdout == "from-afar\n", got.stderr
    # while the container's own address stays out of reach from that network
    direct = net.ours(net.ip("web"))
    assert net.sh("visitor", f"ping -c 1 -W 1 {direct}").returncode != 0


def test_loopback_only_binding_and_a_kernel_chosen_port(net):
    net.serve("lo-only", "-p", "127.0.0.1::80", text="picked")
    ports = net.inspect("lo-only")["NetworkSettings"]["Ports"]["80/tcp"]
    assert ports[0]["HostIp"] == "127.0.0.1" and int(ports[0]["HostPort"]) > 0
    assert get(f"http://127.0.0.1:{ports[0]['HostPort']}/") == "picked\n"


def test_a_taken_port_fails_before_anything_is_made(net, rt):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    try:
        before = set(rt.containers.ids())
        proc = net.onggi("run", "-d", "-p", f"127.0.0.1:{port}:80", "busybox", "true")
        assert proc.returncode == 125
        assert proc.stderr.count("\n") == 1 and "already in use" in proc.stderr
        assert set(rt.containers.ids()) == before
    finally:
        holder.close()


def test_a_port_another_container_publishes(net):
    port = free_port()
    net.ok("run", "-d", "-p", f"{port}:80", "busybox", "sleep", "60")
    proc = net.onggi("run", "--rm", "-p", f"{port}:81", "busybox", "true")
    assert proc.returncode == 125 and "already allocated" in proc.stderr
    assert proc.stderr.count("\n") == 1
