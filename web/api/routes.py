"""Containers, networks and the system: thin views over the runtime's verbs."""
from __future__ import annotations

import dataclasses

from flask import current_app, jsonify, request

from runtime.errors import InvalidArgument, OnggiError

from . import bp
from .specs import spec_from_json


def _rt():
    return current_app.runtime


def _json_body() -> dict:
    body = request.get_json(silent=True)
    if body is None:
        if request.content_length:
            raise InvalidArgument("invalid request: the body is not JSON",
                                  hint="send Content-Type: application/json")
        body = {}
    if not isinstance(body, dict):
        raise InvalidArgument("invalid request: send a JSON object")
    return body


def _arg_int(name: str, default: int | None) -> int | None:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid '{name}': {value!r} is not a whole number") from None


def _arg_flag(name: str) -> bool:
    return request.args.get(name, "").lower() in ("1", "true", "yes", "on")


def summary(c) -> dict:
    """One row of `onggi ps -a`, as JSON."""
    state = c.state
    r = c.record
    return {"id": c.id, "short_id": c.short_id, "name": c.name, "image": r.image,
            "command": list(r.process.args), "created": r.created,
            "status": state.status.value, "pid": state.pid or 0,
            "exit_code": state.exit_code, "error": state.error,
            "started_at": state.started_at, "finished_at": state.finished_at,
            "network": r.spec.network, "tty": r.spec.tty,
            "ports": [dataclasses.asdict(p) for p in r.spec.ports]}


def start_detached(container) -> int:
    """Start CONTAINER in the background (a monitor process); its pid once running."""
    handle = container.start(attach=False)
    try:
        return handle.wait_started()
    finally:
        handle.close()


# -- containers --------------------------------------------------------------------------

@bp.get("/containers")
def containers_list():
    """List containers, newest first (running ones only unless ?all=1)."""
    return jsonify([summary(c) for c in _rt().ps(all=_arg_flag("all"))])


@bp.post("/containers")
def containers_run():
    """Create a container and start it in the background (`onggi run -d`); "start": false only creates."""
    body = _json_body()
    spec = spec_from_json(body, default_network=current_app.config["ONGGI_DEFAULT_NETWORK"])
    if spec.tty or spec.interactive:
        raise InvalidArgument("the API runs containers in the background",
                              hint="use the browser terminal for -it")
    rt = _rt()
    if body.get("start", True):
        rt.check_host()
    container = rt.create(spec)
    if body.get("start", True):
        try:
            start_detached(container)
        except OnggiError:
            _forget(container)
            raise
    return jsonify(summary(container)), 201


def _forget(container) -> None:
    """Nothing half-made: a container whose launch failed is removed again."""
    try:
        container.remove(force=True)
    except OnggiError:
        pass


@bp.post("/containers/<ref>/start")
def containers_start(ref):
    """Start a created or exited container."""
    c = _rt().container(ref)
    start_detached(c)
    return jsonify(summary(c))


@bp.post("/containers/<ref>/stop")
def containers_stop(ref):
    """Stop a container: its stop signal, then SIGKILL after ?t= seconds (10)."""
    c = _rt().container(ref)
    c.stop(timeout=_arg_int("t", 10))
    return jsonify(summary(c))


@bp.post("/containers/<ref>/kill")
def containers_kill(ref):
    """Send ?signal= (SIGKILL) to a running container."""
    from runtime.container.container import parse_signal
    c = _rt().container(ref)
    c.kill(parse_signal(request.args.get("signal", "SIGKILL")))
    return jsonify(summary(c))


@bp.delete("/containers/<ref>")
def containers_remove(ref):
    """Remove a container (?force=1 kills a running one first)."""
    c = _rt().container(ref)
    c.remove(force=_arg_flag("force"))
    return jsonify({"id": c.id, "name": c.name, "removed": True})


@bp.get("/containers/<ref>")
def containers_inspect(ref):
    """`onggi inspect`: the container's document plus what the kernel shows now."""
    return jsonify(_rt().container(ref).inspect())


@bp.get("/containers/<ref>/logs")
def containers_logs(ref):
    """The container's output so far (?tail=N lines)."""
    c = _rt().container(ref)
    lines = [{"stream": stream, "text": data.decode(errors="replace"), "time": when}
             for stream, data, when in c.logs(tail=_arg_int("tail", None))]
    return jsonify(lines)


@bp.get("/containers/<ref>/top")
def containers_top(ref):
    """The container's processes as `ps` on the host shows them (with NSpid)."""
    c = _rt().container(ref)
    c.require_running()
    return jsonify(c.top())


@bp.get("/containers/<ref>/stats")
def containers_stats(ref):
    """One `onggi stats` sample: CPU %, memory, pids, network bytes."""
    c = _rt().container(ref)
    c.require_running()
    return jsonify(c.stats(interval=0.2) or {})


@bp.get("/containers/<ref>/diff")
def containers_diff(ref):
    """`onggi diff`: files added (A), changed (C) and deleted (D) in the container's upper dir."""
    return jsonify([{"kind": k, "path": p} for k, p in _rt().container(ref).diff()])


# -- networks ----------------------------------------------------------------------------

def _plain(value):
    """A network object (dataclass, to_dict(), or plain) as JSON-able data."""
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@bp.get("/networks")
def networks_list():
    """List networks (`onggi network ls`)."""
    return jsonify(_plain(_rt().networks.list()))


@bp.post("/networks")
def networks_create():
    """Create a bridge network: {"name": ..., "subnet": "10.89.0.0/24" (optional)}."""
    body = _json_body()
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidArgument("invalid request: 'name' is required")
    options = {k: body[k] for k in ("subnet", "gateway") if body.get(k)}
    return jsonify(_plain(_rt().networks.create(name, **options))), 201


@bp.get("/networks/<name>")
def networks_inspect(name):
    """`onggi network inspect NAME`."""
    return jsonify(_plain(_rt().networks.inspect(name)))


@bp.delete("/networks/<name>")
def networks_remove(name):
    """`onggi network rm NAME`."""
    _rt().networks.remove(name)
    return jsonify({"name": name, "removed": True})


# -- system -------------------------------------------------------------------------------

@bp.get("/system/df")
def system_df():
    """Disk used by images, containers and layers (`onggi system df`)."""
    return jsonify(_rt().system_df())


@bp.get("/steps")
def steps():
    """The launch steps: name, syscalls, and the Korean and English explanations."""
    from runtime.container.steps import STEPS
    return jsonify([{"name": s.name, "syscalls": s.syscalls, "ko": s.ko, "en": s.en} for s in STEPS])
