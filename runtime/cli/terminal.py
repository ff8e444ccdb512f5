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
    """`onggi run --step`: explain each launch step, wait for Enter, then show what the kernel says.

    The answers come from the user's terminal: the one on fd 0, 2 or 1 (so
    ``echo data | onggi run --step -i ...`` still asks at the terminal while the
    pipe feeds the container). Not /dev/tty: a warm server's worker has no
    controlling terminal, and the same command must behave the same with or
    without the warm server. With no terminal at all nobody can answer: every
    step is explained and run without pausing, and it says so.

    At a pause, q, Ctrl-C and end of input (Ctrl-D, or the terminal went away)
    cancel the launch: the monitor removes everything made so far.
    """

    def __init__(self, lang: str | None = None):
        self.lang = lang or language()
        self.tty = _terminal()
        self._told_no_tty = False

    def _say(self, text: str) -> None:
        if self.tty is not None:
            self.tty.write(text.encode())
        else:
            sys.stderr.write(_plain(text))
            sys.stderr.flush()

    def gate(self, step, index: int) -> bool:
        from ..container.steps import STEPS
        ko = self.lang == "ko"
        self._say(f"\n\033[1m[{index + 1}/{len(STEPS)}] {step.name}\033[0m  {step.syscalls}\n"
                  f"  {step.text(self.lang)}\n")
        if self.tty is None:
            if not self._told_no_tty:
                self._told_no_tty = True
                self._say("  (터미널이 없어 멈추지 않고 모든 단계를 실행합니다)\n" if ko else
                          "  (no terminal to answer at: every step runs without pausing)\n")
            return True        # nobody to ask: run straight through
        answer = self._ask("  Enter: 실행 / q, Ctrl-C: 취소 > " if ko else "  Enter: run it / q or Ctrl-C: cancel > ")
        if answer is None:     # Ctrl-C, Ctrl-D, or the terminal is gone: nobody says go
            self._say("\n")
            return False
        return not answer.strip().lower().startswith("q")

    def _ask(self, prompt: str) -> str | None:
        """The prompt, then one line from the terminal; None for Ctrl-C or end of input.

        While we wait, Ctrl-C interrupts the read (it is ours, not the
        container's: a signal proxy would otherwise hold it for the container
        and deliver it once the launch is done)."""
        import signal
        try:
            old = signal.signal(signal.SIGINT, signal.default_int_handler)
        except ValueError:                  # not the main thread: leave signals alone
            old = None
        try:
            self._say(prompt)
            line = self.tty.readline()
        except (KeyboardInterrupt, OSError):
            return None
        finally:
            if old is not None:
                signal.signal(signal.SIGINT, old)
        return line.decode(errors="replace") if line else None

    def report(self, step, index: int, report: dict) -> None:
        for line in summarize(step.name, report, self.lang):
            self._say(f"  \033[32m✓\033[0m {line}\n")


def _terminal():
    """The user's terminal, opened for reading answers and writing prompts; or None.

    (unbuffered: a tty cannot seek, which Python's "r+" text mode insists on)"""
    for fd in (0, 2, 1):
        try:
            if os.isatty(fd):
                return open(os.ttyname(fd), "r+b", buffering=0)
        except OSError:
            continue
    return None


def _plain(text: str) -> str:
    """text without its terminal colours (for a pipe or a file)."""
    import re
    return re.sub(r"\033\[[0-9;]*m", "", text)


# The cgroup files that hold limits, as each cgroup version names them.
LIMIT_FILES = ("memory.max", "memory.limit_in_bytes", "cpu.max", "cpu.cfs_quota_us", "pids.max")
_NO_LIMIT = {"max", "-1", "9223372036854771712", "9223372036854775807"}


