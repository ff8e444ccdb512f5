"""An OCI Distribution v2 client over ``http.client``: manifests and blobs, in and out.

The calls are the spec's (``distribution-spec/spec.md``), named after what they do:

=================================  ===============================================
``GET  /v2/<name>/manifests/<ref>``  :meth:`Registry.get_manifest` (Accept: OCI and Docker types)
``PUT  /v2/<name>/manifests/<ref>``  :meth:`Registry.put_manifest`
``HEAD /v2/<name>/blobs/<digest>``   :meth:`Registry.has_blob`: is it there already?
``GET  /v2/<name>/blobs/<digest>``   :meth:`Registry.fetch_blob`: streamed, hashed, verified
``POST /v2/<name>/blobs/uploads/``   :meth:`Registry.upload_blob` (``?mount=&from=`` first:
                                   a blob in another repository is linked, not sent)
``PUT  <location>?digest=<digest>``  the monolithic upload of the whole blob
=================================  ===============================================

Authentication is :mod:`auth`'s challenge flow, done on the first 401 and then
remembered per scope, so later requests carry the token from the start.

Transport: HTTPS with the system's CA certificates, except for *insecure*
registries, which get plain HTTP: those on this machine (``localhost``,
``127.0.0.0/8``, ``::1``, as Docker treats them) and those named in the
``ONGGI_INSECURE_REGISTRIES`` environment variable (comma separated) or in
``config.extra["insecure_registries"]``, like dockerd's ``--insecure-registry``.
Each thread keeps its own keep-alive connection, so parallel downloads do not
share a socket. ``http.client`` rather than ``requests``: it is in the standard
library, and a streamed body read with ``readinto`` into one buffer is all a
blob transfer needs.
"""
from __future__ import annotations

import http.client
import ipaddress
import os
import ssl
import threading
from typing import BinaryIO, Callable
from urllib.parse import urlencode, urljoin, urlsplit

from runtime.errors import AuthenticationRequired, ImageNotFound, RegistryError
from runtime.image.registry.auth import (DOCKER_HUB, Challenge, basic_header, error_message,
                                         parse_challenges, token_from, token_url, unauthorized)

HUB_ENDPOINT = "registry-1.docker.io"
CHUNK = 1 << 20
MANIFEST_ACCEPT = ", ".join((
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
))


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 or host.startswith("[") else host
    name = name.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def insecure_registries(config=None, environ=None) -> set[str]:
    env = os.environ if environ is None else environ
    names = {n.strip() for n in env.get("ONGGI_INSECURE_REGISTRIES", "").split(",") if n.strip()}
    if config is not None:
        names |= set((config.extra or {}).get("insecure_registries") or ())
    return names


def scope(repo: str, actions: str = "pull") -> str:
    return f"repository:{repo}:{actions}"


