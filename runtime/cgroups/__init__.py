"""Control groups: put a container's processes in a cgroup and limit what they use.

One :class:`Manager` interface with one class per backend, chosen once by
:func:`open_manager` (youki: ``get_cgroup_setup_with_root`` in
``crates/libcgroups/src/common.rs``; crun: ``struct libcrun_cgroup_manager``):

* ``v2`` (:mod:`runtime.cgroups.v2`): one unified tree, ``/sys/fs/cgroup`` is
  cgroup2. Most hosts today.
* ``v1`` (:mod:`runtime.cgroups.v1`): one tree per controller,
  ``/sys/fs/cgroup/memory``, ``/sys/fs/cgroup/pids``... with ``cpu`` and ``cpuacct``
  either separate mounts or one ``cpu,cpuacct`` mount that both names link to.
* ``hybrid``: v1 controllers plus a cgroup2 mount at ``/sys/fs/cgroup/unified``
  that systemd uses for process tracking. The v1 backend does the work; the
  unified mount holds no controllers we need and is left alone. (crun refuses
  this layout; onggi does not.)

This package only reads and writes files under a cgroupfs root given as a
parameter (``root=``), so tests run on ``tmp_path`` trees laid out like cgroupfs.
It knows nothing of containers, never makes other syscalls than file I/O and
kill(2), never prints, and never touches controllers it does not need (cpuset,
devices, freezer, blkio, ``name=systemd``).

Kernel file names are kept as they are (``memory.max``, ``pids.max``,
``memory.limit_in_bytes``) so that the kernel documentation still applies:
Documentation/admin-guide/cgroup-v2.rst and Documentation/admin-guide/cgroup-v1/.
"""
from __future__ import annotations

import errno
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from runtime.errors import Conflict, InvalidArgument, Unsupported

VERSIONS = ("v1", "v2", "hybrid")
DEFAULT_ROOT = Path("/sys/fs/cgroup")
DEFAULT_CPU_PERIOD = 100_000  # microseconds: the kernel's default CFS period