def _limit(name: str, files: dict, lang: str) -> str:
    """One limit file's value as written, and what it means (64 MiB, 0.5 CPU)."""
    ko = lang == "ko"
    value = files[name].strip()
    if value in _NO_LIMIT or value.startswith("max "):
        return "max (제한 없음)" if ko else "max (no limit)"
    try:
        if name.startswith("memory."):
            return f"{value} ({_mib(int(value))})"
        if name == "cpu.max":                        # "QUOTA PERIOD" (v2)
            quota, period = (int(x) for x in value.split())
            return f'"{value}" ({_cpus(quota, period, ko)})'
        if name == "cpu.cfs_quota_us":               # v1: the period is a file of its own
            period = int(files.get("cpu.cfs_period_us", "100000"))
            return f"{value} / cpu.cfs_period_us {period} ({_cpus(int(value), period, ko)})"
    except ValueError:
        pass
    return value


def _mib(n: int) -> str:
    return f"{n / 1048576:g} MiB" if n % 1024 == 0 else f"{n} bytes"


def _cpus(quota: int, period: int, ko: bool) -> str:
    n = f"{quota / period:g}"
    return f"CPU {n}개 분량" if ko else f"{n} CPU"


def _interface(item) -> str:
    if isinstance(item, dict):
        addrs = " ".join(item.get("addresses") or [])
        return f"{item.get('name')} {addrs}".strip()
    return str(item)


def _flag_names(flags) -> str:
    from ..linux import syscalls as sc
    names = [n for n in ("CLONE_NEWPID", "CLONE_NEWNS", "CLONE_NEWUTS", "CLONE_NEWIPC", "CLONE_NEWNET")
             if flags & getattr(sc, n)]
    return "|".join(names)


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
        return _summarize_cgroup(r, ko, lang)
    if step == "namespaces":
        return _summarize_namespaces(r, ko)
    if step == "network":
        return _summarize_network(r, ko)
    if step == "mounts":
        return _summarize_mounts(r, ko)
    if step == "exec":
        args = " ".join(r.get("args", []))
        lines = [f"이제 컨테이너 안 PID 1은 {args} (호스트에서는 PID {r.get('pid')})" if ko else
                 f"PID 1 inside is now: {args} (PID {r.get('pid')} on the host)"]
        if r.get("hostname"):
            lines.append(f"호스트 이름: {r['hostname']}" if ko else f"hostname: {r['hostname']}")
        if "cap_effective" in r:
            nnp = r["no_new_privs"]
            lines.append(f"남긴 capability {len(r['cap_effective'])}개, no_new_privs: {'켜짐' if nnp else '꺼짐'}"
                         if ko else
                         f"capabilities kept: {len(r['cap_effective'])}, no_new_privs: {'on' if nnp else 'off'}")
        return lines
    return []


def _summarize_cgroup(r: dict, ko: bool, lang: str) -> list[str]:
    files = r.get("files", {})
    dirs = list(dict.fromkeys((r.get("dirs") or {}).values()))
    if len(dirs) > 1:               # v1: one directory per controller
        import os.path
        base = os.path.commonpath(dirs)
        tails = [os.path.relpath(d, base).split(os.sep)[0] for d in dirs]
        rest = os.path.relpath(dirs[0], os.path.join(base, tails[0]))
        where = f"{base}/{{{','.join(tails)}}}/{rest}"
    else:
        where = dirs[0] if dirs else r.get("path")
    lines = [f"cgroup ({r.get('version')}): {where}"]
    if r.get("made_by"):
        lines.append("만든 방법: 미리 만들어 둔 빈 cgroup의 이름 바꾸기" if ko else
                     f"made by: {r['made_by']}")
    lines += [f"{k} = {_limit(k, files, lang)}" for k in LIMIT_FILES if k in files]
    return lines


