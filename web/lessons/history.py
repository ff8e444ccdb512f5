"""The events a lesson's checks count: those appended to the events log since a moment.

Checks that read events ("you ran ps", "you built it twice") count only what
happened since the learner started or reset the lesson. The log only grows, so
it is read backwards from its end, a chunk at a time, until events older than
that moment show up: a check costs what the lesson produced, not the whole log.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

CHUNK = 64 * 1024
# Several processes append to the log with their own clocks' idea of "now": an
# event may land a little after a later one. Read this far past the moment.
SKEW = 2.0
MAX_EVENTS = 20_000


def events_since(path: Path, since: float, *, chunk: int = CHUNK) -> list[dict]:
    """Every event in the log at PATH whose time is >= SINCE, oldest first."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return []
    with f:
        end = os.fstat(f.fileno()).st_size
        found: list[dict] = []
        tail = b""
        pos = end
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
                event = _parse(line)
                if event is None:
                    continue
                found.append(event)
                oldest = event["time"] if oldest is None else min(oldest, event["time"])
            if oldest is not None and oldest < since - SKEW:
                break
    found.reverse()
    return [e for e in found if e["time"] >= since]


def _parse(line: bytes) -> dict | None:
    line = line.strip()
    if not line:
        return None
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or "type" not in event:
        return None
    try:
        event["time"] = float(event.get("time") or 0)
    except (TypeError, ValueError):
        return None
    return event
