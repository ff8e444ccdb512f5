"""Variable substitution in Dockerfile words, as the Dockerfile reference defines it.

Docker expands ``$VAR`` and ``${VAR}`` (with the modifiers below) in the
arguments of ADD COPY ENV EXPOSE FROM LABEL STOPSIGNAL USER VOLUME WORKDIR,
never in RUN, CMD or ENTRYPOINT: there the shell inside the container does it.
This is BuildKit's lexer (``frontend/dockerfile/shell/lex.go``) in Python:

* ``${VAR:-word}`` is ``word`` when VAR is unset or empty, else VAR's value;
  ``${VAR-word}`` only when VAR is unset.
* ``${VAR:+word}`` is ``word`` when VAR is set and not empty, else ""; ``${VAR+word}``
  when VAR is set, even to "".
* ``${VAR:?message}`` / ``${VAR?message}`` fail the build when VAR is unset (or
  empty, with the colon).
* An unset variable expands to "". ``word`` may itself hold variables and quotes.
* The escape character (``\\`` or the one the ``escape`` directive names) makes
  the next character literal: ``\\$HOME`` stays ``$HOME``.
* Single quotes keep everything literal; double quotes keep everything but
  ``$`` expansions, and there the escape character only escapes ``"``, ``$``
  and itself. The quotes themselves are removed.

Pure string work: :func:`expand` returns the text and the names it looked up,
which the build cache uses to know which build arguments a step depends on.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from runtime.errors import InvalidArgument


class SubstitutionError(InvalidArgument):
    """A word that cannot be expanded (the builder adds the file and line)."""


@dataclass(frozen=True)
class Expansion:
    text: str
    used: frozenset[str]     # every variable name looked up, set or not


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand one word (quotes removed, escapes applied, variables substituted)."""
    lexer = _Lexer(word, env, escape)
    text = lexer.until(None)
    return Expansion(text, frozenset(lexer.used))


def expand_all(words, env: Mapping[str, str], escape: str = "\\") -> tuple[list[str], frozenset[str]]:
    """Expand each word; (texts, names used by any of them)."""
    texts, used = [], set()
    for w in words:
        e = expand(w, env, escape)
        texts.append(e.text)
        used |= e.used
    return texts, frozenset(used)


def split_words(text: str, escape: str = "\\") -> list[str]:
    """Split on whitespace outside quotes, keeping quotes and escapes for :func:`expand`.

    BuildKit's ``parseWords``: ``a="x y" b`` is two words, ``a="x y"`` and ``b``.
    """
    words, cur, quote, i, in_word = [], [], None, 0, False
    while i < len(text):
        ch = text[i]
        if quote is None and ch.isspace():
            if in_word:
                words.append("".join(cur))
                cur, in_word = [], False
            i += 1
            continue
        in_word = True
        if ch == escape and quote != "'" and i + 1 < len(text):
            cur.append(ch + text[i + 1])
            i += 2
            continue
        if quote is None and ch in "'\"":
            quote = ch
        elif ch == quote:
            quote = None
        cur.append(ch)
        i += 1
    if in_word:
        words.append("".join(cur))
    return words


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str], escape: str):
        self.text, self.env, self.escape = text, env, escape
        self.pos = 0
        self.used: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1 if ch else 0
        return ch

    def until(self, stop: str | None) -> str:
        """Process up to ``stop`` (consumed) or the end; "" stop means end only."""
        out = []
        while True:
            ch = self.peek()
            if not ch:
                if stop is not None:
                    raise SubstitutionError(f"missing '{stop}' in {self.text!r}")
                return "".join(out)
            if stop is not None and ch == stop:
                self.next()
                return "".join(out)
            if ch == "'":
                out.append(self.single_quoted())
            elif ch == '"':
                out.append(self.double_quoted())
            elif ch == "$":
                out.append(self.dollar())
            else:
                self.next()
                if ch == self.escape:
                    ch = self.next()      # escapes the next character; dropped at the end
                out.append(ch)

    def single_quoted(self) -> str:
        self.next()
        end = self.text.find("'", self.pos)
        if end < 0:
            raise SubstitutionError(f"unexpected end of statement while looking for matching "
                                    f"single-quote in {self.text!r}")
        value, self.pos = self.text[self.pos:end], end + 1
        return value

    def double_quoted(self) -> str:
        self.next()
        out = []
        while True:
            ch = self.peek()
            if not ch:
                raise SubstitutionError(f"unexpected end of statement while looking for matching "
                                        f"double-quote in {self.text!r}")
            if ch == '"':
                self.next()
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.next()
            if ch == self.escape:
                following = self.peek()
                if not following:
                    continue
                if following in ('"', "$", self.escape):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        start = self.pos
        if self.peek().isdigit():       # $1: positional, never set in a Dockerfile
            while self.peek().isdigit():
                self.next()
            return self.text[start:self.pos]
        while self.peek() and (self.peek().isalnum() or self.peek() == "_"):
            self.next()
        return self.text[start:self.pos]

    def lookup(self, name: str) -> str | None:
        self.used.add(name)
        return self.env.get(name)

    def dollar(self) -> str:
        self.next()                      # the $
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"               # "$" before a non-name character is literal
            return self.lookup(name) or ""
        self.next()                      # the {
        name = self.name()
        if not name:
            raise SubstitutionError(f"bad substitution in {self.text!r}: missing a variable name")
        value = self.lookup(name)
        ch = self.next()
        if ch == "}":
            return value or ""
        if not ch:
            raise SubstitutionError(f"missing '}}' in {self.text!r}")
        colon = ch == ":"
        if colon:
            ch = self.next()
        if ch not in ("-", "+", "?"):
            shown = ch or "end of text"
            raise SubstitutionError(f"unsupported modifier ({shown}) in substitution {self.text!r}",
                                    hint="use ${VAR}, ${VAR:-default}, ${VAR:+alternative} "
                                         "or ${VAR:?message}")
        word = self.until("}")
        unset_or_empty = value is None or (colon and value == "")
        if ch == "-":
            return word if unset_or_empty else value
        if ch == "+":
            return "" if unset_or_empty else word
        if unset_or_empty:
            raise SubstitutionError(f"{name}: {word or 'is not allowed to be unset'}")
        return value
