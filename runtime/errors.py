"""Every error the runtime raises on purpose, under one base class.

The rule (written once, here):

* Callers catch :class:`OnggiError`; each subclass also inherits the builtin it
  resembles (``ImageNotFound`` is a ``LookupError``), so generic code still works.
* A message reads "what failed: why" in lower case; :attr:`OnggiError.hint` says
  what to do about it. Together they fit on one line, which is all the CLI prints.
* :attr:`OnggiError.exit_code` is what the CLI exits with (Docker's codes: 125 when
  onggi itself fails, 126 not executable, 127 not found). The web maps the classes
  to HTTP codes in one place (``web/api/errors.py``), by the family they belong to.
* Failed syscalls are not wrapped here: they stay ``OSError`` with errno and path
  (see ``runtime/linux``); the layer that knows *why* it made the call may wrap
  one in an :class:`OnggiError` that says what it was doing.
"""
from __future__ import annotations


class OnggiError(Exception):
    """Base of every deliberate runtime error."""

    exit_code = 125
    hint = ""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self)

    def one_line(self) -> str:
        """The message and the hint, as the CLI prints them."""
        text = " ".join(str(self).split())
        hint = self.hint[:1].upper() + self.hint[1:]
        return f"{text}. {hint}" if hint else text


# --- bad input -------------------------------------------------------------

class InvalidArgument(OnggiError, ValueError):
    """The caller asked for something malformed (a flag value, a name, a path)."""


class InvalidReference(InvalidArgument):
    """An image reference that does not parse."""

    hint = "use NAME[:TAG] or NAME@sha256:DIGEST, e.g. busybox:latest"


class UnsafeLayer(InvalidArgument):
    """A tar layer tried to write outside its root or create what it may not."""

    hint = "the archive was refused and nothing was extracted; use a trusted image"


class DigestMismatch(OnggiError, ValueError):
    """Content does not hash to the digest that names it."""

    hint = "the blob is corrupt or was tampered with; pull or load the image again"


class InvalidArchive(InvalidArgument):
    """A file given to load/import is not an image archive we can read."""


# --- missing things ----------------------------------------------------------

class NotFound(OnggiError, LookupError):
    """Something named does not exist."""


class ImageNotFound(NotFound):
    hint = "see 'onggi images'; busybox:latest is always there"


class ContainerNotFound(NotFound):
    hint = "see 'onggi ps -a'"


class NetworkNotFound(NotFound):
    hint = "see 'onggi network ls'"


class BlobNotFound(NotFound):
    hint = "the image store is missing content; load or pull the image again"


class CommandNotFound(NotFound):
    """The container's command does not exist (Docker exits 127)."""

    exit_code = 127
    hint = "check the command name and the image's PATH"


class CommandNotExecutable(OnggiError, PermissionError):
    """The container's command exists but cannot be executed (Docker exits 126)."""

    exit_code = 126
    hint = "check that the file is an executable for this machine"


# --- conflicts with current state -------------------------------------------

class Conflict(OnggiError):
    """The request is well formed but the current state forbids it."""


class NameInUse(Conflict):
    hint = "remove that container or choose another --name"


class ImageInUse(Conflict):
    hint = "remove the containers that use it first, or use -f"


class ContainerRunning(Conflict):
    hint = "stop it first, or use -f"


class ContainerNotRunning(Conflict):
    hint = "start it first with 'onggi start'"


class NetworkInUse(Conflict):
    hint = "disconnect or remove its containers first"


class PortInUse(Conflict):
    hint = "choose another host port with -p"


class InvalidTransition(Conflict):
    """A lifecycle move the state machine forbids (see container/state.py)."""

    def __init__(self, current, wanted, *, what: str = "container"):
        self.current, self.wanted = current, wanted
        super().__init__(f"cannot {wanted} {what}: it is {current}")


class Cancelled(OnggiError):
    """A step-through launch was cancelled by its user; everything made was removed."""

    hint = ""


# --- the host cannot do it ----------------------------------------------------

class Unsupported(OnggiError):
    """This host cannot run containers the way asked (not root, no overlayfs...)."""


class NotRoot(Unsupported):
    hint = "run onggi as root (sudo onggi ...), or use the web app's simulated mode"


# --- build and ship -----------------------------------------------------------

class BuildError(OnggiError):
    """A Dockerfile problem; carries the file and line like 'Dockerfile:3: ...'."""

    exit_code = 1          # as `docker build` exits when a build fails

    def __init__(self, message: str, *, file: str = "Dockerfile", line: int | None = None,
                 hint: str | None = None):
        self.file, self.line = file, line
        where = f"{file}:{line}: " if line else f"{file}: "
        super().__init__(where + message, hint=hint)


class RegistryError(OnggiError):
    """A registry refused or failed a request."""


class AuthenticationRequired(RegistryError, PermissionError):
    hint = "log in with 'onggi login REGISTRY'"


def rebuild(type_name: str, message: str, hint: str | None = None) -> OnggiError:
    """An error that crossed a process boundary as (class name, message, hint)."""
    cls = globals().get(type_name)
    if isinstance(cls, type) and issubclass(cls, OnggiError):
        try:
            return cls(message, hint=hint or None)
        except TypeError:          # a class with its own constructor (BuildError...)
            pass
    return OnggiError(message, hint=hint or None)


def to_wire(exc: OnggiError) -> dict:
    return {"type": type(exc).__name__, "message": str(exc), "hint": exc.hint}
