"""Terminals in the browser: the real ``onggi exec -it`` / ``onggi run -it`` on a pty we open.

The server is threaded, so it never forks without exec: each terminal is a
subprocess (fork+exec) of the onggi CLI whose stdin/stdout/stderr are the slave
side of a fresh pty, started through util-linux ``setsid --ctty`` because
Python's subprocess cannot make that pty the child's controlling terminal, and
without one the CLI gets no SIGWINCH when the browser resizes. Bytes flow both
ways through the master side (a background task reads it and emits
``term.output`` to the browser that opened it); a resize is TIOCSWINSZ on the
master. Closing (the tab, the socket, or ``term.close``) kills the process
group, which ends the exec session; a ``run -it`` container is killed too
(it was started with --rm, so nothing is left; a lesson's ``run`` keeps its
container, so that a check can read how it exited).

Each session keeps a bounded :class:`Transcript` of the lines typed and what
came back, so that a lesson's check can tell that the learner ran ``hostname``
in a container and what it printed; the transcripts of the last sessions to
end are kept too.

In simulated mode (``app.runtime.simulated``) there is no CLI to run: a
:class:`SimSession` talks to the simulated container's own tiny shell
(``runtime.sim.terminal``) with the same interface, transcript and events.
"""
from __future__ import annotations

import codecs
import fcntl
import os
import secrets
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections import deque
from pathlib import Path

from runtime.errors import InvalidArgument, NotFound


def set_winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def clamp_size(value, default, low=2, high=1000) -> int:
    """A terminal dimension from the browser, as a sane int."""
    try:
        return max(low, min(high, int(value)))
    except (TypeError, ValueError):
        return default


class Transcript:
    """What was typed in one terminal, line by line, and what came back after each line.

    Keystrokes are read as the line editor would for the common case: printable
    characters, backspace, Ctrl-C/Ctrl-U (the line is dropped), Enter (the line
    is done); escape sequences (arrows, the terminal's cursor reports) are
    skipped, so a line recalled from history or completed with Tab is not seen.
    Bounded: the last MAX_LINES lines, MAX_OUTPUT characters of output each.
    """

    MAX_LINES = 200
    MAX_OUTPUT = 8192
    MAX_LINE = 1024

    def __init__(self, container: str):
        self.container = container          # the container's id (exec) or name (run)
        self.entries: deque = deque(maxlen=self.MAX_LINES)
        self._line: list[str] = []
        self._esc = ""                      # an escape sequence being skipped
        self._lock = threading.Lock()

    def typed(self, data: str) -> None:
        with self._lock:
            for ch in data:
                if self._esc:
                    self._esc += ch
                    if self._esc == "\x1b[" or self._esc == "\x1bO":
                        continue
                    if len(self._esc) == 2 and self._esc[1] not in "[O":
                        self._esc = ""      # ESC + one character
                    elif len(self._esc) > 2 and ("\x40" <= ch <= "\x7e") or len(self._esc) > 32:
                        self._esc = ""      # the sequence's final byte
                    continue
                if ch == "\x1b":
                    self._esc = ch
                elif ch in "\r\n":
                    line = "".join(self._line)
                    self._line = []
                    if line.strip():
                        self.entries.append({"time": time.time(), "line": line, "output": ""})
                elif ch in "\x7f\b":
                    if self._line:
                        self._line.pop()
                elif ch in "\x03\x15":     # Ctrl-C, Ctrl-U: the line is gone
                    self._line = []
                elif ch >= " " and len(self._line) < self.MAX_LINE:
                    self._line.append(ch)

    def printed(self, text: str) -> None:
        with self._lock:
            if self.entries:
                last = self.entries[-1]
                if len(last["output"]) < self.MAX_OUTPUT:
                    last["output"] = (last["output"] + text)[:self.MAX_OUTPUT]

    def snapshot(self) -> dict:
        with self._lock:
            return {"container": self.container, "entries": [dict(e) for e in self.entries]}


class Session:
    def __init__(self, terminals, sid: str, argv: list[str], env: dict, rows: int, cols: int,
                 container_name: str | None, transcript: Transcript | None = None):
        self.id = secrets.token_hex(8)
        self.sid = sid
        self.terminals = terminals
        self.container_name = container_name     # run -it: the container to kill on close
        self.transcript = transcript or Transcript(container_name or "")
        master, slave = os.openpty()
        set_winsize(master, rows, cols)
        try:
            self.proc = subprocess.Popen(["setsid", "--ctty", *argv], stdin=slave, stdout=slave,
                                         stderr=slave, env=env, close_fds=True)
        finally:
            os.close(slave)
        self.master = master
        self.closed = False
        self._lock = threading.Lock()

    def pump(self) -> None:
        """Copy the pty's output to the browser until the process ends (a background task)."""
        socketio = self.terminals.socketio
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        while not self.closed:
            try:
                ready, _, _ = select.select([self.master], [], [], 0.25)
            except (OSError, ValueError):
                break
            if not ready:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                data = os.read(self.master, 65536)
            except OSError:           # EIO: every slave fd is closed, the CLI is gone
                break
            if not data:
                break
            text = decoder.decode(data)
            self.transcript.printed(text)
            socketio.emit("term.output", {"id": self.id, "data": text}, to=self.sid)
        code = self.proc.wait()
        socketio.emit("term.exit", {"id": self.id, "code": code}, to=self.sid)
        self.terminals.forget(self)
        self.close()

    def write(self, data: str) -> None:
        if not self.closed:
            self.transcript.typed(data)
            os.write(self.master, data.encode())

    def resize(self, rows: int, cols: int) -> None:
        if not self.closed:
            set_winsize(self.master, rows, cols)    # the kernel sends SIGWINCH to the CLI

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        try:
            os.killpg(self.proc.pid, signal.SIGHUP)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        os.close(self.master)
        if self.container_name:
            self.terminals.kill_container(self.container_name)


