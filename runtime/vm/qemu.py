"""Booting the lesson VM with qemu: find qemu and a kernel, probe KVM, boot, read the marker.

The VM is as small as a VM gets: no firmware disk, no disk, no network, no
display (``-nodefaults -display none``); qemu loads the kernel and the initramfs
itself (``-kernel``/``-initrd``, no bootloader), and the guest's only device we
use is the serial line, ttyS0, joined to qemu's stdin and stdout
(``-serial stdio``). ``-no-reboot`` makes qemu exit when the guest powers off or
panics (``panic=-1`` reboots at once), so every boot ends by itself.

qemu is a program, not a library: there is no Python binding to boot a machine,
so we run ``qemu-system-x86_64`` as a child process. Whatever happens -- the
guest's marker never comes, the caller cancels, an exception -- :func:`boot`
kills qemu and reaps it before it returns or raises; and qemu is started with
PR_SET_PDEATHSIG so that it dies with the thread that started it even if this
process is killed outright.

KVM: ``/dev/kvm`` may exist and still not work (nested virtualisation that hangs
the guest before its first console line, as on onggi's development machines),
so it is *probed* -- one boot with a short timeout -- and the answer is cached
in a small JSON file under the onggi run directory (a tmpfs: a host reboot
forgets it) keyed by what would change it: the host kernel, the qemu binary and
the guest kernel. Without KVM, qemu emulates the CPU in software (TCG): slower,
but the same guest.
"""
from __future__ import annotations

import json
import os
import re
import selectors
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import Cancelled, OnggiError, Unsupported
from ..files import write_json
from .initramfs import MARKER

QEMU = "qemu-system-x86_64"
DEFAULT_MEMORY_MB = 128     # the Debian kernel keeps ~48 MiB for itself; 64 MiB does not boot
PROBE_TIMEOUT = 5.0         # a KVM guest reaches its marker in ~1 s when KVM works
# Kernel command line: the console on the serial line; panic=-1 turns a panic
# into an immediate reboot, which -no-reboot turns into qemu exiting.
APPEND = "console=ttyS0 panic=-1"


@dataclass(frozen=True)
class Kernel:
    """A bootable kernel image and the release it will report (``uname -r`` inside)."""
    path: Path
    release: str


@dataclass
class Boot:
    """What one boot showed. start_ms: from starting qemu to the guest's marker line."""
    accel: str                      # "kvm" or "tcg"
    memory_mb: int                  # the guest's RAM (-m), reserved for it by qemu
    start_ms: float
    marker: dict                    # parsed marker: kernel, memtotal (kB), uptime (s), cpus
    qemu_rss_kb: int | None         # qemu's resident memory when the marker came
    console: list[str] = field(default_factory=list)
    exit_code: int | None = None
    argv: list[str] = field(default_factory=list)


# -- finding the pieces ----------------------------------------------------------------

def find_qemu() -> str | None:
    """The path of qemu-system-x86_64 on PATH, or None."""
    return shutil.which(QEMU)


def find_kernel(boot_dir: Path = Path("/boot")) -> Kernel | None:
    """The newest readable ``vmlinuz-<release>`` in boot_dir (Debian's linux-image-*), or None."""
    found = []
    for path in Path(boot_dir).glob("vmlinuz-*"):
        if path.is_file() and os.access(path, os.R_OK):
            found.append(Kernel(path, path.name.removeprefix("vmlinuz-")))
    return max(found, key=lambda k: _version_key(k.release), default=None)


def _version_key(release: str) -> list:
    # "6.1.0-56-amd64" > "6.1.0-9-amd64": compare the numbers as numbers.
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", release) if p]


# -- the marker ------------------------------------------------------------------------

_NUMBERS = {"memtotal": int, "cpus": int, "uptime": float}


def parse_marker(line: str) -> dict | None:
    """``ONGGI-VM kernel=6.1.0-56-amd64 memtotal=81920 uptime=1.80 cpus=1`` as a dict.

    The marker may sit after other console text on the same line (a kernel
    message printed at the same moment); None when the line has no marker.
    """
    at = line.find(MARKER + " ")
    if at < 0:
        return None
    out: dict = {}
    for token in line[at + len(MARKER):].split():
        key, sep, value = token.partition("=")
        if not sep:
            continue
        try:
            out[key] = _NUMBERS[key](value) if key in _NUMBERS else value
        except ValueError:
            out[key] = value
    return out if "kernel" in out else None


# -- KVM ---------------------------------------------------------------------------------