# --- values -------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """What a container may use. ``None`` means no limit (the kernel's "max").

    * ``memory``: bytes (``-m``). Swap is disabled whenever it is set, as
      ``docker run -m`` without ``--memory-swap`` would allow twice as much:
      memory+swap = memory (v1 ``memory.memsw.limit_in_bytes``, v2
      ``memory.swap.max`` = 0).
    * ``cpu_quota`` per ``cpu_period``: microseconds of CPU time each period
      (``--cpus 0.5`` = 50000 per 100000). See :meth:`from_cpus`.
    * ``pids``: the most tasks (processes and threads) at once (``--pids-limit``).
    * ``cpu_shares``: relative weight, 2..262144, default 1024 (``--cpu-shares``);
      v2 converts it to ``cpu.weight``.

    Values are checked here, once, so that nothing the kernel would refuse with a
    bare EINVAL gets as far as cgroupfs.
    """

    memory: int | None = None
    cpu_quota: int | None = None
    cpu_period: int = DEFAULT_CPU_PERIOD
    pids: int | None = None
    cpu_shares: int | None = None

    def __post_init__(self):
        # The kernel's own bounds: CFS quota >= 1 ms, 1 ms <= period <= 1 s
        # (kernel/sched/core.c), shares 2..262144 (MIN_SHARES, MAX_SHARES).
        _check("memory", self.memory, 1, None, "a positive number of bytes")
        _check("cpu_quota", self.cpu_quota, 1000, None, "at least 1000 microseconds")
        _check("cpu_period", self.cpu_period, 1000, 1_000_000,
               "between 1000 and 1000000 microseconds", optional=False)
        _check("pids", self.pids, 1, None, "a positive number of processes")
        _check("cpu_shares", self.cpu_shares, 2, 262_144, "between 2 and 262144")

    @classmethod
    def from_cpus(cls, cpus: float, **kw) -> "Limits":
        """Limits for ``--cpus CPUS``: a quota of CPUS periods per period.

        Docker's arithmetic: CPUS becomes nano-CPUs, and the quota is
        ``nano_cpus * period / 1e9`` rounded down, so 0.5 -> 50000 of 100000.
        """
        if not isinstance(cpus, (int, float)) or not cpus > 0:  # also refuses NaN
            raise InvalidArgument(f"invalid cpus {cpus!r}: use a positive number (e.g. 0.5)")
        period = kw.pop("cpu_period", DEFAULT_CPU_PERIOD)
        nano_cpus = round(cpus * 1_000_000_000)
        return cls(cpu_quota=nano_cpus * period // 1_000_000_000, cpu_period=period, **kw)


def _check(field, value, low, high, want, *, optional=True):
    if value is None and optional:
        return
    if (not isinstance(value, int) or isinstance(value, bool) or value < low
            or (high is not None and value > high)):
        raise InvalidArgument(f"invalid cgroup limit {field}={value!r}: must be {want}")


@dataclass(frozen=True)
class Stats:
    """What the kernel counts for a cgroup right now; ``None`` when it doesn't say.

    Everything ``onggi stats`` and the web's gauges show. Times are nanoseconds
    and sizes bytes on both versions (v2's microsecond counters are converted).
    ``memory_inactive_file`` is page cache the kernel can drop at once: Docker's
    "MEM USAGE" is ``memory_current - memory_inactive_file``.
    """

    memory_current: int | None = None
    memory_max: int | None = None
    memory_peak: int | None = None
    pids_current: int | None = None
    pids_max: int | None = None
    cpu_usage_ns: int | None = None
    cpu_nr_periods: int | None = None
    cpu_nr_throttled: int | None = None
    cpu_throttled_ns: int | None = None
    oom_kills: int | None = None
    memory_inactive_file: int | None = None


# --- the interface --------------------------------------------------------------

class Cgroup(Protocol):
    """One container's cgroup (in every controller's tree, on v1).

    ``path`` is the cgroup as ``/proc/PID/cgroup`` shows it from the host, e.g.
    ``/onggi/<name>``. Reading methods return what the kernel says now; a file
    that is missing (controller not there, cgroup already gone) reads as
    unknown (``None``), never as an error.
    """

    name: str
    path: str

    def dirs(self) -> dict[str, Path]:
        """Controller -> directory; one ``"unified"`` entry on v2. No I/O after
        the manager's first look at the mounts."""

    def add(self, pid: int) -> None:
        """Move process PID (all its threads) into the cgroup: ``cgroup.procs``,
        in every controller's tree on v1."""

    def clone_target(self) -> Path | None:
        """The directory a new process can be cloned straight into (clone3 with
        CLONE_INTO_CGROUP: no move, so none of the RCU wait a first move costs),
        or None where it must be moved with :meth:`add` (v1: one directory per
        controller, and the kernel takes only a cgroup2 one)."""

    def procs(self) -> list[int]:
        """The pids in the cgroup, sorted, without duplicates (v1 can list some
        twice, and a pid in any of the trees counts)."""

    def limits(self) -> Limits:
        """The limits read back from the kernel's files. The kernel rounds memory
        down to whole pages; v2 reads ``cpu_shares`` back from ``cpu.weight``, so
        it is close to, not equal to, what was written. Default shares read as
        ``None``."""

    def stats(self) -> Stats:
        """Usage and counters now (see :class:`Stats`); unknown ones are None."""

    def oom_kills(self) -> int:
        """How many processes the OOM killer has killed in this cgroup (0 when
        the cgroup or the counter is gone)."""

    def files(self) -> dict[str, str]:
        """The interface files a learner should see: kernel name -> raw text,
        limits first, then usage, then ``cgroup.procs``. Missing ones are left out."""

    def kill(self, sig: int = 9) -> None:
        """Send SIG to every process in the cgroup. SIGKILL uses ``cgroup.kill``
        when the kernel has it (v2, 5.14+), which also catches processes forked
        meanwhile; otherwise each pid is killed, and for SIGKILL the cgroup is
        listed again until no new pid shows up. Other signals go once to the
        processes there at that moment."""

    def destroy(self, timeout: float = 2.0) -> None:
        """Remove the cgroup from every tree. Processes must be gone: the kernel
        refuses to remove a populated cgroup (EBUSY), which is retried until
        TIMEOUT seconds (exiting processes take a moment to leave), then raised
        as :class:`Conflict`. Child cgroups made inside it go first. Idempotent:
        a cgroup that is already gone is done."""


