"""The lessons' pure parts: parameters, live values, the events a check counts, what was typed
in a terminal, files seen from the host, simulated pictures, and the checks that read only
what the lesson's own actions left."""
import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from runtime.config import Config
from web.lessons import actions, answers, checks, cleanup, rootfs
from web.lessons.context import Context, clean_output, starts_with
from web.lessons.history import events_since
from web.lessons.params import ParamError, Signature
from web.terminal import Transcript

REPO = Path(__file__).resolve().parents[3]


# -- parameters -------------------------------------------------------------------------------

def test_a_signature_validates_and_names_what_is_wrong():
    sig = checks.CHECKS["container_running"][0]
    assert sig.normalize("check", {"name": "web", "memory": "64m"}) == {"name": "web", "memory": "64m"}
    with pytest.raises(ParamError, match="invalid memory '64q': use a size like 64m") as e:
        sig.normalize("check", {"name": "web", "memory": "64q"})
    assert e.value.key == "memory"
    with pytest.raises(ParamError, match="'name' is required"):
        sig.normalize("check", {"memory": "64m"})
    with pytest.raises(ParamError, match="expected a mapping"):
        sig.normalize("check", "web")
    assert Signature(("name",), shorthand="name").normalize("x", "web") == {"name": "web"}


# -- live answers -------------------------------------------------------------------------------

@pytest.mark.parametrize("expected,given,same", [
    ("67108864", " 67108864 ", True), ("64", "64.0", True), ("1,024", "1024", True),
    ("10.213.0.2", "10.213.0.2", True), ("10.213.0.2", "10.213.0.20", False), ("4", "four", False),
    # An address copied with its prefix length from `ip addr` is the same address.
    ("10.213.0.2", "10.213.0.2/16", True), ("10.213.0.2", "10.213.0.20/16", False),
    ("10.213.0.2", "10.213.0.2/", False),
])
def test_answers_compare_trimmed_and_numbers_as_numbers(expected, given, same):
    assert answers.same(expected, given) is same


class FakeImages:
    def resolve(self, ref):
        from runtime.errors import ImageNotFound
        if ref.startswith("busybox"):
            return SimpleNamespace(diff_ids=["sha256:a"], size=2_100_000, id="sha256:" + "1" * 64)
        raise ImageNotFound(f"no such image: {ref}")


def fake_ctx(tmp_path, **kw):
    from runtime.errors import ContainerNotFound
    config = Config(root=tmp_path / "root", run=tmp_path / "run")

    def container(name):
        raise ContainerNotFound(f"no such container: {name}")
    rt = SimpleNamespace(config=config, images=FakeImages(), container=container, host_hostname=lambda: "myhost")
    return Context(rt=rt, lesson_id="99-t", **kw)


def test_live_values_fill_in_commands_and_say_what_is_missing(tmp_path):
    ctx = fake_ctx(tmp_path)
    text, missing = answers.substitute(ctx, "layers: {{layer_count:busybox}}, ip {{ip_address:web}}, {{.State.Pid}}")
    assert text == "layers: 1, ip {{ip_address:web}}, {{.State.Pid}}"
    assert missing == ["ip_address:web: no container named web yet"]
    params, missing = answers.substitute_params(ctx, {"cmd": ["echo", "{{layer_count:busybox}}"], "n": 3})
    assert params == {"cmd": ["echo", "1"], "n": 3} and missing == []
    assert answers.answer(ctx, "host_hostname", {}) == "myhost"
    assert answers.answer(ctx, "image_size", {"ref": "busybox"}) == "2100000"


def test_the_vm_kernel_is_skipped_when_the_vm_was_only_modeled(tmp_path):
    ctx = fake_ctx(tmp_path, results=[{"kind": "vm_boot", "step": "boot", "at": 1.0,
                                       "data": {"vm": {"mode": "modeled", "kernel": None}}}])
    with pytest.raises(answers.Skipped):
        answers.answer(ctx, "vm_kernel", {})
    ctx.results[0]["data"]["vm"] = {"mode": "tcg", "kernel": "6.1.0-28-amd64", "booted": True}
    assert answers.answer(ctx, "vm_kernel", {}) == "6.1.0-28-amd64"


# -- events since the lesson started --------------------------------------------------------------

def _log(path: Path, events):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e) + "\n")
        f.write("not json\n")


def test_events_since_reads_the_tail_across_chunks(tmp_path):
    log = tmp_path / "events.log"
    events = [{"time": 1000.0 + i, "type": "container.exec", "id": f"c{i}", "data": {"cmd": ["x" * 50]}}
              for i in range(500)]
    _log(log, events)
    got = events_since(log, 1450.0, chunk=700)          # many chunks, lines cut at their edges
    assert [e["id"] for e in got] == [f"c{i}" for i in range(450, 500)]
    assert events_since(log, 0, chunk=333) == events
    assert events_since(tmp_path / "none.log", 0) == []


