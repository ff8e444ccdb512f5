"""runtime/cgroups/units.py: Docker's resource flags."""
from __future__ import annotations

import pytest

from runtime.cgroups import Limits
from runtime.cgroups.units import (
    parse_bytes, parse_cpu_shares, parse_cpus, parse_memory, parse_pids_limit,
)
from runtime.errors import InvalidArgument

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30


@pytest.mark.parametrize("text, expected", [
    ("64m", 64 * MiB), ("64M", 64 * MiB), ("64mb", 64 * MiB), ("64MB", 64 * MiB),
    ("64mib", 64 * MiB), ("64MiB", 64 * MiB), ("64 m", 64 * MiB),
    ("1g", GiB), ("1.5g", GiB + GiB // 2), ("6.5m", 6 * MiB + MiB // 2),
    ("6291456", 6 * MiB), ("6291456b", 6 * MiB), ("8192k", 8 * MiB), ("8192KB", 8 * MiB),
    ("1t", 1 << 40),
])
def test_parse_memory(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", [
    "64x", "-1m", "abc", "", "m", "1.2.3m", "64  m", " 64m", "64m ", "1e3", "64i", "64bb",
    "0x40m", "+64m", "٦٤m", ".5m", "5.m",
])
def test_parse_memory_refuses(text):
    with pytest.raises(InvalidArgument) as info:
        parse_memory(text)
    assert str(info.value) == (f"invalid memory size '{text}': use a number with an optional "
                               "unit b, k, m or g (e.g. 64m)")


@pytest.mark.parametrize("text", ["1", "1m", "6291455"])
def test_parse_memory_minimum_is_dockers(text):
    with pytest.raises(InvalidArgument, match=f"invalid memory size '{text}': the minimum is 6m"):
        parse_memory(text)


@pytest.mark.parametrize("text, expected", [("0", 0), ("1k", KiB), ("512k", 512 * KiB), ("0.5m", MiB // 2)])
def test_parse_bytes_has_no_minimum(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("0.5", 0.5), ("1", 1.0), ("1.25", 1.25), ("0.01", 0.01), ("2", 2.0), ("2.00", 2.0),
    (".5", 0.5), ("1.", 1.0),
])
def test_parse_cpus(text, expected):
    assert parse_cpus(text, ncpu=2) == expected


def test_parse_cpus_feeds_limits():
    assert Limits.from_cpus(parse_cpus("0.5", ncpu=1)).cpu_quota == 50_000


@pytest.mark.parametrize("text", ["abc", "-1", "nan", "inf", "1e3", "", "0,5", "½", ".", "..5", "1.."])
def test_parse_cpus_refuses_non_numbers(text):
    with pytest.raises(InvalidArgument, match=f"invalid --cpus '{text}': use a number of CPUs"):
        parse_cpus(text, ncpu=2)


@pytest.mark.parametrize("memory, cpus", [("0", "0"), ("0m", "0.0"), ("0b", "0.00")])
def test_zero_means_no_limit_as_in_docker(memory, cpus):
    assert parse_memory(memory) is None and parse_cpus(cpus, ncpu=2) is None


@pytest.mark.parametrize("text", ["0.001", "2.5", "3"])
def test_parse_cpus_range(text):
    with pytest.raises(InvalidArgument) as info:
        parse_cpus(text, ncpu=2)
    assert str(info.value) == (f"invalid --cpus '{text}': range of CPUs is from 0.01 to 2.00, "
                               "as there are only 2 CPUs available")


def test_parse_cpus_one_cpu_grammar():
    with pytest.raises(InvalidArgument, match="there is only 1 CPU available"):
        parse_cpus("2", ncpu=1)


def test_parse_cpus_counts_this_machine_by_default():
    assert parse_cpus("0.01") == 0.01


@pytest.mark.parametrize("text, expected", [
    ("100", 100), ("1", 1), ("0", None), ("-1", None), ("-5", None),
])
def test_parse_pids_limit(text, expected):
    assert parse_pids_limit(text) == expected


@pytest.mark.parametrize("text", ["abc", "1.5", "", "10k"])
def test_parse_pids_limit_refuses(text):
    with pytest.raises(InvalidArgument, match=f"invalid --pids-limit '{text}': use a whole number"):
        parse_pids_limit(text)


@pytest.mark.parametrize("text, expected", [
    ("512", 512), ("1024", 1024), ("0", None), ("1", 2), ("300000", 262_144),
])
def test_parse_cpu_shares(text, expected):
    assert parse_cpu_shares(text) == expected


@pytest.mark.parametrize("text", ["-5", "x", "1.5"])
def test_parse_cpu_shares_refuses(text):
    with pytest.raises(InvalidArgument, match=f"invalid --cpu-shares '{text}'"):
        parse_cpu_shares(text)
