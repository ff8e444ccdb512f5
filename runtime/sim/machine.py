"""What a simulated container looks like from inside: the machine its shell asks.

A real process in a container asks the kernel: its pid namespace numbers the
processes, its uts namespace holds the hostname, its network namespace has lo
and eth0, its mount namespace has an overlay at /, a fresh /proc and /sys, and
/sys/fs/cgroup shows its own cgroup. Here the same questions are answered from
the simulated world (``state.py``), so that ``ps``, ``hostname``, ``ip addr`` or
``cat /proc/mounts`` read like the real ones (see :mod:`.shell.applets`).

Two machines share those answers and differ in how time passes:

* :class:`PlanMachine` runs a container's first process ahead of time on a
  virtual clock: ``sleep 2`` moves the clock, output is stamped with it, and a
  script that would never end says so (``RunsForever``). The result is a plan
  (:mod:`.plan`): when the process exits, with what, and what it prints when.
* :class:`LiveMachine` runs a command now (``exec``, a terminal line): ``sleep``
  really waits (Ctrl-C interrupts it), background jobs and signals change the
  container in the world at once.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import platform
import threading
import time

from . import httpd
from .fs import FS
from .shell.interp import CantFork, Interrupted, RunsForever

# The kernel's fixed inode numbers of the initial namespaces (include/linux/proc_ns.h:
# PROC_IPC_INIT_INO = 0xEFFFFFFF ...); mnt and net are allocated at boot, these are typical.
HOST_NS = {"pid": 4026531836, "mnt": 4026531841, "uts": 4026531838, "ipc": 4026531839,
           "net": 4026531840, "cgroup": 4026531835, "user": 4026531837, "time": 4026531834}
# What ls shows in /proc/PID and /proc/PID/ns (the files the simulation can answer, and the links).
PROC_PID = ("cgroup", "cmdline", "cwd", "environ", "exe", "fd", "mounts", "ns", "root", "stat", "status")
PROC_NS = ("cgroup", "ipc", "mnt", "net", "pid", "pid_for_children", "time", "time_for_children", "user", "uts")
HOST_ETH0 = "10.0.2.15/24"          # the host's own NIC in the simulation (a typical VM's)
HORIZON = 600.0                     # seconds a plan looks ahead before calling a process endless
MAX_PROCS = 4096                    # a container without a pids limit still cannot fork for ever
SIGKILL, SIGTERM = 9, 15


def host_facts() -> dict:
    """The host the simulation pretends to run on: this machine's, where it can tell."""
    u = platform.uname()
    linux = u.system == "Linux"
    return {"release": u.release if linux else "6.1.0-28-amd64",
            "version": u.version if linux else "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1",
            "machine": u.machine or "x86_64", "ncpu": os.cpu_count() or 1,
            "mem_total": _mem_total() or 8 << 30}


def _mem_total() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


