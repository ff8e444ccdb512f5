"""The HTML pages: the live dashboard (/); the lessons' pages are the lessons blueprint's (web/lessons)."""
from flask import Blueprint

bp = Blueprint("pages", __name__, template_folder="../templates")

from . import routes  # noqa: E402,F401
