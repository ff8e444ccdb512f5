"""`onggi demo vm|chroot`: the lessons' live demos in a terminal, as small bilingual tables.

In the learner's language (ONGGI_LANG, else LANG: Korean or English), as
``run --step``. ``onggi demo vm`` boots the lesson VM beside a busybox container (runtime.vm);
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


def _lang() -> str:
    from .terminal import language
    return language()


def _t(en: str, ko: str) -> str:
    """The text in the learner's language (ONGGI_LANG, else LANG), as --step chooses it."""
    return ko if _lang() == "ko" else en


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


def _probe(d) -> str:
    cached = _t(" (remembered from an earlier run)", " (이전 실행에서 기억한 결과)") if d["cached"] else ""
    if d["kvm"]:
        return _t("KVM: yes, hardware virtualization", "KVM: 사용, 하드웨어 가상화") + cached
    return (_t("KVM: not usable here, so software emulation (TCG), much slower",
               "KVM: 여기서는 쓸 수 없어 소프트웨어 에뮬레이션(TCG), 훨씬 느림") + cached
            + f"\n  ({d['why']})")


_VM_STAGES = {
    "prepare": lambda d: (_t(f"VM: modeled, not measured ({d['why']})", f"VM: 모델값, 측정 아님 ({d['why']})")
                          if d.get("mode") == "modeled" else
                          _t(f"VM: guest kernel {d['kernel_release']}, busybox initramfs "
                             f"{output.human_size(d['initramfs_bytes'])}",
                             f"VM: 게스트 커널 {d['kernel_release']}, busybox initramfs "
                             f"{output.human_size(d['initramfs_bytes'])}")),
    "probe": _probe,
    "vm.started": lambda d: _t(f"qemu started (pid {d['pid']}, {d['mode']}); the VM is booting...",
                               f"qemu 시작 (pid {d['pid']}, {d['mode']}), VM 부팅 중..."),
    "container.started": lambda d: _t(f"container {d['id'][:12]} started (pid {d['pid']} on the host)",
                                      f"컨테이너 {d['id'][:12]} 시작 (호스트 pid {d['pid']})"),
    "vm.booted": lambda d: _t(f"VM booted: its kernel is {d['kernel']}", f"VM 부팅 완료: 커널 {d['kernel']}"),
    "vm.failed": lambda d: _t(f"VM failed: {d['error']}", f"VM 실패: {d['error']}"),
}


def _mode(mode: str) -> str:
    return {"kvm": _t("KVM (hardware virtualization)", "KVM (하드웨어 가상화)"),
            "tcg": _t("TCG (software emulation)", "TCG (소프트웨어 에뮬레이션)"),
            "modeled": _t("modeled, not measured", "모델값 (측정 아님)")}.get(mode, mode)


def _vm_table(r: dict) -> None:
    vm, ct = r["vm"], r["container"]
    rss = f" + qemu RSS {vm['qemu_rss_mb']} MiB" if vm.get("qemu_rss_mb") is not None else ""
    rows = [
        [_t("how it runs", "실행 방식"), _mode(vm["mode"]),
         _t("namespaces + cgroups on the host's kernel", "호스트 커널 위의 네임스페이스 + cgroup")],
        [_t("start time", "시작 시간"), _ms(vm.get("start_ms")), _ms(ct.get("start_ms"))],
        [_t("memory", "메모리"), _t(f"{vm['memory_reserved_mb']} MiB reserved", f"{vm['memory_reserved_mb']} MiB 예약")
         + rss, f"{output.human_binary(ct.get('memory_bytes'))} (cgroup memory.current)"],
        [_t("kernel (uname -r)", "커널 (uname -r)"), _kernel(vm.get("kernel"), _t("its own", "자체 커널")),
         _kernel(ct.get("kernel"), _t("the host's", "호스트의 커널"))],
    ]
    _table(["", _t("VM", "가상 머신 (VM)"), _t("container", "컨테이너")], rows)
    print(_t(f"host kernel: {r['host_kernel']}", f"호스트 커널: {r['host_kernel']}"))
    print(_t("start time: the VM from starting qemu to the guest's first command, the container from "
             "'create' to its first output; both ran at once, sharing the CPU.",
             "시작 시간: VM은 qemu 시작부터 게스트의 첫 명령까지, 컨테이너는 생성부터 첫 출력까지. "
             "둘은 동시에 실행되어 CPU를 나눠 썼습니다."))
    if vm["mode"] == "modeled":
        print(_t(f"modeled: {vm['basis']}", f"모델값 근거: {vm['basis']}"))


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
        return _t("yes", "예") if b else _t("no", "아니오")
    _table(["", _t("chroot only", "chroot만"), _t("container", "컨테이너"), _t("host", "호스트")], [
        [_t("entries in / (ls /)", "/에 있는 항목 수 (ls /)"),
         str(len(ch["files"])), str(len(ct["files"])), str(len(host["files"]))],
        [_t("/ is the host's", "/가 호스트의 것인가"), yes(ch["sees_host_files"]), yes(ct["sees_host_files"]), yes(True)],
        [_t("processes ps shows", "ps에 보이는 프로세스 수"),
         str(ch["processes"]), str(ct["processes"]), str(host["processes"])],
        [_t(f"sees host PID {host['pid']} (this onggi)", f"호스트 PID {host['pid']}(이 onggi)가 보이나"),
         yes(ch["sees_host_processes"]), yes(ct["sees_host_processes"]), yes(True)],
        [_t("hostname", "호스트 이름"), ch["hostname"], ct["hostname"], host["hostname"]],
        [_t("network interfaces", "네트워크 인터페이스"), _ifaces(ch["interfaces"]), _ifaces(ct["interfaces"]),
         _ifaces(host["interfaces"])],
    ])
    print(_t("chroot fences only the filesystem; namespaces fence processes, hostname and network too.",
             "chroot는 파일 시스템만 가릅니다. 네임스페이스는 프로세스, 호스트 이름, 네트워크까지 가릅니다."))
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
