"""A real VM beside a real container: what each costs to start and what kernel each runs.

:func:`compare` starts qemu booting the lesson VM, then -- while the guest
boots -- a busybox container through the ordinary runtime, and measures both:

============  =========================================  =====================================
              the VM                                     the container
============  =========================================  =====================================
start         qemu started -> the guest's marker line    ``create`` called -> its first output
memory        ``-m`` (reserved for the guest) and qemu's  its cgroup's ``memory.current``
              own resident memory (VmRSS)
kernel        ``uname -r`` in the guest                  ``uname -r`` in the container
============  =========================================  =====================================

They run at the same time on purpose (side by side, as a learner sees them),
so each start time includes sharing the CPU with the other.

The VM uses KVM when it works here and software emulation (TCG) otherwise, and
says which (``mode``). Without qemu or a kernel the VM side is *modeled*: typical
figures, labelled ``"modeled"``, while the container side is still real.
"""
from __future__ import annotations

import os
import time
from datetime import datetime, timezone
from pathlib import Path

from ..errors import Cancelled, OnggiError
from . import initramfs
from . import qemu as q

CONTAINER_MARKER = "ONGGI-CT"
# The container prints its marker, then stays up so that its memory can be read
# while the VM is still up beside it; it is removed when the comparison ends.
CONTAINER_CMD = ("sh", "-c", f'echo "{CONTAINER_MARKER} kernel=$(uname -r)"; exec sleep 120')

# Typical figures for a VM like ours under qemu+KVM (direct kernel boot of a
# distribution kernel with a busybox initramfs: no firmware menu, no disk, no
# network): about a second to the first command, the guest's RAM reserved up
# front, and qemu resident at roughly the RAM the guest touched plus its own
# ~25 MiB. A whole distribution VM is slower: 10-30 s and 512 MiB to 2 GiB.
MODEL = {"start_ms": 1000.0, "memory_reserved_mb": q.DEFAULT_MEMORY_MB, "qemu_rss_mb": 150.0,
         "basis": "typical qemu+KVM direct kernel boot of a distribution kernel with a busybox "
                  "initramfs; a full distribution VM takes 10-30 s and 512 MiB-2 GiB"}


def modeled_vm(why: str) -> dict:
    """The VM side when no real VM can boot here: typical figures, labelled so."""
    return {"mode": "modeled", "booted": False, "kernel": None, "start_ms": MODEL["start_ms"],
            "memory_reserved_mb": MODEL["memory_reserved_mb"], "qemu_rss_mb": MODEL["qemu_rss_mb"],
            "basis": MODEL["basis"], "why": why}


def compare(rt, *, timeout: float = 60, progress=None, memory_mb: int = q.DEFAULT_MEMORY_MB,
            cancel=None, boot_dir: Path = Path("/boot"),
            busybox: Path = initramfs.DEFAULT_BUSYBOX) -> dict:
    """Boot the VM and start a container side by side; both measured, both gone afterwards.

    Returns ``{"vm": {...}, "container": {...}, "host_kernel": str}``:

    * ``vm``: ``mode`` ("kvm", "tcg" or "modeled"), ``booted``, ``kernel`` (the
      guest's ``uname -r``), ``start_ms``, ``memory_reserved_mb`` (-m),
      ``qemu_rss_mb``, and for a real VM ``guest_uptime_s``, ``guest_memtotal_kb``,
      ``kvm`` (why KVM was or was not used), ``console_lines`` and ``console_tail``;
      a real boot that failed has ``booted: False`` and ``error``.
    * ``container``: ``id``, ``start_ms``, ``memory_bytes`` (cgroup memory.current),
      ``kernel``.

    ``progress(stage, data)``, if given, hears each stage as it happens:
    ``prepare``, ``probe``, ``vm.started``, ``container.started``,
    ``container.output``, ``vm.console`` (one per console line), ``vm.booted``
    or ``vm.failed``, and ``done`` with the result. ``cancel`` (an Event) stops
    the boot early. Not root raises NotRoot before anything starts; container
    errors propagate after qemu is stopped and the container removed.
    """
    say = progress or (lambda stage, data: None)
    rt.check_host()                  # before anything boots: the container needs root
    host_kernel = os.uname().release
    binary, kernel = q.find_qemu(), q.find_kernel(boot_dir)
    if binary is None or kernel is None:
        missing = "qemu-system-x86_64" if binary is None else f"a kernel in {boot_dir}"
        vm = modeled_vm(f"no {missing} on this host (apt-get install qemu-system-x86 "
                        "linux-image-amd64)")
        say("prepare", {"mode": "modeled", "why": vm["why"]})
        result = {"vm": vm, "container": _container_alone(rt, timeout, say),
                  "host_kernel": host_kernel}
        say("done", result)
        return result

    initrd = initramfs.ensure(rt.config.root / "vm", busybox)
    say("prepare", {"qemu": binary, "kernel": str(kernel.path), "kernel_release": kernel.release,
                    "initramfs": str(initrd), "initramfs_bytes": initrd.stat().st_size})
    accel, why, cached = q.choose_accel(binary, kernel, initrd, rt.config.run / "vm" / "kvm.json")
    say("probe", {"kvm": accel == "kvm", "why": why, "cached": cached})

    vm: dict = {"mode": accel, "booted": False, "kernel": None, "start_ms": None,
                "memory_reserved_mb": memory_mb, "qemu_rss_mb": None, "kvm": why}
    container = None
    with q.Machine(binary, kernel, initrd, accel=accel, memory_mb=memory_mb,
                   syscalls=rt.syscalls) as machine:
        say("vm.started", {"pid": machine.pid, "mode": accel, "argv": machine.argv})
        running = _Container(rt, say)
        try:
            container = running.start(timeout)
            try:
                boot = machine.wait(timeout, cancel=cancel,
                                    on_line=lambda line: say("vm.console", {"line": line}))
            except Cancelled:
                raise
            except OnggiError as e:         # a boot that failed is a result to show
                vm["error"] = str(e)
                say("vm.failed", {"error": str(e)})
            else:
                vm |= _vm_result(boot)
                say("vm.booted", vm)
            container["memory_bytes"] = running.memory()    # still running (the VM was read at its marker)
        finally:
            running.remove()
    result = {"vm": vm, "container": container, "host_kernel": host_kernel}
    say("done", result)
    return result


