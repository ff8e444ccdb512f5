"""The page in Chromium: token, live diagrams from the page and from the CLI, a step-through,
the terminal, both languages and the presenter mode. Screenshots go to tests/artifacts/."""
import re

import pytest

from .conftest import TOKEN

pytestmark = [pytest.mark.root, pytest.mark.e2e]


def open_dashboard(page, server, lang="ko"):
    page.goto(server["url"])
    page.evaluate(f"localStorage.setItem('onggi.lang', '{lang}'); localStorage.setItem('onggi.presenter', '0')")
    page.goto(server["base"] + "/#live")
    page.reload()                       # a hash-only navigation keeps the page: load it again
    page.wait_for_selector("#conn.on")
    page.wait_for_selector("#diagram svg")


def open_terminal(page, server, onggi, name):
    """Run a container NAME from the CLI, open the dashboard's terminal into it; its id."""
    cid = onggi("run", "-d", "--name", name, "busybox", "sleep", "300", check=True).stdout.strip()
    open_dashboard(page, server)
    page.goto(server["base"] + "/#term")
    page.wait_for_selector(f"#term-container option[value='{cid}']", state="attached")
    page.select_option("#term-container", cid)
    page.click("#term-form button[type=submit]")
    page.wait_for_selector(".xterm-rows:has-text('/ #')")
    return cid


def test_the_page_refuses_without_the_token(browser, server):
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(server["base"] + "/")
    assert response.status == 401
    assert "토큰이 필요합니다" in page.content()
    assert page.goto(server["base"] + "/api/containers").status == 401
    context.close()


