"""Socket.IO handlers: the token check on connect, diagram and container subscriptions,
step-through controls and browser terminals.

Every handler answers through the acknowledgement: ``{"ok": true, ...}`` or
``{"error": "what failed: why", "hint": "what to do"}`` (the API's shape).
Pushed events: ``event`` (runtime events), ``diagram`` (a view changed),
``step.state`` / ``step.snapshot`` (step-throughs), ``term.output`` / ``term.exit``.
"""
from __future__ import annotations

import functools

from flask import current_app, request
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from runtime.errors import InvalidArgument, OnggiError

from . import socketio
from .auth import from_request, valid
from .bridge import EVENTS_ROOM


def acked(handler, with_status=False):
    """Turn runtime errors into the acknowledgement's error answer."""
    @functools.wraps(handler)
    def wrapper(data=None, *args):
        try:
            result = handler(data if isinstance(data, dict) else {})
            return {"ok": True, **(result or {})}
        except OnggiError as exc:
            answer = {"error": " ".join(str(exc).split()), "hint": exc.hint}
            if with_status:
                from .api.errors import status_for
                answer["status"] = status_for(exc)
            return answer
        except Exception as exc:      # noqa: BLE001 - tell the browser, log the bug
            current_app.logger.exception("socket handler %s", handler.__name__)
            answer = {"error": f"unexpected error: {type(exc).__name__}: {exc}",
                      "hint": "this is a bug in onggi: see the server's log"}
            return answer | ({"status": 500} if with_status else {})
    return wrapper


def answered(handler):
    """:func:`acked`, and an error's answer carries the status the API would give it, so the
    page can say in the learner's language what kind of failure it was (the runtime's
    message itself is English)."""
    return acked(handler, with_status=True)


@socketio.on("connect")
def connect(auth=None):
    if not valid(from_request(request, auth)):
        raise ConnectionRefusedError("missing or wrong token")
    join_room(EVENTS_ROOM)
    emit("backlog", current_app.bridge.backlog())


@socketio.on("disconnect")
def disconnect(*_reason):
    app = current_app
    app.bridge.drop(request.sid)
    app.terminals.close_all(request.sid)
    app.steps.drop(request.sid)
    lessons = getattr(app, "lessons", None)
    if lessons is not None:
        lessons.cancel(request.sid)


# -- subscriptions ---------------------------------------------------------------------------

@socketio.on("subscribe")
@answered
def subscribe(data):
    """{"diagram": view, "lang": "ko", "query": {...}} (answer: its key and the SVG now;
    later changes come as ``diagram`` events) or {"container": id}."""
    bridge = current_app.bridge
    if data.get("diagram"):
        from .diagrams import QUERY_KEYS
        query = {k: str(v) for k, v in (data.get("query") or {}).items() if k in QUERY_KEYS and v}
        key = bridge.subscribe(request.sid, data["diagram"], data.get("lang") or "ko", query)
        join_room(key)
        # The first SVG rides on the answer, so it can never arrive before the key it belongs to.
        return {"key": key, "svg": bridge.render(data["diagram"], data.get("lang") or "ko", query)}
    if data.get("container"):
        c = current_app.runtime.container(data["container"])
        join_room(f"container:{c.id}")
        return {"room": f"container:{c.id}"}
    raise InvalidArgument("say what to subscribe to: a diagram or a container")


@socketio.on("unsubscribe")
@answered
def unsubscribe(data):
    key = data.get("key") or ""
    if key.startswith("diagram:"):
        current_app.bridge.unsubscribe(request.sid, key)
    leave_room(key)


# -- step-through -------------------------------------------------------------------------------

def _room(data) -> str:
    room = str(data.get("room") or "class").strip()
    if not room or len(room) > 64:
        raise InvalidArgument("invalid room: use a short name like 'class'")
    return room


@socketio.on("step.start")
@answered
def step_start(data):
    """Create a container and start its launch paused before the first step."""
    from .api.specs import spec_from_json
    from .stepper import room_name
    room = _room(data)
    spec = spec_from_json(data.get("spec") or {}, default_network=current_app.config["ONGGI_DEFAULT_NETWORK"])
    if spec.tty or spec.interactive:
        raise InvalidArgument("a step-through runs the container in the background",
                              hint="open a terminal to it once it runs")
    join_room(room_name(room))
    session = current_app.steps.start(room, request.sid, spec)
    return {"room": room, "container": session.container.id}


@socketio.on("step.join")
@answered
def step_join(data):
    """Watch the room's step-through: its snapshots so far, then everything live."""
    from .stepper import room_name
    room = _room(data)
    join_room(room_name(room))
    session = current_app.steps.find(room)
    if session is not None:
        for snap in list(session.snapshots):
            emit("step.snapshot", {"room": room, "container": session.container.id, **snap})
        session.emit_state(to=request.sid)
    return {"room": room, "active": session is not None}


@socketio.on("step.control")
@answered
def step_control(data):
    """{"room", "action": next|cancel|back|forward}."""
    action = data.get("action")
    if action not in ("next", "cancel", "back", "forward"):
        raise InvalidArgument(f"invalid step action {action!r}: use next, cancel, back or forward")
    current_app.steps.control(_room(data), request.sid, action)


# -- terminals ------------------------------------------------------------------------------------

@socketio.on("term.open")
@answered
def term_open(data):
    """{"container": id, "cmd": ["sh"]} for exec -it, or {"image": ref, "cmd": [...]} for run -it."""
    s = current_app.terminals.open(request.sid, container=data.get("container"), image=data.get("image"),
                                   cmd=data.get("cmd"), rows=data.get("rows", 24), cols=data.get("cols", 80))
    name = s.container_name
    if name is None and data.get("container"):
        # exec: the page shows which container this is; by name, not the 64-digit id it sent.
        c = current_app.runtime.container(data["container"])
        name = f"{c.name} ({c.short_id})"
    return {"id": s.id, "container": name}


@socketio.on("term.input")
def term_input(data):
    try:
        current_app.terminals.get(request.sid, data["id"]).write(str(data.get("data", "")))
    except (OnggiError, KeyError, TypeError, OSError):
        pass         # a keystroke for a closed terminal: nothing to do


@socketio.on("term.resize")
@answered
def term_resize(data):
    from .terminal import clamp_size
    current_app.terminals.get(request.sid, str(data.get("id"))).resize(clamp_size(data.get("rows"), 24),
                                                                       clamp_size(data.get("cols"), 80))


@socketio.on("term.close")
@answered
def term_close(data):
    current_app.terminals.close(request.sid, str(data.get("id")))
