"""Socket.IO over real containers: CLI events reach the browser, diagrams follow the kernel,
step-through launches pause and cancel cleanly, and the terminal runs a real pty."""
import html
import os
import time

import pytest

from .conftest import mark, wait_for

pytestmark = pytest.mark.root


def svg_text(diagram) -> str:
    """A pushed SVG as the browser reads it (dot writes '-' as &#45;)."""
    return html.unescape(diagram["svg"])


def test_a_container_started_in_a_terminal_appears_in_the_browser(web, sio, onggi):
    c = sio()
    wait_for(c, "backlog")
    assert "host" in c.emit("subscribe", {"diagram": "namespaces", "lang": "en"}, callback=True)["svg"]
    cid = onggi("run", "-d", "--name", "from-cli", "busybox", "sleep", "300", check=True).stdout.strip()
    started = wait_for(c, "event", lambda e: e["type"] == "container.started" and e["id"] == cid)
    assert started["data"]["name"] == "from-cli"
    pushed = wait_for(c, "diagram", lambda d: "from-cli" in svg_text(d) and "sleep 300" in svg_text(d))
    svg = html.unescape(pushed["svg"])
    assert f'id="ns-{cid[:12]}"' in svg and "sleep 300" in svg
    after = mark(c)
    onggi("rm", "-f", cid, check=True)
    wait_for(c, "event", lambda e: e["type"] == "container.deleted" and e["id"] == cid, start=after)
    gone = wait_for(c, "diagram", lambda d: "from-cli" not in svg_text(d), start=after)
    assert f"ns-{cid[:12]}" not in html.unescape(gone["svg"])


def _step(c, room, action):
    ack = c.emit("step.control", {"room": room, "action": action}, callback=True)
    assert ack.get("ok"), ack


def test_step_through_a_real_launch(web, sio, rt, onggi):
    owner, watcher = sio(), sio()
    ack = owner.emit("step.start", {"room": "it", "spec": {"image": "busybox", "cmd": ["sleep", "300"],
                                                          "memory": "32m"}}, callback=True)
    assert ack["ok"], ack
    cid = ack["container"]
    assert watcher.emit("step.join", {"room": "it"}, callback=True)["active"]
    snaps = []
    for index, name in enumerate(["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"]):
        state = wait_for(owner, "step.state", lambda s: s["status"] == "paused" and s["current"] == index)
        assert state["steps"][index]["name"] == name and state["steps"][index]["ko"]
        # The watcher is refused the controls.
        refused = watcher.emit("step.control", {"room": "it", "action": "next"}, callback=True)
        assert "only the browser that started" in refused["error"]
        _step(owner, "it", "next")
        snaps.append(wait_for(owner, "step.snapshot", lambda s: s["index"] == index and s["phase"] == "after"))
    final = wait_for(owner, "step.state", lambda s: s["status"] == "started")
    assert final["pid"] > 0 and rt.container(cid).state.status.value == "running"
    # What each step changed, as the kernel showed it right after:
    ns_after = {s["step"]: html.unescape(s["svgs"]["namespaces"]["en"]) for s in snaps}
    assert f"ns-{cid[:12]}" not in ns_after["cgroup"]           # no process yet
    assert f"ns-{cid[:12]}" in ns_after["namespaces"]           # the cloned child, in new namespaces
    assert "overlay" not in ns_after["network"] and "overlay" in ns_after["mounts"]   # pivot_root
    assert "sleep 300" in ns_after["exec"]                      # execve
    assert "mounted" in html.unescape(snaps[0]["svgs"]["layers"]["en"])
    assert "32.0 MiB" in html.unescape(snaps[1]["svgs"]["cgroups"]["en"])  # memory limit written
    assert "32.0 MiB" in html.unescape(snaps[1]["svgs"]["cgroups"]["en"])
    # Back only moves the room's view; the container keeps running.
    _step(owner, "it", "back")
    back = wait_for(watcher, "step.state", lambda s: s["view"] is not None and s["view"] < s["latest"]
                    and s["status"] == "started")
    assert back["status"] == "started"
    assert "from-web" not in onggi("ps").stdout and cid[:12] in onggi("ps").stdout


