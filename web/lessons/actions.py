"""Lesson actions: what a step's button does, for real, through the runtime.

``ACTIONS`` maps each action a lesson may name to its parameters' signature;
:func:`perform` does one and returns what it did (stored as the step's result,
shown on the page, read by checks). Everything made is labelled with the lesson
(``org.onggi.lesson=<id>`` on containers and networks; images are returned in
``made`` for the caller to remember), so resetting a lesson removes exactly it.

Two actions need the browser and are wired by the web layer, not here: a
``run`` with ``detach: false`` (a terminal attached to ``onggi run -it``, see
:func:`run_args`) and a step-through launch (see :func:`spec`). ``exec`` runs the
real CLI in a child process (see cli.py); the rest call the library in-process.
Nothing here imports Flask.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from runtime.errors import Conflict, InvalidArgument, OnggiError

from . import params as P
from .params import Signature

LABEL = "org.onggi.lesson"

ACTIONS = {
    "run": Signature(("image",), ("name", "cmd", "detach", "memory", "cpus", "pids_limit", "network",
                                  "ports", "env", "hostname", "workdir", "user", "read_only"),
                     validators={"image": P.text, "name": P.text, "cmd": P.words, "detach": P.flag,
                                 "memory": P.size, "cpus": P.number, "pids_limit": P.whole,
                                 "network": P.text, "ports": P.strings, "env": P.env,
                                 "hostname": P.text, "workdir": P.text, "user": P.text,
                                 "read_only": P.flag}),
    "exec": Signature(("name", "cmd"), validators={"cmd": P.words}),
    "terminal": Signature(("name",), shorthand="name"),
    "stop": Signature(("name",), shorthand="name"),
    "remove": Signature(("name",), shorthand="name"),
    "build": Signature(("tag", "dockerfile"), ("editable",),
                       validators={"tag": P.text, "dockerfile": P.text, "editable": P.strings}),
    "pull": Signature(("ref",), shorthand="ref", validators={"ref": P.text}),
    "push": Signature(("ref",), shorthand="ref", validators={"ref": P.text}),
    "tag": Signature(("source", "target"), validators={"source": P.text, "target": P.text}),
    "rmi": Signature(("ref",), shorthand="ref", validators={"ref": P.text}),
    "simulate": Signature(("scenario", "do"), ("host", "replicas"),
                          validators={"scenario": P.one_of("machine", "swarm", "compose"),
                                      "do": P.one_of("create", "env", "init", "service", "fail", "up", "down"),
                                      "host": P.text, "replicas": P.whole}),
    "network_create": Signature(("name",), ("subnet",), validators={"name": P.text, "subnet": P.text}),
    "vm_boot": Signature(),
    "chroot_demo": Signature(),
}
EXEC_TIMEOUT = 20.0


@dataclass
class Job:
    """One action to do: the runtime, the lesson, its (live-substituted) parameters."""
    rt: object
    lesson_id: str
    lesson_dir: Path
    kind: str
    params: dict
    emit: Callable[[str, dict], None] = lambda stage, data: None
    cli: str | None = None
    env: dict = field(default_factory=dict)
    cancel: threading.Event = field(default_factory=threading.Event)
    files: dict = field(default_factory=dict)     # editable context files: name -> text
    previous: dict | None = None                  # simulate: the scenario's state so far

    def say(self, text: str) -> None:
        self.emit("output", {"text": text})


def perform(job: Job) -> dict:
    """Do JOB's action; its result (what it made is listed in ``made``)."""
    return _DO[job.kind](job)


# -- containers ---------------------------------------------------------------------------------------

def default_network() -> str:
    """What --network means when a lesson does not say: the CLI's default (Docker's bridge)."""
    return os.environ.get("ONGGI_DEFAULT_NETWORK", "bridge")


def spec(params: dict, lesson_id: str):
    """The ContainerSpec of a ``run`` action, labelled with the lesson."""
    from web.api.specs import spec_from_json
    body = {k: params[k] for k in ("image", "name", "memory", "cpus", "pids_limit", "network",
                                   "ports", "env", "hostname", "read_only") if params.get(k) is not None}
    for key in ("workdir", "user"):              # user: 1000 is a number in YAML
        if params.get(key) is not None:
            body[key] = str(params[key])
    if params.get("cmd") is not None:
        cmd = params["cmd"]
        body["cmd"] = [str(w) for w in cmd] if isinstance(cmd, list) else str(cmd)
    for key in ("memory", "cpus", "pids_limit"):
        if key in body:
            body[key] = str(body[key])
    body["labels"] = {LABEL: lesson_id}
    return spec_from_json(body, default_network=default_network())


