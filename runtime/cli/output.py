"""How the CLI prints: Docker's tables, sizes and times."""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone


def table(headers: list[str], rows: list[list[str]], out=None) -> None:
    """Left-aligned columns, three spaces apart, as `docker ps` prints them."""
    out = out or sys.stdout
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(str(cell)))
    for row in [headers] + rows:
        cells = [str(c).ljust(widths[i]) for i, c in enumerate(row)]
        out.write("   ".join(cells).rstrip() + "\n")


def human_size(n: int | float | None) -> str:
    """Docker's units: decimal, three significant digits (4.26MB, 512kB, 0B)."""
    if n is None:
        return "--"
    n = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            if unit == "B":
                return f"{int(n)}B"
            return f"{n:.3g}{unit}"
        n /= 1000
    return f"{n}B"


def human_binary(n: int | None) -> str:
    """Binary units for memory, as `docker stats` shows them (1.5MiB / 64MiB)."""
    if n is None:
        return "--"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{int(n)}B" if unit == "B" else f"{n:.4g}{unit}"
        n /= 1024
    return f"{n}B"


def parse_time(text: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.strptime(text[:26].rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    except ValueError:
        try:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None


def duration(seconds: float) -> str:
    """Docker's go-units HumanDuration: 'Less than a second', '3 minutes', 'About an hour'."""
    s = int(seconds)
    if s < 1:
        return "Less than a second"
    if s == 1:
        return "1 second"
    if s < 60:
        return f"{s} seconds"
    m = s // 60
    if m == 1:
        return "About a minute"
    if m < 60:
        return f"{m} minutes"
    h = round(s / 3600)
    if h == 1:
        return "About an hour"
    if h < 48:
        return f"{h} hours"
    if h < 24 * 7 * 2:
        return f"{h // 24} days"
    if h < 24 * 30 * 2:
        return f"{h // 24 // 7} weeks"
    if h < 24 * 365 * 2:
        return f"{h // 24 // 30} months"
    return f"{h // 24 // 365} years"


def ago(text: str) -> str:
    when = parse_time(text)
    if when is None:
        return ""
    return duration((datetime.now(timezone.utc) - when).total_seconds()) + " ago"


def print_documents(docs: list, template: str | None) -> None:
    """`inspect`'s output: one filled-in template per document with -f, else a JSON array."""
    if template:
        from .template import compile_template
        fill = compile_template(template)      # a bad template fails before any output
        for doc in docs:
            print(fill(doc))
    else:
        print_json(docs)


def print_json(data) -> None:
    json.dump(data, sys.stdout, indent=4, ensure_ascii=False)
    sys.stdout.write("\n")


def truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
