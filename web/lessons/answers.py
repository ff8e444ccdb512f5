"""Live answers: quiz answers (and ``{{name:arg}}`` values in commands) read from the live state.

``answer(ctx, kind, params) -> str`` reads what the question asks now: the PID
the host sees for a container's PID 1 (its init's pid), a namespace's inode
(/proc/PID/ns), a cgroup interface file, an IP address, an image's layer count
or size, a hostname, an exit code, the host's hostname or kernel, the kernel
the lesson's VM reported. When it cannot be read (no such container yet) it
raises a one-line :class:`runtime.errors.OnggiError` saying what to do first.

``same(expected, given)`` compares after trimming, numbers as numbers.
"""
from __future__ import annotations

import os
import re

from runtime.errors import Conflict, NotFound, OnggiError

from . import params as P
from .params import Signature

CGROUP_FILES = ("memory.max", "memory.current", "memory.peak", "memory.swap.max", "cpu.max",
                "cpu.weight", "cpu.stat", "pids.max", "pids.current", "memory.events",
                "pids.events")
# v2 name -> v1 name (give the v2 name in a lesson; onggi maps it on a v1 host).
V1_NAMES = {"memory.max": "memory.limit_in_bytes", "memory.current": "memory.usage_in_bytes",
            "memory.peak": "memory.max_usage_in_bytes", "memory.swap.max": "memory.memsw.limit_in_bytes",
            "cpu.weight": "cpu.shares", "memory.events": "memory.oom_control"}
_V1_UNLIMITED = 1 << 62

_kind = P.one_of("pid", "mnt", "uts", "ipc", "net", "cgroup", "user", "time")

ANSWERS = {
    "host_pid": Signature(("name",), shorthand="name"),
    "ns_inode": Signature(("name", "kind"), validators={"kind": _kind}),
    "cgroup_value": Signature(("name", "file"), validators={"file": P.one_of(*CGROUP_FILES)}),
    "ip_address": Signature(("name",), shorthand="name"),
    "layer_count": Signature(("ref",), shorthand="ref"),
    "image_size": Signature(("ref",), shorthand="ref"),
    "hostname": Signature(("name",), shorthand="name"),
    "exit_code": Signature(("name",), shorthand="name"),
    "host_hostname": Signature(),
    "host_kernel": Signature(),
    "vm_kernel": Signature(),
}
# Those that fit in a command as {{kind:arg}}.
ONE_ARG = tuple(k for k, s in ANSWERS.items() if s.shorthand)
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+):([^{}\s]+)\s*\}\}")


class Skipped(OnggiError):
    """The question does not apply here (a VM quiz when the VM was only modeled)."""


def answer(ctx, kind: str, params: dict) -> str:
    """The answer to a live question now, as text."""
    rt = ctx.rt
    if kind == "host_hostname":
        return rt.host_hostname()
    if kind == "host_kernel":
        truth = getattr(rt, "truth", None)
        return truth.kernel_release() if truth is not None else os.uname().release
    if kind == "vm_kernel":
        found = ctx.result("vm_boot")
        if found is None:
            raise Conflict("no VM has booted in this lesson yet", hint="press the step's button first")
        vm = found["data"].get("vm") or {}
        if vm.get("mode") == "modeled" or not vm.get("kernel"):
            raise Skipped("the VM was only modeled on this computer, so it reported no kernel")
        return str(vm["kernel"])
    if kind in ("layer_count", "image_size"):
        image = rt.images.resolve(params["ref"])
        return str(len(image.diff_ids) if kind == "layer_count" else image.size)
    c = _container(ctx, params["name"])
    state = c.state
    if kind == "exit_code":
        if state.status.value != "exited" or state.exit_code is None:
            raise Conflict(f"container {c.name} has not exited yet", hint="wait for it to end, or stop it")
        return str(state.exit_code)
    if kind == "hostname":
        return str(c.inspect()["Config"]["Hostname"])
    pid = _running_pid(c)
    if kind == "host_pid":
        return str(pid)
    if kind == "ns_inode":
        return str(namespace_inodes(rt, pid).get(params["kind"], ""))
    if kind == "ip_address":
        address = ip_address(c)
        if not address:
            raise Conflict(f"container {c.name} has no IP address", hint="it is on no network with addresses")
        return address
    if kind == "cgroup_value":
        value = cgroup_file(rt, c, params["file"])
        if value is None:
            raise NotFound(f"the cgroup file {params['file']} of {c.name} cannot be read here")
        return value
    raise NotFound(f"no such live answer: {kind}")


