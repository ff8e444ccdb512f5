"""Network records: the default network from the Config, names, ids, bridge names."""
import ipaddress

import pytest

from runtime.config import Config
from runtime.errors import Conflict, InvalidArgument, NetworkNotFound
from runtime.network import endpoint
from runtime.network.store import NetworkStore, validate_name


@pytest.fixture
def store(tmp_path):
    return NetworkStore(Config(root=tmp_path, bridge_name="onggi1a2b0", bridge_prefix="onggi1a2b",
                               bridge_subnet="10.150.3.0/24"))


def add(store, name, subnet):
    net = store.new(name, ipaddress.IPv4Network(subnet), ipaddress.IPv4Network(subnet).network_address + 1)
    store.add(net)
    return net


def test_the_default_network_is_the_configs(store):
    net = store.default()
    assert (net.name, net.bridge, net.subnet, net.gateway) == ("bridge", "onggi1a2b0", "10.150.3.0/24", "10.150.3.1")
    assert net.builtin and not net.user_defined and str(net.interface) == "10.150.3.1/24"
    assert store.default().id == net.id                                  # stable


def test_list_is_dockers_order(store):
    add(store, "zeta", "10.151.0.0/24")
    add(store, "alpha", "10.152.0.0/24")
    assert [n.name for n in store.list()] == ["bridge", "host", "none", "alpha", "zeta"]
    assert [n.driver for n in store.list()][:3] == ["bridge", "host", "null"]


def test_user_bridges_carry_the_prefix_and_fit_ifnamsiz(store):
    for i in range(20):
        net = add(store, f"n{i}", f"10.160.{i}.0/24")
        assert net.bridge.startswith("onggi1a2b-") and len(net.bridge) <= 15
    assert len({n.bridge for n in store.bridges()}) == 21


def test_a_prefix_too_long_for_bridge_names(tmp_path):
    s = NetworkStore(Config(root=tmp_path, bridge_prefix="onggi-much-longer"))
    with pytest.raises(InvalidArgument, match="too long"):
        s.new("x", ipaddress.IPv4Network("10.1.0.0/24"), ipaddress.IPv4Address("10.1.0.1"))


def test_get_by_name_id_and_prefix(store):
    net = add(store, "mynet", "10.151.0.0/24")
    assert store.get("mynet") == net == store.get(net.id) == store.get(net.id[:10])
    assert store.get("bridge").builtin and store.get("host").driver == "host"
    with pytest.raises(NetworkNotFound):
        store.get("nosuch")


def test_names(store):
    add(store, "mynet", "10.151.0.0/24")
    with pytest.raises(Conflict):
        add(store, "mynet", "10.152.0.0/24")
    for bad in ("", "-x", "a b", "a/b", "x" * 65):
        with pytest.raises(InvalidArgument):
            validate_name(bad)
    for builtin in ("bridge", "host", "none"):
        with pytest.raises(Conflict, match="already exists"):
            validate_name(builtin)


def test_veth_alias_names_which_onggi_and_container():
    alias = endpoint.alias("onggi1a2b", "c" * 64)
    assert endpoint.parse_alias("onggi1a2b", alias) == "c" * 64
    assert endpoint.parse_alias("onggi", alias) is None          # the real onggi leaves test veths alone
    assert endpoint.parse_alias("onggi", None) is None
    name = endpoint.new_veth_name()
    assert name.startswith("veth") and len(name) == 11
