"""qemu's side without qemu: marker parsing, finding a kernel, the KVM decision, and the boot
loop driven by a stand-in 'qemu' (a shell script) that behaves like a guest console."""
import json
import os
import threading
import time
from pathlib import Path

import pytest

from runtime.errors import Cancelled, OnggiError
from runtime.vm import qemu as q


# -- the marker -----------------------------------------------------------------------

@pytest.mark.parametrize("line, expected", [
    ("ONGGI-VM kernel=6.1.0-56-amd64 memtotal=81920 uptime=1.80 cpus=1",
     {"kernel": "6.1.0-56-amd64", "memtotal": 81920, "uptime": 1.8, "cpus": 1}),
    ("[    1.6] random: crng init doneONGGI-VM kernel=6.1.0 memtotal=1 uptime=0.5 cpus=2",
     {"kernel": "6.1.0", "memtotal": 1, "uptime": 0.5, "cpus": 2}),
    ("ONGGI-VM kernel=6.1.0 memtotal=oops uptime=x extra=y stray",
     {"kernel": "6.1.0", "memtotal": "oops", "uptime": "x", "extra": "y"}),
    ("ONGGI-VM memtotal=1", None),                 # no kernel: not a marker
    ("[    1.675034] Run /init as init process", None),
    ("ONGGI-VMkernel=1", None),
    ("", None),
])
def test_parse_marker(line, expected):
    assert q.parse_marker(line) == expected


# -- finding a kernel ---------------------------------------------------------------------

def test_find_kernel_picks_the_newest_release(tmp_path):
    for name in ("vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-56-amd64", "vmlinuz-5.10.0-30-amd64",
                 "config-6.1.0-99-amd64"):
        (tmp_path / name).write_bytes(b"k")
    k = q.find_kernel(tmp_path)
    assert k == q.Kernel(tmp_path / "vmlinuz-6.1.0-56-amd64", "6.1.0-56-amd64")


def test_find_kernel_without_one_is_none(tmp_path):
    assert q.find_kernel(tmp_path) is None
    assert q.find_kernel(tmp_path / "missing") is None


def test_argv_boots_the_kernel_directly_on_the_serial_line(tmp_path):
    argv = q.argv("/usr/bin/qemu-system-x86_64", q.Kernel(Path("/boot/vmlinuz-6"), "6"),
                  tmp_path / "i.cpio", accel="tcg", memory_mb=128)
    s = " ".join(argv)
    for part in ("-nodefaults", "-display none", "-no-reboot", "-accel tcg", "-m 128",
                 "-kernel /boot/vmlinuz-6", f"-initrd {tmp_path / 'i.cpio'}", "-serial stdio"):
        assert part in s
    assert argv[argv.index("-append") + 1] == "console=ttyS0 panic=-1"


# -- the KVM decision ---------------------------------------------------------------------

class Probe:
    def __init__(self, answer):
        self.answer, self.calls = answer, 0

    def __call__(self):
        self.calls += 1
        return self.answer


@pytest.fixture
def kvm_dev(tmp_path):
    dev = tmp_path / "kvm"
    dev.write_bytes(b"")
    return dev


KEY = {"host_kernel": "6.18", "qemu": "/usr/bin/qemu", "qemu_mtime": 1, "guest_kernel": "6.1"}


def test_no_dev_kvm_means_no_without_probing(tmp_path):
    probe = Probe((True, "works"))
    usable, why, cached = q.kvm_usable(tmp_path / "c.json", probe, key=KEY, dev=tmp_path / "none")
    assert (usable, cached, probe.calls) == (False, False, 0) and "does not exist" in why
    assert not (tmp_path / "c.json").exists()


def test_an_unusable_dev_kvm_means_no_without_probing(tmp_path, kvm_dev, monkeypatch):
    monkeypatch.setattr(q.os, "access", lambda path, mode: False)
    probe = Probe((True, "works"))
    usable, why, _ = q.kvm_usable(tmp_path / "c.json", probe, key=KEY, dev=kvm_dev)
    assert not usable and probe.calls == 0 and "not readable" in why


