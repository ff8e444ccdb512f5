"""Resource flags as Docker reads them: ``-m 64m``, ``--cpus 0.5``, ``--pids-limit``,
``--cpu-shares``.

Pure functions from the flag's text to the number :class:`runtime.cgroups.Limits`
wants; a bad value raises :class:`runtime.errors.InvalidArgument` with a one-line
message that says what to type instead. Sizes follow docker/go-units
``RAMInBytes`` (binary units: 1k = 1024, an optional "b"/"ib" suffix, one optional
space), the checks follow the Docker daemon (memory at least 6 MiB, CPUs from 0.01
to the number of CPUs).
"""
from __future__ import annotations

import os

from runtime.errors import InvalidArgument

MIN_MEMORY = 6 * 1024 * 1024    # the Docker daemon's minimum for -m ("6MB")
MAX_SHARES = 262_144            # the kernel's MAX_SHARES (1 << 18)

_MULTIPLIERS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
# "64", "64b", "64k", "64kb", "64ki", "64kib" (any case), as go-units accepts.
_SUFFIXES = {"": 1, "b": 1} | {
    prefix + tail: mul for prefix, mul in _MULTIPLIERS.items() if prefix
    for tail in ("", "b", "i", "ib")
}


def _decimal(text: str) -> float | None:
    """TEXT as a plain non-negative decimal ("64", "0.5"), else None. Stricter
    than float(): no sign, exponent, underscores, "inf" or "nan"."""
    whole, dot, frac = text.partition(".")
    if not (whole.isascii() and whole.isdigit()) or (dot and not (frac.isascii() and frac.isdigit())):
        return None
    return float(text)


def parse_bytes(text: str, *, what: str = "size") -> int:
    """A size like "64m", "1.5g", "512kb", "100" (bytes) in bytes.

    >>> parse_bytes("64m")
    67108864
    """
    s = str(text).lower()
    end = len(s.rstrip("kmgtpib"))
    number, suffix = s[:end], s[end:]
    if number.endswith(" "):        # "64 m": go-units allows one space before the unit
        number = number[:-1]
    value = _decimal(number)
    if value is None or suffix not in _SUFFIXES:
        raise InvalidArgument(
            f"invalid {what} '{text}': use a number with an optional unit b, k, m or g (e.g. 64m)")
    return int(value * _SUFFIXES[suffix])


def parse_memory(text: str) -> int | None:
    """``-m/--memory``: bytes, at least 6 MiB as Docker requires (less cannot even
    start a process); 0 means no limit (None), as in Docker."""
    value = parse_bytes(text, what="memory size")
    if value == 0:
        return None
    if value < MIN_MEMORY:
        raise InvalidArgument(f"invalid memory size '{text}': the minimum is 6m")
    return value


def parse_cpus(text: str, *, ncpu: int | None = None) -> float | None:
    """``--cpus``: how many CPUs' worth of time, from 0.01 to NCPU (this process's
    CPUs by default, as Docker counts them), or 0 for no limit (None), as in Docker.
    Feed it to ``Limits.from_cpus``."""
    if ncpu is None:
        ncpu = len(os.sched_getaffinity(0))
    # Docker reads --cpus as a Go big.Rat, which takes ".5" and "1." too.
    s = str(text)
    value = None if s == "." else _decimal(("0" + s if s.startswith(".") else s) + ("0" if s.endswith(".") else ""))
    if value is None:
        raise InvalidArgument(f"invalid --cpus '{text}': use a number of CPUs (e.g. 0.5)")
    if value == 0:
        return None
    if not 0.01 <= value <= ncpu:
        raise InvalidArgument(
            f"invalid --cpus '{text}': range of CPUs is from 0.01 to {ncpu}.00, "
            f"as there {'is' if ncpu == 1 else 'are'} only {ncpu} "
            f"CPU{'' if ncpu == 1 else 's'} available")
    return value


def _integer(text: str, flag: str) -> int:
    try:
        return int(str(text), 10)
    except ValueError:
        raise InvalidArgument(f"invalid {flag} '{text}': use a whole number") from None


def parse_pids_limit(text: str) -> int | None:
    """``--pids-limit``: the most processes; 0 or negative (Docker's -1) means no
    limit, returned as None."""
    value = _integer(text, "--pids-limit")
    return value if value > 0 else None


def parse_cpu_shares(text: str) -> int | None:
    """``--cpu-shares``: relative CPU weight (default 1024); 0 means the default
    (None). Like the Docker daemon, values outside the kernel's 2..262144 are
    brought to the nearest end rather than refused."""
    value = _integer(text, "--cpu-shares")
    if value < 0:
        raise InvalidArgument(f"invalid --cpu-shares '{text}': use a number from 2 to {MAX_SHARES}")
    return None if value == 0 else min(max(value, 2), MAX_SHARES)
