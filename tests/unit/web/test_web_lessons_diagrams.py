"""The lessons' views: a VM beside a container, Docker's components, several (simulated) hosts."""
import html
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

from web.diagrams import to_svg as _to_svg
from web.diagrams import components, multihost, vm
from web.lessons.actions import simulate
from web.lessons.progress import Progress

REPO = Path(__file__).resolve().parents[3]


def to_svg(graph) -> str:
    return html.unescape(_to_svg(graph))


def ids(svg: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', svg))


def measured(mode="tcg", kernel="6.1.0-28-amd64", start=4712.3):
    return {"measured": True, "host_kernel": "6.1.0-27-amd64",
            "vm": {"mode": mode, "booted": mode != "modeled", "kernel": kernel if mode != "modeled" else None,
                   "start_ms": start, "memory_reserved_mb": 128, "qemu_rss_mb": 81.5},
            "container": {"start_ms": 41.0, "memory_bytes": 380 * 1024, "kernel": "6.1.0-27-amd64"}}


@pytest.mark.parametrize("lang,words", [("ko", ["가상 머신", "TCG: 소프트웨어 에뮬레이션", "호스트의 커널"]),
                                        ("en", ["virtual machine", "TCG: software emulation", "the host's kernel"])])
def test_vm_shows_both_sides_measured(lang, words):
    svg = to_svg(vm.draw(measured(), lang))
    for w in words:
        assert w in svg
    assert "4.7 s" in svg and "41 ms" in svg and "6.1.0-28-amd64" in svg and "6.1.0-27-amd64" in svg
    assert "128 MiB" in svg and "380.0 KiB" in svg
    assert {"vm-vm", "vm-ct", "vm-host", "a_vm-vm-kernel", "a_vm-ct-kernel", "a_vm-vm-start"} <= ids(svg)


def test_vm_says_kvm_or_modeled():
    assert "KVM: hardware virtualization" in to_svg(vm.draw(measured("kvm", start=900), "en"))
    svg = to_svg(vm.draw(measured("modeled"), "en"))
    assert "modeled: no qemu on this computer, so typical figures (not measured)" in svg
    assert "not measured yet" in to_svg(vm.draw({"measured": False}, "en"))


def test_vm_ids_are_stable_between_measurements():
    assert ids(to_svg(vm.draw(measured(start=4000), "ko"))) == ids(to_svg(vm.draw(measured(start=9000), "ko")))


def test_vm_collects_the_comparison_a_lesson_stored(tmp_path):
    root = tmp_path / "root"
    rid = Progress(root / "lessons.sqlite").add_result("a" * 32, "02", "boot", "vm_boot",
                                                       {k: v for k, v in measured().items() if k != "measured"})
    rt = SimpleNamespace(config=SimpleNamespace(root=root))
    model = vm.collect(rt, None, {"result": str(rid)})
    assert model["measured"] and model["vm"]["kernel"] == "6.1.0-28-amd64"
    assert vm.collect(rt, None, {}) == {"measured": False, "simulated": False}
    assert vm.collect(rt, None, {"result": "999"})["measured"] is False
    rt.simulated = True
    assert vm.collect(rt, None, {"result": str(rid)})["simulated"] is True
    assert "sim-mark" in ids(to_svg(vm.draw(vm.collect(rt, None, {"result": str(rid)}), "en")))


def cmp_model(highlight="engine", compose=None):
    return {"counts": {"running": 2, "containers": 3, "images": 4, "networks": 1},
            "repositories": ["parts-busybox", "ship-hello"],
            "highlight": highlight, "compose": compose, "simulated_runtime": False}


@pytest.mark.parametrize("lang,real,sim", [("ko", "실제", "모의 (simulated)"), ("en", "real", "simulated: onggi has none")])
def test_components_marks_what_is_real_and_what_is_simulated(lang, real, sim):
    svg = to_svg(components.draw(cmp_model(), lang))
    assert svg.count(f">{real}<") == 3 and svg.count(f">{sim}") == 3
    assert {"cmp-client", "cmp-engine", "cmp-registry", "cmp-compose", "cmp-machine", "cmp-swarm"} <= ids(svg)
    assert "2 running / 3" in svg or "2 실행 중 / 3" in svg


def test_components_draws_what_compose_up_would_make():
    state = simulate("compose", "up", None, lesson_dir=REPO / "lessons" / "04-docker-components")
    svg = to_svg(components.draw(cmp_model("compose", state), "en"))
    assert "parts_default" in svg and "parts-web-1" in svg and "parts-client-1" in svg and "8080:80" in svg
    assert "network (simulated)" in svg
    down = simulate("compose", "down", state, lesson_dir=REPO / "lessons" / "04-docker-components")
    assert "parts-web-1" not in to_svg(components.draw(cmp_model("compose", down), "en"))


def test_multihost_machine_points_the_client_at_the_new_host():
    start = to_svg(multihost.draw({"scenario": "machine", "state": {"hosts": [], "env": None}}, "en"))
    assert "simulated: nothing here is real" in start and "no hosts made yet" in start
    state = simulate("machine", "env", simulate("machine", "create", None, host="host-1"), host="host-1")
    svg = to_svg(multihost.draw({"scenario": "machine", "state": state}, "ko"))
    assert "DOCKER_HOST=host-1" in svg and "모의 실행" in svg and "mh-host-1-engine" in ids(svg)


def test_multihost_swarm_shows_roles_tasks_and_the_rescheduled_one():
    state = simulate("swarm", "service", simulate("swarm", "init", None), replicas=3)
    svg = to_svg(multihost.draw({"scenario": "swarm", "state": state}, "en"))
    assert svg.count(">worker<") == 2 and svg.count(">manager<") == 1 and {"mh-task-web.1", "mh-task-web.3"} <= ids(svg)
    failed = to_svg(multihost.draw({"scenario": "swarm", "state": simulate("swarm", "fail", state, host="host-2")}, "en"))
    assert "Down" in failed and "rescheduled from host-2" in failed


def test_multihost_collects_a_scenarios_state(tmp_path):
    root = tmp_path / "root"
    state = simulate("swarm", "init", None)
    rid = Progress(root / "lessons.sqlite").add_result("a" * 32, "04", "s", "simulate",
                                                       {"scenario": "swarm", "do": "init", "state": state})
    rt = SimpleNamespace(config=SimpleNamespace(root=root))
    assert multihost.collect(rt, None, {"scenario": "swarm", "result": str(rid)})["state"] == state
    # A machine picture never shows a swarm's state.
    assert multihost.collect(rt, None, {"scenario": "machine", "result": str(rid)})["state"]["hosts"] == []


@pytest.mark.parametrize("repos, shown, hidden", [
    (["parts-busybox", "ship-hello"], ["repositories: 2", "parts-busybox", "ship-hello"], ["not running"]),
    ([f"r{i}" for i in range(7)], ["repositories: 7", "r4", "…"], ["r5", "not running"]),
    (None, ["not running"], ["repositories"]),
])
def test_components_registry_box_lists_the_registrys_repositories(repos, shown, hidden):
    svg = to_svg(components.draw(cmp_model() | {"repositories": repos}, "en"))
    assert all(s in svg for s in shown) and not any(h in svg for h in hidden)


def test_components_registry_box_reads_the_simulated_registry(tmp_path):
    from runtime.config import Config
    from runtime.sim import SimRuntime
    rt = SimRuntime(Config(root=tmp_path / "root", run=tmp_path / "run"))
    try:
        rt.images.ensure_base()
        assert components.collect(rt, None, {})["repositories"] == []
        rt.images.tag("busybox", "localhost:5000/sim-hello:v1")
        assert components.collect(rt, None, {})["repositories"] == []
        rt.push("localhost:5000/sim-hello:v1")
        assert components.collect(rt, None, {})["repositories"] == ["sim-hello"]
    finally:
        rt.close()