def test_events_since_reads_on_into_the_rotated_log(tmp_path):
    from runtime import events as ev
    from runtime.eventlog import EventLog
    log = EventLog(tmp_path / "events.log", max_bytes=4000)     # rotates once, after c20
    start = None
    for i in range(60):
        log.publish(ev.ContainerStarted(id=f"c{i}", pid=i))
        if i == 20:
            start = json.loads((tmp_path / "events.log").read_text().splitlines()[-1])["time"]
    assert (tmp_path / "events.log.1").exists()          # the log was rotated after the start
    got = events_since(tmp_path / "events.log", start, chunk=300)
    assert [int(e["id"][1:]) for e in got] == list(range(20, 60))   # nothing lost across it


# -- what was run in a container ------------------------------------------------------------------

def test_a_command_matches_by_its_first_words():
    assert starts_with("ping -c 3 10.213.0.3", "ping")
    assert starts_with("hostname ns-changed", "hostname ns-changed")
    assert not starts_with("pingu", "ping") and not starts_with("ps", "ps aux") and not starts_with("", "ps")


def test_a_command_written_another_correct_way_still_matches():
    # Options combined, reordered or added, a trailing slash, ip's abbreviations: the same command.
    assert starts_with("ls -l /proc/self/ns/", "ls -l /proc/self/ns")
    assert starts_with("ls -la /proc/self/ns", "ls -l /proc/self/ns")
    assert starts_with("ls /proc/self/ns -l", "ls -l /proc/self/ns")
    assert starts_with("ip a", "ip addr") and starts_with("ip address show", "ip addr")
    assert starts_with("ip -4 addr", "ip addr") and starts_with("ip r", "ip route")
    assert starts_with("kill -9 1", "kill") and starts_with("free -h", "free")
    # ...but not another command, another path, or a missing option.
    assert not starts_with("ls /proc/self/ns", "ls -l /proc/self/ns")
    assert not starts_with("ls -l /proc/self", "ls -l /proc/self/ns")
    assert not starts_with("ip link", "ip addr") and not starts_with("ip", "ip addr")
    assert not starts_with("uname -a", "uname -r")


def test_terminal_output_is_cleaned_of_echo_escapes_and_prompt():
    raw = "hostname\r\n\x1b[1;32m3f0c8a1d2b4e\x1b[0m\r\n/ # "
    assert clean_output(raw, "hostname") == "3f0c8a1d2b4e"
    assert clean_output("\r\nLinux\r\n/ # ", "uname") == "Linux"


def test_a_transcript_keeps_the_lines_typed_and_what_came_back():
    t = Transcript("cid")
    t.printed("/ # ")                                     # before any line: not kept
    t.typed("hostnamx\x7fe")
    t.typed("\x1b[24;5R")                                 # the terminal's cursor report
    t.typed("\r")
    t.printed("hostname\r\n3f0c8a1d2b4e\r\n/ # ")
    t.typed("ls\x03")                                     # Ctrl-C drops the line
    t.typed("\x1b[A")                                     # an arrow key
    t.typed("echo hi\n")
    t.typed("\r")                                         # an empty line is not kept
    snap = t.snapshot()
    assert snap["container"] == "cid"
    assert [e["line"] for e in snap["entries"]] == ["hostname", "echo hi"]
    assert "3f0c8a1d2b4e" in snap["entries"][0]["output"] and snap["entries"][1]["output"] == ""


def test_ran_in_counts_exec_events_buttons_and_terminal_lines_since_the_start(tmp_path):
    c = SimpleNamespace(id="c" * 64, name="web")
    now = time.time()
    _log(tmp_path / "run" / "events.log", [
        {"time": now - 100, "type": "container.exec", "id": c.id, "data": {"cmd": ["ps"]}},       # before
        {"time": now + 1, "type": "container.exec", "id": c.id, "data": {"cmd": ["uname", "-r"]}},
        {"time": now + 2, "type": "container.exec", "id": c.id, "data": {"cmd": ["sh"]}},         # a terminal
        {"time": now + 3, "type": "container.exec", "id": "other", "data": {"cmd": ["ls"]}},
        {"time": now + 4, "type": "container.exec", "id": c.id, "data": {"cmd": ["sh", "-c", "ping -c 1 db"]}},
        {"time": now + 5, "type": "container.exec", "id": c.id, "data": {"cmd": ["hostname"]}},
    ])
    results = [{"kind": "exec", "step": "s", "at": now + 5,
                "data": {"container": c.id, "cmd": ["hostname"], "output": "abc\n", "code": 0, "started": now + 5}}]
    transcripts = lambda: [{"container": "web", "entries": [{"time": now + 6, "line": "cat /etc/os-release",
                                                               "output": "cat /etc/os-release\r\nnope\r\n/ # "}]},
                           {"container": "x", "entries": [{"time": now + 7, "line": "rm -rf /", "output": ""}]}]
    ctx = fake_ctx(tmp_path, since=now, results=results, transcripts=transcripts)
    ran = ctx.ran_in(c)
    assert [(r.line, r.how) for r in ran] == [("uname -r", "exec"), ("ping -c 1 db", "exec"),
                                             ("hostname", "button"), ("cat /etc/os-release", "terminal")]
    assert ran[2].output == "abc\n" and ran[3].output == "nope"


