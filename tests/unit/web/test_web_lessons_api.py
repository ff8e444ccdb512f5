"""The lessons' pages, JSON API and Socket.IO events, without root (no container is started)."""
import json

import pytest

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN

H = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def learner(client):
    """The Flask client after its first lesson page: it has its learner cookie."""
    r = client.get("/lessons", headers=H)
    assert r.status_code == 200
    return client


def test_the_first_visit_gives_a_learner_cookie_that_scripts_cannot_read(client):
    r = client.get("/lessons", headers=H)
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("onggi_learner=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "Set-Cookie" not in client.get("/api/lessons", headers=H).headers       # kept, not renewed


def test_pages_need_the_token(client):
    assert client.get("/lessons").status_code == 401
    assert client.get("/api/lessons").status_code == 401


def test_the_list_has_every_lesson_in_both_languages(learner):
    data = learner.get("/api/lessons", headers=H).get_json()
    assert data["simulated"] is False
    first = data["lessons"][0]
    assert first["id"] == "01-what-is-a-container" and first["number"] == 1
    assert first["title"]["ko"] != first["title"]["en"] and first["steps"] >= 5
    assert first["progress"] == {"step": None, "passed": 0, "started": 0}
    page = learner.get("/lessons", headers=H).get_data(as_text=True)
    assert 'id="lesson-list"' in page and "js/lessons.js" in page


def test_a_lesson_page_and_its_document(learner):
    page = learner.get("/lessons/07-namespaces", headers=H).get_data(as_text=True)
    assert 'data-lesson="07-namespaces"' in page and 'id="diagram"' in page and 'id="terminal"' in page
    en = learner.get("/api/lessons/07-namespaces?lang=en", headers=H).get_json()
    ko = learner.get("/api/lessons/07-namespaces?lang=ko", headers=H).get_json()
    assert [s["id"] for s in en["steps"]] == [s["id"] for s in ko["steps"]]
    assert en["steps"][0]["action"]["step_through"] is True and en["steps"][0]["action"]["label"] != \
        ko["steps"][0]["action"]["label"]
    pid = next(s for s in en["steps"] if s["id"] == "pid")
    assert pid["query"] == {"container": "ns-demo"} and pid["view"] == "namespaces"
    assert pid["quizzes"][0] == {"id": "pid-1", "question": pid["quizzes"][0]["question"], "choices": [],
                                 "live": True, "answered": False, "given": None}
    assert en["progress"]["step"] == "intro" and en["available"] and not en["simulated"]
    mnt = next(s for s in en["steps"] if s["id"] == "mnt")
    assert "correct" not in json.dumps(mnt["quizzes"])                 # no answers in the page


def test_unknown_lessons_and_languages(learner):
    assert learner.get("/lessons/99-nope", headers=H).status_code == 404
    r = learner.get("/api/lessons/99-nope", headers=H)
    assert r.status_code == 404 and r.get_json()["error"] == "no such lesson: 99-nope"
    r = learner.get("/api/lessons/07-namespaces?lang=fr", headers=H)
    assert r.status_code == 400 and "use ko or en" in r.get_json()["error"]
    r = learner.post("/api/lessons/07-namespaces/goto", json={"step": "nope"}, headers=H)
    assert r.status_code == 404 and "no step 'nope'" in r.get_json()["error"]


def test_resume_goes_back_to_the_step_the_learner_was_on(learner):
    assert learner.post("/api/lessons/07-namespaces/goto", json={"step": "uts"}, headers=H).status_code == 200
    doc = learner.get("/api/lessons/07-namespaces?lang=ko", headers=H).get_json()
    assert doc["progress"]["step"] == "uts"
    listed = {l["id"]: l for l in learner.get("/api/lessons", headers=H).get_json()["lessons"]}
    assert listed["07-namespaces"]["progress"]["step"] == "uts"


def test_checks_say_what_they_saw_and_what_is_missing(learner):
    r = learner.post("/api/lessons/07-namespaces/check", json={"step": "launch"}, headers=H).get_json()
    assert r["passed"] is False and r["now"] is False
    (c,) = r["checks"]
    assert c["kind"] == "container_running" and c["passed"] is False
    assert c["seen"]["en"] == "there is no container named ns-demo"
    assert c["missing"] == {"ko": "ns-demo 컨테이너를 실행하세요", "en": "run a container named ns-demo"}
    r = learner.post("/api/lessons/07-namespaces/check", json={}, headers=H)
    assert r.status_code == 400


def test_a_choice_quiz_is_checked_and_explained_in_both_languages(learner):
    wrong = learner.post("/api/lessons/07-namespaces/quiz", json={"quiz": "mnt-1", "answer": 0}, headers=H).get_json()
    assert wrong["correct"] is False and wrong["expected"] == 1 and wrong["answered"] is False
    assert wrong["explain"]["ko"] and wrong["explain"]["en"] and wrong["explain"]["ko"] != wrong["explain"]["en"]
    right = learner.post("/api/lessons/07-namespaces/quiz", json={"quiz": "mnt-1", "answer": "1"}, headers=H).get_json()
    assert right["correct"] is True and right["answered"] is True
    doc = learner.get("/api/lessons/07-namespaces?lang=en", headers=H).get_json()
    assert next(s for s in doc["steps"] if s["id"] == "mnt")["quizzes"][0]["answered"] is True
    for bad in ({"quiz": "mnt-1", "answer": ""}, {"quiz": "mnt-1", "answer": "one"}, {"answer": 1}):
        assert learner.post("/api/lessons/07-namespaces/quiz", json=bad, headers=H).status_code == 400
    assert learner.post("/api/lessons/07-namespaces/quiz", json={"quiz": "x", "answer": 1}, headers=H).status_code == 404


def test_a_live_quiz_says_what_to_do_first_when_there_is_nothing_to_read(learner):
    r = learner.post("/api/lessons/07-namespaces/quiz", json={"quiz": "pid-1", "answer": "4242"}, headers=H)
    assert r.status_code == 404 and r.get_json() == {"error": "no container named ns-demo yet",
                                                     "hint": "do the step's action first"}


def test_quiz_answered_checks_read_the_learners_answers(learner):
    r = learner.post("/api/lessons/02-containers-vs-vms/check", json={"step": "tradeoffs"}, headers=H).get_json()
    assert not r["passed"]
    learner.post("/api/lessons/02-containers-vs-vms/quiz", json={"quiz": "vm-choice", "answer": 1}, headers=H)
    r = learner.post("/api/lessons/02-containers-vs-vms/check", json={"step": "tradeoffs"}, headers=H).get_json()
    assert r["passed"] and r["newly"]
    again = learner.post("/api/lessons/02-containers-vs-vms/check", json={"step": "tradeoffs"}, headers=H).get_json()
    assert again["passed"] and not again["newly"]


def test_editable_files_are_kept_per_learner_and_limited_to_the_lessons(learner, client):
    assert learner.put("/api/lessons/05-build/files", json={"hello.txt": "edited\n"}, headers=H).status_code == 200
    doc = learner.get("/api/lessons/05-build?lang=en", headers=H).get_json()
    edit = next(s for s in doc["steps"] if s["id"] == "edit")
    assert edit["action"]["files"] == {"hello.txt": "edited\n"}
    build = next(s for s in doc["steps"] if s["id"] == "build")
    assert build["action"].get("files") is None
    r = learner.put("/api/lessons/05-build/files", json={"Dockerfile": "FROM scratch"}, headers=H)
    assert r.status_code == 400 and "edits only hello.txt" in r.get_json()["error"]


def test_export_and_import_through_the_api(learner, app):
    learner.post("/api/lessons/07-namespaces/quiz", json={"quiz": "mnt-1", "answer": 1}, headers=H)
    r = learner.get("/api/lessons/progress/export", headers=H)
    assert "attachment" in r.headers["Content-Disposition"]
    doc = r.get_json()
    other = app.test_client()
    other.get("/lessons", headers=H)
    assert other.post("/api/lessons/progress/import", json=doc, headers=H).get_json() == {"imported": ["07-namespaces"]}
    got = other.get("/api/lessons/07-namespaces?lang=en", headers=H).get_json()
    assert next(s for s in got["steps"] if s["id"] == "mnt")["quizzes"][0]["answered"]
    bad = other.post("/api/lessons/progress/import", json={"hello": 1}, headers=H)
    assert bad.status_code == 400 and "not an onggi lesson progress export" in bad.get_json()["error"]


def test_a_malformed_lesson_is_shown_with_its_file_and_line(app, tmp_path, client):
    root = tmp_path / "lessons"
    (root / "01-x").mkdir(parents=True)
    (root / "01-x" / "lesson.ko.md").write_text("---\ntitle: x\n---\n## A {#a}\n```step\ncheck:\n  - nope: {}\n```\n")
    (root / "01-x" / "lesson.en.md").write_text("---\ntitle: x\n---\n## A {#a}\n")
    (root / "02-y").mkdir()
    for lang in ("ko", "en"):
        (root / "02-y" / f"lesson.{lang}.md").write_text("---\ntitle: y\n---\n## A {#a}\n")
    app.lessons.root = root
    page = client.get("/lessons", headers=H).get_data(as_text=True)
    assert page.count("lessons/01-x/lesson.ko.md:7: step &#39;a&#39;: unknown check &#39;nope&#39;") == 1
    # The broken lesson is left out, with its error; the others are still listed.
    r = client.get("/api/lessons", headers=H)
    assert r.status_code == 200 and [x["id"] for x in r.get_json()["lessons"]] == ["02-y"]
    assert r.get_json()["errors"] == ["lessons/01-x/lesson.ko.md:7: step 'a': unknown check 'nope'"]
    r = client.get("/api/lessons/01-x", headers=H)
    assert r.status_code == 400 and r.get_json()["error"].startswith("lessons/01-x/lesson.ko.md:7:")


# -- Socket.IO ------------------------------------------------------------------------------------

def test_socket_events_need_the_learners_cookie(app, sio, learner):
    anonymous = sio(app, auth={"token": TOKEN})
    ack = anonymous.emit("lesson.join", {"lesson": "07-namespaces"}, callback=True)
    assert ack == {"error": "this browser has no learner id yet", "hint": "open the lesson's page first"}
    me = sio(app, auth={"token": TOKEN}, flask_client=learner)
    ack = me.emit("lesson.join", {"lesson": "07-namespaces"}, callback=True)
    assert ack["ok"] and ack["room"].startswith("learner:")
    ack = me.emit("lesson.check", {"lesson": "07-namespaces", "step": "launch"}, callback=True)
    assert ack["ok"] and ack["checks"][0]["kind"] == "container_running"


def test_a_step_without_a_button_cannot_be_pressed(app, sio, learner):
    me = sio(app, auth={"token": TOKEN}, flask_client=learner)
    ack = me.emit("lesson.action", {"lesson": "02-containers-vs-vms", "step": "tradeoffs"}, callback=True)
    assert ack["error"] == "step 'tradeoffs' has no button to press"
    ack = me.emit("lesson.action", {"lesson": "09-networking", "step": "isolation"}, callback=True)
    assert "no button" in ack["error"] and ack["hint"] == "type the step's command in the terminal"


def test_a_live_value_that_cannot_be_read_yet_stops_the_action(app, sio, learner, monkeypatch):
    me = sio(app, auth={"token": TOKEN}, flask_client=learner)
    lesson = app.lessons.lesson("09-networking")
    step = lesson.step("isolation")
    from dataclasses import replace
    from web.lessons.model import Action
    fake = replace(step, action=Action(kind="exec", params={"name": "net-a", "cmd": ["ping", "{{ip_address:net-web}}"]},
                                       label="x"))
    monkeypatch.setattr(type(lesson), "step", lambda self, sid: fake)
    ack = me.emit("lesson.action", {"lesson": "09-networking", "step": "isolation"}, callback=True)
    assert ack["error"].startswith("cannot do this yet: ip_address:net-web: no container named net-web yet")


def test_simulated_mode_marks_every_lesson_and_refuses_real_only_actions(app, sio, learner, tmp_path):
    # Every lesson of the course plays simulated; an instructor's may say `mode: real`.
    import shutil
    shutil.copytree(app.lessons.root, tmp_path / "lessons")
    for f in (tmp_path / "lessons" / "08-cgroups").glob("lesson.*.md"):
        f.write_text(f.read_text().replace("mode: any", "mode: real", 1))
    app.lessons.root = tmp_path / "lessons"
    app.runtime.simulated = True
    try:
        data = learner.get("/api/lessons", headers=H).get_json()
        assert data["simulated"] is True
        by_id = {l["id"]: l for l in data["lessons"]}
        assert by_id["08-cgroups"]["available"] is False and by_id["07-namespaces"]["available"] is True
        page = learner.get("/lessons/07-namespaces", headers=H).get_data(as_text=True)
        assert "모의 실행" in page
        me = sio(app, auth={"token": TOKEN}, flask_client=learner)
        ack = me.emit("lesson.action", {"lesson": "08-cgroups", "step": "limit"}, callback=True)
        assert ack["error"] == "this lesson needs real containers, and this onggi runs simulated"
    finally:
        del app.runtime.simulated
