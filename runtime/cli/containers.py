"""Container verbs: run, create, start, ps, logs, exec, stop, kill, rm, wait, inspect,
top, stats, diff, commit, events."""
from __future__ import annotations

import argparse
import os
import sys

from . import output


def _runtime():
    from ..core import Runtime
    return Runtime()


# --- run / create --------------------------------------------------------------------

def _container_flags(p) -> None:
    p.usage = f"{p.prog} [OPTIONS] IMAGE [COMMAND] [ARG...]"
    p.add_argument("--name", help="assign a name to the container")
    p.add_argument("-h", "--hostname", help="container host name")
    p.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE",
                   help="set environment variables")
    p.add_argument("--env-file", action="append", default=[], help="read in a file of environment variables")
    p.add_argument("-w", "--workdir", help="working directory inside the container")
    p.add_argument("-u", "--user", help="username or UID (format: <name|uid>[:<group|gid>])")
    p.add_argument("--entrypoint", help="overwrite the default ENTRYPOINT of the image")
    p.add_argument("-i", "--interactive", action="store_true", help="keep STDIN open")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    p.add_argument("--rm", action="store_true", help="automatically remove the container when it exits")
    p.add_argument("-m", "--memory", help="memory limit (e.g. 64m)")
    p.add_argument("--cpus", help="number of CPUs (e.g. 0.5)")
    p.add_argument("--pids-limit", help="tune container pids limit")
    p.add_argument("--network", "--net", default=None, help="connect a container to a network")
    p.add_argument("-p", "--publish", action="append", default=[], help="publish a container's port to the host")
    p.add_argument("-v", "--volume", action="append", default=[], help="bind mount HOSTDIR:DIR[:ro]")
    p.add_argument("--read-only", action="store_true", help="mount the container's root filesystem read-only")
    p.add_argument("-l", "--label", action="append", default=[], help="set metadata on a container")
    p.add_argument("image")
    p.add_argument("command", nargs=argparse.REMAINDER)


def _spec(args):
    from ..cgroups import units
    from ..container.spec import ContainerSpec, Volume, parse_publish
    import shlex
    env = []
    for path in args.env_file:
        env += _read_env_file(path)
    env += [_env_item(e) for e in args.env]
    entrypoint = None
    if args.entrypoint is not None:
        entrypoint = tuple(shlex.split(args.entrypoint)) if args.entrypoint else ()
    network = args.network or default_network()
    if network == "host" and args.publish:
        # The container uses the host's own ports: there is nothing to publish (Docker's words).
        print("WARNING: Published ports are discarded when using host network mode", file=sys.stderr)
    return ContainerSpec(
        image=args.image, cmd=tuple(args.command) or None, entrypoint=entrypoint,
        env=tuple(env), workdir=args.workdir, user=args.user, hostname=args.hostname,
        name=args.name, tty=args.tty, interactive=args.interactive, auto_remove=args.rm,
        read_only=args.read_only,
        memory=units.parse_memory(args.memory) if args.memory else None,
        cpus=units.parse_cpus(args.cpus) if args.cpus else None,
        pids_limit=units.parse_pids_limit(args.pids_limit) if args.pids_limit else None,
        network=network, ports=tuple(p for spec in args.publish for p in parse_publish(spec)),
        volumes=tuple(Volume.parse(v) for v in args.volume),
        labels=tuple(tuple(label.partition("=")[::2]) for label in args.label))


def default_network() -> str:
    """What --network means when not given (Docker's is 'bridge')."""
    return os.environ.get("ONGGI_DEFAULT_NETWORK", "bridge")


def _env_item(item: str) -> str:
    # Docker: "-e KEY" passes the host's value of KEY, if it has one.
    if "=" in item:
        return item
    return f"{item}={os.environ[item]}" if item in os.environ else item


