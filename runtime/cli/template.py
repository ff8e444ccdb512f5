"""Docker's ``-f/--format`` templates: the part of Go's text/template people type.

``{{.State.Pid}}``, ``{{json .Config}}``, ``{{index .Config.Labels "k"}}``,
``{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}``, ``{{if .State.Running}}…
{{else}}…{{end}}``, ``{{with …}}``, variables (``{{range $k, $v := .X}}``), pipes
(``{{.Name | upper}}``), parentheses, and Docker's extra functions (json, join,
split, lower, upper, title, truncate, pad). Values print as Go prints them
(``[a b]``, ``map[k:v]``, ``true``), so a script written for ``docker`` reads the
same text. Anything else is one clear error instead of text that looks like an
answer but is not (an unknown action used to print the whole document).
"""
from __future__ import annotations

import json
import re

from ..errors import InvalidArgument

_HINT = "see Go's text/template syntax, e.g. '{{.State.Status}}' or '{{json .Config}}'"


def error(what: str) -> InvalidArgument:
    return InvalidArgument(f"invalid template: {what}", hint=_HINT)


def render(template: str, data) -> str:
    return compile_template(template)(data)


def compile_template(template: str):
    """TEMPLATE parsed once; call the result with each document."""
    nodes = _Parser(_lex(template)).parse()

    def run(data) -> str:
        out: list[str] = []
        _execute(nodes, data, {"$": data}, out)
        return "".join(out)
    return run


# --- printing ------------------------------------------------------------------------

def go_str(value) -> str:
    """VALUE as Go's fmt prints it with %v (what {{.X}} writes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_str(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_str(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def _truthy(value) -> bool:
    return bool(value) if value is not None else False


# --- lexing: text and actions ----------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)


def _lex(template: str) -> list[tuple[str, str]]:
    parts: list[tuple[str, str]] = []
    pos = 0
    for m in _ACTION.finditer(template):
        text = template[pos:m.start()]
        if m.group(1):
            text = text.rstrip()
        parts.append(("text", text))
        parts.append(("action", m.group(2).strip()))
        pos = m.end()
        if m.group(3):                       # "-}}" trims the whitespace after
            rest = template[pos:]
            pos += len(rest) - len(rest.lstrip())
    if "{{" in template[pos:]:
        raise error("unclosed action '{{'")
    parts.append(("text", template[pos:]))
    return [p for p in parts if p != ("text", "")]


_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|`[^`]*`)
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<var>\$[A-Za-z_0-9]*(?:\.[A-Za-z_][A-Za-z_0-9]*)*)
    | (?P<field>(?:\.[A-Za-z_][A-Za-z_0-9]*)+|\.)
    | (?P<ident>[A-Za-z_][A-Za-z_0-9]*)
    | (?P<punct>:=|[()|,=])
    )""", re.X)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise error(f"unexpected '{text[pos:].strip()[:20]}' in '{{{{{text}}}}}'")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


# --- parsing ----------------------------------------------------------------------------

class _Parser:
    def __init__(self, parts):
        self.parts = parts
        self.i = 0

    def parse(self):
        nodes, stop = self._block()
        if stop is not None:
            raise error(f"unexpected {{{{{stop}}}}}")
        return nodes

    def _block(self):
        """Nodes up to an {{end}} or {{else}} (returned as the second item), or the end."""
        nodes = []
        while self.i < len(self.parts):
            kind, text = self.parts[self.i]
            self.i += 1
            if kind == "text":
                nodes.append(("text", text))
                continue
            if text.startswith("/*"):                     # {{/* a comment */}}
                continue
            word = text.split(None, 1)[0] if text else ""
            if word in ("end", "else") and text == word:
                return nodes, word
            if word in ("range", "if", "with"):
                nodes.append(self._control(word, text[len(word):]))
            elif word in ("define", "template", "block", "break", "continue", "else", "end"):
                raise error(f"{{{{{text}}}}} is not supported")
            else:
                nodes.append(("print", _parse_pipeline(_tokens(text))))
        return nodes, None

    def _control(self, word, rest):
        toks = _tokens(rest)
        names: list[str] = []
        if ":=" in [t for _, t in toks]:
            at = [t for _, t in toks].index(":=")
            names = [t for k, t in toks[:at] if k == "var"]
            toks = toks[at + 1:]
        if not toks:
            raise error(f"{{{{{word}}}}} needs a value")
        pipe = _parse_pipeline(toks)
        body, stop = self._block()
        other = []
        if stop == "else":
            other, stop = self._block()
        if stop != "end":
            raise error(f"{{{{{word}}}}} without {{{{end}}}}")
        return (word, names, pipe, body, other)


def _parse_pipeline(toks):
    commands, current, depth = [], [], 0
    for tok in toks:
        if tok == ("punct", "("):
            depth += 1
        elif tok == ("punct", ")"):
            depth -= 1
        if tok == ("punct", "|") and depth == 0:
            commands.append(current)
            current = []
        else:
            current.append(tok)
    commands.append(current)
    if depth != 0:
        raise error("unbalanced parentheses")
    return [_parse_command(c) for c in commands]


