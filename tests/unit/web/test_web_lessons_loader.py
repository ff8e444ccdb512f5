"""Lesson files: every lesson loads in both languages; a malformed one is refused with file:line."""
from pathlib import Path

import pytest

from web.lessons.loader import LessonError, load_course, parse

REPO = Path(__file__).resolve().parents[3]
LESSON_DIRS = sorted(d.name for d in (REPO / "lessons").iterdir() if d.is_dir() and d.name[:2].isdigit())


@pytest.fixture(scope="module")
def course():
    return load_course(REPO / "lessons")


def test_the_curriculum_has_the_ten_lessons_of_the_issue(course):
    assert len(LESSON_DIRS) >= 10
    assert course.ids == LESSON_DIRS
    numbers = [course.get(i).number for i in course.ids]
    assert numbers == sorted(numbers) and numbers[:10] == list(range(1, 11))


@pytest.mark.parametrize("lesson_id", LESSON_DIRS)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_every_lesson_loads_in_both_languages(course, lesson_id, lang):
    lesson = course.get(lesson_id, lang)
    assert lesson.title and lesson.summary and lesson.minutes > 0 and lesson.prefix
    assert lesson.steps and all(s.title and s.html for s in lesson.steps)
    other = course.get(lesson_id, "en" if lang == "ko" else "ko")
    assert [s.id for s in lesson.steps] == [s.id for s in other.steps]
    for a, b in zip(lesson.steps, other.steps):
        assert a.machine() == b.machine()
        if a.action is not None and a.action.kind != "type":
            assert a.action.label                     # a button has words, in each language
    assert [q.id for q in lesson.quizzes()] == [q.id for q in other.quizzes()]
    if lang == "ko":
        assert any("\uac00" <= ch <= "\ud7a3" for ch in lesson.title + lesson.steps[0].html)


@pytest.mark.parametrize("lesson_id", LESSON_DIRS)
def test_every_lesson_uses_the_names_its_prefix_promises(course, lesson_id):
    """'clean up' removes by prefix too: what a step makes is named with it."""
    lesson = course.get(lesson_id)
    for s in lesson.steps:
        if s.action and s.action.kind in ("run", "network_create"):
            assert s.action.params.get("name", lesson.prefix).startswith(lesson.prefix), s.id


def test_text_is_rendered_and_machine_blocks_are_not_shown(course):
    lesson = course.get("07-namespaces", "en")
    step = lesson.step("pid")
    assert "<p>" in step.html and "```" not in step.html and "view: namespaces" not in step.html
    assert step.checks[0].kind == "namespace_isolated" and step.checks[0].params == {"name": "ns-demo", "kind": "pid"}
    assert step.quizzes[0].answer == ("host_pid", {"name": "ns-demo"})
    assert lesson.step("launch").step_through
    assert "<table>" in lesson.intro                   # Markdown tables


GOOD = """---
title: A test lesson
summary: One step.
minutes: 5
mode: any
labels: [run]
prefix: t-
---

Intro text.

## First step {#first}

Some text.

```step
view: namespaces
view_for: {container: t-box}
action:
  button: Run it
  run: {name: t-box, image: busybox, cmd: [sleep, "60"], detach: true, memory: 64m}
check:
  - container_running: {name: t-box, memory: 64m}
hints:
  - a hint
solution: |
  onggi run -d --name t-box busybox sleep 60
```

```quiz
question: Which PID?
answer: {host_pid: t-box}
explain: That one.
```

## Second step {#second}

```step
action:
  terminal: "ping -c 1 {{ip_address:t-box}}"
  in: t-box
check:
  - quiz_answered: {quiz: pick}
```

```quiz
id: pick
question: Pick one
choices: [a, b, c]
correct: 1
```
"""


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.split("\n"), 1) if needle in line)


