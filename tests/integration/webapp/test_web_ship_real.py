"""Build, push and pull through the API, against a registry of the test's own on a free port."""
import io
import os
import socket
import tarfile

import pytest

pytestmark = pytest.mark.root


@pytest.fixture
def registry(tmp_path):
    from runtime.image.registry.local import LocalRegistry
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = LocalRegistry(tmp_path / "registry", port=port).start()
    yield reg
    reg.stop()


def test_build_from_dockerfile_text_push_and_pull_back(api, rt, registry):
    dockerfile = "FROM busybox\nRUN echo built > /hello\nCMD [\"cat\", \"/hello\"]\n"
    r = api.post("/api/images/build", {"dockerfile": dockerfile, "tag": "web-built:1"})
    assert r.status_code == 201, r.get_json()
    assert "web-built:1" in r.get_json()["tags"]
    ref = f"{registry.address}/web-built:1"
    assert api.post(f"/api/images/web-built:1/tag", {"target": ref}).status_code == 200
    pushed = api.post("/api/images/push", {"ref": ref})
    assert pushed.status_code == 200, pushed.get_json()
    assert pushed.get_json()["digest"].startswith("sha256:")
    assert api.delete(f"/api/images/{ref}").status_code == 200
    pulled = api.post("/api/images/pull", {"ref": ref})
    assert pulled.status_code == 201, pulled.get_json()
    run = api.post("/api/containers", {"image": ref})
    cid = run.get_json()["id"]
    rt.container(cid).wait()
    assert api.get(f"/api/containers/{cid}/logs").get_json()[0]["text"] == "built\n"
    rt.container(cid).remove(force=True)
    for tag in (ref, "web-built:1"):
        rt.images.remove(tag, force=True)


def test_build_from_an_uploaded_context(api, rt):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in (("Dockerfile", b"FROM busybox\nCOPY greeting /greeting\n"), ("greeting", b"annyeong\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    r = api.post("/api/images/build", data={"context": (buf, "ctx.tar"), "tag": "web-ctx:1"},
                 content_type="multipart/form-data")
    assert r.status_code == 201, r.get_json()
    layers = api.get("/api/layers?image=web-ctx:1").get_json()["layers"]
    assert layers[-1]["counts"]["A"] == 1
    f = api.get(f"/api/layers/file?image=web-ctx:1&layer={len(layers) - 1}&path=/greeting").get_json()
    assert f["text"] == "annyeong\n"
    rt.images.remove("web-ctx:1")


def test_a_broken_dockerfile_is_400_with_the_line(api):
    r = api.post("/api/images/build", {"dockerfile": "FROM busybox\nFLY away\n"})
    assert r.status_code == 400 and "Dockerfile:2" in r.get_json()["error"]


def test_a_bad_context_is_400(api):
    r = api.post("/api/images/build", data={"context": (io.BytesIO(b"not a tar"), "x.tar")},
                 content_type="multipart/form-data")
    assert r.status_code == 400 and "invalid build context" in r.get_json()["error"]


@pytest.mark.parametrize("attack", ["../escaped", "/abs", "lnk/through"])
def test_a_context_that_escapes_is_400_and_writes_nothing(api, tmp_path, attack):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        if attack.startswith("lnk/"):
            link = tarfile.TarInfo("lnk")
            link.type, link.linkname = tarfile.SYMTYPE, str(tmp_path)
            tar.addfile(link)
        info = tarfile.TarInfo(attack)
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    buf.seek(0)
    r = api.post("/api/images/build", data={"context": (buf, "ctx.tar")}, content_type="multipart/form-data")
    body = r.get_json()
    assert r.status_code == 400 and body["error"].startswith("invalid build context: member"), body
    assert not (tmp_path / "through").exists() and not os.path.exists("/abs")
