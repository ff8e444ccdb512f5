"""Lessons: the curriculum's pages, its JSON API under /api/lessons, and its Socket.IO events.

The lesson files (``lessons/NN-slug/lesson.{ko,en}.md``) are read by
:mod:`.loader` into :mod:`.model` values; a step's checks (:mod:`.checks`), live
quiz answers (:mod:`.answers`) and button actions (:mod:`.actions`) read and
change the real state through the Runtime; progress is kept per learner in
SQLite (:mod:`.progress`); :mod:`.cleanup` removes what a lesson made. Those
modules import no Flask. :mod:`.session` is the glue hung on the app
(``app.lessons``), :mod:`.routes` the views and :mod:`.live` the Socket.IO
handlers.
"""
from pathlib import Path

from flask import Blueprint

bp = Blueprint("lessons", __name__, template_folder="../templates")

LESSONS = Path(__file__).resolve().parents[2] / "lessons"


def init_app(app, socketio) -> None:
    """Hang the lessons on APP (``app.lessons``) and register the blueprint and handlers."""
    from . import live, routes  # noqa: F401 - the views and handlers register themselves
    from .session import Lessons
    app.lessons = Lessons(app, socketio, Path(app.config.get("ONGGI_LESSONS") or LESSONS))
    app.register_blueprint(bp)
