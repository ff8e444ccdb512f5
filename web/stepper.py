"""Step-through launches from the browser: one real launch paused before each of its six steps.

The instructor's browser starts one in a room (``step:<room>``); every browser
in the room watches. Before each step the launch's *gate* blocks (the monitor
waits on its control channel) until Next or Cancel. Around each step the four
views, narrowed to this container, are rendered from the kernel in both
languages: the page compares the snapshot after a step with the one before it
and highlights exactly what the step changed. Back and Forward only move which
snapshot the room looks at: the kernel cannot undo a step, and the page says
so. Cancel makes the gate answer False: the launch undoes everything it made,
and the container record is removed too. An owner who disconnects cancels.
On the simulated runtime the same six steps change the simulated world
(``runtime/sim/launch.py``) and every snapshot is marked simulated.
"""
from __future__ import annotations

import queue
import threading

from runtime.container.steps import STEPS
from runtime.errors import Cancelled, Conflict, NotFound, OnggiError

SNAPSHOT_VIEWS = ("namespaces", "cgroups", "network", "layers")


def room_name(room: str) -> str:
    return f"step:{room}"


class StepThrough:
    def __init__(self, app, socketio, room: str, owner: str, container):
        self.app, self.socketio = app, socketio
        self.room, self.owner, self.container = room, owner, container
        self.status = "starting"          # paused, running, started, cancelled, failed
        self.current: int | None = None   # the step we are paused before (or running)
        self.snapshots: list[dict] = []   # {"index", "step", "phase", "report", "svgs": {view: {lang: svg}}}
        self.view: int | None = None      # which snapshot the room looks at
        self.error = ""
        self.pid = 0
        self.abandoned = False            # the owner left: the next gate cancels
        self._decisions: queue.Queue = queue.Queue()

    # -- the launch (a background task) ------------------------------------------------------
    def run(self) -> None:
        handle = None
        try:
            handle = self.container.start(gate=self._gate, on_report=self._report)
            self.pid = handle.wait_started()
            self.status = "started"
        except Cancelled:
            self.status = "cancelled"
            self._forget()
        except OnggiError as exc:
            self.status, self.error = "failed", exc.one_line()
            self._forget()
        except Exception as exc:        # noqa: BLE001 - tell the room, clean up
            self.app.logger.exception("step-through launch")
            self.status, self.error = "failed", f"unexpected error: {exc}"
            self._forget()
        finally:
            if handle is not None:
                handle.close()
            self.emit_state()

    def _gate(self, step, index: int) -> bool:
        if self.abandoned:
            return False
        self._snapshot(step, index, "before", None)
        self.status, self.current = "paused", index
        self.emit_state()
        go = self._decisions.get() == "next"
        if go:
            self.status = "running"
            self.emit_state()
        return go

    def _report(self, step, index: int, report) -> None:
        self._snapshot(step, index, "after", report)
        self.emit_state()

    def _snapshot(self, step, index: int, phase: str, report) -> None:
        from .diagrams import render
        rt, scans = self.app.runtime, self.app.scans
        svgs = {}
        for view in SNAPSHOT_VIEWS:
            svgs[view] = {}
            for lang in ("ko", "en"):
                try:
                    svgs[view][lang] = render(rt, scans, view, lang=lang, query={"container": self.container.id})
                except Exception as exc:        # noqa: BLE001 - a view that cannot be read says so
                    from .bridge import _error_svg
                    svgs[view][lang] = _error_svg(exc)
        snap = {"position": len(self.snapshots), "index": index, "step": step.name, "phase": phase,
                "report": report, "svgs": svgs}
        self.snapshots.append(snap)
        self.view = snap["position"]
        self.socketio.emit("step.snapshot", {"room": self.room, "container": self.container.id, **snap},
                           to=room_name(self.room))

    def _forget(self) -> None:
        """Nothing half-made: the launch undid its kernel objects; the record goes too."""
        try:
            self.container.remove(force=True)
        except OnggiError:
            pass

    # -- controls ------------------------------------------------------------------------------
    def decide(self, what: str) -> None:
        if self.status != "paused":
            raise Conflict(f"cannot {what}: the launch is {self.status}",
                           hint="wait until it pauses before the next step")
        self._decisions.put(what)

    def move(self, delta: int) -> None:
        if not self.snapshots:
            return
        last = len(self.snapshots) - 1
        self.view = max(0, min(last, (self.view if self.view is not None else last) + delta))
        self.emit_state()

    def state(self) -> dict:
        c = self.container
        return {"room": self.room, "owner": self.owner, "status": self.status, "current": self.current,
                "container": {"id": c.id, "name": c.name, "image": c.record.image},
                "steps": [{"name": s.name, "syscalls": s.syscalls, "ko": s.ko, "en": s.en} for s in STEPS],
                "view": self.view, "latest": len(self.snapshots) - 1, "error": self.error, "pid": self.pid,
                "done": [s["index"] for s in self.snapshots if s["phase"] == "after"]}

    def emit_state(self, to: str | None = None) -> None:
        self.socketio.emit("step.state", self.state(), to=to or room_name(self.room))


class StepThroughs:
    """The step-throughs of one app, one per room."""

    def __init__(self, app, socketio):
        self.app, self.socketio = app, socketio
        self._lock = threading.Lock()
        self._rooms: dict[str, StepThrough] = {}

    def start(self, room: str, owner: str, spec) -> StepThrough:
        rt = self.app.runtime
        rt.check_host()
        with self._lock:
            old = self._rooms.get(room)
            if old is not None and old.status in ("starting", "paused", "running"):
                raise Conflict(f"room '{room}' already has a step-through running",
                               hint="cancel it first, or use another room")
            container = rt.create(spec)
            session = StepThrough(self.app, self.socketio, room, owner, container)
            self._rooms[room] = session
        self.socketio.start_background_task(session.run)
        return session

    def find(self, room: str) -> StepThrough | None:
        return self._rooms.get(room)

    def get(self, room: str) -> StepThrough:
        session = self._rooms.get(room)
        if session is None:
            raise NotFound(f"no step-through in room '{room}'", hint="start one, or check the room's name")
        return session

    def control(self, room: str, sid: str, action: str) -> None:
        session = self.get(room)
        if sid != session.owner:
            raise Conflict("only the browser that started this step-through can drive it",
                           hint="you are watching: the room follows the instructor")
        if action in ("back", "forward"):
            session.move(-1 if action == "back" else 1)
        else:
            session.decide(action)

    def drop(self, sid: str) -> None:
        """An owner who leaves cancels a launch not yet finished, so nothing is left half-made."""
        for session in list(self._rooms.values()):
            if session.owner == sid:
                self._abandon(session)

    def cancel_all(self) -> None:
        for session in list(self._rooms.values()):
            self._abandon(session)

    @staticmethod
    def _abandon(session: StepThrough) -> None:
        session.abandoned = True
        if session.status == "paused":
            session._decisions.put("cancel")
