"""The lessons of one app: the course, the progress store, and actions running in the background.

:class:`Lessons` is built in the app factory and hung on the app
(``app.lessons``). Views and Socket.IO handlers call it; it calls the pure
modules (loader, checks, answers, actions, progress, cleanup) and does the web
glue they must not: background tasks (``socketio.start_background_task``),
pushing an action's output to the browser that asked, opening a browser
terminal for ``run`` with ``detach: false`` and for typed commands, and
launching a step-through. Lesson files are re-read when they change on disk,
so an instructor sees an edit on the next page load.
"""
from __future__ import annotations

import secrets
import sys
import threading
from pathlib import Path

from runtime.errors import Conflict, InvalidArgument, OnggiError, Unsupported

from . import actions as A
from . import answers, checks
from .context import Context, Probes
from .loader import load_course
from .progress import Progress

LABEL = A.LABEL
STEP_ROOM = "lesson-{learner}"


def learner_room(learner: str) -> str:
    return f"learner:{learner}"


class Lessons:
    def __init__(self, app, socketio, root: Path):
        self.app, self.socketio = app, socketio
        self.root = Path(root)
        self._course = None
        self._stamp = None
        self._lock = threading.Lock()
        self._progress = None
        self._running: dict[str, dict] = {}      # action id -> {"sid", "cancel", "kind"}
        self.probes = Probes(self._cli())

    # -- what the app has ------------------------------------------------------------------------
    @property
    def rt(self):
        return self.app.runtime

    @property
    def simulated(self) -> bool:
        return bool(getattr(self.rt, "simulated", False))

    @property
    def progress(self) -> Progress:
        if self._progress is None:
            self._progress = Progress(self.rt.config.root / "lessons.sqlite")
        return self._progress

    def _cli(self) -> str:
        return self.app.config.get("ONGGI_CLI") or str(Path(sys.executable).with_name("onggi"))

    def course(self):
        """Every lesson, re-read when a lesson file changed; a malformed one is left out, its
        error in ``errors`` (so one broken lesson does not hide the course)."""
        stamp = self._files_stamp()
        with self._lock:
            if self._course is None or stamp != self._stamp:
                self._course = load_course(self.root, strict=False)
                self._stamp = stamp
            return self._course

    def _files_stamp(self):
        out = []
        try:
            for d in sorted(self.root.iterdir()):
                if d.is_dir():
                    for f in sorted(d.glob("lesson.*.md")):
                        st = f.stat()
                        out.append((f.name, d.name, st.st_mtime_ns, st.st_size))
        except OSError:
            pass
        return tuple(out)

    def lesson(self, lesson_id: str, lang: str = "ko"):
        return self.course().get(lesson_id, lang)

    def available(self, lesson) -> bool:
        """A lesson that needs real containers cannot play on the simulated runtime."""
        return not (self.simulated and lesson.mode == "real")

    # -- one learner ---------------------------------------------------------------------------------
    def context(self, learner: str, lesson_id: str, state=None) -> Context:
        lesson = self.lesson(lesson_id)
        state = state or self.progress.start(learner, lesson_id)
        terminals = getattr(self.app, "terminals", None)
        return Context(rt=self.rt, lesson_id=lesson_id, prefix=lesson.prefix, since=state.started,
                       results=self.progress.results(learner, lesson_id),
                       quizzes={q: v["correct"] for q, v in state.quizzes.items()},
                       transcripts=(terminals.transcripts if terminals is not None
                                    and hasattr(terminals, "transcripts") else (lambda: [])),
                       probes=self.probes)

    def document(self, learner: str, lesson_id: str, lang: str) -> dict:
        """The lesson in LANG as the page needs it, with the learner's progress."""
        lesson = self.lesson(lesson_id, lang)
        state = self.progress.start(learner, lesson_id)
        ctx = self.context(learner, lesson_id, state)
        results = ctx.results
        steps = []
        for s in lesson.steps:
            action = None
            if s.action is not None:
                action = {"kind": s.action.kind, "label": s.action.label, "params": s.action.params,
                          "command": answers.substitute(ctx, s.action.command)[0] if s.action.command else "",
                          "container": s.action.container, "step_through": s.step_through}
                if s.action.kind == "build" and s.action.params.get("editable"):
                    action["files"] = self.files(learner, lesson_id, s.action.params["editable"], state)
            last = next((r for r in reversed(results) if r.get("step") == s.id and r["at"] >= state.started), None)
            steps.append({
                "id": s.id, "title": s.title, "html": s.html, "view": s.view, "view_for": s.view_for,
                "query": self.query_for(s, results, state.started), "action": action,
                "checks": [{"kind": c.kind, "params": c.params} for c in s.checks],
                "hints": list(s.hints), "solution": answers.substitute(ctx, s.solution)[0],
                "quizzes": [_quiz_doc(q, state) for q in s.quizzes],
                "passed": s.id in state.passed, "result": _result_doc(last),
                # Live values in the command or solution: the page asks again as things change.
                "live": bool(answers.placeholders(s.solution) or answers.placeholders(s.action.command if s.action else ""))})
        return {"id": lesson.id, "number": lesson.number, "lang": lang, "title": lesson.title,
                "summary": lesson.summary, "minutes": lesson.minutes, "mode": lesson.mode,
                "labels": list(lesson.labels), "prefix": lesson.prefix, "intro": lesson.intro,
                "intro_quizzes": [_quiz_doc(q, state) for q in lesson.intro_quizzes],
                "steps": steps, "simulated": self.simulated, "available": self.available(lesson),
                "progress": {"step": state.step or "intro", "started": state.started,
                             "passed": sorted(state.passed)}}

    def files(self, learner: str, lesson_id: str, names, state=None) -> dict:
        """The learner's copies of a lesson folder's editable files (the folder's until edited)."""
        state = state or self.progress.state(learner, lesson_id)
        out = {}
        for name in names:
            if name in state.files:
                out[name] = state.files[name]
            else:
                path = self._lesson_dir(lesson_id) / name
                try:
                    out[name] = path.read_text(encoding="utf-8")
                except OSError:
                    out[name] = ""
        return out

    def _lesson_dir(self, lesson_id: str) -> Path:
        self.lesson(lesson_id)                   # it exists
        return self.root / lesson_id

    @staticmethod
    def query_for(step, results, since: float = 0.0) -> dict:
        """What the step's diagram is about: view_for, plus the result a computed view draws
        (the VM comparison; the simulated picture's state)."""
        q = {k: v for k, v in step.view_for.items()}

        def latest(pred):
            found = [r for r in results if r["at"] >= since and pred(r)]
            return str(found[-1]["id"]) if found else None
        rid = None
        if step.view == "vm":
            rid = latest(lambda r: r["kind"] == "vm_boot")
        elif step.view == "multihost":
            rid = latest(lambda r: r["kind"] == "simulate" and r["data"].get("scenario") == q.get("scenario"))
        elif step.view == "components":
            rid = latest(lambda r: r["kind"] == "simulate" and r["data"].get("scenario") == "compose")
        if rid:
            q["result"] = rid
        return q

    def goto(self, learner: str, lesson_id: str, step_id: str) -> None:
        lesson = self.lesson(lesson_id)
        if step_id != "intro":
            lesson.step(step_id)
        self.progress.goto(learner, lesson_id, step_id)

    # -- checks and quizzes ----------------------------------------------------------------------------
    def check(self, learner: str, lesson_id: str, step_id: str) -> dict:
        """Run the step's checks now; a step whose checks all pass is marked passed."""
        lesson = self.lesson(lesson_id)
        step = lesson.step(step_id)
        state = self.progress.start(learner, lesson_id)
        ctx = self.context(learner, lesson_id, state)
        results = checks.run_all(ctx, step.checks)
        now = all(r["passed"] for r in results)
        newly = self.progress.pass_step(learner, lesson_id, step_id) if now and step_id not in state.passed else False
        return {"lesson": lesson_id, "step": step_id, "checks": results, "now": now,
                "passed": now or step_id in state.passed, "newly": newly}

    def answer(self, learner: str, lesson_id: str, quiz_id: str, given) -> dict:
        ko, en = self.lesson(lesson_id, "ko"), self.lesson(lesson_id, "en")
        quiz = ko.quiz(quiz_id)
        explain = {"ko": ko.quiz(quiz_id).explain, "en": en.quiz(quiz_id).explain}
        if given is None or str(given).strip() == "":
            raise InvalidArgument("invalid answer: it is empty", hint="type or choose an answer")
        if quiz.answer is not None:
            ctx = self.context(learner, lesson_id)
            try:
                expected = answers.answer(ctx, quiz.answer[0], quiz.answer[1])
            except answers.Skipped as exc:
                return {"quiz": quiz_id, "skipped": True, "why": str(exc), "explain": explain}
            correct = answers.same(expected, given)
        else:
            try:
                choice = int(given)
            except (TypeError, ValueError):
                raise InvalidArgument(f"invalid answer {given!r}: give the number of a choice") from None
            expected, correct = quiz.correct, choice == quiz.correct
        answered = self.progress.answer(learner, lesson_id, quiz_id, str(given).strip(), correct)
        return {"quiz": quiz_id, "correct": correct, "answered": answered, "expected": expected,
                "explain": explain}

    # -- actions ------------------------------------------------------------------------------------------
    def start_action(self, sid: str, learner: str, lesson_id: str, step_id: str,
                     files: dict | None = None, rows: int = 24, cols: int = 80) -> dict:
        """Begin the step's button action for the browser SID; what the page should do next."""
        lesson = self.lesson(lesson_id)
        step = lesson.step(step_id)
        action = step.action
        if action is None or action.kind == "type":
            raise InvalidArgument(f"step '{step_id}' has no button to press",
                                  hint="type the step's command in the terminal")
        if not self.available(lesson):
            raise Unsupported("this lesson needs real containers, and this onggi runs simulated",
                              hint="run 'onggi serve' as root on Linux for this lesson")
        state = self.progress.start(learner, lesson_id)
        ctx = self.context(learner, lesson_id, state)
        params, missing = answers.substitute_params(ctx, action.params)
        if missing:
            raise Conflict(f"cannot do this yet: {missing[0]}", hint="do the steps before this one first")
        if files:
            editable = set(params.get("editable") or [])
            for name, text in files.items():
                if name not in editable or not isinstance(text, str) or len(text) > 256 * 1024:
                    raise InvalidArgument(f"invalid file {name!r}: this step edits only "
                                          + (", ".join(sorted(editable)) or "no files"))
                self.progress.set_file(learner, lesson_id, name, text)
        if action.kind == "run" and step.step_through:
            return self._step_through(sid, learner, lesson_id, params)
        if action.kind == "run" and params.get("detach") is False:
            terminal = self.app.terminals.open(sid, run=A.run_args(params, lesson_id), rows=rows, cols=cols)
            return {"terminal": terminal.id, "container": params.get("name")}
        if action.kind == "terminal":
            terminal = self.app.terminals.open(sid, container=params["name"], cmd=["sh"], rows=rows, cols=cols)
            return {"terminal": terminal.id, "container": params["name"]}
        job = A.Job(rt=self.rt, lesson_id=lesson_id, lesson_dir=self._lesson_dir(lesson_id), kind=action.kind,
                    params=params, cli=self._cli(), env={},
                    files=self.files(learner, lesson_id, params.get("editable") or []),
                    previous=self._previous_sim(ctx, params))
        run_id = secrets.token_hex(6)
        job.emit = lambda kind, data: self.socketio.emit(
            "lesson.output", {**data, "action": run_id, "step": step_id, "kind": kind}, to=sid)
        self._running[run_id] = {"sid": sid, "cancel": job.cancel, "kind": action.kind}
        self.socketio.start_background_task(self._perform, run_id, sid, learner, lesson_id, step_id, job)
        return {"action": run_id, "kind": action.kind}

    def _previous_sim(self, ctx, params):
        if "scenario" not in params:
            return None
        found = [r for r in ctx.results if r["kind"] == "simulate" and r["at"] >= ctx.since
                 and r["data"].get("scenario") == params["scenario"]]
        return found[-1]["data"].get("state") if found else None

    def _perform(self, run_id, sid, learner, lesson_id, step_id, job) -> None:
        done = {"action": run_id, "step": step_id, "kind": job.kind}
        try:
            result = A.perform(job)
            rid = self.progress.add_result(learner, lesson_id, step_id, job.kind, result)
            for name in result.get("made") or []:
                self.progress.remember(lesson_id, "image", name)
            if job.kind == "build" and result.get("image"):
                self.progress.remember(lesson_id, "image", result["image"])
            done |= {"ok": True, "result": _result_doc({"id": rid, "kind": job.kind, "data": result})}
        except OnggiError as exc:
            done |= {"ok": False, "error": " ".join(str(exc).split()), "hint": exc.hint}
        except Exception as exc:      # noqa: BLE001 - tell the page, log the bug
            self.app.logger.exception("lesson action %s", job.kind)
            done |= {"ok": False, "error": f"unexpected error: {type(exc).__name__}: {exc}",
                     "hint": "this is a bug in onggi: see the server's log"}
        finally:
            self._running.pop(run_id, None)
        lesson = self.lesson(lesson_id)
        state = self.progress.state(learner, lesson_id)
        results = self.progress.results(learner, lesson_id)
        done["queries"] = {s.id: self.query_for(s, results, state.started) for s in lesson.steps}
        self.socketio.emit("lesson.done", done, to=sid)

    def _step_through(self, sid, learner, lesson_id, params) -> dict:
        from flask_socketio import join_room

        from ..stepper import room_name
        room = STEP_ROOM.format(learner=learner[:16])
        join_room(room_name(room), sid=sid)
        session = self.app.steps.start(room, sid, A.spec(params, lesson_id))
        return {"step_through": room, "container": session.container.id}

    def cancel(self, sid: str) -> None:
        """A browser left: its actions that can stop early (a VM boot) stop."""
        for run in list(self._running.values()):
            if run["sid"] == sid:
                run["cancel"].set()

    # -- reset and clean up -----------------------------------------------------------------------------
    def cleanup(self, lesson_id: str) -> dict:
        """Remove what the lesson made (containers, networks, images), for every learner."""
        from .cleanup import clean
        lesson = self.lesson(lesson_id)
        made = [name for kind, name in self.progress.made(lesson_id) if kind == "image"]
        out = clean(self.rt, lesson_id, lesson.prefix, made)
        for name in made:
            try:
                self.rt.images.resolve(name)
            except OnggiError:
                self.progress.forget(lesson_id, "image", name)
        return out

    def reset(self, learner: str, lesson_id: str) -> dict:
        """Clean up, and start the lesson over for LEARNER."""
        self.lesson(lesson_id)                   # it exists
        steps = getattr(self.app, "steps", None)
        if steps is not None:
            session = steps.find(STEP_ROOM.format(learner=learner[:16]))
            if session is not None and session.status in ("starting", "paused", "running"):
                steps.drop(session.owner)        # cancels it: the launch undoes what it made
        out = self.cleanup(lesson_id)
        self.progress.reset(learner, lesson_id, None)
        return out


def _quiz_doc(q, state) -> dict:
    given = state.quizzes.get(q.id)
    return {"id": q.id, "question": q.question, "choices": list(q.choices),
            "live": q.answer is not None, "answered": bool(given and given["correct"]),
            "given": given["answer"] if given else None}


def _result_doc(r) -> dict | None:
    """A stored action result as the page shows it (outputs trimmed)."""
    if r is None:
        return None
    data = dict(r["data"])
    if isinstance(data.get("output"), str) and len(data["output"]) > 16384:
        data["output"] = data["output"][-16384:]
    if r["kind"] == "vm_boot" and isinstance(data.get("vm"), dict):
        data["vm"] = {k: v for k, v in data["vm"].items() if k != "console_tail"}
    return {"id": r.get("id"), "kind": r["kind"], "data": data}
