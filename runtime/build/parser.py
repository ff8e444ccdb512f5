"""Dockerfile text -> stages of instructions, each with the line it came from.

The rules are BuildKit's (``frontend/dockerfile/parser``), in the order it applies them:

1. *Parser directives* are comment lines at the very top, ``# escape=``,
   ``# syntax=`` and ``# check=``; the first line that is not one ends them (an
   unknown ``# name=value`` is a comment, so it ends them too). ``escape`` names the
   escape character (``\\`` or a backtick, for Windows paths).
2. A line whose last non-blank character is the escape character continues on the
   next line. Comment lines (first non-blank ``#``) and blank lines inside a
   continuation are skipped; a ``#`` anywhere else is not a comment.
3. The first word is the instruction (any case); words that start with ``--``
   right after it are flags (``COPY --from=build``).
4. RUN, CMD, ENTRYPOINT, SHELL, COPY, ADD and VOLUME take a JSON array (the exec
   form) or, if the text is not one, plain words (the shell form).

Every error is a :class:`BuildError` carrying the file and line: ``Dockerfile:3:
unknown instruction: RUNN``. Nothing is expanded here (see :mod:`substitution`).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from runtime.build import instructions as ins
from runtime.build.substitution import split_words
from runtime.errors import BuildError

KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_STAGE_NAME = re.compile(r"^[a-z][a-z0-9\-_.]*$")
_FLAGS = {"from": {"platform"}, "copy": {"from", "chown", "chmod", "link"},
          "add": {"chown", "chmod", "link", "checksum", "keep-git-dir"},
          "healthcheck": {"interval", "timeout", "start-period", "start-interval", "retries"},
          "run": set()}
_RUN_FLAGS_UNSUPPORTED = {"mount", "network", "security"}


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None
    from_: ins.From
    instructions: tuple[ins.Instruction, ...]

    @property
    def shown(self) -> str:
        """How progress names the stage: its name, or "stage-N" as BuildKit does."""
        return self.name or f"stage-{self.index}"


@dataclass(frozen=True)
class Dockerfile:
    file: str
    escape: str
    global_args: tuple[ins.Arg, ...]       # ARGs before the first FROM
    stages: tuple[Stage, ...]
    directives: dict = field(default_factory=dict, compare=False)

    def stage(self, ref: str) -> Stage | None:
        """A stage by name (any case) or index, as ``--target`` and ``COPY --from`` name it."""
        for stage in self.stages:
            if stage.name is not None and stage.name == ref.lower():
                return stage
        if ref.isdigit() and int(ref) < len(self.stages):
            return self.stages[int(ref)]
        return None


def parse(text: str, file: str = "Dockerfile") -> Dockerfile:
    """Parse a whole Dockerfile. :class:`BuildError` on the first problem, with its line."""
    # Editors on Windows start UTF-8 files with a byte order mark; BuildKit drops it.
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").split("\n")
    directives, first = _directives(lines, file)
    escape = directives.get("escape", "\\")
    global_args: list[ins.Arg] = []
    stages: list[Stage] = []
    current: tuple[ins.From, list] | None = None
    names: set[str] = set()
    for lineno, logical in _logical_lines(lines, first, escape):
        inst = _instruction(logical, lineno, file, escape)
        if isinstance(inst, ins.From):
            if current is not None:
                stages.append(_stage(len(stages), *current))
            if inst.name is not None:
                if inst.name in names:
                    raise BuildError(f"duplicate name {inst.name}", file=file, line=lineno,
                                     hint="give every stage its own name")
                names.add(inst.name)
            current = (inst, [])
        elif current is None:
            if not isinstance(inst, ins.Arg):
                raise BuildError(f"no build stage in current context: {inst.keyword} before FROM",
                                 file=file, line=lineno,
                                 hint="start the Dockerfile with FROM (only ARG may come before it)")
            global_args.append(inst)
        else:
            current[1].append(inst)
    if current is None:
        raise BuildError("file with no instructions" if not global_args else "no FROM instruction",
                         file=file, hint="a Dockerfile needs at least 'FROM IMAGE'")
    stages.append(_stage(len(stages), *current))
    return Dockerfile(file, escape, tuple(global_args), tuple(stages), directives)


def _stage(index: int, from_: ins.From, body: list) -> Stage:
    return Stage(index, from_.name, from_, tuple(body))


# -- lines -----------------------------------------------------------------------------

def _directives(lines: list[str], file: str) -> tuple[dict, int]:
    """The parser directives at the top and the index of the first line after them."""
    found: dict[str, str] = {}
    i = 0
    while i < len(lines):
        m = _DIRECTIVE.match(lines[i])
        if not m:
            break
        name, value = m.group(1).lower(), m.group(2)
        if name not in KNOWN_DIRECTIVES:
            break           # an unknown one is a comment, and a comment ends the directives
        if name in found:
            raise BuildError(f"only one {name} parser directive can be used", file=file, line=i + 1)
        if name == "escape" and value not in ("\\", "`"):
            raise BuildError(f"invalid escape token '{value}' does not match ` or \\",
                             file=file, line=i + 1)
        found[name] = value
        i += 1
    return found, i


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith("#")


def _continues(line: str, escape: str) -> tuple[str, bool]:
    """(line without a trailing escape character, whether it continues)."""
    stripped = line.rstrip(" \t")
    if stripped.endswith(escape):
        return stripped[:-1], True
    return line, False


def _logical_lines(lines: list[str], start: int, escape: str):
    """(first line number, instruction text) for each instruction, continuations joined."""
    i = start
    while i < len(lines):
        raw = lines[i].lstrip()
        lineno = i + 1
        i += 1
        if not raw.strip() or _is_comment(raw):
            continue
        text, more = _continues(raw, escape)
        while more and i < len(lines):
            nxt = lines[i]
            i += 1
            if _is_comment(nxt) or not nxt.strip():
                continue
            part, more = _continues(nxt, escape)
            text += part
        yield lineno, text.strip()


# -- instructions ------------------------------------------------------------------------

def _instruction(text: str, line: int, file: str, escape: str) -> ins.Instruction:
    word, rest = re.match(r"(\S+)\s*(.*)", text, re.S).groups()
    keyword = word.lower()
    rest = rest.strip()

    def fail(message: str, hint: str | None = None) -> BuildError:
        return BuildError(message, file=file, line=line, hint=hint)

    if keyword == "onbuild":
        raise fail("ONBUILD is not supported by onggi", hint="put the instruction in the Dockerfile "
                                                           "of the image that needs it")
    cls = ins.BY_KEYWORD.get(keyword)
    if cls is None:
        raise fail(f"unknown instruction: {word.upper()}",
                   hint="instructions are FROM, RUN, COPY, ADD, ENV, ARG, WORKDIR, USER, EXPOSE, "
                        "LABEL, CMD, ENTRYPOINT, VOLUME, SHELL, STOPSIGNAL, HEALTHCHECK")
    flags, rest = _flags(rest, escape, fail) if keyword in _FLAGS else ({}, rest)
    allowed = _FLAGS.get(keyword, set())
    for name in flags:
        if keyword == "run" and name in _RUN_FLAGS_UNSUPPORTED:
            raise fail(f"RUN --{name} is not supported by onggi",
                       hint="RUN steps always run with no network and no extra mounts")
        if name not in allowed:
            raise fail(f"unknown flag: --{name}")
    display = f"{keyword.upper()} {text[len(word):].strip()}".strip()
    common = {"line": line, "text": display}
    return _BUILDERS[keyword](rest, flags, common, fail, escape)


def _flags(rest: str, escape: str, fail) -> tuple[dict[str, str | None], str]:
    """Leading ``--name[=value]`` words; the rest of the text after them."""
    flags: dict[str, str | None] = {}
    while rest.startswith("--"):
        words = split_words(rest, escape)
        token = words[0] if words else ""
        name, eq, value = token[2:].partition("=")
        if not name:
            raise fail("invalid flag: '--' needs a name")
        if name in flags:
            raise fail(f"duplicate flag specified: --{name}")
        flags[name] = _unquote(value) if eq else None
        rest = rest[len(token):].lstrip()
    return flags, rest


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _json_list(rest: str, fail) -> list[str] | None:
    """The exec form's argv if ``rest`` is a JSON array of strings, else None (the shell form).

    Valid JSON that is an array of anything but strings (``CMD ["sleep", 10]``) is
    an error, as in BuildKit: read as the shell form it would become ``/bin/sh -c
    '["sleep", 10]'`` and fail only when the container runs.
    """
    if not rest.startswith("["):
        return None
    try:
        value = json.loads(rest)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, str) for v in value):
        raise fail("when using JSON array syntax, arrays must be comprised of strings only",
                   hint='quote every element, e.g. CMD ["sleep", "10"]')
    return value


def _command(rest, keyword, fail, need=True) -> tuple[tuple[str, ...], bool]:
    argv = _json_list(rest, fail)
    if argv is not None:
        if need and not argv and keyword == "RUN":
            raise fail("RUN requires at least one argument")
        return tuple(argv), False
    if need and not rest:
        raise fail(f"{keyword} requires at least one argument")
    return (rest,), True


def _from(rest, flags, common, fail, escape):
    words = split_words(rest, escape)
    if len(words) == 3 and words[1].lower() == "as":
        name = words[2].lower()
        if not _STAGE_NAME.match(name):
            raise fail(f"invalid name for build stage: {words[2]!r}, name can't start with a "
                       "number or contain symbols")
        return ins.From(image=words[0], name=name, platform=flags.get("platform"), **common)
    if len(words) != 1:
        raise fail("FROM requires either one or three arguments", hint="use 'FROM IMAGE [AS NAME]'")
    return ins.From(image=words[0], platform=flags.get("platform"), **common)


def _arg(rest, flags, common, fail, escape):
    words = split_words(rest, escape)
    if not words:
        raise fail("ARG requires at least one argument")
    pairs = []
    for w in words:
        name, eq, default = w.partition("=")
        if not name:
            raise fail(f"ARG names can not be blank: {w!r}")
        pairs.append((name, default if eq else None))
    return ins.Arg(pairs=tuple(pairs), **common)


def _name_values(rest, keyword, fail, escape) -> tuple[tuple[str, str], ...]:
    """ENV and LABEL: ``k=v k2="v 2"``, or the legacy ``ENV k the rest of the line``."""
    words = split_words(rest, escape)
    if not words:
        raise fail(f"{keyword} requires at least one argument")
    if "=" not in words[0]:
        if len(words) < 2:
            raise fail(f"{keyword} must have two arguments", hint=f"use '{keyword} NAME=VALUE'")
        value = rest[len(words[0]):].strip()
        return ((words[0], value),)
    pairs = []
    for w in words:
        name, eq, value = w.partition("=")
        if not eq:
            raise fail(f"Syntax error - can't find = in {w!r}. Must be of the form: name=value")
        if not name:
            raise fail(f"{keyword} names can not be blank")
        pairs.append((name, value))
    return tuple(pairs)


def _env(rest, flags, common, fail, escape):
    return ins.Env(pairs=_name_values(rest, "ENV", fail, escape), **common)


def _label(rest, flags, common, fail, escape):
    return ins.Label(pairs=_name_values(rest, "LABEL", fail, escape), **common)


def _run(rest, flags, common, fail, escape):
    command, shell = _command(rest, "RUN", fail)
    return ins.Run(command=command, shell_form=shell, **common)


def _cmd(rest, flags, common, fail, escape):
    command, shell = _command(rest, "CMD", fail)
    return ins.Cmd(command=command, shell_form=shell, **common)


def _entrypoint(rest, flags, common, fail, escape):
    command, shell = _command(rest, "ENTRYPOINT", fail)
    return ins.Entrypoint(command=command, shell_form=shell, **common)


def _shell(rest, flags, common, fail, escape):
    argv = _json_list(rest, fail)
    if argv is None:
        raise fail("SHELL requires the arguments to be in JSON form", hint='e.g. SHELL ["/bin/sh", "-c"]')
    if not argv:
        raise fail("SHELL requires at least one argument")
    return ins.Shell(command=tuple(argv), **common)


def _paths(rest, keyword, fail, escape) -> list[str]:
    argv = _json_list(rest, fail)
    return argv if argv is not None else split_words(rest, escape)


def _copy(rest, flags, common, fail, escape, keyword="COPY"):
    words = _paths(rest, keyword, fail, escape)
    if len(words) < 2:
        raise fail(f"{keyword} requires at least two arguments, but only {len(words)} "
                   f"{'was' if len(words) == 1 else 'were'} provided. Destination could not be determined.")
    kw = {"sources": tuple(words[:-1]), "dest": words[-1], "chown": flags.get("chown"),
          "chmod": flags.get("chmod")}
    if keyword == "COPY":
        return ins.Copy(from_=flags.get("from"), **kw, **common)
    return ins.Add(**kw, **common)


def _add(rest, flags, common, fail, escape):
    return _copy(rest, flags, common, fail, escape, keyword="ADD")


def _volume(rest, flags, common, fail, escape):
    paths = _paths(rest, "VOLUME", fail, escape)
    if not paths or any(not p.strip() for p in paths):
        raise fail("VOLUME specified can not be an empty string" if paths
                   else "VOLUME requires at least one argument")
    return ins.Volume(paths=tuple(paths), **common)


def _expose(rest, flags, common, fail, escape):
    ports = split_words(rest, escape)
    if not ports:
        raise fail("EXPOSE requires at least one argument")
    return ins.Expose(ports=tuple(ports), **common)


def _single(keyword):
    def build(rest, flags, common, fail, escape):
        if not rest:
            raise fail(f"{keyword} requires exactly one argument")
        if keyword in ("USER", "STOPSIGNAL") and len(split_words(rest, escape)) != 1:
            raise fail(f"{keyword} requires exactly one argument")
        cls = {"WORKDIR": ins.Workdir, "USER": ins.User, "STOPSIGNAL": ins.StopSignal,
               "MAINTAINER": ins.Maintainer}[keyword]
        field_name = {"WORKDIR": "path", "USER": "user", "STOPSIGNAL": "signal",
                      "MAINTAINER": "name"}[keyword]
        return cls(**{field_name: rest}, **common)
    return build


def _healthcheck(rest, flags, common, fail, escape):
    kind, _, body = rest.partition(" ")
    kind = kind.upper()
    opts = {"interval": flags.get("interval"), "timeout": flags.get("timeout"),
            "start_period": flags.get("start-period"), "start_interval": flags.get("start-interval"),
            "retries": flags.get("retries")}
    if kind == "NONE":
        if body.strip() or any(v is not None for v in opts.values()):
            raise fail("HEALTHCHECK NONE takes no arguments")
        return ins.Healthcheck(command=None, **common)
    if kind != "CMD":
        raise fail(f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
    command, shell = _command(body.strip(), "HEALTHCHECK CMD", fail)
    return ins.Healthcheck(command=command, shell_form=shell, **opts, **common)


_BUILDERS = {
    "from": _from, "arg": _arg, "env": _env, "label": _label, "run": _run, "cmd": _cmd,
    "entrypoint": _entrypoint, "shell": _shell, "copy": _copy, "add": _add, "volume": _volume,
    "expose": _expose, "workdir": _single("WORKDIR"), "user": _single("USER"),
    "stopsignal": _single("STOPSIGNAL"), "maintainer": _single("MAINTAINER"),
    "healthcheck": _healthcheck,
}
