"""Simulated web servers: who listens where, and what they answer.

busybox ``httpd -p PORT -h HOME`` in a simulated container records a listener
``[port, home]`` in the container's record (``listens``; the first process's
come from its plan, an exec's at once), gone when the container exits. Then
two kinds of client can reach it:

* ``wget`` in another simulated container (:meth:`runtime.sim.machine.View.http_get`),
  when the simulated network lets the packets through;
* a real browser on this machine, through a published port
  (:mod:`runtime.sim.ports`).

Both get what busybox httpd would send: the file under HOME, ``index.html``
for a directory, 404 for what is not there.
"""
from __future__ import annotations

import posixpath

from .fs import DIR, FILE, norm

DEFAULT_PORT = 80


def parse_args(args: list[str], cwd: str) -> tuple[int, str, bool]:
    """(port, home, foreground) from busybox httpd's arguments (``-p [IP:]PORT -h HOME -f``)."""
    port, home, foreground = DEFAULT_PORT, cwd, False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-f":
            foreground = True
        elif a in ("-p", "-h") and i + 1 < len(args):
            i += 1
            if a == "-p":
                port = int(args[i].rpartition(":")[2]) if args[i].rpartition(":")[2].isdigit() else DEFAULT_PORT
            else:
                home = norm(args[i], cwd)
        i += 1
    return port, home, foreground


def listener(c: dict, port: int) -> str | None:
    """The HOME of the server listening on PORT in container record C (None: nobody listens)."""
    if c.get("state", {}).get("status") != "running":
        return None
    return next((home for p, home in c.get("listens", []) if p == port), None)


def answer(rt, world: dict, c: dict, port: int, path: str) -> tuple[int, str]:
    """(HTTP status, body) that C's server on PORT sends for PATH; status 0: nothing listens."""
    home = listener(c, port)
    if home is None:
        return 0, ""
    fs = rt.truth.container_fs(c, world)
    target = norm(posixpath.join(home, path.split("?", 1)[0].lstrip("/")) or home)
    if not (target == home or target.startswith(home.rstrip("/") + "/")):
        return 403, "<HTML><HEAD><TITLE>403 Forbidden</TITLE></HEAD>\n<BODY><H1>403 Forbidden</H1>\n</BODY></HTML>\n"
    entry = fs.lookup(target)
    if entry is not None and entry.get("k") == DIR:
        target = posixpath.join(target, "index.html")
        entry = fs.lookup(target)
    if entry is None or entry.get("k") != FILE:
        return 404, ("<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n"
                     "<BODY><H1>404 Not Found</H1>\nThe requested URL was not found\n</BODY></HTML>\n")
    return 200, fs.read(target) or ""


def content_type(path: str) -> str:
    """busybox httpd's type for PATH's extension (the few a lesson serves)."""
    ext = posixpath.splitext(path.split("?", 1)[0])[1].lower()
    return {".html": "text/html", ".htm": "text/html", ".txt": "text/plain", ".css": "text/css",
            ".js": "application/javascript", ".json": "application/json"}.get(
        ext, "text/html" if not ext else "application/octet-stream")
