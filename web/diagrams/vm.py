"""The vm view: a real VM beside a real container, as ``runtime.vm.compare.compare()`` measured them.

Side by side: how long each took to start (qemu started -> the guest's first
line; ``create`` -> the container's first output), the memory each holds (the
guest RAM qemu reserves and its resident size; the container's cgroup
``memory.current``), and the ``uname -r`` each reported: the VM its own kernel,
the container the host's. Which way the VM ran is labelled: KVM (hardware),
TCG (software emulation) or *modeled* (no qemu here: typical figures, not a
measurement). Query: ``result=ID``, the lesson action result that holds the
comparison; without one, the picture says what will be measured.
"""
from __future__ import annotations

from .html import HEAD, NOTE, OWN, PALE, SHARED, WARN, bar, cell, human, mark_simulated, new_graph, row, table

W = {
    "title": ("가상 머신과 컨테이너를 나란히", "A VM beside a container"),
    "vm": ("가상 머신 (qemu)", "virtual machine (qemu)"),
    "ct": ("컨테이너 (onggi)", "container (onggi)"),
    "start": ("시작 시간", "start time"),
    "memory": ("메모리", "memory"),
    "kernel": ("uname -r", "uname -r"),
    "own_kernel": ("자기 커널", "its own kernel"),
    "host_kernel_of": ("호스트의 커널", "the host's kernel"),
    "host": ("호스트 커널", "host kernel"),
    "reserved": ("예약", "reserved"),
    "rss": ("qemu RSS", "qemu RSS"),
    "cgroup": ("cgroup memory.current", "cgroup memory.current"),
    "kvm": ("KVM: 하드웨어 가상화", "KVM: hardware virtualization"),
    "tcg": ("TCG: 소프트웨어 에뮬레이션 (느림)", "TCG: software emulation (slow)"),
    "modeled": ("모형: 이 컴퓨터에 qemu가 없어 전형적인 값을 보여 줍니다 (측정 아님)",
                "modeled: no qemu on this computer, so typical figures (not measured)"),
    "not_yet": ("아직 측정하지 않았습니다. 버튼을 누르면 가상 머신과 컨테이너를 동시에 띄워 잽니다.",
                "not measured yet: the button boots a VM and starts a container at the same time"),
    "guest": ("게스트 OS: busybox initramfs", "guest OS: a busybox initramfs"),
    "process": ("호스트 위의 평범한 프로세스", "an ordinary process on the host"),
    "syscalls": ("시스템 콜", "system calls"),
    "emulated": ("가상 하드웨어", "virtual hardware"),
    "failed": ("부팅 실패", "boot failed"),
    "uptime": ("게스트 uptime", "guest uptime"),
}


def w(key, lang):
    ko, en = W[key]
    return en if lang == "en" else ko


def collect(rt, scans, query) -> dict:
    from web.lessons.progress import read_result
    simulated = bool(getattr(rt, "simulated", False))
    found = read_result(rt.config.root / "lessons.sqlite", query.get("result"))
    if not found or found["kind"] != "vm_boot":
        return {"measured": False, "simulated": simulated}
    data = found["data"]
    return {"measured": True, "vm": data.get("vm") or {}, "container": data.get("container") or {},
            "host_kernel": data.get("host_kernel") or "", "simulated": simulated or bool(data.get("simulated"))}


