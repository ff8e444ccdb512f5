"""Whole lessons in Chromium: lesson 1 in Korean and lesson 7 in English, every step done the way a
learner does it (buttons clicked, commands typed in the browser terminal, a launch stepped
through, quizzes answered from what the page and the CLI show), every check turning green by
itself. Screenshots go to tests/artifacts/ (lesson-*.png)."""
import json
import os
import re
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.root, pytest.mark.e2e]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def course():
    from web.lessons.loader import load_course
    return load_course(REPO / "lessons")


def open_lesson(page, server, lesson, lang):
    page.goto(server["url"])
    page.evaluate(f"localStorage.setItem('onggi.lang', '{lang}'); localStorage.setItem('onggi.presenter', '0')")
    page.goto(server["base"] + "/lessons")
    page.wait_for_selector(f".lesson-card[data-id='{lesson}']")
    page.click(f".lesson-card[data-id='{lesson}'] a.go")
    page.wait_for_selector("#conn.on")
    # Start over (two clicks: the second confirms), so an earlier run leaves nothing behind.
    page.click("#lesson-reset")
    page.click("#lesson-reset")
    page.wait_for_selector("#step[data-step='intro']")


def next_step(page, step_id):
    page.click("#step-next-page")
    page.wait_for_selector(f"#step[data-step='{step_id}']")


def green(page, timeout=30000):
    page.wait_for_selector("#checks .check.all-done", timeout=timeout)
    assert page.locator("#checks .check.failed").count() == 0


def type_in_terminal(page, container, line):
    """Open a terminal into CONTAINER from the page (unless one is open) and type LINE."""
    if container not in page.inner_text("#term-status"):
        page.select_option("#term-container", container)
        page.click("#term-form button[type=submit]")
        page.wait_for_function(
            "document.querySelector('#terminal .xterm-rows') && "
            "document.querySelector('#terminal .xterm-rows').innerText.includes('#')", timeout=10000)
        time.sleep(0.4)                  # busybox's line editor asks for the cursor first
    page.click("#terminal")
    page.keyboard.type(line, delay=15)
    page.keyboard.press("Enter")


def live(onggi, kind, params):
    """The right answer to a live question, as a learner could find it with the CLI."""
    fmt = {"host_pid": "{{.State.Pid}}", "hostname": "{{.Config.Hostname}}", "exit_code": "{{.State.ExitCode}}",
           "ip_address": "{{.NetworkSettings.IPAddress}}"}
    if kind in fmt:
        return onggi("inspect", "-f", fmt[kind], params["name"], check=True).stdout.strip()
    if kind == "ns_inode":
        doc = json.loads(onggi("inspect", "-f", "{{json .Namespaces}}", params["name"], check=True).stdout)
        return str(doc[params["kind"]]["Inode"])
    if kind == "host_kernel":
        return os.uname().release
    raise AssertionError(f"no CLI answer for {kind}")


def answer_quizzes(page, onggi, step):
    for q in step.quizzes:
        form = page.locator(f"form.quiz[data-quiz='{q.id}']")
        if q.answer is not None:
            form.locator("input[name=answer]").fill(live(onggi, *q.answer))
        else:
            form.locator("input[name=answer]").nth(q.correct).check()
        form.locator("button[type=submit]").click()
        form.locator(".verdict .right").wait_for()
        assert form.locator(".verdict .explain").count() == 1


def walk(page, onggi, shot, lesson, *, typed=None, name=""):
    """Every step of LESSON: press its button (or type what TYPED says for it), step a launch
    through, answer its quizzes, wait for its checks to turn green."""
    typed = typed or {}
    for n, step in enumerate(lesson.steps, start=1):
        next_step(page, step.id)
        a = step.action
        if step.id in typed:
            container, line = typed[step.id]
            type_in_terminal(page, container, line)
        elif a is not None and a.kind == "type":
            page.wait_for_selector("#step-action code.command:not(.pending)")
            command = page.inner_text("#step-action code.command")
            assert "{{" not in command
            type_in_terminal(page, a.container, command)
        elif a is not None:
            page.click("#action-button")
            if step.step_through:
                page.wait_for_selector("#stepper:not([hidden])")
                for i in range(6):
                    page.wait_for_selector(f"#stepper-list li:nth-child({i + 1}).current")
                    page.wait_for_selector("#stepper-next:not([disabled])")
                    if i == 3:
                        shot(page, f"{name}-{n:02d}-{step.id}-paused")
                    page.click("#stepper-next")
                page.wait_for_selector("#stepper-status.started")
        if step.checks:
            green(page)
        answer_quizzes(page, onggi, step)
        shot(page, f"{name}-{n:02d}-{step.id}", full_page=True)


