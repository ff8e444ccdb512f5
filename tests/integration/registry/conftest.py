"""A real registry (Debian's docker-registry) per test, on 127.0.0.1 with a free port.

* ``registry``: no authentication.
* ``basic_registry``: Basic auth from an htpasswd file of bcrypt hashes (``htpasswd -B``
  from apache2-utils, which is what the registry's htpasswd option reads).
* ``token_registry``: Bearer tokens from a small token service in this process (an
  ``http.server`` thread on 127.0.0.1): it checks Basic credentials and signs a JWT
  with a throwaway RSA key whose self-signed certificate is the registry's
  ``rootcertbundle``. The key and certificate come from the ``openssl`` binary, and
  so does each signature (RS256): no Python crypto package is needed for a test.

Everything is stopped and removed after the test, even when it fails.
"""
from __future__ import annotations

import base64
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from runtime.image.registry.local import LocalRegistry

USER, PASSWORD = "teacher", "s3cret-pass"
SERVICE, ISSUER = "onggi-test-registry", "onggi-test-issuer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def workdir(tmp_path):
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def _start(workdir: Path, **kw) -> LocalRegistry:
    if shutil.which("docker-registry") is None:
        pytest.skip("docker-registry is not installed (apt-get install docker-registry)")
    return LocalRegistry(workdir / "registry", port=free_port(), **kw).start()


@pytest.fixture
def registry(workdir):
    reg = _start(workdir)
    yield reg
    reg.stop()


@pytest.fixture
def basic_registry(workdir):
    if shutil.which("htpasswd") is None:
        pytest.skip("htpasswd is not installed (apt-get install apache2-utils)")
    line = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], check=True, capture_output=True,
                          text=True).stdout.strip()
    (workdir / "htpasswd").write_text(line + "\n")
    reg = _start(workdir, htpasswd=workdir / "htpasswd")
    yield reg
    reg.stop()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenService:
    """Issues registry tokens (distribution's token spec) to USER/PASSWORD; anonymous gets none."""

    def __init__(self, workdir: Path):
        self.key, self.cert = workdir / "token.key", workdir / "token.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=onggi test token issuer", "-keyout", str(self.key),
                        "-out", str(self.cert)], check=True, capture_output=True)
        pem = self.cert.read_text()
        self.x5c = "".join(pem.split("-----")[2].split())       # the DER certificate, base64
        self.requests: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                query = parse_qs(urlsplit(self.path).query)
                given = self.headers.get("Authorization")
                service.requests.append({"query": query, "auth": given})
                good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if given is not None and given != good:
                    return self._reply(401, {"details": "incorrect username or password"})
                access = []
                if given == good:
                    for s in query.get("scope", []):
                        kind, name, actions = s.split(":")
                        access.append({"type": kind, "name": name, "actions": actions.split(",")})
                self._reply(200, {"token": service.sign(USER if given else "", access),
                                  "expires_in": 300})

            def _reply(self, status, doc):
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.realm = f"http://127.0.0.1:{self.server.server_address[1]}/token"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def sign(self, subject: str, access: list) -> str:
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": ISSUER, "sub": subject, "aud": SERVICE, "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": secrets.token_hex(8), "access": access}
        signing_input = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(self.key)],
                                   input=signing_input.encode(), capture_output=True, check=True).stdout
        return f"{signing_input}.{_b64url(signature)}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def token_registry(workdir):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tokens = TokenService(workdir)
    try:
        reg = _start(workdir, token={"realm": tokens.realm, "service": SERVICE, "issuer": ISSUER,
                                     "rootcertbundle": str(tokens.cert)})
        reg.tokens = tokens
        yield reg
        reg.stop()
    finally:
        tokens.close()


@pytest.fixture
def skopeo():
    if shutil.which("skopeo") is None:
        pytest.skip("skopeo is not installed")

    def run(*args, check=True):
        proc = subprocess.run(["skopeo", *map(str, args)], capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"skopeo {' '.join(map(str, args))}: {proc.stderr}")
        return proc
    return run
