"""A lesson through the web app's Socket.IO and JSON API, over real containers: buttons,
a terminal whose lines count, a ``run`` attached to a terminal, a step-through launch, reset."""
import time

import pytest

from runtime.network.topology import read_topology

from .conftest import until, wait_for

pytestmark = pytest.mark.root
INTRO = "01-what-is-a-container"


def press(c, lesson, step, **kw):
    ack = c.emit("lesson.action", {"lesson": lesson, "step": step, **kw}, callback=True)
    assert ack.get("ok"), ack
    if ack.get("action"):
        done = wait_for(c, "lesson.done", lambda d: d["action"] == ack["action"], timeout=60)
        assert done["ok"], done
        return done
    return ack


def check(learner, lesson, step):
    return learner.post(f"/api/lessons/{lesson}/check", json={"step": step}).get_json()


def test_buttons_run_for_real_and_the_checks_turn_green(web, learner, sio, rt):
    c = sio()
    assert c.emit("lesson.join", {"lesson": INTRO}, callback=True)["ok"]
    assert not check(learner, INTRO, "first-run")["passed"]
    done = press(c, INTRO, "first-run")
    box = rt.container("intro-box")
    assert done["result"]["data"]["container"] == box.id and dict(box.record.spec.labels) == {"org.onggi.lesson": INTRO}
    first = check(learner, INTRO, "first-run")
    assert first["passed"] and first["newly"] and first["checks"][0]["seen"]["en"] == \
        "a container named intro-box runs with image busybox:latest"
    # The exec button: its output is kept as the step's result and shown again on reload.
    press(c, INTRO, "inside-ps")
    assert check(learner, INTRO, "inside-ps")["passed"]
    doc = learner.get(f"/api/lessons/{INTRO}?lang=en").get_json()
    inside = next(s for s in doc["steps"] if s["id"] == "inside-ps")
    assert "sleep 3600" in inside["result"]["data"]["output"] and doc["steps"][0]["passed"]
    # The live quiz: the host's PID of the container's PID 1.
    pid = rt.container("intro-box").state.pid
    r = learner.post(f"/api/lessons/{INTRO}/quiz", json={"quiz": "inside-ps-1", "answer": f" {pid} "}).get_json()
    assert r["correct"] and r["expected"] == str(pid)
    # Reset: what the lesson made is gone and the lesson starts again.
    out = learner.post(f"/api/lessons/{INTRO}/reset").get_json()
    assert out["containers"] == ["intro-box"]
    assert not check(learner, INTRO, "first-run")["passed"]
    assert learner.get(f"/api/lessons/{INTRO}?lang=ko").get_json()["progress"]["passed"] == []


def test_lines_typed_in_the_browser_terminal_count(web, learner, sio, rt):
    c = sio()
    c.emit("lesson.join", {"lesson": INTRO}, callback=True)
    press(c, INTRO, "first-run")
    assert not check(learner, INTRO, "hostname")["passed"]
    ack = c.emit("term.open", {"container": "intro-box"}, callback=True)
    assert ack["ok"], ack
    term = ack["id"]
    wait_for(c, "term.output", lambda m: m["id"] == term and "#" in m["data"])
    time.sleep(0.3)                      # busybox's line editor is reading now
    c.emit("term.input", {"id": term, "data": "hostname\r"})
    got = until(lambda: (r := check(learner, INTRO, "hostname"))["passed"] and r, timeout=10)
    assert got, check(learner, INTRO, "hostname")
    cid = rt.container("intro-box").id
    assert got["checks"][0]["seen"]["en"].startswith(f"intro-box printed `{cid[:12]}`, the host prints")
    learner.post(f"/api/lessons/{INTRO}/reset")


def test_a_run_attached_to_the_terminal_keeps_its_container_for_the_check(web, learner, sio, rt):
    c = sio()
    c.emit("lesson.join", {"lesson": INTRO}, callback=True)
    ack = press(c, INTRO, "light", rows=20, cols=90)
    assert ack["terminal"] and ack["container"] == "intro-quick"
    said = wait_for(c, "term.output", lambda m: m["id"] == ack["terminal"] and "hello from a container" in m["data"])
    assert said
    wait_for(c, "term.exit", lambda m: m["id"] == ack["terminal"])
    r = until(lambda: check(learner, INTRO, "light")["passed"], timeout=10)
    assert r and rt.container("intro-quick").state.exit_code == 0
    learner.post(f"/api/lessons/{INTRO}/reset")
    assert "intro-quick" not in [x.name for x in rt.containers.list()]


