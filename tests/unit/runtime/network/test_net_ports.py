"""-p: what a mapping means to networking, clashes between containers, and holding the host port."""
import socket

import pytest

from runtime.container.spec import PortMapping, parse_publish
from runtime.errors import InvalidArgument, PortInUse
from runtime.network import ports


@pytest.mark.parametrize("text, expected", [
    ("8080:80", PortMapping("0.0.0.0", 8080, 80, "tcp")),
    ("8080:80/udp", PortMapping("0.0.0.0", 8080, 80, "udp")),
    ("127.0.0.1:8080:80", PortMapping("127.0.0.1", 8080, 80, "tcp")),
    ("127.0.0.1::80", PortMapping("127.0.0.1", 0, 80, "tcp")),        # a free host port, on loopback
    ("80", PortMapping("0.0.0.0", 0, 80, "tcp")),
])
def test_parse(text, expected):
    assert parse_publish(text) == [expected]


@pytest.mark.parametrize("text", ["", "8080:", "a:80", "8080:80/icmp", "300.1.1.1:80:80",
                                  "8080:80:90:100", "65536:80", "8080:0"])
def test_parse_rejects(text):
    with pytest.raises(InvalidArgument):
        parse_publish(text)


@pytest.mark.parametrize("held, wanted, clash", [
    (("0.0.0.0", 8080, 80, "tcp"), PortMapping("0.0.0.0", 8080, 81, "tcp"), True),
    (("0.0.0.0", 8080, 80, "tcp"), PortMapping("127.0.0.1", 8080, 80, "tcp"), True),   # wildcard covers all
    (("127.0.0.1", 8080, 80, "tcp"), PortMapping("0.0.0.0", 8080, 80, "tcp"), True),
    (("127.0.0.1", 8080, 80, "tcp"), PortMapping("127.0.0.2", 8080, 80, "tcp"), False),
    (("0.0.0.0", 8080, 80, "tcp"), PortMapping("0.0.0.0", 8080, 80, "udp"), False),    # other protocol
    (("0.0.0.0", 8080, 80, "tcp"), PortMapping("0.0.0.0", 8081, 80, "tcp"), False),
])
def test_clash_with_another_container(held, wanted, clash):
    if clash:
        with pytest.raises(PortInUse, match="already allocated"):
            ports.check_unpublished(wanted, [held])
    else:
        ports.check_unpublished(wanted, [held])


def test_reserve_holds_the_port_and_refuses_a_taken_one():
    sock = ports.reserve(PortMapping("127.0.0.1", 0, 80, "tcp"))     # the kernel picks a port
    try:
        port = sock.getsockname()[1]
        assert port > 0
        with pytest.raises(PortInUse, match="already in use"):
            ports.probe(PortMapping("127.0.0.1", port, 80, "tcp"))
        ports.probe(PortMapping("127.0.0.1", port, 80, "udp"))         # udp is another space
    finally:
        sock.close()
    ports.probe(PortMapping("127.0.0.1", port, 80, "tcp"))             # free again


def test_a_port_held_by_any_program_is_refused():
    other = socket.socket()
    other.bind(("127.0.0.1", 0))
    other.listen()
    try:
        with pytest.raises(PortInUse):
            ports.reserve(PortMapping("0.0.0.0", other.getsockname()[1], 80, "tcp"))
    finally:
        other.close()


def test_an_address_the_host_does_not_have():
    with pytest.raises(PortInUse, match="not an address of this host"):
        ports.probe(PortMapping("192.0.2.77", 8080, 80, "tcp"))        # TEST-NET-1: never ours


def test_text():
    assert ports.text("0.0.0.0", 8080, 80, "tcp") == "0.0.0.0:8080->80/tcp"