def _container(ctx, name: str):
    c = ctx.container(name)
    if c is None:
        raise NotFound(f"no container named {name} yet", hint="do the step's action first")
    return c


def _running_pid(c) -> int:
    state = c.state
    if state.status.value != "running" or not state.pid:
        raise Conflict(f"container {c.name} is not running", hint="start it first")
    return state.pid


def namespace_inodes(rt, pid: int) -> dict:
    """The container's namespace inodes (/proc/PID/ns), or the simulated runtime's."""
    truth = getattr(rt, "truth", None)
    if truth is not None:
        return truth.namespace_inodes(pid)
    from runtime.inspect import namespaces
    return namespaces.inodes(pid, rt.config.proc)


def host_namespace_inodes(rt) -> dict:
    truth = getattr(rt, "truth", None)
    if truth is not None:
        return truth.namespace_inodes("host")
    from runtime.inspect import namespaces
    return namespaces.inodes("self", rt.config.proc)


def ip_address(c) -> str:
    settings = c.inspect().get("NetworkSettings") or {}
    if settings.get("IPAddress"):
        return settings["IPAddress"]
    for net in (settings.get("Networks") or {}).values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    return ""


def cgroup_file(rt, c, name: str) -> str | None:
    """What the cgroup interface file NAME (v2 spelling) of container C reads, trimmed.

    On cgroup v1 the v1 file is read instead (memory.max is memory.limit_in_bytes;
    its "no limit" is shown as "max", as v2 shows it; cpu.max is made from
    cpu.cfs_quota_us and cpu.cfs_period_us).
    """
    try:
        files = rt.cgroups.get(c.id).files()
    except (OSError, LookupError):
        return None
    if name in files:
        return files[name]
    if name == "cpu.max" and "cpu.cfs_period_us" in files:
        quota = files.get("cpu.cfs_quota_us", "-1")
        return f"{'max' if quota.startswith('-') else quota} {files['cpu.cfs_period_us']}"
    if name == "pids.events":
        return _read_events_file(rt, c, "pids", "pids.events")
    v1 = V1_NAMES.get(name)
    if v1 and v1 in files:
        value = files[v1]
        if name in ("memory.max", "memory.swap.max") and value.isdigit() and int(value) >= _V1_UNLIMITED:
            return "max"
        return value
    if name == "memory.events":
        return _read_events_file(rt, c, "unified", "memory.events")
    return None


def _read_events_file(rt, c, controller: str, name: str) -> str | None:
    try:
        dirs = rt.cgroups.get(c.id).dirs()
    except (OSError, LookupError, AttributeError):
        return None
    d = dirs.get(controller) or dirs.get("unified")
    if d is None:
        return None
    try:
        return (d / name).read_text().strip()
    except OSError:
        return None


# -- comparing -----------------------------------------------------------------------------

def same(expected: str, given) -> bool:
    """Equal after trimming; numbers compared as numbers ("64" == "64.0"); an IPv4
    address also as the learner copies it from `ip addr`, with its prefix length."""
    a, b = str(expected).strip(), str(given).strip()
    if a == b:
        return True
    if _IPV4.fullmatch(a) and re.fullmatch(re.escape(a) + r"/\d{1,2}", b):
        return True
    x, y = _number(a), _number(b)
    return x is not None and y is not None and x == y


_IPV4 = re.compile(r"\d{1,3}(\.\d{1,3}){3}")


def _number(text: str):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


# -- {{kind:arg}} in commands ----------------------------------------------------------------

def placeholders(text: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(text or "")]


def substitute(ctx, text: str) -> tuple[str, list[str]]:
    """TEXT with each {{kind:arg}} replaced by its live value; the ones that could
    not be read are left as they are and listed (as "kind:arg: why")."""
    missing: list[str] = []

    def one(m):
        kind, arg = m.group(1), m.group(2)
        if kind not in ONE_ARG:
            return m.group(0)
        try:
            return answer(ctx, kind, {ANSWERS[kind].shorthand: arg})
        except OnggiError as exc:
            missing.append(f"{kind}:{arg}: {exc}")
            return m.group(0)
    return PLACEHOLDER.sub(one, text or ""), missing


def substitute_params(ctx, value):
    """An action's parameters with live values in every string; (value, missing)."""
    missing: list[str] = []

    def walk(v):
        if isinstance(v, str):
            out, miss = substitute(ctx, v)
            missing.extend(miss)
            return out
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        return v
    return walk(value), missing