class View:
    """The answers both machines give: from the container's record in the world."""

    def __init__(self, rt, world: dict, record: dict, fs: FS, *, current: tuple[int, str] | None = None):
        self.rt = rt
        self.world = world
        self.record = record
        self.fs = fs
        self.hostname = record["process"]["hostname"]
        self.current = current               # (pid inside, command line) of the caller itself
        self.child: tuple[int, str] | None = None   # a terminal's command running under its shell
        self.host = rt.host

    # -- time ------------------------------------------------------------------------------
    def now(self) -> float:
        return time.time()

    def uptime(self) -> float:
        return self.now() - self.rt.boot_time

    def _busy(self) -> int:
        return sum(1 for p in self.record.get("procs", []) if p.get("kind") == "busy")

    def _cpus_used(self) -> float:
        """CPUs the busy processes get: one each, within the host's CPUs and the cgroup's quota
        (a throttled task is off the run queue, so it adds to the load only while it runs)."""
        return self.rt.truth.cpu_rate(self.record) if self._busy() else 0.0

    def load(self) -> float:
        return 0.05 + 0.95 * self._cpus_used()

    def ncpu(self) -> int:
        return self.host["ncpu"]

    def cpu_percent(self) -> float:
        """top's "CPU: usr" (over all the host's CPUs, as /proc/stat counts)."""
        return min(100.0, self._cpus_used() * 100.0 / self.host["ncpu"])

    # -- who ---------------------------------------------------------------------------------
    def uname(self) -> dict:
        return {"sysname": "Linux", "release": self.host["release"], "version": self.host["version"],
                "machine": self.host["machine"]}

    def sethostname(self, name: str) -> str | None:
        # CAP_SYS_ADMIN is not among a container's capabilities (Docker's default set).
        return "Operation not permitted"

    def procs(self) -> list[dict]:
        # busybox top's %CPU is a share of all the host's CPUs: a busy loop shows 50% on two CPUs,
        # and 10% there under --cpus 0.2.
        share = self.cpu_percent() / self._busy() if self._busy() else 0.0
        out = [{"pid": p["nspid"], "ppid": 0 if p["nspid"] == 1 else 1, "cmd": p["cmd"],
                "stat": "R" if p.get("kind") == "busy" else "S",
                "cpu": share if p.get("kind") == "busy" else 0.0}
               for p in self.record.get("procs", [])]
        if self.current is not None and all(p["pid"] != self.current[0] for p in out):
            out.append({"pid": self.current[0], "ppid": 0, "cmd": self.current[1], "stat": "R", "cpu": 0.0})
        if self.child is not None:
            out.append({"pid": self.child[0], "ppid": self.current[0] if self.current else 1,
                        "cmd": self.child[1], "stat": "R", "cpu": 0.0})
        return sorted(out, key=lambda p: p["pid"])

    def memory(self) -> dict:
        total = self.host["mem_total"]
        used = total // 30 + self.rt.truth.memory_current(self.record)
        cache = total // 18
        return {"total": total, "used": used, "free": total - used - cache, "shared": 15 << 20,
                "cache": cache, "available": total - used}

    # -- the network ---------------------------------------------------------------------------
    def interfaces(self) -> list[dict]:
        lo = {"name": "lo", "ifindex": 1, "mac": "00:00:00:00:00:00", "addresses": ["127.0.0.1/8"],
              "state": "unknown", "peer_ifindex": None}
        mode = self.record["spec"]["network"]
        if mode == "host":
            return self.rt.truth.host_interfaces()
        if mode == "none":
            return [lo]
        if mode.startswith("container:"):
            other = self.rt.truth.record_of(mode.partition(":")[2], self.world)
            return View(self.rt, self.world, other, self.fs).interfaces() if other else [lo]
        out = [lo]
        for ep in self.record.get("net", {}).get("endpoints", []):
            out.append({"name": ep["ifname"], "ifindex": ep["ifindex"], "mac": ep["mac"],
                        "addresses": [ep["address"]], "state": "up", "peer_ifindex": ep["veth_ifindex"]})
        return out

    def routes(self) -> list[dict]:
        mode = self.record["spec"]["network"]
        if mode == "host":
            return [{"dst": "default", "gateway": "10.0.2.2", "dev": "eth0"},
                    {"dst": "10.0.2.0/24", "gateway": None, "dev": "eth0", "src": "10.0.2.15"}]
        out = []
        eps = self.record.get("net", {}).get("endpoints", [])
        if eps:
            out.append({"dst": "default", "gateway": eps[0]["gateway"], "dev": eps[0]["ifname"]})
        for ep in eps:
            iface = ipaddress.IPv4Interface(ep["address"])
            out.append({"dst": str(iface.network), "gateway": None, "dev": ep["ifname"], "src": str(iface.ip)})
        return out

    def listen_ports(self) -> list[int]:
        """The TCP ports web servers in this container listen on (netstat's LISTEN lines)."""
        return sorted(port for port, _home in self.record.get("listens", []))

    def resolve(self, name: str) -> str | None:
        try:
            return str(ipaddress.IPv4Address(name))
        except ValueError:
            pass
        if name == "localhost":
            return "127.0.0.1"
        for line in (self.special_read("/etc/hosts") or "").splitlines():
            fields = line.split()
            if len(fields) > 1 and name in fields[1:] and ":" not in fields[0]:
                return fields[0]
        return None

    def ping(self, address: str) -> float | None:
        """The round trip in ms when ADDRESS answers from here (None: no route or no answer)."""
        ip = ipaddress.IPv4Address(address)
        if ip.is_loopback:
            return 0.041
        reachable = self.rt.truth.reachable_from(self.record, self.world)
        if address in reachable:
            return 0.080 + int(hashlib.sha256(address.encode()).hexdigest()[:2], 16) / 1000
        return None

    def http_get(self, url: str, headers: dict) -> tuple[int, str, str | None]:
        """(status, body, problem) for wget: a web server in a container this one can reach
        (itself over lo, or a peer on a shared network), or the classroom registry."""
        rest = url.split("://", 1)[-1]
        hostport, _, path = rest.partition("/")
        host, _, port = hostport.partition(":")
        address = self.resolve(host)
        if address is None:
            return 0, "", f"bad address '{host}'"
        loopback = ipaddress.IPv4Address(address).is_loopback
        if port == "5000" and loopback and self.record["spec"]["network"] == "host":
            return self.rt.registry.http_get("/" + path, headers)
        refused = f"can't connect to remote host ({address}): Connection refused"
        server = self.record if loopback else self.rt.truth.container_at(address, self.world)
        if server is None or (not loopback and address not in self.rt.truth.reachable_from(self.record,
                                                                                            self.world)):
            # Another network's container: its packets are dropped, so the SYN goes unanswered.
            return 0, "", f"can't connect to remote host ({address}): Connection timed out" \
                if server is not None else refused
        status, body = httpd.answer(self.rt, self.world, server, int(port or httpd.DEFAULT_PORT), "/" + path)
        if status == 0:
            return 0, "", refused
        return status, body, None

    # -- the kernel's files --------------------------------------------------------------------
    def mounts(self) -> list[dict]:
        return self.rt.truth.container_mounts(self.record)

    def special_read(self, path: str) -> str | None:
        r = self.record
        etc = self.rt.truth.etc_files(r, self.world)
        if path in ("/etc/hostname", "/etc/hosts", "/etc/resolv.conf"):
            return etc[path.rsplit("/", 1)[1]]
        if path in ("/dev/null", "/dev/full"):
            return ""
        if path == "/dev/zero":
            return "\0" * 4096
        if path in ("/dev/urandom", "/dev/random"):
            return os.urandom(512).decode("latin-1")
        if path.startswith("/sys/fs/cgroup/"):
            files = self.rt.truth.cgroup_files_inside(r["id"])
            return files.get(path.rsplit("/", 1)[1])
        if not path.startswith("/proc/"):
            return None
        rest = path[len("/proc/"):]
        pid, _, what = rest.partition("/")
        if pid == "self" and self.current is not None:
            pid = str(self.current[0])
        if pid.isdigit():
            proc = next((p for p in self.procs() if p["pid"] == int(pid)), None)
            if proc is None:
                return None
            return self._proc_file(proc, what)
        return {
            "mounts": lambda: self._mounts_text(),
            "sysvipc/msg": lambda: "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  "
                                   "cuid  cgid      stime      rtime      ctime\n",
            "sysvipc/shm": lambda: "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  "
                                   "cuid  cgid      atime      dtime      ctime                   rss"
                                   "                  swap\n",
            "sysvipc/sem": lambda: "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      "
                                   "ctime\n",
            "meminfo": lambda: self._meminfo(),
            "version": lambda: f"Linux version {self.host['release']} (simulated) {self.host['version']}\n",
            "uptime": lambda: f"{self.uptime():.2f} {self.uptime() * self.ncpu() * 0.9:.2f}\n",
            "loadavg": lambda: f"{self.load():.2f} {self.load():.2f} {self.load():.2f} 1/{len(self.procs())} "
                               f"{max(p['pid'] for p in self.procs())}\n",
            "cpuinfo": lambda: "".join(f"processor\t: {i}\nmodel name\t: Simulated CPU\n\n"
                                       for i in range(self.ncpu())),
            "net/dev": lambda: self._net_dev(),
            "sys/kernel/hostname": lambda: self.hostname + "\n",
            "sys/kernel/osrelease": lambda: self.host["release"] + "\n",
        }.get(rest, lambda: None)()

    def _proc_file(self, proc: dict, what: str) -> str | None:
        if what == "status":
            name = proc["cmd"].split()[0].rsplit("/", 1)[-1].strip("{}") if proc["cmd"] else "sh"
            return (f"Name:\t{name}\nUmask:\t0022\nState:\t{'R (running)' if proc['stat'] == 'R' else 'S (sleeping)'}\n"
                    f"Tgid:\t{proc['pid']}\nNgid:\t0\nPid:\t{proc['pid']}\nPPid:\t{proc['ppid']}\nTracerPid:\t0\n"
                    "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\nGroups:\t10 \n"
                    f"NSpid:\t{proc['pid']}\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\n"
                    "NoNewPrivs:\t1\n")
        if what == "cmdline":
            return proc["cmd"].replace(" ", "\0") + "\0"
        if what == "cgroup":
            return "0::/\n"
        if what == "mounts":
            return self._mounts_text()
        return None

    def _mounts_text(self) -> str:
        return "".join(f"{m['source']} {m['mountpoint']} {m['fstype']} {m['options']} 0 0\n" for m in self.mounts())

    def _net_dev(self) -> str:
        """/proc/net/dev: the interfaces of this network namespace, counters at zero."""
        zeros = "       0       0    0    0    0     0          0         0"
        return ("Inter-|   Receive                                                |  Transmit\n"
                " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
                "drop fifo colls carrier compressed\n"
                + "".join(f"{i['name']:>6}:{zeros}{zeros}\n" for i in self.interfaces()))

    def _meminfo(self) -> str:
        m = self.memory()
        return (f"MemTotal:       {m['total'] // 1024:>8} kB\nMemFree:        {m['free'] // 1024:>8} kB\n"
                f"MemAvailable:   {m['available'] // 1024:>8} kB\nCached:         {m['cache'] // 1024:>8} kB\n"
                "SwapTotal:             0 kB\nSwapFree:              0 kB\n")

    def _proc_of(self, path: str) -> tuple[dict | None, str]:
        """/proc/PID/REST (or /proc/self/REST): the process it is about, and REST."""
        rest = path[len("/proc/"):] if path.startswith("/proc/") else ""
        pid, _, what = rest.partition("/")
        if pid == "self" and self.current is not None:
            pid = str(self.current[0])
        if not pid.isdigit():
            return None, what
        return next((p for p in self.procs() if p["pid"] == int(pid)), None), what

    def special_link(self, path: str) -> str | None:
        """Where a /proc symlink points: /proc/self, a process's exe, cwd, root and its namespaces
        (``ns/pid -> pid:[4026532559]``, the numbers the namespaces view draws)."""
        if path == "/proc/self" and self.current is not None:
            return str(self.current[0])
        proc, what = self._proc_of(path)
        if proc is None:
            return None
        if what in ("cwd", "root"):
            return "/"
        if what == "exe":
            program = proc["cmd"].split()[0] if proc["cmd"] else "sh"
            return program if program.startswith("/") else f"/bin/{program.strip('{}')}"
        kind = what[len("ns/"):] if what.startswith("ns/") else None
        if kind in PROC_NS:
            base = kind.replace("_for_children", "")
            return f"{base}:[{self.record.get('ns', {}).get(base) or HOST_NS[base]}]"
        return None

    def special_list(self, path: str) -> list[str] | None:
        proc, what = self._proc_of(path)
        if proc is not None and what == "":
            return list(PROC_PID)
        if proc is not None and what == "ns":
            return list(PROC_NS)
        if path == "/proc":
            return sorted([str(p["pid"]) for p in self.procs()], key=int) + [
                "cpuinfo", "loadavg", "meminfo", "mounts", "net", "self", "sys", "sysvipc", "uptime", "version"]
        if path == "/proc/net":
            return ["dev"]
        if path == "/proc/sysvipc":
            return ["msg", "sem", "shm"]
        if path == "/sys":
            return ["block", "bus", "class", "dev", "devices", "firmware", "fs", "kernel", "module"]
        if path == "/sys/fs":
            return ["cgroup"]
        if path == "/sys/fs/cgroup":
            return sorted(self.rt.truth.cgroup_files_inside(self.record["id"]))
        if path == "/dev":
            return ["console", "core", "fd", "full", "mqueue", "null", "ptmx", "pts", "random", "shm",
                    "stderr", "stdin", "stdout", "tty", "urandom", "zero"]
        return None


