"""rtnetlink packing and parsing (the kernel's wire format, without a kernel)."""
import struct

import pytest

from runtime.network import rtnl


def test_attributes_are_padded_to_four_bytes():
    assert rtnl.attr_str(rtnl.IFLA_IFNAME, "eth0") == struct.pack("=HH", 9, 3) + b"eth0\0" + b"\0\0\0"
    assert rtnl.attr_u32(rtnl.IFLA_MASTER, 7) == struct.pack("=HHI", 8, 10, 7)


def test_parse_round_trip_and_nesting():
    inner = rtnl.attr_str(rtnl.IFLA_INFO_KIND, "veth")
    data = rtnl.attr_str(rtnl.IFLA_IFNAME, "veth1234567") + rtnl.attr(rtnl.IFLA_LINKINFO, inner) + \
        rtnl.attr_u32(rtnl.IFLA_LINK, 42)
    attrs = rtnl.parse_attrs(data)
    assert attrs[rtnl.IFLA_IFNAME] == b"veth1234567\0"
    assert rtnl.parse_attrs(attrs[rtnl.IFLA_LINKINFO])[rtnl.IFLA_INFO_KIND] == b"veth\0"
    assert struct.unpack("=I", attrs[rtnl.IFLA_LINK])[0] == 42


def test_parse_masks_the_nested_flag_and_stops_on_garbage():
    flagged = struct.pack("=HH", 8, 0x8000 | 18) + b"abcd"
    assert rtnl.parse_attrs(flagged) == {18: b"abcd"}
    assert rtnl.parse_attrs(struct.pack("=HH", 2, 1)) == {}


@pytest.mark.parametrize("mac", ["02:42:0a:58:00:02", "ff:ff:ff:ff:ff:ff"])
def test_mac_round_trip(mac):
    assert rtnl.mac_text(rtnl.mac_bytes(mac)) == mac


def test_link_message_as_the_kernel_sends_it():
    payload = struct.pack("=BxHiII", 0, 1, 31, rtnl.IFF_UP, 0)
    payload += rtnl.attr_str(rtnl.IFLA_IFNAME, "veth3fa2c1d") + rtnl.attr(rtnl.IFLA_ADDRESS, bytes(range(6)))
    payload += rtnl.attr_u32(rtnl.IFLA_MASTER, 5) + rtnl.attr_u32(rtnl.IFLA_LINK, 2)
    payload += rtnl.attr_str(rtnl.IFLA_IFALIAS, "onggi:" + "a" * 64) + rtnl.attr(rtnl.IFLA_OPERSTATE, b"\x06")
    payload += rtnl.attr(rtnl.IFLA_LINKINFO, rtnl.attr_str(rtnl.IFLA_INFO_KIND, "veth"))
    link = rtnl._link(payload)
    assert (link.index, link.name, link.mac, link.master, link.peer) == (31, "veth3fa2c1d", "00:01:02:03:04:05", 5, 2)
    assert link.up and link.kind == "veth" and link.operstate == "up" and link.alias.endswith("a" * 64)
    assert link.to_dict()["peer_ifindex"] == 2
