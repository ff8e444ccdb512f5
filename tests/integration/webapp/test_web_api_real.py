"""The API drives real containers, and the CLI sees what the browser did (and the reverse)."""
import html
import re

import pytest

pytestmark = pytest.mark.root


def test_run_from_the_api_shows_in_onggi_ps_and_the_kernel(api, onggi, rt):
    r = api.post("/api/containers", {"image": "busybox", "cmd": ["sleep", "300"], "name": "from-web",
                                     "memory": "32m", "pids_limit": 20})
    assert r.status_code == 201, r.get_json()
    c = r.get_json()
    assert c["status"] == "running" and c["pid"] > 0
    assert "from-web" in onggi("ps").stdout
    doc = api.get("/api/containers/from-web").get_json()
    assert doc["State"]["Pid"] == c["pid"] and doc["Namespaces"]["pid"]["Isolated"]
    top = api.get("/api/containers/from-web/top").get_json()
    assert top[0]["cmd"] == "sleep 300" and top[0]["nspid"][-1] == 1
    stats = api.get("/api/containers/from-web/stats").get_json()
    assert stats["memory_limit"] == 32 * 1024 * 1024 and stats["pids_max"] == 20
    assert api.post("/api/containers/from-web/stop?t=1").get_json()["status"] == "exited"
    assert api.post("/api/containers/from-web/start").get_json()["status"] == "running"
    assert api.delete("/api/containers/from-web").status_code == 409          # running: refused
    assert api.delete("/api/containers/from-web?force=1").status_code == 200
    assert "from-web" not in onggi("ps", "-a").stdout
    assert rt.containers.ids() == [] and not rt.cgroups.names()


def test_logs_and_diff(api, rt):
    r = api.post("/api/containers", {"image": "busybox", "cmd": "sh -c 'echo hi; echo x > /made'"})
    cid = r.get_json()["id"]
    rt.container(cid).wait()
    assert [line["text"] for line in api.get(f"/api/containers/{cid}/logs").get_json()] == ["hi\n"]
    assert {"kind": "A", "path": "/made"} in api.get(f"/api/containers/{cid}/diff").get_json()


def test_a_command_that_does_not_exist_leaves_nothing(api, rt):
    r = api.post("/api/containers", {"image": "busybox", "cmd": ["/no/such/thing"]})
    assert r.status_code == 400 and "/no/such/thing" in r.get_json()["error"]
    assert rt.containers.ids() == [] and not rt.cgroups.names()


def test_name_in_use_is_409(api):
    assert api.post("/api/containers", {"image": "busybox", "cmd": "sleep 60", "name": "twice"}).status_code == 201
    r = api.post("/api/containers", {"image": "busybox", "cmd": "sleep 60", "name": "twice"})
    assert r.status_code == 409 and "already in use" in r.get_json()["error"]


def test_images_history_tag_remove(api):
    images = api.get("/api/images").get_json()
    assert any("busybox:latest" in i["tags"] for i in images)
    assert api.get("/api/images/busybox:latest/history").get_json()[0]["created_by"]
    assert api.post("/api/images/busybox:latest/tag", {"target": "web-test/tagged:1"}).get_json() == \
        {"tagged": "web-test/tagged:1"}
    assert api.get("/api/images/web-test/tagged:1").get_json()["RepoTags"]
    assert api.delete("/api/images/web-test/tagged:1").status_code == 200
    assert api.get("/api/images/web-test/tagged:1").status_code == 404


def test_layers_show_added_deleted_and_wasted_bytes(api, rt):
    """Two commits: the first adds /big, the second deletes it; the bytes stay in the first."""
    def commit(image, script, tag):
        c = rt.create(__import__("runtime").ContainerSpec(image=image, cmd=("sh", "-c", script)))
        c.start().wait_started()
        c.wait()
        c.commit(tag)
        c.remove()
    commit("busybox", "head -c 100000 /dev/zero > /big; echo v1 > /etc/motd", "waste:1")
    commit("waste:1", "rm /big; echo v2 > /etc/motd", "waste:2")
    try:
        over = api.get("/api/layers?image=waste:2").get_json()
        layers = over["layers"]
        assert len(layers) == 3
        assert layers[1]["counts"]["A"] >= 2 and layers[2]["counts"]["D"] == 1
        assert layers[1]["wasted_bytes"] >= 100000 and over["wasted_bytes"] >= 100000
        one = api.get("/api/layers/1?image=waste:2").get_json()
        why = {(w["path"], w["why"], w["by"]) for w in one["wasted"]}
        assert ("/big", "deleted", 2) in why and ("/etc/motd", "overwritten", 2) in why
        f = api.get("/api/layers/file?image=waste:2&layer=1&path=/etc/motd").get_json()
        assert f["text"] == "v1\n" and not f["binary"]
        diff = api.get("/api/layers/diff?image=waste:2&from=1&to=2").get_json()["changes"]
        assert {"kind": "A", "path": "/etc/motd", "size": 3} in diff
        assert not any(c["path"] == "/big" for c in diff)     # added and deleted within the range
        svg = html.unescape(api.get("/api/diagrams/layers.svg?image=waste:2&lang=en").get_data(as_text=True))
        assert "wasted: " in svg and re.search(r'id="layer-[0-9a-f]{12}"', svg)
    finally:
        for tag in ("waste:2", "waste:1"):
            rt.images.remove(tag)


def test_oom_kill_turns_the_cgroup_red(api, rt):
    r = api.post("/api/containers", {"image": "busybox", "memory": "16m", "name": "hungry",
                                     "cmd": ["sh", "-c", "tail /dev/zero; sleep 300"]})
    assert r.status_code == 201
    import time
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        svg = html.unescape(api.get("/api/diagrams/cgroups.svg?lang=en").get_data(as_text=True))
        if "OOM kills: 1" in svg:
            break
        time.sleep(0.2)
    assert "OOM kills: 1" in svg
    assert re.search(r'<g id="cg-[0-9a-f]{12}" class="node oom"', svg)