def test_a_good_lesson_parses():
    lesson = parse(GOOD, lesson_id="99-test", lang="en", shown="lessons/99-test/lesson.en.md", number=99)
    assert [s.id for s in lesson.steps] == ["first", "second"]
    first, second = lesson.steps
    assert first.action.kind == "run" and first.action.params["memory"] == "64m" and first.action.label == "Run it"
    assert second.action.kind == "type" and second.action.container == "t-box"
    assert second.quizzes[0].id == "pick" and second.quizzes[0].correct == 1
    assert first.quizzes[0].id == "first-1"
    assert "Intro text" in lesson.intro and first.hints == ("a hint",)


def _replace(old, new):
    def edit(text):
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


# (what to break, the line it is on (a text to find, or a number), what the message says)
BROKEN = [
    (_replace("container_running: {name: t-box, memory: 64m}", "container_runing: {name: t-box}"),
     "container_runing", "step 'first': unknown check 'container_runing' (did you mean 'container_running'?)"),
    (_replace("memory: 64m}\nhints", "memory: 64q}\nhints"), "container_running: {name: t-box, memory: 64q}",
     "step 'first': check 'container_running': invalid memory '64q'"),
    (_replace("container_running: {name: t-box, memory: 64m}", "container_running: {name: t-box, colour: red}"),
     "colour: red", "check 'container_running': unknown parameter 'colour'"),
    (_replace("container_running: {name: t-box, memory: 64m}", "container_running: {memory: 64m}"),
     "container_running: {memory: 64m}", "check 'container_running': 'name' is required"),
    (_replace("view: namespaces", "view: kernels"), "view: kernels", "step 'first': unknown view 'kernels'"),
    (_replace("view_for: {container: t-box}", "view_for: {box: t-box}"), "view_for: {box: t-box}",
     "view_for: unknown key 'box'"),
    (_replace("## First step {#first}", "## First step"), "## First step",
     "'## First step' has no step id: write '## First step {#some-id}'"),
    (_replace("## Second step {#second}", "## Second step {#first}"), "## Second step",
     "step 'first': the id is used twice"),
    (_replace("run: {name: t-box", "runn: {name: t-box"), "runn:", "step 'first': unknown action 'runn'"),
    (_replace("  button: Run it\n", "  button: Run it\n  stop: {name: t-box}\n"), "action:",
     "step 'first': a button does one action"),
    (_replace("detach: true, memory", "detach: maybe, memory"), "detach: maybe",
     "action 'run': invalid detach 'maybe': use true or false"),
    (_replace("  in: t-box\n", ""), lambda text: line_of(text, 'terminal: "ping') - 1,   # its action: line
     "a command to type needs 'in: NAME'"),
    (_replace("{{ip_address:t-box}}", "{{ip_adress:t-box}}"), "terminal: \"ping", "unknown live value '{{ip_adress:t-box}}'"),
    (_replace("quiz_answered: {quiz: pick}", "quiz_answered: {quiz: nope}"), "quiz_answered",
     "check 'quiz_answered' names quiz 'nope', which no quiz has as its id"),
    (_replace("correct: 1", "correct: 3"), "correct: 3", "quiz: correct: the 0-based number of the right choice (0 to 2)"),
    (_replace("answer: {host_pid: t-box}", "answer: {host_pidd: t-box}"), "host_pidd",
     "quiz: unknown live answer 'host_pidd' (did you mean 'host_pid'?)"),
    (_replace("answer: {host_pid: t-box}", "choices: [x]"), "choices: [x]", "choices: a list of at least two answers"),
    (_replace("check:\n  - quiz", "chek:\n  - quiz"), "chek:", "step 'second': unknown field 'chek'"),
    (_replace("view: namespaces", "view: namespaces: cgroups"), "view: namespaces: cgroups",
     "invalid YAML: mapping values are not allowed here; check this line's indentation"),
    # What an instructor gets wrong by mistake, each named at its line with what to do.
    (_replace("  - container_running: {name: t-box, memory: 64m}", "\t- container_running: {name: t-box, memory: 64m}"),
     "container_running: {name: t-box, memory: 64m}", "a tab in the indentation; YAML indents with spaces only"),
    (_replace("check:\n  - container_running", "check:\n  - container_running: {name: t-box}\n   - container_running"),
     "   - container_running", "invalid YAML:"),
    (_replace("  - a hint", "  - `code` first: then words"), "`code` first", "put the whole value in quotes"),
    (_replace("```step\nview: namespaces", "```setp\nview: namespaces"), "```setp",
     "a ```setp block: did you mean ```step?"),
    (_replace("```quiz\nid: pick", "```Quiz\nid: pick"), "```Quiz", "did you mean ```quiz?"),
    (_replace("```step\nview: namespaces", "```yaml\nview: namespaces"), "```yaml",
     "a ```yaml block that reads like a step's machine part: write ```step"),
    (_replace("  onggi run -d --name t-box busybox sleep 60\n```", "  onggi run -d --name t-box busybox sleep 60\n"),
     "```step\nview: namespaces" and "view: namespaces",
     "the ```step block that starts here runs on into line"),
    (_replace("  - quiz_answered: {quiz: pick}\n```", "  - quiz_answered: {quiz: pick}\n"),
     lambda text: line_of(text, 'terminal: "ping') - 1, "the ```step block that starts here runs on into line 46 (```quiz)"),
    (lambda text: text.rstrip("\n").removesuffix("```"), "id: pick", "the ```quiz block that starts here is never closed"),
    (_replace("## Second step {#second}", "### Second step {#second}"), "### Second step",
     "'### Second step {#second}': a step starts with a level-2 heading: write '## Second step {#second}'"),
    (_replace("detach: true, memory: 64m}", "detach: true, env: {A: b}}"), "env: {A: b}",
     "action 'run': invalid env {A: b}: use a list of KEY=VALUE strings, like [GREETING=hello, APP_MODE=dev]"),
    (_replace("detach: true, memory: 64m}", "detach: true, workdir: /tmp, user: 1000, read_only: true, "
              "env: [A=1]}"), "detach: true", None),       # valid: -w, -u, --read-only, -e
    (_replace("mode: any", "mode: sometimes"), "mode: sometimes", "invalid mode 'sometimes': use real or any"),
    (_replace("labels: [run]", "labels: [walk]"), "labels: [walk]", "invalid labels ['walk']"),
    (_replace("prefix: t-", "prefix: T X"), "prefix: T X", "invalid prefix 'T X'"),
    (_replace("title: A test lesson\n", "titel: A test lesson\n"), "titel:", "unknown front matter field 'titel'"),
    (_replace("---\ntitle", "title"), 1, "a lesson starts with YAML front matter"),
    (_replace("action:\n  button: Run it", "step_through: true\naction:\n  button: Run it"), "step_through: true",
     None),                                                       # valid: run may be stepped through
    (_replace("```step\naction:\n  terminal", "```step\nstep_through: true\naction:\n  terminal"), "step_through: true",
     "step_through needs a 'run' button action"),
    (_replace("Intro text.\n", "Intro text.\n\n```step\nview: none\n```\n"), "```step\nview: none" and "view: none",
     "a step block before the first"),
]


