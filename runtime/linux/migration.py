"""Priming the kernel's cgroup migration lock, so that a container's first move
into its cgroup does not wait.

Moving a task into a cgroup (a write to ``cgroup.procs``) takes the kernel's one
global ``cgroup_threadgroup_rwsem`` for writing. After a quiet spell (about 50 ms
here) that first has to wait for an RCU grace period (``rcu_sync``): 6 ms on an
idle machine here, up to 17 ms while both cores are busy starting a container,
unless the hierarchy is mounted with ``favordynmods``. runc pays that wait on
every launch. And while it waits the writer holds ``cgroup_mutex``, so even a
mkdir in cgroupfs waits behind it.

So whoever is about to move a process into a cgroup calls :func:`prime` as
early as it can (a cold ``onggi run`` or any ``onggi exec`` first thing, before
Python has even read its arguments; a warm worker for the launches its zygote
cannot serve): a throwaway child moves itself into the cgroup it is already in,
a no-op move that still takes the lock, and pays the wait while we go on
parsing, writing the container's files and mounting its rootfs. When the
container's first process joins its cgroup, the switch is done. (An attached
warm ``run`` needs none of this: runtime/container/zygote.py.)

Light on purpose (``os`` and ``sys`` only): the CLI client imports it.
"""
import os
import sys

_CONTROLLERS = ("memory", "pids", "cpu", "cpuacct")


def prime(root: str, proc: str = "/proc", *, cloned: bool = False) -> None:
    """Prime from this process's own cgroup, in whatever layout is mounted at ROOT.

    cloned: the task to come will be cloned straight into its cgroup where the
    kernel allows it (a container's first process, on pure cgroup v2: clone3 with
    CLONE_INTO_CGROUP). Then there is no move to prime for, and a primer would
    hold cgroup_mutex through the grace period, stalling the mkdir of that very
    cgroup: on v2 nothing is done.
    """
    if cloned and os.path.exists(os.path.join(root, "cgroup.controllers")):
        return
    path = own_procs_file(root, proc)
    if path is not None:
        prime_file(path)


def own_procs_file(root: str, proc: str = "/proc") -> str | None:
    """``cgroup.procs`` of this process's cgroup: in a v1 controller's tree under
    ROOT if there is one, else in the cgroup2 tree at ROOT (v2) or ROOT/unified
    (hybrid). None if none of them is there."""
    try:
        with open(os.path.join(proc, "self", "cgroup")) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    candidates = []
    for line in lines:
        _id, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if controllers == "":
            candidates += [os.path.join(root, rel), os.path.join(root, "unified", rel)]
        elif any(c in _CONTROLLERS for c in controllers.split(",")):
            candidates.insert(0, os.path.join(root, controllers, rel))
    for directory in candidates:
        procs = os.path.join(directory, "cgroup.procs")
        if os.path.exists(procs):
            return procs
    return None


def prime_file(procs_file) -> None:
    """A throwaway child writes "0" (itself) to procs_file; never raises, never waits.

    Only from a single-threaded process (it forks). The child is not waited for:
    it is reaped when we exit, or by our SIGCHLD handling.
    """
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() != 1:
        return
    try:
        pid = os.fork()
    except OSError:
        return
    if pid == 0:
        try:
            fd = os.open(procs_file, os.O_WRONLY)
            os.write(fd, b"0")          # "0" means the writing process itself
        except OSError:
            pass
        finally:
            os._exit(0)
