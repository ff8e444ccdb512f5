"""Fixtures for the web app without root: an app over an onggi of its own in tmp_path.

``app`` (no background tasks), ``live_app`` (following the events log and
pushing diagrams), ``client`` (Flask test client, no token), ``auth`` (the
headers that carry it), ``sio`` (a factory of Socket.IO test clients).
"""
from __future__ import annotations

import pytest

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN


@pytest.fixture
def onggi_dirs(tmp_path):
    from runtime.config import Config
    cg = tmp_path / "cgroup"
    cg.mkdir()
    (cg / "cgroup.controllers").write_text("cpu memory pids\n")    # a (fake) cgroup2 root
    return Config(root=tmp_path / "root", run=tmp_path / "run", cgroup_root=cg,
                  cgroup_parent="onggi-unit")


def _make(onggi_dirs, live: bool):
    from web import create_app
    from web.config import TestConfig

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
        ONGGI_LIVE = live
        ONGGI_GAUGE_INTERVAL = 0.2
    return create_app(Cfg)


@pytest.fixture
def app(onggi_dirs):
    app = _make(onggi_dirs, live=False)
    yield app
    app.bridge.stop()


@pytest.fixture
def live_app(onggi_dirs):
    app = _make(onggi_dirs, live=True)
    yield app
    app.bridge.stop()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sio():
    """sio(app, auth={"token": ...}) -> a connected (or refused) Socket.IO test client."""
    from web import socketio
    made = []

    def connect(app, auth=None, flask_client=None):
        c = socketio.test_client(app, flask_test_client=flask_client, auth=auth)
        made.append(c)
        return c
    yield connect
    for c in made:
        if c.is_connected():
            c.disconnect()
