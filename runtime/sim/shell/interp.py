"""Running the syntax tree of :mod:`.parse` against a simulated container (a *machine*).

The interpreter is busybox's ``ash`` in miniature: expansions, field splitting,
redirections, pipelines (run one stage after another, each stage's output the
next one's input), ``&&``/``||``, loops, functions and the builtins a shell
has (cd, exit, export, trap, kill, test, break...). Commands that are programs
in a real busybox image (ls, ps, ip, cat...) are in :mod:`.applets`; a command
the image does not have is "not found", as busybox says it.

What it does not do is wait for real processes: there are none. Time passes
through ``machine.sleep`` (a virtual clock when a container's first process is
planned, real time in a terminal), background jobs are processes the machine
records, and a loop that would never end is recognised (the interpreter counts
its rounds between sleeps) and reported as :class:`RunsForever`, with what kind
of forever it is: ``busy`` (burns a CPU), ``idle`` (sleeps), ``forks`` (spawns
without end).

The machine protocol (what a container looks like from inside) is described
by :class:`Machine`; ``runtime.sim.machine`` implements it.
"""
from __future__ import annotations

import fnmatch
import posixpath
import re
from dataclasses import dataclass, field
from typing import Callable, Protocol

from ..fs import FS, norm
from .parse import AndOr, For, FuncDef, Group, If, Loop, Pipeline, Redirect, ShellSyntaxError, Simple, Word, parse

SIGNALS = {"HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "PIPE": 13,
           "ALRM": 14, "TERM": 15, "CHLD": 17, "CONT": 18, "STOP": 19}
MAX_DEPTH = 60
MAX_TICKS = 20000          # rounds without a sleep before a loop counts as busy forever
BACKGROUND_TICKS = 500
# The builtins of busybox's ash, which run without a fork (sleep is one here, not in ash).
ASH_BUILTINS = {"echo", "printf", "cd", "pwd", "exit", "export", "unset", "trap", "kill", "true",
                "false", ":", "break", "continue", "test", "[", "[[", "eval", "read", "wait", "set",
                "shift", "exec", "local", "readonly"}


class RunsForever(Exception):
    """The command would never end by itself; KIND is busy, idle or forks."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


class Interrupted(Exception):
    """Ctrl-C (or the session closing) stopped the command."""


class CantFork(Exception):
    """The cgroup's pids limit (or the simulation's own cap) refused a new process."""


class ShellError(Exception):
    """ash's own error (its EXERROR), such as a refused fork: a script ends with CODE, an
    interactive shell drops the rest of the line and prompts again."""

    def __init__(self, code: int = 2):
        super().__init__(code)
        self.code = code


class ExitShell(Exception):
    def __init__(self, code: int):
        super().__init__(code)
        self.code = code


class _Break(Exception):
    def __init__(self, n: int, cont: bool):
        super().__init__(n)
        self.n, self.cont = n, cont


class Machine(Protocol):
    """What the shell asks of the container it runs in (see ``runtime.sim.machine``)."""

    fs: FS
    hostname: str

    def special_read(self, path: str) -> str | None: ...      # /proc, /sys, /dev, /etc/hostname...
    def special_list(self, path: str) -> list[str] | None: ...
    def special_link(self, path: str) -> str | None: ...      # /proc/self, /proc/PID/ns/pid...
    def sleep(self, seconds: float) -> None: ...               # may raise RunsForever / Interrupted
    def tick(self) -> None: ...                                # may raise Interrupted (Ctrl-C)
    def spawn(self, argv: list[str], kind: str) -> int: ...    # a background process; raises CantFork
    def fork(self) -> None: ...                                # a command's own process; raises CantFork
    def kill(self, pid: int, sig: int) -> str | None: ...      # an error text, or None
    def listen(self, port: int, home: str) -> None: ...       # a web server serves HOME on PORT


@dataclass
class Out:
    """Where a command writes: (fd, text) pieces in order, or straight to a callback."""
    pieces: list = field(default_factory=list)
    sink: Callable[[int, str], None] | None = None

    def write(self, fd: int, text: str) -> None:
        if not text:
            return
        if self.sink is not None:
            self.sink(fd, text)
        else:
            self.pieces.append((fd, text))

    def text(self, fd: int | None = None) -> str:
        return "".join(t for f, t in self.pieces if fd is None or f == fd)


@dataclass
class Call:
    """One command's view of the world: its arguments, input, output and the shell around it."""
    argv: list[str]
    stdin: str
    write: Callable[[int, str], None]
    sh: "Interp"
    piped: bool = False          # stdout goes to another command (which may stop reading)

    @property
    def args(self) -> list[str]:
        return self.argv[1:]

    def out(self, text: str) -> None:
        self.write(1, text)

    def err(self, text: str) -> None:
        self.write(2, text)

    @property
    def fs(self) -> FS:
        return self.sh.machine.fs

    @property
    def m(self):
        return self.sh.machine

    def path(self, p: str) -> str:
        return norm(p, self.sh.cwd)