def test_token_link_opens_the_dashboard_and_drops_the_token(page, server, shot):
    open_dashboard(page, server)
    assert TOKEN not in page.url
    cookie = [c for c in page.context.cookies() if c["name"] == "onggi_token"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    assert page.inner_text("#conn") == "연결됨"
    shot(page, "01-dashboard-ko")


def test_run_from_the_page_shows_in_namespaces_and_network(page, server, onggi, shot):
    open_dashboard(page, server)
    page.fill("#run-form input[name=name]", "e2e-page")
    page.fill("#run-form input[name=network]", "bridge")
    page.fill("#run-form input[name=memory]", "48m")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#containers li[data-id] >> text=e2e-page")
    cid = page.get_attribute("#containers li:has-text('e2e-page')", "data-id")
    assert "실행 중" in page.inner_text(f"#containers li[data-id='{cid}']")       # not "running"
    page.wait_for_selector(f"#diagram [id='ns-{cid[:12]}']")
    assert "e2e-page" in onggi("ps").stdout                  # the CLI sees it too
    shot(page, "02-namespaces-from-page")
    page.click(".view-tabs button[data-view=network]")
    page.wait_for_selector(f"#diagram [id='net-c-{cid[:12]}']")
    assert page.locator("#diagram g.edge[id^='net-cable-']").count() >= 1      # the veth cable
    shot(page, "03-network-from-page")
    page.click(".view-tabs button[data-view=cgroups]")
    page.wait_for_selector(f"#diagram [id='cg-{cid[:12]}']")
    assert "48.0 MiB" in page.inner_text("#diagram")
    shot(page, "04-cgroups")
    page.click("#containers li:has-text('e2e-page') button.danger")
    page.wait_for_selector(f"#containers li[data-id='{cid}']", state="detached")
    assert "e2e-page" not in onggi("ps", "-a").stdout


def test_an_oom_kill_of_pid_1_is_said_above_the_cgroups_view(page, server, onggi, shot):
    """PID 1 killed by the OOM killer: its container exits and its cgroup, the node that would
    flash, goes at once. The note above the view says it with what the kernel counted."""
    open_dashboard(page, server, lang="en")
    page.click(".view-tabs button[data-view=cgroups]")
    page.wait_for_selector("#diagram svg")
    cid = onggi("run", "-d", "--name", "e2e-oom", "-m", "8m", "busybox", "sh", "-c",
                "sleep 1; tail /dev/zero", check=True).stdout.strip()
    note = page.wait_for_selector(f".oom-note[data-id='{cid[:12]}']", timeout=20000)
    text = note.inner_text()
    assert text.startswith("OOM kill: e2e-oom") and "8.0 MiB limit" in text, text
    shot(page, "18-oom-note-en")
    assert onggi("inspect", "-f", "{{.State.OOMKilled}}", cid, check=True).stdout.strip() == "true"
    onggi("rm", "-f", cid, check=True)


def test_a_container_from_the_cli_appears_without_reload(page, server, onggi, shot):
    open_dashboard(page, server, lang="en")
    cid = onggi("run", "-d", "--name", "e2e-cli", "--network", "bridge", "busybox", "sleep", "300",
                check=True).stdout.strip()
    page.wait_for_selector(f"#diagram [id='ns-{cid[:12]}']", timeout=5000)
    page.wait_for_selector("#events li:has-text('container.started')")
    page.wait_for_selector("#containers li:has-text('e2e-cli')")
    shot(page, "05-namespaces-from-cli-en")
    page.click(".view-tabs button[data-view=network]")
    page.wait_for_selector(f"#diagram [id='net-c-{cid[:12]}']")
    page.click(".view-tabs button[data-view=layers]")
    page.wait_for_selector(f"#diagram [id='layer-{cid[:12]}-upper']")
    page.click(f"#diagram [id='layer-{cid[:12]}-upper']")          # opens that container's stack
    page.wait_for_selector(f"#diagram [id='layer-{cid[:12]}-merged']")
    page.click("#diagram g.node[id^='layer-']:not([id$='-merged']):not([id$='-upper']):not([id$='-init'])")
    page.wait_for_selector("#layer-files li.change")
    page.click("#layer-files li.change:has-text('/bin/busybox')")
    page.wait_for_selector("#layer-content:has-text('/bin/busybox')")
    shot(page, "06-layers-container")
    # The picker says image or container by group (a classroom PC may lack an emoji font).
    groups = page.eval_on_selector_all("#layers-target optgroup", "gs => gs.map(g => g.label)")
    assert groups == ["Images", "Containers"], groups
    assert not re.search("[\U0001F300-\U0001FAFF]", page.inner_text("#layers-target"))
    # Switching language redraws the view, and the open layer stays open, in the new words.
    page.click("#lang-toggle")
    page.wait_for_function("document.documentElement.lang === 'ko'")
    page.wait_for_selector("#layer-title:has-text('낭비')")
    assert page.is_visible("#layer-files li.change:has-text('/bin/busybox')")
    page.click("#lang-toggle")
    onggi("rm", "-f", cid, check=True)
    page.click(".view-tabs button[data-view=namespaces]")
    page.wait_for_selector(f"#diagram [id='ns-{cid[:12]}']", state="detached")


def test_step_through_a_launch_and_watch_it_from_another_browser(page, browser, server, onggi, shot):
    open_dashboard(page, server)
    page.goto(server["base"] + "/#step")
    page.fill("#step-form input[name=cmd]", "sleep 300")
    page.fill("#step-form input[name=network]", "bridge")
    page.fill("#step-form input[name=room]", "e2e")
    page.click("#step-form button[type=submit]")
    # A second browser watches the same room.
    watcher_ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    watcher = watcher_ctx.new_page()
    watcher.goto(server["url"])
    watcher.goto(server["base"] + "/#step")
    watcher.wait_for_selector("#conn.on")
    watcher.fill("#step-form input[name=room]", "e2e")
    watcher.click("#step-join")
    names = ["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"]
    for i, name in enumerate(names):
        page.wait_for_selector(f"#step-title:has-text('{i + 1}/6 {name}')")
        page.wait_for_selector("#step-next:not([disabled])")
        assert page.inner_text("#step-syscall")
        if i == 2:
            assert "새 네임스페이스" in page.inner_text("#step-text")
            shot(page, "07-step-before-namespaces")
        page.click("#step-next")
        page.wait_for_selector(f".step-list li.done:has-text('{name}')")
        if name == "namespaces":
            box = "[data-snap=namespaces]"
            page.wait_for_selector(f"{box} g.changed")        # what the step changed, highlighted
            shot(page, "08-step-after-namespaces")
            watcher.wait_for_selector(".step-list li.done:has-text('namespaces')")
            assert watcher.is_disabled("#step-next")
            shot(watcher, "09-step-watcher")
    page.wait_for_selector("#step-status.started")
    page.click("#step-back")
    page.wait_for_selector("#step-note:visible")
    assert "되돌릴 수 없습니다" in page.inner_text("#step-note")
    shot(page, "10-step-back")
    watcher.wait_for_selector("#step-note:visible")
    watcher_ctx.close()
    cid = [line.split()[0] for line in onggi("ps").stdout.splitlines()[1:]]
    assert cid, "the stepped container runs"
    onggi("rm", "-f", *cid, check=True)


def test_terminal_runs_hostname(page, server, onggi, shot):
    cid = open_terminal(page, server, onggi, "e2e-term")
    page.wait_for_timeout(300)
    page.keyboard.type("hostname\n")
    page.wait_for_function(f"document.querySelector('.xterm-rows').textContent.split('{cid[:12]}').length > 1")
    shot(page, "11-terminal-hostname")
    page.click("#term-close")
    onggi("rm", "-f", cid, check=True)


def test_language_switch_and_presenter_mode(page, server, shot):
    open_dashboard(page, server)
    assert page.inner_text("nav a[data-tab=live]") == "실시간 보기"
    page.click("#lang-toggle")
    assert page.inner_text("nav a[data-tab=live]") == "Live"
    page.wait_for_function("document.querySelector('#diagram svg') && "
                           "document.querySelector('#diagram').textContent.includes('host')")
    page.click("#presenter-toggle")
    assert "presenter" in page.get_attribute("body", "class")
    size = page.evaluate("getComputedStyle(document.documentElement).fontSize")
    assert float(re.sub("px", "", page.evaluate("getComputedStyle(document.body).fontSize"))) >= 20, size
    shot(page, "12-presenter-en")
    page.click("#presenter-toggle")
    page.click("#lang-toggle")


def test_lessons_list(page, server):
    page.goto(server["url"])
    page.goto(server["base"] + "/lessons")
    assert "강의" in page.inner_text("h2")
    assert page.query_selector("#conn") is None        # no connection here: no "disconnected" alarm
    page.wait_for_selector("a[href^='/lessons/']")     # the list comes from the API after load
    links = page.eval_on_selector_all("a[href^='/lessons/']", "els => els.map(e => e.getAttribute('href'))")
    assert len({href.split("?")[0] for href in links}) >= 10      # every lesson, numbered


def test_an_error_is_said_in_the_pages_language(page, server):
    open_dashboard(page, server)
    page.fill("#run-form input[name=image]", "no-such-image-e2e")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-error:not(:empty)")
    text = page.inner_text("#run-error")
    assert text.startswith("찾을 수 없습니다: ") and "no such image" in text, text     # the kind in Korean, then the detail
    page.click("#lang-toggle")
    page.click("#run-form button[type=submit]")
    page.wait_for_function("document.querySelector('#run-error').textContent.startsWith('no such image')")
    page.click("#lang-toggle")
    # The two 404s were the test's own doing.
    page.errors[:] = [e for e in page.errors if "status of 404" not in e]


def test_a_late_answer_does_not_overwrite_a_newer_container_list(page, server, onggi):
    """Tick "all" while an earlier refresh is still on its way: its answer (running ones only)
    came back last and replaced the list, so the stopped container vanished though "all" was ticked."""
    done = onggi("run", "-d", "--name", "e2e-exited", "busybox", "true", check=True).stdout.strip()
    onggi("wait", done, check=True)
    open_dashboard(page, server)
    held = []
    page.route(re.compile(r".*/api/containers\?all=0$"), lambda route: held.append(route))
    cid = onggi("run", "-d", "--name", "e2e-late", "busybox", "sleep", "300", check=True).stdout.strip()
    for _ in range(100):                      # its events make the page refresh (all=0): held
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the page did not refresh on the CLI's events"
    page.check("#show-all")
    page.wait_for_selector("#containers li:has-text('e2e-exited')")
    for route in held:
        route.continue_()                     # the earlier answer arrives last
    page.unroute(re.compile(r".*/api/containers\?all=0$"))
    page.wait_for_timeout(600)
    assert page.is_visible("#containers li:has-text('e2e-exited')")
    onggi("rm", "-f", cid, done, check=True)


def test_a_double_click_on_stop_sends_one_request(page, server, onggi):
    cid = onggi("run", "-d", "--name", "e2e-dbl", "busybox", "sleep", "300", check=True).stdout.strip()
    open_dashboard(page, server, lang="en")
    stops = []
    page.on("request", lambda r: stops.append(r.url) if r.method == "POST" and "/stop" in r.url else None)
    button = page.locator(f"#containers li[data-id='{cid}'] .actions button", has_text="stop")
    button.dblclick()
    page.wait_for_selector(f"#containers li[data-id='{cid}']", state="detached", timeout=15000)   # stopped
    assert len(stops) == 1, stops
    onggi("rm", "-f", cid, check=True)


def test_korean_text_breaks_between_words(page, server):
    open_dashboard(page, server)
    assert page.evaluate("getComputedStyle(document.getElementById('view-help')).wordBreak") == "keep-all"
    page.click("#lang-toggle")
    assert page.evaluate("getComputedStyle(document.getElementById('view-help')).wordBreak") != "keep-all"
    page.click("#lang-toggle")


def test_presenter_mode_on_a_small_projector_gives_the_views_the_width(page, server, shot):
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, server)
    page.click("#presenter-toggle")
    page.wait_for_function("document.body.classList.contains('presenter')")
    width = page.evaluate("document.getElementById('diagram').getBoundingClientRect().width")
    assert width >= 0.9 * 1024, width          # not beside a sidebar half the screen wide
    shot(page, "13-presenter-1024-ko")
    page.click("#presenter-toggle")


