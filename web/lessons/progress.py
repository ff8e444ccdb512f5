"""Lesson progress in SQLite (``ONGGI_ROOT/lessons.sqlite``): per learner, per lesson.

A learner is a random id the browser carries in a cookie. Per lesson they have
the step they are on, when they started (or reset) it, which steps passed,
their quiz answers, their actions' results (an exec's output, a VM comparison,
a simulated picture's state) and their edited copies of the lesson's files.
Per lesson (for every learner) the images its actions made, so that "clean up"
can remove exactly them. Resume, reset, export and import work on these rows.

Every call opens its own connection (the server is threaded; SQLite serialises
writers, WAL lets readers go on). No Flask here.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from runtime.errors import InvalidArgument

FORMAT = "onggi-lesson-progress"
TABLES = ("lessons", "passed", "quizzes", "results", "files")      # per learner and lesson
VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS lessons (learner TEXT NOT NULL, lesson TEXT NOT NULL, step TEXT,
    started REAL NOT NULL, updated REAL NOT NULL, PRIMARY KEY (learner, lesson));
CREATE TABLE IF NOT EXISTS passed (learner TEXT NOT NULL, lesson TEXT NOT NULL, step TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (learner, lesson, step));
CREATE TABLE IF NOT EXISTS quizzes (learner TEXT NOT NULL, lesson TEXT NOT NULL, quiz TEXT NOT NULL,
    answer TEXT NOT NULL, correct INTEGER NOT NULL, at REAL NOT NULL, PRIMARY KEY (learner, lesson, quiz));
CREATE TABLE IF NOT EXISTS results (id INTEGER PRIMARY KEY AUTOINCREMENT, learner TEXT NOT NULL,
    lesson TEXT NOT NULL, step TEXT, kind TEXT NOT NULL, data TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS results_by_lesson ON results (learner, lesson);
CREATE TABLE IF NOT EXISTS files (learner TEXT NOT NULL, lesson TEXT NOT NULL, name TEXT NOT NULL,
    text TEXT NOT NULL, PRIMARY KEY (learner, lesson, name));
CREATE TABLE IF NOT EXISTS made (lesson TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
    at REAL NOT NULL, PRIMARY KEY (lesson, kind, name));
"""


@dataclass
class State:
    """One learner's progress in one lesson."""
    step: str | None = None
    started: float = 0.0
    passed: dict = field(default_factory=dict)      # step -> when
    quizzes: dict = field(default_factory=dict)     # quiz -> {"answer", "correct", "at"}
    files: dict = field(default_factory=dict)       # name -> text

    def to_dict(self) -> dict:
        return {"step": self.step, "started": self.started, "passed": dict(self.passed),
                "quizzes": dict(self.quizzes), "files": dict(self.files)}


