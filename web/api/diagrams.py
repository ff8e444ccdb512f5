"""GET /api/diagrams/<view>.svg: a view drawn from the kernel now (?lang=ko|en, ?container=, ?image=,
and the lessons' ?component=, ?scenario=, ?result=)."""
from __future__ import annotations

from flask import Response, current_app, request

from ..diagrams import QUERY_KEYS
from . import bp


def query_from(args) -> dict:
    return {k: args[k] for k in QUERY_KEYS if args.get(k)}


@bp.get("/diagrams/<view>.svg")
def diagram(view):
    """One view as SVG, read from the kernel at the moment of the request."""
    from ..diagrams import render
    svg = render(current_app.runtime, current_app.scans, view, lang=request.args.get("lang", "ko"),
                 query=query_from(request.args))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})