class PlanMachine(View):
    """A first process run ahead of time, on a virtual clock (see the module docstring)."""

    def __init__(self, rt, world, record, fs, *, pids_max: int | None):
        super().__init__(rt, world, record, fs, current=None)
        self.clock = 0.0
        self.spawned: list[tuple[list[str], str]] = []
        self.pids_max = pids_max
        self.refused = 0                  # forks the pids limit refused (pids.events "max")
        self.listening: list[list] = []   # [port, home] of the web servers it starts
        self.image: list[str] | None = None   # what PID 1 exec'd into, if it did

    def now(self) -> float:
        return time.time() + self.clock

    def sleep(self, seconds: float) -> None:
        self.clock += seconds
        if self.clock > HORIZON:
            raise RunsForever("idle")

    def tick(self) -> None:
        pass

    def spawn(self, argv: list[str], kind: str) -> int:
        limit = min(self.pids_max or MAX_PROCS, MAX_PROCS)
        if 1 + len(self.spawned) >= limit:
            self.refused += 1
            raise CantFork()
        self.spawned.append((argv, kind))
        return 2 + len(self.spawned)

    def fork(self) -> None:
        pass                              # a first process's shell is never interactive

    def kill(self, pid: int, sig: int) -> str | None:
        return None if pid == 1 or 2 <= pid < 2 + len(self.spawned) + 1 else "No such process"

    def listen(self, port: int, home: str) -> None:
        self.listening.append([port, home])

    def listen_ports(self) -> list[int]:
        return sorted(port for port, _home in self.listening)

    def exec_image(self, pid: int, argv: list[str]) -> None:
        if pid == 1:
            self.image = argv