class Interp:
    """One shell process: its variables, functions, traps, working directory and last status."""

    def __init__(self, machine, env: dict[str, str] | None = None, *, cwd: str = "/", pid: int = 1,
                 applets=None, name: str = "sh"):
        from . import applets as default_applets
        self.machine = machine
        self.vars = dict(env or {})
        self.exported = set(self.vars)
        self.functions: dict[str, object] = {}
        self.traps: dict[str, str] = {}
        self.cwd = cwd
        self.pid = pid
        self.status = 0
        self.depth = 0
        self.name = name
        self.applets = applets if applets is not None else default_applets.APPLETS
        self.positional: list[str] = []
        self.background = False         # a job started with &: it must not block the shell
        self.exited = False             # the script ran "exit"
        self.ticks = 0
        self.interactive = False        # a terminal's shell: its errors end the line, not the shell

    # -- entry points ------------------------------------------------------------------------
    def run(self, src: str, out: Out, stdin: str = "") -> int:
        """Run script SRC; its status. ExitShell ends it early; RunsForever and
        Interrupted go to the caller."""
        try:
            tree = parse(src)
        except ShellSyntaxError as exc:
            out.write(2, f"{self.name}: {exc}\n")
            self.status = 2
            return 2
        try:
            self.status = self._list(tree, out, stdin)
        except ExitShell as exc:
            self.status = exc.code
            self.exited = True
        except ShellError as exc:
            self.status = exc.code
            self.exited = not self.interactive
        except _Break:
            pass
        return self.status

    # -- lists, and-or, pipelines -------------------------------------------------------------
    def _list(self, items: list, out: Out, stdin: str = "") -> int:
        status = self.status
        for item in items:
            if item.background:
                status = self._background(item, out)
            else:
                status = self._and_or(item, out, stdin)
            self.status = status
        return status

    def _and_or(self, node: AndOr, out: Out, stdin: str = "") -> int:
        status = self._pipeline(node.first, out, stdin)
        for op, pipeline in node.rest:
            self.status = status
            if (op == "&&") == (status == 0):
                status = self._pipeline(pipeline, out, stdin)
        return status

    def _background(self, node: AndOr, out: Out) -> int:
        """``cmd &``: a job that ends at once simply runs; one that sleeps or loops lives on
        as a process of the container (that is what ``ps`` and the pids gauge count)."""
        sub = self._clone()
        sub.background = True
        kind = None
        try:
            sub._and_or(node, out, "")
        except RunsForever as exc:
            kind = exc.kind
        except (ExitShell, ShellError, _Break):
            pass
        if kind is None:
            return 0
        try:
            self.machine.spawn(_words_of(node), kind)
        except CantFork:
            self._cant_fork(out.write)
        return 0

    def _cant_fork(self, write) -> None:
        """fork() failed (EAGAIN: the pids limit): ash says so and raises its error, which ends
        a script (status 2) and, in a terminal, the line; a fork loop stops at its first refusal."""
        write(2, f"{self.name}: can't fork: Resource temporarily unavailable\n")
        raise ShellError(2)

    def tick(self) -> None:
        """One more command or loop round: a script that goes round this often without
        sleeping is a busy loop that would never end."""
        self.machine.tick()
        self.ticks += 1
        if self.ticks > (BACKGROUND_TICKS if self.background else MAX_TICKS):
            raise RunsForever("busy")

    def _pipeline(self, node: Pipeline, out: Out, stdin: str) -> int:
        data = stdin
        status = 0
        last = len(node.commands) - 1
        for i, command in enumerate(node.commands):
            if i < last:
                captured = Out()
                status = self._command(command, Out(sink=lambda fd, t, c=captured, o=out:
                                                    c.write(1, t) if fd == 1 else o.write(fd, t)),
                                       data, piped=True)
                data = captured.text(1)
            else:
                status = self._command(command, out, data if i > 0 else stdin)
        if node.negate:
            status = 0 if status else 1
        return status

    # -- one command --------------------------------------------------------------------------
    def _command(self, node, out: Out, stdin: str, piped: bool = False) -> int:
        self.tick()
        if isinstance(node, Simple):
            return self._simple(node, out, stdin, piped)
        if isinstance(node, FuncDef):
            self.functions[node.name] = node.body
            return 0
        write, stdin, flush = self._redirect(node.redirects, out, stdin)
        if write is None:
            return 1
        target = Out(sink=write)
        try:
            if isinstance(node, Group):
                if node.subshell:
                    sub = self._clone()
                    try:
                        return sub._list(node.body, target, stdin)
                    except (ExitShell, ShellError) as exc:
                        return exc.code
                return self._list(node.body, target, stdin)
            if isinstance(node, If):
                for cond, body in node.branches:
                    if self._list(cond, target, stdin) == 0:
                        return self._list(body, target, stdin)
                return self._list(node.orelse, target, stdin) if node.orelse is not None else 0
            if isinstance(node, Loop):
                return self._loop(node, target, stdin)
            if isinstance(node, For):
                return self._for(node, target, stdin)
        finally:
            flush()
        raise ShellSyntaxError(f"cannot run {type(node).__name__}")

    def _loop(self, node: Loop, out: Out, stdin: str) -> int:
        status = 0
        while True:
            self.tick()
            ok = self._list(node.condition, out, stdin) == 0
            if ok == node.until:
                return status
            try:
                status = self._list(node.body, out, stdin)
            except _Break as b:
                if b.n > 1:
                    raise _Break(b.n - 1, b.cont) from None
                if not b.cont:
                    return 0

    def _for(self, node: For, out: Out, stdin: str) -> int:
        items = self.positional if node.items is None else [f for w in node.items for f in self.expand(w)]
        status = 0
        for item in items:
            self.tick()
            self.vars[node.name] = item
            try:
                status = self._list(node.body, out, stdin)
            except _Break as b:
                if b.n > 1:
                    raise _Break(b.n - 1, b.cont) from None
                if not b.cont:
                    return 0
        return status

    def _simple(self, node: Simple, out: Out, stdin: str, piped: bool) -> int:
        assigns = [(name, self.expand_one(value)) for name, value in node.assigns]
        argv = [f for w in node.words for f in self.expand(w)]
        write, stdin, flush = self._redirect(node.redirects, out, stdin)
        if write is None:
            return 1
        try:
            if not argv:
                for name, value in assigns:
                    self.vars[name] = value
                return self.status if node.words else 0
            saved = {}
            for name, value in assigns:           # VAR=x cmd: only for that command
                saved[name] = self.vars.get(name)
                self.vars[name] = value
            try:
                return self.call(argv, stdin, write, piped=piped)
            finally:
                for name, old in saved.items():
                    if old is None:
                        self.vars.pop(name, None)
                    else:
                        self.vars[name] = old
        finally:
            flush()

    def call(self, argv: list[str], stdin: str, write, piped: bool = False) -> int:
        """Run one command by name: a function, a builtin, or an applet of the image."""
        name = argv[0]
        if name in self.functions:
            return self._function(name, argv, stdin, write)
        builtin = BUILTINS.get(name)
        call = Call(argv, stdin, write, self, piped)
        if builtin is not None and (name in ASH_BUILTINS or not self.interactive):
            return builtin(call)
        if self.interactive:
            # A terminal's shell forks for every program (busybox's NOFORK applets are off in
            # Debian's build): at the pids limit even ls fails, only builtins still run.
            try:
                self.machine.fork()
            except CantFork:
                self._cant_fork(write)
            child = getattr(self.machine, "child", None)
            if child is not None:            # ps shows the program the line forked, with its args
                self.machine.child = (child[0], " ".join(argv))
        if builtin is not None:
            return builtin(call)
        program = self.find_program(name)
        if program is None:
            write(2, f"{self.name}: {name}: not found\n")
            return 127
        applet = self.applets.get(posixpath.basename(program))
        if applet is None and posixpath.basename(program) in BUILTINS:
            applet = BUILTINS[posixpath.basename(program)]     # /bin/sleep: the same as sleep
        if applet is None:
            write(2, f"simulated: {posixpath.basename(program)}: this command is not available "
                     "in simulated mode\n")
            return 127
        call.argv = [posixpath.basename(program)] + argv[1:]
        return applet(call)

    def find_program(self, name: str) -> str | None:
        """The path of NAME as PATH finds it in the container's filesystem (or None)."""
        return find_program(self.machine.fs, name, self.vars.get("PATH", "/bin"), self.cwd)

    def _function(self, name: str, argv: list[str], stdin: str, write) -> int:
        if self.depth >= MAX_DEPTH:
            raise RunsForever("forks")
        saved, self.positional = self.positional, argv[1:]
        self.depth += 1
        try:
            return self._command(self.functions[name], Out(sink=write), stdin)
        finally:
            self.depth -= 1
            self.positional = saved

    def _clone(self) -> "Interp":
        sub = Interp(self.machine, self.vars, cwd=self.cwd, pid=self.pid, applets=self.applets,
                     name=self.name)
        sub.exported = set(self.exported)
        sub.functions = dict(self.functions)
        sub.status, sub.depth, sub.positional = self.status, self.depth, list(self.positional)
        sub.background, sub.traps = self.background, self.traps
        return sub

    # -- redirections -------------------------------------------------------------------------
    def _redirect(self, redirects: list[Redirect], out: Out, stdin: str):
        """(write(fd, text), stdin, flush()) with the redirections applied; write None on error."""
        targets = {1: ("out", 1), 2: ("out", 2)}
        files: dict[str, list] = {}
        for r in redirects:
            target = self.expand_one(r.target)
            if r.op == "<":
                path = norm(target, self.cwd)
                text = _read_file(self.machine, path)
                if text is None:
                    out.write(2, f"{self.name}: can't open '{target}': No such file or directory\n")
                    return None, stdin, lambda: None
                stdin = text
                continue
            if r.op == ">&":
                if target.isdigit() and int(target) in targets:
                    fds = (1, 2) if r.fd == -1 else (r.fd,)
                    for fd in fds:
                        targets[fd] = targets[int(target)]
                    continue
            path = norm(target, self.cwd)
            if path not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
                problem = _writable(self.machine.fs, path)
                if problem:
                    out.write(2, f"{self.name}: can't create {target}: {problem}\n")
                    return None, stdin, lambda: None
                if path not in files:
                    files[path] = [r.op == ">>", []]
                    if r.op != ">>":
                        self.machine.fs.write(path, "")        # > truncates at once
                        files[path][0] = True
            for fd in ((1, 2) if r.fd == -1 else (r.fd,)):
                targets[fd] = ("null",) if path == "/dev/null" else ("out", 1) if path == "/dev/stdout" \
                    else ("out", 2) if path == "/dev/stderr" else ("file", path)

        def write(fd: int, text: str) -> None:
            t = targets.get(fd, ("out", fd))
            if t[0] == "out":
                out.write(t[1], text)
            elif t[0] == "file":
                files[t[1]][1].append(text)

        def flush() -> None:
            for path, (_append, chunks) in files.items():
                if chunks:
                    self.machine.fs.write(path, "".join(chunks), append=True)
        return write, stdin, flush

    # -- expansions ---------------------------------------------------------------------------
    def expand_one(self, word: Word) -> str:
        """WORD expanded without field splitting or globbing (assignments, redirection targets)."""
        return "".join(self._part(p) for p in word.parts)

    def expand(self, word: Word) -> list[str]:
        """WORD as fields: expansions split on blanks unless quoted, then globbed."""
        fields: list[list] = [[]]           # each field: list of (text, quoted)
        started = False
        for p in word.parts:
            text = self._part(p)
            if p.kind == "lit" or p.quoted:
                fields[-1].append((text, p.quoted))
                started = True
                continue
            words = text.split()
            if not words:
                continue
            if text[:1].isspace() and fields[-1]:
                fields.append([])
            for j, w in enumerate(words):
                if j:
                    fields.append([])
                fields[-1].append((w, False))
            if text[-1:].isspace():
                fields.append([])
            started = True
        out = []
        for f in fields:
            if not f:
                continue
            joined = "".join(t for t, _ in f)
            if any(not q and any(ch in t for ch in "*?[") for t, q in f):
                matches = self._glob(joined)
                out += matches if matches else [joined]
            else:
                out.append(joined)
        if not out and started and any(p.quoted for p in word.parts):
            out = [""]
        return out

    def _glob(self, pattern: str) -> list[str]:
        absolute = pattern.startswith("/")
        base = "/" if absolute else self.cwd
        parts = [p for p in pattern.split("/") if p]
        paths = [base]
        for part in parts:
            nxt = []
            for p in paths:
                if any(ch in part for ch in "*?["):
                    names = self.machine.special_list(p) or self.machine.fs.listdir(p)
                    nxt += [norm(n, p) for n in names if fnmatch.fnmatchcase(n, part)
                            and (part.startswith(".") or not n.startswith("."))]
                else:
                    candidate = norm(part, p)
                    if self.machine.fs.exists(candidate) or self.machine.special_read(candidate) is not None:
                        nxt.append(candidate)
            paths = nxt
        if absolute:
            return sorted(paths)
        prefix = self.cwd.rstrip("/") + "/"
        return sorted(p[len(prefix):] if p.startswith(prefix) else p for p in paths)

    def _part(self, p) -> str:
        if p.kind == "lit":
            return p.value
        if p.kind == "var":
            value = self.vars.get(p.value)
            if not value and p.default is not None:
                return p.default
            return value or ""
        if p.kind == "special":
            value = {"?": str(self.status), "$": str(self.pid), "#": str(len(self.positional)),
                     "!": "", "@": " ".join(self.positional), "*": " ".join(self.positional),
                     "0": self.name}.get(p.value)
            if value is None and p.value.isdigit():
                i = int(p.value) - 1
                value = self.positional[i] if i < len(self.positional) else ""
            return value if value or p.default is None else p.default
        if p.kind == "cmd":
            sub = self._clone()
            out = Out()
            sub.run(p.value, Out(sink=lambda fd, t: out.write(1, t) if fd == 1 else None))
            self.status = sub.status
            return out.text().rstrip("\n")
        if p.kind == "arith":
            return str(self.arith(p.value))
        return ""

    def arith(self, expr: str) -> int:
        """$((...)): integers, + - * / % ( ) and comparisons, variables by name."""
        def var(m):
            try:
                return str(int(self.vars.get(m.group(0), "0") or 0))
            except ValueError:
                return "0"
        text = re.sub(r"\$?[A-Za-z_][A-Za-z0-9_]*", lambda m: var(re.match(r"[A-Za-z_]\w*", m.group(0).lstrip("$"))), expr)
        if not re.fullmatch(r"[\d\s+\-*/%()<>=!&|]*", text):
            return 0
        text = text.replace("/", "//").replace("&&", " and ").replace("||", " or ")
        try:
            return int(eval(text, {"__builtins__": {}}, {}))        # noqa: S307 - digits and operators only
        except Exception:           # noqa: BLE001 - a shell says 0 for nonsense, so do we
            return 0