@pytest.mark.parametrize("edit,where,message", BROKEN, ids=[str(i) for i in range(len(BROKEN))])
def test_a_malformed_lesson_names_the_file_and_the_line(edit, where, message):
    text = edit(GOOD)
    shown = "lessons/99-test/lesson.ko.md"
    if message is None:
        parse(text, lesson_id="99-test", lang="ko", shown=shown)
        return
    with pytest.raises(LessonError) as e:
        parse(text, lesson_id="99-test", lang="ko", shown=shown)
    line = where if isinstance(where, int) else where(text) if callable(where) else line_of(text, where)
    if "step block before" in message or "block that starts here" in message:
        line -= 1                                  # the fence's own line
    assert str(e.value).startswith(f"{shown}:{line}: "), (str(e.value), line)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def _write(root: Path, lesson_id: str, ko: str, en: str | None):
    d = root / lesson_id
    d.mkdir(parents=True)
    (d / "lesson.ko.md").write_text(ko)
    if en is not None:
        (d / "lesson.en.md").write_text(en)


# (what the English file changes, the line of the English file named, what the message says)
@pytest.mark.parametrize("en_edit,where,message", [
    (_replace("## Second step {#second}", "## Second step {#other}"), "## Second step", "step 'other': the steps differ"),
    (_replace("memory: 64m}\nhints", "memory: 128m}\nhints"), "container_running",
     "step 'first': its check 1 differs from lesson.ko.md:23 (container_running: {name: t-box, memory: 128m} here, "
     "container_running: {name: t-box, memory: 64m} there); only the words"),
    (_replace("cmd: [sleep, \"60\"]", "cmd: [sleep, \"61\"]"), "action:",
     "step 'first': its action differs from lesson.ko.md:19 (run: {name: t-box, image: busybox, cmd: [sleep, '61']"),
    (_replace("correct: 1", "correct: 2"), "```quiz\nid: pick" and "id: pick",
     "step 'second': its quiz 1 differs from lesson.ko.md:46 (quiz 'pick' with 3 choices, correct: 2 here, "
     "quiz 'pick' with 3 choices, correct: 1 there)"),
    (_replace("prefix: t-", "prefix: u-"), 1, "front matter 'prefix' differs"),
    (_replace("view: namespaces", "view: cgroups"), "## First step", "step 'first': its view differs"),
])
def test_both_languages_must_have_the_same_machine_parts(tmp_path, en_edit, where, message):
    root = tmp_path / "lessons"
    en = en_edit(GOOD.replace("Some text.", "Other words."))
    _write(root, "99-test", GOOD, en)
    with pytest.raises(LessonError) as e:
        load_course(root)
    line = where if isinstance(where, int) else line_of(en, where) - (1 if where == "id: pick" else 0)
    assert str(e.value).startswith(f"lessons/99-test/lesson.en.md:{line}: "), str(e.value)
    assert message in str(e.value)


