"""A real VM (qemu, a Debian kernel, our busybox initramfs) beside a real container."""
import json
import os
from pathlib import Path

import pytest

from runtime.vm import compare as cmp
from runtime.vm import qemu as q

pytestmark = [pytest.mark.root, pytest.mark.slow]

KERNEL = q.find_kernel()
needs_vm = pytest.mark.skipif(q.find_qemu() is None or KERNEL is None,
                              reason="needs qemu-system-x86 and linux-image-amd64 (make setup)")


def qemu_processes_of(root: Path) -> list[int]:
    """qemu processes booting something under this test's onggi root."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"qemu-system-x86_64") and \
                any(str(root).encode() in arg for arg in cmdline):
            found.append(int(pid))
    return found


@needs_vm
def test_the_vm_runs_its_own_kernel_and_the_container_the_hosts(rt, onggi_config):
    before = set(rt.containers.ids())
    stages = []
    result = cmp.compare(rt, timeout=90, progress=lambda s, d: stages.append(s))
    vm, ct = result["vm"], result["container"]

    assert vm["booted"] is True, vm.get("error")
    assert vm["mode"] in ("kvm", "tcg")
    assert vm["kernel"] == KERNEL.release                 # the Debian kernel's version
    assert ct["kernel"] == os.uname().release == result["host_kernel"]
    assert vm["kernel"] != ct["kernel"] or KERNEL.release == os.uname().release

    # What each costs, as measured.
    assert 0 < ct["start_ms"] < vm["start_ms"]
    assert ct["memory_bytes"] > 0
    assert vm["memory_reserved_mb"] == q.DEFAULT_MEMORY_MB
    assert vm["qemu_rss_mb"] > 10
    assert 0 < vm["guest_memtotal_kb"] < q.DEFAULT_MEMORY_MB * 1024
    assert vm["console_lines"] > 10                       # a whole kernel's boot log

    assert stages[0] == "prepare" and stages[-1] == "done"
    assert {"probe", "vm.started", "container.started", "vm.booted"} <= set(stages)

    # Nothing left: no qemu, no container.
    assert qemu_processes_of(onggi_config.root) == []
    assert set(rt.containers.ids()) == before
    # The KVM answer is remembered for this host boot (when there is a /dev/kvm to ask).
    cache = onggi_config.run / "vm" / "kvm.json"
    if os.path.exists("/dev/kvm"):
        saved = json.loads(cache.read_text())
        assert saved["kvm"] is (vm["mode"] == "kvm")
        assert saved["key"]["guest_kernel"] == KERNEL.release


@needs_vm
def test_the_cli_prints_the_comparison(onggi, onggi_config):
    done = onggi("demo", "vm", "--format", "json", timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["vm"]["booted"] and result["vm"]["kernel"] == KERNEL.release
    assert result["container"]["kernel"] == os.uname().release
    assert qemu_processes_of(onggi_config.root) == []


def test_without_qemu_the_vm_is_modeled_and_the_container_still_real(rt, monkeypatch):
    monkeypatch.setattr(q, "find_qemu", lambda: None)
    result = cmp.compare(rt, timeout=30)
    assert result["vm"]["mode"] == "modeled" and result["vm"]["booted"] is False
    assert result["container"]["kernel"] == os.uname().release
    assert result["container"]["memory_bytes"] > 0 and result["container"]["start_ms"] > 0
