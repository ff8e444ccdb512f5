"""onggi's web app: live diagrams of what the kernel shows, step-through launches,
a terminal in the browser, and a JSON API over the runtime.

Flask app factory with Flask-SocketIO in threading mode (real websockets through
simple-websocket; clone and waitpid do not mix with eventlet/gevent patching).
``socketio`` is created unbound and bound in :func:`create_app`; everything with
state (the Runtime, the events relay, step-throughs, terminals) is built in the
factory and hung on the app, never kept in a module global.

Layout: ``auth`` (the token), ``api/`` (JSON, errors mapped in ``api/errors.py``),
``pages/`` (HTML), ``live`` (Socket.IO handlers), ``bridge`` (runtime events and
diagram pushes -> rooms: the only glue), ``diagrams/`` (one module per view),
``stepper`` (step-through sessions), ``terminal`` (ptys running the onggi CLI),
``serve`` (``onggi serve``). This package imports the runtime, never the reverse.
"""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_socketio import SocketIO

STATIC = Path(__file__).resolve().parents[1] / "static"

socketio = SocketIO()


def create_app(config=None) -> Flask:
    """Build the app for CONFIG (a class like :class:`web.config.Config`, or a dict)."""
    from . import auth, live  # noqa: F401 - live registers the Socket.IO handlers
    from .bridge import Bridge
    from .config import Config
    from .stepper import StepThroughs
    from .terminal import Terminals

    app = Flask(__name__, static_folder=str(STATIC), static_url_path="/static")
    app.config.from_object(Config)
    if isinstance(config, dict):
        app.config.from_mapping(config)
    elif config is not None:
        app.config.from_object(config)

    from runtime.config import Config as RuntimeConfig
    from runtime.core import Runtime
    from runtime.inspect.layers import Scans
    app.runtime = Runtime(app.config["ONGGI_RUNTIME"] or RuntimeConfig.from_env())
    app.scans = Scans(app.runtime.syscalls)

    auth.init_app(app)
    from .api import bp as api_bp
    from .pages import bp as pages_bp
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(pages_bp)

    socketio.init_app(app, async_mode="threading",
                      cors_allowed_origins=app.config["ONGGI_ORIGINS"],
                      max_http_buffer_size=1024 * 1024)
    app.bridge = Bridge(app, socketio)
    app.steps = StepThroughs(app, socketio)
    app.terminals = Terminals(app, socketio)
    if app.config["ONGGI_LIVE"]:
        app.bridge.start()
    return app
