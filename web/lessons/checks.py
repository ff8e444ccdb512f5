"""Goal checks: did the learner get there? Read from the kernel and onggi's state, never
from what the page believes.

Each check is a function ``(ctx, params) -> Outcome`` registered under the name a
lesson uses (``container_running``...), with the :class:`~.params.Signature` the
loader validates lessons against. A check accepts every correct way to get
there (a container made in a terminal counts as much as one the button made)
and, when it fails, says what it saw and what is missing, in Korean and
English. Checks that read events count only those since the learner started
or reset the lesson (``ctx.since``).

State goes through the Runtime's public interface (``rt.container(name).state``,
``.inspect()``, ``rt.cgroups.get(id).limits()/.stats()``, ``rt.images.resolve``,
``rt.networks``), so the simulated runtime answers too; namespace inodes come
from ``runtime.inspect`` (or the simulated runtime's ``rt.truth``).
"""
from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from typing import Callable

from runtime.errors import ImageNotFound, NetworkNotFound, OnggiError

from . import answers
from . import params as P
from .context import starts_with
from .params import Signature

CHECKS: dict[str, tuple[Signature, Callable]] = {}
NET_TOOLS = ("ping", "wget", "nc", "curl", "telnet", "traceroute", "nslookup", "ssh")
_FAILED_NET = re.compile(r"bad address|can't connect|unreachable|100% packet loss|timed out|"
                         r"connection refused|no route|not found", re.I)
_NO_FORK = re.compile(r"can't fork|resource temporarily unavailable|fork: retry", re.I)


def say(ko: str, en: str) -> dict:
    return {"ko": ko, "en": en}


@dataclass
class Outcome:
    passed: bool
    seen: dict                     # {"ko", "en"}: what the check read
    missing: dict | None = None    # {"ko", "en"}: what is still to do (failed only)

    def to_dict(self) -> dict:
        return {"passed": self.passed, "seen": self.seen, "missing": self.missing}


def ok(ko: str, en: str) -> Outcome:
    return Outcome(True, say(ko, en))


def no(seen: tuple[str, str], missing: tuple[str, str]) -> Outcome:
    return Outcome(False, say(*seen), say(*missing))


def check(kind: str, required=(), optional=(), validators=None):
    def register(fn):
        CHECKS[kind] = (Signature(tuple(required), tuple(optional), validators=validators or {}), fn)
        return fn
    return register


def run(ctx, kind: str, params: dict) -> Outcome:
    """Run one check; a failure to read is a failed check that says why, never a crash."""
    try:
        return CHECKS[kind][1](ctx, params)
    except OnggiError as exc:
        return no((f"확인하지 못했습니다: {exc}", f"could not check: {exc}"),
                  (exc.hint or "다시 해 보세요", exc.hint or "try again"))
    except OSError as exc:
        text = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
        return no((f"읽지 못했습니다: {text}", f"could not read: {text}"),
                  ("잠시 뒤 다시 확인합니다", "it is checked again in a moment"))


def run_all(ctx, checks) -> list[dict]:
    """Every check of a step: [{"kind", "params", "passed", "seen", "missing"}]."""
    return [{"kind": c.kind, "params": c.params} | run(ctx, c.kind, c.params).to_dict() for c in checks]


# -- helpers -----------------------------------------------------------------------------------

def human(n) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" or value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def _bytes(text) -> int:
    from runtime.cgroups import units
    return units.parse_bytes(str(text))


def _familiar(ref: str) -> str:
    from runtime.image import reference
    try:
        return reference.parse(ref).familiar
    except OnggiError:
        return ref


def _i_ga(word) -> str:
    """WORD with the Korean subject particle its last sound takes (hist-jail이, 20이, 0.5가,
    64 MiB가): 이 after a final consonant, 가 after a vowel, 이(가) when a Latin word's
    reading is unknown, as Korean software writes it."""
    word = str(word)
    last = word.rstrip()[-1:] or " "
    if "가" <= last <= "힣":
        return word + ("이" if (ord(last) - 0xAC00) % 28 else "가")
    if last.isdigit():                  # 영 일 이 삼 사 오 육 칠 팔 구
        return word + ("이" if last in "013678" else "가")
    if word.endswith("iB"):             # 키비바이트, 메비바이트...
        return word + "가"
    return word + "이(가)"


def _absent(name: str) -> Outcome:
    return no((f"{name}(이)라는 컨테이너가 없습니다", f"there is no container named {name}"),
              (f"{name} 컨테이너를 먼저 만드세요", f"make the container {name} first"))


def _status_ko(status: str) -> str:
    return {"running": "실행 중", "exited": "종료됨", "created": "만들어짐(시작 전)",
            "removing": "삭제 중"}.get(status, status)


def _networks_of(rt, c) -> list[str]:
    try:
        return list(rt.networks.networks_of(c.record))
    except (AttributeError, OSError):
        return [c.spec.network]


# -- containers ------------------------------------------------------------------------------------

@check("container_running", ("name",),
       ("image", "memory", "cpus", "pids_limit", "network", "hostname", "env", "user", "workdir"),
       {"memory": P.size, "cpus": P.number, "pids_limit": P.whole, "image": P.text,
        "network": P.text, "hostname": P.text, "env": P.env, "user": P.text, "workdir": P.text})
