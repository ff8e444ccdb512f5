"""The terminal side of the CLI: raw mode for -t, signal proxying, and the --step prompts."""
from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

from ..container.stdio import raw_mode  # noqa: F401 - re-exported for the CLI


@contextmanager
def proxy_signals(container_pid: int, monitor_pid: int, *, tty: bool):
    """Docker's sig-proxy: our SIGINT/SIGTERM go to the container; SIGWINCH to the monitor."""
    def to_container(signum, _frame):
        try:
            os.kill(container_pid, signum)
        except ProcessLookupError:
            pass

    def to_monitor(signum, _frame):
        try:
            os.kill(monitor_pid, signum)
        except ProcessLookupError:
            pass

    saved = {}
    wanted = {signal.SIGTERM: to_container, signal.SIGHUP: to_container}
    if not tty:
        wanted[signal.SIGINT] = to_container
    else:
        wanted[signal.SIGWINCH] = to_monitor
    for sig, handler in wanted.items():
        saved[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def language() -> str:
    for var in ("ONGGI_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ko" if value.lower().startswith("ko") else "en"
    return "en"


class StepPrompter:
    """`onggi run --step`: explain each launch step, wait for Enter, then show what the kernel says."""

    def __init__(self, lang: str | None = None):
        self.lang = lang or language()
        # Our terminal: fd 0's when it is one (a warm-server worker has no
        # controlling terminal, so /dev/tty would fail there), else /dev/tty.
        try:
            self.tty = open(os.ttyname(0) if os.isatty(0) else "/dev/tty", "r+")
        except OSError:
            self.tty = None

    def _say(self, text: str) -> None:
        out = self.tty or sys.stderr
        out.write(text)
        out.flush()

    def gate(self, step, index: int) -> bool:
        from ..container.steps import STEPS
        self._say(f"\n\033[1m[{index + 1}/{len(STEPS)}] {step.name}\033[0m  {step.syscalls}\n"
                  f"  {step.text(self.lang)}\n")
        if self.tty is None:
            return True        # nobody to ask: run straight through
        prompt = "  Enter: 실행 / q: 취소 > " if self.lang == "ko" else "  Enter: run it / q: cancel > "
        self._say(prompt)
        answer = self.tty.readline()
        return not answer.strip().lower().startswith("q")

    def report(self, step, index: int, report: dict) -> None:
        for line in summarize(step.name, report):
            self._say(f"  \033[32m✓\033[0m {line}\n")


def summarize(step: str, r: dict) -> list[str]:
    """A few lines a learner can read in a terminal, from a step's kernel report."""
    if not r:
        return []
    if step == "rootfs":
        return [f"overlay mounted at {r['mountpoint']}",
                f"lowerdir: {len(r.get('lowerdir') or [])} layer(s), upperdir: {r.get('upperdir')}"]
    if step == "cgroup":
        files = ", ".join(f"{k}={v}" for k, v in sorted(r.get("files", {}).items()))
        return [f"cgroup {r['path']} ({r['version']})", files or "no limits"]
    if step == "namespaces":
        lines = [f"container PID on the host: {r['pid']}"]
        for kind, v in sorted(r.get("namespaces", {}).items()):
            mark = "new" if v["isolated"] else "shared"
            lines.append(f"{kind:<6} {v['container']} (host {v['host']}) {mark}")
        return lines
    if step == "network":
        return [f"network {r.get('mode')}: interfaces {', '.join(r.get('interfaces') or [])}"]
    if step == "mounts":
        root = r.get("root") or {}
        return [f"{len(r.get('mounts', []))} mounts; / is {root.get('fstype')}"]
    if step == "exec":
        lines = [f"PID 1 is now: {' '.join(r.get('args', []))} (host PID {r.get('pid')})"]
        if "cap_effective" in r:
            lines.append(f"capabilities kept: {len(r['cap_effective'])}, no_new_privs: {r['no_new_privs']}")
        return lines
    return []
