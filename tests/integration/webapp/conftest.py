"""The web app over the session's own onggi (root): real containers behind the API and Socket.IO."""
from __future__ import annotations

import time

import pytest

TOKEN = "it-token"


@pytest.fixture
def web(onggi_config, rt):
    """A live app (events followed, diagrams pushed) over the session's onggi."""
    from web import create_app
    from web.config import TestConfig

    class Cfg(TestConfig):
        ONGGI_TOKEN = TOKEN
        ONGGI_RUNTIME = onggi_config
        ONGGI_LIVE = True
        ONGGI_GAUGE_INTERVAL = 0.5
    app = create_app(Cfg)
    yield app
    app.steps.cancel_all()
    app.terminals.close_all()
    app.bridge.stop()


@pytest.fixture
def api(web):
    client = web.test_client()
    headers = {"Authorization": f"Bearer {TOKEN}"}

    class Api:
        def get(self, path, **kw):
            return client.get(path, headers=headers, **kw)

        def post(self, path, json=None, **kw):
            return client.post(path, json=json, headers=headers, **kw)

        def delete(self, path, **kw):
            return client.delete(path, headers=headers, **kw)
    return Api()


@pytest.fixture
def sio(web):
    from web import socketio
    made = []

    def connect():
        c = socketio.test_client(web, auth={"token": TOKEN})
        assert c.is_connected()
        made.append(c)
        return c
    yield connect
    for c in made:
        if c.is_connected():
            c.disconnect()


def wait_for(client, name, pred=lambda a: True, timeout=10.0, start=0):
    """The first NAME message (from index START of everything CLIENT received) whose
    argument satisfies PRED. Nothing is dropped: messages arrive in any order
    relative to what a test waits for first."""
    history = client.__dict__.setdefault("history", [])
    deadline = time.monotonic() + timeout
    while True:
        history.extend(client.get_received())
        for msg in history[start:]:
            if msg["name"] == name and pred(msg["args"][0]):
                return msg["args"][0]
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    raise AssertionError(f"no matching {name} within {timeout}s (saw {[m['name'] for m in history[-20:]]})")


def mark(client) -> int:
    """Where 'from now on' starts in CLIENT's history (for wait_for's START)."""
    history = client.__dict__.setdefault("history", [])
    history.extend(client.get_received())
    return len(history)