def test_a_step_through_launch_from_the_lesson_and_the_network_view_during_it(web, learner, sio, rt):
    lesson = "07-namespaces"
    c = sio()
    c.emit("lesson.join", {"lesson": lesson}, callback=True)
    ack = press(c, lesson, "launch")
    room = ack["step_through"]
    cid = ack["container"]
    for index in range(6):
        wait_for(c, "step.state", lambda s: s["room"] == room and s["status"] == "paused" and s["current"] == index)
        if index == 4:          # namespaces and network done, not yet mounts: not running yet
            assert rt.container(cid).state.status.value == "created"
            seen = {x["id"]: x for x in read_topology(rt)["containers"]}
            assert cid in seen, "a container halfway through its launch shows in the network view"
            assert "eth0" in [i["name"] for i in seen[cid]["interfaces"]]
        assert c.emit("step.control", {"room": room, "action": "next"}, callback=True)["ok"]
    wait_for(c, "step.state", lambda s: s["room"] == room and s["status"] == "started")
    assert until(lambda: check(learner, lesson, "launch")["passed"])
    assert dict(rt.container("ns-demo").record.spec.labels) == {"org.onggi.lesson": lesson}
    learner.post(f"/api/lessons/{lesson}/reset")


def test_an_editable_build_uses_the_learners_copy(web, learner, sio, rt):
    lesson = "05-build"
    c = sio()
    c.emit("lesson.join", {"lesson": lesson}, callback=True)
    done = press(c, lesson, "edit", files={"hello.txt": "learner's own words\n"})
    assert done["result"]["data"]["tag"] == "build-hello:v1"
    doc = learner.get(f"/api/lessons/{lesson}?lang=en").get_json()
    assert next(s for s in doc["steps"] if s["id"] == "edit")["action"]["files"] == {"hello.txt": "learner's own words\n"}
    assert ("image", "build-hello:v1") in web.lessons.progress.made(lesson)
    out = learner.post(f"/api/lessons/{lesson}/reset").get_json()
    assert "build-hello:v1" in out["images"]


LESSON = """---
title: {title}
summary: a test lesson
minutes: 1
mode: any
labels: [run]
prefix: {prefix}
---

## Start {{#start}}

```step
view: namespaces
action:
  button: {button}
  run: {{name: {prefix}box, image: busybox, cmd: [sleep, "300"], detach: true}}
check:
  - container_running: {{name: {prefix}box}}
```

## A terminal {{#term}}

```step
action:
  button: {button}
  terminal: {{name: {prefix}box}}
check:
  - ran_in_container: {{name: {prefix}box, command: echo}}
solution: |
  onggi exec -it {prefix}box sh
  echo {{{{host_pid:{prefix}box}}}}
```
"""


def test_an_instructors_own_lesson_with_a_terminal_button(onggi_config, rt, names, tmp_path):
    """A lesson folder of one's own (ONGGI_LESSONS): a button that opens a terminal, and a
    solution that holds a live value."""
    from web import create_app, socketio
    from web.config import TestConfig

    from .conftest import TOKEN
    prefix = names.prefix
    root = tmp_path / "lessons"
    (root / "01-mine").mkdir(parents=True)
    for lang, title, button in (("ko", "내 강의", "누르기"), ("en", "My lesson", "Press")):
        (root / "01-mine" / f"lesson.{lang}.md").write_text(LESSON.format(title=title, prefix=prefix, button=button))

    class Cfg(TestConfig):
        ONGGI_TOKEN = TOKEN
        ONGGI_RUNTIME = onggi_config
        ONGGI_LIVE = False
        ONGGI_LESSONS = str(root)
    app = create_app(Cfg)
    try:
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
        assert [l["id"] for l in client.get("/api/lessons").get_json()["lessons"]] == ["01-mine"]
        c = socketio.test_client(app, flask_test_client=(client.get("/lessons") and client), auth={"token": TOKEN})
        press(c, "01-mine", "start")
        pid = rt.container(f"{prefix}box").state.pid
        ack = press(c, "01-mine", "term")
        assert ack["terminal"] and ack["container"] == f"{prefix}box"
        wait_for(c, "term.output", lambda m: m["id"] == ack["terminal"] and "#" in m["data"])
        time.sleep(0.3)
        c.emit("term.input", {"id": ack["terminal"], "data": f"echo {pid}\r"})
        got = until(lambda: (r := check(client, "01-mine", "term"))["passed"] and r)
        assert got, check(client, "01-mine", "term")
        doc = client.get("/api/lessons/01-mine?lang=en").get_json()
        assert doc["steps"][1]["solution"] == f"onggi exec -it {prefix}box sh\necho {pid}"
        c.disconnect()
    finally:
        app.terminals.close_all()
        app.bridge.stop()


def test_reset_cancels_a_step_through_halfway(web, learner, sio, rt):
    lesson = "07-namespaces"
    c = sio()
    c.emit("lesson.join", {"lesson": lesson}, callback=True)
    ack = press(c, lesson, "launch")
    room = ack["step_through"]
    wait_for(c, "step.state", lambda s: s["room"] == room and s["status"] == "paused" and s["current"] == 0)
    c.emit("step.control", {"room": room, "action": "next"}, callback=True)
    wait_for(c, "step.state", lambda s: s["room"] == room and s["status"] == "paused" and s["current"] == 1)
    learner.post(f"/api/lessons/{lesson}/reset")
    wait_for(c, "step.state", lambda s: s["room"] == room and s["status"] == "cancelled")
    assert until(lambda: "ns-demo" not in [r.name for r in rt.containers.list()])
    assert not rt.cgroups.exists(ack["container"])
