"""Socket.IO: events from the log reach every browser; diagrams are pushed to subscribers."""
import time

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN


def wait_for(client, name, pred=lambda args: True, timeout=3.0):
    got = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for msg in client.get_received():
            got.append(msg)
            if msg["name"] == name and pred(msg["args"][0]):
                return msg["args"][0]
        time.sleep(0.02)
    raise AssertionError(f"no {name} within {timeout}s; got {[m['name'] for m in got]}")


def test_events_appended_by_another_process_reach_every_client(live_app, sio):
    from runtime import events
    from runtime.eventlog import EventLog
    clients = [sio(live_app, auth={"token": TOKEN}) for _ in range(3)]
    for c in clients:
        wait_for(c, "backlog")
    time.sleep(0.3)                    # the follower is at the end of the log
    log = EventLog(live_app.runtime.config.events_log)       # as a CLI would
    log.publish(events.ContainerCreated(id="c" * 64, name="from-cli", image="busybox"))
    for c in clients:
        e = wait_for(c, "event", lambda e: e["id"] == "c" * 64)
        assert e["type"] == "container.created" and e["data"]["name"] == "from-cli"


def test_backlog_on_connect(live_app, sio):
    from runtime import events
    from runtime.eventlog import EventLog
    EventLog(live_app.runtime.config.events_log).publish(events.ContainerDeleted(id="d" * 64, name="old"))
    backlog = wait_for(sio(live_app, auth={"token": TOKEN}), "backlog")
    assert backlog[-1]["type"] == "container.deleted"


def test_subscribe_sends_the_diagram_at_once_then_changes(live_app, sio):
    c = sio(live_app, auth={"token": TOKEN})
    ack = c.emit("subscribe", {"diagram": "cgroups", "lang": "en"}, callback=True)
    assert ack["ok"] and ack["key"] == "diagram:cgroups:en:"
    assert "no cgroups" in ack["svg"]
    # A cgroup appears in cgroupfs without any event: the gauge refresh finds it.
    root = live_app.runtime.config.cgroup_root / "onggi-unit" / ("e" * 64)
    root.mkdir(parents=True)
    (root / "cgroup.procs").write_text("")
    pushed = wait_for(c, "diagram", lambda d: "eeeeeeeeeeee" in d["svg"])
    assert pushed["key"] == ack["key"]


def test_subscribe_refuses_unknown_views_in_the_ack(app, sio):
    c = sio(app, auth={"token": TOKEN})
    ack = c.emit("subscribe", {"diagram": "planets"}, callback=True)
    assert ack["error"] == "no such diagram: planets"
    ack = c.emit("subscribe", {}, callback=True)
    assert "say what to subscribe to" in ack["error"]


def test_step_controls_need_a_step_through(app, sio):
    c = sio(app, auth={"token": TOKEN})
    ack = c.emit("step.control", {"room": "r1", "action": "next"}, callback=True)
    assert ack["error"] == "no step-through in room 'r1'"
    ack = c.emit("step.control", {"room": "r1", "action": "explode"}, callback=True)
    assert "invalid step action" in ack["error"]


def test_terminal_needs_a_target(app, sio):
    c = sio(app, auth={"token": TOKEN})
    ack = c.emit("term.close", {"id": "nope"}, callback=True)
    assert ack["error"] == "no such terminal: nope"


def test_dashboard_answers_carry_the_apis_status_so_the_page_can_say_what_kind(app, sio):
    # The runtime's messages are English; the Korean page leads with the kind of failure,
    # which it can only tell from the status the API would give the same error.
    c = sio(app, auth={"token": TOKEN})
    assert c.emit("subscribe", {"diagram": "planets"}, callback=True)["status"] == 404
    assert c.emit("step.control", {"room": "r1", "action": "explode"}, callback=True)["status"] == 400
    assert c.emit("step.control", {"room": "r1", "action": "next"}, callback=True)["status"] == 404
    assert c.emit("term.close", {"id": "nope"}, callback=True)["status"] == 404
