"""A canned registry on 127.0.0.1 for the client's unit tests (no root, no docker-registry).

``FakeRegistry`` serves what a test put in it (manifests by tag or digest, blobs)
and records every request, so a test can assert what the client asked for, with
which Authorization header. ``auth="bearer"`` answers 401 with a Bearer
challenge whose realm is its own ``/token`` (tokens for user "ada", password
"secret", or anonymous); ``auth="basic"`` wants Basic ada:secret.
"""
from __future__ import annotations

import base64
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from runtime.config import Config
from runtime.core import Runtime
from runtime.events import RecordingPublisher
from runtime.linux.fake import RecordingSyscalls

USER, PASSWORD = "ada", "secret"
TOKEN = "tok-123"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeRegistry:
    def __init__(self, auth: str | None = None):
        self.auth = auth
        self.manifests: dict[tuple[str, str], tuple[bytes, str]] = {}
        self.blobs: dict[str, bytes] = {}
        self.links: set[tuple[str, str]] = set()      # (repo, digest): blobs are per repository
        self.corrupt: set[str] = set()
        self.requests: list[dict] = []
        self.token_requests: list[dict] = []
        self.uploads: dict[str, str] = {}           # upload id -> repository
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _reply(self, status, body=b"", headers=None):
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            def _authorized(self) -> bool:
                got = self.headers.get("Authorization") or ""
                if fake.auth is None:
                    return True
                if fake.auth == "bearer":
                    if got == f"Bearer {TOKEN}":
                        return True
                    self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                                {"WWW-Authenticate": f'Bearer realm="{fake.url}/token",service="fake",'
                                                     f'scope="repository:x:pull"'})
                    return False
                want = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                if got == want:
                    return True
                self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}',
                            {"WWW-Authenticate": 'Basic realm="fake"'})
                return False

            def handle_one(self):
                parts = urlsplit(self.path)
                body = self._body()
                fake.requests.append({"method": self.command, "path": parts.path, "query": parts.query,
                                      "auth": self.headers.get("Authorization")})
                if parts.path == "/token":
                    fake.token_requests.append({"query": parse_qs(parts.query),
                                                "auth": self.headers.get("Authorization")})
                    anonymous = self.headers.get("Authorization") is None
                    good = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                    if not anonymous and self.headers.get("Authorization") != good:
                        return self._reply(401, b'{"details":"incorrect username or password"}')
                    return self._reply(200, json.dumps({"token": TOKEN}).encode())
                if not self._authorized():
                    return
                segs = parts.path.split("/")
                if parts.path == "/v2/":
                    return self._reply(200, b"{}")
                if "manifests" in segs:
                    i = segs.index("manifests")
                    repo, ref = "/".join(segs[2:i]), segs[i + 1]
                    if self.command == "PUT":
                        mt = self.headers.get("Content-Type")
                        fake.manifests[(repo, ref)] = (body, mt)
                        fake.manifests[(repo, digest_of(body))] = (body, mt)
                        return self._reply(201, headers={"Docker-Content-Digest": digest_of(body)})
                    found = fake.manifests.get((repo, ref))
                    if found is None:
                        return self._reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')
                    return self._reply(200, found[0], {"Content-Type": found[1],
                                                       "Docker-Content-Digest": digest_of(found[0])})
                if "uploads" in segs:
                    if self.command == "POST":
                        q = parse_qs(parts.query)
                        if "mount" in q and (q["from"][0], q["mount"][0]) in fake.links:
                            fake.links.add(("/".join(segs[2:segs.index("blobs")]), q["mount"][0]))
                            return self._reply(201)
                        uid = str(len(fake.uploads))
                        fake.uploads[uid] = "/".join(segs[2:segs.index("blobs")])
                        return self._reply(202, headers={"Location": f"/v2/upload/{uid}"})
                if segs[1:3] == ["v2", "upload"] and self.command == "PUT":
                    want = parse_qs(parts.query)["digest"][0]
                    if digest_of(body) != want:
                        return self._reply(400, b'{"errors":[{"code":"DIGEST_INVALID","message":"digest invalid"}]}')
                    fake.blobs[want] = body
                    fake.links.add((fake.uploads[segs[3]], want))
                    return self._reply(201)
                if "blobs" in segs:
                    digest = segs[-1]
                    if ("/".join(segs[2:segs.index("blobs")]), digest) not in fake.links:
                        return self._reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')
                    data = fake.blobs[digest]
                    if digest in fake.corrupt:
                        data = b"X" + data[1:]
                    return self._reply(200, data)
                return self._reply(404)

            do_GET = do_HEAD = do_PUT = do_POST = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.address}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def add_blob(self, data: bytes, repo: str = "app") -> dict:
        d = digest_of(data)
        self.blobs[d] = data
        self.links.add((repo, d))
        return {"digest": d, "size": len(data)}

    def add_manifest(self, repo: str, tag: str, doc: dict, media_type: str) -> str:
        data = json.dumps(doc).encode()
        self.manifests[(repo, tag)] = (data, media_type)
        self.manifests[(repo, digest_of(data))] = (data, media_type)
        return digest_of(data)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_registry():
    servers = []

    def make(auth=None) -> FakeRegistry:
        servers.append(FakeRegistry(auth))
        return servers[-1]
    yield make
    for s in servers:
        s.close()


@pytest.fixture
def rt(tmp_path):
    config = Config(root=tmp_path / "root", run=tmp_path / "run")
    return Runtime(config, publisher=RecordingPublisher(), syscalls=RecordingSyscalls())