def find_program(fs: FS, name: str, path_var: str, cwd: str = "/") -> str | None:
    """Where execvp(3) would find NAME: a path as given, else the first hit in PATH."""
    if "/" in name:
        path = norm(name, cwd)
        return path if fs.lookup(path) is not None and not fs.is_dir(path) else None
    for d in path_var.split(":"):
        path = norm(name, d or "/")
        if fs.lookup(path) is not None and not fs.is_dir(path):
            return path
    return None


def _words_of(node: AndOr) -> list[str]:
    """A background job's command line as words (for ps)."""
    first = node.first.commands[0] if node.first.commands else None
    if isinstance(first, Simple) and first.words:
        return [w.text() for w in first.words]
    return ["sh"]


def _read_file(machine, path: str) -> str | None:
    special = machine.special_read(path)
    if special is not None:
        return special
    e = machine.fs.lookup(path)
    if e is None or e["k"] != "f":
        return None
    data = e.get("d")
    return data if data is not None else "\0" * min(e.get("s", 0), 4096)


def _writable(fs: FS, path: str) -> str | None:
    parent = posixpath.dirname(path)
    if not fs.is_dir(parent):
        return "nonexistent directory"
    if fs.is_dir(path):
        return "Is a directory"
    if path.startswith(("/proc/", "/sys/")):
        return "Read-only file system"
    return None


