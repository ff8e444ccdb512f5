"""A simulated launch: the six steps of ``runtime/container/steps.py``, each changing the world.

Each step does in the world what the real one does in the kernel, and reports
what "the kernel" now shows in the same shape as the real step's report
(``runtime/container/launch.py``, ``_step_*``), with ``"simulated": true``:

1. ``rootfs``: the overlay is "mounted" (the layers view shows the merged root);
2. ``cgroup``: the cgroup exists with its limits (the cgroups view shows it, empty);
3. ``namespaces``: the first process gets a host pid and new namespace inode
   numbers (pid, mnt, uts, ipc, net unless shared, cgroup); it waits;
4. ``network``: an address and a veth pair on each of its bridge networks;
5. ``mounts``: /proc, /sys, /dev and the rest inside, then pivot_root;
6. ``exec``: the command is checked, planned (:mod:`.plan`) and "runs".

:func:`undo` takes a half-made launch apart again (a cancelled step-through,
a command that does not exist), so nothing half-made is left behind.
"""
from __future__ import annotations

import time

from runtime.errors import CommandNotExecutable, CommandNotFound
from runtime.linux.caps import DOCKER_DEFAULT
from runtime.linux.syscalls import (CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID,
                                    CLONE_NEWUTS)

from . import plan as plans
from .cgroups import limits_of
from .machine import HOST_NS
from .shell.interp import find_program
from .state import next_number

CAPS = sorted("CAP_" + c for c in DOCKER_DEFAULT)
WAITING = "(waiting to exec)"


def step(rt, world: dict, c: dict, name: str) -> dict:
    """Run step NAME of container record C's launch in WORLD; its report."""
    report = globals()[f"_{name}"](rt, world, c)
    c.setdefault("launch", []).append(name)
    report["simulated"] = True
    return report


def _rootfs(rt, world, c) -> dict:
    truth = rt.truth
    lower = truth.lower_dirs(c)
    upper, work, merged = (truth.container_dir(c) / sub for sub in ("upper", "work", "merged"))
    data = f"lowerdir={':'.join(lower[::-1])},upperdir={upper},workdir={work}"
    return {"mountpoint": str(merged), "fstype": "overlay", "lowerdir": lower[::-1],
            "upperdir": str(upper), "workdir": str(work), "layers": len(c["layers"]),
            "init_layer": lower[-1], "data": data}


def _cgroup(rt, world, c) -> dict:
    path = f"/{rt.config.cgroup_parent}/{c['id']}"
    return {"path": path, "version": "v2",
            "dirs": {"unified": str(rt.config.cgroup_root / rt.config.cgroup_parent / c["id"])},
            "files": rt.truth.cgroup_files(c, fresh=True)}


def _namespaces(rt, world, c) -> dict:
    mode = c["spec"]["network"]
    shared_net = mode == "host" or mode.startswith("container:")
    kinds = ["pid", "mnt", "uts", "ipc"] + ([] if shared_net else ["net"]) + ["cgroup"]
    ns = dict(HOST_NS)
    for kind in kinds:
        ns[kind] = next_number(world, "inode")
    if mode.startswith("container:"):
        other = rt.truth.record_of(mode.partition(":")[2], world)
        if other and other.get("ns"):
            ns["net"] = other["ns"]["net"]
    pid = next_number(world, "pid", 2)
    c["ns"], c["pid"] = ns, pid
    c["procs"] = [{"pid": pid, "nspid": 1, "cmd": WAITING, "kind": "idle", "since": time.time()}]
    flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | (0 if shared_net else CLONE_NEWNET)
    return {"pid": pid, "flags": flags,
            "namespaces": {k: {"container": ns[k], "host": HOST_NS[k], "isolated": ns[k] != HOST_NS[k]}
                           for k in ns},
            "cgroup": ["0::/"]}