class Manager(Protocol):
    """Makes and finds the cgroups under one parent (``onggi``, or a test's own).

    A manager is cheap to build: it does no I/O until asked. ``version`` is
    "v1", "v2" or "hybrid".
    """

    version: str
    parent: str

    def create(self, name: str, limits: Limits) -> Cgroup:
        """Make the cgroup (and the parent, the first time) and write LIMITS.

        Idempotent: an existing cgroup gets every limit written again, unset ones
        as "max"/-1, so a restarted container never keeps old limits. A new one
        only gets the limits that are set (the rest already are the kernel's
        defaults). Raises :class:`Unsupported` naming the controller when a limit
        needs one the host lacks, and ``OSError`` (with the file and the value)
        when the kernel refuses a value."""

    def get(self, name: str) -> Cgroup:
        """The cgroup NAME, which should exist. Builds paths only, no I/O."""

    def names(self) -> list[str]:
        """Names of the containers' cgroups under the parent, sorted (for prune
        and the diagrams); spares are not containers and are left out. On v1 a
        name found in any controller's tree counts, so half-made leftovers show."""

    def exists(self, name: str) -> bool:
        """Whether NAME exists (in any controller's tree, on v1)."""

    def warm_up(self, proc: Path = Path("/proc")) -> None:
        """Start the kernel's switch to task-migration mode now; see :func:`warm_up`."""

    def spare(self, owner: int) -> Cgroup | None:
        """A new, empty cgroup ``spare-OWNER`` for a zygote (runtime.container.zygote)
        to wait in until :meth:`adopt` makes it a container's; None where this
        layout has no use for spares (v2: clone3 with CLONE_INTO_CGROUP already
        starts a process in its cgroup) or no controllers are mounted. Removes
        the spares of owners that are gone first."""

    def adopt(self, spare: Cgroup, name: str, limits: Limits) -> Cgroup:
        """Make SPARE the cgroup NAME, processes and all, with LIMITS written as
        :meth:`create` writes them. All or nothing: on failure SPARE is left as
        it was and the error raised."""

    def remove_stale_spares(self) -> list[str]:
        """Remove the spares whose owner process is gone (for prune); their paths."""


def warm_up(procs_file: Path) -> None:
    """Prime the kernel's cgroup migration lock from procs_file (the caller's own
    cgroup): see :mod:`runtime.linux.migration`. Never raises, never waits."""
    from runtime.linux.migration import prime_file
    prime_file(procs_file)


def own_cgroup(proc: Path, hierarchy: str) -> str | None:
    """This process's cgroup path in one hierarchy ("memory", or "" for cgroup2)."""
    try:
        text = (proc / "self" / "cgroup").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        _id, controllers, path = line.split(":", 2)
        if (hierarchy == "" and controllers == "") or hierarchy in controllers.split(","):
            return path
    return None


# --- choosing a backend ------------------------------------------------------------

# Any one of these directories under the root means cgroup v1 controllers are there.
_V1_MARKERS = ("memory", "pids", "cpu", "cpuacct", "cpu,cpuacct")


def detect(root: Path = DEFAULT_ROOT) -> str:
    """Which cgroup layout is mounted at ROOT: "v1", "v2" or "hybrid".

    Read from the tree itself with a few stat calls (no /proc/self/mountinfo, no
    statfs), so it also works on test trees: ``cgroup.controllers`` exists only at
    the root of a cgroup2 mount.
    """
    root = Path(root)
    if (root / "cgroup.controllers").exists():
        return "v2"
    if any((root / name).is_dir() for name in _V1_MARKERS):
        return "hybrid" if (root / "unified" / "cgroup.controllers").exists() else "v1"
    raise Unsupported(
        f"no cgroup filesystem found under {root}",
        hint="onggi needs cgroupfs mounted there (cgroup2, or cgroup v1 controllers); "
             "check 'mount -t cgroup2' or 'mount -t cgroup'")


def open_manager(root: Path = DEFAULT_ROOT, parent: str = "onggi",
                 version: str | None = None) -> Manager:
    """The manager for the cgroups under PARENT, on the layout at ROOT (detected
    unless VERSION says which)."""
    root = Path(root)
    version = version or detect(root)
    if version == "v2":
        from runtime.cgroups.v2 import V2Manager
        return V2Manager(root, parent)
    if version in ("v1", "hybrid"):
        from runtime.cgroups.v1 import V1Manager
        return V1Manager(root, parent, version=version)
    raise InvalidArgument(f"invalid cgroup version {version!r}: use one of {', '.join(VERSIONS)}")


# --- shared by the backends: names, and cgroupfs files -----------------------------

# A spare cgroup's name: the prefix and the pid of the process that owns it (a
# container's cgroup is named by its 64-hex id, so the two never collide).
SPARE_PREFIX = "spare-"


def spare_owner(name: str) -> int | None:
    """The owner's pid if NAME is a spare cgroup's, else None."""
    if not name.startswith(SPARE_PREFIX):
        return None
    rest = name[len(SPARE_PREFIX):]
    return int(rest) if rest.isdigit() else None


