"""Shell text -> a small syntax tree: the part of POSIX sh that lessons and learners type.

Words with quoting ('...', "...", backslash), ``$VAR``, ``${VAR}``, ``${VAR:-x}``,
``$?``, ``$$``, ``$(...)``, backquotes and ``$((...))``; operators ``; & && || |``
and newlines; redirections ``> >> < 2> 2>> 2>&1 >&2 &>``; assignments before a
command; ``{ ...; }``, ``( ... )``, ``if/elif/else/fi``, ``while/until ... do ... done``,
``for NAME in ...; do ... done`` and ``NAME() { ...; }``. Here-documents, ``case``
and arithmetic beyond ``$((...))`` are not there; a script that uses them gets a
syntax error naming what is missing, as a real shell would.

The tree is plain tuples and small dataclasses (no behaviour): :mod:`.interp` runs it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

OPERATORS = ("&&", "||", ";;", ";", "&", "|", "(", ")", "\n")
RESERVED = {"if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "in",
            "{", "}", "!"}


class ShellSyntaxError(Exception):
    """What a shell says for bad syntax: ``syntax error: unexpected "done"``."""


# -- words --------------------------------------------------------------------------------

@dataclass
class Part:
    kind: str             # lit, var, cmd, arith, special
    value: str
    quoted: bool = False
    default: str | None = None     # ${VAR:-default}


@dataclass
class Word:
    parts: list[Part] = field(default_factory=list)

    def text(self) -> str:
        """The word as written, for messages and for matching reserved words."""
        out = []
        for p in self.parts:
            out.append(p.value if p.kind == "lit" else f"${{{p.value}}}" if p.kind in ("var", "special")
                       else f"$({p.value})")
        return "".join(out)

    def is_plain(self, *names: str) -> bool:
        """An unquoted literal word equal to one of NAMES (a reserved word in command position)."""
        return (len(self.parts) == 1 and self.parts[0].kind == "lit" and not self.parts[0].quoted
                and self.parts[0].value in names)


@dataclass
class Redirect:
    fd: int               # 0, 1, 2, or -1 for &> (both)
    op: str               # >, >>, <, >&
    target: Word


# -- commands -------------------------------------------------------------------------------

@dataclass
class Simple:
    assigns: list[tuple[str, Word]]
    words: list[Word]
    redirects: list[Redirect]


@dataclass
class Pipeline:
    commands: list
    negate: bool = False


@dataclass
class AndOr:
    first: Pipeline
    rest: list[tuple[str, Pipeline]]          # ("&&"|"||", pipeline)
    background: bool = False


@dataclass
class Group:
    body: list                                # list of AndOr
    subshell: bool = False
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class If:
    branches: list[tuple[list, list]]         # (condition, body)
    orelse: list | None = None
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class Loop:
    until: bool
    condition: list
    body: list
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class For:
    name: str
    items: list[Word] | None                  # None: "$@"
    body: list
    redirects: list[Redirect] = field(default_factory=list)


@dataclass
class FuncDef:
    name: str
    body: object


# -- the tokenizer ----------------------------------------------------------------------------

def _matching(src: str, i: int, open_: str, close: str) -> int:
    """Index just after the CLOSE that matches the OPEN before SRC[i] (quotes respected)."""
    depth = 1
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = src.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            i = j + 1
            continue
        if c == '"':
            i = _end_of_double(src, i + 1)
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ShellSyntaxError(f"missing '{close}'")


def _end_of_double(src: str, i: int) -> int:
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif src.startswith("$(", i):
            i = _matching(src, i + 2, "(", ")")
        else:
            i += 1
    raise ShellSyntaxError("unterminated quoted string")


def _dollar(src: str, i: int, quoted: bool) -> tuple[Part, int]:
    """The expansion starting at SRC[i] == "$"; returns it and the index after it."""
    nxt = src[i + 1] if i + 1 < len(src) else ""
    if src.startswith("$((", i):
        end = _matching(src, i + 3, "(", ")")
        if end >= len(src) or src[end] != ")":
            raise ShellSyntaxError("missing '))'")
        return Part("arith", src[i + 3:end - 1], quoted), end + 1
    if nxt == "(":
        end = _matching(src, i + 2, "(", ")")
        return Part("cmd", src[i + 2:end - 1], quoted), end
    if nxt == "{":
        end = src.find("}", i + 2)
        if end < 0:
            raise ShellSyntaxError("missing '}'")
        body = src[i + 2:end]
        name, sep, default = body.partition(":-")
        kind = "special" if name in ("?", "$", "#", "@", "*", "!") or name.isdigit() else "var"
        return Part(kind, name, quoted, default if sep else None), end + 1
    if nxt and nxt in "?$#@*!0123456789":
        return Part("special", nxt, quoted), i + 2
    j = i + 1
    while j < len(src) and (src[j].isalnum() or src[j] == "_"):
        j += 1
    if j == i + 1:
        return Part("lit", "$", quoted), i + 1
    return Part("var", src[i + 1:j], quoted), j


def tokenize(src: str) -> list:
    """[("word", Word) | ("op", text) | ("redir", (fd, op))] for SRC."""
    tokens: list = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c in " \t":
            i += 1
            continue
        if c == "\\" and src.startswith("\\\n", i):
            i += 2
            continue
        if c == "#" and (not tokens or tokens[-1][0] != "word" or src[i - 1] in " \t\n;"):
            while i < n and src[i] != "\n":
                i += 1
            continue
        # redirections, with an optional fd number in front (2>, 2>>, 2>&1)
        if c.isdigit() and i + 1 < n and src[i + 1] in "<>" and _word_start(src, i):
            fd, i = int(c), i + 1
            c = src[i]
        else:
            fd = None
        if c == "&" and src.startswith("&>", i):
            tokens.append(("redir", (-1, ">")))
            i += 2
            continue
        if c in "<>":
            if src.startswith(">>", i):
                op, i = ">>", i + 2
            elif src.startswith(">&", i):
                op, i = ">&", i + 2
            else:
                op, i = c, i + 1
            tokens.append(("redir", ((1 if op != "<" else 0) if fd is None else fd, op)))
            continue
        op = next((o for o in OPERATORS if src.startswith(o, i)), None)
        if op is not None:
            tokens.append(("op", op))
            i += len(op)
            continue
        word, i = _word(src, i)
        tokens.append(("word", word))
    return tokens


def _word_start(src: str, i: int) -> bool:
    return i == 0 or src[i - 1] in " \t\n;&|()"


def _word(src: str, i: int) -> tuple[Word, int]:
    parts: list[Part] = []
    lit: list[str] = []

    def flush(quoted=False):
        if lit:
            parts.append(Part("lit", "".join(lit), quoted))
            lit.clear()
    n = len(src)
    while i < n:
        c = src[i]
        if c in " \t\n;&|()<>":
            break
        if c == "\\":
            flush()
            if i + 1 < n:
                parts.append(Part("lit", src[i + 1], True))
            i += 2
        elif c == "'":
            flush()
            j = src.find("'", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated quoted string")
            parts.append(Part("lit", src[i + 1:j], True))
            i = j + 1
        elif c == '"':
            flush()
            end = _end_of_double(src, i + 1)
            parts += _double(src[i + 1:end - 1])
            if end - i == 2:
                parts.append(Part("lit", "", True))
            i = end
        elif c == "$":
            flush()
            part, i = _dollar(src, i, False)
            parts.append(part)
        elif c == "`":
            flush()
            j = src.find("`", i + 1)
            if j < 0:
                raise ShellSyntaxError("unterminated backquote")
            parts.append(Part("cmd", src[i + 1:j], False))
            i = j + 1
        else:
            lit.append(c)
            i += 1
    flush()
    return Word(parts), i


def _double(body: str) -> list[Part]:
    """The parts of a double-quoted string: literal text and expansions, all quoted."""
    parts, lit, i = [], [], 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body) and body[i + 1] in '$`"\\\n':
            lit.append(body[i + 1])
            i += 2
        elif c == "$":
            if lit:
                parts.append(Part("lit", "".join(lit), True))
                lit = []
            part, i = _dollar(body, i, True)
            parts.append(part)
        elif c == "`":
            if lit:
                parts.append(Part("lit", "".join(lit), True))
                lit = []
            j = body.find("`", i + 1)
            parts.append(Part("cmd", body[i + 1:j], True))
            i = j + 1
        else:
            lit.append(c)
            i += 1
    if lit:
        parts.append(Part("lit", "".join(lit), True))
    return parts


# -- the parser -------------------------------------------------------------------------------

class _Parser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def at_word(self, *names) -> bool:
        kind, value = self.peek()
        return kind == "word" and value.is_plain(*names)

    def at_op(self, *ops) -> bool:
        kind, value = self.peek()
        return kind == "op" and value in ops

    def expect_word(self, name):
        if not self.at_word(name):
            raise ShellSyntaxError(f'syntax error: unexpected {self._shown()} (expecting "{name}")')
        self.next()

    def _shown(self) -> str:
        kind, value = self.peek()
        if kind is None:
            return "end of file"
        if kind == "word":
            return f'"{value.text()}"'
        if kind == "op":
            return "newline" if value == "\n" else f'"{value}"'
        return f'"{value[1]}"'

    def skip_newlines(self):
        while self.at_op("\n"):
            self.next()

    def program(self) -> list:
        body = self.list_(stop=())
        if self.peek()[0] is not None:
            raise ShellSyntaxError(f"syntax error: unexpected {self._shown()}")
        return body

    def list_(self, stop) -> list:
        items = []
        self.skip_newlines()
        while True:
            kind, value = self.peek()
            if kind is None or self.at_op(")") or (kind == "word" and value.is_plain(*stop)):
                return items
            items.append(self.and_or())
            if self.at_op(";", "\n", "&"):
                if self.next()[1] == "&":
                    items[-1].background = True
                self.skip_newlines()
            else:
                kind, value = self.peek()
                if kind is None or self.at_op(")") or (kind == "word" and value.is_plain(*stop)):
                    return items
                raise ShellSyntaxError(f"syntax error: unexpected {self._shown()}")

    def and_or(self) -> AndOr:
        first = self.pipeline()
        rest = []
        while self.at_op("&&", "||"):
            op = self.next()[1]
            self.skip_newlines()
            rest.append((op, self.pipeline()))
        return AndOr(first, rest)

    def pipeline(self) -> Pipeline:
        negate = False
        if self.at_word("!"):
            self.next()
            negate = True
        commands = [self.command()]
        while self.at_op("|"):
            self.next()
            self.skip_newlines()
            commands.append(self.command())
        return Pipeline(commands, negate)

    def command(self):
        if self.at_word("if"):
            return self._redirs(self.if_())
        if self.at_word("while", "until"):
            until = self.next()[1].is_plain("until")
            cond = self.list_(stop=("do",))
            self.expect_word("do")
            body = self.list_(stop=("done",))
            self.expect_word("done")
            return self._redirs(Loop(until, cond, body))
        if self.at_word("for"):
            return self._redirs(self.for_())
        if self.at_word("{"):
            self.next()
            body = self.list_(stop=("}",))
            self.expect_word("}")
            return self._redirs(Group(body))
        if self.at_op("("):
            self.next()
            body = self.list_(stop=())
            if not self.at_op(")"):
                raise ShellSyntaxError(f"syntax error: unexpected {self._shown()} (expecting \")\")")
            self.next()
            return self._redirs(Group(body, subshell=True))
        return self.simple()

    def _redirs(self, node):
        while self.peek()[0] == "redir":
            node.redirects.append(self._redirect())
        return node

    def _redirect(self) -> Redirect:
        _, (fd, op) = self.next()
        kind, target = self.next()
        if kind != "word":
            raise ShellSyntaxError("syntax error: unexpected " + ("newline" if target == "\n" else
                                                                  f'"{target}"' if kind else "end of file"))
        return Redirect(fd, op, target)

    def if_(self) -> If:
        self.expect_word("if")
        branches = []
        cond = self.list_(stop=("then",))
        self.expect_word("then")
        body = self.list_(stop=("elif", "else", "fi"))
        branches.append((cond, body))
        orelse = None
        while True:
            if self.at_word("elif"):
                self.next()
                cond = self.list_(stop=("then",))
                self.expect_word("then")
                branches.append((cond, self.list_(stop=("elif", "else", "fi"))))
            elif self.at_word("else"):
                self.next()
                orelse = self.list_(stop=("fi",))
            else:
                self.expect_word("fi")
                return If(branches, orelse)

    def for_(self) -> For:
        self.next()
        kind, name = self.next()
        if kind != "word":
            raise ShellSyntaxError("syntax error: bad for loop variable")
        items = None
        self.skip_newlines()
        if self.at_word("in"):
            self.next()
            items = []
            while self.peek()[0] == "word" and not self.at_word("do"):
                items.append(self.next()[1])
        if self.at_op(";", "\n"):
            self.next()
        self.skip_newlines()
        self.expect_word("do")
        body = self.list_(stop=("done",))
        self.expect_word("done")
        return For(name.text(), items, body)

    def simple(self):
        assigns, words, redirects = [], [], []
        while True:
            kind, value = self.peek()
            if kind == "redir":
                redirects.append(self._redirect())
            elif kind == "word":
                if not words and _assignment(value):
                    self.next()
                    assigns.append(_assignment(value))
                    continue
                if not words and self._funcdef_ahead():
                    return self._funcdef()
                if not words and value.is_plain("then", "do", "done", "fi", "elif", "else", "}", "in"):
                    raise ShellSyntaxError(f'syntax error: unexpected "{value.text()}"')
                words.append(self.next()[1])
            else:
                break
        if not (assigns or words or redirects):
            raise ShellSyntaxError(f"syntax error: unexpected {self._shown()}")
        return Simple(assigns, words, redirects)

    def _funcdef_ahead(self) -> bool:
        return (self.i + 2 < len(self.t) and self.t[self.i + 1] == ("op", "(")
                and self.t[self.i + 2] == ("op", ")"))

    def _funcdef(self) -> FuncDef:
        name = self.next()[1].text()
        self.next()
        self.next()
        self.skip_newlines()
        return FuncDef(name, self.command())


def _assignment(word: Word) -> tuple[str, Word] | None:
    first = word.parts[0] if word.parts else None
    if first is None or first.kind != "lit" or first.quoted or "=" not in first.value:
        return None
    name, _, rest = first.value.partition("=")
    if not name or not (name[0].isalpha() or name[0] == "_") or not all(c.isalnum() or c == "_" for c in name):
        return None
    value = Word(([Part("lit", rest)] if rest else []) + word.parts[1:])
    return name, value


def parse(src: str) -> list:
    """The syntax tree of SRC: a list of :class:`AndOr`. Raises :class:`ShellSyntaxError`."""
    return _Parser(tokenize(src)).program()
