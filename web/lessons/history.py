"""The events a lesson's checks count: those appended to the events log since a moment.

Checks that read events ("you ran ps", "you built it twice") count only what
happened since the learner started or reset the lesson. The log only grows, so
it is read backwards from its end, a chunk at a time, until events older than
that moment show up: a check costs what the lesson produced, not the whole log.
Where the log was rotated since (runtime/eventlog.py), its previous generation
is read on from its end the same way.
"""
from __future__ import annotations

import os
from pathlib import Path

from runtime.eventlog import parse_line, rotated_path

CHUNK = 64 * 1024
# Several processes append to the log with their own clocks' idea of "now": an
# event may land a little after a later one. Read this far past the moment.
SKEW = 2.0
MAX_EVENTS = 20_000


def events_since(path: Path, since: float, *, chunk: int = CHUNK) -> list[dict]:
    """Every event in the log at PATH whose time is >= SINCE, oldest first; from
    its rotated generation too when the log was rotated after SINCE."""
    found: list[dict] = []
    for generation in (Path(path), rotated_path(path)):
        if _read_back(generation, since, chunk, found) or len(found) >= MAX_EVENTS:
            break
    found.reverse()
    return [e for e in found if e["time"] >= since]


def _read_back(path: Path, since: float, chunk: int, found: list[dict]) -> bool:
    """Append the events of one log file to FOUND, newest first, until ones older
    than SINCE show up (True: no need to look further back) or the file starts."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return False
    with f:
        tail = b""
        pos = os.fstat(f.fileno()).st_size
        while pos > 0 and len(found) < MAX_EVENTS:
            start = max(0, pos - chunk)
            f.seek(start)
            data = f.read(pos - start) + tail
            pos = start
            lines = data.split(b"\n")
            # The first line may be cut in half unless this chunk starts the file.
            tail = lines.pop(0) if start > 0 else b""
            oldest = None
            for line in reversed(lines):
                event = parse_line(line)
                if event is None:
                    continue
                found.append(event)
                oldest = event["time"] if oldest is None else min(oldest, event["time"])
            if oldest is not None and oldest < since - SKEW:
                return True
    return False
