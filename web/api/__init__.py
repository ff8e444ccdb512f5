"""The JSON API under /api/: thin views over the runtime's verbs.

Every view validates its input, calls the library and returns JSON; errors from
the runtime become HTTP codes in one place (``errors.py``).
"""
from flask import Blueprint

bp = Blueprint("api", __name__)

from . import errors, routes, images, diagrams  # noqa: E402,F401 - the views register on bp
