"""The simulated kernel's truth: what /proc, cgroupfs, netlink, mountinfo and the layer
directories would say, read from the simulated world.

In real mode the diagrams and lesson checks read the kernel (``runtime.inspect``,
``runtime.network.topology``); in simulated mode they read ``rt.truth``, which
answers the same questions in the same shapes:

diagram models (what ``web/diagrams/*.collect`` build from the kernel)
    :meth:`namespaces` (``{"host", "containers"}``), :meth:`topology`
    (``read_topology``'s ``{"networks", "bridges", "veths", "containers", "ports"}``),
    :meth:`layer_entries` (``runtime.inspect.layers.scan`` of a layer directory),
    :meth:`overlay_mounted`; the cgroup gauges come through ``rt.cgroups``.

kernel facts for lesson checks and quizzes
    :meth:`host_ns`, :meth:`ns_of`, :meth:`namespace_inodes` (by a host pid, or
    "host"; as ``runtime.inspect.namespaces.inodes``), inode numbers: equal means shared;
    :meth:`kernel_release` (the host's ``uname -r``, which containers share);
    :meth:`host_pid` and :meth:`nspid` (a process's pid on the host and inside),
    :meth:`hostname_of`, :meth:`ip_address`, :meth:`read_file` and
    :meth:`file_exists` (through the overlay), :meth:`upper` and
    :meth:`whiteouts` (what the writable layer holds), :meth:`host_hostname`,
    :meth:`host_kernel`.

Every model carries ``"simulated": True``, so whoever draws it can say so.
Namespace inode numbers are handed out in order from 4026532200 (the host has
the kernel's initial ones); host pids from 4200.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import time
from pathlib import Path

from runtime.cgroups import Stats
from runtime.container.container import HOSTS
from runtime.network.hosts import MARKER

from .cgroups import has_cgroup, limits_of
from .fs import DIR, FS, file_entry, scan_entries
from .machine import HOST_ETH0, HOST_NS
from .plan import BASE_MEMORY

RESOLV_CONF = "nameserver 10.0.2.3\n"
IDLE_CPU = 0.0002          # CPUs a sleeping process uses (the kernel's bookkeeping)
PROC_MEMORY = 96 << 10     # what each extra small process adds to memory.current


class SimTruth:
    def __init__(self, rt):
        self.rt = rt
        self.config = rt.config

    # -- finding containers ----------------------------------------------------------------
    def record_of(self, ref: str, world: dict | None = None) -> dict | None:
        """A container's record (by name, id or id prefix), or None."""
        containers = (world or self.rt.snapshot())["containers"]
        for c in containers.values():
            if c["name"] == ref or c["id"] == ref:
                return c
        matches = [c for i, c in containers.items() if ref and i.startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def _running(self, ref: str) -> dict | None:
        c = self.record_of(ref)
        return c if c is not None and c["state"]["status"] == "running" else None

    # -- processes and namespaces --------------------------------------------------------------
    def host_ns(self) -> dict[str, int]:
        return dict(HOST_NS)

    def ns_of(self, ref: str) -> dict[str, int]:
        """The inode behind each /proc/PID/ns/* of the container's PID 1 ({} when it has none)."""
        c = self.record_of(ref)
        return dict(c["ns"]) if c and c.get("ns") else {}

    def host_pid(self, ref: str) -> int | None:
        """The container's PID 1 as the host numbers it."""
        c = self.record_of(ref)
        return c["pid"] if c and c.get("pid") else None

    def nspid(self, ref: str) -> list[int]:
        """NSpid of the container's first process: [host pid, pid inside]."""
        pid = self.host_pid(ref)
        return [pid, 1] if pid else []

    def hostname_of(self, ref: str) -> str | None:
        c = self.record_of(ref)
        return c["process"]["hostname"] if c else None

    def ip_address(self, ref: str) -> str | None:
        c = self._running(ref)
        eps = c.get("net", {}).get("endpoints", []) if c else []
        return eps[0]["address"].split("/")[0] if eps else None

    def container_at(self, address: str, world: dict) -> dict | None:
        """The running container record that has ADDRESS on one of its networks."""
        for c in world["containers"].values():
            if c["state"]["status"] == "running" and any(
                    ep["address"].split("/")[0] == address for ep in c.get("net", {}).get("endpoints", [])):
                return c
        return None

    def host_hostname(self) -> str:
        return socket.gethostname()

    def host_kernel(self) -> str:
        return self.rt.host["release"]

    kernel_release = host_kernel

    def namespace_inodes(self, pid) -> dict[str, int]:
        """``runtime.inspect.namespaces.inodes(pid)``: by a host pid of a container's process,
        or "host"/"self" for the host's own; {} for a pid no container has."""
        if pid in ("host", "self"):
            return self.host_ns()
        for c in self.rt.snapshot()["containers"].values():
            if c.get("ns") and any(p["pid"] == pid for p in c.get("procs", [])):
                return dict(c["ns"])
        return {}

    def namespaces(self, query: dict) -> dict:
        """The namespaces view's model (see web/diagrams/namespaces.py)."""
        want = query.get("container")
        out = {"host": {"pid": os.getpid(), "ns": self.host_ns()}, "containers": [], "simulated": True}
        world = self.rt.snapshot()
        for c in sorted(world["containers"].values(), key=lambda c: c["created"], reverse=True):
            if want and not (c["id"].startswith(want) or c["name"] == want):
                continue
            if not c.get("procs") or not c.get("ns"):
                continue
            launch = c.get("launch", [])
            rows = [{"pid": p["pid"], "nspid": [p["pid"], p["nspid"]], "cmd": p["cmd"][:40]}
                    for p in sorted(c["procs"], key=lambda p: p["nspid"])[:5]]
            out["containers"].append({
                "id": c["id"], "name": c["name"], "ns": dict(c["ns"]), "procs": rows,
                "more": max(len(c["procs"]) - 5, 0),
                "root": "overlay" if "mounts" in launch else "ext4",
                "caps": {"effective": 14 if "exec" in launch else 41, "all": 41,
                         "no_new_privs": "exec" in launch}})
        return out

    # -- cgroups ---------------------------------------------------------------------------------
    def cgroup_record(self, name: str) -> dict | None:
        c = self.rt.snapshot()["containers"].get(name)
        return c if c is not None and has_cgroup(c) else None

    def _elapsed(self, c: dict) -> float:
        return max(time.time() - c["started"], 0.0) if c.get("started") and "exec" in c.get("launch", []) else 0.0

    def memory_current(self, c: dict) -> int:
        if "exec" not in c.get("launch", []):
            return 0 if "namespaces" not in c.get("launch", []) else 120 << 10
        plan = c.get("plan") or {}
        t = self._elapsed(c)
        memory = BASE_MEMORY + int(min(t, 600) * 100)                   # creeping: page cache, slab
        if plan.get("mem_rate"):
            memory += int(min(plan["mem_rate"] * t, plan.get("mem_cap") or 1 << 40))
        memory += PROC_MEMORY * max(len(c.get("procs", [])) - 1, 0)
        limit = limits_of(c["spec"]).memory
        return min(memory, limit) if limit else memory

    def cpu_rate(self, c: dict) -> float:
        """CPUs the container uses now: one per busy process, within its quota and the host's CPUs."""
        busy = sum(1 for p in c.get("procs", []) if p.get("kind") == "busy")
        limits = limits_of(c["spec"])
        cap = min(busy, self.rt.host["ncpu"])
        if limits.cpu_quota:
            cap = min(cap, limits.cpu_quota / limits.cpu_period)
        return max(cap, IDLE_CPU if c.get("procs") else 0.0)

    def cgroup_stats(self, c: dict) -> Stats:
        limits = limits_of(c["spec"])
        now = time.time()
        t = self._elapsed(c)
        cap = min(limits.cpu_quota / limits.cpu_period, self.rt.host["ncpu"]) if limits.cpu_quota else None
        busy_seconds = sum(now - p.get("since", now) for p in c.get("procs", []) if p.get("kind") == "busy")
        used = min(busy_seconds, t * cap) if cap is not None else busy_seconds
        usage_ns = int((used + t * IDLE_CPU) * 1e9)
        periods = throttled = throttled_ns = 0
        if limits.cpu_quota:
            periods = int(t * 1e6 / limits.cpu_period)
            if busy_seconds > used:                       # wanted more than the quota gives
                throttled = int(min(busy_seconds, t) * 1e6 / limits.cpu_period)
                throttled_ns = int(throttled * (limits.cpu_period - min(limits.cpu_quota, limits.cpu_period)) * 1000)
        memory = self.memory_current(c)
        return Stats(memory_current=memory, memory_max=limits.memory, memory_peak=memory,
                     pids_current=len(c.get("procs", [])), pids_max=limits.pids, cpu_usage_ns=usage_ns,
                     cpu_nr_periods=periods, cpu_nr_throttled=throttled, cpu_throttled_ns=throttled_ns,
                     oom_kills=1 if c.get("oom_told") else 0, memory_inactive_file=0)

    def cgroup_files(self, c: dict, fresh: bool = False) -> dict[str, str]:
        """The v2 interface files a learner should see (as the real Cgroup.files())."""
        limits = limits_of(c["spec"])
        s = self.cgroup_stats(c) if not fresh else Stats(memory_current=0, memory_peak=0, pids_current=0,
                                                          cpu_usage_ns=0, cpu_nr_periods=0, cpu_nr_throttled=0,
                                                          cpu_throttled_ns=0, oom_kills=0)
        procs = sorted(p["pid"] for p in c.get("procs", [])) if not fresh else []
        return {
            "memory.max": str(limits.memory) if limits.memory else "max",
            "memory.swap.max": "0" if limits.memory else "max",
            "cpu.max": f"{limits.cpu_quota or 'max'} {limits.cpu_period}",
            "cpu.weight": "100",
            "pids.max": str(limits.pids) if limits.pids else "max",
            "memory.current": str(s.memory_current or 0),
            "memory.peak": str(s.memory_peak or 0),
            "memory.events": f"low 0\nhigh 0\nmax {1 if s.oom_kills else 0}\noom {s.oom_kills or 0}\n"
                             f"oom_kill {s.oom_kills or 0}\noom_group_kill 0",
            "cpu.stat": f"usage_usec {(s.cpu_usage_ns or 0) // 1000}\nuser_usec {(s.cpu_usage_ns or 0) // 1300}\n"
                        f"system_usec {(s.cpu_usage_ns or 0) // 4300}\nnr_periods {s.cpu_nr_periods or 0}\n"
                        f"nr_throttled {s.cpu_nr_throttled or 0}\nthrottled_usec {(s.cpu_throttled_ns or 0) // 1000}",
            "pids.current": str(s.pids_current or 0),
            "cgroup.procs": "\n".join(map(str, procs)),
        }

    def cgroup_files_inside(self, cid: str) -> dict[str, str]:
        """/sys/fs/cgroup as the container sees it: its own cgroup at the root (cgroup namespace)."""
        c = self.rt.snapshot()["containers"].get(cid)
        if c is None:
            return {}
        files = self.cgroup_files(c)
        files["cgroup.procs"] = "\n".join(str(p["nspid"]) for p in sorted(c.get("procs", []),
                                                                             key=lambda p: p["nspid"]))
        files["pids.events"] = f"max {c.get('forks_refused', 0)}"
        return {k: v + "\n" for k, v in files.items()}

    def pids_refused(self, ref: str) -> int:
        """pids.events "max": forks the container's pids limit refused."""
        c = self.record_of(ref)
        return c.get("forks_refused", 0) if c else 0

    # -- files: layers, the overlay, the container's own files ----------------------------------------
    def container_dir(self, c: dict) -> Path:
        return self.config.containers_dir / c["id"]

    def lower_dirs(self, c: dict) -> list[str]:
        """The overlay's lower layers, lowest first: the image's, then the init layer."""
        return [str(self.config.layers_dir / h) for h in c["layers"]] + [str(self.container_dir(c) / "init")]

    def init_layer(self, c: dict) -> dict:
        """Docker's init layer: empty mount points so they never show in diff or commit."""
        files = {p: {"k": DIR, "m": 0o755, "t": 0} for p in ("/etc", "/proc", "/sys", "/dev")}
        for name in ("hostname", "hosts", "resolv.conf"):
            files[f"/etc/{name}"] = file_entry("", mode=0o644)
        return files

    def container_fs(self, c: dict, world: dict | None = None) -> FS:
        """The container's merged view: image layers + init layer under its writable layer (a copy)."""
        world = world or self.rt.snapshot()
        lowers = [world["layers"].get(h, {}) for h in c["layers"]] + [self.init_layer(c)]
        return FS(lowers, {k: dict(v) for k, v in (c.get("upper") or {}).items()})

    def etc_files(self, c: dict, world: dict | None = None) -> dict[str, str]:
        """/etc/hostname, /etc/hosts, /etc/resolv.conf as bind-mounted into the container."""
        hostname = c["process"]["hostname"]
        entries = []
        world = world or self.rt.snapshot()
        user_nets = set(world.get("networks", {}))
        for ep in c.get("net", {}).get("endpoints", []):
            entries.append(f"{ep['address'].split('/')[0]}\t{hostname} {c['name']}")
        for ep in c.get("net", {}).get("endpoints", []):
            if ep["network"] not in user_nets:
                continue
            for other in world["containers"].values():
                if other["id"] == c["id"] or other["state"]["status"] != "running":
                    continue
                for oep in other.get("net", {}).get("endpoints", []):
                    if oep["network"] == ep["network"]:
                        entries.append(f"{oep['address'].split('/')[0]}\t{other['name']} "
                                       f"{other['process']['hostname']}")
        hosts = HOSTS + (MARKER + "\n" + "\n".join(entries) + "\n" if entries else "")
        if c["spec"]["network"] == "host":
            hosts = HOSTS
        return {"hostname": hostname + "\n", "hosts": hosts, "resolv.conf": RESOLV_CONF}

    def read_file(self, ref: str, path: str) -> str | None:
        """A file's text as the container sees it (None: missing, or only its size is known)."""
        c = self.record_of(ref)
        if c is None:
            return None
        if path in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf"):
            return self.etc_files(c)[path.rsplit("/", 1)[1]]
        return self.container_fs(c).read(path)

    def file_exists(self, ref: str, path: str) -> bool:
        c = self.record_of(ref)
        return c is not None and self.container_fs(c).exists(path)

    def upper(self, ref: str) -> dict:
        """The container's writable layer: path -> entry (``"k": "w"`` is a whiteout)."""
        c = self.record_of(ref)
        return dict(c.get("upper") or {}) if c else {}

    def whiteouts(self, ref: str) -> list[str]:
        return sorted(p for p, e in self.upper(ref).items() if e["k"] == "w")

    def layer_entries(self, directory) -> list:
        """``runtime.inspect.layers.scan`` of a layer directory the simulation knows."""
        path = Path(directory)
        world = self.rt.snapshot()
        if path.parent == Path(self.config.layers_dir):
            return scan_entries(world["layers"].get(path.name, {}))
        c = world["containers"].get(path.parent.name)
        if c is not None and path.name == "upper":
            return scan_entries(c.get("upper") or {})
        if c is not None and path.name == "init":
            return scan_entries(self.init_layer(c))
        return []

    def overlay_mounted(self, cid: str) -> bool:
        c = self.rt.snapshot()["containers"].get(cid)
        return c is not None and "rootfs" in c.get("launch", [])

    def container_mounts(self, c: dict) -> list[dict]:
        """/proc/mounts inside the container (what runc and onggi mount, in order)."""
        d = self.container_dir(c)
        lower = ":".join(self.lower_dirs(c)[::-1])
        overlay = f"rw,relatime,lowerdir={lower},upperdir={d / 'upper'},workdir={d / 'work'}"
        used = sum(e.get("s", 0) for e in (c.get("upper") or {}).values())
        out = [{"source": "overlay", "mountpoint": "/", "fstype": "overlay", "options": overlay,
                "size": 64 << 30, "used": (2 << 20) + used},
               {"source": "proc", "mountpoint": "/proc", "fstype": "proc", "options": "rw,nosuid,nodev,noexec,relatime"},
               {"source": "sysfs", "mountpoint": "/sys", "fstype": "sysfs", "options": "ro,nosuid,nodev,noexec,relatime"},
               {"source": "tmpfs", "mountpoint": "/dev", "fstype": "tmpfs", "options": "rw,nosuid,size=65536k,mode=755"},
               {"source": "devpts", "mountpoint": "/dev/pts", "fstype": "devpts",
                "options": "rw,nosuid,noexec,relatime,gid=5,mode=620,ptmxmode=666"},
               {"source": "shm", "mountpoint": "/dev/shm", "fstype": "tmpfs",
                "options": "rw,nosuid,nodev,noexec,relatime,size=65536k"},
               {"source": "mqueue", "mountpoint": "/dev/mqueue", "fstype": "mqueue",
                "options": "rw,nosuid,nodev,noexec,relatime"}]
        out += [{"source": "/dev/sda1", "mountpoint": f"/etc/{n}", "fstype": "ext4", "options": "rw,relatime",
                 "size": 64 << 30, "used": 20 << 30} for n in ("hostname", "hosts", "resolv.conf")]
        out += [{"source": "tmpfs", "mountpoint": p, "fstype": "tmpfs", "options": "ro,relatime"}
                for p in ("/proc/acpi", "/sys/firmware")]
        out += [{"source": "tmpfs", "mountpoint": p, "fstype": "tmpfs", "options": "rw,nosuid,size=65536k,mode=755"}
                for p in ("/proc/keys", "/proc/timer_list")]
        out += [{"source": "proc", "mountpoint": p, "fstype": "proc", "options": "ro,nosuid,nodev,noexec,relatime"}
                for p in ("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys")]
        return out

    # -- the network --------------------------------------------------------------------------------
    def host_interfaces(self) -> list[dict]:
        """The simulated host's links: lo, its NIC, onggi's bridges (with their gateway addresses), veths."""
        world = self.rt.snapshot()
        out = [{"name": "lo", "ifindex": 1, "mac": "00:00:00:00:00:00", "addresses": ["127.0.0.1/8"],
                "state": "unknown", "peer_ifindex": None},
               {"name": "eth0", "ifindex": 2, "mac": "52:54:00:12:34:56", "addresses": [HOST_ETH0],
                "state": "up", "peer_ifindex": None}]
        nets = {n.bridge: n for n in self.rt.networks.list() if n.bridge}
        for name, index in sorted(world.get("bridges", {}).items(), key=lambda kv: kv[1]):
            net = nets.get(name)
            if net is None:
                continue
            out.append({"name": name, "ifindex": index, "mac": "02:42:ac:00:00:01",
                        "addresses": [str(net.interface)], "state": "up", "peer_ifindex": None})
        for c in world["containers"].values():
            for ep in c.get("net", {}).get("endpoints", []):
                out.append({"name": ep["veth"], "ifindex": ep["veth_ifindex"], "mac": "02:00:00:00:00:01",
                            "addresses": [], "state": "up", "peer_ifindex": ep["ifindex"]})
        return out

    def netns_view(self, c: dict) -> dict:
        """A container's netns as ``ip addr; ip route`` show it (endpoint.read_netns's shape)."""
        interfaces = [{"name": "lo", "ifindex": 1, "mac": "00:00:00:00:00:00", "addresses": ["127.0.0.1/8"],
                       "state": "unknown", "peer_ifindex": None}]
        routes = []
        for ep in c.get("net", {}).get("endpoints", []):
            interfaces.append({"name": ep["ifname"], "ifindex": ep["ifindex"], "mac": ep["mac"],
                               "addresses": [ep["address"]], "state": "up", "peer_ifindex": ep["veth_ifindex"]})
        eps = c.get("net", {}).get("endpoints", [])
        if eps:
            routes.append({"dst": "default", "gateway": eps[0]["gateway"], "dev": eps[0]["ifname"]})
        for ep in eps:
            routes.append({"dst": str(ipaddress.IPv4Interface(ep["address"]).network), "gateway": None,
                           "dev": ep["ifname"]})
        return {"interfaces": interfaces, "routes": routes}

    def reachable_from(self, c: dict, world: dict) -> set[str]:
        """Addresses that answer a ping from container C: its networks' gateways and peers."""
        running = [o for o in world["containers"].values() if o["state"]["status"] == "running"]
        if c["spec"]["network"] == "host":
            return {HOST_ETH0.split("/")[0]} | {ep["address"].split("/")[0] for o in running
                                                for ep in o.get("net", {}).get("endpoints", [])} | \
                {ep["gateway"] for o in running for ep in o.get("net", {}).get("endpoints", [])}
        mine = c.get("net", {}).get("endpoints", [])
        if not mine:
            return set()
        nets = {ep["network"] for ep in mine}
        out = {HOST_ETH0.split("/")[0]} | {ep["gateway"] for ep in mine}
        for o in running:
            for ep in o.get("net", {}).get("endpoints", []):
                if ep["network"] in nets:
                    out.add(ep["address"].split("/")[0])
        return out

    def topology(self) -> dict:
        """The network view's model, as ``runtime.network.topology.read_topology`` returns it."""
        world = self.rt.snapshot()
        networks = self.rt.networks.list()
        by_bridge = {n.bridge: n for n in networks if n.bridge}
        bridges, veths, containers, ports = [], [], [], []
        for name, index in sorted(world.get("bridges", {}).items(), key=lambda kv: kv[1]):
            if name in by_bridge:
                bridges.append({"name": name, "ifindex": index, "mac": "02:42:ac:00:00:01", "state": "up",
                                "addresses": [str(by_bridge[name].interface)], "network": by_bridge[name].name})
        for c in sorted(world["containers"].values(), key=lambda c: c["created"], reverse=True):
            for ep in c.get("net", {}).get("endpoints", []):
                veths.append({"name": ep["veth"], "ifindex": ep["veth_ifindex"], "bridge": ep["bridge"],
                              "alias": f"{self.config.bridge_prefix}:{c['id']}", "container": c["id"],
                              "peer_ifindex": ep["ifindex"], "state": "up"})
                for host_ip, host_port, port, proto in ep.get("ports", []):
                    ports.append({"container": c["id"], "host_ip": host_ip, "host_port": host_port,
                                  "port": port, "proto": proto, "address": ep["address"].split("/")[0]})
            if c["state"]["status"] != "running" or not c.get("pid"):
                continue
            mode = c["spec"]["network"]
            entry = {"id": c["id"], "name": c["name"], "pid": c["pid"], "netns_inode": c["ns"].get("net"),
                     "network_mode": mode, "interfaces": [], "routes": []}
            if mode != "host":
                entry.update(self.netns_view(c))
            containers.append(entry)
        return {"networks": [{"name": n.name, "bridge": n.bridge or None, "subnet": n.subnet or None,
                              "gateway": n.gateway or None, "driver": n.driver} for n in networks],
                "bridges": bridges, "veths": veths, "containers": containers, "ports": ports,
                "simulated": True}
