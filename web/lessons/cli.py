"""Running ``onggi exec`` for a lesson: the real CLI in a child process, its output captured.

Why a process and not ``Container.exec`` in the server: an exec forks, joins
the container's namespaces and forks again, and a fork of a threaded server
may inherit locks other threads hold. The browser terminal runs the CLI for
the same reason. The child gets its own session, so a command that never
ends (a fork loop) is stopped by killing its group after ``timeout``; what it
started inside the container stays there (the container owns it), and does not keep
the action waiting after the CLI itself has ended.
"""
from __future__ import annotations

import codecs
import os
import select
import signal
import subprocess
import time
from dataclasses import dataclass

MAX_OUTPUT = 64 * 1024


@dataclass
class Ran:
    code: int | None          # None: still running when we stopped waiting
    output: str               # stdout and stderr as they interleaved (at most MAX_OUTPUT)
    timed_out: bool = False


def run_cli(cli: str, args: list[str], env: dict, *, timeout: float = 20.0,
            on_output=None) -> Ran:
    """Run ``CLI ARGS`` with ENV; call ON_OUTPUT(text) as output arrives."""
    env = dict(env, ONGGI_NO_WARM="1")
    env.pop("ONGGI_DEBUG", None)
    proc = subprocess.Popen([cli, *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    chunks: list[bytes] = []
    size = 0
    deadline = time.monotonic() + timeout
    timed_out = False
    fd = proc.stdout.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.25))
            if not ready:
                # The CLI is done even when what it started still holds the pipe open
                # (a fork loop's background sleeps inherit the exec's stdout): nothing
                # more of its own will come, so stop reading rather than wait for them.
                # (What it wrote just before it ended is read first.)
                if proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
                    break
                continue
            data = os.read(fd, 65536)
            if not data:
                break
            if size < MAX_OUTPUT:
                data = data[:MAX_OUTPUT - size]
                chunks.append(data)
                size += len(data)
                if on_output is not None:
                    on_output(decoder.decode(data))
    finally:
        if timed_out:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.stdout.close()
        code = proc.wait()
    return Ran(None if timed_out else code, b"".join(chunks).decode("utf-8", "replace"), timed_out)
