"""Registry authentication: the ``WWW-Authenticate`` challenge, bearer tokens, stored logins.

The flow every Docker client follows (distribution's ``docs/spec/auth/token.md``):

1. A request without credentials gets ``401`` and a challenge, e.g.
   ``WWW-Authenticate: Bearer realm="https://auth.example/token",service="registry",
   scope="repository:library/busybox:pull"``.
2. For ``Basic`` the client repeats the request with ``Authorization: Basic
   base64(user:password)``.
3. For ``Bearer`` it asks the *realm* for a token: ``GET realm?service=...&scope=...``
   (with Basic credentials if it has any; anonymous otherwise), gets
   ``{"token": "..."}`` (or ``access_token``), and repeats the request with
   ``Authorization: Bearer <token>``. The token says which repositories and
   actions (pull, push) it allows.

Logins are kept in ``config.root/auth.json`` in the format of Docker's
``~/.docker/config.json`` (``{"auths": {"127.0.0.1:5000": {"auth": base64}}}``),
readable by root only (0600): the password is only encoded, not encrypted, as
with Docker's file store.
"""
from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from runtime.errors import AuthenticationRequired, InvalidArgument, RegistryError

DOCKER_HUB = "docker.io"
_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


@dataclass(frozen=True)
class Challenge:
    scheme: str                   # lower case: "bearer" or "basic"
    params: dict

    @property
    def realm(self) -> str:
        return self.params.get("realm", "")


def parse_challenges(header: str) -> list[Challenge]:
    """Every challenge in a ``WWW-Authenticate`` value (RFC 7235: scheme, then k=v pairs)."""
    out: list[Challenge] = []
    i, n = 0, len(header)
    scheme, params = None, {}
    while i < n:
        while i < n and header[i] in " ,\t":
            i += 1
        start = i
        while i < n and header[i] not in " =,\t":
            i += 1
        token = header[start:i]
        if not token:
            break
        j = i
        while j < n and header[j] in " \t":
            j += 1
        if j < n and header[j] == "=":
            i = j + 1
            while i < n and header[i] in " \t":
                i += 1
            if i < n and header[i] == '"':
                i += 1
                value = []
                while i < n and header[i] != '"':
                    if header[i] == "\\" and i + 1 < n:
                        i += 1
                    value.append(header[i])
                    i += 1
                i += 1
                params[token.lower()] = "".join(value)
            else:
                start = i
                while i < n and header[i] not in ",":
                    i += 1
                params[token.lower()] = header[start:i].strip()
        else:
            if scheme is not None:
                out.append(Challenge(scheme, params))
            scheme, params = token.lower(), {}
    if scheme is not None:
        out.append(Challenge(scheme, params))
    return out


def basic_header(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def token_url(challenge: Challenge, scopes: list[str]) -> str:
    """The realm's URL with ``service`` and one ``scope`` parameter per scope."""
    query = [("service", challenge.params["service"])] if challenge.params.get("service") else []
    query += [("scope", s) for s in scopes]
    realm = challenge.realm
    return realm + (("&" if "?" in realm else "?") + urlencode(query) if query else "")


def token_from(body: bytes, realm: str) -> str:
    try:
        doc = json.loads(body)
        token = doc.get("token") or doc.get("access_token")
    except (ValueError, AttributeError):
        token = None
    if not token:
        raise RegistryError(f"get token from {realm}: the answer has no token")
    return token


def normalize_registry(name: str) -> str:
    """``https://index.docker.io/v1/`` -> ``docker.io``; ``127.0.0.1:5000/`` -> ``127.0.0.1:5000``."""
    host = name.strip()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix):]
    host = host.split("/", 1)[0]
    if not host:
        raise InvalidArgument(f"invalid registry {name!r}: use a host name like 127.0.0.1:5000")
    return DOCKER_HUB if host in _HUB_ALIASES else host


class Credentials:
    """The stored logins (``auth.json``), one per registry host."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text())
        except FileNotFoundError:
            return {"auths": {}}
        except ValueError:
            raise RegistryError(f"read {self.path}: not valid JSON",
                                hint="remove the file and log in again") from None

    def get(self, registry: str) -> tuple[str, str] | None:
        entry = self._read().get("auths", {}).get(normalize_registry(registry))
        if not entry or not entry.get("auth"):
            return None
        user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
        return user, password

    def set(self, registry: str, user: str, password: str) -> None:
        data = self._read()
        auth = base64.b64encode(f"{user}:{password}".encode()).decode()
        data.setdefault("auths", {})[normalize_registry(registry)] = {"auth": auth}
        self._write(data)

    def remove(self, registry: str) -> bool:
        data = self._read()
        gone = data.get("auths", {}).pop(normalize_registry(registry), None)
        if gone is not None:
            self._write(data)
        return gone is not None

    def _write(self, data: dict) -> None:
        from runtime.files import write_json
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Created 0600 from the start: the password must never be readable by others,
        # not even for the moment between a write and a chmod.
        write_json(self.path, data, mode=0o600)


def unauthorized(what: str, body: bytes) -> AuthenticationRequired:
    return AuthenticationRequired(f"{what}: unauthorized: {error_message(body) or 'authentication required'}")


def error_message(body: bytes) -> str:
    """The registry's own words from an error body (``{"errors": [{"code", "message"}]}``)."""
    try:
        errors = json.loads(body).get("errors") or []
        return "; ".join(e.get("message") or e.get("code", "").lower() for e in errors)
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace").strip()[:200]