def kvm_usable(cache: Path, probe: Callable[[], tuple[bool, str]], *, key: dict,
               dev: Path = Path("/dev/kvm")) -> tuple[bool, str, bool]:
    """Whether KVM works here: (usable, why, from_cache).

    No accessible ``dev`` means no, without probing. Otherwise the cached answer
    is used when its key equals ``key``; else ``probe()`` is asked (it returns
    (usable, why)) and its answer cached. A cache that cannot be read or written
    only costs a probe next time.
    """
    if not os.path.exists(dev):
        return False, f"{dev} does not exist", False
    if not os.access(dev, os.R_OK | os.W_OK):
        return False, f"{dev} is not readable and writable", False
    try:
        cached = json.loads(Path(cache).read_text())
        if cached.get("key") == key:
            return bool(cached["kvm"]), str(cached.get("reason", "")), True
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    usable, why = probe()
    try:
        Path(cache).parent.mkdir(parents=True, exist_ok=True)
        write_json(cache, {"key": key, "kvm": usable, "reason": why, "checked": time.time()}, indent=None)
    except OSError:
        pass
    return usable, why, False


def probe_key(qemu: str, kernel: Kernel) -> dict:
    """What a cached KVM answer depends on."""
    try:
        qemu_mtime = int(os.stat(qemu).st_mtime)
    except OSError:
        qemu_mtime = 0
    return {"host_kernel": os.uname().release, "qemu": qemu, "qemu_mtime": qemu_mtime,
            "guest_kernel": kernel.release}


def kvm_probe(qemu: str, kernel: Kernel, initrd: Path, *, timeout: float = PROBE_TIMEOUT):
    """A probe for :func:`kvm_usable`: boot once under KVM with a short timeout."""
    def probe() -> tuple[bool, str]:
        try:
            b = boot(qemu, kernel, initrd, accel="kvm", timeout=timeout)
        except OnggiError as e:
            return False, "kvm probe: " + str(e).removeprefix("vm boot failed: ")
        return True, f"kvm probe: a KVM guest booted in {b.start_ms:.0f} ms"
    return probe


# -- booting -------------------------------------------------------------------------------

def argv(qemu: str, kernel: Kernel, initrd: Path, *, accel: str, memory_mb: int) -> list[str]:
    return [qemu, "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-accel", accel, "-m", str(memory_mb),
            "-kernel", str(kernel.path), "-initrd", str(initrd), "-append", APPEND,
            "-serial", "stdio"]


def boot(qemu: str, kernel: Kernel, initrd: Path, *, accel: str = "tcg",
         memory_mb: int = DEFAULT_MEMORY_MB, timeout: float = 60.0,
         on_line: Callable[[str], None] | None = None, cancel=None, syscalls=None) -> Boot:
    """Boot the VM once and wait for its marker; qemu is gone when this returns or raises."""
    with Machine(qemu, kernel, initrd, accel=accel, memory_mb=memory_mb, syscalls=syscalls) as vm:
        return vm.wait(timeout, on_line=on_line, cancel=cancel)


