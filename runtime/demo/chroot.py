"""chroot alone vs a container's namespaces: the same three questions, two answers.

chroot(2) (Version 7 Unix, 1979) changes one thing: where a process's ``/`` is.
Everything else is still the host's: the process table, the hostname, the
network. FreeBSD's Jail (2000), Solaris Zones (2004) and Linux's namespaces
(2002-2013, used by LXC in 2008 and Docker in 2013) fence those too. This demo
asks both the same questions -- ``ps``, ``hostname``, the network interfaces in
``/proc/net/dev`` -- and returns both answers.

The chroot side:

* The root is the busybox image's layers under a private overlay mount (a
  throwaway upper and work dir), exactly as a container's rootfs is made, so
  the two sides differ only in the namespaces, and nothing is ever written into
  the shared layer directory (a plain bind mount of the layer would let the
  commands write into it; a copy would cost a copy).
* The host's ``/proc`` is bind-mounted at ``<root>/proc``: ``ps`` needs a
  /proc, and with no PID namespace the only /proc there is is the host's -- that
  is the point of the demo: every host process shows.
* Both mounts are made in the host's mount namespace (chroot alone means no
  namespaces at all), under the onggi root, and unmounted before this returns,
  failure or not. The commands run in a child forked for the purpose that
  chroot(2)s, chdir("/")s and execs busybox's sh; it is killed on timeout.

The container side is an ordinary container of the same image with no network
(``--network none``: only ``lo``), removed afterwards.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from ..errors import OnggiError
from ..linux import syscalls as sc
from ..rootfs import overlay

# The same questions on both sides, between markers that are easy to split on. `ls -1 /`
# is the one question chroot does answer differently from the host: its files.
SCRIPT = ("echo '@@files'; ls -1 /; echo '@@ps'; ps; echo '@@hostname'; hostname; "
          "echo '@@interfaces'; cat /proc/net/dev")
ENV = {"PATH": "/bin:/usr/bin:/sbin:/usr/sbin", "HOME": "/root"}


def chroot_vs_namespaces(rt, *, timeout: float = 30) -> dict:
    """Run ``ls /``, ``ps``, ``hostname`` and the interface list in a chroot and in a container.

    Returns ``{"chroot": side, "container": side, "host": {...}}`` where a side is
    ``{"files": [...], "sees_host_files": bool, "processes": N, "sees_host_processes": bool, "hostname": str,
    "hostname_is_host": bool, "interfaces": [...], "sees_host_interfaces": bool,
    "pids": [...], "output": str}`` (the container's also has its ``id``). The
    host's own view is ``{"processes", "hostname", "interfaces", "pid", "files"}``, where
    ``pid`` is this process: the chroot sees it, the container cannot.
    Everything made (mounts, directories, the child, the container) is gone on return.
    """
    rt.check_host()
    image = rt.image("busybox")
    layers = [str(p) for p in rt.images.layer_dirs(image)]
    host = host_view(rt.config.proc)
    chroot_out = run_in_chroot(rt.syscalls, layers, rt.config.root / "demo", SCRIPT,
                               timeout=timeout, proc=rt.config.proc)
    container_out, cid = run_in_container(rt, SCRIPT, timeout=timeout)
    return {"chroot": summarize(chroot_out, host),
            "container": summarize(container_out, host) | {"id": cid},
            "host": host}


# -- what each side printed -------------------------------------------------------------

def sections(output: str) -> dict[str, list[str]]:
    """The script's output split at its ``@@name`` markers."""
    out: dict[str, list[str]] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("@@"):
            current = line[2:].strip()
            out[current] = []
        elif current is not None and line.strip():
            out[current].append(line)
    return out


def parse_ps(lines: list[str]) -> list[int]:
    """PIDs from busybox ``ps`` (``PID USER COMMAND`` header first)."""
    pids = []
    for line in lines[1:]:
        first = line.split(None, 1)[0] if line.split() else ""
        if first.isdigit():
            pids.append(int(first))
    return pids


def parse_net_dev(lines: list[str]) -> list[str]:
    """Interface names from /proc/net/dev (two header lines, then ``name: counters``)."""
    return [line.split(":", 1)[0].strip() for line in lines[2:] if ":" in line]


def summarize(output: str, host: dict) -> dict:
    s = sections(output)
    files = sorted(line.strip() for line in s.get("files", []))
    pids = parse_ps(s.get("ps", []))
    hostname = (s.get("hostname") or [""])[0].strip()
    interfaces = parse_net_dev(s.get("interfaces", []))
    return {"files": files, "sees_host_files": files == host["files"],
            "processes": len(pids), "sees_host_processes": host["pid"] in pids, "pids": pids,
            "hostname": hostname, "hostname_is_host": hostname == host["hostname"],
            "interfaces": interfaces,
            # Any of the host's own interfaces besides lo (the list itself may change
            # meanwhile: other containers come and go).
            "sees_host_interfaces": any(i in host["interfaces"] for i in interfaces if i != "lo"),
            "output": output}


def host_view(proc: Path = Path("/proc"), root: Path = Path("/")) -> dict:
    """What the host itself sees, to compare both sides with."""
    pids = [int(p) for p in os.listdir(proc) if p.isdigit()]
    try:
        lines = (Path(proc) / "net/dev").read_text().splitlines()
    except OSError:
        lines = []
    return {"processes": len(pids), "hostname": socket.gethostname(),
            "interfaces": parse_net_dev(lines), "pid": os.getpid(),
            "files": sorted(n for n in os.listdir(root) if not n.startswith("."))}


# -- the chroot side --------------------------------------------------------------------

class ChrootRoot:
    """The chroot's root: an overlay of the image's layers plus the host's /proc bound in.

    A context manager: entering mounts both under a fresh directory of
    ``parent``; leaving unmounts them (in reverse) and removes the directory,
    also when entering failed half way. ``path`` is the root to chroot into.
    """

    def __init__(self, syscalls, layers: list[str], parent: Path, proc: Path = Path("/proc")):
        self.sys = syscalls
        self.layers = layers
        self.dir = Path(parent) / f"chroot-{secrets.token_hex(4)}"
        self.path = self.dir / "merged"
        self.proc = proc
        self._mounted: list[Path] = []

    def __enter__(self) -> "ChrootRoot":
        try:
            for sub in ("upper", "work", "merged"):
                (self.dir / sub).mkdir(parents=True)
            overlay.mount(self.sys, self.layers, self.dir / "upper", self.dir / "work", self.path)
            self._mounted.append(self.path)
            target = self.path / "proc"
            target.mkdir(exist_ok=True)           # in the upper dir, never in a layer
            self.sys.mount(str(self.proc), str(target), None, sc.MS_BIND)
            self._mounted.append(target)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc) -> None:
        while self._mounted:
            target = self._mounted.pop()
            try:
                self.sys.umount2(str(target), sc.MNT_DETACH)
            except OSError:
                pass
        if not _mounted_under(self.dir):          # never walk into a mount that is still there
            shutil.rmtree(self.dir, ignore_errors=True)


