"""What to run: a Docker-level description of a container, and how it becomes a process.

:class:`ContainerSpec` is what ``onggi run``'s flags (or the web API's JSON) say.
:func:`resolve_process` merges it with the image config the way Docker does
(--entrypoint resets the image's Cmd; -e overrides the image's Env by key).
:func:`to_oci` writes the result as an OCI runtime-spec ``config.json``, the same
document runc would be given, so a learner can read exactly what was asked.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import InvalidArgument
from ..rootfs.mounts import MASKED_PATHS, READONLY_PATHS

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"



@dataclass(frozen=True)
class Volume:
    """-v HOSTDIR:DIR[:ro] — a bind mount of a host directory."""
    source: str
    target: str
    readonly: bool = False

    @classmethod
    def parse(cls, text: str) -> "Volume":
        parts = text.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise InvalidArgument(f"invalid volume '{text}': use HOSTDIR:DIR or HOSTDIR:DIR:ro")
        src, dst = parts[0], parts[1]
        mode = parts[2] if len(parts) == 3 else "rw"
        if mode not in ("ro", "rw"):
            raise InvalidArgument(f"invalid volume mode '{mode}' in '{text}': use ro or rw")
        if not src.startswith("/"):
            raise InvalidArgument(f"invalid volume '{text}': the host path must be absolute "
                                  "(named volumes are not supported)")
        if not dst.startswith("/") or dst == "/":
            raise InvalidArgument(f"invalid volume '{text}': the container path must be "
                                  "absolute and not /")
        return cls(src, dst, mode == "ro")


@dataclass(frozen=True)
class PortMapping:
    """-p [IP:]HOSTPORT:PORT[/PROTO]; filled in by the networking code."""
    host_ip: str
    host_port: int
    port: int
    proto: str = "tcp"


def parse_publish(text: str) -> list[PortMapping]:
    """-p [IP:]HOSTPORT:PORT[/PROTO], or PORT[/PROTO] for a free host port (0)."""
    bad = InvalidArgument(f"invalid -p '{text}': use [IP:]HOSTPORT:PORT[/tcp|/udp], e.g. 8080:80")
    body, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp"):
        raise bad
    parts = body.rsplit(":", 2)
    if len(parts) == 1:
        ip, host, port = "0.0.0.0", "0", parts[0]
    elif len(parts) == 2:
        ip, (host, port) = "0.0.0.0", parts
    else:
        ip, host, port = parts
        ip = ip.strip("[]") or "0.0.0.0"
    if not port.isdigit() or not (host.isdigit() or host == ""):
        raise bad
    hp, cp = int(host or 0), int(port)
    if not (0 < cp < 65536 and 0 <= hp < 65536):
        raise InvalidArgument(f"invalid -p '{text}': ports are 1 to 65535")
    import ipaddress
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise bad from None
    return [PortMapping(ip, hp, cp, proto)]


@dataclass(frozen=True)
class ContainerSpec:
    image: str
    cmd: tuple[str, ...] | None = None          # None: the image's Cmd
    entrypoint: tuple[str, ...] | None = None   # None: the image's; () resets it
    env: tuple[str, ...] = ()
    workdir: str | None = None
    user: str | None = None
    hostname: str | None = None
    name: str | None = None
    tty: bool = False
    interactive: bool = False
    auto_remove: bool = False
    read_only: bool = False
    memory: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    network: str = "none"
    ports: tuple[PortMapping, ...] = ()
    volumes: tuple[Volume, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ContainerSpec":
        known = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in known}
        for key in ("cmd", "entrypoint"):
            if kw.get(key) is not None:
                kw[key] = tuple(kw[key])
        kw["env"] = tuple(kw.get("env", ()))
        kw["volumes"] = tuple(Volume(**v) if isinstance(v, dict) else v for v in kw.get("volumes", ()))
        kw["ports"] = tuple(PortMapping(**p) if isinstance(p, dict) else p for p in kw.get("ports", ()))
        kw["labels"] = tuple(tuple(x) for x in kw.get("labels", ()))
        return cls(**kw)


HOST_NAME_MAX = 64       # the kernel's limit for sethostname(2)


@dataclass(frozen=True)
class Process:
    """The container's first process, resolved against its image."""
    args: tuple[str, ...]
    env: tuple[str, ...]
    cwd: str
    user: str          # as given ("", "1000", "nobody", "1000:100"); resolved inside the rootfs
    hostname: str
    tty: bool = False


