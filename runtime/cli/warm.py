"""The warm CLI server: onggi's answer to Python's start-up cost (like Mercurial's chg).

Importing the runtime costs ~100 ms on a slow machine, while a whole container
launch takes ~20 ms. So the first ``onggi`` command starts a small server that
imports everything once and waits on ``ONGGI_RUN/cli.sock``. Each later command
is a tiny client (it imports only ``_socket``, ``marshal`` and ``_signal``) that
hands the server its arguments, environment, working directory and its fds 0, 1
and 2 (SCM_RIGHTS). A worker forked in advance (the *spare*, so no command waits
for a fork) accepts it and *becomes* that command (the same fds, cwd and
environment), runs the ordinary CLI code and reports the exit code; the server
forks the next spare once that command is done. Signals the client gets (Ctrl-C,
window resizes) are forwarded to the worker.

Safety and honesty rules:

* The socket is 0600 in onggi's run directory and the peer's uid must be ours
  (SO_PEERCRED): only root can ask a root server to act.
* The server must stay single-threaded (it forks); it refuses to serve otherwise.
* If any of its loaded runtime modules changed on disk since it started
  (inotify), it says "stale" and exits; the client then runs the command itself.
* It exits after ONGGI_WARM_IDLE seconds (default 600) without a request.
* ``ONGGI_NO_WARM=1`` turns it off: every command then runs in its own process.

Protocol: client -> server ``len(4 bytes) + marshal((argv, env, cwd, umask))`` with
three fds; server -> client ``P<pid>`` (the worker) then ``X<code>``, or ``S`` (stale).
"""
import os
import sys

SOCKET = "cli.sock"
_INT = 4


def _run_dir() -> str:
    return os.environ.get("ONGGI_RUN") or "/run/onggi"


# --- the client: runs in every `onggi` invocation, must import next to nothing ------------

def client(argv: list[str]):
    """Run argv in the warm server; its exit code, or None to run it here instead."""
    import _socket
    import marshal
    path = os.path.join(_run_dir(), SOCKET)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        _start_server()
        return None
    try:
        payload = marshal.dumps((list(argv), dict(os.environ), os.getcwd(), _umask()))
        fds = b"".join(fd.to_bytes(_INT, sys.byteorder) for fd in (0, 1, 2))
        sock.sendmsg([len(payload).to_bytes(_INT, "big") + payload],
                     [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, fds)])
        return _await(sock)
    except OSError:
        return None
    finally:
        sock.close()


def _await(sock):
    import _signal
    buf, pid, sent = b"", 0, []

    def forward(signum, _frame):
        sent.append(signum)
        if pid:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass
    for sig in (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP, _signal.SIGQUIT, _signal.SIGWINCH):
        _signal.signal(sig, forward)
    while True:
        try:
            data = sock.recv(64)
        except InterruptedError:
            continue
        if not data:
            terminating = [s for s in sent if s != _signal.SIGWINCH]
            if pid and terminating:     # it died of the signal we passed on, as we would have
                return 128 + terminating[-1]
            if pid:         # the worker died without a word: report like any crash
                sys.stderr.write("onggi: the command's worker process died unexpectedly. "
                                 "Run again with ONGGI_NO_WARM=1 to see why\n")
                return 125
            return None
        buf += data
        while len(buf) >= 1:
            kind = buf[:1]
            if kind == b"S":
                return None
            if len(buf) < 1 + _INT:
                break
            value = int.from_bytes(buf[1:1 + _INT], "big", signed=True)
            buf = buf[1 + _INT:]
            if kind == b"P":
                pid = value
            elif kind == b"X":
                return value


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _start_server() -> None:
    """Start a server in the background for the next command (double fork, no zombie)."""
    if os.environ.get("ONGGI_NO_WARM"):
        return
    try:
        pid = os.fork()
    except OSError:
        return
    if pid:
        os.waitpid(pid, 0)
        return
    try:
        os.setsid()
        if os.fork():
            os._exit(0)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execv(sys.executable, [sys.executable, "-m", "runtime.cli.warm"])
    finally:
        os._exit(0)


