"""Runtime errors as HTTP answers: the one mapping from ``runtime.errors`` to status codes.

The body is always ``{"error": "what failed: why", "hint": "what to do"}`` (the
same one line the CLI prints). Families, most specific first:

* bad input: ``InvalidArgument`` (and a command that cannot be run) -> 400;
  a Dockerfile problem (``BuildError``) -> 400
* missing: ``NotFound`` -> 404
* the current state forbids it: ``Conflict`` -> 409
* the host cannot do it: ``NotRoot`` -> 503 (the server runs without root),
  other ``Unsupported`` -> 501
* a registry refused or failed: ``AuthenticationRequired`` -> 401 is the
  registry's, not ours, so -> 502 like every ``RegistryError``
* any other ``OnggiError`` -> 500

Anything else is a bug: 500 with a line that says so (no traceback to the client).
"""
from __future__ import annotations

from flask import current_app, jsonify
from werkzeug.exceptions import HTTPException

from runtime import errors as e

from . import bp

STATUS = (
    (e.CommandNotFound, 400), (e.CommandNotExecutable, 400),
    (e.InvalidArgument, 400), (e.BuildError, 400),
    (e.NotFound, 404),
    (e.Conflict, 409),
    (e.NotRoot, 503), (e.Unsupported, 501),
    (e.RegistryError, 502),
    (e.OnggiError, 500),
)


def status_for(exc: e.OnggiError) -> int:
    for cls, code in STATUS:
        if isinstance(exc, cls):
            return code
    return 500


def error_response(status: int, message: str, hint: str = ""):
    response = jsonify(error=message, hint=hint)
    response.status_code = status
    return response


@bp.errorhandler(e.OnggiError)
def onggi_error(exc: e.OnggiError):
    return error_response(status_for(exc), " ".join(str(exc).split()), exc.hint)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    return error_response(exc.code or 500, (exc.description or exc.name).rstrip(".").lower()
                          if exc.description else exc.name.lower())


@bp.errorhandler(Exception)
def unexpected(exc: Exception):
    current_app.logger.exception("unexpected error in %s", exc)
    return error_response(500, f"unexpected error: {type(exc).__name__}: {exc}",
                          "this is a bug in onggi: see the server's log for the traceback")
