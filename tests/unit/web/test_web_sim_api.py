"""The web app on the simulated runtime, as a normal user: the API, the pages, the four views."""
import html
import re

import pytest

from web.config import TestConfig

AUTH = {"Authorization": f"Bearer {TestConfig.ONGGI_TOKEN}"}


@pytest.fixture
def sim_app(onggi_dirs):
    from web import create_app

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
        ONGGI_SIMULATE = True
    app = create_app(Cfg)
    yield app
    app.bridge.stop()
    app.runtime.close()


@pytest.fixture
def client(sim_app):
    return sim_app.test_client()


def run(client, **body):
    r = client.post("/api/containers", json={"image": "busybox", "cmd": ["sleep", "3600"], **body}, headers=AUTH)
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_the_app_is_simulated_when_asked(sim_app):
    assert sim_app.runtime.simulated is True


def test_auto_is_real_where_it_works_and_simulated_where_not(onggi_dirs, monkeypatch):
    import runtime.sim
    from web import make_runtime
    from runtime.errors import NotRoot
    monkeypatch.setattr(runtime.sim, "host_problem", lambda config: None)
    assert not getattr(make_runtime({"ONGGI_RUNTIME": onggi_dirs, "ONGGI_SIMULATE": "auto"}), "simulated", False)
    monkeypatch.setattr(runtime.sim, "host_problem", lambda config: NotRoot("onggi needs root"))
    rt = make_runtime({"ONGGI_RUNTIME": onggi_dirs, "ONGGI_SIMULATE": "auto"})
    assert rt.simulated and "root" in rt.why[1] and "root" in rt.why[0]
    assert not getattr(make_runtime({"ONGGI_RUNTIME": onggi_dirs}), "simulated", False)   # default: real


def test_create_start_stop_remove(client):
    made = run(client, name="web", network="bridge", memory="64m")
    assert made["status"] == "running" and made["pid"] > 0
    assert [c["name"] for c in client.get("/api/containers", headers=AUTH).get_json()] == ["web"]
    doc = client.get("/api/containers/web", headers=AUTH).get_json()
    assert doc["Simulated"] and doc["HostConfig"]["Memory"] == 64 << 20 and doc["Namespaces"]["net"]["Isolated"]
    top = client.get("/api/containers/web/top", headers=AUTH).get_json()
    assert top[0]["nspid"] == [made["pid"], 1]
    stats = client.get("/api/containers/web/stats", headers=AUTH).get_json()
    assert stats["memory_limit"] == 64 << 20 and stats["pids"] == 1
    assert client.delete("/api/containers/web", headers=AUTH).status_code == 409     # running
    stopped = client.post("/api/containers/web/stop?t=0", headers=AUTH).get_json()
    assert (stopped["status"], stopped["exit_code"]) == ("exited", 137)
    assert client.post("/api/containers/web/start", headers=AUTH).get_json()["status"] == "running"
    assert client.delete("/api/containers/web?force=1", headers=AUTH).get_json()["removed"]
    assert client.get("/api/containers?all=1", headers=AUTH).get_json() == []


def test_logs_diff_and_errors_as_the_real_api(client):
    run(client, name="quick", cmd=["sh", "-c", "echo hi; echo oops >&2; touch /made"])
    logs = client.get("/api/containers/quick/logs", headers=AUTH).get_json()
    assert [(x["stream"], x["text"]) for x in logs] == [("stdout", "hi\n"), ("stderr", "oops\n")]
    assert {"kind": "A", "path": "/made"} in client.get("/api/containers/quick/diff", headers=AUTH).get_json()
    r = client.post("/api/containers", json={"image": "busybox", "cmd": ["nosuch"]}, headers=AUTH)
    assert r.status_code == 400 and "executable file not found" in r.get_json()["error"]
    assert [c["name"] for c in client.get("/api/containers?all=1", headers=AUTH).get_json()] == ["quick"]
    r = client.post("/api/containers", json={"image": "nosuch:1"}, headers=AUTH)
    assert r.status_code == 404


def test_images_and_networks(client):
    images = client.get("/api/images", headers=AUTH).get_json()
    assert images[0]["tags"] == ["busybox:latest"] and images[0]["layers"] == 1
    assert client.post("/api/networks", json={"name": "lab"}, headers=AUTH).get_json()["subnet"] == "10.89.0.0/24"
    assert [n["name"] for n in client.get("/api/networks", headers=AUTH).get_json()] == ["bridge", "host", "none", "lab"]
    layers = client.get("/api/layers?image=busybox", headers=AUTH).get_json()
    assert layers["layers"][0]["files"] == 285 and layers["layers"][0]["counts"]["A"] == 285
    assert client.get("/api/system/df", headers=AUTH).get_json()["simulated"] is True


@pytest.mark.parametrize("view", ["namespaces", "cgroups", "network", "layers"])
@pytest.mark.parametrize("lang,words", [("ko", "모의 실행"), ("en", "simulated")])
def test_every_view_says_simulated(client, view, lang, words):
    run(client, name="web", network="bridge")
    for query in ("", "&container=web"):
        r = client.get(f"/api/diagrams/{view}.svg?lang={lang}{query}", headers=AUTH)
        svg = html.unescape(r.get_data(as_text=True))
        assert r.status_code == 200 and words in svg
        assert 'id="sim-mark"' in svg
    # and it draws the simulated container, with the same stable ids as the real views
    assert re.search(r'id="(ns|cg|net-c|layer)-[0-9a-f]{12}', svg)


def test_every_page_has_the_banner_in_both_languages(client):
    for path in ("/", "/lessons"):
        page = client.get(path, headers=AUTH).get_data(as_text=True)
        assert 'id="sim-banner"' in page and "모의 실행 (simulated)" in page
        assert "이 컴퓨터에서는 진짜 컨테이너를 만들 수 없습니다" in page or "--simulate" in page
        assert 'data-en="' in page and 'class="simulated"' in page


def test_a_real_app_has_no_banner(onggi_dirs):
    from web import create_app

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
    page = create_app(Cfg).test_client().get("/", headers=AUTH).get_data(as_text=True)
    assert "sim-banner" not in page