@pytest.mark.parametrize("answer", [(True, "booted in 800 ms"), (False, "no marker within 5 s")])
def test_the_first_call_probes_and_caches_the_answer(tmp_path, kvm_dev, answer):
    cache = tmp_path / "run" / "vm" / "kvm.json"
    probe = Probe(answer)
    assert q.kvm_usable(cache, probe, key=KEY, dev=kvm_dev) == (*answer, False)
    saved = json.loads(cache.read_text())
    assert saved["key"] == KEY and saved["kvm"] is answer[0] and saved["reason"] == answer[1]
    # The second call believes the cache.
    again = Probe((not answer[0], "other"))
    assert q.kvm_usable(cache, again, key=KEY, dev=kvm_dev) == (*answer, True)
    assert again.calls == 0


def test_a_changed_host_probes_again(tmp_path, kvm_dev):
    cache = tmp_path / "kvm.json"
    q.kvm_usable(cache, Probe((False, "hangs")), key=KEY, dev=kvm_dev)
    probe = Probe((True, "works now"))
    usable, why, cached = q.kvm_usable(cache, probe, key=KEY | {"host_kernel": "6.19"}, dev=kvm_dev)
    assert (usable, why, cached, probe.calls) == (True, "works now", False, 1)


@pytest.mark.parametrize("content", ["not json", "[]", '{"key": null}', '{"kvm": true}'])
def test_a_broken_cache_costs_only_a_probe(tmp_path, kvm_dev, content):
    cache = tmp_path / "kvm.json"
    cache.write_text(content)
    probe = Probe((False, "hangs"))
    assert q.kvm_usable(cache, probe, key=KEY, dev=kvm_dev)[:2] == (False, "hangs")
    assert probe.calls == 1 and json.loads(cache.read_text())["key"] == KEY


def test_an_unwritable_cache_still_answers(tmp_path, kvm_dev):
    blocker = tmp_path / "file"
    blocker.write_text("")
    probe = Probe((True, "works"))
    assert q.kvm_usable(blocker / "kvm.json", probe, key=KEY, dev=kvm_dev)[0] is True


def test_choose_accel_maps_the_answer(tmp_path, kvm_dev, monkeypatch):
    monkeypatch.setattr(q, "kvm_probe", lambda *a, **k: Probe((False, "hangs")))
    kernel = q.Kernel(tmp_path / "vmlinuz-6", "6")
    assert q.choose_accel("/bin/true", kernel, tmp_path / "i", tmp_path / "c.json", dev=kvm_dev) == \
        ("tcg", "hangs", False)
    monkeypatch.setattr(q, "kvm_probe", lambda *a, **k: Probe((True, "fast")))
    assert q.choose_accel("/bin/true", kernel, tmp_path / "i", tmp_path / "d.json", dev=kvm_dev)[0] == "kvm"


# -- the boot loop, against a stand-in qemu -------------------------------------------------

def fake_qemu(tmp_path, body: str) -> str:
    """A 'qemu' that ignores its arguments and runs body (sh) as the guest console."""
    path = tmp_path / "qemu-system-x86_64"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


KERNEL = q.Kernel(Path("/nonexistent/vmlinuz-9.9.9-test"), "9.9.9-test")
GUEST = r"""printf '[    0.000000] Linux version 9.9.9-test\r\n'
printf '[    1.600000] Run /init as init process\r\n'
echo "ONGGI-VM kernel=9.9.9-test memtotal=81920 uptime=1.61 cpus=1"
read answer
echo "powering off after: [$answer]"
exit 0
"""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes only once reaped; Machine reaps it.
    return True


