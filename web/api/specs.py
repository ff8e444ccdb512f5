"""A ContainerSpec from the JSON a browser or a script sends (the same fields as `onggi run`'s flags).

``{"image": "busybox", "cmd": ["sleep", "60"] | "sleep 60", "name": ..., "env": ["A=1"],
"hostname", "workdir", "user", "entrypoint", "memory": "64m" | 67108864, "cpus": 0.5,
"pids_limit": 64, "network": "bridge", "ports": ["8080:80"], "volumes": ["/src:/dst:ro"],
"read_only": false, "auto_remove": false, "tty": false, "interactive": false,
"labels": {"k": "v"}}``. Anything malformed is an InvalidArgument naming the field.
"""
from __future__ import annotations

import shlex

from runtime.errors import InvalidArgument

_KNOWN = {"image", "cmd", "name", "env", "hostname", "workdir", "user", "entrypoint", "memory",
          "cpus", "pids_limit", "network", "ports", "volumes", "read_only", "auto_remove",
          "tty", "interactive", "labels", "start"}


def spec_from_json(body, *, default_network: str = "none"):
    from runtime.cgroups import units
    from runtime.container.spec import ContainerSpec, Volume, parse_publish
    if not isinstance(body, dict):
        raise InvalidArgument("invalid request: send a JSON object like {\"image\": \"busybox\"}")
    unknown = sorted(set(body) - _KNOWN)
    if unknown:
        raise InvalidArgument(f"invalid request: unknown field '{unknown[0]}'",
                              hint="fields: " + ", ".join(sorted(_KNOWN)))
    image = _text(body, "image", required=True)
    memory = body.get("memory")
    cpus = body.get("cpus")
    pids = body.get("pids_limit")
    return ContainerSpec(
        image=image, cmd=_argv(body, "cmd"), entrypoint=_argv(body, "entrypoint", empty_ok=True),
        env=tuple(_strings(body, "env")), workdir=_text(body, "workdir"), user=_text(body, "user"),
        hostname=_text(body, "hostname"), name=_text(body, "name"),
        tty=_flag(body, "tty"), interactive=_flag(body, "interactive"),
        auto_remove=_flag(body, "auto_remove"), read_only=_flag(body, "read_only"),
        memory=units.parse_memory(str(memory)) if memory not in (None, "") else None,
        cpus=units.parse_cpus(str(cpus)) if cpus not in (None, "") else None,
        pids_limit=units.parse_pids_limit(str(pids)) if pids not in (None, "") else None,
        network=_text(body, "network") or default_network,
        ports=tuple(p for s in _strings(body, "ports") for p in parse_publish(s)),
        volumes=tuple(Volume.parse(v) for v in _strings(body, "volumes")),
        labels=tuple((str(k), str(v)) for k, v in _labels(body).items()))


def _text(body, key, required=False):
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise InvalidArgument(f"invalid request: '{key}' is required")
        return None
    if not isinstance(value, str):
        raise InvalidArgument(f"invalid request: '{key}' must be a string")
    return value


def _argv(body, key, empty_ok=False):
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = shlex.split(value)
        except ValueError as exc:
            raise InvalidArgument(f"invalid request: '{key}': {exc}") from None
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise InvalidArgument(f"invalid request: '{key}' must be a list of strings or a string")
    if not value and not empty_ok:
        return None
    return tuple(value)


def _strings(body, key):
    value = body.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise InvalidArgument(f"invalid request: '{key}' must be a list of strings")
    return value


def _flag(body, key):
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise InvalidArgument(f"invalid request: '{key}' must be true or false")
    return value


def _labels(body):
    value = body.get("labels") or {}
    if not isinstance(value, dict):
        raise InvalidArgument("invalid request: 'labels' must be an object")
    return value
