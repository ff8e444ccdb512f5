"""A browser terminal's shell in a simulated container: what ``onggi exec -it NAME sh`` is for real.

There is no pty, so this does the little a pty's line discipline and busybox's
line editor do: echo what is typed, backspace, Ctrl-U, Ctrl-C (interrupts a
running command, or drops the line), Ctrl-D on an empty line (exit), ``\\n`` as
``\\r\\n``, and the ``/ # `` prompt. Each finished line runs in the tiny shell
(:mod:`.shell`) on a :class:`~runtime.sim.machine.LiveMachine`, in a worker
thread so that a ``sleep 5`` or ``ping`` takes its time without blocking the
keystrokes that may interrupt it. The shell keeps its variables and working
directory from line to line; what a line changes in files is saved in the
container's writable layer at once.

The shell is a process of the container while the session lasts (``ps`` shows
it). With ``pid1=True`` it *is* the container's first process (``run -it IMAGE
sh``): ``exit`` ends the container with that code.
"""
from __future__ import annotations

import queue
import threading
import time
from typing import Callable

from runtime import events

from .machine import LiveMachine
from .shell.interp import Interp, Interrupted, Out, RunsForever

CTRL_C, CTRL_D, CTRL_U, BACKSPACES = "\x03", "\x04", "\x15", ("\x7f", "\x08")


class ShellSession:
    """One terminal: ``open()``, then ``write(keys)``; output and the end come through callbacks."""

    def __init__(self, container, argv=("sh",), *, output: Callable[[str], None],
                 on_exit: Callable[[int], None], pid1: bool = False, on_line: Callable[[str], None] | None = None):
        self.container = container
        self.argv = list(argv)
        self.output = output
        self.on_exit = on_exit
        self.on_line = on_line
        self.pid1 = pid1
        self.lines: list[str] = []              # every command line typed, in order
        self.closed = False
        self._buffer = ""
        self._queue: queue.Queue = queue.Queue()
        self._interrupt = threading.Event()
        self._running = False
        self._nspid = 1
        self._sh: Interp | None = None

    # -- life -----------------------------------------------------------------------------------
    def open(self) -> None:
        c = self.container
        c.require_running()
        if not self.pid1:
            self._nspid, host = c._new_process(self.argv)
            c.rt.publisher.publish(events.ContainerExecStarted(id=c.id, cmd=tuple(self.argv), pid=host))
        record = c._record_now()
        env = dict(e.partition("=")[::2] for e in record["process"]["env"])
        env.setdefault("HOME", "/root")
        env["TERM"] = "xterm-256color"
        self._sh = Interp(None, env, cwd=record["process"]["cwd"], pid=self._nspid, name="sh")
        self._sh.exported.add("TERM")
        # A shell typed into is interactive (its errors end a line); `exec -it NAME top` is not one.
        self._sh.interactive = self.argv[0].rsplit("/", 1)[-1] in ("sh", "ash") and len(self.argv) == 1
        threading.Thread(target=self._work, name=f"sim-term-{c.short_id}", daemon=True).start()
        if self._sh.interactive:
            self._prompt()
        else:
            self._queue.put(("argv", self.argv))

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._interrupt.set()
        self._queue.put(None)
        if not self.pid1:
            try:
                self.container._end_process(self._nspid)
            except Exception:          # noqa: BLE001 - the container may be gone already
                pass

    def resize(self, rows: int, cols: int) -> None:
        pass                                     # nothing here draws to a size

    # -- keys -------------------------------------------------------------------------------------
    def write(self, data: str) -> None:
        i = 0
        while i < len(data) and not self.closed:
            ch = data[i]
            if ch == "\x1b":                     # an escape sequence (arrows...): not edited here
                i += 1
                while i < len(data) and not (data[i].isalpha() or data[i] == "~"):
                    i += 1
            elif ch in "\r\n":
                line, self._buffer = self._buffer, ""
                self.output("\r\n")
                self._queue.put(("line", line))
            elif ch in BACKSPACES:
                if self._buffer:
                    self._buffer = self._buffer[:-1]
                    self.output("\b \b")
            elif ch == CTRL_U:
                self.output("\b \b" * len(self._buffer))
                self._buffer = ""
            elif ch == CTRL_C:
                self._buffer = ""
                self.output("^C\r\n")
                if self._running:
                    self._interrupt.set()
                else:
                    self._prompt()
            elif ch == CTRL_D:
                if not self._buffer and not self._running:
                    self._queue.put(("line", "exit"))
            elif ch >= " " or ch == "\t":
                self._buffer += " " if ch == "\t" else ch
                self.output(" " if ch == "\t" else ch)
            i += 1

    # -- the worker ----------------------------------------------------------------------------------
    def _prompt(self) -> None:
        cwd = self._sh.cwd if self._sh else "/"
        home = self._sh.vars.get("HOME", "/root") if self._sh else "/root"
        shown = "~" + cwd[len(home):] if cwd == home or cwd.startswith(home + "/") else cwd
        self.output(f"{shown} # ")

    def _work(self) -> None:
        while not self.closed:
            try:
                item = self._queue.get(timeout=0.2)
            except queue.Empty:
                if not self.container.is_running():
                    return self._end(self._final_code())
                continue
            if item is None:
                return
            kind, what = item
            if kind == "line" and not what.strip():
                self._prompt()
                continue
            if kind == "line":
                self.lines.append(what)
                if self.on_line is not None:
                    self.on_line(what)
            code = self._run(what if kind == "line" else None, what if kind == "argv" else None)
            if kind == "argv" or self._sh.exited:
                return self._end(code)
            if not self.container.is_running():
                return self._end(self._final_code())
            self._prompt()

    def _run(self, line: str | None, argv: list[str] | None) -> int:
        c = self.container
        world = c.rt.snapshot()
        record = world["containers"].get(c.id)
        if record is None:
            return 137
        fs = c.rt.truth.container_fs(record, world)
        self._interrupt.clear()
        self._sh.machine = LiveMachine(c, world, record, fs, current=(self._nspid, "sh"),
                                       interrupt=self._interrupt)
        if line is not None and line.split():
            # What the shell forks for the line, so that ps inside sees itself (pid after the newest).
            newest = max([p["nspid"] for p in record.get("procs", [])] + [record.get("last_nspid", 1)])
            self._sh.machine.child = (newest + 1, line.split()[0])
        out = Out(sink=lambda fd, text: self.output(text.replace("\n", "\r\n")))
        self._running = True
        try:
            if argv is not None:
                code = self._sh.call(argv, "", out.write)
            else:
                code = self._sh.run(line, out)
        except RunsForever as exc:
            code = self._until_interrupted(exc.kind)
        except Interrupted:
            code = 130
        finally:
            self._running = False
            c._save_upper(fs)
        self._sh.status = code
        return code

    def _until_interrupted(self, kind: str) -> int:
        """A command that never ends runs (as a process) until Ctrl-C or the container stops."""
        c = self.container
        c._set_process(self._nspid, kind)
        try:
            while not self._interrupt.is_set() and c.is_running() and not self.closed:
                time.sleep(0.05)
        finally:
            c._set_process(self._nspid, "idle")
        return 130

    def _final_code(self) -> int:
        state = self.container.state
        return state.exit_code if state.exit_code is not None else 137

    def _end(self, code: int) -> None:
        if self.pid1 and self.container.is_running():
            self.container._finish(code)
        self.close()
        self.on_exit(code)