def test_lesson_1_whole_in_korean(page, server, onggi, shot, course):
    lesson = course.get("01-what-is-a-container", "ko")
    open_lesson(page, server, lesson.id, "ko")
    assert page.inner_text("#step-title") == "들어가며" and "컨테이너" in page.inner_text("#step-body")
    shot(page, "lesson-ko-01-00-intro")
    # The hostname step is done in the browser terminal instead of by its button.
    walk(page, onggi, shot, lesson, typed={"hostname": ("intro-box", "hostname")}, name="lesson-ko-01")
    # The last check said what it saw, in Korean: the box is gone.
    assert "intro-box(이)라는 컨테이너는 이제 없습니다" in page.inner_text("#checks")
    assert "intro-box" not in onggi("ps", "-a").stdout
    page.goto(server["base"] + "/lessons")
    card = page.locator(".lesson-card[data-id='01-what-is-a-container']")
    assert f"{len(lesson.steps)} / {len(lesson.steps)}" in card.inner_text()
    shot(page, "lesson-ko-list")


def test_lesson_7_whole_in_english_with_a_step_through(page, server, onggi, shot, course):
    lesson = course.get("07-namespaces", "en")
    open_lesson(page, server, lesson.id, "en")
    assert page.inner_text("#step-title") == "Introduction"
    walk(page, onggi, shot, lesson, name="lesson-en-07",
         typed={"pid1": ("ns-demo", "kill -TERM 1"), "mnt": ("ns-demo", "cat /proc/mounts")})
    state = json.loads(onggi("inspect", "-f", "{{json .State}}", "ns-demo", check=True).stdout)
    assert state["ExitCode"] == 137
    # Switch language on the last step: the same step, in Korean, still green.
    page.click("#lang-toggle")
    page.wait_for_function("document.querySelector('#step-next-page').textContent.includes('강의 목록')"
                           " && /[가-힣]/.test(document.querySelector('#step-body').innerText)")
    assert re.search(r"[가-힣]", page.inner_text("#step-body"))
    green(page)
    shot(page, "lesson-en-07-switched-to-ko")
    # The terminal kept its width through every step and screenshot (a squeezed window
    # must not reflow it to xterm's 2-column minimum): `cat /proc/mounts` reads whole.
    assert "rw,nosuid,nodev,noexec,relatime" in page.inner_text("#terminal .xterm-rows")
    # Presenter mode on a lesson page.
    page.click("#presenter-toggle")
    page.wait_for_function("document.body.classList.contains('presenter')")
    shot(page, "lesson-presenter")
    page.click("#presenter-toggle")
    # Clean up removes what the lesson made.
    page.click("#lesson-cleanup")
    page.wait_for_function("document.querySelector('#lesson-status').textContent.includes('ns-')")
    assert not [line for line in onggi("ps", "-a").stdout.splitlines() if " ns-" in line]


def test_importing_a_file_that_is_not_json_says_so_in_the_learners_language(page, server):
    page.goto(server["url"])
    page.evaluate("localStorage.setItem('onggi.lang', 'ko')")
    page.goto(server["base"] + "/lessons")
    page.wait_for_selector(".lesson-card")
    page.set_input_files("#import-file", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"{not json"})
    page.wait_for_function("document.querySelector('#import-status').textContent.length > 0")
    # Not the browser's "Expected property name or '}' in JSON at position 1".
    assert page.inner_text("#import-status") == \
        "진도 파일이 아닙니다: '진도 내보내기'로 받은 JSON 파일을 고르세요 (notes.txt)"


def test_the_terminal_list_keeps_the_learners_choice_across_refreshes(page, server, onggi):
    """The list of containers for the terminal is refilled on every container event; it used to
    jump back to the open terminal's container, and the next command went to the wrong one."""
    names = ("e2e-pick-a", "e2e-pick-b")
    for name in names:
        onggi("run", "-d", "--network", "none", "--name", name, "busybox", "sleep", "300", check=True)
    try:
        open_lesson(page, server, "10-storage", "en")
        page.wait_for_selector("#term-container option[value='e2e-pick-b']", state="attached")
        page.select_option("#term-container", "e2e-pick-a")
        page.click("#term-form button[type=submit]")
        page.wait_for_function("document.querySelector('#term-status').innerText.includes('e2e-pick-a')")
        page.select_option("#term-container", "e2e-pick-b")          # chosen, not opened yet
        onggi("run", "-d", "--network", "none", "--name", "e2e-pick-c", "busybox", "sleep", "300", check=True)
        page.wait_for_selector("#term-container option[value='e2e-pick-c']", state="attached")
        page.wait_for_timeout(300)
        assert page.eval_on_selector("#term-container", "s => s.value") == "e2e-pick-b"
    finally:
        onggi("rm", "-f", *names, "e2e-pick-c")


def test_a_command_whose_live_value_is_not_there_yet_says_so(page, server, course):
    """Lesson 9's ping to {{ip_address:net-web}} before net-web exists: the template itself
    showed, and could be typed into the terminal as it was."""
    lesson = course.get("09-networking", "en")
    open_lesson(page, server, lesson.id, "en")
    for step in lesson.steps:
        next_step(page, step.id)
        if step.id == "isolation":
            break
    page.wait_for_selector("#step-action code.command.pending")
    command = page.inner_text("#step-action code.command")
    assert "{{" not in command and "filled in once net-web exists" in command, command
    assert page.is_disabled("#step-action button.type") and page.is_disabled("#step-action button.copy")