class Progress:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)

    @contextmanager
    def _db(self):
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:                       # one transaction: committed, or rolled back on error
                yield db
        finally:
            db.close()

    # -- reading ------------------------------------------------------------------------------
    def state(self, learner: str, lesson: str) -> State:
        with self._db() as db:
            row = db.execute("SELECT step, started FROM lessons WHERE learner=? AND lesson=?",
                             (learner, lesson)).fetchone()
            s = State(step=row[0], started=row[1]) if row else State()
            s.passed = dict(db.execute("SELECT step, at FROM passed WHERE learner=? AND lesson=?",
                                       (learner, lesson)))
            s.quizzes = {q: {"answer": a, "correct": bool(c), "at": at} for q, a, c, at in db.execute(
                "SELECT quiz, answer, correct, at FROM quizzes WHERE learner=? AND lesson=?", (learner, lesson))}
            s.files = dict(db.execute("SELECT name, text FROM files WHERE learner=? AND lesson=?",
                                      (learner, lesson)))
        return s

    def summary(self, learner: str) -> dict:
        """lesson -> {"step", "passed": number of steps passed, "started"} for LEARNER."""
        with self._db() as db:
            out = {lesson: {"step": step, "started": started, "passed": 0}
                   for lesson, step, started in db.execute(
                       "SELECT lesson, step, started FROM lessons WHERE learner=?", (learner,))}
            for lesson, n in db.execute("SELECT lesson, COUNT(*) FROM passed WHERE learner=? GROUP BY lesson",
                                        (learner,)):
                out.setdefault(lesson, {"step": None, "started": 0.0, "passed": 0})["passed"] = n
        return out

    def results(self, learner: str, lesson: str) -> list[dict]:
        with self._db() as db:
            rows = db.execute("SELECT id, step, kind, data, at FROM results WHERE learner=? AND lesson=? "
                              "ORDER BY id", (learner, lesson)).fetchall()
        return [{"id": i, "step": s, "kind": k, "data": json.loads(d), "at": at} for i, s, k, d, at in rows]

    def result(self, result_id: int) -> dict | None:
        with self._db() as db:
            row = db.execute("SELECT id, lesson, step, kind, data, at FROM results WHERE id=?",
                             (int(result_id),)).fetchone()
        if row is None:
            return None
        i, lesson, s, k, d, at = row
        return {"id": i, "lesson": lesson, "step": s, "kind": k, "data": json.loads(d), "at": at}

    def made(self, lesson: str) -> list[tuple[str, str]]:
        with self._db() as db:
            return [(k, n) for k, n in db.execute("SELECT kind, name FROM made WHERE lesson=? ORDER BY at",
                                                  (lesson,))]

    # -- writing --------------------------------------------------------------------------------
    def start(self, learner: str, lesson: str, step: str | None = None) -> State:
        """The learner's progress, begun now if they never opened the lesson (a read
        otherwise: pages ask every few seconds)."""
        s = self.state(learner, lesson)
        if s.started:
            return s
        now = time.time()
        with self._db() as db:
            db.execute("INSERT OR IGNORE INTO lessons (learner, lesson, step, started, updated) "
                       "VALUES (?, ?, ?, ?, ?)", (learner, lesson, step, now, now))
        return self.state(learner, lesson)

    def goto(self, learner: str, lesson: str, step: str) -> None:
        now = time.time()
        with self._db() as db:
            db.execute("INSERT INTO lessons (learner, lesson, step, started, updated) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (learner, lesson) DO UPDATE SET step=excluded.step, updated=excluded.updated",
                       (learner, lesson, step, now, now))

    def pass_step(self, learner: str, lesson: str, step: str) -> bool:
        """Mark STEP passed; True if it was not passed before."""
        with self._db() as db:
            cur = db.execute("INSERT OR IGNORE INTO passed (learner, lesson, step, at) VALUES (?, ?, ?, ?)",
                             (learner, lesson, step, time.time()))
            return cur.rowcount > 0

    def answer(self, learner: str, lesson: str, quiz: str, answer: str, correct: bool) -> bool:
        """Keep the learner's answer; once right, a quiz stays answered. Whether it is now."""
        with self._db() as db:
            row = db.execute("SELECT correct FROM quizzes WHERE learner=? AND lesson=? AND quiz=?",
                             (learner, lesson, quiz)).fetchone()
            sticky = bool(row and row[0]) or correct
            db.execute("INSERT OR REPLACE INTO quizzes (learner, lesson, quiz, answer, correct, at) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (learner, lesson, quiz, str(answer), int(sticky), time.time()))
        return sticky

    def add_result(self, learner: str, lesson: str, step: str | None, kind: str, data: dict) -> int:
        with self._db() as db:
            cur = db.execute("INSERT INTO results (learner, lesson, step, kind, data, at) VALUES (?, ?, ?, ?, ?, ?)",
                             (learner, lesson, step, kind, json.dumps(data, default=str), time.time()))
            return cur.lastrowid

    def set_file(self, learner: str, lesson: str, name: str, text: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO files (learner, lesson, name, text) VALUES (?, ?, ?, ?)",
                       (learner, lesson, name, text))

    def remember(self, lesson: str, kind: str, name: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO made (lesson, kind, name, at) VALUES (?, ?, ?, ?)",
                       (lesson, kind, name, time.time()))

    def forget(self, lesson: str, kind: str, name: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM made WHERE lesson=? AND kind=? AND name=?", (lesson, kind, name))

    def reset(self, learner: str, lesson: str, step: str | None = None) -> None:
        """Start LESSON over for LEARNER: nothing passed, answered or run; started now."""
        now = time.time()
        with self._db() as db:
            for table in ("passed", "quizzes", "results", "files"):
                db.execute(f"DELETE FROM {table} WHERE learner=? AND lesson=?", (learner, lesson))
            db.execute("INSERT OR REPLACE INTO lessons (learner, lesson, step, started, updated) "
                       "VALUES (?, ?, ?, ?, ?)", (learner, lesson, step, now, now))

    # -- export and import ---------------------------------------------------------------------------
    def export(self, learner: str) -> dict:
        """Everything LEARNER has done, as one JSON-able document."""
        lessons = {}
        with self._db() as db:
            names = [r[0] for r in db.execute(
                " UNION ".join(f"SELECT lesson FROM {t} WHERE learner=?" for t in TABLES), (learner,) * len(TABLES))]
        for lesson in sorted(names):
            s = self.state(learner, lesson)
            lessons[lesson] = s.to_dict() | {"results": [{k: r[k] for k in ("step", "kind", "data", "at")}
                                                         for r in self.results(learner, lesson)]}
        return {"format": FORMAT, "version": VERSION, "exported": time.time(), "lessons": lessons}

    def import_(self, learner: str, doc, known=None) -> list[str]:
        """Replace LEARNER's progress in each lesson DOC holds (from :meth:`export`);
        the lessons imported. Lessons not in KNOWN (when given) are refused."""
        lessons = _validate(doc, known)
        with self._db() as db:
            for lesson, s in lessons.items():
                for table in ("passed", "quizzes", "results", "files"):
                    db.execute(f"DELETE FROM {table} WHERE learner=? AND lesson=?", (learner, lesson))
                now = time.time()
                db.execute("INSERT OR REPLACE INTO lessons (learner, lesson, step, started, updated) "
                           "VALUES (?, ?, ?, ?, ?)", (learner, lesson, s.get("step"),
                                                      float(s.get("started") or now), now))
                for step, at in (s.get("passed") or {}).items():
                    db.execute("INSERT INTO passed (learner, lesson, step, at) VALUES (?, ?, ?, ?)",
                               (learner, lesson, str(step), float(at)))
                for quiz, q in (s.get("quizzes") or {}).items():
                    db.execute("INSERT INTO quizzes (learner, lesson, quiz, answer, correct, at) "
                               "VALUES (?, ?, ?, ?, ?, ?)", (learner, lesson, str(quiz), str(q.get("answer", "")),
                                                             int(bool(q.get("correct"))), float(q.get("at") or now)))
                for name, text in (s.get("files") or {}).items():
                    db.execute("INSERT INTO files (learner, lesson, name, text) VALUES (?, ?, ?, ?)",
                               (learner, lesson, str(name), str(text)))
                for r in s.get("results") or []:
                    db.execute("INSERT INTO results (learner, lesson, step, kind, data, at) VALUES (?, ?, ?, ?, ?, ?)",
                               (learner, lesson, r.get("step"), str(r["kind"]), json.dumps(r.get("data") or {}),
                                float(r.get("at") or now)))
        return sorted(lessons)


def _validate(doc, known) -> dict:
    bad = InvalidArgument("invalid progress file: it is not an onggi lesson progress export",
                          hint="import a file made with the Export button")
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("lessons"), dict):
        raise bad
    if doc.get("version") != VERSION:
        raise InvalidArgument(f"invalid progress file: version {doc.get('version')!r} (this onggi reads {VERSION})")
    lessons = doc["lessons"]
    for lesson, s in lessons.items():
        if known is not None and lesson not in known:
            raise InvalidArgument(f"invalid progress file: no lesson named {lesson!r} here",
                                  hint="it was exported from other lessons")
        if not isinstance(s, dict):
            raise bad
        for key, kind in (("passed", dict), ("quizzes", dict), ("files", dict), ("results", list)):
            if s.get(key) is not None and not isinstance(s[key], kind):
                raise InvalidArgument(f"invalid progress file: lesson {lesson}: '{key}' is malformed")
        try:
            for at in (s.get("passed") or {}).values():
                float(at)
            for q in (s.get("quizzes") or {}).values():
                if not isinstance(q, dict):
                    raise ValueError
            for r in s.get("results") or []:
                if not isinstance(r, dict) or not isinstance(r.get("kind"), str):
                    raise ValueError
            float(s.get("started") or 0)
        except (TypeError, ValueError):
            raise InvalidArgument(f"invalid progress file: lesson {lesson} is malformed") from None
    return lessons


def read_result(path: Path, result_id) -> dict | None:
    """One stored action result by id, read without touching the schema (for the diagrams
    that draw one: the VM comparison, a simulated picture). None if there is none."""
    try:
        rid = int(result_id)
    except (TypeError, ValueError):
        return None
    if not Path(path).exists():
        return None
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT kind, data FROM results WHERE id=?", (rid,)).fetchone()
    except sqlite3.Error:
        return None
    finally:
        db.close()
    return {"kind": row[0], "data": json.loads(row[1])} if row else None