# -- builds seen in the events -------------------------------------------------------------------

def _steps(build, cached):
    out = [{"type": "build.step", "id": build, "data": {"n": 1, "total": 4, "instruction": "FROM busybox",
                                                         "cached": False, "phase": "done"}}]
    for n, (inst, c) in enumerate(zip(["WORKDIR /app", "COPY a /a", "CMD x"], cached), start=2):
        out.append({"type": "build.step", "id": build, "data": {"n": n, "total": 4, "instruction": inst,
                                                                 "cached": c, "phase": "start"}})
        out.append({"type": "build.step", "id": build, "data": {"n": n, "total": 4, "instruction": inst,
                                                                 "cached": c, "phase": "done"}})
    return out


def test_a_build_is_the_last_one_to_finish_before_its_image_built_event():
    events = (_steps("b1", [False, False, False]) + [{"type": "image.built", "id": "i1", "data": {"name": "app:v1"}}]
              + _steps("b2", [True, False, False]) + [{"type": "image.built", "id": "i2", "data": {"name": "other:1"}}]
              + _steps("b3", [True, True, True]) + [{"type": "image.built", "id": "i3", "data": {"name": "app:v1"}}])
    builds = checks.builds_of(events, "app:v1")
    assert len(builds) == 2
    assert [s["cached"] for s in builds[1] if not s["instruction"].startswith("FROM")] == [True, True, True]
    assert checks.builds_of(events, "docker.io/library/app:v1") == builds      # the same name, spelt fully
    assert checks.builds_of(events, "app") == []                               # app:latest


# -- checks that read what the lesson's actions left --------------------------------------------------

def _run(ctx, kind, params):
    return checks.run(ctx, kind, params)


def test_vm_booted_passes_on_a_boot_or_a_labelled_model_and_fails_otherwise(tmp_path):
    ctx = fake_ctx(tmp_path)
    assert not _run(ctx, "vm_booted", {}).passed
    ctx.results.append({"kind": "vm_boot", "at": 1, "step": "boot",
                        "data": {"vm": {"mode": "tcg", "booted": False, "error": "no marker"}}})
    out = _run(ctx, "vm_booted", {})
    assert not out.passed and "no marker" in out.seen["en"]
    ctx.results.append({"kind": "vm_boot", "at": 2, "step": "boot",
                        "data": {"vm": {"mode": "tcg", "booted": True, "kernel": "6.1.0", "start_ms": 4700}}})
    out = _run(ctx, "vm_booted", {})
    assert out.passed and "TCG" in out.seen["en"] and "6.1.0" in out.seen["ko"]
    ctx.results.append({"kind": "vm_boot", "at": 3, "step": "boot", "data": {"vm": {"mode": "modeled"}}})
    assert "modeled" in _run(ctx, "vm_booted", {}).seen["en"]


def test_results_from_before_a_reset_do_not_count(tmp_path):
    ctx = fake_ctx(tmp_path, since=10.0, results=[{"kind": "chroot_demo", "at": 5.0, "step": "chroot",
                                                   "data": {"chroot": {"processes": 90}, "container": {"processes": 2}}}])
    assert not _run(ctx, "chroot_demo_ran", {}).passed
    ctx.results[0]["at"] = 11.0
    assert _run(ctx, "chroot_demo_ran", {}).passed