def test_only_the_words_may_differ(tmp_path):
    root = tmp_path / "lessons"
    en = GOOD.replace("Some text.", "Different words.").replace("button: Run it", "button: Start it")
    _write(root, "99-test", GOOD, en)
    course = load_course(root)
    assert course.get("99-test", "en").steps[0].action.label == "Start it"


def test_a_lesson_without_its_english_file_is_refused(tmp_path):
    root = tmp_path / "lessons"
    _write(root, "99-test", GOOD, None)
    with pytest.raises(LessonError, match=r"^lessons/99-test: lesson.en.md is missing"):
        load_course(root)


def test_a_byte_order_mark_is_read_and_a_file_not_in_utf8_is_named_with_its_line(tmp_path):
    root = tmp_path / "lessons"
    _write(root, "99-test", "\ufeff" + GOOD, GOOD)              # as Windows Notepad saves
    assert load_course(root).get("99-test").title == "A test lesson"
    korean = GOOD.replace("Some text.", "한국어 문장입니다.")
    (root / "99-test" / "lesson.ko.md").write_bytes(korean.encode("cp949"))
    with pytest.raises(LessonError) as e:
        load_course(root)
    assert str(e.value) == (f"lessons/99-test/lesson.ko.md:{line_of(korean, '한국어')}: the file is not UTF-8 "
                            "(saved as CP949/EUC-KR or another encoding?): save it as UTF-8")


@pytest.mark.parametrize("name", ["11_env", "11-Env", "env-11"])
def test_a_lesson_folder_named_wrongly_is_refused_not_silently_left_out(tmp_path, name):
    root = tmp_path / "lessons"
    _write(root, name, GOOD, GOOD)
    with pytest.raises(LessonError, match=rf"^lessons/{name}: a lesson folder is named NN-slug"):
        load_course(root)


def test_a_misnamed_language_file_is_named_in_the_message(tmp_path):
    root = tmp_path / "lessons"
    _write(root, "99-test", GOOD, None)
    (root / "99-test" / "lesson.kr.md").write_text(GOOD)
    (root / "99-test" / "lesson.ko.md").rename(root / "99-test" / "lesson.en.md")
    with pytest.raises(LessonError, match=r"lesson.ko.md is missing .*found lesson.kr.md: rename it"):
        load_course(root)


