"""Image references by Docker's rules: ``busybox`` means ``docker.io/library/busybox:latest``.

The grammar is distribution/reference's (``reference.go``)::

    reference        := name [ ":" tag ] [ "@" digest ]
    name             := [domain "/"] path-component ["/" path-component]*
    domain           := domain-component ["." domain-component]* [":" port-number]
    domain-component := /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
    path-component   := /[a-z0-9]+/ [separator /[a-z0-9]+/]*
    separator        := /[_.]|__|[-]*/
    tag              := /[\\w][\\w.-]{0,127}/

and Docker's normalisation (``normalize.go``): the first component is a registry
only if it contains "." or ":" or is "localhost" (otherwise ``foo/bar`` is a Docker
Hub repository); Docker Hub names with one component live under ``library/``; a
name with neither tag nor digest gets ``:latest``. The *familiar* form is what
``docker images`` shows (``busybox:latest``, ``localhost:5000/foo:1``); the *full*
form is what a registry client needs (``docker.io/library/busybox:latest``).

Pure string work: no I/O, used on the ``onggi run`` hot path and by the registry client.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from runtime.errors import InvalidReference

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
_LEGACY_DOMAIN = "index.docker.io"
_OFFICIAL_PREFIX = "library/"
_MAX_NAME = 255

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?")
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*"
_PATH = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
_TAG = re.compile(r"[\w][\w.-]{0,127}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_ID = re.compile(r"[a-f0-9]{64}")


@dataclass(frozen=True)
class Reference:
    """A parsed, normalised reference. ``tag`` and ``digest`` may each be None."""

    domain: str
    path: str
    tag: str | None = DEFAULT_TAG
    digest: str | None = None

    @property
    def name(self) -> str:
        """The full repository name: ``docker.io/library/busybox``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar_name(self) -> str:
        """The repository as Docker shows it: ``busybox``, ``localhost:5000/foo``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(_OFFICIAL_PREFIX) and "/" not in path[len(_OFFICIAL_PREFIX):]:
            path = path[len(_OFFICIAL_PREFIX):]
        return path

    @property
    def familiar(self) -> str:
        """``busybox:latest``; what the image index stores and ``onggi images`` shows."""
        return self.familiar_name + self._suffix()

    @property
    def full(self) -> str:
        """``docker.io/library/busybox:latest``."""
        return self.name + self._suffix()

    def with_tag(self, tag: str) -> "Reference":
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f"invalid tag {tag!r}")
        return Reference(self.domain, self.path, tag, None)

    def _suffix(self) -> str:
        return (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")

    def __str__(self) -> str:
        return self.familiar


def parse(text: str, *, default_tag: str | None = DEFAULT_TAG) -> Reference:
    """Parse and normalise ``text``; :class:`InvalidReference` says what is wrong.

    ``default_tag`` is added when the reference has neither tag nor digest (pass
    None to keep such a reference bare, e.g. to name a whole repository).
    """
    if not text or text != text.strip():
        raise InvalidReference(f"invalid reference format: {text!r}")
    if _ID.fullmatch(text):
        raise InvalidReference(
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")

    rest, at, digest = text.partition("@")
    if at and not _DIGEST.fullmatch(digest):
        raise InvalidReference(f"invalid reference format: bad digest {digest!r} in {text!r}")
    # The tag is after the last ":" only if no "/" follows it ("host:5000/x" has none).
    name, tag = rest, None
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        name, tag = rest[:colon], rest[colon + 1:]
        if not _TAG.fullmatch(tag):
            raise InvalidReference(f"invalid reference format: bad tag {tag!r} in {text!r}")

    domain, path = _split_domain(name)
    if path != path.lower():
        raise InvalidReference(
            f"invalid reference format: repository name ({path}) must be lowercase")
    if not _DOMAIN.fullmatch(domain) or not _PATH.fullmatch(path):
        raise InvalidReference(f"invalid reference format: {text!r}")
    if len(f"{domain}/{path}") > _MAX_NAME:
        raise InvalidReference(f"repository name must not be more than {_MAX_NAME} characters")
    if tag is None and not at:
        tag = default_tag
    return Reference(domain, path, tag, digest or None)


def _split_domain(name: str) -> tuple[str, str]:
    """Docker's splitDockerDomain: is the first component a registry host?"""
    first, slash, remainder = name.partition("/")
    if not slash or ("." not in first and ":" not in first and first != "localhost"
                     and first == first.lower()):
        domain, remainder = DEFAULT_DOMAIN, name
    else:
        domain = first
    if domain == _LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = _OFFICIAL_PREFIX + remainder
    return domain, remainder


def familiar(text: str) -> str:
    """The familiar form of a reference string (``busybox`` -> ``busybox:latest``)."""
    return parse(text).familiar


def try_parse(text: str) -> Reference | None:
    """Like :func:`parse`, but None instead of an error (for names read from disk)."""
    try:
        return parse(text)
    except InvalidReference:
        return None
