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
``lessons/`` (the curriculum: pages, checks, actions, progress; ``app.lessons``),
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

    from runtime.inspect.layers import Scans
    app.runtime = make_runtime(app.config)
    app.scans = Scans(app.runtime.syscalls)
    # Every page says so when this is a simulation: (Korean, English) reasons, or None.
    sim_why = getattr(app.runtime, "why", None) if getattr(app.runtime, "simulated", False) else None
    app.context_processor(lambda: {"sim_why": sim_why})

    auth.init_app(app)
    from .api import bp as api_bp
    from .pages import bp as pages_bp
    app.register_blueprint(api_bp, url_prefix="/api")
    app.register_blueprint(pages_bp)

    # Before init_app: the lessons' Socket.IO handlers must be known to every app's server.
    from .lessons import init_app as init_lessons
    init_lessons(app, socketio)
    socketio.init_app(app, async_mode="threading",
                      cors_allowed_origins=app.config["ONGGI_ORIGINS"],
                      max_http_buffer_size=1024 * 1024)
    app.bridge = Bridge(app, socketio)
    app.steps = StepThroughs(app, socketio)
    app.terminals = Terminals(app, socketio)
    if app.config["ONGGI_LIVE"]:
        app.bridge.start()
    return app


def make_runtime(settings):
    """The runtime the app drives: a real :class:`runtime.core.Runtime`, or a
    :class:`runtime.sim.SimRuntime` when ``ONGGI_SIMULATE`` says so: True (always),
    "auto" (when real containers cannot run here; real mode wherever they can),
    False or missing (never). ``ONGGI_SIMULATE_REASON`` is the (Korean, English) why."""
    from runtime.config import Config as RuntimeConfig
    config = settings["ONGGI_RUNTIME"] or RuntimeConfig.from_env()
    simulate, why = settings.get("ONGGI_SIMULATE", False), settings.get("ONGGI_SIMULATE_REASON")
    if simulate == "auto":
        from runtime.sim import host_problem, reason
        problem = host_problem(config)
        simulate, why = problem is not None, why or (reason(problem) if problem is not None else None)
    if simulate:
        from runtime.sim import SimRuntime, reason, usable_config
        return SimRuntime(usable_config(config), why=why or reason(None))
    from runtime.core import Runtime
    return Runtime(config)