def _read_env_file(path: str) -> list[str]:
    from ..errors import InvalidArgument
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError as e:
        raise InvalidArgument(f"cannot read env file {path}: {e.strerror}") from None
    return [_env_item(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def run_setup(p) -> None:
    p.add_argument("-d", "--detach", action="store_true", help="run in the background and print the container ID")
    p.add_argument("--step", action="store_true",
                   help="pause before each launch step and explain it (onggi's own flag)")
    _container_flags(p)


def run(args) -> int:
    from ..errors import InvalidArgument
    if args.detach and args.step:
        raise InvalidArgument("--step and -d cannot be used together",
                              hint="a step-through needs you at the terminal")
    if args.interactive and args.tty and not os.isatty(0):
        raise InvalidArgument("the input device is not a TTY",
                              hint="drop -t, or run from a terminal")
    rt = _runtime()
    rt.check_host()
    here = args.served is not None and not args.detach and not args.step
    _prime_unless_here(rt, args, here)
    container = rt.create(_spec(args))
    return _start_and_attach(rt, container, attach=not args.detach, step=args.step,
                             served=args.served if here else None)


def _prime_unless_here(rt, args, here: bool) -> None:
    """A client primes the cgroup migration lock for the launches it runs itself
    (main()); a warm worker's launch that this process supervises (here) has the
    worker's zygote and needs none. The others, a monitor forked from here
    (detached, step-through), get it now."""
    if args.served is not None and not here:
        rt.cgroups.warm_up(rt.config.proc)


def _start_and_attach(rt, container, *, attach: bool, step: bool = False, served=None) -> int:
    """Start; when attached, stay until the container exits and return its exit code.

    served: a warm worker's (args.served): be the container's monitor in this
    process (see Container.run_here), with its zygote, deleting a --rm
    container's files after the client has its answer; otherwise a monitor is
    forked and this process proxies signals to the container and waits on it.
    """
    from .terminal import SignalProxy, StepPrompter, raw_mode
    # -it: raw from before the start, since a shell's first act may be to ask our
    # terminal where its cursor is (busybox does); the answer must not be echoed.
    # A step-through's prompts need the line editing of cooked mode: raw after them.
    raw = attach and container.spec.tty and container.spec.interactive
    if attach and served is not None and not step:
        with raw_mode(raw):
            return container.run_here(zygote=served.zygote, defer=served.later.append)
    prompter = StepPrompter() if step else None
    with SignalProxy(tty=container.spec.tty) if attach else _nothing() as proxy, raw_mode(raw and not step):
        handle = container.start(attach=attach, gate=prompter.gate if prompter else None,
                                 on_report=prompter.report if prompter else None)
        try:
            pid = handle.wait_started()
            if not attach:
                print(container.id)
                return 0
            proxy.started(pid, handle.monitor_pid)
            with raw_mode(raw and step):
                code, _oom = handle.wait_exit()
            return code
        finally:
            handle.close()
            if attach:
                try:
                    os.waitpid(handle.monitor_pid, os.WNOHANG)
                except ChildProcessError:
                    pass


def _nothing():
    import contextlib
    return contextlib.nullcontext()


def create_setup(p) -> None:
    _container_flags(p)


def create(args) -> int:
    rt = _runtime()
    container = rt.create(_spec(args))
    print(container.id)
    return 0


# --- start / stop / kill / rm / wait ----------------------------------------------------

def start_setup(p) -> None:
    p.add_argument("-a", "--attach", action="store_true", help="attach STDOUT/STDERR and forward signals")
    p.add_argument("-i", "--interactive", action="store_true", help="attach the container's STDIN")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def start(args) -> int:
    rt = _runtime()
    _prime_unless_here(rt, args, args.served is not None and args.attach)
    if args.attach and len(args.containers) > 1:
        from ..errors import InvalidArgument
        raise InvalidArgument("you cannot start and attach multiple containers at once")
    code = 0
    for ref in args.containers:
        if args.attach:
            return _start_and_attach(rt, rt.container(ref), attach=True, served=args.served)
        # Each looked up inside _each: one unknown name must not stop the others.
        code = _each(lambda r=ref: _start_detached(rt.container(r)), ref, code)
    return code


def _start_detached(container) -> None:
    if container.state.status.value == "running":
        return                  # Docker: starting a running container does nothing, and says its name
    handle = container.start(attach=False)
    try:
        handle.wait_started()
    finally:
        handle.close()


def _each(action, ref: str, code: int) -> int:
    """Docker's multi-target verbs: print each name done, report each failure, go on."""
    from ..errors import OnggiError
    try:
        action()
        print(ref)
        return code
    except OnggiError as e:
        print(f"onggi: {e.one_line()}", file=sys.stderr)
        return e.exit_code if code == 0 else code


def stop_setup(p) -> None:
    p.add_argument("-t", "--time", type=int, default=10, help="seconds to wait before killing it")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def stop(args) -> int:
    rt = _runtime()
    code = 0
    for ref in args.containers:
        code = _each(lambda r=ref: rt.container(r).stop(timeout=args.time), ref, code)
    return code


def kill_setup(p) -> None:
    p.add_argument("-s", "--signal", default="KILL", help="signal to send to the container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def kill(args) -> int:
    from ..container.container import parse_signal
    rt = _runtime()
    sig = parse_signal(args.signal)
    code = 0
    for ref in args.containers:
        code = _each(lambda r=ref: rt.container(r).kill(sig), ref, code)
    return code


def rm_setup(p) -> None:
    p.add_argument("-f", "--force", action="store_true", help="force the removal of a running container")
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def rm(args) -> int:
    from ..errors import ContainerNotFound
    rt = _runtime()
    code = 0
    for ref in args.containers:
        if args.force:
            # Docker's `rm -f` of a container that is not there is no error (the
            # state asked for already holds): scripts clean up with it before a run.
            try:
                rt.container(ref)
            except ContainerNotFound:
                continue
        code = _each(lambda r=ref: rt.container(r).remove(force=args.force), ref, code)
    return code


def wait_setup(p) -> None:
    p.add_argument("containers", nargs="+", metavar="CONTAINER")


def wait(args) -> int:
    rt = _runtime()
    code = 0
    for ref in args.containers:
        from ..errors import OnggiError
        try:
            print(rt.container(ref).wait())
        except OnggiError as e:
            print(f"onggi: {e.one_line()}", file=sys.stderr)
            code = e.exit_code
    return code


# --- ps ----------------------------------------------------------------------------------

def ps_setup(p) -> None:
    p.add_argument("-a", "--all", action="store_true", help="show all containers (default shows just running)")
    p.add_argument("-q", "--quiet", action="store_true", help="only display container IDs")
    p.add_argument("--no-trunc", action="store_true", help="don't truncate output")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="KEY=VALUE",
                   help="filter by id, name, status, label, ancestor or exited")
    p.add_argument("--format", help="'table TEMPLATE', 'json', or a Go template, e.g. '{{.Names}}'")


def ps(args) -> int:
    from . import pslist
    filters = pslist.parse_filters(args.filter)
    rt = _runtime()
    # Docker lists stopped containers too when asked for them by status.
    shown = [c for c in rt.ps(all=args.all or "status" in filters or "exited" in filters)
             if pslist.matches(c, filters)]
    if args.quiet:
        for c in shown:
            print(c.id if args.no_trunc else c.short_id)
        return 0
    rows = [pslist.fields(c, no_trunc=args.no_trunc, published=_published(rt, c), ports_text=ports_text,
                          status_text=status_text, ago=output.ago) for c in shown]
    pslist.render(rows, args.format or pslist.DEFAULT_TABLE, sys.stdout)
    return 0


def status_text(state) -> str:
    """Docker's STATUS column: 'Up 3 minutes', 'Exited (0) 2 seconds ago', 'Created'."""
    from datetime import datetime, timezone
    s = state.status.value
    if s == "running":
        started = output.parse_time(state.started_at)
        up = output.duration((datetime.now(timezone.utc) - started).total_seconds()) if started else ""
        return f"Up {up}"
    if s == "exited":
        return f"Exited ({state.exit_code}) {output.ago(state.finished_at)}".rstrip()
    return s.capitalize()


def ports_text(spec, published=None) -> str:
    """Docker's PORTS column; published: (host_ip, host_port, port, proto) actually held."""
    if published:
        return ", ".join(f"{ip}:{hp}->{p}/{proto}" for ip, hp, p, proto in published)
    return ", ".join(f"{p.host_ip}:{p.host_port}->{p.port}/{p.proto}" for p in spec.ports)


def _published(rt, c):
    # A running container's real host ports (-p 80 picks one); only asked when it publishes any.
    if not c.spec.ports or c.state.status.value != "running":
        return None
    return rt.networks.published_ports(c.id)


# --- logs / exec / inspect / top / stats / diff / commit ---------------------------------

def logs_setup(p) -> None:
    p.add_argument("-f", "--follow", action="store_true", help="follow log output")
    p.add_argument("-n", "--tail", default="all", help="number of lines to show from the end of the logs")
    p.add_argument("-t", "--timestamps", action="store_true", help="show timestamps")
    p.add_argument("container")


def logs(args) -> int:
    tail = _tail(args.tail)
    rt = _runtime()
    c = rt.container(args.container)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    for stream, data, when in c.logs(follow=args.follow, tail=tail):
        target = err if stream == "stderr" else out
        if args.timestamps:
            target.write(when.encode() + b" ")
        target.write(data)
        target.flush()
    return 0


def _tail(text: str) -> int | None:
    """--tail: "all" or a number of lines; a negative number means all, as in Docker."""
    from ..errors import InvalidArgument
    if text == "all":
        return None
    try:
        n = int(text)
    except ValueError:
        raise InvalidArgument(f"invalid --tail '{text}'", hint="use a number of lines or 'all'") from None
    return None if n < 0 else n


def exec_setup(p) -> None:
    p.usage = f"{p.prog} [OPTIONS] CONTAINER COMMAND [ARG...]"
    p.add_argument("-d", "--detach", action="store_true", help="detached mode: run command in the background")
    p.add_argument("-i", "--interactive", action="store_true", help="keep STDIN open")
    p.add_argument("-t", "--tty", action="store_true", help="allocate a pseudo-TTY")
    p.add_argument("-e", "--env", action="append", default=[], help="set environment variables")
    p.add_argument("-w", "--workdir", help="working directory inside the container")
    p.add_argument("-u", "--user", help="username or UID")
    p.add_argument("container")
    p.add_argument("command", nargs=argparse.REMAINDER)


def exec_(args) -> int:
    from ..errors import InvalidArgument
    if not args.command:
        raise InvalidArgument("exec needs a command", hint="e.g. 'onggi exec -it NAME sh'")
    rt = _runtime()
    rt.check_host()
    c = rt.container(args.container)
    return c.exec(args.command, env=[_env_item(e) for e in args.env], workdir=args.workdir,
                  user=args.user, tty=args.tty, interactive=args.interactive, detach=args.detach)


def inspect_setup(p) -> None:
    p.add_argument("-f", "--format", help="print one field, e.g. '{{.State.Pid}}'")
    p.add_argument("--type", choices=("container", "image"), help="only look for this kind of object")
    p.add_argument("names", nargs="+", metavar="NAME|ID")


def inspect(args) -> int:
    from ..errors import NotFound, OnggiError
    rt = _runtime()
    results, code = [], 0
    for ref in args.names:
        try:
            if args.type != "image":
                try:
                    results.append(rt.container(ref).inspect())
                    continue
                except NotFound:
                    if args.type == "container":
                        raise
            try:
                results.append(rt.images.inspect(ref))
            except NotFound:
                if args.type == "image":
                    raise
                # Neither kind has it: saying "no such image" would hide that containers were searched too.
                raise NotFound(f"no such object: {ref}",
                               hint="'onggi ps -a' lists the containers and 'onggi images' the images") from None
        except OnggiError as e:
            print(f"onggi: {e.one_line()}", file=sys.stderr)
            code = 1
    output.print_documents(results, args.format)
    return code


def format_template(template: str, data) -> str:
    """-f's Go template filled in from one document (see template.py)."""
    from .template import render
    return render(template, data)


def top_setup(p) -> None:
    p.add_argument("container")


def top(args) -> int:
    rt = _runtime()
    c = rt.container(args.container)
    c.require_running()
    rows = [[p["uid"], str(p["pid"]), str(p["ppid"]), p["c"], p["stime"], p["tty"], p["time"], p["cmd"]]
            for p in c.top()]
    output.table(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], rows)
    return 0


def stats_setup(p) -> None:
    p.add_argument("--no-stream", action="store_true", help="print the first result and exit")
    p.add_argument("-a", "--all", action="store_true", help="show all containers (default shows just running)")
    p.add_argument("containers", nargs="*", metavar="CONTAINER")


def stats(args) -> int:
    import time
    rt = _runtime()
    headers = ["CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "PIDS"]
    while True:
        targets = [rt.container(r) for r in args.containers] if args.containers else rt.ps(all=args.all)
        rows = []
        for c in targets:
            s = c.stats() if c.state.status.value == "running" else None
            if s is None:
                rows.append([c.short_id, c.name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0"])
                continue
            rows.append([c.short_id, c.name, f"{s['cpu_percent']:.2f}%",
                         f"{output.human_binary(s['memory_usage'])} / {output.human_binary(s['memory_limit'])}",
                         f"{s['memory_percent']:.2f}%",
                         f"{output.human_size(s['net_rx'])} / {output.human_size(s['net_tx'])}",
                         str(s["pids"] if s["pids"] is not None else "--")])
        if not args.no_stream:
            sys.stdout.write("\033[2J\033[H")
        output.table(headers, rows)
        sys.stdout.flush()
        if args.no_stream:
            return 0
        time.sleep(0.5)


def diff_setup(p) -> None:
    p.add_argument("container")


def diff(args) -> int:
    rt = _runtime()
    for kind, path in rt.container(args.container).diff():
        print(f"{kind} {path}")
    return 0


def commit_setup(p) -> None:
    p.add_argument("-m", "--message", default="", help="commit message")
    p.add_argument("-a", "--author", default="", help="author")
    p.add_argument("-c", "--change", action="append", default=[],
                   help="apply a Dockerfile instruction (CMD, ENV, WORKDIR, ENTRYPOINT, USER, LABEL, EXPOSE)")
    p.add_argument("container")
    p.add_argument("repository", nargs="?", metavar="REPOSITORY[:TAG]")


def commit(args) -> int:
    rt = _runtime()
    c = rt.container(args.container)
    image = c.commit(args.repository, changes=parse_changes(args.change), comment=args.message,
                     author=args.author)
    print(image.id)
    return 0


def parse_changes(changes: list[str]) -> dict:
    """`--change 'CMD ["sh"]'` and friends, as config fields."""
    import json
    import shlex
    from ..errors import InvalidArgument
    out: dict = {}
    for change in changes:
        word, _, rest = change.strip().partition(" ")
        word, rest = word.upper(), rest.strip()

        def as_list(text):
            if text.startswith("["):
                try:
                    return json.loads(text)
                except ValueError:
                    raise InvalidArgument(f"invalid JSON in --change '{change}'") from None
            return ["/bin/sh", "-c", text]
        if word == "CMD":
            out["Cmd"] = as_list(rest)
        elif word == "ENTRYPOINT":
            out["Entrypoint"] = as_list(rest)
        elif word == "ENV":
            key, _, value = rest.partition("=") if "=" in rest else rest.partition(" ")
            out.setdefault("Env", []).append(f"{key.strip()}={value.strip()}")
        elif word == "WORKDIR":
            out["WorkingDir"] = rest
        elif word == "USER":
            out["User"] = rest
        elif word == "LABEL":
            for item in shlex.split(rest):
                k, _, v = item.partition("=")
                out.setdefault("Labels", {})[k] = v
        elif word == "EXPOSE":
            for port in rest.split():
                out.setdefault("ExposedPorts", {})[port if "/" in port else f"{port}/tcp"] = {}
        else:
            raise InvalidArgument(f"--change does not support '{word}'",
                                  hint="use CMD, ENTRYPOINT, ENV, WORKDIR, USER, LABEL or EXPOSE")
    return out


# --- events -----------------------------------------------------------------------------

def events_setup(p) -> None:
    p.add_argument("--since", help="show events since this many seconds ago (e.g. 10m, 30s) or a unix time")
    p.add_argument("--format", help="'json' prints each event as one JSON line")
    p.add_argument("-f", "--filter", action="append", default=[], help="type=container, id=ID, event=started")


def events(args) -> int:
    import json
    from ..eventlog import EventLog
    from ..config import Config
    log = EventLog(Config.from_env().events_log)
    since = _parse_since(args.since) if args.since else None
    filters = [f.partition("=")[::2] for f in args.filter]
    for event in log.follow(since=since):
        if not _matches(event, filters):
            continue
        if args.format == "json":
            print(json.dumps(event, ensure_ascii=False), flush=True)
        else:
            print(_event_line(event), flush=True)
    return 0


def _parse_since(text: str) -> float:
    import time
    units = {"s": 1, "m": 60, "h": 3600}
    if text[-1:] in units and text[:-1].replace(".", "", 1).isdigit():
        return time.time() - float(text[:-1]) * units[text[-1]]
    return float(text)


def _matches(event: dict, filters) -> bool:
    kind, _, action = event["type"].partition(".")
    for key, value in filters:
        if key == "type" and kind != value:
            return False
        if key == "event" and action != value:
            return False
        if key in ("id", "container") and not event["id"].startswith(value) and \
                event.get("data", {}).get("name") != value:
            return False
    return True


def _event_line(event: dict) -> str:
    from datetime import datetime, timezone
    when = datetime.fromtimestamp(event["time"], timezone.utc).isoformat(timespec="microseconds")
    kind, _, action = event["type"].partition(".")
    data = event.get("data") or {}
    attrs = ", ".join(f"{k}={v}" for k, v in data.items() if not isinstance(v, (dict, list)) and v not in ("", None))
    return f"{when} {kind} {action} {event['id']}" + (f" ({attrs})" if attrs else "")


COMMANDS = {
    "run": (run_setup, run), "create": (create_setup, create), "start": (start_setup, start),
    "stop": (stop_setup, stop), "kill": (kill_setup, kill), "rm": (rm_setup, rm),
    "wait": (wait_setup, wait), "ps": (ps_setup, ps), "logs": (logs_setup, logs),
    "exec": (exec_setup, exec_), "inspect": (inspect_setup, inspect), "top": (top_setup, top),
    "stats": (stats_setup, stats), "diff": (diff_setup, diff), "commit": (commit_setup, commit),
    "events": (events_setup, events),
}