# -- builtins ------------------------------------------------------------------------------------

def _echo(c: Call) -> int:
    args, newline, escapes = c.args, True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        newline = newline and "n" not in args[0]
        escapes = "e" in args[0] or escapes
        args = args[1:]
    text = " ".join(args)
    if escapes:
        text = _unescape(text)
    c.out(text + ("\n" if newline else ""))
    return 0


def _unescape(text: str) -> str:
    return (text.replace("\\n", "\n").replace("\\t", "\t").replace("\\\\", "\\"))


def _printf(c: Call) -> int:
    if not c.args:
        c.err("printf: usage: printf FORMAT [ARGUMENT...]\n")
        return 1
    fmt, args = _unescape(c.args[0]), list(c.args[1:])
    out = []
    while True:
        def repl(m):
            spec = m.group(0)
            if spec == "%%":
                return "%"
            value = args.pop(0) if args else ""
            if spec[-1] in "di":
                try:
                    return ("%" + spec[1:-1] + "d") % int(value or 0)
                except ValueError:
                    return "0"
            return ("%" + spec[1:-1] + "s") % value
        out.append(re.sub(r"%[-0-9.]*[sdi%]", repl, fmt))
        if not args:
            break
    c.out("".join(out))
    return 0


def _cd(c: Call) -> int:
    target = c.args[0] if c.args else c.sh.vars.get("HOME", "/")
    path = c.path(target)
    if not c.fs.is_dir(path):
        c.err(f"{c.sh.name}: cd: can't cd to {target}: No such file or directory\n")
        return 2
    c.sh.cwd = path
    c.sh.vars["PWD"] = path
    return 0