def _mounted_under(path: Path) -> bool:
    prefix = str(path) + "/"
    try:
        with open("/proc/self/mountinfo") as f:
            return any((line.split()[4] + "/").startswith(prefix) for line in f)
    except OSError:
        return False


def run_in_chroot(syscalls, layers: list[str], parent: Path, script: str, *,
                  timeout: float = 30, proc: Path = Path("/proc")) -> str:
    """Fork a child that chroot(2)s into the image's root and runs ``sh -c script``; its output."""
    with ChrootRoot(syscalls, layers, parent, proc) as root:
        def enter():                       # runs in the forked child, before exec
            syscalls.chroot(str(root.path))
            os.chdir("/")                  # chroot(2) leaves the cwd outside the new root
        try:
            # Its own process group, so that a timeout kills whatever it started too.
            child = subprocess.Popen(["/bin/sh", "-c", script], preexec_fn=enter, env=ENV,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, start_new_session=True)
        except (OSError, subprocess.SubprocessError) as e:
            raise OnggiError(f"chroot demo: cannot start the chroot: {e}",
                             hint="check that the busybox image is intact ('onggi images')") from None
        try:
            out, _ = child.communicate(timeout=timeout)
        except BaseException as e:
            try:
                os.killpg(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            child.communicate()
            if isinstance(e, subprocess.TimeoutExpired):
                raise OnggiError(f"chroot demo: the commands did not finish within {timeout:g} s",
                                 hint="try again; the chroot and its mounts were removed") from None
            raise
    return out.decode("utf-8", "replace")


# -- the container side -------------------------------------------------------------------

def run_in_container(rt, script: str, *, timeout: float = 30) -> tuple[str, str]:
    """The same script in a fresh busybox container (no network); (its output, its id)."""
    from ..container.spec import ContainerSpec
    c = rt.create(ContainerSpec(image="busybox", cmd=("sh", "-c", script),
                                labels=(("org.onggi.demo", "chroot"),)))
    try:
        handle = c.start(attach=False)
        try:
            handle.wait_started()
        finally:
            handle.close()
        deadline = time.monotonic() + timeout
        while c.record.monitor_alive():          # its monitor exits once the output is logged
            if time.monotonic() >= deadline:
                raise OnggiError(f"chroot demo: the container did not finish within {timeout:g} s",
                                 hint="try again; the container was removed")
            time.sleep(0.01)
        output = b"".join(data for stream, data, _ in c.logs() if stream == "stdout")
        return output.decode("utf-8", "replace"), c.id
    finally:
        c.remove(force=True)
