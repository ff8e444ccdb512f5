"""One frozen dataclass per Dockerfile instruction, as the parser reads it.

Arguments are kept *as written* (quotes, ``$VAR``): variables are expanded by the
builder at the step that uses them, because a value can come from an ``ENV`` or
``ARG`` earlier in the same stage. ``line`` is the first line of the instruction
in the Dockerfile (for errors); ``text`` is the instruction with its continuation
lines joined, which is what build progress shows.

A command (RUN, CMD, ENTRYPOINT, HEALTHCHECK CMD, SHELL) is ``command`` plus
``shell_form``: the JSON (exec) form gives the argv as-is; the shell form gives
one string that the builder wraps in the stage's SHELL (``/bin/sh -c``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, kw_only=True)
class Instruction:
    keyword: ClassVar[str] = ""
    line: int
    text: str


@dataclass(frozen=True, kw_only=True)
class From(Instruction):
    keyword: ClassVar[str] = "FROM"
    image: str
    name: str | None = None          # AS name (lower case, as BuildKit keeps it)
    platform: str | None = None


@dataclass(frozen=True, kw_only=True)
class Arg(Instruction):
    keyword: ClassVar[str] = "ARG"
    pairs: tuple[tuple[str, str | None], ...]     # (name, default as written or None)


@dataclass(frozen=True, kw_only=True)
class Run(Instruction):
    keyword: ClassVar[str] = "RUN"
    command: tuple[str, ...]
    shell_form: bool


@dataclass(frozen=True, kw_only=True)
class Cmd(Instruction):
    keyword: ClassVar[str] = "CMD"
    command: tuple[str, ...]
    shell_form: bool


@dataclass(frozen=True, kw_only=True)
class Entrypoint(Instruction):
    keyword: ClassVar[str] = "ENTRYPOINT"
    command: tuple[str, ...]
    shell_form: bool


@dataclass(frozen=True, kw_only=True)
class Shell(Instruction):
    keyword: ClassVar[str] = "SHELL"
    command: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Copy(Instruction):
    keyword: ClassVar[str] = "COPY"
    sources: tuple[str, ...]
    dest: str
    from_: str | None = None         # --from=STAGE|INDEX|IMAGE
    chown: str | None = None         # --chown=USER[:GROUP]
    chmod: str | None = None         # --chmod=OCTAL


@dataclass(frozen=True, kw_only=True)
class Add(Instruction):
    keyword: ClassVar[str] = "ADD"
    sources: tuple[str, ...]
    dest: str
    chown: str | None = None
    chmod: str | None = None


@dataclass(frozen=True, kw_only=True)
class Env(Instruction):
    keyword: ClassVar[str] = "ENV"
    pairs: tuple[tuple[str, str], ...]            # (name as written, value as written)


@dataclass(frozen=True, kw_only=True)
class Label(Instruction):
    keyword: ClassVar[str] = "LABEL"
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True, kw_only=True)
class Expose(Instruction):
    keyword: ClassVar[str] = "EXPOSE"
    ports: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Workdir(Instruction):
    keyword: ClassVar[str] = "WORKDIR"
    path: str


@dataclass(frozen=True, kw_only=True)
class User(Instruction):
    keyword: ClassVar[str] = "USER"
    user: str


@dataclass(frozen=True, kw_only=True)
class Volume(Instruction):
    keyword: ClassVar[str] = "VOLUME"
    paths: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class StopSignal(Instruction):
    keyword: ClassVar[str] = "STOPSIGNAL"
    signal: str


@dataclass(frozen=True, kw_only=True)
class Healthcheck(Instruction):
    """``HEALTHCHECK NONE`` has command None. Durations are kept as written ("30s")."""
    keyword: ClassVar[str] = "HEALTHCHECK"
    command: tuple[str, ...] | None
    shell_form: bool = False
    interval: str | None = None
    timeout: str | None = None
    start_period: str | None = None
    start_interval: str | None = None
    retries: str | None = None


@dataclass(frozen=True, kw_only=True)
class Maintainer(Instruction):
    """Deprecated in favour of LABEL; sets the image's author as Docker does."""
    keyword: ClassVar[str] = "MAINTAINER"
    name: str


ALL = (From, Arg, Run, Cmd, Entrypoint, Shell, Copy, Add, Env, Label, Expose, Workdir, User,
       Volume, StopSignal, Healthcheck, Maintainer)
BY_KEYWORD = {cls.keyword.lower(): cls for cls in ALL}
