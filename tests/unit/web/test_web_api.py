"""The JSON API without root: input checks, errors mapped in one place, answers as JSON."""
import pytest

from runtime import errors as e
from web.api.errors import status_for


@pytest.mark.parametrize("exc,status", [
    (e.InvalidArgument("x"), 400), (e.InvalidReference("x"), 400), (e.BuildError("x", line=3), 400),
    (e.CommandNotFound("x"), 400), (e.ContainerNotFound("x"), 404), (e.ImageNotFound("x"), 404),
    (e.NetworkNotFound("x"), 404), (e.NameInUse("x"), 409), (e.ContainerRunning("x"), 409),
    (e.InvalidTransition("running", "start"), 409), (e.NotRoot("x"), 503), (e.Unsupported("x"), 501),
    (e.RegistryError("x"), 502), (e.AuthenticationRequired("x"), 502), (e.DigestMismatch("x"), 500),
    (e.OnggiError("x"), 500),
])
def test_status_for(exc, status):
    assert status_for(exc) == status


def test_not_found_answers_json_with_the_hint(client, auth):
    r = client.get("/api/containers/nosuch", headers=auth)
    assert r.status_code == 404
    assert r.get_json() == {"error": "no such container: nosuch", "hint": "see 'onggi ps -a'"}


def test_unknown_api_route_is_json_and_page_is_html(client, auth):
    r = client.get("/api/nothing/here", headers=auth)
    assert r.status_code == 404 and "error" in r.get_json()
    page = client.get("/nothing/here", headers=auth)
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_wrong_method_is_json(client, auth):
    r = client.put("/api/containers", headers=auth)
    assert r.status_code == 405 and "error" in r.get_json()


@pytest.mark.parametrize("body,message", [
    ({}, "'image' is required"),
    ({"image": 3}, "'image' must be a string"),
    ({"image": "busybox", "bogus": 1}, "unknown field 'bogus'"),
    ({"image": "busybox", "cmd": 5}, "'cmd' must be a list of strings or a string"),
    ({"image": "busybox", "memory": "lots"}, "memory"),
    ({"image": "busybox", "ports": ["x:y"]}, "invalid -p"),
    ({"image": "busybox", "tty": "yes"}, "'tty' must be true or false"),
    ({"image": "busybox", "tty": True}, "the API runs containers in the background"),
])
def test_run_refuses_bad_input_with_400(client, auth, body, message):
    r = client.post("/api/containers", json=body, headers=auth)
    assert r.status_code == 400, r.get_json()
    assert message in r.get_json()["error"]


def test_run_refuses_a_body_that_is_not_json(client, auth):
    r = client.post("/api/containers", data="image=busybox", headers=auth | {"Content-Type": "text/plain"})
    assert r.status_code == 400 and "not JSON" in r.get_json()["error"]


def test_missing_image_is_404_and_nothing_is_made(client, auth, app):
    r = client.post("/api/containers", json={"image": "nosuch:1", "start": False}, headers=auth)
    assert r.status_code == 404 and "nosuch" in r.get_json()["error"]
    assert app.runtime.containers.ids() == []


def test_spec_from_json_reads_docker_flags():
    from web.api.specs import spec_from_json
    spec = spec_from_json({"image": "busybox", "cmd": "sh -c 'echo hi'", "memory": "64m", "cpus": 0.5,
                           "pids_limit": 10, "ports": ["8080:80"], "env": ["A=1"], "labels": {"k": "v"}})
    assert spec.cmd == ("sh", "-c", "echo hi") and spec.memory == 64 * 1024 * 1024 and spec.cpus == 0.5
    assert spec.pids_limit == 10 and spec.ports[0].host_port == 8080 and spec.env == ("A=1",)
    assert spec.network == "none" and spec.labels == (("k", "v"),)


def test_steps_are_explained_in_both_languages(client, auth):
    steps = client.get("/api/steps", headers=auth).get_json()
    assert [s["name"] for s in steps] == ["rootfs", "cgroup", "namespaces", "network", "mounts", "exec"]
    assert all(s["ko"] and s["en"] and s["syscalls"] for s in steps)


def test_layers_need_a_target(client, auth):
    r = client.get("/api/layers", headers=auth)
    assert r.status_code == 400 and "?image=" in r.get_json()["error"]


def test_diagram_of_an_unknown_view_is_404(client, auth):
    r = client.get("/api/diagrams/planets.svg", headers=auth)
    assert r.status_code == 404 and "no such diagram" in r.get_json()["error"]


def test_diagram_language_is_checked(client, auth):
    r = client.get("/api/diagrams/cgroups.svg?lang=fr", headers=auth)
    assert r.status_code == 400 and "lang" in r.get_json()["error"]


@pytest.mark.parametrize("lang,word", [("ko", "cgroup 부모"), ("en", "cgroup parent")])
def test_cgroups_diagram_from_an_empty_tree(client, auth, lang, word):
    r = client.get(f"/api/diagrams/cgroups.svg?lang={lang}", headers=auth)
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    svg = r.get_data(as_text=True)
    assert svg.startswith("<svg") and word in svg and 'id="cg&#45;root"' in svg   # dot writes - as &#45;


def test_only_pages_with_a_live_connection_show_its_indicator(client, auth):
    # The lessons list and error pages open no Socket.IO connection: their header said
    # "연결 끊김" (disconnected) in red for as long as they were open.
    assert 'id="conn"' in client.get("/", headers=auth).get_data(as_text=True)
    assert 'id="conn"' not in client.get("/lessons", headers=auth).get_data(as_text=True)
    missing = client.get("/no-such-page", headers=auth)
    assert missing.status_code == 404 and 'id="conn"' not in missing.get_data(as_text=True)