class Terminals:
    """The open terminals of one app, by id; each belongs to one Socket.IO client."""

    def __init__(self, app, socketio):
        self.app, self.socketio = app, socketio
        self._sessions: dict[str, Session] = {}
        self._ended: deque = deque(maxlen=32)      # transcripts of the last sessions to end
        self._lock = threading.Lock()

    def _cli(self) -> str:
        return self.app.config["ONGGI_CLI"] or str(Path(sys.executable).with_name("onggi"))

    def open(self, sid: str, *, container: str | None = None, image: str | None = None,
             cmd=None, rows=24, cols=80, run: list[str] | None = None) -> Session:
        """Open ``exec -it CONTAINER CMD`` (default sh) or ``run -it --rm IMAGE CMD``;
        or ``run -it RUN...`` (a lesson's ``run`` flags, image and command: no --rm)."""
        rt = self.app.runtime
        rt.check_host()
        cmd = list(cmd or ["sh"])
        if not all(isinstance(a, str) and a for a in cmd):
            raise InvalidArgument("invalid terminal command: use a list of words, e.g. [\"sh\"]")
        if getattr(rt, "simulated", False):
            return self._open_simulated(sid, container=container, image=image, cmd=cmd, run=run)
        name = None
        ref = None
        if run:
            if not all(isinstance(a, str) for a in run):
                raise InvalidArgument("invalid terminal command: use a list of words")
            name = run[run.index("--name") + 1] if "--name" in run[:-1] else f"term-{secrets.token_hex(4)}"
            argv = [self._cli(), "run", "-it", *([] if "--name" in run else ["--name", name]), *run]
        elif container:
            c = rt.container(container)
            c.require_running()
            argv = [self._cli(), "exec", "-it", c.id, *cmd]
            ref = c.id
        elif image:
            rt.images.resolve(image)
            name = f"term-{secrets.token_hex(4)}"
            argv = [self._cli(), "run", "-it", "--rm", "--name", name, image, *cmd]
        else:
            raise InvalidArgument("say what to open: a running container, or an image to run")
        # ONGGI_NO_WARM: the command must run in this process group (not in the warm
        # CLI server's), so that killing the group on close really ends the session.
        env = dict(os.environ, **rt.config.to_env(), TERM="xterm-256color", ONGGI_NO_WARM="1")
        env.pop("ONGGI_DEBUG", None)
        session = Session(self, sid, argv, env, clamp_size(rows, 24), clamp_size(cols, 80), name,
                          Transcript(ref or name or ""))
        with self._lock:
            self._sessions[session.id] = session
        self.socketio.start_background_task(session.pump)
        return session

    def _open_simulated(self, sid: str, *, container, image, cmd, run) -> "SimSession":
        """The same three ways in, on the simulated runtime: its shell instead of the CLI."""
        from runtime.container.spec import ContainerSpec
        rt = self.app.runtime
        name = None
        if run:
            spec = _run_spec(run, self.app.config["ONGGI_DEFAULT_NETWORK"])
            c = rt.create(spec)
            name = c.name
        elif container:
            c = rt.container(container)
            c.require_running()
        elif image:
            name = f"term-{secrets.token_hex(4)}"
            c = rt.create(ContainerSpec(image=image, cmd=tuple(cmd), name=name, tty=True, interactive=True,
                                        auto_remove=True, network=self.app.config["ONGGI_DEFAULT_NETWORK"]))
        else:
            raise InvalidArgument("say what to open: a running container, or an image to run")
        if name is not None:
            try:
                c.start().wait_started()
            except Exception:
                self.kill_container(name, remove=True)
                raise
        session = SimSession(self, sid, c, None if name else cmd, name, Transcript(c.id if not name else name))
        with self._lock:
            self._sessions[session.id] = session
        self.socketio.start_background_task(session.start)
        return session

    def get(self, sid: str, term_id: str) -> Session:
        session = self._sessions.get(term_id)
        if session is None or session.sid != sid:
            raise NotFound(f"no such terminal: {term_id}", hint="open a new one")
        return session

    def forget(self, session: Session) -> None:
        with self._lock:
            if self._sessions.pop(session.id, None) is not None:
                self._ended.append(session.transcript)

    def transcripts(self) -> list[dict]:
        """What was typed and printed in every open terminal and the last ones to end."""
        with self._lock:
            mine = [s.transcript for s in self._sessions.values()] + list(self._ended)
        return [t.snapshot() for t in mine]

    def close(self, sid: str, term_id: str) -> None:
        session = self.get(sid, term_id)
        self.forget(session)
        session.close()

    def close_all(self, sid: str | None = None) -> None:
        with self._lock:
            mine = [s for s in self._sessions.values() if sid is None or s.sid == sid]
            for s in mine:
                self._sessions.pop(s.id, None)
                self._ended.append(s.transcript)
        for s in mine:
            s.close()

    def kill_container(self, name: str, remove: bool = False) -> None:
        from runtime.errors import OnggiError
        try:
            c = self.app.runtime.container(name)
            if c.state.status.value == "running":
                c.kill()
            if remove:
                c.remove(force=True)
        except OnggiError:
            pass


