"""The terminal side of the CLI: raw mode for -t, signal proxying, and the --step prompts."""
from __future__ import annotations

import os
import signal
import sys
from contextlib import contextmanager

from ..container.stdio import raw_mode  # noqa: F401 - re-exported for the CLI


class SignalProxy:
    """Docker's sig-proxy: SIGINT/SIGTERM/SIGHUP go to the container, SIGWINCH to the monitor.

    Installed *before* the container starts, so that no signal slips through in
    between: one that arrives before the container's pid is known is held and
    delivered as soon as it is.
    """

    def __init__(self, *, tty: bool):
        self.tty = tty
        self.pid = 0
        self.monitor_pid = 0
        self._pending: list[int] = []
        self._saved: dict = {}

    def __enter__(self):
        wanted = [signal.SIGTERM, signal.SIGHUP] + ([signal.SIGWINCH] if self.tty else [signal.SIGINT])
        for sig in wanted:
            self._saved[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)

    def started(self, pid: int, monitor_pid: int) -> None:
        self.pid, self.monitor_pid = pid, monitor_pid
        pending, self._pending = self._pending, []
        for sig in pending:
            self._deliver(sig)

    def _on_signal(self, signum, _frame):
        if self.pid:
            self._deliver(signum)
        else:
            self._pending.append(signum)

    def _deliver(self, signum: int) -> None:
        target = self.monitor_pid if signum == signal.SIGWINCH else self.pid
        try:
            os.kill(target, signum)
        except ProcessLookupError:
            pass


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