def merge_env(base, overrides) -> list[str]:
    """Docker's rule: later KEY=VALUE entries replace earlier ones with the same KEY,
    and a bare KEY (what ``-e KEY`` leaves when the host has no KEY) unsets it."""
    out: dict[str, str] = {}
    for item in list(base) + list(overrides):
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid environment variable '{item}': use KEY=VALUE")
        if sep:
            out[key] = item
        else:
            out.pop(key, None)
    return list(out.values())


def resolve_process(spec: ContainerSpec, image_config: dict, container_id: str,
                    host_hostname: str | None = None) -> Process:
    cfg = (image_config or {}).get("config", {}) or {}
    if spec.entrypoint is not None:
        entrypoint = list(spec.entrypoint)
        cmd = list(spec.cmd or ())          # --entrypoint resets the image's Cmd
    else:
        entrypoint = list(cfg.get("Entrypoint") or ())
        cmd = list(spec.cmd) if spec.cmd else list(cfg.get("Cmd") or ())
    args = entrypoint + cmd
    if not args:
        raise InvalidArgument("no command specified",
                              hint="give a command after the image name, e.g. 'onggi run busybox sh'")
    if spec.hostname is not None and len(spec.hostname.encode()) > HOST_NAME_MAX:
        # Checked here, before anything is made: the kernel's sethostname would
        # only say "Invalid argument" from inside the half-started container.
        raise InvalidArgument(f"invalid hostname '{spec.hostname[:20]}…': longer than "
                              f"{HOST_NAME_MAX} bytes", hint="choose a shorter --hostname")
    hostname = spec.hostname or (host_hostname if spec.network == "host" and host_hostname
                                 else container_id[:12])
    # Docker's order: PATH, HOSTNAME (and TERM with -t) first, then the image's Env
    # and -e, each replacing an earlier value of the same key in place.
    defaults = [f"PATH={DEFAULT_PATH}", f"HOSTNAME={hostname}"] + (["TERM=xterm"] if spec.tty else [])
    env = merge_env(defaults, list(cfg.get("Env") or ()) + list(spec.env))
    return Process(args=tuple(args), env=tuple(env),
                   cwd=spec.workdir or cfg.get("WorkingDir") or "/",
                   user=spec.user if spec.user is not None else (cfg.get("User") or ""),
                   hostname=hostname, tty=spec.tty)


def to_oci(spec: ContainerSpec, process: Process, *, namespaces: list[str],
           cgroup_path: str, limits: dict, capabilities: list[str],
           mounts: list[dict], annotations: dict | None = None) -> dict:
    """The OCI runtime spec (config.json) for this container, as runc would read it."""
    res: dict = {}
    if limits.get("memory"):
        res["memory"] = {"limit": limits["memory"], "swap": limits["memory"]}
    if limits.get("cpu_quota"):
        res["cpu"] = {"quota": limits["cpu_quota"], "period": limits.get("cpu_period", 100000)}
    if limits.get("pids"):
        res["pids"] = {"limit": limits["pids"]}
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": process.tty,
            "user": {"uid": 0, "gid": 0} if not process.user else {"username": process.user},
            "args": list(process.args),
            "env": list(process.env),
            "cwd": process.cwd,
            "capabilities": {k: capabilities for k in ("bounding", "effective", "permitted")},
            "noNewPrivileges": True,
        },
        "root": {"path": "rootfs", "readonly": spec.read_only},
        "hostname": process.hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": [{"type": "mount" if n == "mnt" else "network" if n == "net" else n}
                           for n in namespaces],
            "cgroupsPath": cgroup_path,
            "resources": res,
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
        "annotations": dict(annotations or {}),
    }
