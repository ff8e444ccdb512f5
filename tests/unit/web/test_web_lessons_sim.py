"""Lessons that say ``mode: any`` play whole on the simulated runtime (no root, no kernel objects):
every button through Socket.IO, every check turning green, live answers from the simulation."""
import time

import pytest

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN


@pytest.fixture
def sim_app(onggi_dirs):
    from web import create_app

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
        ONGGI_LIVE = False
        ONGGI_SIMULATE = True
    app = create_app(Cfg)
    yield app
    app.steps.cancel_all()
    app.terminals.close_all()
    app.bridge.stop()
    app.runtime.close()          # the published ports' listeners on 127.0.0.1 (lesson 9)


@pytest.fixture
def me(sim_app):
    from web import socketio
    client = sim_app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    client.get("/lessons")
    sock = socketio.test_client(sim_app, flask_test_client=client, auth={"token": TOKEN})
    yield client, sock
    sock.disconnect()


def wait(sock, name, pred, timeout=30):
    history = sock.__dict__.setdefault("history", [])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        history.extend(sock.get_received())
        for i, m in enumerate(history):
            if m["name"] == name and pred(m["args"][0]):
                return history.pop(i)["args"][0]
        time.sleep(0.02)
    raise AssertionError(f"no {name} within {timeout}s")


def walk(app, client, sock, lesson_id):
    sock.emit("lesson.join", {"lesson": lesson_id}, callback=True)
    lesson = app.lessons.lesson(lesson_id, "en")
    for step in lesson.steps:
        a = step.action
        if a is not None and a.kind == "type":
            # What a learner types in the terminal, as an exec (the checks accept either).
            command = next(s for s in client.get(f"/api/lessons/{lesson_id}?lang=en").get_json()["steps"]
                           if s["id"] == step.id)["action"]["command"]
            app.runtime.container(a.container).exec_output(command.split(), timeout=5)
        elif a is not None:
            files = {name: "edited in a test\n" for name in a.params.get("editable") or []} or None
            ack = sock.emit("lesson.action", {"lesson": lesson_id, "step": step.id, "files": files}, callback=True)
            assert ack.get("ok"), (step.id, ack)
            if ack.get("step_through"):
                for i in range(6):
                    wait(sock, "step.state", lambda s: s["status"] == "paused" and s["current"] == i)
                    assert sock.emit("step.control", {"room": ack["step_through"], "action": "next"},
                                     callback=True)["ok"]
            elif ack.get("action"):
                done = wait(sock, "lesson.done", lambda d: d["action"] == ack["action"], timeout=60)
                assert done["ok"], (step.id, done)
        for c in step.checks:
            if c.kind == "quiz_answered":
                q = lesson.quiz(c.params["quiz"])
                client.post(f"/api/lessons/{lesson_id}/quiz", json={"quiz": q.id, "answer": q.correct})
        deadline = time.monotonic() + 20
        while True:
            r = client.post(f"/api/lessons/{lesson_id}/check", json={"step": step.id}).get_json()
            if r["passed"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert r["passed"], (step.id, [c["seen"]["en"] for c in r["checks"] if not c["passed"]])
        for q in step.quizzes:
            if q.answer is not None and q.answer[0] != "vm_kernel":
                from web.lessons import answers
                ctx = app.lessons.context(client.get_cookie("onggi_learner").value, lesson_id)
                got = client.post(f"/api/lessons/{lesson_id}/quiz",
                                  json={"quiz": q.id, "answer": answers.answer(ctx, *q.answer)}).get_json()
                assert got["correct"], (q.id, got)


def test_every_lesson_plays_simulated(sim_app):
    course = sim_app.lessons.course()
    assert [i for i in course.ids if not sim_app.lessons.available(course.get(i))] == []


@pytest.mark.parametrize("lesson_id", ["01-what-is-a-container", "02-containers-vs-vms", "03-history",
                                       "04-docker-components", "05-build", "06-ship", "07-namespaces",
                                       "08-cgroups", "09-networking", "10-storage"])
def test_a_lesson_plays_whole_on_the_simulated_runtime(sim_app, me, lesson_id):
    client, sock = me
    doc = client.get(f"/api/lessons/{lesson_id}?lang=ko").get_json()
    assert doc["simulated"] is True and doc["available"] is True
    walk(sim_app, client, sock, lesson_id)
    out = client.post(f"/api/lessons/{lesson_id}/reset").get_json()
    assert out["failed"] == []
    assert not [c for c in sim_app.runtime.ps(all=True) if c.name.startswith(doc["prefix"])]


def test_the_vm_comparison_is_modeled_and_labelled_in_simulated_mode(sim_app, me):
    client, sock = me
    sock.emit("lesson.join", {"lesson": "02-containers-vs-vms"}, callback=True)
    ack = sock.emit("lesson.action", {"lesson": "02-containers-vs-vms", "step": "boot"}, callback=True)
    done = wait(sock, "lesson.done", lambda d: d["action"] == ack["action"])
    assert done["result"]["data"]["vm"]["mode"] == "modeled" and done["result"]["data"]["simulated"]
    r = client.post("/api/lessons/02-containers-vs-vms/quiz", json={"quiz": "kernels-1", "answer": "x"}).get_json()
    assert r["skipped"] and "only modeled" in r["why"]