class SimSession:
    """A browser terminal on the simulated runtime (Session's interface, no pty, no CLI).

    ``exec -it``: the container's shell (``container.shell``). ``run -it``: the new
    container's first process: its shell if it is an interactive one, else its
    output as it comes, then its exit code.
    """

    def __init__(self, terminals, sid: str, container, argv: list[str] | None, container_name: str | None,
                 transcript: Transcript):
        self.id = secrets.token_hex(8)
        self.sid = sid
        self.terminals = terminals
        self.container = container
        self.container_name = container_name
        self.transcript = transcript
        self.closed = False
        self._lock = threading.Lock()
        self.shell = None
        plan = container._record_now().get("plan") or {}
        if argv is not None or plan.get("interactive"):
            self.shell = container.shell(argv or ["sh"], output=self._output, on_exit=self._exit)

    def start(self) -> None:
        """Begin once the browser has the session's id (it ignores output for ids it does not know)."""
        self.terminals.socketio.sleep(0.1)
        if self.closed:
            return
        try:
            if self.shell is not None:
                self.shell.open()
                return
            planned = (self.container._record_now().get("plan") or {}).get("code", 0)
            for _stream, data, _time in self.container.logs(follow=True):
                self._output(data.decode(errors="replace").replace("\n", "\r\n"))
            state = self.container.state          # gone already when it was --rm
            self._exit(state.exit_code if state.exit_code is not None else planned)
        except Exception as exc:          # noqa: BLE001 - the container went away: say so and end
            self._output(f"\r\n{exc}\r\n")
            self._exit(137)

    def _output(self, text: str) -> None:
        self.transcript.printed(text)
        self.terminals.socketio.emit("term.output", {"id": self.id, "data": text}, to=self.sid)

    def _exit(self, code: int) -> None:
        self.terminals.socketio.emit("term.exit", {"id": self.id, "code": code}, to=self.sid)
        self.terminals.forget(self)
        self.close()

    def write(self, data: str) -> None:
        if not self.closed and self.shell is not None:
            self.transcript.typed(data)
            self.shell.write(data)

    def resize(self, rows: int, cols: int) -> None:
        if self.shell is not None:
            self.shell.resize(rows, cols)

    def close(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if self.shell is not None:
            self.shell.close()
        if self.container_name:
            self.terminals.kill_container(self.container_name)


_RUN_FLAGS = {"--name": "name", "--memory": "memory", "-m": "memory", "--cpus": "cpus",
              "--pids-limit": "pids_limit", "--network": "network", "--hostname": "hostname",
              "-h": "hostname", "--publish": "ports", "-p": "ports", "--env": "env", "-e": "env",
              "--label": "labels", "-l": "labels", "--workdir": "workdir", "-w": "workdir", "--user": "user",
              "-u": "user", "--entrypoint": "entrypoint"}


def _run_spec(run: list[str], default_network: str):
    """``run -it RUN...`` (a lesson's flags, the image, the command) as a ContainerSpec."""
    from .api.specs import spec_from_json
    body: dict = {"tty": True, "interactive": True, "ports": [], "env": [], "labels": {}}
    words = list(run)
    while words and words[0].startswith("-"):
        flag = words.pop(0)
        if flag == "--rm":
            body["auto_remove"] = True
            continue
        if flag in ("-i", "-t", "-it", "-ti", "-d"):
            continue
        key = _RUN_FLAGS.get(flag)
        if key is None or not words:
            raise InvalidArgument(f"invalid terminal command: unknown flag {flag!r}")
        value = words.pop(0)
        if key in ("ports", "env"):
            body[key].append(value)
        elif key == "labels":
            k, _, v = value.partition("=")
            body["labels"][k] = v
        else:
            body[key] = value
    if not words:
        raise InvalidArgument("invalid terminal command: the image is missing")
    body["image"], body["cmd"] = words[0], words[1:] or None
    return spec_from_json(body, default_network=default_network)