def pid_alive(pid: int, proc: Path = Path("/proc")) -> bool:
    """Whether PID is a process that has not exited (a zombie, not yet reaped by
    a parent that may never reap it, has)."""
    try:
        with open(proc / str(pid) / "stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


def check_parent(parent: str) -> str:
    """PARENT as a relative path ("onggi", "ci/onggi-test-1"); refuses escapes."""
    parts = [p for p in str(parent).strip("/").split("/") if p]
    if not parts or any(p in (".", "..") for p in parts):
        raise InvalidArgument(f"invalid cgroup parent {parent!r}: use a name like 'onggi'")
    return "/".join(parts)


def check_name(name: str) -> str:
    """NAME as one path component: a container's cgroup is a direct child of the parent."""
    if (not isinstance(name, str) or not name or name in (".", "..")
            or "/" in name or "\0" in name or "\n" in name):
        raise InvalidArgument(f"invalid cgroup name {name!r}: use one name without '/'")
    return name


def read(path: Path) -> str | None:
    """The text of a cgroupfs file, or ``None`` when it does not exist.

    os.open/os.read rather than open(): a cgroup launch reads a handful of tiny
    files, and the buffered text layer costs more than the read itself.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


def write(path: Path, value: str | int) -> None:
    """Write VALUE to a cgroupfs file in one write(2), as the kernel wants.

    No O_CREAT (runc's ``WriteFile`` and youki's ``write_cgroup_file`` don't
    either): a missing interface file means the controller is not there, and
    that should fail with ENOENT, not make a stray file. A refused value is
    re-raised with the value and the path in the message.
    """
    data = str(value).encode()
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC)
    try:
        os.write(fd, data)
    except OSError as e:
        raise OSError(e.errno, f"{e.strerror} (writing {data.decode()!r})", str(path)) from None
    finally:
        os.close(fd)


def read_int(path: Path) -> int | None:
    """A one-number file; ``None`` when missing or "max"."""
    text = read(path)
    if text is None:
        return None
    text = text.strip()
    return None if text == "max" else int(text)


def read_keyed(path: Path) -> dict[str, int]:
    """A flat keyed file ("key value" lines: cpu.stat, memory.events, memory.stat,
    memory.oom_control); empty when missing."""
    text = read(path)
    out = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            pass  # not a number (never in the files we read; be lenient anyway)
    return out


def read_pids(path: Path) -> set[int]:
    """The pids listed in a ``cgroup.procs``; empty when missing."""
    return {int(line) for line in (read(path) or "").split()}


def make_dir(path: Path) -> bool:
    """mkdir PATH (and missing parents); True if this call made PATH.

    The common case, parent there and PATH new, is a single mkdir(2).
    """
    try:
        os.mkdir(path)
        return True
    except FileExistsError:
        return False
    except FileNotFoundError:
        os.makedirs(path.parent, exist_ok=True)
        return make_dir(path)


def remove_dir(path: Path, deadline: float, busy_pids=None) -> None:
    """rmdir a cgroup directory, retrying EBUSY until DEADLINE (a monotonic time).

    The kernel says EBUSY while the cgroup still has processes, which happens
    for a moment after they were killed (they leave at exit, and the memory
    controller offlines asynchronously), and when it has child cgroups, which
    are removed first. A missing directory is already done. BUSY_PIDS, called on
    timeout, names the processes for the error.
    """
    delay = 0.0005
    while True:
        try:
            os.rmdir(path)
            return
        except FileNotFoundError:
            return
        except OSError as e:
            # cgroupfs says EBUSY for both; ENOTEMPTY only comes from a plain
            # directory standing in for a cgroup (a test tree).
            if e.errno not in (errno.EBUSY, errno.ENOTEMPTY):
                raise
        children = [Path(entry.path) for entry in os.scandir(path)
                    if entry.is_dir(follow_symlinks=False)]
        for child in children:
            remove_dir(child, deadline, busy_pids)
        if children:
            continue
        if time.monotonic() >= deadline:
            pids = busy_pids() if busy_pids else []
            who = f" (processes {', '.join(map(str, pids))})" if pids else ""
            raise Conflict(f"remove cgroup {path}: it is still in use{who}",
                           hint="stop or kill its processes first, then remove it again")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def kill_pids(list_pids, sig: int) -> None:
    """Send SIG to every pid LIST_PIDS() gives; for SIGKILL, again until none is new.

    Without cgroup.kill there is no atomic way to kill a cgroup, so a process
    forked between listing and killing would survive one pass. Killed ones stay
    listed until reaped (zombies), hence the set of those already sent.
    """
    sent: set[int] = set()
    while True:
        new = set(list_pids()) - sent
        if not new:
            return
        for pid in new:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        sent |= new
        if sig != signal.SIGKILL:
            return


def list_children(dirs) -> list[str]:
    """Names of the child directories in any of DIRS (missing ones skipped), sorted."""
    names = set()
    for d in dirs:
        try:
            with os.scandir(d) as it:
                names.update(e.name for e in it if e.is_dir(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            pass
    return sorted(names)
