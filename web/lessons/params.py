"""What parameters a check, an action or a live answer takes, checked when a lesson loads.

Each entry of the registries in checks.py, actions.py and answers.py has a
:class:`Signature`. The loader asks it to validate the YAML a lesson gives, so
a misspelt parameter or a size like ``64q`` is refused with the file and line
before any learner sees the lesson.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable


class ParamError(ValueError):
    """A parameter problem; ``key`` names the parameter (None: the whole value)."""

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


@dataclass(frozen=True)
class Signature:
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    # A scalar instead of a mapping means this one parameter: {host_pid: web}.
    shorthand: str | None = None
    # param -> a function that raises ValueError (with a short reason) on a bad value.
    validators: dict = field(default_factory=dict)

    def normalize(self, what: str, value) -> dict:
        """VALUE (the YAML after the key) as a dict of parameters, validated."""
        if value is None:
            value = {}
        if not isinstance(value, dict):
            if self.shorthand is None:
                raise ParamError(f"{what}: expected a mapping like "
                                 f"{{{', '.join(f'{k}: ...' for k in self.required) or ''}}}")
            value = {self.shorthand: value}
        known = set(self.required) | set(self.optional)
        for key in value:
            if key not in known:
                hint = f" (it takes {', '.join(sorted(known))})" if known else " (it takes none)"
                raise ParamError(f"{what}: unknown parameter '{key}'{hint}", key)
        for key in self.required:
            if value.get(key) in (None, ""):
                raise ParamError(f"{what}: '{key}' is required", None)
        for key, check in self.validators.items():
            if key in value and value[key] is not None:
                try:
                    check(value[key])
                except (ValueError, TypeError) as exc:
                    raise ParamError(f"{what}: invalid {key} {shown(value[key])}: {exc}", key) from None
        return dict(value)


def shown(value) -> str:
    """VALUE as a lesson writes it (YAML flow style; a string in quotes), not as Python would."""
    if isinstance(value, str):
        return repr(value)
    import yaml
    return yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, sort_keys=False,
                          width=10_000).strip().removesuffix("...").strip()


def size(value) -> None:
    from runtime.cgroups import units
    from runtime.errors import InvalidArgument
    try:
        units.parse_bytes(str(value))
    except InvalidArgument:
        raise ValueError("use a size like 64m or 1g") from None


def number(value) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("use a number")


def whole(value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("use a whole number")


def flag(value) -> None:
    if not isinstance(value, bool):
        raise ValueError("use true or false")


def text(value) -> None:
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError("use a string")


def one_of(*choices) -> Callable:
    def check(value) -> None:
        if value not in choices:
            raise ValueError("use one of " + ", ".join(map(str, choices)))
    return check


def words(value) -> None:
    """A command: a list of words (or one string)."""
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not all(isinstance(w, (str, int, float)) for w in value):
        raise ValueError("use a list of words like [sleep, \"3600\"]")


def strings(value) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not all(isinstance(w, str) for w in value):
        raise ValueError("use a list of strings")


def env(value) -> None:
    """Environment variables: a list of KEY=VALUE strings, as ``-e`` takes them."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(w, str) and "=" in w[1:] for w in items):
        raise ValueError("use a list of KEY=VALUE strings, like [GREETING=hello, APP_MODE=dev]")