def container_running(ctx, p) -> Outcome:
    name = p["name"]
    c = ctx.container(name)
    if c is None:
        return no((f"{name}(이)라는 컨테이너가 없습니다", f"there is no container named {name}"),
                  (f"{name} 컨테이너를 실행하세요", f"run a container named {name}"))
    state = c.state
    status = state.status.value
    if status != "running":
        code = f" (exit {state.exit_code})" if state.exit_code is not None and status == "exited" else ""
        return no((f"{name} 컨테이너가 있지만 {_status_ko(status)} 상태입니다{code}",
                   f"a container named {name} exists, but it is {status}{code}"),
                  (f"{name}이(가) 실행 중이어야 합니다", f"{name} should be running"))
    rt = ctx.rt
    bad_ko, bad_en, good_ko, good_en = [], [], [], []
    if p.get("image") is not None:
        want = _familiar(str(p["image"]))
        have = _familiar(c.record.image)
        same = want == have
        if not same:
            try:
                same = rt.images.resolve(str(p["image"])).id == c.record.image_id
            except ImageNotFound:
                same = False
        if same:
            good_ko.append(f"이미지 {want}")
            good_en.append(f"image {want}")
        else:
            bad_ko.append(f"이미지가 {_i_ga(want)} 아니라 {have}입니다")
            bad_en.append(f"its image is {have}, not {want}")
    wants_limits = any(p.get(k) is not None for k in ("memory", "cpus", "pids_limit"))
    limits = rt.cgroups.get(c.id).limits() if wants_limits else None
    if p.get("memory") is not None:
        want, have = _bytes(p["memory"]), limits.memory
        if have is not None and abs(have - want) < 4096:
            good_ko.append(f"메모리 한도 {human(have)}")
            good_en.append(f"a {human(have)} memory limit")
        else:
            shown_ko = human(have) if have else "없음"
            shown_en = human(have) if have else "none"
            bad_ko.append(f"메모리 한도가 {_i_ga(human(want))} 아니라 {shown_ko}입니다")
            bad_en.append(f"its memory limit is {shown_en}, not {human(want)}")
    if p.get("cpus") is not None:
        want = float(p["cpus"])
        have = limits.cpu_quota / limits.cpu_period if limits.cpu_quota else None
        if have is not None and abs(have - want) < 0.005:
            good_ko.append(f"CPU 한도 {have:g}")
            good_en.append(f"a CPU limit of {have:g}")
        else:
            shown = f"{have:g}" if have is not None else None
            bad_ko.append(f"CPU 한도가 {_i_ga(f'{want:g}')} 아니라 {shown or '없음'}입니다")
            bad_en.append(f"its CPU limit is {shown or 'none'}, not {want:g}")
    if p.get("pids_limit") is not None:
        want, have = int(p["pids_limit"]), limits.pids
        if have == want:
            good_ko.append(f"프로세스 한도 {have}")
            good_en.append(f"a pids limit of {have}")
        else:
            bad_ko.append(f"프로세스 한도가 {_i_ga(want)} 아니라 {have or '없음'}입니다")
            bad_en.append(f"its pids limit is {have or 'none'}, not {want}")
    if p.get("network") is not None:
        want = str(p["network"])
        nets = _networks_of(rt, c)
        if want in nets:
            good_ko.append(f"네트워크 {want}")
            good_en.append(f"on network {want}")
        else:
            bad_ko.append(f"{want} 네트워크가 아니라 {', '.join(nets)}에 연결되어 있습니다")
            bad_en.append(f"it is on {', '.join(nets)}, not on {want}")
    _config_matches(c, p, good_ko, good_en, bad_ko, bad_en)
    if bad_en:
        return no((f"{name} 컨테이너는 실행 중이지만 " + ", ".join(bad_ko),
                   f"a container named {name} runs, but " + ", ".join(bad_en)),
                  (f"원하는 설정으로 {name}을(를) 다시 만드세요 (onggi rm -f {name} 후 다시 실행)",
                   f"make {name} again with the settings asked for (onggi rm -f {name}, then run it again)"))
    extra_ko = f" ({', '.join(good_ko)})" if good_ko else ""
    extra_en = f" with {', '.join(good_en)}" if good_en else ""
    return ok(f"{name} 컨테이너가 실행 중입니다{extra_ko}", f"a container named {name} runs{extra_en}")


def _config_matches(c, p, good_ko, good_en, bad_ko, bad_en) -> None:
    """hostname, env, user and workdir of container_running: what its first process was
    started with (inspect's Config, as `onggi inspect -f '{{.Config.Env}}'` shows it)."""
    if all(p.get(k) is None for k in ("hostname", "env", "user", "workdir")):
        return
    config = c.inspect()["Config"]
    if p.get("env") is not None:
        have = {e.partition("=")[0]: e.partition("=")[2] for e in config.get("Env") or []}
        for item in [p["env"]] if isinstance(p["env"], str) else p["env"]:
            key, _, want = item.partition("=")
            if have.get(key) == want:
                good_ko.append(f"환경 변수 {key}={want}")
                good_en.append(f"{key}={want} in its environment")
            elif key in have:
                bad_ko.append(f"환경 변수 {key}의 값이 {_i_ga(want)} 아니라 {have[key]}입니다")
                bad_en.append(f"its {key} is {have[key]}, not {want}")
            else:
                bad_ko.append(f"환경 변수 {_i_ga(key)} 설정되어 있지 않습니다 (-e {key}={want})")
                bad_en.append(f"it has no {key} in its environment (-e {key}={want})")
    # (parameter, Config key, what it is when unset, words, the flag that sets it)
    for key, field, unset, label_ko, label_en, flag in (
            ("hostname", "Hostname", "", "호스트 이름", "hostname", "--hostname"),
            ("user", "User", "root", "사용자", "user", "-u"),
            ("workdir", "WorkingDir", "/", "작업 디렉터리", "working directory", "-w")):
        if p.get(key) is None:
            continue
        want, have = str(p[key]), config.get(field) or unset
        if have == want:
            good_ko.append(f"{label_ko} {have}")
            good_en.append(f"{label_en} {have}")
        else:
            bad_ko.append(f"{_i_ga(label_ko)} {_i_ga(want)} 아니라 {have}입니다 ({flag} {want})")
            bad_en.append(f"its {label_en} is {have}, not {want} ({flag} {want})")


