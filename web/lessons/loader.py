"""Reading lessons: ``lessons/NN-slug/lesson.{ko,en}.md`` -> :mod:`.model` values.

The format is lessons/README.md's. Front matter is YAML (PyYAML); the text is
Markdown (markdown-it-py, CommonMark with tables, raw HTML off); every
``## heading {#id}`` starts a step; fenced ```` ```step ```` and ```` ```quiz ````
blocks hold each step's machine part as YAML. Checks, actions and live answers
are validated against the registries in checks.py, actions.py and answers.py,
and both languages must have the same machine parts. Anything wrong is refused
with one line naming the file and line::

    lessons/07-namespaces/lesson.ko.md:42: step 'pid': unknown check 'container_runing'
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from markdown_it import MarkdownIt

from runtime.errors import InvalidArgument

from .model import LABELS, LANGS, MODES, VIEWS, Action, Check, Course, Lesson, Quiz, Step
from .params import ParamError

LESSON_DIR = re.compile(r"^(\d+)-[a-z0-9][a-z0-9-]*$")
HEADING_ID = re.compile(r"\s*\{#([A-Za-z0-9][A-Za-z0-9_-]*)\}\s*$")
FRONT_KEYS = ("title", "summary", "minutes", "mode", "labels", "prefix")
STEP_KEYS = ("view", "view_for", "action", "check", "hints", "solution", "step_through")
QUIZ_KEYS = ("question", "choices", "correct", "answer", "explain", "id")
VIEW_FOR = {"container": None, "image": None,
            "component": ("client", "engine", "registry", "compose", "machine", "swarm"),
            "scenario": ("machine", "swarm")}


class LessonError(InvalidArgument):
    """A malformed lesson file: ``path:line: what is wrong``."""

    hint = "fix the lesson file (the format is in lessons/README.md)"

    def __init__(self, path: str, line: int | None, message: str):
        self.path, self.line = path, line
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    render, inline = md.render, md.renderInline
    md.render = lambda text, env=None: strong_cjk(render(text, env))
    md.renderInline = lambda text, env=None: strong_cjk(inline(text, env))
    return md


_CODE = re.compile(r"(<pre\b.*?</pre>|<code>.*?</code>)", re.S)
_STRONG = re.compile(r"\*\*(?=\S)([^*<>]{1,200}?)(?<=\S)\*\*")


def strong_cjk(html: str) -> str:
    """Bold that CommonMark leaves as ``**...**`` next to Korean: ``**용어(term)**를``.

    CommonMark's flanking rule does not let ``**`` close after punctuation when a
    letter follows, and a Korean particle is a letter, so the way Korean writes a
    term with its English in parentheses would show its asterisks. What is left
    outside code is made bold here."""
    parts = _CODE.split(html)
    for i in range(0, len(parts), 2):
        parts[i] = _STRONG.sub(r"<strong>\1</strong>", parts[i])
    return "".join(parts)


# -- the course ---------------------------------------------------------------------------

def load_course(root: Path, *, strict: bool = True) -> Course:
    """Every lesson under ROOT (folders ``NN-slug``), both languages, checked to agree.
    STRICT: the first malformed lesson raises its LessonError; otherwise it is left out
    and its error kept in ``Course.errors`` (the web app lists the others)."""
    root = Path(root)
    lessons, errors = {}, []
    for d in lesson_dirs(root, strict=strict):
        try:
            lessons[d.name] = load_lesson(root, d)
        except LessonError as exc:
            if strict:
                raise
            errors.append(" ".join(str(exc).split()))
    return Course(lessons=lessons, root=str(root), errors=tuple(errors))


def check_course(root: Path) -> list[LessonError]:
    """What is wrong under ROOT: the first error of each lesson folder (empty: all is well)."""
    root = Path(root)
    if not root.is_dir():
        return [LessonError(str(root), None, "no such folder of lessons")]
    errors = []
    for d in lesson_dirs(root, strict=False):
        try:
            load_lesson(root, d)
        except LessonError as exc:
            errors.append(exc)
    return errors


def lesson_dirs(root: Path, strict: bool = True) -> list[Path]:
    """ROOT's lesson folders, in order; a folder that means to be a lesson (its name starts with
    a number, or it holds lesson files) but is not named NN-slug would silently not be listed,
    so it is refused (STRICT) or returned for load_lesson to refuse."""
    out = []
    for d in sorted(root.iterdir() if root.is_dir() else []):
        if not d.is_dir():
            continue
        if LESSON_DIR.match(d.name) or d.name[:1].isdigit() or any(d.glob("lesson.*.md")):
            if strict and not LESSON_DIR.match(d.name):
                load_lesson(root, d)                  # raises
            out.append(d)
    return out


def load_lesson(root: Path, d: Path) -> dict:
    """The lesson in folder D of ROOT: {lang: Lesson}, both languages checked to agree."""
    m = LESSON_DIR.match(d.name)
    if not m:
        raise LessonError(f"{root.name}/{d.name}", None, "a lesson folder is named NN-slug: "
                          "a number, '-', then lower-case letters, digits and '-' "
                          "(like 11-env-and-config); rename it")
    pair = {}
    for lang in LANGS:
        path = d / f"lesson.{lang}.md"
        shown = f"{root.name}/{d.name}/{path.name}"
        if not path.exists():
            others = sorted(f.name for f in d.glob("lesson.*.md") if f.name not in
                            {f"lesson.{x}.md" for x in LANGS})
            found = f"; found {', '.join(others)}: rename it" if others else ""
            raise LessonError(f"{root.name}/{d.name}", None, f"lesson.{lang}.md is missing "
                              f"(every lesson has lesson.ko.md and lesson.en.md{found})")
        pair[lang] = parse(read_text(path, shown), lesson_id=d.name, lang=lang,
                           shown=shown, number=int(m.group(1)))
    compare(pair["ko"], pair["en"])
    return pair


def read_text(path: Path, shown: str) -> str:
    """A lesson file's text: UTF-8 (a byte-order mark, as some Windows editors write, is dropped)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise LessonError(shown, line, "the file is not UTF-8 (saved as CP949/EUC-KR or another "
                          "encoding?): save it as UTF-8") from None