def _pwd(c: Call) -> int:
    c.out(c.sh.cwd + "\n")
    return 0


def _exit(c: Call) -> int:
    raise ExitShell(int(c.args[0]) if c.args and c.args[0].lstrip("-").isdigit() else c.sh.status)


def _export(c: Call) -> int:
    for arg in c.args:
        name, sep, value = arg.partition("=")
        if sep:
            c.sh.vars[name] = value
        c.sh.exported.add(name)
    return 0


def _unset(c: Call) -> int:
    for name in c.args:
        c.sh.vars.pop(name, None)
        c.sh.functions.pop(name, None)
    return 0


def _trap(c: Call) -> int:
    """trap 'commands' SIGNAL...: remembered; the machine runs them when the signal comes."""
    if not c.args:
        for sig, script in c.sh.traps.items():
            c.out(f"trap -- '{script}' {sig}\n")
        return 0
    script, sigs = c.args[0], c.args[1:]
    for sig in sigs:
        name = sig.upper().removeprefix("SIG")
        if name.isdigit():
            name = next((k for k, v in SIGNALS.items() if v == int(name)), name)
        if name not in SIGNALS and name != "EXIT" and name != "0":
            c.err(f"trap: {sig}: invalid signal specification\n")
            return 1
        if script == "-":
            c.sh.traps.pop(name, None)
        else:
            c.sh.traps[name] = script
    return 0