def test_simulated_and_quiz_answered(tmp_path):
    ctx = fake_ctx(tmp_path, quizzes={"q1": False})
    assert not _run(ctx, "simulated", {"scenario": "swarm", "do": "init"}).passed
    ctx.results.append({"kind": "simulate", "at": 1, "step": "s", "data": {"scenario": "swarm", "do": "init"}})
    assert _run(ctx, "simulated", {"scenario": "swarm", "do": "init"}).passed
    assert not _run(ctx, "simulated", {"scenario": "swarm", "do": "fail"}).passed
    out = _run(ctx, "quiz_answered", {"quiz": "q1"})
    assert not out.passed and out.seen["en"] == "not answered correctly yet"
    ctx.quizzes["q1"] = True
    assert _run(ctx, "quiz_answered", {"quiz": "q1"}).passed


def test_a_check_that_cannot_read_fails_with_a_reason_instead_of_crashing(tmp_path):
    ctx = fake_ctx(tmp_path)
    out = _run(ctx, "image_exists", {"ref": "nothing:here"})
    assert not out.passed and out.seen["en"] == "there is no image nothing:here"
    out = _run(ctx, "container_running", {"name": "web"})
    assert not out.passed and out.missing == {"ko": "web 컨테이너를 실행하세요", "en": "run a container named web"}


# -- files seen from the host -------------------------------------------------------------------

def test_resolve_keeps_symlinks_inside_the_container_root(tmp_path):
    root = tmp_path / "merged"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "busybox").write_text("inside")
    os.symlink("/bin/busybox", root / "bin" / "vi")
    os.symlink("/etc", root / "etc-link")                 # /etc of the container, not the host's
    os.symlink("../../../../../../..", root / "up")
    assert rootfs.resolve(root, "/bin/vi") == root / "bin" / "busybox"
    assert rootfs.resolve(root, "/bin/vi", follow_last=False) == root / "bin" / "vi"
    assert rootfs.resolve(root, "/etc-link/passwd") is None
    assert rootfs.resolve(root, "/up/etc/passwd") is None
    assert rootfs.resolve(root, "/../../etc/hostname") is None
    assert rootfs.read_text(rootfs.resolve(root, "/bin/vi")) == "inside"


class XattrSyscalls:
    def __init__(self, opaque):
        self.opaque = {str(p) for p in opaque}

    def lgetxattr(self, path, name):
        return b"y" if str(path) in self.opaque else None


def test_in_layers_follows_overlays_rules(tmp_path):
    lower, mid, upper = tmp_path / "lower", tmp_path / "mid", tmp_path / "upper"
    for d in (lower / "etc", lower / "bin", mid / "etc", upper / "bin"):
        d.mkdir(parents=True)
    (lower / "etc" / "passwd").write_text("root")
    (lower / "etc" / "group").write_text("root")
    (lower / "bin" / "vi").write_text("vi")
    (mid / "etc" / "passwd").write_text("root\nstudent")
    layers = [upper, mid, lower]
    sys = XattrSyscalls([])
    assert rootfs.in_layers(layers, "/etc/passwd", sys) == mid / "etc" / "passwd"
    assert rootfs.in_layers(layers, "/etc/group", sys) == lower / "etc" / "group"
    assert rootfs.in_layers(layers, "/bin/vi", sys) == lower / "bin" / "vi"
    # An opaque /etc in mid hides lower's /etc/group.
    assert rootfs.in_layers(layers, "/etc/group", XattrSyscalls([mid / "etc"])) is None
    assert rootfs.in_layers(layers, "/nope", sys) is None


# -- simulated pictures -----------------------------------------------------------------------------

def test_machine_makes_hosts_and_points_the_client_at_one():
    s = actions.simulate("machine", "create", None, host="host-1")
    assert s == {"hosts": ["host-1"], "env": None}
    s = actions.simulate("machine", "env", s, host="host-1")
    assert s["env"] == "host-1"
    from runtime.errors import Conflict
    with pytest.raises(Conflict, match="there is no host host-9"):
        actions.simulate("machine", "env", s, host="host-9")


def test_swarm_spreads_tasks_and_reschedules_a_dead_hosts():
    from runtime.errors import Conflict
    with pytest.raises(Conflict, match="no manager yet"):
        actions.simulate("swarm", "service", None, replicas=3)
    s = actions.simulate("swarm", "init", None)
    assert s["manager"] == "host-1"
    s = actions.simulate("swarm", "service", s, replicas=3)
    assert [t["host"] for t in s["tasks"]] == ["host-1", "host-2", "host-3"]
    s = actions.simulate("swarm", "fail", s, host="host-2")
    assert s["down"] == ["host-2"] and len(s["tasks"]) == 3
    moved = [t for t in s["tasks"] if t["moved_from"]]
    assert len(moved) == 1 and moved[0]["moved_from"] == "host-2" and moved[0]["host"] in ("host-1", "host-3")
    with pytest.raises(Conflict, match="is the manager"):
        actions.simulate("swarm", "fail", s, host="host-1")


