"""`onggi demo`: flags, and bilingual tables that line up in a terminal (Hangul is two columns)."""
import pytest

from runtime.cli import demo
from runtime.cli.parser import Parser


def parse(argv):
    p = Parser(prog="onggi demo", add_help=False)
    demo.demo_setup(p)
    return p.parse_args(argv)


def test_subcommands_and_flags():
    a = parse(["vm", "--timeout", "30", "--console", "--format", "json"])
    assert (a.action, a.timeout, a.console, a.format) == ("vm", 30.0, True, "json")
    assert parse(["chroot"]).format == "table"
    with pytest.raises(SystemExit) as info:
        parse(["nope"])
    assert info.value.code == 125


def test_table_columns_line_up_by_terminal_width(capsys):
    demo._table(["", "가상 머신", "b"], [["시작", "1 ms", "x"], ["memory", "128 MiB", "y"]])
    lines = capsys.readouterr().out.splitlines()
    # The last column starts at the same terminal column on every line.
    starts = [demo._width(line[:line.rindex(" ") + 1]) for line in lines]
    assert len(set(starts)) == 1


VM = {"vm": {"mode": "tcg", "booted": True, "kernel": "6.1.0-56-amd64", "start_ms": 4520.4,
             "memory_reserved_mb": 128, "qemu_rss_mb": 197.5},
      "container": {"start_ms": 113.3, "memory_bytes": 172032, "kernel": "6.18.44"},
      "host_kernel": "6.18.44"}


@pytest.fixture(autouse=True)
def english(monkeypatch):
    monkeypatch.setenv("ONGGI_LANG", "en")


def test_vm_table_shows_both_sides(capsys):
    demo._vm_table(VM)
    out = capsys.readouterr().out
    assert "TCG (software emulation)" in out and "4,520 ms" in out and "113 ms" in out
    assert "128 MiB reserved" in out and "qemu RSS 197.5 MiB" in out and "168KiB" in out
    assert "6.1.0-56-amd64 — its own" in out and "6.18.44 — the host's" in out
    assert "start time: the VM from starting qemu to the guest's first command" in out


def test_a_modeled_vm_says_so(capsys):
    from runtime.vm.compare import modeled_vm
    demo._vm_table(VM | {"vm": modeled_vm("no qemu")})
    out = capsys.readouterr().out
    assert "modeled, not measured" in out and "modeled: typical qemu+KVM" in out


def test_tables_speak_the_learners_language_not_both_at_once(monkeypatch, capsys):
    """Every label used to be "English (한국어)", whatever ONGGI_LANG said, making
    rows too wide for a terminal; --step already spoke one language."""
    demo._vm_table(VM)
    out = capsys.readouterr().out
    assert "가상 머신" not in out and "(예약)" not in out
    monkeypatch.setenv("ONGGI_LANG", "ko")
    demo._vm_table(VM)
    out = capsys.readouterr().out
    assert "가상 머신 (VM)" in out and "128 MiB 예약" in out and "자체 커널" in out
    assert "software emulation" not in out and "its own" not in out
    assert demo._VM_STAGES["vm.booted"]({"kernel": "6.1"}) == "VM 부팅 완료: 커널 6.1"
    monkeypatch.setenv("ONGGI_LANG", "en")
    assert demo._VM_STAGES["vm.booted"]({"kernel": "6.1"}) == "VM booted: its kernel is 6.1"


def test_the_chroot_table_in_each_language(monkeypatch, capsys):
    busybox, debian = ["bin", "etc", "usr"], ["bin", "boot", "etc", "home", "usr"]
    r = {"host": {"processes": 90, "pid": 77, "hostname": "host", "interfaces": ["lo", "eth0"], "files": debian},
         "chroot": {"processes": 91, "sees_host_processes": True, "hostname": "host", "interfaces": ["lo", "eth0"],
                    "files": busybox, "sees_host_files": False},
         "container": {"processes": 2, "sees_host_processes": False, "hostname": "c1", "interfaces": ["lo"],
                       "files": busybox, "sees_host_files": False}}
    monkeypatch.setattr("runtime.demo.chroot.chroot_vs_namespaces", lambda rt: r)
    args = parse(["chroot"])
    demo._chroot(object(), args)
    out = capsys.readouterr().out
    assert "sees host PID 77 (this onggi)   yes" in out and "예" not in out and "chroot만" not in out
    assert "entries in / (ls /)             3             3           5" in out
    assert "/ is the host's                 no            no          yes" in out
    monkeypatch.setenv("ONGGI_LANG", "ko")
    demo._chroot(object(), args)
    out = capsys.readouterr().out
    assert "chroot만" in out and "아니오" in out and "chroot only" not in out


def test_vm_json_and_a_failed_boot(monkeypatch, capsys):
    from runtime.errors import OnggiError
    failed = VM | {"vm": VM["vm"] | {"booted": False, "error": "vm boot failed: no marker"}}
    monkeypatch.setattr("runtime.vm.compare.compare", lambda rt, **kw: failed)
    monkeypatch.setattr("runtime.core.Runtime", lambda: object())
    with pytest.raises(OnggiError, match="no marker"):
        demo.demo(parse(["vm", "--format", "json"]))
    assert '"error": "vm boot failed: no marker"' in capsys.readouterr().out