def _network(rt, world, c) -> dict:
    mode = c["spec"]["network"]
    names = lambda ifs: [i["name"] for i in ifs]       # noqa: E731
    if mode == "none":
        return {"mode": "none", "interfaces": ["lo"]}
    if mode == "host":
        return {"mode": "host", "interfaces": names(rt.truth.host_interfaces())}
    if mode.startswith("container:"):
        other = rt.truth.record_of(mode.partition(":")[2], world) or {}
        return {"mode": "container", "container": other.get("id", ""),
                "interfaces": [{"name": "lo"}] + [{"name": ep["ifname"], "addresses": [ep["address"]]}
                                                  for ep in other.get("net", {}).get("endpoints", [])]}
    from runtime.container.spec import ContainerSpec
    spec = ContainerSpec.from_dict(c["spec"])
    c.setdefault("net", {})["endpoints"] = []
    reports = []
    for index, name in enumerate(c.get("networks") or [mode]):
        ep = rt.networks.attach(world, c, name, ifname=f"eth{index}",
                                ports=spec.ports if index == 0 else ())
        reports.append(ep)
    view = rt.truth.netns_view(c)
    first = reports[0]
    report = {"mode": "bridge", "network": first["network"], "network_id": first["network_id"],
              "bridge": first["bridge"], "bridge_ifindex": first["bridge_ifindex"],
              "address": first["address"], "gateway": first["gateway"], "mac": first["mac"],
              "ports": [f"{h}:{hp}->{p}/{proto}" for h, hp, p, proto in first["ports"]],
              "host_veth": {"name": first["veth"], "ifindex": first["veth_ifindex"], "state": "up",
                            "master": first["bridge_ifindex"], "peer_ifindex": first["ifindex"],
                            "alias": f"{rt.config.bridge_prefix}:{c['id']}", "kind": "veth"},
              "container_veth": next(i for i in view["interfaces"] if i["name"] == first["ifname"]),
              **view}
    if len(reports) > 1:
        report["endpoints"] = reports
    return report


def _mounts(rt, world, c) -> dict:
    mounts = [{k: m[k] for k in ("mountpoint", "fstype", "source", "options")} | {"root": "/"}
              for m in rt.truth.container_mounts(c)]
    return {"mounts": mounts, "root": mounts[0]}


def _exec(rt, world, c) -> dict:
    fs = rt.truth.container_fs(c, world)
    args = c["process"]["args"]
    env = dict(e.partition("=")[::2] for e in c["process"]["env"])
    program = find_program(fs, args[0], env.get("PATH", "/bin"), c["process"]["cwd"])
    if program is None:
        if "/" in args[0]:
            raise CommandNotFound(f'exec: "{args[0]}": stat {args[0]}: no such file or directory')
        raise CommandNotFound(f'exec: "{args[0]}": executable file not found in $PATH')
    if not fs.lookup(program).get("m", 0) & 0o111:
        raise CommandNotExecutable(f'exec: "{args[0]}": permission denied')
    spec = c["spec"]
    limits = limits_of(spec)
    # execve has happened by the time PID 1 runs: its own `ps` shows its command, not the wait.
    c["procs"][0]["cmd"] = plans.command_line(args)
    plan = plans.make(rt, world, c, fs, memory=limits.memory, pids=limits.pids)
    # What the process writes lands in its writable layer at once (the plan ran it ahead of time).
    c["upper"] = fs.upper
    now = time.time()
    c["plan"] = plan.to_dict()
    c["started"] = now
    c["procs"][0].update(cmd=plans.command_line(plan.image or args), kind="busy" if plan.busy and not plan.spawned else "idle",
                         since=now)
    for argv, kind in plan.spawned:
        c["procs"].append({"pid": next_number(world, "pid"), "nspid": len(c["procs"]) + 1,
                           "cmd": plans.command_line(argv), "kind": kind, "since": now})
    if plan.busy and plan.spawned:
        c["procs"][0]["kind"] = "busy"
    c["forks_refused"] = c.get("forks_refused", 0) + plan.refused
    c["listens"] = list(plan.listens)
    c.setdefault("log", []).extend([now + offset, stream, text] for offset, stream, text in plan.output)
    state = c["state"]
    state.update(status="running", pid=c["pid"], monitor_pid=0, exit_code=None, oom_killed=False,
                 started_at=iso(now), finished_at="", error="")
    return {"pid": c["pid"], "args": list(args), "hostname": c["process"]["hostname"],
            "cap_effective": CAPS, "cap_bounding": CAPS, "no_new_privs": True, "nspid": [c["pid"], 1]}


def undo(rt, world: dict, c: dict) -> None:
    """Take apart whatever the launch made so far: processes, network, cgroup, mount."""
    if "network" in c.get("launch", []) and c.get("net"):
        rt.networks.detach(world, c)
    c["launch"], c["procs"], c["ns"], c["pid"], c["listens"] = [], [], {}, 0, []


def iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z"