def test_compose_reads_the_lessons_compose_file():
    s = actions.simulate("compose", "up", None, lesson_dir=REPO / "lessons" / "04-docker-components")
    assert s["up"] and s["project"] == "parts"
    assert [x["name"] for x in s["services"]] == ["web", "client"]
    assert s["services"][0]["ports"] == ["8080:80"] and s["services"][1]["depends_on"] == ["web"]
    assert not actions.simulate("compose", "down", s, lesson_dir=REPO / "lessons" / "04-docker-components")["up"]


# -- what actions make, and what clean-up takes ------------------------------------------------------

def test_a_run_action_is_labelled_with_its_lesson_both_ways():
    p = {"name": "t-web", "image": "busybox", "cmd": ["sleep", "60"], "memory": "64m", "cpus": 0.5,
         "pids_limit": 20, "network": "host", "ports": ["8080:80"], "env": ["A=1"], "hostname": "h"}
    spec = actions.spec(p, "99-t")
    assert dict(spec.labels) == {"org.onggi.lesson": "99-t"}
    assert (spec.memory, spec.cpus, spec.pids_limit, spec.network, spec.hostname, spec.cmd) == \
        (64 << 20, 0.5, 20, "host", "h", ("sleep", "60"))
    assert actions.spec({"image": "busybox"}, "x").network == actions.default_network()
    assert actions.run_args(p, "99-t") == [
        "--label", "org.onggi.lesson=99-t", "--name", "t-web", "--memory", "64m", "--cpus", "0.5",
        "--pids-limit", "20", "--network", "host", "--hostname", "h", "--publish", "8080:80", "--env", "A=1",
        "busybox", "sleep", "60"]


def test_a_run_action_takes_workdir_user_read_only_and_one_env_string():
    p = {"name": "t-app", "image": "busybox", "cmd": ["sleep", "60"], "workdir": "/tmp", "user": 1000,
         "read_only": True, "env": "MODE=dev"}
    spec = actions.spec(p, "99-t")
    assert (spec.workdir, spec.user, spec.read_only, spec.env) == ("/tmp", "1000", True, ("MODE=dev",))
    assert actions.run_args(p, "99-t") == [
        "--label", "org.onggi.lesson=99-t", "--name", "t-app", "--workdir", "/tmp", "--user", "1000",
        "--read-only", "--env", "MODE=dev", "busybox", "sleep", "60"]


def test_a_build_context_is_the_lesson_folder_with_the_learners_files(tmp_path):
    lesson_dir = REPO / "lessons" / "05-build"
    ctx = actions.context_dir(lesson_dir, tmp_path / "ctx", "FROM busybox\n", {"hello.txt": "edited\n"})
    assert (ctx / "hello.txt").read_text() == "edited\n" and (ctx / "Dockerfile").read_text() == "FROM busybox\n"
    assert not list(ctx.glob("lesson.*.md"))
    assert (lesson_dir / "hello.txt").read_text() != "edited\n"           # the lesson folder is untouched
    from runtime.errors import InvalidArgument
    with pytest.raises(InvalidArgument, match="must stay in the lesson folder"):
        actions.context_dir(lesson_dir, tmp_path / "ctx2", "FROM busybox\n", {"../escape.txt": "x"})


@pytest.mark.parametrize("tag,repo", [("localhost:5000/ship-hello:v1", "ship-hello"), ("build-hello:v1", "build-hello"),
                                      ("busybox:latest", "busybox"), ("docker.io/someone/ns-x:1", "someone/ns-x")])
def test_clean_up_matches_an_images_repository_without_its_registry(tag, repo):
    assert cleanup.repository(tag) == repo


def test_whats_a_lessons_is_its_label_or_its_prefix():
    assert cleanup.is_ours("anything", {"org.onggi.lesson": "07"}, "07", "ns-")
    assert cleanup.is_ours("ns-demo", {}, "07", "ns-")
    assert not cleanup.is_ours("web", {"org.onggi.lesson": "08"}, "07", "ns-")
    assert not cleanup.is_ours("web", {}, "07", "")


def test_a_korean_check_message_takes_the_particle_its_word_needs():
    from web.lessons.checks import _i_ga
    # "호스트 이름이 hist-jail가 아니라" read wrong: the particle follows the word's last sound.
    assert _i_ga("시계") == "시계가" and _i_ga("호스트") == "호스트가" and _i_ga("이름") == "이름이"
    assert _i_ga(20) == "20이" and _i_ga("0.5") == "0.5가" and _i_ga("64 MiB") == "64 MiB가"
    assert _i_ga("hist-jail") == "hist-jail이(가)"
