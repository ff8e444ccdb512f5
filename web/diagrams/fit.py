"""Long kernel text made to fit a table cell; the cell's tooltip keeps the whole of it.

Graphviz sizes a cell from its own estimate of the font, and the browser draws with the
real one: a long path or command line ran past its cell's border (the merged mountpoint,
a process still waiting in onggi's launcher). So such text is shortened where a learner
loses least: a 64-digit id to the 12 digits `onggi ps` shows, a program to its name.
"""
from __future__ import annotations

import re

_ID = re.compile(r"\b([0-9a-f]{12})[0-9a-f]{52}\b")


def short_ids(text: str) -> str:
    """Every 64-hex-digit id in TEXT as its first 12 digits and an ellipsis."""
    return _ID.sub(r"\1…", text)


def cut(text: str, n: int) -> str:
    """TEXT at most N characters long, an ellipsis saying when it was cut."""
    return text if len(text) <= n else text[:n - 1] + "…"


def short_path(path: str, n: int = 48) -> str:
    """A path with its ids shortened; still too long, its head gives way (the tail names it)."""
    path = short_ids(path)
    return path if len(path) <= n else "…" + path[-(n - 1):]


def short_cmd(cmd: str, n: int = 28) -> str:
    """A command line with its program as a name, not a path (/usr/bin/python -m x: python -m x)."""
    program, sep, rest = cmd.partition(" ")
    return cut(program.rsplit("/", 1)[-1] + sep + rest, n)