# --- the server -----------------------------------------------------------------------------

PRELOAD = (
    "runtime.cli.containers", "runtime.cli.images", "runtime.cli.system", "runtime.cli.terminal",
    "runtime.core", "runtime.container.container", "runtime.container.monitor",
    "runtime.container.launch", "runtime.container.execs", "runtime.container.process",
    "runtime.container.zygote",
    "runtime.image.images", "runtime.image.changes", "runtime.cgroups.v1", "runtime.cgroups.v2",
    "runtime.cgroups.units", "runtime.inspect.container", "runtime.inspect.top",
    "runtime.inspect.stats", "runtime.system", "runtime.eventlog",
)
OPTIONAL = ("runtime.cli.network", "runtime.network.manager", "runtime.cli.build",
            "runtime.cli.registry")


def serve() -> int:
    """Preload, then keep one spare worker waiting in accept() until idle or stale.

    The spare is forked *before* a client arrives, so a command never waits for
    the fork of this (large) process: the spare accepts, tells us on ``busy``
    that it is taken, and we fork the next one when that command is done (or at
    once, when another client comes first).
    """
    import fcntl
    import gc
    import importlib
    import select
    import signal
    import socket
    import threading

    run_dir = _run_dir()
    os.makedirs(run_dir, exist_ok=True)
    lock = os.open(os.path.join(run_dir, "cli.lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return 0                                   # another server is already here
    with open(os.path.join(run_dir, "cli.pid"), "w") as f:
        f.write(str(os.getpid()))                  # at once, so a stop finds us while we load
    signal.signal(signal.SIGTERM, _stop)           # leave no socket behind when stopped
    for name in PRELOAD:
        importlib.import_module(name)
    for name in OPTIONAL:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    _prepare()
    if threading.active_count() != 1:
        return 1                                   # forking a threaded process is unsafe
    # Everything loaded so far lives as long as we do: keep it out of the garbage
    # collector's scans, which would write to every object's header and so copy
    # every page into each forked worker and monitor (copy-on-write).
    gc.collect()
    gc.freeze()
    watch = _watch_sources()
    path = os.path.join(run_dir, SOCKET)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    listener.bind(path)
    os.umask(old)
    bound = os.stat(path).st_ino      # the socket file's inode (not the socket's own)
    listener.listen(128)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps spares and workers
    idle = float(os.environ.get("ONGGI_WARM_IDLE", "600"))
    busy_r, busy_w = os.pipe2(os.O_CLOEXEC)        # spare -> us: "I took a client"
    alive_r, alive_w = os.pipe2(os.O_CLOEXEC)      # us -> spare: EOF when we are gone
    spare = None              # pidfd of the spare waiting in accept()
    running = None            # pidfd of the worker that took the last client
    try:
        while True:
            # The next spare is forked once the last command is done, not while it
            # runs: forking this process would take a core from that command. A
            # client that comes sooner (commands in parallel) gets one at once.
            if spare is None and running is None:
                spare = _fork_spare(listener, busy_w, alive_r, alive_w, busy_r, watch)
            waiting = [busy_r, watch] + [fd for fd in (spare, running) if fd is not None]
            if spare is None:
                waiting.append(listener)
            ready, _, _ = select.select(waiting, [], [], idle)
            if not ready or watch in ready:        # idle, or our code changed on disk
                return 0
            if busy_r in ready:                    # the spare took a client
                os.read(busy_r, 64)
                if running is not None:
                    os.close(running)
                running, spare = spare, None
            elif spare is not None and spare in ready:     # it died waiting
                os.close(spare)
                spare = None
            if running is not None and running in select.select([running], [], [], 0)[0]:
                os.close(running)
                running = None
            if spare is None and listener in ready:
                spare = _fork_spare(listener, busy_w, alive_r, alive_w, busy_r, watch)
    except SystemExit:
        return 0
    finally:
        try:
            if os.stat(path).st_ino == bound:     # still ours, not a successor's
                os.unlink(path)
                os.unlink(os.path.join(run_dir, "cli.pid"))
        except OSError:
            pass
        listener.close()
        os.close(alive_w)                          # a waiting spare sees EOF and leaves


def _stop(_signum, _frame):
    raise SystemExit(0)


def _fork_spare(listener, busy_w: int, alive_r: int, alive_w: int, busy_r: int, watch: int) -> int:
    """Fork a spare worker; its pidfd (readable once it has exited)."""
    pid = os.fork()
    if pid == 0:
        os.close(alive_w)
        os.close(busy_r)
        _spare(listener, busy_w, alive_r, watch)    # never returns
    return os.pidfd_open(pid)


def _spare(listener, busy_w: int, alive_r: int, watch: int) -> None:
    """A forked spare: wait for one client (or our server's end), then serve it."""
    import select
    import signal
    code = 0
    zygote = None
    try:
        signal.signal(signal.SIGTERM, _stop)       # leave by the finally below, zygote and all
        listener.setblocking(False)
        zygote = _start_zygote()                   # before _prefault: its fork would undo that
        _prefault(listener)
        while True:
            ready, _, _ = select.select([listener, alive_r], [], [])
            if listener in ready:                  # a client first: it connected in time
                try:
                    conn, _ = listener.accept()
                except BlockingIOError:
                    continue
                if _same_user(conn):
                    break
                conn.close()
            elif alive_r in ready:                 # the server left (idle, stale, stopped)
                return
        os.write(busy_w, b".")
        stale = select.select([watch], [], [], 0)[0]
        for fd in (busy_w, alive_r, watch):
            os.close(fd)
        listener.close()
        conn.setblocking(True)
        if stale:
            conn.sendall(b"S")                     # the client runs the command itself
            return
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _worker(conn, zygote)                      # never returns
    except BaseException:                         # noqa: BLE001 - a spare must never return
        code = 1
    finally:
        if zygote is not None:
            zygote.close()
        os._exit(code)


def _start_zygote():
    """A zygote for the next launch, in a spare cgroup under this server's
    configuration (runtime/container/zygote.py); None where there is no use for
    one (cgroup v2) or it cannot be made. A command run with another cgroup root
    or parent cannot use it, and makes its cgroup the ordinary way."""
    try:
        from ..core import Runtime
        from ..container.zygote import Zygote
        rt = Runtime()
        return Zygote.start(rt.syscalls, rt.cgroups)
    except Exception:                              # noqa: BLE001 - only a speed-up
        return None


def _prefault(listener, chunk: int = 256) -> None:
    """Take now, while no client waits, the copy-on-write faults a command would take.

    A spare shares every page with the server. The first write to each one (and
    CPython writes to an object each time it touches its refcount) costs a page
    fault and a copy, about 3.5 us here, and a launch touches ~1,000 such pages in
    the worker: that is milliseconds on the command's path. So the spare writes
    each resident page of its private writable mappings once (the same byte back),
    stopping as soon as a client connects. Pages never touched stay unallocated
    (mincore), so the spare's memory grows only by what the server really uses.
    """
    import ctypes
    import select
    libc = ctypes.CDLL(None, use_errno=True)
    page = os.sysconf("SC_PAGE_SIZE")
    try:
        with open("/proc/self/maps") as f:
            maps = f.read().splitlines()
    except OSError:
        return
    done = 0
    for line in maps:
        fields = line.split()
        perms, name = fields[1], (fields[5] if len(fields) > 5 else "")
        if not perms.startswith("rw") or perms[3] != "p" or name.startswith("[") and name != "[heap]":
            continue                           # shared, read-only, the stack, vdso...
        if select.select([listener], [], [], 0)[0]:
            return                             # a client is here: serve it now
        start, end = (int(x, 16) for x in fields[0].split("-"))
        count = (end - start) // page
        resident = (ctypes.c_ubyte * count)()
        if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(end - start), resident) != 0:
            continue
        for i in range(count):
            if resident[i] & 1:
                byte = ctypes.c_ubyte.from_address(start + i * page)
                byte.value = byte.value
                done += 1
                if done % chunk == 0 and select.select([listener], [], [], 0)[0]:
                    return                     # a client is here: serve it now


def _prepare() -> None:
    """Do once what every command would otherwise do again after the fork."""
    from . import VERBS
    from ..linux import syscalls
    from .parser import command
    for verb in VERBS:
        try:
            command(verb)
        except ImportError:
            pass
    syscalls.load_libc()
    syscalls.load_libc(hold_gil=True)
    for name in ("mount", "umount2", "syscall", "unshare", "setns", "prctl", "capset", "sethostname"):
        getattr(syscalls.load_libc(), name)


def _same_user(conn) -> bool:
    import socket
    import struct
    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return uid == os.getuid()


def _watch_sources() -> int:
    """An inotify fd that becomes readable once any loaded runtime module changes.

    Nobody ever reads it: once an event is queued it stays readable, so the
    server and every spare see "stale" from then on, with one select() each.
    Watched: the directories of our loaded modules, for writes, renames over a
    file (editors' atomic saves), deletes and touches (mtime).
    """
    from ..linux import inotify
    watcher = inotify.Inotify()
    mask = (inotify.IN_CLOSE_WRITE | inotify.IN_MOVED_TO | inotify.IN_MOVED_FROM
            | inotify.IN_ATTRIB | inotify.IN_DELETE)
    dirs = {os.path.dirname(m.__file__) for name, m in list(sys.modules.items())
            if name.split(".")[0] == "runtime" and getattr(m, "__file__", None)}
    for d in sorted(dirs):
        watcher.add_watch(d, mask)
    return watcher.fd


class Served:
    """What a worker gives the command it runs (``args.served`` in the CLI).

    * ``zygote``: a runtime.container.zygote.Zygote forked while the spare waited,
      or None; an attached run is launched with it.
    * ``later``: work the command leaves for after the client has its exit code
      (deleting a --rm container's files), done in order, errors ignored.
    """
    __slots__ = ("zygote", "later")

    def __init__(self, zygote=None):
        self.zygote = zygote
        self.later = []


def _worker(conn, zygote=None) -> None:
    """Become the client's command: its fds, cwd, environment; run the CLI; report.

    Then, with the client answered, what the command left for later, and the
    zygote if the command did not use it (killed, its spare cgroup removed)."""
    import io
    import marshal
    import signal
    import socket
    served = Served(zygote)
    code = 125
    try:
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)   # as in any Python program
        header, fds, _, _ = socket.recv_fds(conn, _INT, 3)
        size = int.from_bytes(header, "big")
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                os._exit(1)
            data += chunk
        argv, env, cwd, umask = marshal.loads(data)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(cwd)
        os.umask(umask)
        os.environ.clear()
        os.environ.update(env)
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8", errors="replace")
        sys.stdout = _text_out(1)
        sys.stderr = _text_out(2)
        sys.argv = ["onggi", *argv]
        conn.sendall(b"P" + os.getpid().to_bytes(_INT, "big", signed=True))
        from . import run
        try:
            code = run(argv, served=served)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
    finally:
        try:
            conn.sendall(b"X" + int(code).to_bytes(_INT, "big", signed=True))
        except OSError:
            pass
        # Let go of the client's stdio first: whoever reads its output through a
        # pipe (a shell pipeline, subprocess.run) waits for every writer to close.
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for work in served.later:
            try:
                work()
            except Exception:              # noqa: BLE001 - the client has its answer
                pass
        if zygote is not None:
            zygote.close()
        os._exit(0)


def _text_out(fd: int):
    import io
    tty = os.isatty(fd)
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8", errors="replace",
                            line_buffering=tty, write_through=tty)


if __name__ == "__main__":
    os._exit(serve())