def run_args(params: dict, lesson_id: str) -> list[str]:
    """``onggi run`` flags and words for a ``run`` action (the browser terminal's ``run -it``)."""
    args = ["--label", f"{LABEL}={lesson_id}"]
    for key, flag in (("name", "--name"), ("memory", "--memory"), ("cpus", "--cpus"),
                      ("pids_limit", "--pids-limit"), ("network", "--network"), ("hostname", "--hostname"),
                      ("workdir", "--workdir"), ("user", "--user")):
        if params.get(key) is not None:
            args += [flag, str(params[key])]
    if params.get("read_only"):
        args.append("--read-only")
    for key, flag in (("ports", "--publish"), ("env", "--env")):
        items = params.get(key) or []
        for item in [items] if isinstance(items, str) else items:      # one string is one item
            args += [flag, str(item)]
    args.append(str(params["image"]))
    cmd = params.get("cmd")
    if cmd is not None:
        import shlex
        args += [str(w) for w in cmd] if isinstance(cmd, list) else shlex.split(str(cmd))
    return args


def _run(job: Job) -> dict:
    rt = job.rt
    rt.check_host()
    container = rt.create(spec(job.params, job.lesson_id))
    try:
        handle = container.start(attach=False)
        try:
            pid = handle.wait_started()
        finally:
            handle.close()
    except OnggiError:
        try:
            container.remove(force=True)       # nothing half-made
        except OnggiError:
            pass
        raise
    job.say(f"{container.name} ({container.short_id}) PID {pid}\n")
    return {"container": container.id, "name": container.name, "pid": pid}


def _exec(job: Job) -> dict:
    import time
    rt = job.rt
    c = rt.container(job.params["name"])
    c.require_running()
    cmd = job.params["cmd"]
    cmd = [str(w) for w in cmd] if isinstance(cmd, list) else _split(str(cmd))
    started = time.time()
    if getattr(rt, "simulated", False) or not job.cli:
        code, output = _exec_in_process(c, cmd, job)
        timed_out = code is None
    else:
        from .cli import run_cli
        ran = run_cli(job.cli, ["exec", c.id, *cmd], dict(job.env, **rt.config.to_env()),
                      timeout=EXEC_TIMEOUT, on_output=job.say)
        code, output, timed_out = ran.code, ran.output, ran.timed_out
        if timed_out:
            job.say(f"\n[still running after {EXEC_TIMEOUT:g} s: stopped waiting]\n")
    return {"container": c.id, "name": c.name, "cmd": cmd, "output": output, "code": code,
            "timed_out": timed_out, "started": started}


def _exec_in_process(c, cmd, job) -> tuple[int | None, str]:
    """The simulated runtime's exec: its output captured (``exec_output``), or written to
    the fds it is given, like the real one's."""
    if hasattr(c, "exec_output"):
        code, output = c.exec_output(cmd, timeout=EXEC_TIMEOUT)
        job.say(output)
        return code, output
    r, w = os.pipe()
    null = os.open(os.devnull, os.O_RDONLY)
    try:
        code = c.exec(cmd, stdio=(null, w, w))
    finally:
        os.close(w)
        os.close(null)
    with os.fdopen(r, "rb") as f:
        output = f.read().decode("utf-8", "replace")
    job.say(output)
    return code, output


def _split(text: str) -> list[str]:
    import shlex
    return shlex.split(text)


def _stop(job: Job) -> dict:
    c = job.rt.container(job.params["name"])
    job.say(f"onggi stop {c.name}\n")
    c.stop(timeout=10)
    state = c.state
    job.say(f"{c.name}: {state.status.value}" + (f" ({state.exit_code})\n" if state.exit_code is not None else "\n"))
    try:                       # what it said on its way out (a SIGTERM handler's goodbye)
        tail = [data.decode("utf-8", "replace") for _stream, data, _when in c.logs(tail=5)]
    except (OnggiError, OSError):
        tail = []
    if tail:
        job.say(f"$ onggi logs --tail 5 {c.name}\n" + "".join(tail))
    return {"name": c.name, "exit_code": state.exit_code}


def _remove(job: Job) -> dict:
    c = job.rt.container(job.params["name"])
    c.remove(force=True)
    job.say(f"{c.name}\n")
    return {"name": c.name, "removed": True}


# -- images -------------------------------------------------------------------------------------------------

