"""What a simulated container's first process will do, worked out when it starts.

A real PID 1 runs; a simulated one is run ahead of time by the tiny shell on a
virtual clock (:class:`~runtime.sim.machine.PlanMachine`), which gives:

* when it exits by itself and with which code (``echo hi``: at once, 0;
  ``sleep 5``: after 5 s), or that it never does (``sleep 3600`` is as good as
  never: the plan looks ten minutes ahead);
* what it prints, and when (for ``logs``);
* whether it burns a CPU (``while :; do :; done``), forks without end, or eats
  memory: a command *known* to allocate without bound (``tail /dev/zero``,
  ``... /dev/zero ... | tail``, ``x=$x$x`` in a loop) grows by :data:`EAT_RATE`
  bytes a second, and with ``-m`` it is OOM-killed when it reaches the limit;
* the shell's traps (``trap '...' TERM``): what runs when ``stop`` sends SIGTERM.

Nothing here writes the world; :mod:`.container` applies the plan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .machine import PlanMachine
from .shell.interp import ExitShell, Interp, Out, RunsForever

EAT_RATE = 20 << 20                 # bytes a second a memory eater allocates
EAT_CAP = 1 << 30                   # an unlimited eater stops growing here (the simulation's host)
BASE_MEMORY = 350 << 10             # a small busybox process: what memory.current shows at first
# At its limit an eater is not killed the same instant: the kernel first reclaims what it can
# (the gauge sits full), then the OOM killer counts its kill in memory.events, then the
# process dies. For real that takes milliseconds; here each stage lasts long enough for the
# page's gauges (re-read every second) to draw it, or the learner would never see the full
# gauge nor the cgroup's OOM flash the lesson promises.
RECLAIM = 0.6                       # seconds at the limit before the OOM killer acts
DYING = 1.2                         # seconds from the kill (counted, announced) to the exit
SHELLS = ("sh", "ash")

_EATERS = (
    re.compile(r"/dev/(zero|u?random)\b.*\|\s*tail\b"),           # ... /dev/zero ... | tail
    re.compile(r"\btail\s+(-\S+\s+)*/dev/(zero|u?random)\b"),      # tail /dev/zero
    re.compile(r"(\w+)=\"?\$\{?\1\}?\$\{?\1\}?"),                   # x=$x$x
)
_SIZES = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


@dataclass
class Plan:
    ends: float | None = 0.0          # seconds after the start when PID 1 exits by itself; None: never
    code: int = 0
    oom: bool = False
    oom_at: float | None = None       # seconds after the start when the OOM killer kills it
    output: list = field(default_factory=list)          # [seconds after start, stream, text]
    busy: bool = False
    mem_rate: int = 0                 # bytes a second it allocates
    mem_cap: int | None = None
    spawned: list = field(default_factory=list)         # [[argv, kind]] background processes
    listens: list = field(default_factory=list)         # [[port, home]] web servers it starts
    image: list | None = None                           # the argv PID 1 exec'd into, if it did
    refused: int = 0                  # forks its pids limit refused
    traps: dict = field(default_factory=dict)           # "TERM" -> script
    vars: dict = field(default_factory=dict)
    cwd: str = "/"
    shell: bool = False               # PID 1 is a shell: a trap can catch signals
    interactive: bool = False         # a terminal's shell: it lives while someone types

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> "Plan":
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def make(rt, world: dict, record: dict, fs, *, memory: int | None, pids: int | None) -> Plan:
    """The plan of RECORD's first process (its resolved args, env and cwd), on FS."""
    process = record["process"]
    args = list(process["args"])
    text = " ".join(args)
    spec = record["spec"]
    program = args[0].rsplit("/", 1)[-1]
    shell = program in SHELLS
    if shell and len(args) == 1:
        interactive = bool(spec.get("tty") or spec.get("interactive"))
        return Plan(ends=None if interactive else 0.0, shell=True, interactive=interactive)
    if any(rx.search(text) for rx in _EATERS):
        return _eater(text, memory, shell)
    machine = PlanMachine(rt, world, record, fs, pids_max=pids)
    env = dict(e.partition("=")[::2] for e in process["env"])
    sh = Interp(machine, env, cwd=process["cwd"], pid=1, name="sh")
    out = Out(sink=lambda fd, t: plan.output.append([machine.clock, "stdout" if fd == 1 else "stderr", t]))
    plan = Plan(shell=shell)
    try:
        plan.code = sh.call(args, "", out.write)
        plan.ends = machine.clock
    except ExitShell as exc:
        plan.code, plan.ends = exc.code, machine.clock
    except RunsForever as exc:
        plan.ends = None
        plan.busy = exc.kind in ("busy", "forks")
    plan.spawned = [[argv, kind] for argv, kind in machine.spawned]
    plan.listens = machine.listening if plan.ends is None else []
    plan.image = machine.image
    plan.refused = machine.refused
    plan.traps, plan.vars, plan.cwd = dict(sh.traps), dict(sh.vars), sh.cwd
    return plan


def _eater(text: str, memory: int | None, shell: bool) -> Plan:
    """A process known to allocate without bound: it grows until its limit, then the OOM killer."""
    total = EAT_CAP
    count = re.search(r"\bseq\s+(\d+)", text)
    chunk = re.search(r"\bhead\s+-c\s+(\d+)([kmg]?)", text, re.I)
    if count and chunk:
        total = int(count.group(1)) * int(chunk.group(1)) * _SIZES[chunk.group(2).lower()]
    plan = Plan(shell=shell, mem_rate=EAT_RATE, mem_cap=total, busy=False)
    if memory is not None and BASE_MEMORY + total > memory:
        plan.oom_at = max(memory - BASE_MEMORY, 0) / EAT_RATE + RECLAIM
        plan.ends = plan.oom_at + DYING
        plan.code, plan.oom = 137, True
    else:
        plan.ends = total / EAT_RATE if total < EAT_CAP else None
    return plan


def command_line(args) -> str:
    """ARGS as ps shows them: busybox reads /proc/PID/cmdline and puts spaces for the NULs."""
    return " ".join(args)
