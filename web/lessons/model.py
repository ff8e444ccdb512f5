"""What a lesson is, once read: plain frozen values, no Flask, no I/O.

A :class:`Lesson` is one language's file (``lessons/NN-slug/lesson.ko.md``); a
:class:`Course` holds every lesson in both languages, checked to have the same
machine parts (steps, actions, checks, quizzes) so that a learner can switch
language at any moment and stay on the same step. Text is kept as rendered
HTML (markdown-it-py) plus, where a live value may be substituted
(``{{ip_address:net-web}}``), as the source text too.
"""
from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("ko", "en")
VIEWS = ("namespaces", "cgroups", "network", "layers", "vm", "components", "multihost", "none")
MODES = ("real", "any")
LABELS = ("build", "ship", "run")


@dataclass(frozen=True)
class Check:
    """One goal check: ``kind`` names a function in checks.py, ``params`` its arguments."""
    kind: str
    params: dict
    line: int = 0

    def machine(self) -> tuple:
        return (self.kind, _freeze(self.params))


@dataclass(frozen=True)
class Action:
    """What the learner does in a step.

    ``kind`` is a button action (``run``, ``exec``, ``build``...: see actions.py)
    with ``label`` the button's words and ``params`` its arguments, or
    ``"type"`` for a command to type in the browser terminal (``command``, in
    the container ``container``).
    """
    kind: str
    params: dict = field(default_factory=dict)
    label: str = ""
    command: str = ""
    container: str = ""
    line: int = 0

    def machine(self) -> tuple:
        return (self.kind, _freeze(self.params), self.command, self.container)


@dataclass(frozen=True)
class Quiz:
    """A short question: multiple choice (``choices`` + ``correct``) or answered
    from the live state (``answer`` = (kind, params) from answers.py)."""
    id: str
    question: str                  # HTML
    choices: tuple[str, ...] = ()  # HTML (inline)
    correct: int | None = None
    answer: tuple | None = None    # (kind, params)
    explain: str = ""              # HTML
    line: int = 0

    def machine(self) -> tuple:
        return (self.id, len(self.choices), self.correct,
                None if self.answer is None else (self.answer[0], _freeze(self.answer[1])))


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    html: str                      # the step's text, without its heading and machine blocks
    view: str = "none"
    view_for: dict = field(default_factory=dict)
    action: Action | None = None
    checks: tuple[Check, ...] = ()
    hints: tuple[str, ...] = ()    # HTML
    solution: str = ""             # source text (may hold {{live:values}})
    step_through: bool = False
    quizzes: tuple[Quiz, ...] = ()
    line: int = 0

    def machine(self) -> tuple:
        return (self.id, self.view, _freeze(self.view_for),
                self.action.machine() if self.action else None,
                tuple(c.machine() for c in self.checks), self.step_through,
                tuple(q.machine() for q in self.quizzes))


@dataclass(frozen=True)
class Lesson:
    """One lesson in one language."""
    id: str                        # the folder's name: "07-namespaces"
    number: int
    lang: str
    path: str                      # for messages: lessons/07-namespaces/lesson.ko.md
    title: str
    summary: str
    minutes: int
    mode: str
    labels: tuple[str, ...]
    prefix: str
    intro: str                     # HTML before the first step
    intro_quizzes: tuple[Quiz, ...]
    steps: tuple[Step, ...]

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        from runtime.errors import NotFound
        raise NotFound(f"no step '{step_id}' in lesson {self.id}",
                       hint="steps: " + ", ".join(s.id for s in self.steps))

    def quizzes(self) -> list[Quiz]:
        return list(self.intro_quizzes) + [q for s in self.steps for q in s.quizzes]

    def quiz(self, quiz_id: str) -> Quiz:
        for q in self.quizzes():
            if q.id == quiz_id:
                return q
        from runtime.errors import NotFound
        raise NotFound(f"no quiz '{quiz_id}' in lesson {self.id}")


@dataclass(frozen=True)
class Course:
    """Every lesson, by id, in both languages; ids in lesson order."""
    lessons: dict                  # id -> {"ko": Lesson, "en": Lesson}
    root: str                      # the lessons folder
    # What is wrong with the lessons left out ("path:line: message"), when the course was
    # read leniently (the web app): one malformed lesson does not hide the others.
    errors: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return sorted(self.lessons, key=lambda i: (self.lessons[i]["ko"].number, i))

    def get(self, lesson_id: str, lang: str = "ko") -> Lesson:
        from runtime.errors import InvalidArgument, NotFound
        if lang not in LANGS:
            raise InvalidArgument(f"invalid lang '{lang}': use ko or en")
        pair = self.lessons.get(lesson_id)
        if pair is None:
            for error in self.errors:                 # a malformed lesson: say what is wrong with it
                if error.split(":", 1)[0].split("/")[-2:-1] == [lesson_id] or \
                        error.split(":", 1)[0].endswith("/" + lesson_id):
                    raise InvalidArgument(error, hint="fix the lesson file (the format is in lessons/README.md)")
            raise NotFound(f"no such lesson: {lesson_id}", hint="see /lessons for the list")
        return pair[lang]


def _freeze(value):
    """A YAML value as something hashable and comparable (dicts sorted)."""
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value