def context_dir(lesson_dir: Path, dest: Path, dockerfile: str, files: dict) -> Path:
    """A build context: the lesson folder's files (not its lesson texts), the learner's
    edited copies of the editable ones, and the step's Dockerfile."""
    def ignore(_dir, names):
        return [n for n in names if n.startswith("lesson.") and n.endswith(".md")]
    shutil.copytree(lesson_dir, dest, ignore=ignore, dirs_exist_ok=True)
    for name, text in files.items():
        target = (dest / name).resolve()
        if dest.resolve() not in target.parents:
            raise InvalidArgument(f"invalid file name {name!r}: it must stay in the lesson folder")
        target.write_text(text)
    (dest / "Dockerfile").write_text(dockerfile)
    return dest


def _build(job: Job) -> dict:
    from runtime.build.builder import Note, Output
    from runtime.events import BuildStep
    rt = job.rt
    steps = []

    def progress(item):
        if isinstance(item, BuildStep):
            if item.phase == "start":
                how = "CACHED" if item.cached else (item.reason or "")
                job.say(f"[{item.n}/{item.total}] {item.instruction}" + (f"  ({how})" if how else "") + "\n")
            else:
                steps.append({"n": item.n, "instruction": item.instruction, "cached": item.cached,
                              "size": item.size})
        elif isinstance(item, Output):
            job.say(item.data.decode("utf-8", "replace"))
        elif isinstance(item, Note):
            job.say(item.text + "\n")

    editable = job.params.get("editable") or []
    files = {name: job.files[name] for name in editable if name in job.files}
    with tempfile.TemporaryDirectory(prefix="onggi-lesson-build-") as tmp:
        ctx = context_dir(job.lesson_dir, Path(tmp) / "context", job.params["dockerfile"], files)
        image = rt.build(ctx, tag=job.params["tag"], progress=progress)
    job.say(f"Successfully built {image.short_id}\nSuccessfully tagged {job.params['tag']}\n")
    return {"tag": job.params["tag"], "image": image.id, "steps": steps, "made": [job.params["tag"]]}


def _pull(job: Job) -> dict:
    image = job.rt.pull(job.params["ref"], progress=_text_progress(job))
    job.say(f"{job.params['ref']}: {image.short_id}\n")
    return {"ref": job.params["ref"], "image": image.id, "made": [job.params["ref"]]}


def _push(job: Job) -> dict:
    digest = job.rt.push(job.params["ref"], progress=_text_progress(job))
    job.say(f"{job.params['ref']}: digest: {digest}\n")
    return {"ref": job.params["ref"], "digest": digest}


def _text_progress(job: Job):
    def progress(item):
        if isinstance(item, str):
            job.say(item.rstrip("\n") + "\n")
    return progress


def _tag(job: Job) -> dict:
    name = job.rt.images.tag(job.params["source"], job.params["target"])
    job.say(f"{job.params['source']} -> {name}\n")
    return {"source": job.params["source"], "target": name, "made": [name]}


def _rmi(job: Job) -> dict:
    rt = job.rt
    ids, layers = rt.images_in_use()
    lines = rt.images.remove(job.params["ref"], in_use=ids, in_use_layers=layers)
    job.say("\n".join(lines) + "\n")
    return {"ref": job.params["ref"], "removed": lines}


# -- networks -----------------------------------------------------------------------------------------------

def _network_create(job: Job) -> dict:
    net = job.rt.networks.create(job.params["name"], subnet=job.params.get("subnet"),
                                 labels={LABEL: job.lesson_id})
    job.say(f"{net.name}: {net.subnet} ({net.bridge})\n")
    return {"name": net.name, "subnet": net.subnet, "bridge": net.bridge}


# -- demos ----------------------------------------------------------------------------------------------------

def _vm_boot(job: Job) -> dict:
    from runtime.vm.compare import compare, modeled_vm
    rt = job.rt
    if getattr(rt, "simulated", False):
        # No real VM, no real container: the modeled figures, labelled so.
        vm = modeled_vm("simulated mode: this machine runs no real VM or container")
        kernel = rt.truth.kernel_release()
        job.emit("stage", {"stage": "prepare", "data": {"mode": "modeled", "why": vm["why"]}})
        return {"vm": vm, "container": {"start_ms": None, "memory_bytes": None, "kernel": kernel,
                                        "simulated": True},
                "host_kernel": kernel, "simulated": True}

    def progress(stage, data):
        if stage == "vm.console":
            job.say(str(data.get("line", "")) + "\n")
        elif stage != "done":
            job.emit("stage", {"stage": stage, "data": _small(data)})
    return compare(job.rt, progress=progress, cancel=job.cancel)


def _small(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("console_tail", "argv")}