class LiveMachine(View):
    """A command run now in a running container (exec, a terminal line)."""

    def __init__(self, container, world, record, fs, *, current: tuple[int, str],
                 interrupt: threading.Event | None = None, deadline: float | None = None):
        super().__init__(container.rt, world, record, fs, current=current)
        self.container = container
        self.interrupt = interrupt or threading.Event()
        self.deadline = deadline

    def _check(self) -> None:
        if self.interrupt.is_set():
            raise Interrupted()
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise RunsForever("idle")

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self._check()
            if not self.container.is_running():
                raise Interrupted()
            left = end - time.monotonic()
            if left <= 0:
                return
            wait = min(left, 0.1)
            if self.deadline is not None:
                wait = min(wait, max(self.deadline - time.monotonic(), 0))
            self.interrupt.wait(wait)

    def tick(self) -> None:
        self._check()

    def spawn(self, argv: list[str], kind: str) -> int:
        return self.container._spawn(argv, kind)

    def fork(self) -> None:
        self.container._fork()

    def kill(self, pid: int, sig: int) -> str | None:
        return self.container._signal_inside(pid, sig)

    def listen(self, port: int, home: str) -> None:
        self.container._listen(port, home)

    def exec_image(self, pid: int, argv: list[str]) -> None:
        self.container._exec_image(pid, argv)

    def procs(self) -> list[dict]:
        self.record = self.container._record_now()
        return super().procs()

    def listen_ports(self) -> list[int]:
        self.record = self.container._record_now()      # a server this same line just started
        return super().listen_ports()

    def http_get(self, url: str, headers: dict) -> tuple[int, str, str | None]:
        # `echo hi > /www/index.html; httpd -h /www; wget ...` on one line: the server and the
        # file came after this line's snapshot, and a real server sees a file the moment it is written.
        self.container._save_upper(self.fs)
        self.world = self.rt.snapshot()
        self.record = self.world["containers"].get(self.record["id"], self.record)
        return super().http_get(url, headers)
