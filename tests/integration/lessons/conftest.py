"""Lessons over the session's own onggi (root): real containers, networks, images and a registry.

* ``names``: unique names for this test (``lt<hex>-web``...); what a test makes
  with them is removed after it (containers by the ``rt`` fixture, networks and
  images here).
* ``ctx``: a check/answer Context over the session's runtime, counting events
  from the moment it is made (as a lesson just started).
* ``web``/``learner``/``sio``: the app over the same onggi, a Flask client that
  has its learner cookie, and Socket.IO clients that carry it.
* ``registry``: a real registry (Debian's docker-registry) on a free port.
"""
from __future__ import annotations

import secrets
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

TOKEN = "lessons-token"
CLI = str(Path(sys.executable).with_name("onggi"))


@pytest.fixture
def names(rt):
    tag = secrets.token_hex(3)
    made = []

    def name(what: str) -> str:
        n = f"lt{tag}-{what}"
        made.append(n)
        return n
    name.prefix = f"lt{tag}-"
    yield name
    for net in rt.networks.list():
        if net.name.startswith(name.prefix):
            try:
                rt.networks.remove(net.name)
            except Exception:      # noqa: BLE001 - teardown goes on
                pass
    ids, layers = rt.images_in_use()
    for image in rt.images.list():
        for t in image.tags:
            if name.prefix in t:
                try:
                    rt.images.remove(t, force=True, in_use=ids, in_use_layers=layers)
                except Exception:  # noqa: BLE001
                    pass


@pytest.fixture
def ctx(rt):
    from web.lessons.context import Context, Probes

    def make(**kw):
        kw.setdefault("since", time.time() - 0.5)
        return Context(rt=rt, lesson_id="99-test", probes=Probes(CLI), **kw)
    return make


@pytest.fixture
def web(onggi_config, rt):
    from web import create_app
    from web.config import TestConfig

    class Cfg(TestConfig):
        ONGGI_TOKEN = TOKEN
        ONGGI_RUNTIME = onggi_config
        ONGGI_LIVE = False
    app = create_app(Cfg)
    yield app
    app.steps.cancel_all()
    app.terminals.close_all()
    app.bridge.stop()


@pytest.fixture
def learner(web):
    client = web.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    assert client.get("/lessons").status_code == 200
    return client


@pytest.fixture
def sio(web, learner):
    from web import socketio
    made = []

    def connect():
        c = socketio.test_client(web, flask_test_client=learner, auth={"token": TOKEN})
        assert c.is_connected()
        made.append(c)
        return c
    yield connect
    for c in made:
        if c.is_connected():
            c.disconnect()


def wait_for(client, name, pred=lambda a: True, timeout=20.0):
    """The first NAME message CLIENT received (or receives within TIMEOUT) whose argument matches."""
    history = client.__dict__.setdefault("history", [])
    deadline = time.monotonic() + timeout
    while True:
        history.extend(client.get_received())
        for i, msg in enumerate(history):
            if msg["name"] == name and pred(msg["args"][0]):
                del history[i]
                return msg["args"][0]
        if time.monotonic() >= deadline:
            raise AssertionError(f"no matching {name} within {timeout}s (saw {[m['name'] for m in history[-20:]]})")
        time.sleep(0.02)


def until(fn, timeout=15.0, every=0.1):
    """FN's result once it is truthy (or the last one after TIMEOUT)."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(every)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def registry(tmp_path):
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    from runtime.image.registry.local import LocalRegistry
    reg = LocalRegistry(tmp_path / "registry", port=free_port()).start()
    yield reg
    reg.stop()
    shutil.rmtree(tmp_path / "registry", ignore_errors=True)