def _chroot_demo(job: Job) -> dict:
    if getattr(job.rt, "simulated", False):
        from runtime.sim.demo import chroot_vs_namespaces
        job.say("chroot ... (simulated)\n")
    else:
        from runtime.demo.chroot import chroot_vs_namespaces
        job.say("chroot ...\n")
    return chroot_vs_namespaces(job.rt)


# -- simulated pictures ----------------------------------------------------------------------------------------

def _simulate(job: Job) -> dict:
    p = job.params
    state = simulate(p["scenario"], p["do"], job.previous, host=p.get("host"), replicas=p.get("replicas"),
                     lesson_dir=job.lesson_dir)
    job.say(f"({p['scenario']} {p['do']}: simulated)\n")
    return {"scenario": p["scenario"], "do": p["do"], "state": state, "simulated": True}


SWARM_HOSTS = ("host-1", "host-2", "host-3")


def simulate(scenario: str, do: str, previous: dict | None, *, host=None, replicas=None,
             lesson_dir: Path | None = None) -> dict:
    """The next state of a simulated picture (nothing real is made). Pure: the
    previous state in, the new one out. Machine starts with the learner's own
    computer; Swarm with three hosts as Machine would make them."""
    if scenario == "machine":
        state = dict(previous or {"hosts": [], "env": None})
        host = host or "host-1"
        if do == "create":
            state["hosts"] = sorted(set(state["hosts"]) | {host})
        elif do == "env":
            if host not in state["hosts"]:
                raise Conflict(f"there is no host {host} yet (simulated)", hint="create it first")
            state["env"] = host
        else:
            raise InvalidArgument(f"invalid simulate do '{do}' for machine: use create or env")
        return state
    if scenario == "swarm":
        state = dict(previous or {"hosts": list(SWARM_HOSTS), "manager": None, "tasks": [], "down": []})
        if do == "init":
            state["manager"] = state["hosts"][0]
        elif do == "service":
            if not state["manager"]:
                raise Conflict("the swarm has no manager yet (simulated)", hint="run swarm init first")
            up = [h for h in state["hosts"] if h not in state["down"]]
            state["tasks"] = [{"name": f"web.{i + 1}", "host": up[i % len(up)], "moved_from": None}
                              for i in range(int(replicas or 3))]
        elif do == "fail":
            host = host or state["hosts"][1]
            if host == state["manager"]:
                raise Conflict(f"{host} is the manager (simulated)", hint="switch off a worker")
            down = sorted(set(state["down"]) | {host})
            up = [h for h in state["hosts"] if h not in down]
            load = {h: sum(1 for t in state["tasks"] if t["host"] == h) for h in up}
            tasks = []
            for t in state["tasks"]:
                if t["host"] in down:       # the manager starts it again on the least busy live node
                    target = min(up, key=lambda h: (load[h], h))
                    load[target] += 1
                    t = {"name": t["name"], "host": target, "moved_from": t["host"]}
                tasks.append(t)
            state["down"], state["tasks"] = down, tasks
        else:
            raise InvalidArgument(f"invalid simulate do '{do}' for swarm: use init, service or fail")
        return state
    if scenario == "compose":
        if do not in ("up", "down"):
            raise InvalidArgument(f"invalid simulate do '{do}' for compose: use up or down")
        return {"up": do == "up", **compose_project(lesson_dir)}
    raise InvalidArgument(f"invalid simulate scenario '{scenario}': use machine, swarm or compose")


def compose_project(lesson_dir: Path | None) -> dict:
    """The lesson folder's compose.yaml as Compose reads it: the project's name and its
    services (name, image, ports, depends_on)."""
    import yaml
    for name in ("compose.yaml", "compose.yml", "docker-compose.yml"):
        path = lesson_dir / name if lesson_dir else None
        if path is not None and path.exists():
            doc = yaml.safe_load(path.read_text()) or {}
            services = [{"name": n, "image": str((s or {}).get("image", "")),
                         "ports": [str(x) for x in (s or {}).get("ports") or []],
                         "depends_on": list((s or {}).get("depends_on") or [])}
                        for n, s in (doc.get("services") or {}).items()]
            return {"project": str(doc.get("name") or lesson_dir.name), "services": services}
    return {"project": "app", "services": []}


_DO = {"run": _run, "exec": _exec, "stop": _stop, "remove": _remove, "build": _build, "pull": _pull,
       "push": _push, "tag": _tag, "rmi": _rmi, "network_create": _network_create,
       "vm_boot": _vm_boot, "chroot_demo": _chroot_demo, "simulate": _simulate}