def test_one_malformed_lesson_does_not_hide_the_others_when_read_leniently(tmp_path):
    from runtime.errors import InvalidArgument
    root = tmp_path / "lessons"
    _write(root, "98-good", GOOD, GOOD)
    _write(root, "99-bad", GOOD, GOOD.replace("view: namespaces", "view: kernels"))
    with pytest.raises(LessonError):
        load_course(root)
    course = load_course(root, strict=False)
    assert course.ids == ["98-good"]
    assert course.errors == (f"lessons/99-bad/lesson.en.md:{line_of(GOOD, 'view: namespaces')}: "
                             "step 'first': unknown view 'kernels' (views: namespaces, cgroups, network, "
                             "layers, vm, components, multihost, none)",)
    with pytest.raises(InvalidArgument, match="lesson.en.md:.*unknown view 'kernels'"):
        course.get("99-bad")


def test_the_validator_names_every_broken_lesson_and_fails(tmp_path, capsys):
    from web.lessons.validate import main
    root = tmp_path / "lessons"
    _write(root, "97-good", GOOD, GOOD)
    _write(root, "98-tab", GOOD.replace("  - a hint", "\t- a hint"), GOOD)
    _write(root, "99-missing", GOOD, None)
    assert main([str(root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"lessons/98-tab/lesson.ko.md:{line_of(GOOD, '  - a hint')}: invalid YAML: a tab in the "
                   "indentation; YAML indents with spaces only (replace the tab with spaces)",
                   "lessons/99-missing: lesson.en.md is missing (every lesson has lesson.ko.md and lesson.en.md)",
                   f"{root}: 2 of 3 lessons have errors (the format is in lessons/README.md)"]
    assert main([str(REPO / "lessons")]) == 0
    assert "lessons, all well-formed in Korean and English" in capsys.readouterr().out
    assert main([str(tmp_path / "nope")]) == 2


def test_onggi_lessons_check_is_the_validator(tmp_path, capsys):
    from runtime.errors import InvalidArgument
    from web.lessons.validate import command
    root = tmp_path / "lessons"
    _write(root, "99-missing", GOOD, None)
    assert command(["check", str(root)]) == 1 and "lesson.en.md is missing" in capsys.readouterr().err
    assert command(["check"]) == 0 and "all well-formed" in capsys.readouterr().out     # the course
    assert command([]) == 0 and "onggi lessons check" in capsys.readouterr().out
    with pytest.raises(InvalidArgument, match="unknown lessons command 'lint'"):
        command(["lint"])


def test_folders_that_are_not_lessons_are_ignored(tmp_path):
    root = tmp_path / "lessons"
    _write(root, "99-test", GOOD, GOOD)
    (root / "drafts").mkdir()
    (root / "README.md").write_text("# notes")
    assert load_course(root).ids == ["99-test"]


def test_bold_next_to_a_korean_particle_is_bold():
    """CommonMark leaves '**용어(term)**를' as asterisks; the lessons write terms that way."""
    from web.lessons.loader import markdown, strong_cjk
    md = markdown()
    assert md.render("**소프트웨어 에뮬레이션(TCG)**으로 돌았는지") == \
        "<p><strong>소프트웨어 에뮬레이션(TCG)</strong>으로 돌았는지</p>\n"
    assert md.renderInline("`**not bold**` and **bold(b)**를") == \
        "<code>**not bold**</code> and <strong>bold(b)</strong>를"
    assert strong_cjk("<pre><code>a **b** c</code></pre>") == "<pre><code>a **b** c</code></pre>"


@pytest.mark.parametrize("lesson_id", LESSON_DIRS)
@pytest.mark.parametrize("lang", ["ko", "en"])
def test_no_markdown_is_left_unrendered(course, lesson_id, lang):
    import re
    lesson = course.get(lesson_id, lang)
    texts = [lesson.intro] + [t for s in lesson.steps for t in (s.html, s.title, *s.hints)] + \
        [t for q in lesson.quizzes() for t in (q.question, q.explain, *q.choices)]
    for text in texts:
        outside_code = re.sub(r"<pre.*?</pre>|<code>.*?</code>", "", text, flags=re.S)
        assert "**" not in outside_code and "{#" not in outside_code, outside_code[:200]