def test_presenter_mode_enlarges_the_terminal_too(page, server, onggi, shot):
    cid = open_terminal(page, server, onggi, "e2e-big")
    assert page.inner_text("#term-status") == f"e2e-big ({cid[:12]})"
    size = "parseFloat(getComputedStyle(document.querySelector('.xterm-rows')).fontSize)"
    before = page.evaluate(size)
    page.click("#presenter-toggle")
    page.wait_for_function(f"{size} > {before}")
    shot(page, "14-terminal-presenter")
    page.click("#presenter-toggle")
    page.wait_for_function(f"{size} === {before}")
    page.click("#term-close")
    onggi("rm", "-f", cid, check=True)


def test_a_container_that_ends_at_once_says_how_it_ended_and_what_it_printed(page, server, onggi, shot):
    """`echo hi` from the page left the running-only list at once: to the learner nothing happened."""
    open_dashboard(page, server)
    page.fill("#run-form input[name=name]", "e2e-echo")
    page.fill("#run-form input[name=cmd]", "echo hi")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-notice:visible")
    notice = page.inner_text("#run-notice")
    assert "e2e-echo" in notice and "종료 코드 0" in notice, notice           # in the page's language
    assert page.inner_text("#run-notice .output").strip() == "hi"              # what it printed
    # Gone from the running-only list (a refresh from its start may show it for a moment).
    page.wait_for_selector("#containers li:has-text('e2e-echo')", state="detached")
    shot(page, "15-run-ended-at-once")
    page.click("#run-notice button.show-all")                                  # where it still is
    page.wait_for_selector("#containers li:has-text('e2e-echo')")
    assert page.is_checked("#show-all") and page.is_visible("#run-notice")
    page.uncheck("#show-all")
    # The next run's notice replaces it; one that fails says so with its error output.
    page.fill("#run-form input[name=name]", "e2e-fail")
    page.fill("#run-form input[name=cmd]", "ls /nope")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-notice:has-text('e2e-fail')")
    assert "e2e-echo" not in page.inner_text("#run-notice")
    assert "종료 코드 1" in page.inner_text("#run-notice") and "/nope" in page.inner_text("#run-notice .output")
    page.click("#run-notice button.close")
    assert not page.is_visible("#run-notice")
    onggi("rm", "-f", "e2e-echo", "e2e-fail", check=True)


