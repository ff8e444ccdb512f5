"""chroot alone vs a container's namespaces, on the simulated host.

The real demo (:mod:`runtime.demo.chroot`) chroot(2)s into the busybox image's
files with the host's /proc bound in, and runs the same three questions --
``ps``, ``hostname``, ``cat /proc/net/dev`` -- there and in a container. Here
the chroot side is the tiny shell on a machine that answers as the simulated
*host* would (chroot changes only ``/``): the host's process table, its
hostname, its network devices; while files come from the busybox image. The
container side is an ordinary simulated container with no network, run and
removed exactly as the real demo does it. Both outputs go through the real
demo's parser, so the browser shows the same table, marked simulated.
"""
from __future__ import annotations

from runtime.demo.chroot import ENV, SCRIPT, run_in_container, summarize

from .fs import FS
from .machine import PlanMachine
from .shell.interp import ExitShell, Interp
from .state import next_number

# The simulated host's / (a Debian server's), which the chroot no longer sees.
HOST_ROOT = ["bin", "boot", "dev", "etc", "home", "lib", "lib64", "media", "mnt", "opt", "proc", "root", "run",
             "sbin", "srv", "sys", "tmp", "usr", "var"]
# The simulated host's own processes (a small Debian server), below the pids
# the simulation hands to containers (which start at 4200, see state.py).
SERVE_PID = 1187                    # onggi serve, which runs the demo: the chroot sees it
HOST_PROCESSES = [
    (1, "/sbin/init"), (2, "[kthreadd]"), (3, "[rcu_gp]"), (14, "[ksoftirqd/0]"),
    (15, "[rcu_preempt]"), (22, "[ksoftirqd/1]"), (312, "/lib/systemd/systemd-journald"),
    (341, "/lib/systemd/systemd-udevd"), (512, "/usr/sbin/cron -f"),
    (518, "/lib/systemd/systemd-logind"), (604, "/usr/sbin/sshd -D"),
    (611, "/sbin/agetty -o -p -- \\u --noclear - linux"),
    (SERVE_PID, "/usr/bin/python3 -m runtime.cli serve"),
]


class ChrootMachine(PlanMachine):
    """What a process that only chroot(2)ed sees: the image's files, the host's everything else."""

    def __init__(self, rt, world, fs: FS, *, pid: int):
        record = {"id": "", "process": {"hostname": rt.host_hostname()}, "spec": {"network": "host"},
                  "procs": []}
        super().__init__(rt, world, record, fs, pids_max=None)
        self.pid = pid

    def procs(self) -> list[dict]:
        # No PID namespace: every process on the host, the containers' under their host pids.
        out = [{"pid": pid, "ppid": 0 if pid == 1 else 1, "cmd": cmd, "stat": "S", "cpu": 0.0}
               for pid, cmd in HOST_PROCESSES]
        for c in self.world["containers"].values():
            for p in c.get("procs", []):
                out.append({"pid": p["pid"], "ppid": 1, "cmd": p["cmd"], "stat": "S", "cpu": 0.0})
        out.append({"pid": self.pid, "ppid": SERVE_PID, "cmd": "sh -c " + SCRIPT, "stat": "R", "cpu": 0.0})
        return sorted(out, key=lambda p: p["pid"])

    def mounts(self) -> list[dict]:
        return [{"source": "overlay", "mountpoint": "/", "fstype": "overlay", "options": "rw"},
                {"source": "proc", "mountpoint": "/proc", "fstype": "proc", "options": "rw"}]


def host_view(rt) -> dict:
    """What the simulated host itself sees, to compare both sides with (host_view's shape)."""
    world = rt.snapshot()
    containers = sum(len(c.get("procs", [])) for c in world["containers"].values())
    return {"processes": len(HOST_PROCESSES) + containers, "hostname": rt.host_hostname(),
            "interfaces": [i["name"] for i in rt.truth.host_interfaces()], "pid": SERVE_PID,
            "files": HOST_ROOT}


def run_in_chroot(rt, script: str) -> str:
    """SCRIPT run by the tiny shell in a "chroot" of the busybox image on the simulated host."""
    image = rt.image("busybox")
    world = rt.snapshot()
    fs = FS([world["layers"].get(h, {}) for h in (d.split(":", 1)[-1] for d in image.diff_ids)], {})
    with rt.world.edit() as w:
        pid = next_number(w, "pid")
    machine = ChrootMachine(rt, world, fs, pid=pid)
    chunks: list[str] = []
    sh = Interp(machine, dict(ENV), cwd="/", pid=pid, name="sh")
    try:
        sh.call(["sh", "-c", script], "", lambda fd, text: chunks.append(text))
    except ExitShell:
        pass
    return "".join(chunks)


def chroot_vs_namespaces(rt, *, timeout: float = 30) -> dict:
    """The real demo's answer (see :func:`runtime.demo.chroot.chroot_vs_namespaces`), simulated."""
    host = host_view(rt)
    chroot_out = run_in_chroot(rt, SCRIPT)
    container_out, cid = run_in_container(rt, SCRIPT, timeout=timeout)
    return {"chroot": summarize(chroot_out, host),
            "container": summarize(container_out, host) | {"id": cid},
            "host": host, "simulated": True}
