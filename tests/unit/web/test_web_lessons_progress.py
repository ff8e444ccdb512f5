"""Lesson progress in SQLite: resume, reset, export and import, per learner."""
import json
import time

import pytest

from runtime.errors import InvalidArgument
from web.lessons.progress import Progress, read_result

A, B = "a" * 32, "b" * 32


@pytest.fixture
def progress(tmp_path):
    return Progress(tmp_path / "root" / "lessons.sqlite")


def test_a_new_learner_starts_now_and_resumes_where_they_were(progress, tmp_path):
    before = time.time()
    s = progress.start(A, "07-namespaces")
    assert s.step is None and before <= s.started <= time.time()
    progress.goto(A, "07-namespaces", "pid")
    progress.pass_step(A, "07-namespaces", "launch")
    # Another process (a restarted server) reads the same file.
    again = Progress(tmp_path / "root" / "lessons.sqlite").start(A, "07-namespaces")
    assert again.step == "pid" and set(again.passed) == {"launch"} and again.started == s.started
    assert progress.state(B, "07-namespaces").step is None          # learners are apart


def test_passing_twice_counts_once(progress):
    assert progress.pass_step(A, "01", "first") is True
    assert progress.pass_step(A, "01", "first") is False
    assert progress.summary(A) == {"01": {"step": None, "started": 0.0, "passed": 1}}


def test_a_quiz_once_right_stays_answered(progress):
    assert progress.answer(A, "01", "q", "7", False) is False
    assert progress.answer(A, "01", "q", "42", True) is True
    assert progress.answer(A, "01", "q", "8", False) is True
    q = progress.state(A, "01").quizzes["q"]
    assert q["answer"] == "8" and q["correct"] is True


def test_results_and_files_are_kept_per_learner_and_lesson(progress):
    rid = progress.add_result(A, "02", "boot", "vm_boot", {"vm": {"kernel": "6.1.0"}})
    progress.add_result(B, "02", "boot", "vm_boot", {"vm": {"kernel": "other"}})
    assert [r["data"]["vm"]["kernel"] for r in progress.results(A, "02")] == ["6.1.0"]
    assert progress.result(rid)["kind"] == "vm_boot"
    assert read_result(progress.path, rid) == {"kind": "vm_boot", "data": {"vm": {"kernel": "6.1.0"}}}
    assert read_result(progress.path, "nope") is None and read_result(progress.path, 99999) is None
    progress.set_file(A, "05", "hello.txt", "edited")
    assert progress.state(A, "05").files == {"hello.txt": "edited"}
    assert progress.state(B, "05").files == {}


def test_reset_forgets_everything_and_starts_the_clock_again(progress):
    first = progress.start(A, "07").started
    progress.goto(A, "07", "pid")
    progress.pass_step(A, "07", "launch")
    progress.answer(A, "07", "q", "1", True)
    progress.add_result(A, "07", "pid", "exec", {"output": "x"})
    progress.set_file(A, "07", "f", "t")
    progress.pass_step(B, "07", "launch")
    time.sleep(0.01)
    progress.reset(A, "07")
    s = progress.state(A, "07")
    assert (s.step, s.passed, s.quizzes, s.files) == (None, {}, {}, {}) and s.started > first
    assert progress.results(A, "07") == []
    assert set(progress.state(B, "07").passed) == {"launch"}        # someone else's stays


def test_made_images_are_remembered_per_lesson(progress):
    progress.remember("05", "image", "build-hello:v1")
    progress.remember("05", "image", "build-hello:v1")
    progress.remember("06", "image", "x:1")
    assert progress.made("05") == [("image", "build-hello:v1")]
    progress.forget("05", "image", "build-hello:v1")
    assert progress.made("05") == []


def test_export_then_import_gives_the_same_progress_to_another_learner(progress):
    progress.start(A, "07")
    progress.goto(A, "07", "pid")
    progress.pass_step(A, "07", "launch")
    progress.answer(A, "07", "pid-1", "4242", True)
    progress.add_result(A, "07", "pid", "exec", {"output": "PID 1"})
    progress.set_file(A, "07", "hello.txt", "hi")
    doc = json.loads(json.dumps(progress.export(A)))               # through a file
    assert doc["format"] == "onggi-lesson-progress" and doc["version"] == 1
    assert progress.import_(B, doc, known={"07"}) == ["07"]
    a, b = progress.state(A, "07"), progress.state(B, "07")
    assert (b.step, b.passed.keys(), b.quizzes["pid-1"]["correct"], b.files) == \
        (a.step, a.passed.keys(), True, a.files)
    assert [r["data"] for r in progress.results(B, "07")] == [{"output": "PID 1"}]
    # Importing again replaces, it does not add.
    progress.import_(B, doc)
    assert len(progress.results(B, "07")) == 1


@pytest.mark.parametrize("doc,message", [
    ({"lessons": {}}, "not an onggi lesson progress export"),
    ("nope", "not an onggi lesson progress export"),
    ({"format": "onggi-lesson-progress", "version": 9, "lessons": {}}, "version 9"),
    ({"format": "onggi-lesson-progress", "version": 1, "lessons": {"99-x": {}}}, "no lesson named '99-x'"),
    ({"format": "onggi-lesson-progress", "version": 1, "lessons": {"07": {"passed": ["a"]}}}, "'passed' is malformed"),
    ({"format": "onggi-lesson-progress", "version": 1, "lessons": {"07": {"passed": {"a": "soon"}}}}, "malformed"),
    ({"format": "onggi-lesson-progress", "version": 1, "lessons": {"07": {"results": [{"data": 1}]}}}, "malformed"),
])
def test_a_bad_import_is_refused_and_changes_nothing(progress, doc, message):
    progress.pass_step(B, "07", "launch")
    with pytest.raises(InvalidArgument, match=message):
        progress.import_(B, doc, known={"07"})
    assert set(progress.state(B, "07").passed) == {"launch"}