@check("container_exited", ("name",), ("exit_code", "oom_killed"),
       {"exit_code": P.whole, "oom_killed": P.flag})
def container_exited(ctx, p) -> Outcome:
    name = p["name"]
    c = ctx.container(name)
    if c is None:
        return _absent(name)
    state = c.state
    status = state.status.value
    if status != "exited":
        return no((f"{name} 컨테이너는 {_status_ko(status)} 상태입니다", f"{name} is {status}"),
                  (f"{name}이(가) 끝나기를 기다리세요", f"{name} should have exited"))
    code, oom = state.exit_code, bool(state.oom_killed)
    want_code, want_oom = p.get("exit_code"), p.get("oom_killed")
    if want_code is not None and code != want_code:
        return no((f"{name}이(가) 종료 코드 {code}(으)로 끝났습니다", f"{name} exited with code {code}"),
                  (f"종료 코드 {want_code}(으)로 끝나야 합니다", f"it should exit with code {want_code}"))
    if want_oom is not None and oom != want_oom:
        return no((f"{name}이(가) 끝났지만 OOM 강제 종료는 {'있었' if oom else '없었'}습니다",
                   f"{name} exited, but it was {'' if oom else 'not '}OOM-killed"),
                  ("OOM으로 끝나야 합니다" if want_oom else "OOM 없이 끝나야 합니다",
                   "it should be OOM-killed" if want_oom else "it should exit without an OOM kill"))
    oom_ko = ", OOM 강제 종료" if oom else ""
    oom_en = ", OOM-killed" if oom else ""
    return ok(f"{name}이(가) 종료 코드 {code}(으)로 끝났습니다{oom_ko}", f"{name} exited with code {code}{oom_en}")


@check("container_removed", ("name",))
def container_removed(ctx, p) -> Outcome:
    name = p["name"]
    c = ctx.container(name)
    if c is None:
        return ok(f"{name}(이)라는 컨테이너는 이제 없습니다", f"no container named {name} exists")
    status = c.state.status.value
    return no((f"{name} 컨테이너가 아직 있습니다 ({_status_ko(status)})", f"{name} still exists ({status})"),
              (f"{name}을(를) 지우세요 (실행 중이면 -f)", f"remove {name} (with -f while it runs)"))


# -- what the learner ran ------------------------------------------------------------------------------

@check("ran_in_container", ("name", "command"), ("output_differs_from_host",),
       {"command": P.text, "output_differs_from_host": P.flag})
def ran_in_container(ctx, p) -> Outcome:
    name, command = p["name"], str(p["command"])
    c = ctx.container(name)
    if c is None:
        return _absent(name)
    runs = ctx.ran_in(c)
    hits = [r for r in runs if starts_with(r.line, command)]
    if not hits:
        if runs:
            shown = ", ".join(f"`{r.line}`" for r in runs[-3:])
            seen = (f"{name} 안에서 실행한 명령: {shown}", f"ran in {name}: {shown}")
        else:
            seen = (f"{name} 안에서 아직 아무 명령도 실행하지 않았습니다", f"nothing has been run in {name} yet")
        return no(seen, (f"{name} 안에서 `{command}`을(를) 실행하세요", f"run `{command}` inside {name}"))
    if not p.get("output_differs_from_host"):
        return ok(f"{name} 안에서 `{hits[-1].line}`을(를) 실행했습니다", f"you ran `{hits[-1].line}` in {name}")
    last = hits[-1]
    if last.how == "terminal" and not last.output:
        return no((f"{name} 안에서 `{last.line}`을(를) 실행했습니다. 출력을 기다리는 중입니다",
                   f"you ran `{last.line}` in {name}; waiting for what it prints"),
                  ("출력이 나오면 다시 확인합니다", "it is checked again when the output comes"))
    inside = last.output if last.output is not None else ctx.container_output(c, command)
    host = ctx.host_output(command)
    if inside is None or host is None:
        return no((f"`{command}`을(를) 실행했지만 출력을 비교할 수 없습니다",
                   f"you ran `{command}`, but its output cannot be compared"),
                  ("버튼이나 브라우저 터미널에서 다시 실행해 보세요",
                   "run it again with the button or in the browser terminal"))
    a, b = _first_line(inside), _first_line(host)
    if inside.strip() == host.strip():
        return no((f"{name} 안에서도 호스트와 같은 `{a}`이(가) 나왔습니다",
                   f"{name} printed `{a}`, the same as the host"),
                  ("컨테이너 안에서 실행했는지 확인하세요", "make sure you ran it inside the container"))
    return ok(f"{name} 안에서는 `{a}`, 호스트에서는 `{b}`: 서로 다릅니다",
              f"{name} printed `{a}`, the host prints `{b}`: they differ")