def compare(ko: Lesson, en: Lesson) -> None:
    """Refuse two languages of a lesson whose machine parts differ."""
    for key in ("mode", "prefix", "labels", "minutes"):
        if getattr(ko, key) != getattr(en, key):
            raise LessonError(en.path, 1, f"front matter '{key}' differs from {_name(ko)} "
                              f"({getattr(en, key)!r} vs {getattr(ko, key)!r})")
    ko_ids = [s.id for s in ko.steps]
    for i, step in enumerate(en.steps):
        if i >= len(ko.steps) or ko_ids[i] != step.id:
            where = (f"{_name(ko)} has '{ko_ids[i]}' here" if i < len(ko_ids) else f"{_name(ko)} has no more steps")
            raise LessonError(en.path, step.line, f"step '{step.id}': the steps differ ({where}; "
                              "both languages need the same steps in the same order)")
    if len(ko.steps) > len(en.steps):
        extra = ko.steps[len(en.steps)]
        raise LessonError(ko.path, extra.line, f"step '{extra.id}': not in {_name(en)}")
    only_words = "only the words (text, button labels, hints, questions) may differ between languages"
    for a, b in zip(ko.steps, en.steps):
        def differ(part, here, there, line_en, line_ko, what_en, what_ko):
            raise LessonError(en.path, line_en or b.line,
                              f"step '{b.id}': its {part} differs from {_name(ko)}:{line_ko or a.line} "
                              f"({what_en} here, {what_ko} there); {only_words}")
        if (a.view, a.view_for) != (b.view, b.view_for):
            differ("view", None, None, None, None, _shown((b.view, b.view_for)), _shown((a.view, a.view_for)))
        if (a.action and a.action.machine()) != (b.action and b.action.machine()):
            differ("action", None, None, b.action and b.action.line, a.action and a.action.line,
                   _shown_action(b.action), _shown_action(a.action))
        if a.step_through != b.step_through:
            differ("step_through", None, None, None, None, b.step_through, a.step_through)
        for i in range(max(len(a.checks), len(b.checks))):
            x = a.checks[i] if i < len(a.checks) else None
            y = b.checks[i] if i < len(b.checks) else None
            if (x and x.machine()) != (y and y.machine()):
                differ(f"check {i + 1}", None, None, y and y.line, x and x.line,
                       _shown_check(y), _shown_check(x))
        for i in range(max(len(a.quizzes), len(b.quizzes))):
            x = a.quizzes[i] if i < len(a.quizzes) else None
            y = b.quizzes[i] if i < len(b.quizzes) else None
            if (x and x.machine()) != (y and y.machine()):
                differ(f"quiz {i + 1}", None, None, y and y.line, x and x.line, _shown_quiz(y), _shown_quiz(x))
    if tuple(q.machine() for q in ko.intro_quizzes) != tuple(q.machine() for q in en.intro_quizzes):
        raise LessonError(en.path, 1, f"the quizzes before the first step differ from {_name(ko)}")