class Registry:
    """One registry host. Thread-safe: blobs may be fetched from several threads at once."""

    def __init__(self, host: str, *, credentials: tuple[str, str] | None = None,
                 insecure: bool | None = None, timeout: float = 60.0, insecure_names=()):
        self.host = host
        self.endpoint = HUB_ENDPOINT if host == DOCKER_HUB else host
        self.credentials = credentials
        self.insecure_names = set(insecure_names)
        if insecure is None:
            insecure = is_loopback(self.endpoint) or self.endpoint in self.insecure_names
        self.scheme = "http" if insecure else "https"
        self.timeout = timeout
        self._local = threading.local()
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, ...], str] = {}
        self._challenge: Challenge | None = None

    # -- manifests --------------------------------------------------------------------------
    def get_manifest(self, repo: str, ref: str) -> tuple[bytes, str]:
        """(the manifest's bytes exactly as served, its media type)."""
        resp = self.request("GET", f"/v2/{repo}/manifests/{ref}", scopes=[scope(repo)],
                            headers={"Accept": MANIFEST_ACCEPT})
        body = resp.read()
        if resp.status == 404:
            raise ImageNotFound(f"manifest for {self.host}/{repo}:{ref} not found: "
                                f"{error_message(body) or 'manifest unknown'}",
                                hint="check the repository name and tag")
        self._check(resp, body, f"get manifest {repo}:{ref}")
        media_type = (resp.getheader("Content-Type") or "").split(";")[0].strip()
        return body, media_type

    def put_manifest(self, repo: str, ref: str, data: bytes, media_type: str) -> str:
        """Upload a manifest; the digest the registry says it stored it under."""
        resp = self.request("PUT", f"/v2/{repo}/manifests/{ref}", scopes=[scope(repo, "pull,push")],
                            headers={"Content-Type": media_type}, body=data)
        body = resp.read()
        self._check(resp, body, f"put manifest {repo}:{ref}", ok=(200, 201))
        return resp.getheader("Docker-Content-Digest") or ""

    # -- blobs -------------------------------------------------------------------------------------
    def has_blob(self, repo: str, digest: str, scopes: list[str] | None = None) -> bool:
        resp = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scopes=scopes or [scope(repo)])
        resp.read()
        if resp.status == 404:
            return False
        self._check(resp, b"", f"check blob {digest[:19]} in {repo}")
        return True

    def fetch_blob(self, repo: str, digest: str, sink, progress: Callable[[int, int], None] | None = None,
                   size: int = 0) -> int:
        """Stream the blob into ``sink`` (``write``); the number of bytes. The caller verifies."""
        resp = self.request("GET", f"/v2/{repo}/blobs/{digest}", scopes=[scope(repo)])
        if resp.status != 200:
            self._check(resp, resp.read(), f"get blob {digest[:19]} from {repo}")
        total = int(resp.getheader("Content-Length") or size or 0)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        done = 0
        while True:
            n = resp.readinto(view)
            if not n:
                break
            sink.write(view[:n])
            done += n
            if progress is not None:
                progress(done, total)
        if total and done != total:
            raise RegistryError(f"get blob {digest[:19]} from {repo}: the connection closed after "
                                f"{done} of {total} bytes", hint="pull again")
        return done

    def mount_blob(self, repo: str, digest: str, source_repo: str) -> str | None:
        """Ask the registry to link ``digest`` from ``source_repo``; None if it did, else an upload URL."""
        query = urlencode({"mount": digest, "from": source_repo})
        resp = self.request("POST", f"/v2/{repo}/blobs/uploads/?{query}",
                            scopes=[scope(repo, "pull,push"), scope(source_repo)])
        body = resp.read()
        if resp.status == 201:
            return None
        self._check(resp, body, f"start upload to {repo}", ok=(202,))
        return self._location(resp)

    def upload_blob(self, repo: str, digest: str, size: int, stream: BinaryIO,
                    location: str | None = None) -> None:
        """Upload a whole blob in one PUT (the spec's monolithic upload after a POST)."""
        push = [scope(repo, "pull,push")]
        if location is None:
            resp = self.request("POST", f"/v2/{repo}/blobs/uploads/", scopes=push,
                                headers={"Content-Length": "0"}, body=b"")
            body = resp.read()
            self._check(resp, body, f"start upload to {repo}", ok=(202,))
            location = self._location(resp)
        url = location + ("&" if "?" in location else "?") + urlencode({"digest": digest})
        resp = self.request("PUT", url, scopes=push, body=stream,
                            headers={"Content-Type": "application/octet-stream",
                                     "Content-Length": str(size)})
        body = resp.read()
        self._check(resp, body, f"upload blob {digest[:19]} to {repo}", ok=(201, 204))

    # -- login --------------------------------------------------------------------------------------
    def check_login(self) -> None:
        """Prove the credentials: ``GET /v2/`` through the challenge (a token with no scope)."""
        resp = self.request("GET", "/v2/", scopes=[])
        body = resp.read()
        self._check(resp, body, f"log in to {self.host}")

    # -- transport ------------------------------------------------------------------------------
    def request(self, method: str, url: str, *, scopes: list[str], headers: dict | None = None,
                body=None) -> http.client.HTTPResponse:
        """Send, answering one 401 challenge and following redirects. The caller reads the body."""
        headers = dict(headers or {})
        auth = self._auth_for(scopes)
        if auth:
            headers["Authorization"] = auth
        resp = self._send(method, url, headers, body)
        if resp.status == 401:
            data = resp.read()
            with self._lock:
                self._tokens.pop(tuple(scopes), None)
            headers["Authorization"] = self._authenticate(
                parse_challenges(resp.getheader("WWW-Authenticate") or ""), scopes, data,
                f"{method} {urlsplit(url).path}")
            _rewind(body)
            resp = self._send(method, url, headers, body)
            if resp.status == 401:
                raise unauthorized(f"{method.lower()} {urlsplit(url).path}", resp.read())
        for _ in range(5):
            if resp.status not in (301, 302, 303, 307, 308) or method not in ("GET", "HEAD"):
                break
            resp.read()
            target = urljoin(self._url(url), resp.getheader("Location") or "")
            same = urlsplit(target).netloc == self.endpoint
            # A blob's storage (S3, a CDN) gets no registry credentials.
            resp = self._send(method, target, headers if same else {}, None)
        return resp

    def _auth_for(self, scopes: list[str]) -> str | None:
        with self._lock:
            token = self._tokens.get(tuple(scopes))
            challenge = self._challenge
        if token:
            return token
        if challenge is not None and challenge.scheme == "bearer":
            return self._fetch_token(challenge, scopes)
        if challenge is not None and challenge.scheme == "basic" and self.credentials:
            return basic_header(*self.credentials)
        return None

    def _authenticate(self, challenges: list[Challenge], scopes: list[str], body: bytes, what: str) -> str:
        bearer = next((c for c in challenges if c.scheme == "bearer"), None)
        basic = next((c for c in challenges if c.scheme == "basic"), None)
        if bearer is not None:
            with self._lock:
                self._challenge = bearer
            wanted = scopes or ([bearer.params["scope"]] if bearer.params.get("scope") else [])
            return self._fetch_token(bearer, wanted, key=tuple(scopes))
        if basic is not None:
            with self._lock:
                self._challenge = basic
            if not self.credentials:
                raise unauthorized(what, body)
            return basic_header(*self.credentials)
        raise RegistryError(f"{what}: the registry asks for an authentication scheme onggi does not "
                            f"know ({', '.join(c.scheme for c in challenges) or 'none given'})")

    def _fetch_token(self, challenge: Challenge, scopes: list[str], key: tuple | None = None) -> str:
        realm = urlsplit(challenge.realm)
        if realm.scheme not in ("https", "http") or (
                realm.scheme == "http" and not (is_loopback(realm.netloc)
                                                or realm.netloc in self.insecure_names)):
            raise RegistryError(f"get token: refusing the realm {challenge.realm!r}",
                                hint="a token service must use https, unless it is on this machine")
        headers = {"Authorization": basic_header(*self.credentials)} if self.credentials else {}
        resp = self._send("GET", token_url(challenge, scopes), headers, None)
        body = resp.read()
        if resp.status in (401, 403):
            raise AuthenticationRequired(f"get token from {challenge.realm}: unauthorized: "
                                         f"{error_message(body) or 'incorrect username or password'}")
        if resp.status != 200:
            raise RegistryError(f"get token from {challenge.realm}: HTTP {resp.status} "
                                f"{error_message(body)}".rstrip())
        value = "Bearer " + token_from(body, challenge.realm)
        with self._lock:
            self._tokens[key if key is not None else tuple(scopes)] = value
        return value

    def _url(self, url: str) -> str:
        return url if "://" in url else f"{self.scheme}://{self.endpoint}{url}"

    def _connection(self, scheme: str, netloc: str) -> http.client.HTTPConnection:
        conns = self._local.__dict__.setdefault("conns", {})
        conn = conns.get((scheme, netloc))
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(netloc, timeout=self.timeout, blocksize=CHUNK,
                                                   context=ssl.create_default_context())
            else:
                conn = http.client.HTTPConnection(netloc, timeout=self.timeout, blocksize=CHUNK)
            conns[(scheme, netloc)] = conn
        return conn

    def _send(self, method: str, url: str, headers: dict, body) -> http.client.HTTPResponse:
        parts = urlsplit(self._url(url))
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": "onggi", **headers}
        for attempt in (1, 2):
            conn = self._connection(parts.scheme, parts.netloc)
            try:
                conn.request(method, path, body=body, headers=headers)
                return conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
                    http.client.CannotSendRequest, http.client.ResponseNotReady) as e:
                conn.close()            # a kept-alive connection the server had closed
                if attempt == 2 or not _rewind(body):
                    raise RegistryError(f"cannot talk to registry {parts.netloc}: {e}",
                                        hint="check that the registry is running") from None
            except ssl.SSLError as e:
                conn.close()
                raise RegistryError(f"cannot reach registry {parts.netloc} over https: {e.reason or e}",
                                    hint="if it speaks plain http, name it in ONGGI_INSECURE_REGISTRIES") from None
            except OSError as e:
                conn.close()
                reason = e.strerror or str(e)
                raise RegistryError(f"cannot reach registry {parts.netloc}: {reason}",
                                    hint="check the address and that the registry is running "
                                         "(only registries on this machine are reachable offline)") from None
        raise AssertionError("unreachable")

    @staticmethod
    def _location(resp) -> str:
        location = resp.getheader("Location")
        if not location:
            raise RegistryError("start upload: the registry gave no upload location")
        return location

    def _check(self, resp, body: bytes, what: str, ok=(200,)) -> None:
        if resp.status in ok:
            return
        message = error_message(body) or (resp.reason or "").lower()
        if resp.status == 401:
            raise unauthorized(what, body)
        if resp.status == 403:
            raise AuthenticationRequired(f"{what}: denied: {message}")
        if resp.status == 404:
            raise ImageNotFound(f"{what}: not found: {message}")
        raise RegistryError(f"{what}: HTTP {resp.status}: {message}")

    def close(self) -> None:
        for conn in self._local.__dict__.get("conns", {}).values():
            conn.close()


def _rewind(body) -> bool:
    """Put a file body back at its start for a retry; False if it cannot be."""
    if body is None or isinstance(body, (bytes, bytearray)):
        return True
    try:
        body.seek(0)
        return True
    except (AttributeError, OSError):
        return False


def for_runtime(rt, host: str) -> Registry:
    """A client for ``host`` with the login stored for it and the runtime's insecure registries."""
    from runtime.image.registry.auth import Credentials
    return Registry(host, credentials=Credentials(rt.config.root / "auth.json").get(host),
                    insecure_names=insecure_registries(rt.config))
