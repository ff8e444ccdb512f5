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
(it was started with --rm, so nothing is left).
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


class Session:
    def __init__(self, terminals, sid: str, argv: list[str], env: dict, rows: int, cols: int,
                 container_name: str | None):
        self.id = secrets.token_hex(8)
        self.sid = sid
        self.terminals = terminals
        self.container_name = container_name     # run -it: the container to kill on close
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
            socketio.emit("term.output", {"id": self.id, "data": decoder.decode(data)}, to=self.sid)
        code = self.proc.wait()
        socketio.emit("term.exit", {"id": self.id, "code": code}, to=self.sid)
        self.terminals.forget(self)
        self.close()

    def write(self, data: str) -> None:
        if not self.closed:
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
        self._lock = threading.Lock()

    def _cli(self) -> str:
        return self.app.config["ONGGI_CLI"] or str(Path(sys.executable).with_name("onggi"))

    def open(self, sid: str, *, container: str | None = None, image: str | None = None,
             cmd=None, rows=24, cols=80) -> Session:
        """Open ``exec -it CONTAINER CMD`` (default sh) or ``run -it --rm IMAGE CMD``."""
        rt = self.app.runtime
        rt.check_host()
        cmd = list(cmd or ["sh"])
        if not all(isinstance(a, str) and a for a in cmd):
            raise InvalidArgument("invalid terminal command: use a list of words, e.g. [\"sh\"]")
        name = None
        if container:
            c = rt.container(container)
            c.require_running()
            argv = [self._cli(), "exec", "-it", c.id, *cmd]
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
        session = Session(self, sid, argv, env, clamp_size(rows, 24), clamp_size(cols, 80), name)
        with self._lock:
            self._sessions[session.id] = session
        self.socketio.start_background_task(session.pump)
        return session

    def get(self, sid: str, term_id: str) -> Session:
        session = self._sessions.get(term_id)
        if session is None or session.sid != sid:
            raise NotFound(f"no such terminal: {term_id}", hint="open a new one")
        return session

    def forget(self, session: Session) -> None:
        with self._lock:
            self._sessions.pop(session.id, None)

    def close(self, sid: str, term_id: str) -> None:
        session = self.get(sid, term_id)
        self.forget(session)
        session.close()

    def close_all(self, sid: str | None = None) -> None:
        with self._lock:
            mine = [s for s in self._sessions.values() if sid is None or s.sid == sid]
            for s in mine:
                self._sessions.pop(s.id, None)
        for s in mine:
            s.close()

    def kill_container(self, name: str) -> None:
        from runtime.errors import OnggiError
        try:
            c = self.app.runtime.container(name)
            if c.state.status.value == "running":
                c.kill()
        except OnggiError:
            pass
