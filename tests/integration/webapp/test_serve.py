"""`onggi serve` itself: the address it prints, the token on every door, the registry it runs."""
import http.client
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

ONGGI = str(Path(__file__).resolve().parents[3] / ".venv/bin/onggi")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", path, headers=headers or {})
    r = conn.getresponse()
    r.read()
    return r.status


def test_serve_prints_the_address_and_runs_the_registry_until_stopped(onggi):
    port, reg = free_port(), free_port()
    env = dict(onggi.env, ONGGI_TOKEN="from-env")
    proc = subprocess.Popen([ONGGI, "serve", "--port", str(port), "--registry-port", str(reg)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready
        assert proc.stdout.readline().strip() == f"http://127.0.0.1:{port}/?token=from-env"
        for _ in range(50):
            try:
                if get(port, "/api/containers") == 401:
                    break
            except OSError:
                time.sleep(0.1)
        assert get(port, "/api/containers", {"Authorization": "Bearer from-env"}) == 200
        assert get(port, "/") == 401
        assert get(reg, "/v2/") == 200                    # the classroom registry answers
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    assert proc.returncode == 0
    with pytest.raises(OSError):
        get(reg, "/v2/")                                  # and is stopped with the server


def test_serve_goes_on_when_the_registry_port_is_taken(onggi):
    port = free_port()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        reg = taken.getsockname()[1]
        proc = subprocess.Popen([ONGGI, "serve", "--port", str(port), "--registry-port", str(reg), "--token", "t"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=onggi.env, text=True)
        try:
            ready, _, _ = select.select([proc.stdout], [], [], 30)
            assert ready and proc.stdout.readline().startswith("http://127.0.0.1:")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
        assert "the local registry did not start" in proc.stderr.read()


def test_serve_refuses_a_public_address_without_the_flag(onggi):
    r = onggi("serve", "--host", "0.0.0.0")
    assert r.returncode == 125 and "not a loopback address" in r.stderr and "--allow-remote" in r.stderr
