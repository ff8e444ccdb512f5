"""``.dockerignore``: which files of the build context COPY and ADD never see.

Docker's rules (``moby/patternmatcher``):

* one pattern per line; blank lines and lines starting with ``#`` are ignored;
* a pattern is cleaned like a path (``./a//b/`` is ``a/b``, a leading ``/`` is dropped)
  and matched against paths relative to the context root;
* ``*`` matches within one path component, ``?`` one character, ``[a-z]`` a class,
  ``**`` any number of components (``**/*.go``); the escape is ``\\``;
* a pattern that matches a directory excludes everything under it;
* ``!pattern`` makes an exception; the *last* pattern that matches decides.

The Dockerfile and .dockerignore are still read by the builder when excluded (as
Docker does); they just cannot be COPY'd.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pattern:
    text: str
    exception: bool
    regex: re.Pattern

    def matches(self, path: str) -> bool:
        """This path or one of its parent directories matches (MatchesOrParentMatches)."""
        if self.regex.fullmatch(path):
            return True
        parts = path.split("/")
        return any(self.regex.fullmatch("/".join(parts[:i])) for i in range(1, len(parts)))


class Matcher:
    def __init__(self, patterns: list[Pattern]):
        self.patterns = patterns
        self.has_exceptions = any(p.exception for p in patterns)

    def excluded(self, path: str) -> bool:
        """True if the context-relative ``path`` ("a/b.txt", no leading "/") is ignored."""
        result = False
        for p in self.patterns:
            if p.matches(path):
                result = not p.exception
        return result

    def skip_dir(self, path: str) -> bool:
        """A directory whose whole tree can be skipped: excluded, and no exception could
        bring back anything inside it."""
        return self.excluded(path) and not self.has_exceptions


def parse(text: str) -> Matcher:
    patterns = []
    for raw in text.removeprefix("\ufeff").splitlines():      # a BOM, as moby's ReadAll drops it
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exception = line.startswith("!")
        if exception:
            line = line[1:].strip()
        cleaned = posixpath.normpath(line).lstrip("/")
        if cleaned in ("", "."):
            if exception:
                continue
            cleaned = "**"
        patterns.append(Pattern(line, exception, re.compile(_regex(cleaned), re.S)))
    return Matcher(patterns)


def load(context: Path) -> Matcher:
    """The context's .dockerignore (an empty matcher if there is none)."""
    try:
        return parse((Path(context) / ".dockerignore").read_text())
    except FileNotFoundError:
        return Matcher([])


def _regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "*":
            if pattern.startswith("**", i):
                i += 2
                if pattern.startswith("/", i):
                    out.append("(?:.*/)?")      # **/ : zero or more directories
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1:end]
                if body.startswith("^"):
                    body = "^" + body[1:]
                elif body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)
