"""The simulated backend: onggi's lessons and diagrams on machines where real containers cannot run.

Real mode is the default wherever it works (Linux, root, overlayfs: see
``Runtime.check_host``). Where it does not, the web app runs on a
:class:`SimRuntime` instead: the same interface as :class:`runtime.core.Runtime`
(containers, images, cgroups, networks, events), over a small world kept in
``ONGGI_ROOT/sim/world.json``. A launch still walks the six named steps and can
be paused at each; a container has a hostname, pids, namespace inode numbers,
an overlay of layers, a cgroup whose gauges move and an address on a bridge;
a tiny busybox shell answers ``hostname``, ``ps``, ``ip addr``... as busybox would.

What it never does: make a syscall that changes the kernel, start a process,
mount, write cgroupfs, touch a network interface, or pretend to be real. Every
answer that stands for the kernel's is labelled simulated (``"simulated": True``
in models and reports, ``rt.simulated``), and every view the web app draws from
it says "simulated" (모의 실행).

The modules, from the bottom: ``state`` (the world file), ``fs`` (layered
files as data), ``busybox`` (the base image as data), ``shell/`` (the tiny
shell), ``machine`` (a container seen from inside), ``plan`` (what a first
process will do), ``images``, ``networks``, ``cgroups``, ``registry``,
``build``, ``launch`` and ``container`` (the verbs), ``terminal`` (a browser
terminal's shell), ``truth`` (the simulated kernel's readers) and ``runtime``
(:class:`SimRuntime`, which wires them).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SimRuntime", "host_problem", "reason", "usable_config"]


def __getattr__(name):
    if name == "SimRuntime":
        from .runtime import SimRuntime
        return SimRuntime
    raise AttributeError(f"module 'runtime.sim' has no attribute {name!r}")


def host_problem(config) -> BaseException | None:
    """Why real containers cannot run here (what ``Runtime.check_host`` raises), or None."""
    import sys
    from runtime.errors import Unsupported
    if not sys.platform.startswith("linux"):
        return Unsupported(f"this is {sys.platform}, not Linux", hint="onggi runs real containers only on Linux")
    try:
        from runtime.core import Runtime
        Runtime(config).check_host()
    except Unsupported as exc:
        return exc
    except (ImportError, OSError) as exc:      # no libc to load: not a Linux we can use
        return exc
    return None


def reason(exc: BaseException | None) -> tuple[str, str]:
    """Why this machine runs simulated, in Korean and English, for the banner and ``serve``'s line.

    EXC is what ``Runtime.check_host`` raised (None: simulated mode was asked for)."""
    from runtime.errors import NotRoot
    if exc is None:
        return ("--simulate로 모의 실행을 골랐습니다 (진짜 컨테이너도 만들 수 있는 컴퓨터입니다)",
                "simulated mode was asked for with --simulate (this computer could run real containers)")
    cannot = ("이 컴퓨터에서는 진짜 컨테이너를 만들 수 없습니다", "real containers cannot be made on this computer")
    if isinstance(exc, NotRoot):
        why = ("root 권한이 없습니다 (네임스페이스, cgroup, 마운트를 만들려면 root가 필요합니다)",
               "onggi is not running as root (namespaces, cgroups and mounts need root)")
    elif "overlayfs" in str(exc):
        why = ("커널에 overlayfs가 없습니다", "the kernel has no overlayfs")
    elif "Linux" in str(exc) or isinstance(exc, (ImportError, OSError)):
        why = ("리눅스가 아닙니다 (컨테이너는 리눅스 커널의 기능입니다)",
               "this is not Linux (containers are a feature of the Linux kernel)")
    else:
        why = (str(exc), str(exc))
    return f"{cannot[0]} — {why[0]}", f"{cannot[1]}: {why[1]}"


def usable_config(config, environ=None):
    """CONFIG, with its root and run directories moved to the user's own when they cannot be
    written (a normal user and the default /var/lib/onggi): the simulation needs only files."""
    env = os.environ if environ is None else environ
    changes = {}
    if not _writable(config.root) and not env.get("ONGGI_ROOT"):
        base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        changes["root"] = base / "onggi"
    if not _writable(config.run) and not env.get("ONGGI_RUN"):
        runtime_dir = env.get("XDG_RUNTIME_DIR")
        changes["run"] = Path(runtime_dir) / "onggi" if runtime_dir else \
            Path(changes.get("root", config.root)) / "run"
    return config.with_(**changes) if changes else config


def _writable(path: Path) -> bool:
    """Can this process create PATH (or write in it)? Looks at the nearest existing directory."""
    p = Path(path)
    while not p.exists():
        if p.parent == p:
            return False
        p = p.parent
    return os.access(p, os.W_OK | os.X_OK)
