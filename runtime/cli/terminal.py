"""The terminal side of the CLI: raw mode for -t, signal proxying, and the --step prompts."""
from __future__ import annotations

import os
import sys

from ..container.sigproxy import SignalProxy  # noqa: F401 - re-exported for the CLI
from ..container.stdio import raw_mode  # noqa: F401 - re-exported for the CLI


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
        # (unbuffered: a tty cannot seek, which Python's "r+" text mode insists on)
        try:
            self.tty = open(os.ttyname(0) if os.isatty(0) else "/dev/tty", "r+b", buffering=0)
        except OSError:
            self.tty = None

    def _say(self, text: str) -> None:
        if self.tty is not None:
            self.tty.write(text.encode())
        else:
            sys.stderr.write(text)
            sys.stderr.flush()

    def gate(self, step, index: int) -> bool:
        from ..container.steps import STEPS
        self._say(f"\n\033[1m[{index + 1}/{len(STEPS)}] {step.name}\033[0m  {step.syscalls}\n"
                  f"  {step.text(self.lang)}\n")
        if self.tty is None:
            return True        # nobody to ask: run straight through
        prompt = "  Enter: 실행 / q: 취소 > " if self.lang == "ko" else "  Enter: run it / q: cancel > "
        self._say(prompt)
        answer = self.tty.readline().decode(errors="replace")
        return not answer.strip().lower().startswith("q")

    def report(self, step, index: int, report: dict) -> None:
        for line in summarize(step.name, report, self.lang):
            self._say(f"  \033[32m✓\033[0m {line}\n")


# The cgroup files that hold limits, as each cgroup version names them.
LIMIT_FILES = ("memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us", "pids.max")
_NO_LIMIT = {"max", "-1", "9223372036854771712", "9223372036854775807"}


def _limit(value: str, lang: str) -> str:
    value = value.strip()
    if value in _NO_LIMIT or value.startswith("max "):
        return "max (제한 없음)" if lang == "ko" else "max (no limit)"
    return value


def _interface(item) -> str:
    if isinstance(item, dict):
        addrs = " ".join(item.get("addresses") or [])
        return f"{item.get('name')} {addrs}".strip()
    return str(item)


def summarize(step: str, r: dict, lang: str = "en") -> list[str]:
    """A few lines a learner can read in a terminal, from a step's kernel report."""
    if not r:
        return []
    ko = lang == "ko"
    if step == "rootfs":
        n = len(r.get("lowerdir") or [])
        return [(f"overlay 마운트: {r['mountpoint']}" if ko else f"overlay mounted at {r['mountpoint']}"),
                (f"lowerdir {n}개 (이미지 레이어 + init 레이어), upperdir: {r.get('upperdir')}" if ko else
                 f"lowerdir: {n} layer(s) (image + init layer), upperdir: {r.get('upperdir')}")]
    if step == "cgroup":
        files = r.get("files", {})
        limits = ", ".join(f"{k}={_limit(files[k], lang)}" for k in LIMIT_FILES if k in files)
        return [f"cgroup {r['path']} ({r['version']})", limits]
    if step == "namespaces":
        lines = [f"호스트에서 본 컨테이너의 PID: {r['pid']}" if ko else f"container PID on the host: {r['pid']}"]
        for kind, v in sorted(r.get("namespaces", {}).items()):
            mark = ("새로 만듦" if ko else "new") if v["isolated"] else ("호스트와 공유" if ko else "shared")
            lines.append(f"{kind:<6} {v['container']} ({'호스트' if ko else 'host'} {v['host']}) {mark}")
        return lines
    if step == "network":
        # none/host report interface names; a bridge network reports each interface
        # with its addresses
        names = ", ".join(_interface(i) for i in r.get("interfaces") or [])
        return [f"네트워크 {r.get('mode')}: 인터페이스 {names}" if ko else
                f"network {r.get('mode')}: interfaces {names}"]
    if step == "mounts":
        root = (r.get("root") or {}).get("fstype")
        return [f"마운트 {len(r.get('mounts', []))}개, / 는 {root}" if ko else
                f"{len(r.get('mounts', []))} mounts; / is {root}"]
    if step == "exec":
        args = " ".join(r.get("args", []))
        lines = [f"이제 PID 1은 {args} (호스트 PID {r.get('pid')})" if ko else
                 f"PID 1 is now: {args} (host PID {r.get('pid')})"]
        if "cap_effective" in r:
            lines.append(f"남긴 capability {len(r['cap_effective'])}개, no_new_privs: {r['no_new_privs']}" if ko else
                         f"capabilities kept: {len(r['cap_effective'])}, no_new_privs: {r['no_new_privs']}")
        return lines
    return []