class Machine:
    """One qemu process booting the lesson VM; a context manager that always ends it.

    Entering starts qemu (the start time is taken just before), so the caller can
    do other things -- start a container -- while the guest boots, then
    :meth:`wait` for the marker. Leaving kills qemu if it still runs and reaps it.
    """

    def __init__(self, qemu: str, kernel: Kernel, initrd: Path, *, accel: str = "tcg",
                 memory_mb: int = DEFAULT_MEMORY_MB, syscalls=None):
        if accel not in ("kvm", "tcg"):
            raise ValueError(f"accel must be kvm or tcg, not {accel!r}")
        self.argv = argv(qemu, kernel, initrd, accel=accel, memory_mb=memory_mb)
        self.accel, self.memory_mb = accel, memory_mb
        self.syscalls = syscalls
        self.proc: subprocess.Popen | None = None
        self.started = 0.0

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def __enter__(self) -> "Machine":
        die_with_parent = _pdeathsig(self.syscalls)
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         preexec_fn=die_with_parent)
        except OSError as e:
            raise Unsupported(f"cannot start {self.argv[0]}: {e.strerror or e}",
                              hint="install Debian's qemu-system-x86") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            _stop(self.proc)

    def wait(self, timeout: float, *, on_line: Callable[[str], None] | None = None,
             cancel=None) -> Boot:
        """Read the console until the marker (``timeout`` s from qemu's start), then let the guest go.

        ``on_line(line)`` is called for each console line; ``cancel`` (anything
        with ``is_set()``, e.g. a threading.Event) stops early with
        :class:`Cancelled`. No marker in time, or qemu exiting first, raises an
        OnggiError naming what qemu said. qemu may still be exiting on return:
        leaving the ``with`` block ends it for sure.
        """
        proc = self.proc
        result = Boot(accel=self.accel, memory_mb=self.memory_mb, start_ms=0.0, marker={},
                      qemu_rss_kb=None, argv=list(self.argv))
        console = _Console(proc)
        deadline = self.started + timeout
        while not result.marker:
            if cancel is not None and cancel.is_set():
                raise Cancelled("vm boot cancelled; qemu was stopped")
            if time.monotonic() >= deadline:
                raise OnggiError(f"vm boot failed: no marker from the guest within {timeout:g} s "
                                 f"under {self.accel}{console.last_words()}",
                                 hint="try again; on a slow host give it a longer timeout")
            for line in console.read(min(0.1, max(deadline - time.monotonic(), 0.0))):
                result.console.append(line)
                if on_line is not None:
                    on_line(line)
                marker = parse_marker(line)
                if marker is not None:
                    result.start_ms = (time.monotonic() - self.started) * 1000
                    result.marker = marker
                    result.qemu_rss_kb = _rss_kb(proc.pid)
                    break
            if not result.marker and console.eof and proc.poll() is not None:
                raise OnggiError(f"vm boot failed: qemu exited with {proc.returncode} before the "
                                 f"guest's marker{console.last_words()}",
                                 hint="run the same qemu command by hand to see why: "
                                      + " ".join(self.argv))
        _let_go(proc)
        try:
            result.exit_code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass            # the marker is what counted; __exit__ kills it
        return result


class _Console:
    """qemu's stdout (the guest's serial line) and stderr, read without blocking."""

    def __init__(self, proc: subprocess.Popen):
        self.sel = selectors.DefaultSelector()
        self.buf = {proc.stdout.fileno(): b"", proc.stderr.fileno(): b""}
        self.out_fd, self.err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        for fd in self.buf:
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ)
        self.stderr: list[str] = []
        self.eof = False

    def read(self, wait: float) -> list[str]:
        """Whole console lines that arrived within ``wait`` seconds (\\r stripped)."""
        lines: list[str] = []
        for key, _ in self.sel.select(wait):
            fd = key.fd
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                continue
            if not data:
                self.sel.unregister(fd)
                self.eof = not self.sel.get_map()
                data = b"\n" if self.buf[fd] else b""
            self.buf[fd] += data
            *done, self.buf[fd] = self.buf[fd].split(b"\n")
            text = [d.decode("utf-8", "replace").replace("\r", "") for d in done]
            (lines if fd == self.out_fd else self.stderr).extend(text)
        return lines

    def last_words(self) -> str:
        said = [s.strip() for s in self.stderr if s.strip()]
        return f" (qemu said: {said[-1]})" if said else ""


def _rss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _let_go(proc: subprocess.Popen) -> None:
    """Answer the guest's ``read``: it powers off, and qemu exits."""
    try:
        proc.stdin.write(b"\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError, ValueError):
        pass


def _stop(proc: subprocess.Popen) -> None:
    """Kill qemu if it still runs, reap it and close its pipes."""
    if proc.poll() is None:
        try:
            proc.kill()
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        try:
            pipe.close()
        except (OSError, ValueError):
            pass


def _pdeathsig(syscalls):
    """A preexec_fn that makes qemu get SIGKILL when the thread that started it dies.

    libc is loaded here, in the parent: only the prctl call itself runs in the
    forked child, before qemu is exec'd.
    """
    from ..linux import syscalls as sc
    sys_ = syscalls if syscalls is not None else sc.Syscalls()
    getattr(sys_, "libc", None)     # load it now, not after fork (a fake has none)
    return lambda: sys_.prctl(sc.PR_SET_PDEATHSIG, signal.SIGKILL)


def choose_accel(qemu: str, kernel: Kernel, initrd: Path, cache: Path,
                 *, dev: Path = Path("/dev/kvm")) -> tuple[str, str, bool]:
    """("kvm" or "tcg", why, whether the answer came from the cache)."""
    usable, why, cached = kvm_usable(cache, kvm_probe(qemu, kernel, initrd),
                                     key=probe_key(qemu, kernel), dev=dev)
    return ("kvm" if usable else "tcg"), why, cached
