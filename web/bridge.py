"""Runtime events and diagram pushes -> Socket.IO rooms: the only glue between the two.

Two background tasks per app (``socketio.start_background_task``):

* **follow**: tails the events log every process appends to (CLIs, monitors,
  this server) and relays each event as the Socket.IO event ``event`` to the
  room ``events`` (every browser joins it) and to ``container:<id>``. So a
  container started in a terminal appears in the browser at once.
* **push**: re-renders the diagrams browsers are subscribed to and emits
  ``diagram`` to the room named by the subscription key, only when the SVG
  changed. An event marks every view dirty; renders wait 50 ms so a burst of
  events (a launch publishes ~15) costs one render, well inside 200 ms. Gauges
  change without events (memory, cpu), so subscribed views are also re-read
  every ``ONGGI_GAUGE_INTERVAL`` seconds.
"""
from __future__ import annotations

import json
import os
import threading
from urllib.parse import urlencode

EVENTS_ROOM = "events"
COALESCE = 0.05
BACKLOG_BYTES = 64 * 1024


def diagram_key(view: str, lang: str, query: dict) -> str:
    return f"diagram:{view}:{lang}:{urlencode(sorted(query.items()))}"


class Bridge:
    def __init__(self, app, socketio):
        self.app = app
        self.socketio = socketio
        self._stop = threading.Event()
        self._dirty = threading.Event()
        self._lock = threading.Lock()
        self._subs: dict[str, tuple[str, str, dict, set]] = {}   # key -> (view, lang, query, sids)
        self._last: dict[str, str] = {}
        self.running = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self.running = True
        self.socketio.start_background_task(self._follow)
        self.socketio.start_background_task(self._push_loop)

    def stop(self) -> None:
        self._stop.set()
        self._dirty.set()

    # -- events ---------------------------------------------------------------------------------
    def _follow(self) -> None:
        from runtime.eventlog import EventLog
        log = EventLog(self.app.runtime.config.events_log)
        while not self._stop.is_set():
            try:
                for event in log.follow(stop=self._stop.is_set, timeout=0.5):
                    self.relay(event)
            except Exception:          # noqa: BLE001 - the relay must outlive a bad moment
                self.app.logger.exception("following the events log")
                self.socketio.sleep(0.5)

    def relay(self, event: dict) -> None:
        """Send one wire event to every browser and to the container's room; mark diagrams dirty.

        Every browser gets a ``container.step`` without its kernel report (the
        feed shows the step; a report is kilobytes, and a launch sends six of
        them to every browser at once); the container's own room gets it whole.
        """
        self.socketio.emit("event", _light(event), to=EVENTS_ROOM)
        if event.get("id"):
            self.socketio.emit("event", event, to=f"container:{event['id']}")
        self._dirty.set()

    def backlog(self, n: int = 40) -> list[dict]:
        """The last N events of the log (read from its tail only)."""
        path = self.app.runtime.config.events_log
        try:
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                f.seek(max(0, size - BACKLOG_BYTES))
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            return []
        if size > BACKLOG_BYTES:
            lines = lines[1:]            # the first line is cut
        out = []
        for line in lines[-n - 1:]:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and "type" in event:
                out.append(event)
        return out[-n:]

    # -- diagrams ---------------------------------------------------------------------------------
    def subscribe(self, sid: str, view: str, lang: str, query: dict) -> str:
        """Add SID to the diagram's room; return the key. The caller joins the room."""
        from .diagrams import check_lang, view_module
        view_module(view)
        lang = check_lang(lang)
        key = diagram_key(view, lang, query)
        with self._lock:
            entry = self._subs.setdefault(key, (view, lang, dict(query), set()))
            entry[3].add(sid)
        return key

    def unsubscribe(self, sid: str, key: str) -> None:
        with self._lock:
            entry = self._subs.get(key)
            if entry:
                entry[3].discard(sid)
                if not entry[3]:
                    del self._subs[key]
                    self._last.pop(key, None)

    def drop(self, sid: str) -> None:
        for key in list(self._subs):
            self.unsubscribe(sid, key)

    def render(self, view: str, lang: str, query: dict) -> str:
        from .diagrams import render
        return render(self.app.runtime, self.app.scans, view, lang=lang, query=query)

    def payload(self, key: str, svg: str) -> dict:
        view, lang, query, _ = self._subs.get(key, (None, None, {}, None))
        return {"key": key, "view": view, "lang": lang, "query": query, "svg": svg}

    def changed(self) -> None:
        self._dirty.set()

    def _push_loop(self) -> None:
        interval = self.app.config["ONGGI_GAUGE_INTERVAL"]
        while not self._stop.is_set():
            if self._dirty.wait(timeout=interval):
                self.socketio.sleep(COALESCE)
            self._dirty.clear()
            if self._stop.is_set():
                return
            self.push()

    def push(self) -> None:
        """Render every subscribed view and emit the ones that changed."""
        with self._lock:
            items = [(k, v[0], v[1], v[2]) for k, v in self._subs.items()]
        for key, view, lang, query in items:
            try:
                svg = self.render(view, lang, query)
            except Exception as exc:       # noqa: BLE001 - a container vanishing mid-read
                svg = _error_svg(exc)
            if self._last.get(key) != svg:
                self._last[key] = svg
                self.socketio.emit("diagram", self.payload(key, svg), to=key)


def _light(event: dict) -> dict:
    data = event.get("data")
    if event.get("type") == "container.step" and isinstance(data, dict) and data.get("report"):
        return {**event, "data": {**data, "report": None}}
    return event


def _error_svg(exc) -> str:
    from html import escape
    text = escape(getattr(exc, "one_line", lambda: str(exc))())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="600" height="40" class="diagram-error">'
            f'<text x="10" y="24" font-size="14" fill="#a33">{text}</text></svg>')