def _parse_command(toks):
    args, i = [], 0
    while i < len(toks):
        kind, text = toks[i]
        if (kind, text) == ("punct", "("):
            depth, j = 1, i + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(toks[j][1], 0) if toks[j][0] == "punct" else 0
                j += 1
            inner = ("pipe", _parse_pipeline(toks[i + 1:j - 1]))
            # "(index .X 0).Field": a field chain right after the parenthesis
            if j < len(toks) and toks[j][0] == "field" and toks[j][1] != ".":
                inner = ("chain", inner, toks[j][1])
                j += 1
            args.append(inner)
            i = j
            continue
        if kind == "punct":
            raise error(f"unexpected '{text}'")
        if kind == "ident" and text not in ("true", "false", "nil") and text not in FUNCTIONS:
            raise error(f'function "{text}" not defined')
        args.append((kind, text))
        i += 1
    if not args:
        raise error("empty command")
    return args


# --- executing ---------------------------------------------------------------------------

def _execute(nodes, dot, variables, out) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "print":
            out.append(go_str(_pipeline(node[1], dot, variables)))
        else:
            _control(node, dot, variables, out)


def _control(node, dot, variables, out) -> None:
    word, names, pipe, body, other = node
    value = _pipeline(pipe, dot, variables)
    scope = dict(variables)
    if word == "range":
        items = (sorted(value.items()) if isinstance(value, dict)
                 else list(enumerate(value)) if isinstance(value, (list, tuple))
                 else None)
        if items is None and value is not None:
            raise error(f"range can't iterate over {go_str(value)}")
        for key, item in items or ():
            if len(names) == 1:
                scope[names[0]] = item
            elif len(names) == 2:
                scope[names[0]], scope[names[1]] = key, item
            _execute(body, item, scope, out)
        if not items:
            _execute(other, dot, variables, out)
        return
    if names:
        scope[names[0]] = value
    if _truthy(value):
        _execute(body, value if word == "with" else dot, scope, out)
    else:
        _execute(other, dot, variables, out)


def _pipeline(commands, dot, variables):
    value, piped = None, False
    for command in commands:
        value = _command(command, dot, variables, [value] if piped else [])
        piped = True
    return value


def _command(args, dot, variables, extra):
    head_kind, head = args[0][0], args[0][1]
    if head_kind == "ident" and head in FUNCTIONS:
        values = [_operand(a, dot, variables) for a in args[1:]] + extra
        try:
            return FUNCTIONS[head](*values)
        except TypeError:
            raise error(f"wrong arguments for {head}") from None
    if len(args) > 1 or extra:
        raise error(f"can't give arguments to a value ('{head}')")
    return _operand(args[0], dot, variables)


def _operand(arg, dot, variables):
    kind, text = arg[0], arg[1]
    if kind == "field":
        return _fields(dot, text)
    if kind == "var":
        name, _, path = text.partition(".")
        if name not in variables:
            raise error(f'undefined variable "{name}"')
        return _fields(variables[name], "." + path if path else ".")
    if kind == "string":
        return text[1:-1] if text.startswith("`") else json.loads(text)
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "ident":
        return {"true": True, "false": False, "nil": None}[text]
    if kind == "pipe":
        return _pipeline(text, dot, variables)
    if kind == "chain":
        return _fields(_operand(text, dot, variables), arg[2])
    raise error(f"unexpected {text}")


def _fields(value, path: str):
    for part in [p for p in path.split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value


# --- functions ------------------------------------------------------------------------------

def _index(value, *keys):
    for key in keys:
        if isinstance(value, dict):
            value = value.get(key)
        elif isinstance(value, (list, tuple, str)) and isinstance(key, int):
            if not 0 <= key < len(value):
                raise error(f"index out of range: {key}")
            value = value[key]
        elif value is None:
            return None
        else:
            raise error(f"can't index {go_str(value)} with {key!r}")
    return value


def _printf(fmt, *args):
    # Go's verbs that matter here: %s %v %d %q, with widths (%-20s).
    it = iter(args)

    def one(m):
        if m.group(0) == "%%":
            return "%"
        value = next(it, None)
        verb = m.group(2)
        text = json.dumps(go_str(value)) if verb == "q" else go_str(value)
        return ("%" + m.group(1) + "s") % text
    return re.sub(r"%%|%([-+ 0#]*\d*(?:\.\d+)?)([svdqtf])", one, fmt)


def _truncate(text, n):
    text = go_str(text)
    return text[:int(n)]


def _cmp(op):
    return lambda a, b: op(a, b)


FUNCTIONS = {
    "json": lambda v: json.dumps(v, ensure_ascii=False),
    "index": _index,
    "len": lambda v: len(v) if v is not None else 0,
    "join": lambda v, sep: sep.join(go_str(x) for x in (v or [])),
    "split": lambda s, sep: go_str(s).split(sep),
    "lower": lambda s: go_str(s).lower(),
    "upper": lambda s: go_str(s).upper(),
    "title": lambda s: go_str(s).title(),
    "truncate": _truncate,
    "pad": lambda s, left, right: " " * int(left) + go_str(s) + " " * int(right),
    "printf": _printf,
    "print": lambda *a: "".join(go_str(x) for x in a),
    "println": lambda *a: " ".join(go_str(x) for x in a) + "\n",
    "not": lambda v: not _truthy(v),
    "and": lambda *a: next((x for x in a if not _truthy(x)), a[-1]),
    "or": lambda *a: next((x for x in a if _truthy(x)), a[-1]),
    "eq": lambda a, *bs: any(a == b for b in bs),
    "ne": _cmp(lambda a, b: a != b),
    "lt": _cmp(lambda a, b: a < b),
    "le": _cmp(lambda a, b: a <= b),
    "gt": _cmp(lambda a, b: a > b),
    "ge": _cmp(lambda a, b: a >= b),
}
