"""What bridge.py reads from the kernel's files (routes, sysctls, sysfs)."""
import ipaddress

from runtime.network import bridge

ROUTE = """Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth0\t00000000\t0100FC0A\t0003\t0\t0\t0\t00000000\t0\t0\t0
eth0\t0000FC0A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
onggi0\t0000580A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0
"""


def test_host_routes_skip_the_default_route(tmp_path):
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "route").write_text(ROUTE)
    assert bridge.host_routes(tmp_path) == [(ipaddress.IPv4Network("10.252.0.0/16"), "eth0"),
                                            (ipaddress.IPv4Network("10.88.0.0/16"), "onggi0")]
    assert bridge.host_routes(tmp_path / "nowhere") == []


def test_sysctl_returns_the_old_value(tmp_path):
    (tmp_path / "net/ipv4").mkdir(parents=True)
    (tmp_path / "net/ipv4/ip_forward").write_text("0\n")
    assert bridge.sysctl("net/ipv4/ip_forward", "1", root=tmp_path) == "0"
    assert bridge.sysctl("net/ipv4/ip_forward", root=tmp_path) == "1"


def test_ifindex_from_sysfs(tmp_path):
    (tmp_path / "onggi0").mkdir()
    (tmp_path / "onggi0" / "ifindex").write_text("17\n")
    assert bridge.ifindex("onggi0", tmp_path) == 17
    assert bridge.ifindex("nosuch", tmp_path) is None
