"""`onggi inspect CONTAINER`: Docker's document, plus what the kernel shows right now.

The Docker-shaped keys (Id, State, Config, HostConfig, GraphDriver, NetworkSettings)
come from the container's files; ``Namespaces`` and ``Cgroup`` are read from /proc
and cgroupfs at the moment of the call (for a running container).
"""
from __future__ import annotations

from . import mounts as mountinfo
from . import namespaces


def inspect(container) -> dict:
    r = container.record
    spec = r.spec
    state = container.state
    running = state.status.value == "running"
    rt = container.rt
    proc = rt.config.proc
    limits = rt.limits_for(spec)
    overlay = None
    if running:
        try:
            overlay = mountinfo.find(mountinfo.mountinfo("self", proc), str(r.merged))
        except OSError:
            overlay = None
    doc = {
        "Id": r.id,
        "Created": r.created,
        "Path": r.process.args[0] if r.process.args else "",
        "Args": list(r.process.args[1:]),
        "State": {
            "Status": state.status.value, "Running": running, "Paused": False,
            "Restarting": False, "OOMKilled": state.oom_killed, "Dead": False,
            "Pid": state.pid if running else 0,
            "ExitCode": state.exit_code if state.exit_code is not None else 0,
            "Error": state.error, "StartedAt": state.started_at or "0001-01-01T00:00:00Z",
            "FinishedAt": state.finished_at or "0001-01-01T00:00:00Z",
        },
        "Image": r.image_id,
        "Name": "/" + r.name,
        "RestartCount": state.restart_count,
        "Driver": "overlay",
        "Platform": "linux",
        "LogPath": str(r.log_path),
        "HostConfig": {
            "Memory": limits.memory or 0,
            "MemorySwap": limits.memory or 0,
            "NanoCpus": int((spec.cpus or 0) * 1e9),
            "CpuQuota": limits.cpu_quota or 0,
            "CpuPeriod": limits.cpu_period if limits.cpu_quota else 0,
            "PidsLimit": limits.pids,
            "NetworkMode": spec.network,
            "AutoRemove": spec.auto_remove,
            "ReadonlyRootfs": spec.read_only,
            "Binds": [f"{v.source}:{v.target}" + (":ro" if v.readonly else "") for v in spec.volumes],
            "PortBindings": _port_bindings(spec),
            "CapAdd": None, "CapDrop": None, "Privileged": False,
        },
        "GraphDriver": {
            "Name": "overlay",
            "Data": {
                "LowerDir": ":".join(reversed(r.lower_dirs)),
                "UpperDir": str(r.upper),
                "WorkDir": str(r.work),
                "MergedDir": str(r.merged),
            },
        },
        "Mounts": [{"Type": "bind", "Source": v.source, "Destination": v.target,
                    "Mode": "ro" if v.readonly else "", "RW": not v.readonly,
                    "Propagation": "rprivate"} for v in spec.volumes],
        "Config": {
            "Hostname": r.process.hostname,
            "User": r.process.user,
            "Tty": spec.tty,
            "OpenStdin": spec.interactive,
            "Env": list(r.process.env),
            "Cmd": list(spec.cmd) if spec.cmd else None,
            "Entrypoint": list(spec.entrypoint) if spec.entrypoint is not None else None,
            "Image": r.image,
            "WorkingDir": spec.workdir or "",
            "Labels": dict(spec.labels),
        },
        "NetworkSettings": _network_settings(container),
    }
    if running:
        doc["Namespaces"] = {k: {"Inode": v["container"], "HostInode": v["host"],
                                 "Isolated": v["isolated"]}
                             for k, v in namespaces.compare(state.pid, proc).items()}
        doc["GraphDriver"]["Mounted"] = overlay is not None
    try:
        cg = rt.cgroups.get(r.id)
        doc["Cgroup"] = {"Path": cg.path, "Version": rt.cgroups.version,
                         "Exists": rt.cgroups.exists(r.id),
                         "Files": cg.files() if running else {}}
    except (OSError, LookupError):
        doc["Cgroup"] = None
    return doc


def _port_bindings(spec) -> dict:
    out: dict = {}
    for p in spec.ports:
        out.setdefault(f"{p.port}/{p.proto}", []).append({"HostIp": p.host_ip, "HostPort": str(p.host_port)})
    return out


def _network_settings(container) -> dict:
    spec = container.record.spec
    base = {"Bridge": "", "SandboxKey": "", "IPAddress": "", "Gateway": "", "MacAddress": "",
            "IPPrefixLen": 0, "Ports": {}, "Networks": {}}
    if spec.network in ("none", "host"):
        base["Networks"] = {spec.network: {"IPAddress": "", "Gateway": "", "MacAddress": ""}}
        return base
    try:
        return container.rt.networks.inspect_container(container)
    except Exception:          # noqa: BLE001 - inspect must still answer without networking
        return base
