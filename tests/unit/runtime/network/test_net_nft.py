"""The nftables table onggi generates, and reading back the published ports."""
import json
from pathlib import Path
from types import SimpleNamespace

from runtime.network.nft import Published, parse_published, ruleset

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT = SimpleNamespace(bridge="onggi0", subnet="10.88.0.0/16")
USER = SimpleNamespace(bridge="onggi-3fa2c1d0e", subnet="10.89.0.0/24")
WEB = Published("c" * 64, "0.0.0.0", 8080, "10.88.0.2", 80)
DNS = Published("d" * 64, "127.0.0.1", 5353, "10.89.0.2", 53, "udp")


def rules(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_replaces_the_whole_table_atomically():
    text = ruleset("onggi", [DEFAULT])
    lines = rules(text)
    # create-if-missing, delete, create: one nft -f transaction whatever existed before
    assert lines[:4] == ["table inet onggi {", "}", "delete table inet onggi", "table inet onggi {"]
    assert text.endswith("}\n")


def test_masquerade_per_network_and_for_localhost():
    lines = rules(ruleset("onggi", [DEFAULT, USER]))
    assert 'ip saddr 10.88.0.0/16 oifname != "onggi0" masquerade' in lines
    assert 'ip saddr 10.89.0.0/24 oifname != "onggi-3fa2c1d0e" masquerade' in lines
    assert 'ip saddr 127.0.0.0/8 oifname { "onggi-3fa2c1d0e", "onggi0" } masquerade' in lines


def test_isolation_both_ways_but_published_ports_pass():
    lines = rules(ruleset("onggi", [DEFAULT, USER]))
    assert 'iifname "onggi0" oifname "onggi-3fa2c1d0e" drop' in lines
    assert 'iifname "onggi-3fa2c1d0e" oifname "onggi0" drop' in lines
    assert lines.index("ct status dnat accept") < lines.index('iifname "onggi0" oifname "onggi-3fa2c1d0e" drop')


def test_one_network_has_nothing_to_isolate():
    lines = rules(ruleset("onggi", [DEFAULT]))
    assert not [line for line in lines if line.endswith(" drop") and "oifname" in line]


def test_published_ports_dnat_from_outside_and_from_the_host():
    text = ruleset("onggi", [DEFAULT, USER], [DNS, WEB])
    lines = rules(text)
    assert f'tcp dport 8080 dnat ip to 10.88.0.2:80 comment "{"c" * 64}"' in lines
    assert f'ip daddr 127.0.0.1 udp dport 5353 dnat ip to 10.89.0.2:53 comment "{"d" * 64}"' in lines
    assert lines.count("fib daddr type local jump published") == 2        # prerouting and output
    assert "type nat hook output priority -100; policy accept;" in lines


def test_loopback_is_guarded_before_nat():
    lines = rules(ruleset("onggi", [DEFAULT]))
    assert "type filter hook prerouting priority raw; policy accept;" in lines
    assert 'iifname "onggi0" ip daddr 127.0.0.0/8 drop' in lines


def test_same_input_same_text():
    a = ruleset("t", [USER, DEFAULT], [WEB, DNS])
    b = ruleset("t", [DEFAULT, USER], [DNS, WEB])
    assert a == b


def test_no_networks_is_an_empty_but_valid_table():
    lines = rules(ruleset("onggi_test", []))
    assert "masquerade" not in " ".join(lines) and "drop" not in " ".join(lines)
    assert lines[-1] == "}"


def test_parse_published_from_real_nft_json():
    doc = json.loads((FIXTURES / "nft-published.json").read_text())
    assert parse_published(doc) == [
        Published("c" * 64, "0.0.0.0", 18080, "10.123.0.2", 80, "tcp"),
        Published("d" * 64, "127.0.0.1", 18081, "10.123.0.3", 53, "udp"),
    ]


def test_parse_published_ignores_what_is_not_a_mapping():
    assert parse_published({}) == []
    assert parse_published({"nftables": [{"rule": {"expr": [{"accept": None}]}}]}) == []