def parse_signal(text: str) -> int | None:
    name = text.upper().removeprefix("SIG")
    if name.isdigit():
        return int(name)
    return SIGNALS.get(name)


def _kill(c: Call) -> int:
    args, sig = list(c.args), 15
    if args and args[0] == "-l":
        c.out(" ".join(SIGNALS) + "\n")
        return 0
    if args and args[0].startswith("-") and len(args[0]) > 1:
        spec = args.pop(0)[1:]
        if spec == "s" and args:
            spec = args.pop(0)
        found = parse_signal(spec)
        if found is None:
            c.err(f"kill: bad signal name '{spec}'\n")
            return 1
        sig = found
    if not args:
        c.err("kill: usage: kill [-s SIG | -SIG] PID...\n")
        return 1
    status = 0
    for a in args:
        if not a.lstrip("-").isdigit():
            c.err(f"kill: bad pid '{a}'\n")
            status = 1
            continue
        problem = c.m.kill(int(a), sig)
        if problem:
            c.err(f"kill: can't kill pid {a}: {problem}\n")
            status = 1
    return status


def _sleep(c: Call) -> int:
    total = 0.0
    for a in c.args:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", a)
        if m is None:
            if a == "infinity":
                total = float("inf")
                continue
            c.err(f"sleep: invalid number '{a}'\n")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if not c.args:
        c.err("BusyBox v1.35.0 multi-call binary.\n\nUsage: sleep [N]...\n")
        return 1
    if c.sh.background and total > 0.5:
        raise RunsForever("idle")       # a job that sleeps lives on beside the shell
    c.m.sleep(total)
    c.sh.ticks = 0
    return 0