def _shown(value) -> str:
    """VALUE as a lesson would write it in YAML (flow style), for messages."""
    if isinstance(value, str):
        return repr(value)
    def plain(v):
        if isinstance(v, tuple):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v
    return yaml.safe_dump(plain(value), default_flow_style=True, allow_unicode=True,
                          sort_keys=False, width=10_000).strip().removesuffix("...").strip()


def _shown_action(action) -> str:
    if action is None:
        return "no action"
    if action.kind == "type":
        return f"terminal: {_shown(action.command)} in {action.container}"
    return f"{action.kind}: {_shown(action.params)}"


def _shown_check(check) -> str:
    return "no check" if check is None else f"{check.kind}: {_shown(check.params)}"


def _shown_quiz(quiz) -> str:
    if quiz is None:
        return "no quiz"
    if quiz.answer is not None:
        return f"quiz '{quiz.id}' with answer {quiz.answer[0]}: {_shown(quiz.answer[1])}"
    return f"quiz '{quiz.id}' with {len(quiz.choices)} choices, correct: {quiz.correct}"


def _name(lesson: Lesson) -> str:
    return lesson.path.rsplit("/", 1)[-1]


# -- one file ---------------------------------------------------------------------------------

def parse(text: str, *, lesson_id: str, lang: str, shown: str, number: int = 0) -> Lesson:
    """One lesson file's TEXT (SHOWN is its path in messages)."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise LessonError(shown, 1, "a lesson starts with YAML front matter between two '---' lines")
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        raise LessonError(shown, 1, "the front matter has no closing '---' line")
    front, front_lines = _yaml("\n".join(lines[1:end]), 2, shown)
    meta = _front(front, front_lines, shown)
    body_first = end + 2                       # 1-based line of the body's first line
    md = markdown()
    body = lines[end + 1:]
    tokens = md.parse("\n".join(body))
    _fences(tokens, body, body_first, shown)
    sections = _sections(tokens, body_first, shown)
    intro = sections[0]
    intro_html, intro_blocks = _split(md, intro["tokens"], body_first)
    steps, seen_ids, quiz_ids = [], set(), set()
    intro_quizzes = []
    for kind, content, line in intro_blocks:
        if kind == "step":
            raise LessonError(shown, line, "a step block before the first '## heading {#id}' "
                              "(every step starts with its heading)")
        intro_quizzes.append(_quiz(md, content, line, shown, "intro", len(intro_quizzes) + 1, quiz_ids))
    for sec in sections[1:]:
        if sec["id"] in seen_ids:
            raise LessonError(shown, sec["line"], f"step '{sec['id']}': the id is used twice")
        seen_ids.add(sec["id"])
        html, blocks = _split(md, sec["tokens"], body_first)
        steps.append(_step(md, sec, html, blocks, shown, quiz_ids))
    if not steps:
        raise LessonError(shown, body_first, "no steps: start each with '## Title {#id}'")
    for step in steps:
        for c in step.checks:
            if c.kind == "quiz_answered" and c.params["quiz"] not in quiz_ids:
                raise LessonError(shown, c.line, f"step '{step.id}': check 'quiz_answered' names "
                                  f"quiz '{c.params['quiz']}', which no quiz has as its id")
    return Lesson(id=lesson_id, number=number, lang=lang, path=shown, intro=intro_html,
                  intro_quizzes=tuple(intro_quizzes), steps=tuple(steps), **meta)


def _front(front, lines, shown) -> dict:
    if not isinstance(front, dict):
        raise LessonError(shown, 2, "the front matter is a YAML mapping (title: ..., summary: ...)")
    for key in front:
        if key not in FRONT_KEYS:
            raise LessonError(shown, lines.get((key,)), f"unknown front matter field '{key}' "
                              f"(fields: {', '.join(FRONT_KEYS)})")
    if not isinstance(front.get("title"), str) or not front["title"].strip():
        raise LessonError(shown, 2, "the front matter needs a title")
    mode = front.get("mode", "real")
    if mode not in MODES:
        raise LessonError(shown, lines.get(("mode",)), f"invalid mode '{mode}': use real or any")
    labels = front.get("labels") or []
    if not isinstance(labels, list) or any(x not in LABELS for x in labels):
        raise LessonError(shown, lines.get(("labels",)), f"invalid labels {labels!r}: use a list of "
                          + ", ".join(LABELS))
    minutes = front.get("minutes", 0)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes < 0:
        raise LessonError(shown, lines.get(("minutes",)), f"invalid minutes {minutes!r}: use a whole number")
    prefix = front.get("prefix") or ""
    if not isinstance(prefix, str) or (prefix and not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", prefix)):
        raise LessonError(shown, lines.get(("prefix",)), f"invalid prefix {prefix!r}: use a short name "
                          "like 'ns-' (lower-case letters, digits, - _ .)")
    return {"title": front["title"].strip(), "summary": str(front.get("summary") or "").strip(),
            "minutes": minutes, "mode": mode, "labels": tuple(labels), "prefix": prefix}


def _fences(tokens, body: list[str], first: int, shown) -> None:
    """Refuse the slips that would quietly turn a step's machine part into shown text: a
    misspelt block name (```setp, ```Quiz), a step block written as ```yaml, a block never
    closed (it would swallow the steps after it), a step heading of the wrong level."""
    import difflib
    for tok in tokens:
        if tok.type == "fence":
            line = first + tok.map[0]
            info = tok.info.strip()
            word = info.split()[0] if info else ""
            if word in ("step", "quiz"):
                last = body[tok.map[1] - 1].strip() if tok.map[1] - 1 < len(body) else ""
                if tok.map[1] - 1 == tok.map[0] or not (last.startswith(tok.markup[0] * len(tok.markup))
                                                        and not last.strip(tok.markup[0])):
                    raise LessonError(shown, line, f"the {tok.markup}{word} block that starts here is never "
                                      f"closed: end it with a line of {tok.markup}")
                for i, text in enumerate(tok.content.split("\n")):
                    if text.startswith(tok.markup) or HEADING_ID.search(text) and text.startswith("#"):
                        raise LessonError(shown, line, f"the {tok.markup}{word} block that starts here runs on "
                                          f"into line {line + 1 + i} ({text.strip()}): end it with a line "
                                          f"of {tok.markup} before that")
            elif word and difflib.get_close_matches(word.lower(), ["step", "quiz"], n=1, cutoff=0.6):
                close = difflib.get_close_matches(word.lower(), ["step", "quiz"], n=1, cutoff=0.6)[0]
                raise LessonError(shown, line, f"a {tok.markup}{word} block: did you mean "
                                  f"{tok.markup}{close}? (the block names are step and quiz, in lower case)")
            elif word in ("yaml", "yml"):
                try:
                    data = yaml.safe_load(tok.content)
                except yaml.YAMLError:
                    data = None
                if isinstance(data, dict) and data and set(data) <= set(STEP_KEYS) and (
                        {"check", "action"} & set(data)):
                    raise LessonError(shown, line, f"a {tok.markup}{word} block that reads like a step's "
                                      f"machine part: write {tok.markup}step (a {tok.markup}{word} block is "
                                      "only shown as text)")
                if isinstance(data, dict) and "question" in data and set(data) <= set(QUIZ_KEYS):
                    raise LessonError(shown, line, f"a {tok.markup}{word} block that reads like a quiz: "
                                      f"write {tok.markup}quiz (a {tok.markup}{word} block is only shown as text)")
        elif tok.type == "heading_open" and tok.tag != "h2" and tok.map is not None:
            idx = tokens.index(tok)
            inline = tokens[idx + 1]
            if HEADING_ID.search(inline.content):
                level = int(tok.tag[1])
                raise LessonError(shown, first + tok.map[0], f"'{'#' * level} {inline.content}': a step "
                                  f"starts with a level-2 heading: write '## {inline.content}'")


def _sections(tokens, first: int, shown) -> list[dict]:
    """The intro, then one section per '## heading {#id}' (tokens without the heading)."""
    out = [{"id": None, "title": "", "line": first, "tokens": []}]
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.tag == "h2":
            inline = tokens[i + 1]
            line = first + tok.map[0]
            m = HEADING_ID.search(inline.content)
            if not m:
                raise LessonError(shown, line, f"'## {inline.content}' has no step id: "
                                  f"write '## {inline.content} {{#some-id}}'")
            title = inline.content[:m.start()].strip()
            out.append({"id": m.group(1), "title": title, "line": line, "tokens": []})
            i += 3                              # heading_open, inline, heading_close
            continue
        out[-1]["tokens"].append(tok)
        i += 1
    return out


def _split(md, tokens, first: int):
    """(HTML of the text, [(kind, yaml value, lines, line)] of its machine blocks)."""
    text, blocks = [], []
    for tok in tokens:
        if tok.type == "fence" and tok.info.strip() in ("step", "quiz"):
            line = first + tok.map[0]
            blocks.append((tok.info.strip(), tok.content, line))
        else:
            text.append(tok)
    return strong_cjk(md.renderer.render(text, md.options, {})), blocks


def _yaml(text: str, first: int, shown: str):
    """TEXT's value and the line of each key/item (by path), counted from FIRST."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        value = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        # A tab in an indentation is the usual cause, and PyYAML may notice it lines later.
        tab = next((i for i, ln in enumerate(text.split("\n")) if "\t" in ln[:len(ln) - len(ln.lstrip())]), None)
        if tab is not None:
            raise LessonError(shown, first + tab, "invalid YAML: a tab in the indentation; "
                              "YAML indents with spaces only (replace the tab with spaces)") from None
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or ""
        raise LessonError(shown, first + (mark.line if mark else 0),
                          f"invalid YAML: {problem}; {_yaml_advice(problem)}") from None
    except yaml.YAMLError as exc:
        raise LessonError(shown, first, f"invalid YAML: {exc}") from None
    lines: dict[tuple, int] = {}

    def walk(n, path):
        lines.setdefault(path, first + n.start_mark.line)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = path + (k.value,)
                lines[key] = first + k.start_mark.line
                walk(v, key)
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                walk(item, path + (i,))
    if node is not None:
        walk(node, ())
    return value, lines


# PyYAML's words for the usual slips, and what an instructor should do about each.
_YAML_ADVICE = (
    ("mapping values are not allowed", "check this line's indentation against the line above (the "
     "keys of one mapping start in the same column, what belongs to a key is indented two more "
     "spaces), that the key before it ends with ': ', and quote a value that holds ': '"),
    ("expected <block end>", "this line's indentation does not line up: the keys of one mapping "
     "start in the same column, a list's '- ' items too"),
    ("could not find expected ':'", "a line without 'key: value', or a block that is not closed: "
     "check the line above, and that every ``` block ends with a line of ```"),
    ("cannot start any token", "a value cannot start with that character: put the whole value in "
     "quotes, like \"`code` and words\""),
    ("found unexpected end of stream", "a quote or bracket is not closed"),
    ("found duplicate anchor", "'&' starts a YAML anchor: quote a value that begins with it"),
    ("found undefined alias", "'*' starts a YAML alias: quote a value that begins with it"),
)


def _yaml_advice(problem: str) -> str:
    for words, advice in _YAML_ADVICE:
        if words in problem:
            return advice
    return "check the indentation, and quote a value that holds ': ' or ' #' or starts with a symbol"


def _step(md, sec, html, blocks, shown, quiz_ids) -> Step:
    step_id = sec["id"]
    fields: dict = {}
    quizzes = []
    machine_seen = False
    for kind, content, line in blocks:
        if kind == "step":
            if machine_seen:
                raise LessonError(shown, line, f"step '{step_id}': a second step block (one per step)")
            machine_seen = True
            data, lines = _yaml(content, line + 1, shown)
            fields = _step_fields(md, data, lines, line, shown, step_id)
        else:
            quizzes.append(_quiz(md, content, line, shown, step_id, len(quizzes) + 1, quiz_ids))
    return Step(id=step_id, title=md.renderInline(sec["title"]), html=html, line=sec["line"],
                quizzes=tuple(quizzes), **fields)


def _step_fields(md, data, lines, line, shown, step_id) -> dict:
    from .checks import CHECKS

    def fail(path, message):
        raise LessonError(shown, lines.get(path, line + 1), f"step '{step_id}': {message}")
    if not isinstance(data, dict):
        raise LessonError(shown, line, f"step '{step_id}': the step block is a YAML mapping")
    for key in data:
        if key not in STEP_KEYS:
            fail((key,), f"unknown field '{key}' (fields: {', '.join(STEP_KEYS)})")
    out: dict = {}
    view = data.get("view", "none")
    if view not in VIEWS:
        fail(("view",), f"unknown view '{view}' (views: {', '.join(VIEWS)})")
    out["view"] = view
    view_for = data.get("view_for") or {}
    if not isinstance(view_for, dict):
        fail(("view_for",), "view_for is a mapping like {container: NAME}")
    for key, value in view_for.items():
        if key not in VIEW_FOR:
            fail(("view_for", key), f"view_for: unknown key '{key}' (keys: {', '.join(VIEW_FOR)})")
        if VIEW_FOR[key] is not None and value not in VIEW_FOR[key]:
            fail(("view_for", key), f"view_for: invalid {key} '{value}' (use one of {', '.join(VIEW_FOR[key])})")
        if not isinstance(value, (str, int, float)):
            fail(("view_for", key), f"view_for: {key} is one name")
    out["view_for"] = {k: str(v) for k, v in view_for.items()}
    if "action" in data:
        out["action"] = _action(data["action"], lines, line, shown, step_id)
    checks = data.get("check") or []
    if not isinstance(checks, list):
        fail(("check",), "check is a list: - container_running: {name: web}")
    parsed = []
    for i, item in enumerate(checks):
        if not isinstance(item, dict) or len(item) != 1:
            fail(("check", i), "each check is one key with its parameters: - KIND: {...}")
        kind, value = next(iter(item.items()))
        if kind not in CHECKS:
            fail(("check", i), f"unknown check '{kind}'" + _did_you_mean(kind, CHECKS))
        try:
            params = CHECKS[kind][0].normalize(f"check '{kind}'", value)
        except ParamError as exc:
            fail(("check", i, kind, exc.key) if exc.key else ("check", i), str(exc))
        parsed.append(Check(kind, params, lines.get(("check", i), line + 1)))
    out["checks"] = tuple(parsed)
    hints = data.get("hints") or []
    if isinstance(hints, str):
        hints = [hints]
    if not isinstance(hints, list) or not all(isinstance(h, str) for h in hints):
        fail(("hints",), "hints is a list of sentences")
    out["hints"] = tuple(md.renderInline(h) for h in hints)
    solution = data.get("solution") or ""
    if not isinstance(solution, str):
        fail(("solution",), "solution is text (use 'solution: |' and indented lines)")
    _placeholders(solution, lambda m: fail(("solution",), m))
    out["solution"] = solution.rstrip("\n")
    step_through = data.get("step_through", False)
    if not isinstance(step_through, bool):
        fail(("step_through",), "step_through is true or false")
    if step_through and (out.get("action") is None or out["action"].kind != "run"):
        fail(("step_through",), "step_through needs a 'run' button action to launch step by step")
    out["step_through"] = step_through
    return out


def _did_you_mean(word: str, names) -> str:
    import difflib
    close = difflib.get_close_matches(word, list(names), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _placeholders(text: str, fail) -> None:
    from .answers import ONE_ARG, placeholders
    for kind, arg in placeholders(text):
        if kind not in ONE_ARG:
            fail(f"unknown live value '{{{{{kind}:{arg}}}}}' (live values: {', '.join(ONE_ARG)})")


def _action(data, lines, line, shown, step_id) -> Action:
    from .actions import ACTIONS

    def fail(path, message):
        raise LessonError(shown, lines.get(path, line + 1), f"step '{step_id}': {message}")
    at = lines.get(("action",), line + 1)
    if not isinstance(data, dict):
        fail(("action",), "an action is a mapping: {button: LABEL, run: {...}} or {terminal: COMMAND, in: NAME}")
    if "button" in data:
        label = data["button"]
        if not isinstance(label, str) or not label.strip():
            fail(("action", "button"), "button: the button's words")
        rest = [k for k in data if k != "button"]
        if len(rest) != 1:
            fail(("action",), "a button does one action: add exactly one of " + ", ".join(ACTIONS))
        kind = rest[0]
        if kind not in ACTIONS:
            fail(("action", kind), f"unknown action '{kind}'" + _did_you_mean(kind, ACTIONS))
        try:
            params = ACTIONS[kind].normalize(f"action '{kind}'", data[kind])
        except ParamError as exc:
            fail(("action", kind, exc.key) if exc.key else ("action", kind), str(exc))
        _walk_strings(params, lambda s: _placeholders(s, lambda m: fail(("action", kind), m)))
        return Action(kind=kind, params=params, label=label.strip(), line=at)
    if "terminal" in data:
        command = data["terminal"]
        for key in data:
            if key not in ("terminal", "in"):
                fail(("action", key), f"unknown key '{key}' in a terminal action (terminal: COMMAND, in: NAME)")
        if not isinstance(command, str) or not command.strip():
            fail(("action", "terminal"), "terminal: the command to type (to open a terminal, use a button "
                 "with terminal: {name: NAME})")
        container = data.get("in")
        if not isinstance(container, str) or not container:
            fail(("action",), "a command to type needs 'in: NAME', the container whose terminal it is")
        _placeholders(command, lambda m: fail(("action", "terminal"), m))
        return Action(kind="type", command=command.strip(), container=container, line=at)
    fail(("action",), "an action is a button (button: LABEL plus one action) or a command to type "
         "(terminal: COMMAND, in: NAME)")


def _walk_strings(value, fn) -> None:
    if isinstance(value, str):
        fn(value)
    elif isinstance(value, list):
        for v in value:
            _walk_strings(v, fn)
    elif isinstance(value, dict):
        for v in value.values():
            _walk_strings(v, fn)


def _quiz(md, content: str, line, shown, step_id, n, quiz_ids) -> Quiz:
    from .answers import ANSWERS
    data, lines = _yaml(content, line + 1, shown)

    def fail(path, message):
        raise LessonError(shown, lines.get(path, line + 1), f"{'step ' + repr(step_id) if step_id != 'intro' else 'intro'}"
                          f": quiz: {message}")
    if not isinstance(data, dict):
        raise LessonError(shown, line, f"step '{step_id}': a quiz block is a YAML mapping")
    for key in data:
        if key not in QUIZ_KEYS:
            fail((key,), f"unknown field '{key}' (fields: {', '.join(QUIZ_KEYS)})")
    question = data.get("question")
    if not isinstance(question, str) or not question.strip():
        fail(("question",), "question: is required")
    quiz_id = data.get("id", f"{step_id}-{n}")
    if not isinstance(quiz_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", quiz_id):
        fail(("id",), f"invalid id {quiz_id!r}: use letters, digits, - _ .")
    if quiz_id in quiz_ids:
        fail(("id",), f"the quiz id '{quiz_id}' is used twice")
    quiz_ids.add(quiz_id)
    choices, correct, answer = (), None, None
    if "answer" in data:
        if "choices" in data or "correct" in data:
            fail(("answer",), "give either choices with correct, or answer (a live answer), not both")
        a = data["answer"]
        if not isinstance(a, dict) or len(a) != 1:
            fail(("answer",), "answer is one live answer like {host_pid: NAME}")
        kind, value = next(iter(a.items()))
        if kind not in ANSWERS:
            fail(("answer", kind), f"unknown live answer '{kind}'" + _did_you_mean(kind, ANSWERS))
        try:
            answer = (kind, ANSWERS[kind].normalize(f"answer '{kind}'", value))
        except ParamError as exc:
            fail(("answer", kind), str(exc))
    else:
        raw = data.get("choices")
        if not isinstance(raw, list) or len(raw) < 2 or not all(isinstance(c, (str, int, float)) for c in raw):
            fail(("choices",), "choices: a list of at least two answers (or give answer: for a live one)")
        correct = data.get("correct")
        if not isinstance(correct, int) or isinstance(correct, bool) or not 0 <= correct < len(raw):
            fail(("correct",), f"correct: the 0-based number of the right choice (0 to {len(raw) - 1})")
        choices = tuple(md.renderInline(str(c)) for c in raw)
    explain = data.get("explain") or ""
    if not isinstance(explain, str):
        fail(("explain",), "explain is text")
    return Quiz(id=quiz_id, question=md.render(question.strip()), choices=choices, correct=correct,
                answer=answer, explain=md.render(explain.strip()) if explain else "", line=line)