def _summarize_namespaces(r: dict, ko: bool) -> list[str]:
    lines = [f"호스트에서 본 컨테이너의 PID: {r['pid']}" if ko else f"container PID on the host: {r['pid']}"]
    if r.get("flags"):
        lines.append(f"clone 플래그: {_flag_names(r['flags'])}" if ko else f"clone flags: {_flag_names(r['flags'])}")
    for kind, v in sorted(r.get("namespaces", {}).items()):
        mark = ("새로 만듦" if ko else "new") if v["isolated"] else ("호스트와 공유" if ko else "shared")
        lines.append(f"{kind:<6} {v['container']} ({'호스트' if ko else 'host'} {v['host']}) {mark}")
    how = r.get("joined_cgroup_by")
    if how:
        if how == "cgroup.procs":
            lines.append("cgroup에 들어간 방법: 만든 뒤 cgroup.procs에 PID를 적어 옮김" if ko else
                         "joined its cgroup by: its PID written to cgroup.procs after the clone")
        else:
            lines.append(f"cgroup에 들어간 방법: {how}" if ko else f"joined its cgroup by: {how}")
    return lines


def _summarize_network(r: dict, ko: bool) -> list[str]:
    mode = r.get("mode")
    names = ", ".join(_interface(i) for i in r.get("interfaces") or [])
    lines = [f"네트워크 {mode}: 컨테이너 안 인터페이스 {names}" if ko else
             f"network {mode}: interfaces inside: {names}"]
    host_veth, inner = r.get("host_veth") or {}, r.get("container_veth") or {}
    if host_veth.get("name") and r.get("bridge"):
        addr = " ".join(inner.get("addresses") or []) or r.get("address") or ""
        lines.append(f"veth 쌍: 호스트 쪽 {host_veth['name']} (브리지 {r['bridge']}에 연결) "
                     f"<-> 컨테이너 쪽 {inner.get('name', 'eth0')} {addr}".rstrip() if ko else
                     f"veth pair: {host_veth['name']} on the host (plugged into bridge {r['bridge']}) "
                     f"<-> {inner.get('name', 'eth0')} {addr} inside".rstrip())
    if r.get("gateway"):
        lines.append(f"기본 경로: {r['gateway']} (브리지)로" if ko else
                     f"default route: via {r['gateway']} (the bridge)")
    if mode == "none":
        lines.append("루프백(lo)만 있습니다: 밖으로 나갈 길이 없습니다" if ko else
                     "only loopback: no way out of the container")
    elif mode == "host":
        lines.append("호스트의 네트워크 네임스페이스를 그대로 씁니다" if ko else
                     "the host's own network namespace, shared")
    return lines


def _summarize_mounts(r: dict, ko: bool) -> list[str]:
    mounts = r.get("mounts", [])
    root = (r.get("root") or {}).get("fstype")
    fresh, files, masked, ro = [], [], [], []
    for m in mounts:
        point, fstype = m.get("mountpoint", ""), m.get("fstype", "")
        inside_kernel_fs = point.startswith(("/proc/", "/sys/"))
        if point == "/":
            continue
        if inside_kernel_fs and fstype == "tmpfs":
            masked.append(point)                 # covered by an empty tmpfs or /dev/null
        elif inside_kernel_fs:
            ro.append(point)                     # re-bound read-only
        elif point.startswith("/etc/"):
            files.append(point)
        else:
            opts = m.get("options", "").split(",")
            fresh.append(f"{point} {fstype}" + (" (ro)" if "ro" in opts else ""))
    lines = [f"마운트 {len(mounts)}개, 이제 / 는 {root} (pivot_root 완료, 호스트의 / 는 떼어 냄)" if ko else
             f"{len(mounts)} mounts; / is now {root} (pivot_root done, the host's / detached)"]
    if fresh:
        lines.append(("새로 마운트: " if ko else "mounted: ") + ", ".join(fresh))
    if files:
        lines.append(("컨테이너 파일 바인드: " if ko else "bound in: ") + ", ".join(files))
    if masked:
        lines.append(("가린 경로: " if ko else "hidden: ") + ", ".join(masked))
    if ro:
        lines.append(("읽기 전용: " if ko else "read-only: ") + ", ".join(ro))
    return lines
