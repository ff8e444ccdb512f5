"""What a check, a live answer or an action may read besides the runtime, for one learner.

A :class:`Context` is built for one evaluation (a check run, a quiz answer, an
action): the Runtime, the lesson, when the learner started or reset it (events
before that do not count), the results of the learner's actions in it (an exec
button's output, a VM comparison), their quiz answers, the transcripts of the
browser terminals, and the :class:`Probes` (host commands and in-container
commands run for a comparison, cached across evaluations). No Flask here.
"""
from __future__ import annotations

import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from runtime.errors import ContainerNotFound

from .history import events_since


@dataclass(frozen=True)
class Ran:
    """One command the learner ran in a container, however they ran it."""
    time: float
    line: str                   # as typed / as exec'd: "ping -c 3 net-web"
    output: str | None = None   # None when onggi could not see it (an exec from a terminal)
    code: int | None = None
    how: str = "exec"           # exec (an exec event), button (the step's button), terminal


@dataclass
class Context:
    rt: object
    lesson_id: str
    prefix: str = ""
    since: float = 0.0
    results: list = field(default_factory=list)      # [{"kind", "step", "data", "at"}]
    quizzes: dict = field(default_factory=dict)      # quiz id -> answered correctly
    transcripts: Callable[[], list] = lambda: []     # [{"container", "entries": [{"time", "line", "output"}]}]
    probes: "Probes | None" = None
    _events: list | None = None

    # -- events ---------------------------------------------------------------------------
    def events(self, *types: str) -> list[dict]:
        """Events since the learner started the lesson, oldest first (of TYPES, if given)."""
        if self._events is None:
            self._events = events_since(self.rt.config.events_log, self.since)
        return [e for e in self._events if not types or e.get("type") in types]

    # -- containers -----------------------------------------------------------------------
    def container(self, name: str):
        """The container NAME names, or None when there is none."""
        try:
            return self.rt.container(name)
        except ContainerNotFound:
            return None

    def ran_in(self, container) -> list[Ran]:
        """Commands run in CONTAINER since the lesson started: its exec events, the
        lesson's exec buttons (with their output) and lines typed in a browser
        terminal attached to it (with what came back)."""
        out: list[Ran] = []
        buttons = [r for r in self.results if r["kind"] == "exec"
                   and r["data"].get("container") == container.id and r["at"] >= self.since]
        for e in self.events("container.exec"):
            if e.get("id") != container.id:
                continue
            cmd = [str(a) for a in (e.get("data") or {}).get("cmd") or []]
            line = _inner(cmd)
            match = next((b for b in buttons if _inner(b["data"].get("cmd") or []) == line
                          and abs(b["data"].get("started", b["at"]) - e["time"]) < 30), None)
            if match is not None:
                buttons.remove(match)
                out.append(Ran(e["time"], line, match["data"].get("output"), match["data"].get("code"),
                               "button"))
            elif len(cmd) > 1 or (cmd and cmd[0] not in ("sh", "/bin/sh", "ash", "bash")):
                out.append(Ran(e["time"], line))      # a bare shell is a terminal: its lines come below
        for b in buttons:                             # e.g. a command that could not even start
            out.append(Ran(b["at"], _inner(b["data"].get("cmd") or []), b["data"].get("output"),
                           b["data"].get("code"), "button"))
        for t in self.transcripts():
            if t.get("container") not in (container.id, container.name):
                continue
            for entry in t.get("entries", []):
                if entry["time"] >= self.since and entry.get("line", "").strip():
                    out.append(Ran(entry["time"], entry["line"].strip(),
                                   clean_output(entry.get("output", ""), entry["line"]), None, "terminal"))
        out.sort(key=lambda r: r.time)
        return out

    # -- comparisons ----------------------------------------------------------------------
    def host_output(self, command: str) -> str | None:
        return self.probes.host(command) if self.probes else None

    def container_output(self, container, command: str) -> str | None:
        return self.probes.inside(self.rt, container, command) if self.probes else None

    def result(self, kind: str, step: str | None = None) -> dict | None:
        """The latest result of an action of KIND in this lesson (since the start)."""
        found = [r for r in self.results if r["kind"] == kind and r["at"] >= self.since
                 and (step is None or r.get("step") == step)]
        return found[-1] if found else None


