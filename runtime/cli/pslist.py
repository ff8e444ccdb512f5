"""`onggi ps --filter/--format`: Docker's filters and placeholders for the container list.

Scripts written for Docker say ``docker ps -aq -f status=exited`` and
``docker ps --format '{{.Names}}'``; the same words work here, and a filter or
placeholder onggi does not know is one clear error, never a silently wrong list.
"""
from __future__ import annotations

import json

from ..errors import InvalidArgument

# Docker's placeholders and the header `table` prints for each.
HEADERS = {"ID": "CONTAINER ID", "Image": "IMAGE", "Command": "COMMAND", "CreatedAt": "CREATED AT",
           "RunningFor": "CREATED", "Ports": "PORTS", "State": "STATE", "Status": "STATUS",
           "Size": "SIZE", "Names": "NAMES", "Labels": "LABELS", "Mounts": "MOUNTS",
           "Networks": "NETWORKS"}
DEFAULT_TABLE = ("table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t"
                 "{{.Ports}}\t{{.Names}}")
FILTERS = ("id", "name", "status", "label", "ancestor", "exited")
STATUSES = ("created", "restarting", "running", "removing", "paused", "exited", "dead")


def parse_filters(items: list[str]) -> dict[str, list[str]]:
    """``-f KEY=VALUE`` flags, by key: values of one key are OR-ed, keys AND-ed (Docker's rule)."""
    out: dict[str, list[str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep or key not in FILTERS:
            raise InvalidArgument(f"invalid filter '{item}'",
                                  hint=f"use KEY=VALUE with KEY one of {', '.join(FILTERS)}")
        if key == "status" and value not in STATUSES:
            raise InvalidArgument(f"invalid filter 'status={value}'",
                                  hint=f"use one of {', '.join(STATUSES)}")
        if key == "exited" and not value.lstrip("-").isdigit():
            raise InvalidArgument(f"invalid filter 'exited={value}'", hint="use an exit code, e.g. exited=0")
        out.setdefault(key, []).append(value)
    return out


def matches(c, filters: dict[str, list[str]]) -> bool:
    status = c.state.status.value
    labels = dict(c.spec.labels)
    tests = {
        "id": lambda v: c.id.startswith(v),
        "name": lambda v: v.lstrip("/") in c.name,          # Docker: a substring of the name
        "status": lambda v: status == v,
        "label": lambda v: (labels.get(v.partition("=")[0]) == v.partition("=")[2]
                            if "=" in v else v in labels),
        "ancestor": lambda v: _same_image(c.record.image, v),
        "exited": lambda v: status == "exited" and c.state.exit_code == int(v),
    }
    return all(any(tests[key](v) for v in values) for key, values in filters.items())


def _same_image(have: str, want: str) -> bool:
    def norm(ref: str) -> str:
        return ref if ":" in ref.rpartition("/")[2] or "@" in ref else ref + ":latest"
    return norm(have) == norm(want)


class Placeholders(dict):
    """A row whose unknown placeholder is an error, as in Docker, not an empty column."""

    def get(self, key, default=None):
        if key not in self:
            raise InvalidArgument(f"invalid --format: no placeholder .{key}",
                                  hint=f"use {', '.join('.' + k for k in HEADERS)}")
        return self[key]


def fields(c, *, no_trunc: bool, published: list | None, ports_text, status_text, ago) -> dict:
    """One container as Docker's ps placeholders see it."""
    command = " ".join(c.record.process.args)
    if not no_trunc and len(command) > 20:
        command = command[:19] + "…"
    created = c.record.created
    return Placeholders({
        "ID": c.id if no_trunc else c.short_id,
        "Image": c.record.image,
        "Command": f'"{command}"',
        "CreatedAt": _created_at(created),
        "RunningFor": ago(created),
        "Ports": ports_text(c.spec, published),
        "State": c.state.status.value,
        "Status": status_text(c.state),
        "Size": "",
        "Names": c.name,
        "Labels": ",".join(f"{k}={v}" for k, v in c.spec.labels),
        "Mounts": ",".join(v.source for v in c.spec.volumes),
        "Networks": c.spec.network,
    })


def _created_at(text: str) -> str:
    # Docker prints Go's time.String(): "2026-11-28 13:18:14 +0000 UTC".
    from .output import parse_time
    when = parse_time(text)
    return when.strftime("%Y-%m-%d %H:%M:%S +0000 UTC") if when else ""


def render(rows: list[dict], template: str, out) -> None:
    """Print ROWS with Docker's --format: 'table …' (a header and aligned columns),
    'json' (one object a line), or a template printed once per container."""
    from . import output
    from .template import compile_template
    if template == "json":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    # Docker turns the two-character escapes \t and \n into the real characters.
    template = template.replace("\\t", "\t").replace("\\n", "\n")
    table = template.startswith("table")
    if table:
        template = template[len("table"):].strip(" ")
    fill = compile_template(template)
    lines = [fill(row) for row in rows]
    if not table:
        for line in lines:
            out.write(line + "\n")
        return
    header = fill(Placeholders(HEADERS)).split("\t")
    output.table(header, [line.split("\t") for line in lines], out=out)