def test_cancel_removes_everything_made_so_far(web, sio, rt, onggi_config):
    c = sio()
    ack = c.emit("step.start", {"room": "cx", "spec": {"image": "busybox", "cmd": ["sleep", "300"]}},
                 callback=True)
    cid = ack["container"]
    for index in range(3):                     # rootfs, cgroup, namespaces
        wait_for(c, "step.state", lambda s: s["status"] == "paused" and s["current"] == index)
        _step(c, "cx", "next")
    wait_for(c, "step.state", lambda s: s["status"] == "paused" and s["current"] == 3)
    assert rt.cgroups.exists(cid)
    _step(c, "cx", "cancel")
    wait_for(c, "step.state", lambda s: s["status"] == "cancelled")
    assert cid not in rt.containers.ids() and not rt.cgroups.exists(cid)
    with open("/proc/self/mountinfo") as f:
        assert str(onggi_config.root) not in f.read()


def test_owner_leaving_cancels_a_paused_launch(web, sio, rt):
    c = sio()
    cid = c.emit("step.start", {"room": "gone", "spec": {"image": "busybox", "cmd": ["true"]}},
                 callback=True)["container"]
    wait_for(c, "step.state", lambda s: s["status"] == "paused")
    c.disconnect()
    deadline = time.monotonic() + 10
    while cid in rt.containers.ids() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cid not in rt.containers.ids()


def _term_text(c, term_id, until, timeout=10.0):
    """Output of the terminal until UNTIL shows; answers the cursor-position queries
    (ESC[6n) busybox's line editor sends, as xterm.js does in the browser."""
    out = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and until not in out:
        for msg in c.get_received():
            if msg["name"] == "term.output" and msg["args"][0]["id"] == term_id:
                data = msg["args"][0]["data"]
                if "\x1b[6n" in data:
                    c.emit("term.input", {"id": term_id, "data": "\x1b[1;5R"})
                out += data
        time.sleep(0.02)
    return out


def _type(c, term_id, line, until):
    # Type like a person, a moment after the prompt: busybox's line editor reads a
    # cursor report that arrives glued to the next keystrokes as one escape sequence.
    time.sleep(0.3)
    c.emit("term.input", {"id": term_id, "data": line + "\n"})
    return _term_text(c, term_id, until)


def test_terminal_exec_runs_hostname_on_a_real_pty(web, sio, api, rt):
    made = api.post("/api/containers", {"image": "busybox", "cmd": "sleep 300"}).get_json()
    cid = made["id"]
    c = sio()
    ack = c.emit("term.open", {"container": cid, "rows": 30, "cols": 100}, callback=True)
    assert ack["ok"], ack
    assert ack["container"] == f"{made['name']} ({cid[:12]})"      # the page says which, not 64 hex digits
    term = ack["id"]
    assert "# " in _term_text(c, term, "# ")            # the prompt: the shell is reading
    assert cid[:12] + "\r\n" in _type(c, term, "hostname", cid[:12] + "\r\n")
    assert "30 100" in _type(c, term, "stty size", "30 100")
    assert c.emit("term.resize", {"id": term, "rows": 40, "cols": 120}, callback=True)["ok"]
    time.sleep(0.2)
    assert "40 120" in _type(c, term, "stty size", "40 120")
    before = set(rt.container(cid)._cgroup().procs())
    assert len(before) >= 2                            # sleep and the exec'd sh
    assert c.emit("term.close", {"id": term}, callback=True)["ok"]
    deadline = time.monotonic() + 5
    while len(rt.container(cid)._cgroup().procs()) > 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(rt.container(cid)._cgroup().procs()) == 1       # the exec session ended


def test_terminal_run_it_and_closing_the_socket_removes_it(web, sio, rt):
    c = sio()
    ack = c.emit("term.open", {"image": "busybox", "cmd": ["sh"]}, callback=True)
    assert ack["ok"], ack
    assert "# " in _term_text(c, ack["id"], "# ")
    assert "42\r\n" in _type(c, ack["id"], "echo $((6*7))", "42\r\n")
    name = ack["container"]
    assert rt.container(name).state.status.value == "running"
    c.disconnect()                                     # the tab closes
    deadline = time.monotonic() + 10
    while any(r.name == name for r in rt.containers.list()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(r.name == name for r in rt.containers.list())


def test_terminal_refuses_a_stopped_container(web, sio, api, rt):
    r = api.post("/api/containers", {"image": "busybox", "cmd": "true", "name": "short"})
    rt.container("short").wait()
    ack = sio().emit("term.open", {"container": "short"}, callback=True)
    assert "not running" in ack["error"]
    assert os.path.exists(rt.container("short").record.dir)