def _inner(cmd: list[str]) -> str:
    """``sh -c "ping x"`` is the learner running ``ping x``; anything else, its words."""
    if len(cmd) >= 3 and cmd[0] in ("sh", "/bin/sh", "ash", "bash") and cmd[1] == "-c":
        return cmd[2].strip()
    return " ".join(cmd)


def starts_with(line: str, command: str) -> bool:
    """Whether LINE runs COMMAND: its first words are COMMAND's (``ping`` matches
    ``ping -c 3 10.0.0.2`` but not ``pingu``).

    A learner writes the same command in more than one way, and each must count:
    options may be combined, reordered or added (``ls -la /proc/self/ns`` runs
    ``ls -l /proc/self/ns``), a trailing slash names the same directory, and ``ip``
    takes any abbreviation of its object (``ip a`` is ``ip addr``)."""
    want, have = _words(command), _words(line)
    if not want:
        return False
    want_args, want_flags = _split(want)
    have_args, have_flags = _split(have)
    return have_args[:len(want_args)] == want_args and want_flags <= have_flags


# ip's objects in the order ip itself resolves an abbreviation (``ip r`` is route, not rule).
_IP_OBJECTS = ("address", "link", "route", "rule", "neighbour", "netns", "maddress", "tunnel")


def _split(words: list[str]) -> tuple[list[str], set[str]]:
    """The words that are not options, normalised, and the set of options given
    (``-la`` is ``-l`` and ``-a``; a long option stays whole)."""
    args, flags = [], set()
    for word in words:
        if word.startswith("--") and len(word) > 2:
            flags.add(word)
        elif word.startswith("-") and len(word) > 1:
            flags.update("-" + ch for ch in word[1:])
        else:
            if len(word) > 1:
                word = word.rstrip("/") or "/"
            if len(args) == 1 and args[0] == "ip":
                word = next((o for o in _IP_OBJECTS if word and o.startswith(word)), word)
            args.append(word)
    return args, flags


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def clean_output(text: str, line: str = "") -> str:
    """A terminal's output as a person reads it: no escape codes or carriage
    returns, without the echoed command and the next prompt."""
    import re
    text = re.sub(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\x1b\][^\x07]*\x07", "", text)
    text = text.replace("\r", "")
    lines = text.split("\n")
    if lines and line and lines[0].strip().endswith(line.strip()):
        lines = lines[1:]
    elif lines and not lines[0].strip():
        lines = lines[1:]
    if lines and not text.endswith("\n"):
        lines = lines[:-1]            # the prompt the shell printed after the output
    return "\n".join(lines).strip()


class Probes:
    """Commands run to compare outputs, cached: on the host (per command, briefly) and
    inside a container (once per container and command: running it again would
    publish another exec event and wake the checks again)."""

    HOST_TTL = 30.0

    def __init__(self, cli: str | None, env: dict | None = None):
        self.cli, self.env = cli, env or {}
        self._host: dict[str, tuple[float, str | None]] = {}
        self._inside: dict[tuple[str, str], str | None] = {}
        self._lock = threading.Lock()

    def host(self, command: str) -> str | None:
        with self._lock:
            hit = self._host.get(command)
            if hit and time.monotonic() - hit[0] < self.HOST_TTL:
                return hit[1]
        # The lesson's own command (an instructor wrote it), not what a learner typed.
        try:
            proc = subprocess.run(_words(command), capture_output=True, text=True, timeout=5)
            out = (proc.stdout + proc.stderr).strip()
        except (OSError, subprocess.TimeoutExpired):
            out = None
        with self._lock:
            self._host[command] = (time.monotonic(), out)
        return out

    def inside(self, rt, container, command: str) -> str | None:
        key = (container.id, command)
        with self._lock:
            if key in self._inside:
                return self._inside[key]
        out = None
        if hasattr(container, "exec_output"):          # the simulated runtime's tiny shell
            code, text = container.exec_output(_words(command), timeout=10)
            out = text.strip()
        elif self.cli and not getattr(rt, "simulated", False):
            from .cli import run_cli
            env = dict(self.env, **rt.config.to_env())
            ran = run_cli(self.cli, ["exec", container.id, *_words(command)], env, timeout=10)
            out = ran.output.strip() if ran.code is not None else None
        with self._lock:
            self._inside[key] = out
        return out