def test_boot_reads_the_marker_then_lets_the_guest_go(tmp_path):
    lines = []
    b = q.boot(fake_qemu(tmp_path, GUEST), KERNEL, tmp_path / "initrd", timeout=10,
               on_line=lines.append)
    assert b.marker == {"kernel": "9.9.9-test", "memtotal": 81920, "uptime": 1.61, "cpus": 1}
    assert b.accel == "tcg" and b.memory_mb == q.DEFAULT_MEMORY_MB and b.exit_code == 0
    assert 0 < b.start_ms < 10_000
    assert b.qemu_rss_kb is None or b.qemu_rss_kb > 0
    assert lines[:2] == ["[    0.000000] Linux version 9.9.9-test", "[    1.600000] Run /init as init process"]
    assert b.console == lines


def test_a_guest_that_never_speaks_times_out_and_qemu_is_killed(tmp_path):
    started = []
    with pytest.raises(OnggiError, match="no marker from the guest within 1 s under tcg"):
        with q.Machine(fake_qemu(tmp_path, "echo booting\nexec sleep 60\n"), KERNEL,
                       tmp_path / "i") as vm:
            started.append(vm.pid)
            vm.wait(1)
    assert not alive(started[0])


def test_qemu_exiting_early_says_what_qemu_said(tmp_path):
    body = "echo 'qemu-system-x86_64: -accel kvm: failed to initialize kvm' >&2\nexit 1\n"
    with pytest.raises(OnggiError) as info:
        q.boot(fake_qemu(tmp_path, body), KERNEL, tmp_path / "i", accel="kvm", timeout=10)
    msg = str(info.value)
    assert "qemu exited with 1 before the guest's marker" in msg
    assert "failed to initialize kvm" in msg


def test_cancel_stops_the_boot_and_kills_qemu(tmp_path):
    cancel = threading.Event()
    pids = []
    threading.Timer(0.3, cancel.set).start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        with q.Machine(fake_qemu(tmp_path, "exec sleep 60\n"), KERNEL, tmp_path / "i") as vm:
            pids.append(vm.pid)
            vm.wait(30, cancel=cancel)
    assert time.monotonic() - t0 < 5 and not alive(pids[0])


def test_a_guest_that_does_not_power_off_is_killed_after_the_marker(tmp_path, monkeypatch):
    body = 'echo "ONGGI-VM kernel=9 memtotal=1 uptime=1 cpus=1"\nexec sleep 60\n'
    monkeypatch.setattr(q.subprocess.Popen, "wait",
                        _short_wait(q.subprocess.Popen.wait))
    pids = []
    with q.Machine(fake_qemu(tmp_path, body), KERNEL, tmp_path / "i") as vm:
        pids.append(vm.pid)
        b = vm.wait(10)
    assert b.marker["kernel"] == "9" and b.exit_code is None
    assert not alive(pids[0])


def _short_wait(real):
    def wait(self, timeout=None):
        return real(self, timeout=None if timeout is None else min(timeout, 0.5))
    return wait


def test_a_missing_qemu_is_unsupported(tmp_path):
    from runtime.errors import Unsupported
    with pytest.raises(Unsupported, match="cannot start"):
        q.boot(str(tmp_path / "no-qemu"), KERNEL, tmp_path / "i", timeout=5)


def test_accel_must_be_kvm_or_tcg(tmp_path):
    with pytest.raises(ValueError):
        q.Machine("/bin/true", KERNEL, tmp_path / "i", accel="hvf")


def test_kvm_probe_turns_a_boot_into_an_answer(tmp_path):
    ok = q.kvm_probe(fake_qemu(tmp_path, GUEST), KERNEL, tmp_path / "i", timeout=10)()
    assert ok[0] is True and ok[1].startswith("kvm probe: a KVM guest booted in")
    hang = tmp_path / "hang"
    hang.mkdir()
    no = q.kvm_probe(fake_qemu(hang, "exec sleep 60\n"), KERNEL, tmp_path / "i", timeout=0.5)()
    assert no == (False, "kvm probe: no marker from the guest within 0.5 s under kvm")
