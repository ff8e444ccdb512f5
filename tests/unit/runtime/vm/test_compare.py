"""compare(): the orchestration, with a stand-in qemu and a stand-in container (no root)."""
import os
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.config import Config
from runtime.errors import Cancelled, OnggiError
from runtime.linux.syscalls import Syscalls
from runtime.vm import compare as cmp
from runtime.vm import qemu as q

BUSYBOX = Path("/bin/busybox")
pytestmark = pytest.mark.skipif(not BUSYBOX.is_file(), reason="needs Debian's busybox-static")

GUEST = r"""printf '[    0.000000] Linux version 9.9.9-test\r\n'
echo "ONGGI-VM kernel=9.9.9-test memtotal=81920 uptime=1.61 cpus=1"
read answer
exit 0
"""


class FakeContainer:
    """Stands in for compare._Container; records what was asked of it."""
    made = []

    def __init__(self, rt, say, *, fail=None):
        self.say, self.fail = say, fail
        self.removed = False
        FakeContainer.made.append(self)

    def start(self, timeout):
        if self.fail:
            raise self.fail
        self.say("container.started", {"id": "c" * 64, "pid": 4242})
        return {"id": "c" * 64, "name": "fake", "start_ms": 42.0, "kernel": os.uname().release,
                "memory_bytes": None}

    def memory(self):
        return 180_224

    def remove(self):
        self.removed = True


@pytest.fixture
def setup(tmp_path, monkeypatch):
    FakeContainer.made = []
    boot_dir = tmp_path / "boot"
    boot_dir.mkdir()
    (boot_dir / "vmlinuz-9.9.9-test").write_bytes(b"kernel")
    rt = SimpleNamespace(config=Config(root=tmp_path / "root", run=tmp_path / "run"),
                         syscalls=Syscalls(), check_host=lambda: None)
    monkeypatch.setattr(cmp, "_Container", FakeContainer)
    monkeypatch.setattr(q, "choose_accel", lambda *a, **k: ("tcg", "kvm probe: hangs", True))

    def use_guest(body):
        script = tmp_path / "qemu-system-x86_64"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
        monkeypatch.setattr(q, "find_qemu", lambda: str(script))
    use_guest(GUEST)
    return SimpleNamespace(rt=rt, boot_dir=boot_dir, use_guest=use_guest)


def run(setup, **kw):
    stages = []
    result = cmp.compare(setup.rt, timeout=10, boot_dir=setup.boot_dir,
                         progress=lambda stage, data: stages.append((stage, data)), **kw)
    return result, stages


def test_a_real_boot_beside_a_container(setup):
    result, stages = run(setup)
    vm, ct = result["vm"], result["container"]
    assert vm["mode"] == "tcg" and vm["booted"] is True and vm["kernel"] == "9.9.9-test"
    assert vm["memory_reserved_mb"] == q.DEFAULT_MEMORY_MB and vm["kvm"] == "kvm probe: hangs"
    assert vm["start_ms"] > 0 and vm["guest_uptime_s"] == 1.61 and vm["guest_memtotal_kb"] == 81920
    assert vm["console_lines"] == 2 and vm["console_tail"][-1].startswith("ONGGI-VM")
    assert ct["memory_bytes"] == 180_224 and ct["kernel"] == os.uname().release
    assert result["host_kernel"] == os.uname().release
    names = [s for s, _ in stages]
    assert names == ["prepare", "probe", "vm.started", "container.started", "vm.console",
                     "vm.console", "vm.booted", "done"]
    assert stages[-1][1] is result
    assert FakeContainer.made[0].removed
    # The initramfs was built into the onggi root.
    assert stages[0][1]["initramfs"].startswith(str(setup.rt.config.root / "vm"))
    assert not _alive(stages[2][1]["pid"])


def test_a_failed_boot_is_a_result_and_the_container_still_goes(setup):
    setup.use_guest("echo 'qemu: could not load kernel' >&2\nexit 1\n")
    result, stages = run(setup)
    vm = result["vm"]
    assert vm["booted"] is False and vm["kernel"] is None and vm["start_ms"] is None
    assert "could not load kernel" in vm["error"]
    assert "vm.failed" in [s for s, _ in stages]
    assert result["container"]["memory_bytes"] == 180_224 and FakeContainer.made[0].removed


def test_a_container_that_cannot_start_stops_qemu_too(setup, monkeypatch):
    class Failing(FakeContainer):
        def __init__(self, rt, say):
            super().__init__(rt, say, fail=OnggiError("onggi needs root"))
    monkeypatch.setattr(cmp, "_Container", Failing)
    setup.use_guest("exec sleep 60\n")
    stages = []
    with pytest.raises(OnggiError, match="needs root"):
        cmp.compare(setup.rt, timeout=10, boot_dir=setup.boot_dir,
                    progress=lambda s, d: stages.append((s, d)))
    pid = dict(stages)["vm.started"]["pid"]
    assert not _alive(pid) and FakeContainer.made[0].removed


def test_cancel_stops_everything(setup):
    setup.use_guest("exec sleep 60\n")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    with pytest.raises(Cancelled):
        cmp.compare(setup.rt, timeout=30, boot_dir=setup.boot_dir, cancel=cancel)
    assert FakeContainer.made[0].removed


@pytest.mark.parametrize("missing", ["qemu", "kernel"])
def test_without_qemu_or_a_kernel_the_vm_is_modeled_and_labelled(setup, monkeypatch, missing):
    if missing == "qemu":
        monkeypatch.setattr(q, "find_qemu", lambda: None)
    else:
        (setup.boot_dir / "vmlinuz-9.9.9-test").unlink()
    result, stages = run(setup)
    vm = result["vm"]
    assert vm["mode"] == "modeled" and vm["booted"] is False and vm["kernel"] is None
    assert vm["start_ms"] == cmp.MODEL["start_ms"] and vm["qemu_rss_mb"] == cmp.MODEL["qemu_rss_mb"]
    assert vm["memory_reserved_mb"] == q.DEFAULT_MEMORY_MB and "KVM" in vm["basis"]
    assert ("qemu-system-x86_64" if missing == "qemu" else "a kernel in") in vm["why"]
    # The container side is still measured.
    assert result["container"]["start_ms"] == 42.0 and result["container"]["memory_bytes"] == 180_224
    assert [s for s, _ in stages] == ["prepare", "container.started", "done"]
    assert stages[0][1]["mode"] == "modeled"
    assert not (setup.rt.config.root / "vm").exists(), "no initramfs is built for a modeled VM"


def test_not_root_fails_before_anything_starts(setup, monkeypatch):
    from runtime.errors import NotRoot

    def refuse():
        raise NotRoot("onggi needs root to create namespaces, cgroups and mounts")
    setup.rt.check_host = refuse
    with pytest.raises(NotRoot):
        run(setup)
    assert FakeContainer.made == [] and not (setup.rt.config.root / "vm").exists()


def test_modeled_vm_numbers_are_sane():
    vm = cmp.modeled_vm("why")
    assert 100 <= vm["start_ms"] <= 5000 and vm["qemu_rss_mb"] >= vm["memory_reserved_mb"] / 2
    assert vm["why"] == "why"


def test_log_times_convert_to_unix_seconds():
    assert cmp._unix("1970-01-01T00:00:01.500000Z") == 1.5


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