def _first_line(text: str) -> str:
    line = next((x for x in text.strip().splitlines() if x.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."


# -- namespaces --------------------------------------------------------------------------------------

def _namespaces(ctx, p):
    c = ctx.container(p["name"])
    if c is None:
        return None, _absent(p["name"])
    state = c.state
    if state.status.value != "running" or not state.pid:
        return None, no((f"{c.name}이(가) 실행 중이 아니라 네임스페이스를 볼 수 없습니다",
                         f"{c.name} is not running, so it has no namespaces to look at"),
                        (f"{c.name}을(를) 실행하세요", f"run {c.name}"))
    kind = p["kind"]
    mine = answers.namespace_inodes(ctx.rt, state.pid).get(kind)
    host = answers.host_namespace_inodes(ctx.rt).get(kind)
    return (c, kind, mine, host), None


_KIND = {"kind": P.one_of("pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time")}


@check("namespace_isolated", ("name", "kind"), validators=_KIND)
def namespace_isolated(ctx, p) -> Outcome:
    found, failed = _namespaces(ctx, p)
    if failed:
        return failed
    c, kind, mine, host = found
    if mine is not None and mine != host:
        return ok(f"{c.name}의 {kind} 네임스페이스는 {mine}, 호스트는 {host}: 따로입니다",
                  f"{c.name}'s {kind} namespace is {mine}, the host's is {host}: separate")
    return no((f"{c.name}의 {kind} 네임스페이스가 호스트와 같은 {mine}입니다",
               f"{c.name}'s {kind} namespace is {mine}, the same as the host's"),
              (f"{kind} 네임스페이스를 따로 가진 컨테이너가 필요합니다",
               f"it needs a {kind} namespace of its own"))


@check("namespace_shared", ("name", "kind"), validators=_KIND)
def namespace_shared(ctx, p) -> Outcome:
    found, failed = _namespaces(ctx, p)
    if failed:
        return failed
    c, kind, mine, host = found
    if mine is not None and mine == host:
        return ok(f"{c.name}의 {kind} 네임스페이스는 호스트와 같은 {mine}입니다",
                  f"{c.name}'s {kind} namespace is {mine}, the host's own")
    return no((f"{c.name}의 {kind} 네임스페이스는 {mine}, 호스트는 {host}: 따로입니다",
               f"{c.name}'s {kind} namespace is {mine}, the host's is {host}"),
              (f"호스트의 {kind} 네임스페이스를 함께 쓰도록 만드세요 (예: --network host)",
               f"make it share the host's {kind} namespace (e.g. --network host)"))


# -- cgroups ---------------------------------------------------------------------------------------------

@check("cgroup_value", ("name", "file", "equals"),
       validators={"file": P.one_of(*answers.CGROUP_FILES), "equals": P.text})
def cgroup_value(ctx, p) -> Outcome:
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    name, want = p["file"], str(p["equals"])
    have = answers.cgroup_file(ctx.rt, c, name)
    if have is None:
        return no((f"{c.name}의 cgroup 파일 {name}을(를) 읽을 수 없습니다 (실행 중이 아니면 cgroup이 없습니다)",
                   f"{c.name}'s cgroup file {name} cannot be read (a container that is not running has none)"),
                  (f"{c.name}을(를) 실행하세요", f"run {c.name}"))
    if _same_value(have, want):
        return ok(f"{c.name}의 {name}: {have}", f"{c.name}'s {name} reads {have}")
    return no((f"{c.name}의 {name}은(는) {have}입니다", f"{c.name}'s {name} reads {have}"),
              (f"{name}이(가) {want}이어야 합니다", f"it should read {want}"))


def _same_value(have: str, want: str) -> bool:
    if answers.same(have, want):
        return True
    try:
        return str(_bytes(want)) == have.strip()
    except OnggiError:
        return False


def _cgroup(ctx, c):
    try:
        return ctx.rt.cgroups.get(c.id) if ctx.rt.cgroups.exists(c.id) else None
    except (OSError, LookupError):
        return None


@check("oom_killed", ("name",))
def oom_killed(ctx, p) -> Outcome:
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    kills = 0
    cg = _cgroup(ctx, c)
    if cg is not None:
        kills = cg.oom_kills()
    event = any(e.get("id") == c.id for e in ctx.events("container.oom"))
    if c.state.oom_killed or kills or event:
        return ok(f"커널이 {c.name}의 프로세스를 OOM으로 강제 종료했습니다",
                  f"the kernel OOM-killed a process of {c.name}")
    return no((f"{c.name}에서 OOM 강제 종료가 없었습니다", f"no OOM kill in {c.name}"),
              ("메모리 한도보다 많이 쓰게 해 보세요", "make it use more memory than its limit"))


@check("pids_limited", ("name",))
def pids_limited(ctx, p) -> Outcome:
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    events = answers.cgroup_file(ctx.rt, c, "pids.events") or ""
    hit = next((int(v) for k, v in (line.split() for line in events.splitlines() if len(line.split()) == 2)
                if k == "max" and v.isdigit()), 0)
    cg = _cgroup(ctx, c)
    stats = cg.stats() if cg is not None else None
    at_max = bool(stats and stats.pids_max and stats.pids_current is not None
                  and stats.pids_current >= stats.pids_max)
    truth = _truth(ctx)
    if truth is not None and not hit:
        hit = truth.pids_refused(c.id)
    refused = any(r.output and _NO_FORK.search(r.output) for r in ctx.ran_in(c))
    if not refused:
        refused = any(_NO_FORK.search(data.decode("utf-8", "replace"))
                      for _stream, data, _t in _log(c))
    if hit or at_max or refused:
        detail = f"pids.events max {hit}" if hit else (
            f"pids.current {stats.pids_current} = pids.max {stats.pids_max}" if at_max else "can't fork")
        return ok(f"{c.name}의 프로세스 수가 한도에 걸렸습니다 ({detail})",
                  f"{c.name}'s cgroup hit its pids limit ({detail})")
    current = f"{stats.pids_current} / {stats.pids_max or '제한 없음'}" if stats else "-"
    current_en = f"{stats.pids_current} / {stats.pids_max or 'no limit'}" if stats else "-"
    return no((f"{c.name}의 프로세스 수: {current}", f"{c.name}'s processes: {current_en}"),
              ("한도보다 많은 프로세스를 만들어 보세요 (포크 폭탄)", "start more processes than the limit allows"))


def _log(c):
    try:
        return list(c.logs(tail=200))
    except (OSError, OnggiError, TypeError):
        return []


@check("cpu_throttled", ("name",))
def cpu_throttled(ctx, p) -> Outcome:
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    cg = _cgroup(ctx, c)
    stats = cg.stats() if cg is not None else None
    n = stats.cpu_nr_throttled if stats else None
    if n:
        return ok(f"{c.name}이(가) CPU 한도 때문에 {n}번 멈췄습니다 (nr_throttled {n})",
                  f"{c.name} was throttled {n} times (nr_throttled {n})")
    return no((f"{c.name}의 nr_throttled: {n if n is not None else '-'}",
               f"{c.name}'s nr_throttled is {n if n is not None else '-'}"),
              ("CPU 한도를 걸고 CPU를 바쁘게 쓰게 하세요", "give it a CPU limit and keep the CPU busy"))


# -- images ----------------------------------------------------------------------------------------------

def _image(ctx, ref):
    try:
        return ctx.rt.images.resolve(ref)
    except ImageNotFound:
        return None


@check("image_exists", ("ref",), ("layers",), {"ref": P.text, "layers": P.whole})
def image_exists(ctx, p) -> Outcome:
    ref = str(p["ref"])
    image = _image(ctx, ref)
    if image is None:
        return no((f"{ref} 이미지가 없습니다", f"there is no image {ref}"),
                  (f"{ref} 이미지를 만드세요", f"make the image {ref}"))
    n = len(image.diff_ids)
    if p.get("layers") is not None and n < int(p["layers"]):
        return no((f"{ref} 이미지의 레이어는 {n}개입니다", f"{ref} has {n} layers"),
                  (f"레이어가 {p['layers']}개 이상이어야 합니다", f"it should have at least {p['layers']}"))
    return ok(f"{ref} 이미지가 있습니다 (레이어 {n}개, ID {image.short_id})",
              f"the image {ref} exists ({n} layers, ID {image.short_id})")


@check("image_removed", ("ref",), validators={"ref": P.text})
def image_removed(ctx, p) -> Outcome:
    ref = str(p["ref"])
    image = _image(ctx, ref)
    if image is None:
        return ok(f"{ref} 이미지는 이제 없습니다", f"there is no image {ref}")
    return no((f"{ref} 이미지가 아직 있습니다 (ID {image.short_id})", f"{ref} still exists (ID {image.short_id})"),
              (f"{ref}을(를) 지우세요 (onggi rmi)", f"remove {ref} (onggi rmi)"))


def builds_of(events: list[dict], ref: str) -> list[list[dict]]:
    """The builds of REF among EVENTS, oldest first: each the ``build.step`` events
    (phase "done") of the build that ended with an ``image.built`` for REF.

    A build publishes its steps, then ``image.built`` (same process, in order), so
    the build an ``image.built`` belongs to is the last one to finish before it.
    """
    want = _familiar(ref)
    steps: dict[str, list[dict]] = {}
    finished: str | None = None
    out = []
    for e in events:
        t, d = e.get("type"), e.get("data") or {}
        if t == "build.step":
            if d.get("phase", "done") == "done":
                steps.setdefault(e.get("id"), []).append(d)
                if d.get("n") and d.get("n") == d.get("total"):
                    finished = e.get("id")
        elif t == "image.built":
            if _familiar(str(d.get("name") or "")) == want:
                out.append(steps.get(finished, []) if finished else [])
            finished = None
    return out


@check("image_built", ("ref",), ("cached_steps", "missed", "builds"),
       {"ref": P.text, "cached_steps": P.whole, "missed": P.text, "builds": P.whole})
def image_built(ctx, p) -> Outcome:
    ref = str(p["ref"])
    builds = builds_of(ctx.events("build.step", "image.built"), ref)
    if not builds:
        return no((f"이 강의에서 {ref}을(를) 아직 빌드하지 않았습니다", f"{ref} has not been built in this lesson yet"),
                  (f"{ref}을(를) 빌드하세요", f"build {ref}"))
    want_builds = p.get("builds")
    if want_builds is not None and len(builds) < int(want_builds):
        return no((f"{ref}을(를) {len(builds)}번 빌드했습니다", f"{ref} was built {len(builds)} time(s)"),
                  (f"{want_builds}번 이상 빌드해야 합니다", f"build it at least {want_builds} times"))
    last = [s for s in builds[-1] if not str(s.get("instruction", "")).upper().startswith("FROM")]
    cached = sum(1 for s in last if s.get("cached"))
    summary = " / ".join(f"{_short(s.get('instruction', ''))}: {'CACHED' if s.get('cached') else 'built'}"
                         for s in last)
    if p.get("cached_steps") is not None and cached < int(p["cached_steps"]):
        return no((f"마지막 빌드에서 캐시를 쓴 단계는 {cached}개입니다 ({summary})",
                   f"the last build used the cache for {cached} steps ({summary})"),
                  (f"캐시를 쓴 단계가 {p['cached_steps']}개 이상이어야 합니다",
                   f"at least {p['cached_steps']} steps should be CACHED"))
    if p.get("missed"):
        prefix = str(p["missed"]).upper()
        step = next((s for s in last if str(s.get("instruction", "")).upper().startswith(prefix)), None)
        if step is None:
            return no((f"마지막 빌드에 {p['missed']}(으)로 시작하는 단계가 없습니다",
                       f"the last build has no step starting with {p['missed']}"),
                      ("강의의 Dockerfile로 빌드하세요", "build with the lesson's Dockerfile"))
        if step.get("cached"):
            return no((f"마지막 빌드에서 `{_short(step['instruction'])}`이(가) 캐시를 썼습니다",
                       f"in the last build `{_short(step['instruction'])}` came from the cache"),
                      ("그 단계가 다시 실행되도록 파일을 고친 뒤 빌드하세요",
                       "change what that step uses, then build again"))
    return ok(f"{ref}을(를) {len(builds)}번 빌드했습니다. 마지막 빌드: {summary}",
              f"{ref} was built {len(builds)} time(s); the last build: {summary}")


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= 40 else text[:37] + "..."


def _ref_events(ctx, kind: str, ref: str) -> list[dict]:
    want = _familiar(ref)
    return [e for e in ctx.events(kind) if _familiar(str((e.get("data") or {}).get("ref") or "")) == want]


@check("image_pushed", ("ref",), ("digest_changed",), {"ref": P.text, "digest_changed": P.flag})
def image_pushed(ctx, p) -> Outcome:
    ref = str(p["ref"])
    pushes = _ref_events(ctx, "image.pushed", ref)
    if not pushes:
        return no((f"이 강의에서 {ref}을(를) 아직 push하지 않았습니다", f"{ref} has not been pushed in this lesson"),
                  (f"{ref}을(를) push하세요", f"push {ref}"))
    digest = (pushes[-1].get("data") or {}).get("digest", "")
    if p.get("digest_changed"):
        earlier = {(e.get("data") or {}).get("digest") for e in pushes[:-1]}
        if not earlier or earlier == {digest}:
            return no((f"{ref}을(를) {len(pushes)}번 push했고 digest는 {digest[:19]}…로 그대로입니다",
                       f"{ref} was pushed {len(pushes)} time(s), always as {digest[:19]}…"),
                      ("내용을 바꿔 다시 빌드한 뒤 다시 push하세요", "change it, build it again, then push again"))
        return ok(f"{ref}의 digest가 바뀌었습니다: 이제 {digest[:19]}…",
                  f"{ref} moved: its digest is now {digest[:19]}…")
    return ok(f"{ref}을(를) push했습니다 ({digest[:19]}…)", f"{ref} was pushed ({digest[:19]}…)")


@check("image_pulled", ("ref",), validators={"ref": P.text})
def image_pulled(ctx, p) -> Outcome:
    ref = str(p["ref"])
    pulls = _ref_events(ctx, "image.pulled", ref)
    if not pulls:
        return no((f"이 강의에서 {ref}을(를) 아직 pull하지 않았습니다", f"{ref} has not been pulled in this lesson"),
                  (f"{ref}을(를) pull하세요", f"pull {ref}"))
    digest = (pulls[-1].get("data") or {}).get("digest", "")
    return ok(f"{ref}을(를) pull했습니다 ({digest[:19]}…)", f"{ref} was pulled ({digest[:19]}…)")


# -- networks -----------------------------------------------------------------------------------------------

@check("network_exists", ("name",), ("subnet",), {"subnet": P.text})
def network_exists(ctx, p) -> Outcome:
    import ipaddress
    name = p["name"]
    try:
        net = ctx.rt.networks.get(name)
    except NetworkNotFound:
        net = None
    if net is None or net.builtin:
        return no((f"{name} 네트워크가 없습니다", f"there is no network named {name}"),
                  (f"{name} 네트워크를 만드세요", f"create the network {name}"))
    if p.get("subnet"):
        want = ipaddress.ip_network(str(p["subnet"]), strict=False)
        if ipaddress.ip_network(net.subnet, strict=False) != want:
            return no((f"{name}의 서브넷은 {net.subnet}입니다", f"{name}'s subnet is {net.subnet}"),
                      (f"서브넷이 {want}이어야 합니다", f"its subnet should be {want}"))
    return ok(f"{name} 네트워크가 있습니다 (서브넷 {net.subnet}, 브리지 {net.bridge})",
              f"the network {name} exists (subnet {net.subnet}, bridge {net.bridge})")


def _addresses(c) -> set[str]:
    out = set()
    settings = c.inspect().get("NetworkSettings") or {}
    if settings.get("IPAddress"):
        out.add(settings["IPAddress"])
    for net in (settings.get("Networks") or {}).values():
        if net.get("IPAddress"):
            out.add(net["IPAddress"])
    return out


@check("containers_connected", ("from", "to"))
def containers_connected(ctx, p) -> Outcome:
    src, dst = ctx.container(p["from"]), ctx.container(p["to"])
    if src is None or dst is None:
        return _absent(p["from"] if src is None else p["to"])
    common = (set(_networks_of(ctx.rt, src)) & set(_networks_of(ctx.rt, dst))) - {"none"}
    if not common:
        return no((f"{src.name}({', '.join(_networks_of(ctx.rt, src))})와 {dst.name}"
                   f"({', '.join(_networks_of(ctx.rt, dst))})은(는) 같은 네트워크에 없습니다",
                   f"{src.name} ({', '.join(_networks_of(ctx.rt, src))}) and {dst.name} "
                   f"({', '.join(_networks_of(ctx.rt, dst))}) share no network"),
                  ("두 컨테이너를 같은 네트워크에 연결하세요", "put both on one network"))
    names = {dst.name, dst.id[:12]} | _addresses(dst)
    try:
        names.add(dst.inspect()["Config"]["Hostname"])
    except (KeyError, OnggiError):
        pass
    tries = [r for r in ctx.ran_in(src)
             if r.line.split()[:1] and r.line.split()[0] in NET_TOOLS and any(n and n in r.line for n in names)]
    if not tries:
        return no((f"{src.name}과(와) {dst.name}은(는) {', '.join(sorted(common))}에 함께 있지만, "
                   f"{src.name}에서 {dst.name}(으)로 보낸 것이 아직 없습니다",
                   f"{src.name} and {dst.name} share {', '.join(sorted(common))}, but {src.name} "
                   f"has not reached {dst.name} yet"),
                  (f"{src.name} 안에서 ping이나 wget으로 {dst.name}에 닿아 보세요",
                   f"ping or wget {dst.name} from inside {src.name}"))
    last = tries[-1]
    failed = (last.code not in (None, 0)) or bool(last.output and _FAILED_NET.search(last.output)
                                                    and "bytes from" not in last.output)
    if failed:
        return no((f"{src.name}에서 `{last.line}`을(를) 실행했지만 닿지 못했습니다",
                   f"{src.name} ran `{last.line}`, but it did not get through"),
                  ("이름과 네트워크를 확인하고 다시 해 보세요", "check the name and the network, then try again"))
    return ok(f"{src.name}이(가) {', '.join(sorted(common))} 네트워크로 {dst.name}에 닿았습니다 (`{last.line}`)",
              f"{src.name} reached {dst.name} over {', '.join(sorted(common))} (`{last.line}`)")


@check("port_published", ("name", "host_port"), validators={"host_port": P.whole})
def port_published(ctx, p) -> Outcome:
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    port = int(p["host_port"])
    if c.state.status.value != "running":
        return no((f"{c.name}이(가) 실행 중이 아닙니다", f"{c.name} is not running"),
                  (f"{c.name}을(를) 실행하세요", f"run {c.name}"))
    bindings = c.inspect()["HostConfig"].get("PortBindings") or {}
    mine = [(k, b) for k, bs in bindings.items() for b in bs if str(b.get("HostPort")) == str(port)]
    if not mine:
        shown = ", ".join(f"{b.get('HostPort')}->{k}" for k, bs in bindings.items() for b in bs) or "없음"
        shown_en = shown if bindings else "none"
        return no((f"{c.name}이(가) 공개한 포트: {shown}", f"{c.name} publishes: {shown_en}"),
                  (f"-p {port}:PORT로 포트를 공개하세요", f"publish it with -p {port}:PORT"))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            pass
    except OSError as exc:
        return no((f"{c.name}이(가) {port}번을 공개했지만 127.0.0.1:{port}이(가) 응답하지 않습니다 ({exc.strerror})",
                   f"{c.name} publishes {port}, but 127.0.0.1:{port} does not answer ({exc.strerror})"),
                  ("컨테이너 안의 서버가 떠 있는지 확인하세요", "check that the server inside is listening"))
    target = mine[0][0]
    return ok(f"127.0.0.1:{port}이(가) 응답하고 {c.name}의 {target}(으)로 이어집니다",
              f"127.0.0.1:{port} answers and forwards to {c.name}'s {target}")


# -- files -----------------------------------------------------------------------------------------------------

def _visible(ctx, c, path: str, *, follow: bool):
    """(host path, how) where PATH is in C's filesystem: as the running container sees it
    (its root through /proc/PID/root: the overlay and what is mounted on it, like its
    /etc/hostname), or by overlay's rules over its layer directories when it is not running."""
    from pathlib import Path

    from . import rootfs
    r = c.record
    state = c.state
    if state.status.value == "running" and state.pid:
        return rootfs.resolve(ctx.rt.config.proc / str(state.pid) / "root", path, follow_last=follow), "root"
    layers = [Path(r.upper)] + [Path(d) for d in reversed(r.lower_dirs)]
    return rootfs.in_layers(layers, path, ctx.rt.syscalls), "layers"


def _truth(ctx):
    """The simulated kernel's readers (``rt.truth``), or None on a real one."""
    return ctx.rt.truth if getattr(ctx.rt, "simulated", False) else None


@check("file_in_container", ("name", "path"), ("contains",), {"path": P.text, "contains": P.text})
def file_in_container(ctx, p) -> Outcome:
    from . import rootfs
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    path = str(p["path"])
    truth = _truth(ctx)
    if truth is not None:
        found = path if truth.file_exists(c.id, path) else None
        text = truth.read_file(c.id, path) if found else None
    else:
        found, _how = _visible(ctx, c, path, follow=p.get("contains") is not None)
        text = rootfs.read_text(found) if found is not None and p.get("contains") is not None else None
    if found is None:
        return no((f"{c.name} 안에 {path}이(가) 없습니다", f"{path} does not exist in {c.name}"),
                  (f"{c.name} 안에 {path}이(가) 있어야 합니다", f"{path} should exist in {c.name}"))
    if p.get("contains") is not None:
        if str(p["contains"]) not in (text or ""):
            return no((f"{c.name}의 {path}에 '{p['contains']}'이(가) 없습니다",
                       f"{path} in {c.name} does not contain '{p['contains']}'"),
                      (f"{path}에 '{p['contains']}'을(를) 넣으세요", f"put '{p['contains']}' in {path}"))
    return ok(f"{c.name} 안에 {path}이(가) 있습니다", f"{path} exists in {c.name}")


@check("file_in_layer", ("name", "path", "layer"), validators={"path": P.text, "layer": P.one_of("upper")})
def file_in_layer(ctx, p) -> Outcome:
    from pathlib import Path

    from . import rootfs
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    path = str(p["path"])
    truth = _truth(ctx)
    if truth is not None:
        entry = truth.upper(c.id).get(path)
        upper = entry is not None and entry.get("k") != "w"
        below = truth.file_exists(c.id, path)
    else:
        found = rootfs.in_layers([Path(c.record.upper)], path, ctx.rt.syscalls)
        upper = found is not None and not rootfs.is_whiteout(found)
        below = _visible(ctx, c, path, follow=False)[0] is not None
    if upper:
        return ok(f"{path}이(가) {c.name}의 쓰기 레이어(upperdir)에 있습니다",
                  f"{path} is in {c.name}'s writable layer (upperdir)")
    where = ((f"{path}은(는) 아래 이미지 레이어에만 있습니다", f"{path} is only in the image's layers below")
             if below else (f"{c.name} 안에 {path}이(가) 없습니다", f"{path} does not exist in {c.name}"))
    return no(where, (f"{path}을(를) 만들거나 고쳐서 쓰기 레이어로 올라오게 하세요",
                      f"create or change {path} so that it lands in the writable layer"))


@check("whiteout_in_upper", ("name", "path"), validators={"path": P.text})
def whiteout_in_upper(ctx, p) -> Outcome:
    from pathlib import Path

    from . import rootfs
    c = ctx.container(p["name"])
    if c is None:
        return _absent(p["name"])
    path = str(p["path"])
    truth = _truth(ctx)
    if truth is not None:
        whiteout = path in truth.whiteouts(c.id)
    else:
        host = rootfs.resolve(Path(c.record.upper), path, follow_last=False)
        whiteout = host is not None and rootfs.is_whiteout(host)
    if whiteout:
        return ok(f"{c.name}의 쓰기 레이어에 {path}의 화이트아웃(0/0 문자 장치)이 있습니다",
                  f"{c.name}'s writable layer holds a whiteout for {path} (a 0/0 character device)")
    return no((f"{c.name}의 쓰기 레이어에 {path}의 화이트아웃이 없습니다",
               f"{c.name}'s writable layer has no whiteout for {path}"),
              (f"{c.name} 안에서 {path}을(를) 지우세요", f"delete {path} inside {c.name}"))


# -- what the lesson's own actions showed ---------------------------------------------------------------------

@check("vm_booted")
def vm_booted(ctx, p) -> Outcome:
    found = ctx.result("vm_boot")
    if found is None:
        return no(("가상 머신을 아직 부팅하지 않았습니다", "no VM has been booted in this lesson yet"),
                  ("버튼을 눌러 가상 머신과 컨테이너를 나란히 시작하세요", "press the button to start a VM beside a container"))
    vm = found["data"].get("vm") or {}
    if vm.get("mode") == "modeled":
        return ok("qemu가 없어 모형으로 비교했습니다 (모형이라고 표시됨)",
                  "no qemu here: the modeled comparison was shown (labelled so)")
    if vm.get("booted") and vm.get("kernel"):
        return ok(f"가상 머신이 {vm.get('mode', '').upper()}로 {vm.get('start_ms')} ms 만에 부팅했고 "
                  f"커널 {vm['kernel']}을(를) 알려 왔습니다",
                  f"the VM booted under {vm.get('mode', '').upper()} in {vm.get('start_ms')} ms and "
                  f"reported kernel {vm['kernel']}")
    error = vm.get("error") or found["data"].get("error") or "?"
    return no((f"가상 머신이 부팅하지 못했습니다: {error}", f"the VM did not boot: {error}"),
              ("다시 눌러 보세요", "press the button again"))


@check("chroot_demo_ran")
def chroot_demo_ran(ctx, p) -> Outcome:
    found = ctx.result("chroot_demo")
    if found is None or not found["data"].get("chroot"):
        return no(("chroot 비교를 아직 실행하지 않았습니다", "the chroot comparison has not run yet"),
                  ("버튼을 눌러 비교해 보세요", "press the button to compare"))
    a, b = found["data"]["chroot"], found["data"]["container"]
    return ok(f"chroot 안에서 프로세스 {a.get('processes')}개, 컨테이너 안에서 {b.get('processes')}개가 보였습니다",
              f"the chroot saw {a.get('processes')} processes, the container {b.get('processes')}")


@check("simulated", ("scenario", "do"),
       validators={"scenario": P.one_of("machine", "swarm", "compose"),
                   "do": P.one_of("create", "env", "init", "service", "fail", "up", "down")})
def simulated(ctx, p) -> Outcome:
    done = [r for r in ctx.results if r["kind"] == "simulate" and r["at"] >= ctx.since
            and r["data"].get("scenario") == p["scenario"] and r["data"].get("do") == p["do"]]
    if done:
        return ok(f"모의 실행: {p['scenario']} {p['do']}", f"simulated: {p['scenario']} {p['do']}")
    return no((f"아직 {p['scenario']} {p['do']}을(를) 하지 않았습니다", f"{p['scenario']} {p['do']} not done yet"),
              ("버튼을 누르세요 (모의 실행)", "press the button (simulated)"))


@check("quiz_answered", ("quiz",), validators={"quiz": P.text})
def quiz_answered(ctx, p) -> Outcome:
    quiz = str(p["quiz"])
    if ctx.quizzes.get(quiz):
        return ok("퀴즈를 맞혔습니다", "the quiz was answered correctly")
    tried = quiz in ctx.quizzes
    return no(("아직 맞히지 못했습니다" if tried else "아직 답하지 않았습니다",
               "not answered correctly yet" if tried else "not answered yet"),
              ("퀴즈에 답하세요", "answer the quiz"))