def draw(model, lang="ko"):
    g = new_graph("vm", lang=lang)
    g.attr(rankdir="TB", label=w("title", lang), labelloc="t", fontsize="14")
    if model.get("simulated"):
        mark_simulated(g, lang)
    if not model.get("measured"):
        g.node("vm-empty", id="vm-empty", label=table([row(cell(w("not_yet", lang), bg=NOTE, size=12))]))
        return g
    vm, ct = model["vm"], model["container"]
    mode = vm.get("mode", "modeled")
    vm_ms, ct_ms = vm.get("start_ms"), ct.get("start_ms")
    longest = max([x for x in (vm_ms, ct_ms) if isinstance(x, (int, float))] or [1]) or 1
    vm_mem = (vm.get("memory_reserved_mb") or 0) * 1024 * 1024
    ct_mem = ct.get("memory_bytes") or 0
    biggest = max(vm_mem, ct_mem, 1)
    with g.subgraph(name="vm_pair") as pair:
        pair.attr(rank="same")
        vm_rows = [
            row(cell(w("vm", lang), bold=True, colspan=3, bg=WARN if mode == "modeled" else HEAD, id="vm-vm-title",
                     size=13)),
            row(cell(w(mode if mode in ("kvm", "tcg", "modeled") else "tcg", lang), colspan=3, size=10,
                     bg=NOTE if mode == "modeled" else PALE, id="vm-vm-mode")),
            row(cell(w("start", lang), align="LEFT"), bar(_frac(vm_ms, longest), id="vm-vm-start-bar", fill="#d9534f"),
                cell(_ms(vm_ms), mono=True, id="vm-vm-start", align="RIGHT")),
            row(cell(w("memory", lang), align="LEFT"), bar(vm_mem / biggest, id="vm-vm-mem-bar", fill="#d9534f",
                                                           warn_at=2.0),
                cell(f"{vm.get('memory_reserved_mb', '-')} MiB {w('reserved', lang)}", mono=True, id="vm-vm-mem",
                     align="RIGHT")),
            row(cell(w("rss", lang), align="LEFT", size=9), cell(f"{vm.get('qemu_rss_mb') or '-'} MiB", colspan=2,
                                                                  mono=True, size=9, id="vm-vm-rss")),
            row(cell(w("kernel", lang), align="LEFT"),
                cell(vm.get("kernel") or (w("failed", lang) if vm.get("error") else "-"), colspan=2, mono=True,
                     bg=OWN, id="vm-vm-kernel")),
            row(cell(w("own_kernel", lang) + " · " + w("guest", lang), colspan=3, size=9)),
        ]
        if vm.get("error"):
            vm_rows.append(row(cell(str(vm["error"])[:90], colspan=3, size=9, bg=WARN, id="vm-vm-error")))
        pair.node("vm-vm", id="vm-vm", label=table(vm_rows))
        ct_rows = [
            row(cell(w("ct", lang), bold=True, colspan=3, bg=HEAD, id="vm-ct-title", size=13)),
            row(cell(w("process", lang), colspan=3, size=10, bg=PALE)),
            row(cell(w("start", lang), align="LEFT"), bar(_frac(ct_ms, longest), id="vm-ct-start-bar"),
                cell(_ms(ct_ms), mono=True, id="vm-ct-start", align="RIGHT")),
            row(cell(w("memory", lang), align="LEFT"), bar(ct_mem / biggest, id="vm-ct-mem-bar", warn_at=2.0),
                cell(human(ct.get("memory_bytes")), mono=True, id="vm-ct-mem", align="RIGHT")),
            row(cell(w("cgroup", lang), align="LEFT", size=9), cell("", colspan=2)),
            row(cell(w("kernel", lang), align="LEFT"),
                cell(ct.get("kernel") or "-", colspan=2, mono=True, bg=SHARED, id="vm-ct-kernel")),
            row(cell(w("host_kernel_of", lang), colspan=3, size=9)),
        ]
        pair.node("vm-ct", id="vm-ct", label=table(ct_rows))
    g.node("vm-hw", id="vm-hw", label=table([row(cell(w("emulated", lang), bg=PALE, size=10))]))
    g.node("vm-host", id="vm-host", label=table([
        row(cell(w("host", lang), bold=True, bg=SHARED, id="vm-host-title")),
        row(cell(model.get("host_kernel") or "-", mono=True, id="vm-host-kernel"))]))
    g.edge("vm-vm", "vm-hw", arrowhead="none", style="dashed")
    g.edge("vm-hw", "vm-host", arrowhead="none", label="qemu")
    g.edge("vm-ct", "vm-host", label=w("syscalls", lang), penwidth="2", color="#3c7dc4")
    return g


def _frac(value, longest):
    return None if not isinstance(value, (int, float)) else max(value / longest, 0.0)


def _ms(value) -> str:
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"
