"""Pages, and errors that answer in the caller's format (JSON under /api/, HTML elsewhere)."""
from __future__ import annotations

from flask import render_template, request
from werkzeug.exceptions import HTTPException

from . import bp


@bp.get("/")
def index():
    """The dashboard: the four live views, containers, events, step-through, terminal."""
    return render_template("index.html")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException):
    if request.path.startswith("/api/"):
        from ..api.errors import error_response
        return error_response(exc.code or 500, (exc.description or exc.name).rstrip(".").lower())
    return render_template("error.html", code=exc.code, name=exc.name), exc.code or 500
