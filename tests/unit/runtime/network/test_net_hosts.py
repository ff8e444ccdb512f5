"""/etc/hosts: our section below a marker, rewritten in place, peers only on user networks."""
import os
from types import SimpleNamespace

from runtime.network import hosts
from runtime.network.ipam import Lease, LeaseTable

BASE = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
A, B, C = "a" * 64, "b" * 64, "c" * 64


def table(*leases):
    return LeaseTable({lease.address: lease for lease in leases})


def test_render_keeps_what_is_above_the_marker():
    once = hosts.render(BASE, [("10.88.0.2", ["abc", "web"])])
    assert once == BASE + hosts.MARKER + "\n10.88.0.2\tabc web\n"
    twice = hosts.render(once, [("10.88.0.3", ["x"])])
    assert twice == BASE + hosts.MARKER + "\n10.88.0.3\tx\n"
    assert hosts.render(twice, []) == BASE


def test_rewrite_in_place_keeps_the_inode(tmp_path):
    path = tmp_path / "hosts"
    path.write_text(BASE)
    inode = os.stat(path).st_ino
    assert hosts.rewrite(str(path), [("10.88.0.2", ["abc"])])
    assert os.stat(path).st_ino == inode                      # a bind mount pins the inode
    assert path.read_text().endswith("10.88.0.2\tabc\n")
    assert not hosts.rewrite(str(tmp_path / "gone"), [])


def test_default_network_lists_only_the_container_itself():
    bridge = SimpleNamespace(name="bridge", user_defined=False)
    t = table(Lease("10.88.0.2", A, name="web", hostname="aaaaaaaaaaaa"),
              Lease("10.88.0.3", B, name="db", hostname="bbbbbbbbbbbb"))
    assert hosts.entries_for(A, [(bridge, t)]) == [("10.88.0.2", ["aaaaaaaaaaaa", "web"])]


def test_user_network_lists_peers_by_name_and_short_id():
    bridge = SimpleNamespace(name="bridge", user_defined=False)
    mynet = SimpleNamespace(name="mynet", user_defined=True)
    other = SimpleNamespace(name="other", user_defined=True)
    leases = [(bridge, table(Lease("10.88.0.2", A, name="web", hostname="aaa"))),
              (mynet, table(Lease("10.89.0.2", A, name="web", hostname="aaa"),
                            Lease("10.89.0.3", B, name="db", hostname="bbb"))),
              (other, table(Lease("10.90.0.2", C, name="cache", hostname="ccc")))]
    assert hosts.entries_for(A, leases) == [("10.88.0.2", ["aaa", "web"]), ("10.89.0.2", ["aaa", "web"]),
                                            ("10.89.0.3", ["db", "bbb"])]
    assert hosts.entries_for(C, leases) == [("10.90.0.2", ["ccc", "cache"])]     # isolated: no peers


def test_copy_in_place(tmp_path):
    src, dst = tmp_path / "a", tmp_path / "b"
    src.write_text("1.2.3.4 x\n")
    dst.write_text("a much longer old content that must not survive\n")
    inode = os.stat(dst).st_ino
    hosts.copy(str(src), str(dst))
    assert dst.read_text() == "1.2.3.4 x\n" and os.stat(dst).st_ino == inode