def _vm_result(boot: q.Boot) -> dict:
    m = boot.marker
    return {"booted": True, "kernel": m.get("kernel"), "start_ms": round(boot.start_ms, 1),
            "qemu_rss_mb": round(boot.qemu_rss_kb / 1024, 1) if boot.qemu_rss_kb else None,
            "guest_uptime_s": m.get("uptime"), "guest_memtotal_kb": m.get("memtotal"),
            "console_lines": len(boot.console), "console_tail": boot.console[-15:]}


def _container_alone(rt, timeout: float, say) -> dict:
    running = _Container(rt, say)
    try:
        result = running.start(timeout)
        result["memory_bytes"] = running.memory()
        return result
    finally:
        running.remove()


class _Container:
    """The busybox container of the comparison: start it, time its first output, read its memory."""

    def __init__(self, rt, say):
        self.rt, self.say = rt, say
        self.container = None

    def start(self, timeout: float) -> dict:
        from ..container.spec import ContainerSpec
        t0 = time.time()
        self.container = self.rt.create(ContainerSpec(
            image="busybox", cmd=CONTAINER_CMD, labels=(("org.onggi.demo", "vm-compare"),)))
        handle = self.container.start(attach=False)
        try:
            pid = handle.wait_started()
        finally:
            handle.close()
        self.say("container.started", {"id": self.container.id, "pid": pid})
        line, at = self._first_line(timeout)
        if line is None:
            raise OnggiError(f"vm comparison: container {self.container.name} printed nothing "
                             f"within {timeout:g} s", hint="see 'onggi logs' for what it did")
        self.say("container.output", {"line": line})
        kernel = line.split("kernel=", 1)[1].strip() if "kernel=" in line else None
        return {"id": self.container.id, "name": self.container.name,
                "start_ms": round(max(at - t0, 0.0) * 1000, 1), "kernel": kernel,
                "memory_bytes": None}

    def _first_line(self, timeout: float) -> tuple[str | None, float]:
        """The marker line and when the monitor logged it (unix seconds)."""
        from ..container.stdio import read_log
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _stream, data, at in read_log(self.container.record.log_path):
                text = data.decode("utf-8", "replace").strip()
                if text.startswith(CONTAINER_MARKER):
                    return text, _unix(at)
            time.sleep(0.005)
        return None, 0.0

    def memory(self) -> int | None:
        try:
            return self.rt.cgroups.get(self.container.id).stats().memory_current
        except OSError:
            return None

    def remove(self) -> None:
        if self.container is not None:
            self.container.remove(force=True)


def _unix(iso: str) -> float:
    """The log's "2026-11-28T08:00:00.123456Z" as unix seconds (now if unreadable)."""
    try:
        return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return time.time()
