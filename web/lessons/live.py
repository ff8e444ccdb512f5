"""Socket.IO events of a lesson page: join, check, press a step's button.

``lesson.join {lesson}`` puts the browser in its learner's room; ``lesson.check
{lesson, step}`` runs the step's checks now (the page asks again whenever a
runtime event arrives, and every few seconds for what changes without one);
``lesson.action {lesson, step, files?, rows?, cols?}`` starts the step's button
action: its output comes as ``lesson.output`` and its end as ``lesson.done``
(to this browser). Answers use the acknowledgement, like every handler in
``web/live.py``.
"""
from __future__ import annotations

from flask import current_app, request
from flask_socketio import join_room

from runtime.errors import InvalidArgument

from .. import socketio
from ..live import acked
from .routes import learner_of
from .session import learner_room


def _learner() -> str:
    learner = learner_of(request)
    if learner is None:
        raise InvalidArgument("this browser has no learner id yet", hint="open the lesson's page first")
    return learner


def _text(data, key) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"invalid request: '{key}' is required")
    return value


@socketio.on("lesson.join")
@acked
def lesson_join(data):
    learner = _learner()
    current_app.lessons.lesson(_text(data, "lesson"))
    join_room(learner_room(learner))
    return {"room": learner_room(learner)}


@socketio.on("lesson.check")
@acked
def lesson_check(data):
    return current_app.lessons.check(_learner(), _text(data, "lesson"), _text(data, "step"))


@socketio.on("lesson.action")
@acked
def lesson_action(data):
    from ..terminal import clamp_size
    files = data.get("files")
    if files is not None and not isinstance(files, dict):
        raise InvalidArgument("invalid request: 'files' is an object of file name -> text")
    return current_app.lessons.start_action(request.sid, _learner(), _text(data, "lesson"),
                                            _text(data, "step"), files=files,
                                            rows=clamp_size(data.get("rows"), 24),
                                            cols=clamp_size(data.get("cols"), 80))