def test_an_old_error_goes_when_the_browser_blocks_the_next_submit(page, server):
    """The browser's own validation stops the submit before the page's handler runs: the last
    error stayed, as if it were about the submit the learner just tried."""
    open_dashboard(page, server)
    page.fill("#run-form input[name=image]", "no-such-image-e2e")
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-error:not(:empty)")
    page.fill("#run-form input[name=name]", "-not a name")         # the name's pattern refuses it
    page.click("#run-form button[type=submit]")
    page.wait_for_timeout(300)
    assert page.inner_text("#run-error") == "" and not page.is_visible("#run-error")
    page.fill("#run-form input[name=name]", "")
    page.goto(server["base"] + "/#step")
    page.fill("#step-form input[name=image]", "no-such-image-e2e")
    page.fill("#step-form input[name=room]", "e2e-invalid")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("#step-error:not(:empty)")
    page.fill("#step-form input[name=image]", "")                   # required
    page.click("#step-form button[type=submit]")
    page.wait_for_timeout(300)
    assert page.inner_text("#step-error") == ""
    page.errors[:] = [e for e in page.errors if "status of 404" not in e]      # the test's own 404


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_presenter_header_stays_on_one_line_on_a_small_projector(page, server, lang, shot):
    # At 1024 pixels the presenter-sized header wrapped onto a second line.
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, server, lang=lang)
    page.click("#presenter-toggle")
    page.wait_for_function("document.body.classList.contains('presenter')")
    tops = page.eval_on_selector_all("header.top > *", "els => els.map(e => e.getBoundingClientRect().top)")
    assert max(tops) - min(tops) < 8, tops
    assert page.evaluate("document.querySelector('header.top').getBoundingClientRect().height") < 80
    shot(page, f"16-presenter-header-1024-{lang}", clip={"x": 0, "y": 0, "width": 1024, "height": 120})
    page.click("#presenter-toggle")



