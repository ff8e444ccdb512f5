"""Published ports of simulated containers, answering a real browser on 127.0.0.1.

With the real runtime, ``-p 8080:80`` is one nftables DNAT rule and no process
listens on 8080. A simulated container has no address the kernel could route
to, so here a small listener in this process stands in for the rule, the way
``docker-proxy`` does for Docker in the cases the rule cannot serve: it accepts
on 127.0.0.1:8080 and answers each HTTP request with what the container's
simulated web server sends (:mod:`runtime.sim.httpd`). That keeps a lesson's
"open it in your own browser" step working in simulated mode.

It binds 127.0.0.1 only, whatever address the port was published on: a
simulation never reaches other machines. :meth:`Ports.sync` opens a listener
for every port the world publishes and closes the ones it no longer does; each
listener also checks the world between connections, so one closes within
:data:`POLL` seconds of its container ending even if nobody calls ``sync``.
"""
from __future__ import annotations

import errno
import socket
import threading

from . import httpd

POLL = 0.25                         # seconds between a listener's looks at the world
REQUEST_TIMEOUT = 5.0               # a client that sends no request in this time is dropped


def published(world: dict) -> dict[int, tuple[str, int]]:
    """Host port -> (container id, container port) for every running container's TCP ports."""
    out = {}
    for c in world["containers"].values():
        if c["state"]["status"] != "running":
            continue
        for ep in c.get("net", {}).get("endpoints", []):
            for _host_ip, host_port, port, proto in ep.get("ports", []):
                if proto == "tcp":
                    out[int(host_port)] = (c["id"], int(port))
    return out


def port_free(port: int) -> bool:
    """Whether 127.0.0.1:PORT can be bound now (False: another program holds it)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as exc:
            return exc.errno != errno.EADDRINUSE
    return True


class Ports:
    """The listeners of one simulated runtime (see the module docstring)."""

    def __init__(self, rt):
        self.rt = rt
        self._listeners: dict[int, _Listener] = {}
        self._lock = threading.Lock()

    def sync(self, world: dict) -> None:
        """Listen on every published port of WORLD; stop listening on the others."""
        wanted = published(world)
        with self._lock:
            for port, listener in list(self._listeners.items()):
                if wanted.get(port) != listener.target or not listener.alive():
                    listener.close()
                    del self._listeners[port]
            for port, target in wanted.items():
                if port not in self._listeners:
                    listener = _Listener.open(self.rt, port, target)
                    if listener is not None:      # taken meanwhile, or a privileged port: unanswered
                        self._listeners[port] = listener

    def close(self) -> None:
        with self._lock:
            for listener in self._listeners.values():
                listener.close()
            self._listeners.clear()


class _Listener:
    """One port: an accept loop in a daemon thread, one request per connection."""

    def __init__(self, rt, sock: socket.socket, target: tuple[str, int]):
        self.rt, self.sock, self.target = rt, sock, target
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"sim-port-{sock.getsockname()[1]}",
                                        daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, rt, port: int, target: tuple[str, int]) -> "_Listener | None":
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(16)
        except OSError:
            sock.close()
            return None
        sock.settimeout(POLL)
        return cls(rt, sock, target)

    def alive(self) -> bool:
        return not self._stop.is_set()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2 * POLL)

    def _wanted(self) -> dict | None:
        """The world, while this port still leads to its container; else None. (It reads the
        world without ``snapshot``, whose ``sync`` may be closing this very listener.)"""
        world = self.rt.world.read()
        if published(world).get(self.sock.getsockname()[1]) != self.target:
            return None
        return world

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                if self._wanted() is None:
                    break
                continue
            except OSError:
                break
            with conn:
                if not self._answer(conn):
                    break
        self._stop.set()
        self.sock.close()

    def _answer(self, conn: socket.socket) -> bool:
        """Answer one request on CONN; False when the port no longer leads anywhere."""
        world = self._wanted()
        if world is None:
            return False                        # gone: the connection just closes
        conn.settimeout(REQUEST_TIMEOUT)
        try:
            request = b""
            while b"\r\n\r\n" not in request and b"\n\n" not in request and len(request) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                request += chunk
            line = request.split(b"\n", 1)[0].decode("latin-1").split()
            path = line[1] if len(line) > 1 else "/"
            cid, cport = self.target
            c = world["containers"].get(cid)
            status, body = httpd.answer(self.rt, world, c, cport, path) if c else (0, "")
            if status == 0:
                return True                     # nothing listens inside: closed, as a RST would
            data = body.encode()
            reason = {200: "OK", 403: "Forbidden", 404: "Not Found"}.get(status, "")
            conn.sendall(f"HTTP/1.1 {status} {reason}\r\nContent-Type: {httpd.content_type(path)}\r\n"
                         f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        except OSError:
            pass
        return True
