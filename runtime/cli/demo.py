"""`onggi demo vm|chroot`: the lessons' live demos in a terminal, as small bilingual tables.

``onggi demo vm`` boots the lesson VM beside a busybox container (runtime.vm);
``onggi demo chroot`` runs the same commands in a bare chroot and in a container
(runtime.demo.chroot). ``--format json`` prints the library's result as is.
"""
from __future__ import annotations

import sys
import unicodedata

from . import output


def demo_setup(p) -> None:
    sub = p.add_subparsers(dest="action", metavar="COMMAND", required=True)
    vm = sub.add_parser("vm", help="boot a tiny VM beside a container and compare them "
                                   "(가상 머신과 컨테이너 비교)")
    vm.add_argument("--timeout", type=float, default=90, help="seconds to wait for the VM (default 90)")
    vm.add_argument("--console", action="store_true", help="show the VM's boot log as it comes")
    vm.add_argument("--format", choices=("table", "json"), default="table", help="table or json")
    ch = sub.add_parser("chroot", help="the same commands in a chroot and in a container "
                                       "(chroot과 네임스페이스 비교)")
    ch.add_argument("--format", choices=("table", "json"), default="table", help="table or json")


def demo(args) -> int:
    from ..core import Runtime
    rt = Runtime()
    if args.action == "vm":
        return _vm(rt, args)
    return _chroot(rt, args)


def _vm(rt, args) -> int:
    from ..errors import OnggiError
    from ..vm.compare import compare

    def progress(stage, data):
        if args.format == "json":
            return
        if stage == "vm.console":
            if args.console:
                print(f"  vm| {data['line']}", file=sys.stderr)
        elif stage in _VM_STAGES:
            print(_VM_STAGES[stage](data), file=sys.stderr)

    result = compare(rt, timeout=args.timeout, progress=progress)
    if args.format == "json":
        output.print_json(result)
    else:
        _vm_table(result)
    if result["vm"].get("error"):
        raise OnggiError(result["vm"]["error"])
    return 0


_VM_STAGES = {
    "prepare": lambda d: (f"VM: modeled ({d['why']})" if d.get("mode") == "modeled" else
                          f"VM: kernel {d['kernel_release']}, initramfs {output.human_size(d['initramfs_bytes'])}"),
    "probe": lambda d: f"KVM: {'yes' if d['kvm'] else 'no, software emulation (TCG)'}"
                       f"{' (cached)' if d['cached'] else ''}: {d['why']}",
    "vm.started": lambda d: f"qemu started (pid {d['pid']}, {d['mode']}), booting...",
    "container.started": lambda d: f"container {d['id'][:12]} started (pid {d['pid']})",
    "vm.booted": lambda d: f"VM booted: {d['kernel']}",
    "vm.failed": lambda d: f"VM failed: {d['error']}",
}

_MODES = {"kvm": "KVM (hardware virtualization / 하드웨어 가상화)",
          "tcg": "TCG (software emulation / 소프트웨어 에뮬레이션)",
          "modeled": "modeled, not measured (모델값, 측정 아님)"}


def _vm_table(r: dict) -> None:
    vm, ct = r["vm"], r["container"]
    rss = f" + qemu RSS {vm['qemu_rss_mb']} MiB" if vm.get("qemu_rss_mb") is not None else ""
    rows = [
        ["mode (방식)", _MODES.get(vm["mode"], vm["mode"]), "namespaces + cgroups (네임스페이스 + cgroup)"],
        ["start (시작 시간)", _ms(vm.get("start_ms")), _ms(ct.get("start_ms"))],
        ["memory (메모리)", f"{vm['memory_reserved_mb']} MiB reserved (예약){rss}",
         f"{output.human_binary(ct.get('memory_bytes'))} (cgroup memory.current)"],
        ["uname -r (커널)", _kernel(vm.get("kernel"), "its own (자체 커널)"),
         _kernel(ct.get("kernel"), "the host's (호스트 커널)")],
    ]
    _table(["", "VM (가상 머신)", "container (컨테이너)"], rows)
    print(f"host kernel (호스트 커널): {r['host_kernel']}")
    if vm["mode"] == "modeled":
        print(f"modeled (모델값): {vm['basis']}")


def _ms(v) -> str:
    return "--" if v is None else f"{v:,.0f} ms"


def _kernel(release, whose) -> str:
    return "--" if not release else f"{release} — {whose}"


def _chroot(rt, args) -> int:
    from ..demo.chroot import chroot_vs_namespaces
    r = chroot_vs_namespaces(rt)
    if args.format == "json":
        output.print_json(r)
        return 0
    host, ch, ct = r["host"], r["chroot"], r["container"]

    def yes(b):
        return "yes (예)" if b else "no (아니오)"
    _table(["", "chroot only (chroot만)", "container (컨테이너)", "host (호스트)"], [
        ["ps: processes (프로세스 수)", str(ch["processes"]), str(ct["processes"]), str(host["processes"])],
        [f"sees onggi's pid {host['pid']} (호스트 프로세스가 보임)", yes(ch["sees_host_processes"]),
         yes(ct["sees_host_processes"]), "yes (예)"],
        ["hostname (호스트 이름)", ch["hostname"], ct["hostname"], host["hostname"]],
        ["interfaces (네트워크 인터페이스)", _ifaces(ch["interfaces"]), _ifaces(ct["interfaces"]),
         _ifaces(host["interfaces"])],
    ])
    print("chroot fences only the filesystem; namespaces fence processes, hostname and network.\n"
          "chroot는 파일 시스템만 가릅니다. 네임스페이스는 프로세스, 호스트 이름, 네트워크까지 가릅니다.")
    return 0


def _ifaces(names: list[str]) -> str:
    return output.truncate(", ".join(names), 40) if names else "--"


def _width(text: str) -> int:
    # Hangul and other wide characters take two terminal columns.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _table(headers: list[str], rows: list[list[str]]) -> None:
    """output.table's layout, but aligned by terminal columns, not characters."""
    widths = [max(_width(str(row[i])) for row in [headers] + rows) for i in range(len(headers))]
    for row in [headers] + rows:
        cells = [str(c) + " " * (widths[i] - _width(str(c))) for i, c in enumerate(row)]
        print("   ".join(cells).rstrip())


COMMANDS = {"demo": (demo_setup, demo)}