def test_presenter_mode_fits_a_view_to_the_screen_but_never_shrinks_it(page, server, shot):
    """Scaled to the width alone, the namespaces view on a 1366x768 projector was the host's
    table five times over, taller than the screen: what came below it was out of sight."""
    page.set_viewport_size({"width": 1366, "height": 768})
    open_dashboard(page, server, lang="en")
    page.click("#presenter-toggle")
    page.wait_for_function("document.body.classList.contains('presenter')")
    svg = page.evaluate("""(() => { const s = document.querySelector('#diagram svg'), r = s.getBoundingClientRect();
        return {bottom: r.bottom, height: r.height, natural: s.height.baseVal.value, screen: innerHeight}; })()""")
    assert svg["natural"] < svg["screen"] - 250, svg                # the host alone: it fits
    assert svg["bottom"] <= svg["screen"], svg                      # so all of it is on the screen,
    assert svg["height"] > svg["natural"], svg                      # larger than on a laptop
    shot(page, "17-presenter-1366-fits")
    page.click("#presenter-toggle")
    page.wait_for_function("!document.body.classList.contains('presenter')")
    page.reload()
    page.wait_for_selector("#diagram svg")
    tall = page.evaluate("document.querySelector('#diagram svg').style.getPropertyValue('--natural-h')")
    assert tall.endswith("pt"), tall                                # a tall view keeps its drawn size


def test_a_lesson_in_presenter_mode_fits_a_small_projector(page, server):
    # Two columns of at least 24rem (presenter type) needed 1060 pixels: the page scrolled
    # sideways and the diagram and the terminal were cut at the right edge.
    page.set_viewport_size({"width": 1024, "height": 768})
    open_dashboard(page, server, lang="en")
    page.click("#presenter-toggle")
    page.goto(server["base"] + "/lessons")
    href = page.get_attribute("a[href^='/lessons/']", "href")
    page.goto(server["base"] + href)
    page.wait_for_selector(".lesson-side .diagram-card")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    right = page.evaluate("document.querySelector('.lesson-side').getBoundingClientRect().right")
    assert right <= 1024, right
    page.evaluate("localStorage.setItem('onggi.presenter', '0')")


def test_the_event_feed_says_a_steps_phase_in_the_pages_language(page, server, onggi):
    # "container.step … exec 6/6 after" on a Korean page: the phase came through untranslated.
    open_dashboard(page, server)
    cid = onggi("run", "-d", "--name", "e2e-phase", "busybox", "sleep", "300", check=True).stdout.strip()
    page.wait_for_selector("#events li.container-step:has-text('6/6 실행 후')")
    assert not page.locator("#events li.container-step", has_text=re.compile(r" (after|before)$")).count()
    # Switching language says the feed again in the new one.
    page.click("#lang-toggle")
    page.wait_for_selector("#events li.container-step:has-text('6/6 after')")
    assert not page.locator("#events li.container-step", has_text="실행 후").count()
    onggi("rm", "-f", cid, check=True)


def test_presenter_mode_checkbox_grows_with_the_text(page, server):
    # The "all" checkbox kept its 13 pixels beside 21-pixel presenter text.
    open_dashboard(page, server)
    page.click("#presenter-toggle")
    page.wait_for_function("document.body.classList.contains('presenter')")
    box = page.evaluate("document.getElementById('show-all').getBoundingClientRect().width")
    assert box >= 18, box
    page.click("#presenter-toggle")