def _true(c: Call) -> int:
    return 0


def _false(c: Call) -> int:
    return 1


def _break(c: Call) -> int:
    raise _Break(int(c.args[0]) if c.args and c.args[0].isdigit() else 1, c.argv[0] == "continue")


def _test(c: Call) -> int:
    args = list(c.args)
    if c.argv[0] == "[":
        if not args or args[-1] != "]":
            c.err("[: missing ]\n")
            return 2
        args = args[:-1]
    try:
        return 0 if _test_expr(c, args) else 1
    except ValueError as exc:
        c.err(f"{c.argv[0]}: {exc}\n")
        return 2


def _test_expr(c: Call, a: list[str]) -> bool:
    if not a:
        return False
    if a[0] == "!":
        return not _test_expr(c, a[1:])
    if "-a" in a:
        i = a.index("-a")
        return _test_expr(c, a[:i]) and _test_expr(c, a[i + 1:])
    if "-o" in a:
        i = a.index("-o")
        return _test_expr(c, a[:i]) or _test_expr(c, a[i + 1:])
    if len(a) == 1:
        return a[0] != ""
    if len(a) == 2:
        op, arg = a
        path = c.path(arg)
        e = c.fs.lookup(path)
        special = c.m.special_read(path) is not None or c.m.special_list(path) is not None
        checks = {"-n": lambda: arg != "", "-z": lambda: arg == "",
                  "-e": lambda: e is not None or special, "-f": lambda: (e or {}).get("k") == "f" or special,
                  "-d": lambda: (e or {}).get("k") == "d" or c.m.special_list(path) is not None,
                  "-s": lambda: (e or {}).get("s", 0) > 0, "-x": lambda: bool((e or {}).get("m", 0) & 0o111),
                  "-r": lambda: e is not None or special, "-w": lambda: e is not None,
                  "-L": lambda: (e or {}).get("k") == "l", "-h": lambda: (e or {}).get("k") == "l"}
        if op not in checks:
            raise ValueError(f"{op}: unknown operand")
        return checks[op]()
    if len(a) == 3:
        x, op, y = a
        if op in ("=", "=="):
            return x == y
        if op == "!=":
            return x != y
        ints = {"-eq": int.__eq__, "-ne": int.__ne__, "-lt": int.__lt__, "-le": int.__le__,
                "-gt": int.__gt__, "-ge": int.__ge__}
        if op in ints:
            try:
                return ints[op](int(x), int(y))
            except ValueError:
                raise ValueError(f"{x if not x.lstrip('-').isdigit() else y}: bad number") from None
    raise ValueError("syntax error")


