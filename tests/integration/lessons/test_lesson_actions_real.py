"""Every button action, done for real through the runtime, labelled with its lesson."""
import time
from pathlib import Path

import pytest

from runtime.errors import ImageNotFound, OnggiError
from web.lessons import actions, checks
from web.lessons.actions import Job, perform

from .conftest import CLI

pytestmark = pytest.mark.root
REPO = Path(__file__).resolve().parents[3]


def job(rt, kind, params, lesson="99-test", **kw):
    said = []
    j = Job(rt=rt, lesson_id=lesson, lesson_dir=kw.pop("lesson_dir", REPO / "lessons" / "05-build"), kind=kind,
            params=params, cli=CLI, emit=lambda stage, data: said.append((stage, data)), **kw)
    j.said = said
    return j


def text(j) -> str:
    return "".join(d.get("text", "") for s, d in j.said if s == "output")


def test_run_makes_a_labelled_container_and_nothing_when_it_fails(rt, names):
    web = names("web")
    out = perform(job(rt, "run", {"name": web, "image": "busybox", "cmd": ["sleep", "300"], "memory": "32m"}))
    c = rt.container(web)
    assert out["container"] == c.id and c.state.status.value == "running" and out["pid"] == c.state.pid
    assert dict(c.record.spec.labels) == {"org.onggi.lesson": "99-test"}
    assert rt.cgroups.get(c.id).limits().memory == 32 << 20
    assert c.record.spec.network == "bridge"                     # onggi run's default, not the API's
    bad = names("bad")
    with pytest.raises(OnggiError):
        perform(job(rt, "run", {"name": bad, "image": "busybox", "cmd": ["no-such-command"]}))
    assert bad not in [r.name for r in rt.containers.list()]


def test_exec_runs_the_cli_and_captures_the_output(rt, names, ctx):
    box = names("box")
    perform(job(rt, "run", {"name": box, "image": "busybox", "cmd": ["sleep", "300"]}))
    c = ctx()
    j = job(rt, "exec", {"name": box, "cmd": ["sh", "-c", "echo out; echo err >&2; exit 3"]})
    out = perform(j)
    assert out["code"] == 3 and "out\n" in out["output"] and "err\n" in out["output"] and not out["timed_out"]
    assert "out" in text(j)                                       # streamed as it came
    assert any(e["id"] == rt.container(box).id for e in c.events("container.exec"))


def test_an_exec_that_never_ends_is_left_running_after_the_timeout(rt, names, monkeypatch):
    box = names("box")
    perform(job(rt, "run", {"name": box, "image": "busybox", "cmd": ["sleep", "300"]}))
    monkeypatch.setattr(actions, "EXEC_TIMEOUT", 1.0)
    t0 = time.monotonic()
    out = perform(job(rt, "exec", {"name": box, "cmd": ["sh", "-c", "echo begun; while true; do sleep 1; done"]}))
    assert out["timed_out"] and out["code"] is None and "begun" in out["output"]
    assert time.monotonic() - t0 < 5


def test_stop_and_remove(rt, names):
    box = names("box")
    perform(job(rt, "run", {"name": box, "image": "busybox", "cmd": ["sh", "-c", "trap 'exit 0' TERM; "
                                                                                 "while true; do sleep 0.1; done"]}))
    assert perform(job(rt, "stop", {"name": box}))["exit_code"] == 0
    assert rt.container(box).state.status.value == "exited"
    perform(job(rt, "remove", {"name": box}))
    assert box not in [r.name for r in rt.containers.list()]


def test_build_uses_the_learners_edited_file_and_the_cache(rt, names, ctx):
    ref = f"{names('hello')}:v1"
    dockerfile = (REPO / "lessons" / "05-build" / "Dockerfile").read_text()
    params = {"tag": ref, "dockerfile": dockerfile, "editable": ["hello.txt"]}
    c = ctx()
    first = perform(job(rt, "build", params, files={"hello.txt": "edited by a learner\n"}))
    assert first["made"] == [ref] and first["image"] == rt.images.resolve(ref).id
    again = job(rt, "build", params, files={"hello.txt": "edited by a learner\n"})
    second = perform(again)
    assert second["image"] == first["image"] and all(s["cached"] for s in second["steps"] if s["n"] > 1)
    assert "CACHED" in text(again) and "Successfully tagged" in text(again)
    assert checks.run(c, "image_built", {"ref": ref, "cached_steps": 4, "builds": 2}).passed
    # The edited file is in the image; the lesson folder's is not.
    box = names("box")
    out = perform(job(rt, "run", {"name": box, "image": ref, "cmd": ["cat", "/app/hello.txt"]}))
    rt.container(out["container"]).wait()
    assert b"edited by a learner" in b"".join(d for _, d, _ in rt.container(box).logs())


def test_tag_and_rmi(rt, names):
    ref = f"{names('copy')}:v1"
    assert perform(job(rt, "tag", {"source": "busybox", "target": ref}))["made"] == [ref]
    assert rt.images.resolve(ref).id == rt.images.resolve("busybox").id
    out = perform(job(rt, "rmi", {"ref": ref}))
    assert out["removed"] == [f"Untagged: {ref}"]
    with pytest.raises(ImageNotFound):
        rt.images.resolve(ref)


def test_push_and_pull_through_a_real_registry(rt, names, registry, tmp_path):
    ref = f"{registry.address}/{names('ship')}:v1"
    rt.images.tag("busybox", ref)
    pushed = perform(job(rt, "push", {"ref": ref}))
    assert pushed["digest"].startswith("sha256:")
    rt.images.remove(ref)
    pulled = perform(job(rt, "pull", {"ref": ref}))
    assert pulled["made"] == [ref] and rt.images.resolve(ref).id == rt.images.resolve("busybox").id


def test_network_create_is_labelled(rt, names):
    lab = names("lab")
    out = perform(job(rt, "network_create", {"name": lab, "subnet": "10.198.3.0/24"}))
    net = rt.networks.get(lab)
    assert out["subnet"] == "10.198.3.0/24" == net.subnet and dict(net.labels) == {"org.onggi.lesson": "99-test"}


def test_chroot_demo_shows_both_sides(rt, ctx):
    c = ctx()
    out = perform(job(rt, "chroot_demo", {}))
    assert out["chroot"]["sees_host_processes"] and not out["container"]["sees_host_processes"]
    assert out["chroot"]["hostname_is_host"] and not out["container"]["hostname_is_host"]
    c.results.append({"kind": "chroot_demo", "step": "chroot", "at": time.time(), "data": out})
    assert checks.run(c, "chroot_demo_ran", {}).passed


@pytest.mark.slow
def test_vm_boot_boots_a_real_vm_beside_a_container(rt, ctx):
    j = job(rt, "vm_boot", {})
    out = perform(j)
    stages = [d["stage"] for s, d in j.said if s == "stage"]
    assert stages[0] == "prepare"
    vm = out["vm"]
    assert vm["mode"] in ("kvm", "tcg", "modeled")
    if vm["mode"] != "modeled":
        assert vm["booted"] and vm["kernel"] and "probe" in stages and "vm.booted" in stages
        assert text(j)                                        # the console, line by line
    assert out["container"]["kernel"] == out["host_kernel"]
    c = ctx()
    c.results.append({"kind": "vm_boot", "step": "boot", "at": time.time(), "data": out})
    assert checks.run(c, "vm_booted", {}).passed
    # No container of the comparison is left.
    assert not [r for r in rt.containers.list() if dict(r.spec.labels).get("org.onggi.demo") == "vm-compare"]
