"""Docker's sig-proxy: the signals a container's starter receives go to the container.

SIGTERM and SIGHUP always; SIGINT only without a tty (with one, Ctrl-C is a byte
the container's terminal turns into its own SIGINT). With a tty, SIGWINCH (the
window changed) goes to whoever copies the window size onto the container's pty:
a forked monitor; a monitor that is its own starter handles it itself (winch=False).

Installed *before* the container starts, so that no signal slips through in
between: one that arrives before the container's pid is known is held and
delivered as soon as it is.
"""
from __future__ import annotations

import os
import signal


class SignalProxy:
    def __init__(self, *, tty: bool, winch: bool = True):
        self.tty = tty
        self.winch = winch
        self.pid = 0
        self.monitor_pid = 0
        self._pending: list[int] = []
        self._saved: dict = {}

    def __enter__(self):
        wanted = [signal.SIGTERM, signal.SIGHUP]
        wanted += ([signal.SIGWINCH] if self.winch else []) if self.tty else [signal.SIGINT]
        for sig in wanted:
            self._saved[sig] = signal.signal(sig, self._on_signal)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._saved.items():
            signal.signal(sig, handler)

    def started(self, pid: int, monitor_pid: int = 0) -> None:
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
