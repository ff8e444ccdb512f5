"""Browser end-to-end: the real `onggi serve` and Debian's Chromium driven by Playwright.

``server``: ``onggi serve`` on a free port over the session's onggi (its own
registry on another free port), its address with the token. ``page``: a fresh
Chromium page; every console error and page error is collected and fails the
test at teardown. ``shot(page, name)`` keeps a screenshot in tests/artifacts/.
"""
from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
TOKEN = "e2e-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(onggi_config):
    port = free_port()
    env = dict(os.environ, **onggi_config.to_env())
    env.pop("ONGGI_TOKEN", None)
    proc = subprocess.Popen([str(REPO / ".venv/bin/onggi"), "serve", "--port", str(port), "--token", TOKEN,
                             "--registry-port", str(free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    line = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not line.startswith("http"):
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
        if proc.poll() is not None:
            raise AssertionError(f"onggi serve exited {proc.returncode}: {proc.stderr.read()}")
    assert line.strip() == f"http://127.0.0.1:{port}/?token={TOKEN}", line
    base = f"http://127.0.0.1:{port}"
    _wait_http(port)
    try:
        yield {"base": base, "url": line.strip(), "proc": proc, "port": port}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_http(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make setup installs it)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM,
                              args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 900}, locale="ko-KR")
    page = context.new_page()
    errors = []
    page.on("console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.errors = errors
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def shot():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, **kw):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), **kw)
        return path
    return take