def _eval(c: Call) -> int:
    return c.sh.run(" ".join(c.args), Out(sink=c.write), c.stdin)


def _read(c: Call) -> int:
    names = [a for a in c.args if not a.startswith("-")] or ["REPLY"]
    line, sep, rest = c.stdin.partition("\n")
    if not line and not sep:
        return 1
    values = line.split(None, len(names) - 1)
    for i, name in enumerate(names):
        c.sh.vars[name] = values[i] if i < len(values) else ""
    return 0


def _wait(c: Call) -> int:
    return 0


def _set(c: Call) -> int:
    if not c.args:
        for k in sorted(c.sh.vars):
            c.out(f"{k}='{c.sh.vars[k]}'\n")
    elif c.args[0] == "--":
        c.sh.positional = c.args[1:]
    return 0


def _shift(c: Call) -> int:
    n = int(c.args[0]) if c.args and c.args[0].isdigit() else 1
    c.sh.positional = c.sh.positional[n:]
    return 0


def _exec(c: Call) -> int:
    if not c.args:
        return 0
    # execve(2): the same process, a new program; ps shows its new command line from now on.
    exec_image = getattr(c.sh.machine, "exec_image", None)
    if exec_image is not None:
        exec_image(c.sh.pid, list(c.args))
    status = c.sh.call(c.args, c.stdin, c.write, piped=c.piped)
    raise ExitShell(status)


def _local(c: Call) -> int:
    for arg in c.args:
        name, sep, value = arg.partition("=")
        c.sh.vars[name] = value if sep else c.sh.vars.get(name, "")
    return 0


BUILTINS: dict[str, Callable[[Call], int]] = {
    "echo": _echo, "printf": _printf, "cd": _cd, "pwd": _pwd, "exit": _exit, "export": _export,
    "unset": _unset, "trap": _trap, "kill": _kill, "sleep": _sleep, "true": _true, "false": _false,
    ":": _true, "break": _break, "continue": _break, "test": _test, "[": _test, "[[": _test,
    "eval": _eval, "read": _read, "wait": _wait, "set": _set, "shift": _shift, "exec": _exec,
    "local": _local, "readonly": _export,
}
