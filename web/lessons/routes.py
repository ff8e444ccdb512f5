"""Lesson pages (/lessons, /lessons/<id>) and their JSON API (/api/lessons/...).

Every request carries the learner's id in a cookie (``onggi_learner``: random,
HttpOnly, SameSite=Strict), given on the first visit. Runtime errors answer in
the caller's format through the one mapping in ``web/api/errors.py``.
"""
from __future__ import annotations

import re
import secrets

from flask import current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from runtime.errors import InvalidArgument, OnggiError

from . import bp

COOKIE = "onggi_learner"
_LEARNER = re.compile(r"[0-9a-f]{32}")
YEAR = 365 * 24 * 3600


def learner_of(req) -> str | None:
    value = req.cookies.get(COOKIE, "")
    return value if _LEARNER.fullmatch(value) else None


@bp.before_request
def _learner():
    g.learner = learner_of(request)
    g.new_learner = g.learner is None
    if g.new_learner:
        g.learner = secrets.token_hex(16)


@bp.after_request
def _give_learner(response):
    if g.get("new_learner"):
        response.set_cookie(COOKIE, g.learner, max_age=YEAR, httponly=True, samesite="Strict",
                            secure=request.is_secure)
    return response


def _lessons():
    return current_app.lessons


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidArgument("invalid request: send a JSON object", hint="send Content-Type: application/json")
    return body


def _lang() -> str:
    lang = request.args.get("lang", "ko")
    if lang not in ("ko", "en"):
        raise InvalidArgument(f"invalid lang '{lang}': use ko or en")
    return lang


# -- pages ------------------------------------------------------------------------------------

@bp.get("/lessons")
def index():
    """The list of lessons, with this learner's progress (filled in by the page)."""
    errors = _lessons().course().errors
    return render_template("lessons.html", errors=errors, simulated=_lessons().simulated)


@bp.get("/lessons/<lesson_id>")
def page(lesson_id):
    """One lesson: its text beside the live diagram and a terminal."""
    lesson = _lessons().lesson(lesson_id)
    return render_template("lesson.html", lesson=lesson, simulated=_lessons().simulated)


# -- JSON ------------------------------------------------------------------------------------------

@bp.get("/api/lessons")
def api_list():
    """Every lesson in both languages, with this learner's progress."""
    lessons = _lessons()
    course = lessons.course()
    done = lessons.progress.summary(g.learner)
    out = []
    for lesson_id in course.ids:
        ko, en = course.get(lesson_id, "ko"), course.get(lesson_id, "en")
        out.append({"id": lesson_id, "number": ko.number, "title": {"ko": ko.title, "en": en.title},
                    "summary": {"ko": ko.summary, "en": en.summary}, "minutes": ko.minutes,
                    "mode": ko.mode, "labels": list(ko.labels), "steps": len(ko.steps),
                    "available": lessons.available(ko),
                    "progress": done.get(lesson_id, {"step": None, "passed": 0, "started": 0})})
    return jsonify({"lessons": out, "simulated": lessons.simulated, "errors": list(course.errors)})


@bp.get("/api/lessons/<lesson_id>")
def api_lesson(lesson_id):
    """One lesson in ?lang= (ko, en) as the page shows it, with this learner's progress."""
    return jsonify(_lessons().document(g.learner, lesson_id, _lang()))


@bp.post("/api/lessons/<lesson_id>/goto")
def api_goto(lesson_id):
    """Remember which step the learner is on: {"step": ID}."""
    step = _body().get("step")
    if not isinstance(step, str) or not step:
        raise InvalidArgument("invalid request: 'step' is required")
    _lessons().goto(g.learner, lesson_id, step)
    return jsonify({"step": step})


@bp.post("/api/lessons/<lesson_id>/check")
def api_check(lesson_id):
    """Run a step's checks now: {"step": ID}; what each saw and what is missing."""
    step = _body().get("step")
    if not isinstance(step, str) or not step:
        raise InvalidArgument("invalid request: 'step' is required")
    return jsonify(_lessons().check(g.learner, lesson_id, step))


@bp.post("/api/lessons/<lesson_id>/quiz")
def api_quiz(lesson_id):
    """Answer a quiz: {"quiz": ID, "answer": text or a choice's number}."""
    body = _body()
    quiz = body.get("quiz")
    if not isinstance(quiz, str) or not quiz:
        raise InvalidArgument("invalid request: 'quiz' is required")
    return jsonify(_lessons().answer(g.learner, lesson_id, quiz, body.get("answer")))


@bp.put("/api/lessons/<lesson_id>/files")
def api_files(lesson_id):
    """Keep the learner's edited copies of a lesson's editable files: {"name": "text"}."""
    body = _body()
    lessons = _lessons()
    lesson = lessons.lesson(lesson_id)
    editable = {n for s in lesson.steps if s.action and s.action.kind == "build"
                for n in s.action.params.get("editable") or []}
    for name, text in body.items():
        if name not in editable or not isinstance(text, str) or len(text) > 256 * 1024:
            raise InvalidArgument(f"invalid file {name!r}: this lesson edits only "
                                  + (", ".join(sorted(editable)) or "no files"))
    for name, text in body.items():
        lessons.progress.set_file(g.learner, lesson_id, name, text)
    return jsonify({"saved": sorted(body)})


@bp.post("/api/lessons/<lesson_id>/reset")
def api_reset(lesson_id):
    """Remove what the lesson made and start it over for this learner."""
    return jsonify(_lessons().reset(g.learner, lesson_id))


@bp.post("/api/lessons/<lesson_id>/cleanup")
def api_cleanup(lesson_id):
    """Remove what the lesson made (containers, networks, images); progress stays."""
    return jsonify(_lessons().cleanup(lesson_id))


@bp.get("/api/lessons/progress/export")
def api_export():
    """This learner's progress in every lesson, as a JSON file to keep."""
    response = jsonify(_lessons().progress.export(g.learner))
    response.headers["Content-Disposition"] = 'attachment; filename="onggi-progress.json"'
    return response


@bp.post("/api/lessons/progress/import")
def api_import():
    """Replace this learner's progress in the lessons an exported file holds."""
    lessons = _lessons()
    imported = lessons.progress.import_(g.learner, request.get_json(silent=True),
                                        known=set(lessons.course().ids))
    return jsonify({"imported": imported})


# -- errors: JSON under /api/, HTML elsewhere ------------------------------------------------------------

@bp.errorhandler(OnggiError)
def _onggi_error(exc: OnggiError):
    from ..api.errors import error_response, status_for
    status = status_for(exc)
    if request.path.startswith("/api/"):
        return error_response(status, " ".join(str(exc).split()), exc.hint)
    return render_template("lesson_error.html", code=status, message=str(exc), hint=exc.hint), status


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        from ..pages.routes import http_error
        return http_error(exc)
    from ..api.errors import error_response
    current_app.logger.exception("unexpected error in %s", request.path)
    return error_response(500, f"unexpected error: {type(exc).__name__}: {exc}",
                          "this is a bug in onggi: see the server's log for the traceback")
