"""The token that guards every page, API call and Socket.IO connection (like Jupyter's).

A request may carry it three ways: ``Authorization: Bearer T``, the cookie set
after the first visit to ``/?token=T`` (HttpOnly, SameSite=Strict: scripts
cannot read it and other sites cannot send it), or, for Socket.IO, the
``auth={"token": T}`` of the connection (a browser on the page sends the
cookie instead). A page visited with ``?token=`` is redirected to itself
without it, so the token does not stay in the address bar or in history.
"""
from __future__ import annotations

import hmac

from flask import current_app, jsonify, redirect, render_template, request

COOKIE = "onggi_token"


def valid(token) -> bool:
    expected = current_app.config.get("ONGGI_TOKEN")
    if not expected or not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token.encode(), expected.encode())


def from_request(req=None, auth=None) -> str | None:
    """The token the request (or a Socket.IO connection's auth) presents, if any."""
    req = req or request
    if isinstance(auth, dict) and auth.get("token"):
        return auth["token"]
    header = req.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return req.cookies.get(COOKIE)


def init_app(app) -> None:
    app.before_request(require_token)


def require_token():
    """Refuse any request without the token; trade ?token= for the cookie."""
    query = request.args.get("token")
    if query is not None and valid(query):
        if request.method == "GET" and not request.path.startswith("/api/"):
            args = request.args.to_dict(flat=False)
            args.pop("token")
            from urllib.parse import urlencode
            target = request.path + ("?" + urlencode(args, doseq=True) if args else "")
            response = redirect(target)
        else:
            return None
        response.set_cookie(COOKIE, query, httponly=True, samesite="Strict",
                            secure=request.is_secure)
        return response
    if valid(from_request()):
        return None
    if request.path.startswith("/api/"):
        response = jsonify(error="missing or wrong token",
                           hint="send 'Authorization: Bearer TOKEN' with the token 'onggi serve' printed")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if request.path.startswith("/static/"):
        return "missing or wrong token\n", 401, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("denied.html"), 401
