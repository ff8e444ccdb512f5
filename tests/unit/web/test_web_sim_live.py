"""Socket.IO on the simulated runtime: events reach browsers, a step-through walks the six steps
(and a cancel leaves nothing), the browser terminal talks to the simulated shell."""
import time

import pytest

from web.config import TestConfig

TOKEN = TestConfig.ONGGI_TOKEN


@pytest.fixture
def sim_live(onggi_dirs):
    from web import create_app

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
        ONGGI_SIMULATE = True
        ONGGI_LIVE = True
        ONGGI_GAUGE_INTERVAL = 0.2
    app = create_app(Cfg)
    yield app
    app.steps.cancel_all()
    app.terminals.close_all()
    app.bridge.stop()
    app.runtime.close()


class Inbox:
    """A Socket.IO test client's messages, kept so that waiting for one never loses another."""

    def __init__(self, client):
        self.client, self.seen = client, []

    def wait(self, name, pred=lambda args: True, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            self.seen += self.client.get_received()
            for msg in self.seen:
                if msg["name"] == name and pred(msg["args"][0]):
                    self.seen.remove(msg)
                    return msg["args"][0]
            if time.monotonic() > deadline:
                raise AssertionError(f"no {name} within {timeout}s; got {[m['name'] for m in self.seen]}")
            time.sleep(0.02)

    def text(self, name="term.output"):
        self.seen += self.client.get_received()
        return "".join(m["args"][0]["data"] for m in self.seen if m["name"] == name)


@pytest.fixture
def browser(sim_live, sio):
    client = sio(sim_live, auth={"token": TOKEN})
    inbox = Inbox(client)
    inbox.wait("backlog")
    time.sleep(0.3)                   # the relay follows the log from its end
    return client, inbox


def test_events_of_simulated_containers_reach_the_browser(sim_live, browser):
    client, inbox = browser
    r = sim_live.test_client().post("/api/containers", json={"image": "busybox", "cmd": ["true"], "name": "q"},
                                    headers={"Authorization": f"Bearer {TOKEN}"})
    cid = r.get_json()["id"]
    for kind in ("container.created", "container.started", "container.exited"):
        event = inbox.wait("event", lambda e, k=kind: e["type"] == k and e["id"] == cid)
    assert event["data"] == {"exit_code": 0, "oom_killed": False}


def test_a_step_through_walks_six_steps_with_simulated_snapshots(browser):
    client, inbox = browser
    ack = client.emit("step.start", {"room": "class", "spec": {"image": "busybox", "cmd": ["sleep", "3600"],
                                                               "name": "stepped", "network": "bridge"}},
                      callback=True)
    assert ack["ok"]
    names = []
    for _ in range(6):
        state = inbox.wait("step.state", lambda s: s["status"] == "paused")
        names.append(state["steps"][state["current"]]["name"])
        assert client.emit("step.control", {"room": "class", "action": "next"}, callback=True) == {"ok": True}
    assert names == ["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"]
    done = inbox.wait("step.state", lambda s: s["status"] == "started")
    assert done["pid"] > 0 and done["done"] == [0, 1, 2, 3, 4, 5]
    snap = inbox.wait("step.snapshot", lambda s: s["step"] == "namespaces" and s["phase"] == "after")
    assert snap["report"]["simulated"] is True
    for view in ("namespaces", "cgroups", "network", "layers"):
        assert "모의 실행" in snap["svgs"][view]["ko"] and "simulated" in snap["svgs"][view]["en"]


def test_a_cancelled_step_through_leaves_nothing(sim_live, browser):
    client, inbox = browser
    client.emit("step.start", {"room": "r2", "spec": {"image": "busybox", "cmd": ["sleep", "3600"],
                                                      "name": "cancelme", "network": "bridge"}}, callback=True)
    for _ in range(4):                                    # rootfs, cgroup, namespaces, network done
        inbox.wait("step.state", lambda s: s["status"] == "paused")
        client.emit("step.control", {"room": "r2", "action": "next"}, callback=True)
    inbox.wait("step.state", lambda s: s["status"] == "paused" and s["current"] == 4)
    assert client.emit("step.control", {"room": "r2", "action": "cancel"}, callback=True) == {"ok": True}
    inbox.wait("step.state", lambda s: s["status"] == "cancelled")
    rt = sim_live.runtime
    assert rt.ps(all=True) == [] and rt.cgroups.names() == []
    assert rt.networks.inspect("bridge")["Containers"] == {}


def test_the_terminal_talks_to_the_simulated_shell(sim_live, browser):
    client, inbox = browser
    rt = sim_live.runtime
    from runtime.container.spec import ContainerSpec
    c = rt.create(ContainerSpec(image="busybox", cmd=("sleep", "3600"), name="web"))
    c.start().wait_started()
    ack = client.emit("term.open", {"container": "web", "cols": 80, "rows": 24}, callback=True)
    assert ack["ok"]
    deadline = time.monotonic() + 3
    while "/ # " not in inbox.text() and time.monotonic() < deadline:
        time.sleep(0.02)
    client.emit("term.input", {"id": ack["id"], "data": "hostname\r"})
    hostname = c.inspect()["Config"]["Hostname"]
    deadline = time.monotonic() + 3
    while f"hostname\r\n{hostname}\r\n/ # " not in inbox.text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert f"hostname\r\n{hostname}\r\n/ # " in inbox.text()
    assert hostname != rt.host_hostname()
    transcript = next(t for t in sim_live.terminals.transcripts() if t["container"] == c.id)
    assert transcript["entries"][0]["line"] == "hostname" and hostname in transcript["entries"][0]["output"]
    client.emit("term.input", {"id": ack["id"], "data": "exit\r"})
    assert inbox.wait("term.exit", lambda m: m["id"] == ack["id"])["code"] == 0


def test_run_it_in_the_terminal_makes_a_container_whose_shell_is_pid_1(sim_live, browser):
    client, inbox = browser
    ack = client.emit("term.open", {"image": "busybox", "cmd": ["sh"]}, callback=True)
    name = ack["container"]
    rt = sim_live.runtime
    assert rt.container(name).state.status.value == "running"
    deadline = time.monotonic() + 3
    while "/ # " not in inbox.text() and time.monotonic() < deadline:
        time.sleep(0.02)
    client.emit("term.input", {"id": ack["id"], "data": "echo $$\r"})
    deadline = time.monotonic() + 3
    while "\r\n1\r\n" not in inbox.text() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert "\r\n1\r\n" in inbox.text()
    client.emit("term.close", {"id": ack["id"]}, callback=True)
    deadline = time.monotonic() + 3
    while rt.ps(all=True) and time.monotonic() < deadline:              # run -it --rm: nothing left
        time.sleep(0.02)
    assert rt.ps(all=True) == []
