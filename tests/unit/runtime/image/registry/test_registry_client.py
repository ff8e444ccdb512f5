"""The registry client against canned responses: auth flows, platform choice, digests, push."""
import gzip
import io
import json
import os
import stat
import tarfile

import pytest

from runtime.errors import AuthenticationRequired, DigestMismatch, ImageNotFound, RegistryError
from runtime.image.registry import auth
from runtime.image.registry.client import Registry, is_loopback
from runtime.image.registry.login import login, logout
from runtime.image.registry.pull import pull
from runtime.image.registry.push import push

from .conftest import PASSWORD, TOKEN, USER, digest_of

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


# -- challenges and stored logins ------------------------------------------------------------

@pytest.mark.parametrize("header,expected", [
    ('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
     'scope="repository:library/busybox:pull"',
     [("bearer", {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                  "scope": "repository:library/busybox:pull"})]),
    ('Basic realm="Registry Realm"', [("basic", {"realm": "Registry Realm"})]),
    ('Basic realm="a", Bearer realm="b",service=s', [("basic", {"realm": "a"}),
                                                     ("bearer", {"realm": "b", "service": "s"})]),
    ('Bearer realm="with \\"quotes\\", and comma"', [("bearer", {"realm": 'with "quotes", and comma'})]),
    ("", []),
])
def test_parse_challenges(header, expected):
    assert [(c.scheme, c.params) for c in auth.parse_challenges(header)] == expected


def test_token_url_has_service_and_every_scope():
    c = auth.Challenge("bearer", {"realm": "https://a/token", "service": "reg"})
    assert auth.token_url(c, ["repository:a:pull,push", "repository:b:pull"]) == (
        "https://a/token?service=reg&scope=repository%3Aa%3Apull%2Cpush&scope=repository%3Ab%3Apull")


@pytest.mark.parametrize("name,host", [
    ("127.0.0.1:5000", "127.0.0.1:5000"), ("http://127.0.0.1:5000/", "127.0.0.1:5000"),
    ("https://index.docker.io/v1/", "docker.io"), ("registry-1.docker.io", "docker.io"),
    ("docker.io", "docker.io"),
])
def test_normalize_registry(name, host):
    assert auth.normalize_registry(name) == host


def test_credentials_file_is_0600_and_round_trips(tmp_path):
    creds = auth.Credentials(tmp_path / "auth.json")
    assert creds.get("127.0.0.1:5000") is None
    creds.set("http://127.0.0.1:5000/", "ada", "p:ss")
    assert stat.S_IMODE(os.stat(tmp_path / "auth.json").st_mode) == 0o600
    assert creds.get("127.0.0.1:5000") == ("ada", "p:ss")
    data = json.loads((tmp_path / "auth.json").read_text())
    assert list(data["auths"]) == ["127.0.0.1:5000"]       # Docker's config.json layout
    assert creds.remove("127.0.0.1:5000") is True
    assert creds.remove("127.0.0.1:5000") is False
    assert creds.get("127.0.0.1:5000") is None


@pytest.mark.parametrize("host,loopback", [
    ("127.0.0.1:5000", True), ("localhost:5000", True), ("127.8.9.1", True), ("[::1]:5000", True),
    ("::1", True), ("10.0.0.1:5000", False), ("registry.example.org", False), ("docker.io", False),
])
def test_only_loopback_registries_are_plain_http(host, loopback):
    assert is_loopback(host) is loopback
    assert Registry(host).scheme == ("http" if loopback else "https")


def test_named_insecure_registries_are_plain_http():
    assert Registry("reg.lan:5000", insecure_names={"reg.lan:5000"}).scheme == "http"
    assert Registry("docker.io").endpoint == "registry-1.docker.io"


# -- an image in the fake registry ---------------------------------------------------------------

def layer_tgz(name: str, data: bytes) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def put_image(reg, repo="app", tag="1", *, index=False):
    layers = [reg.add_blob(layer_tgz(f"f{i}", os.urandom(2000))) for i in range(3)]
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
                         "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64] * 3}}).encode()
    cfg = reg.add_blob(config)
    manifest = {"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", **cfg},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", **l}
                           for l in layers]}
    digest = reg.add_manifest(repo, digest_of(b"") if index else tag, manifest, DOCKER_MANIFEST)
    if index:
        other = reg.add_manifest(repo, "arm", {**manifest, "layers": []}, DOCKER_MANIFEST)
        idx = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
            {"mediaType": DOCKER_MANIFEST, "digest": other, "size": 1,
             "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": DOCKER_MANIFEST, "digest": digest, "size": 1,
             "platform": {"architecture": "amd64", "os": "linux"}}]}
        reg.add_manifest(repo, tag, idx, OCI_INDEX)
    return digest, cfg, layers


def test_pull_stores_every_blob_verified_and_tags_it(fake_registry, rt):
    reg = fake_registry()
    digest, cfg, layers = put_image(reg)
    seen = []
    image = pull(rt, f"{reg.address}/app:1", progress=seen.append)
    assert image.manifest_digest == digest and image.id == cfg["digest"]
    assert image.tags == [f"{reg.address}/app:1"]
    for layer in layers:
        assert rt.images.blobs.has(layer["digest"])
    assert rt.images.resolve(f"{reg.address}/app:1").id == cfg["digest"]
    types = rt.publisher.types()
    assert "image.pull" in types and types[-1] == "image.pulled"
    assert {e.layer for e in rt.publisher.events if e.type == "image.pull"} == (
        {l["digest"] for l in layers} | {cfg["digest"]})
    done = [e for e in rt.publisher.events if e.type == "image.pull" and e.done == e.total]
    assert len(done) == 4 and all(e.total > 0 for e in done)
    assert f"Digest: {digest}" in seen
    # a second pull downloads no blob
    before = len(reg.requests)
    pull(rt, f"{reg.address}/app:1")
    assert [r for r in reg.requests[before:] if "/blobs/" in r["path"]] == []


def test_pull_picks_this_platform_from_an_index(fake_registry, rt):
    reg = fake_registry()
    digest, cfg, _ = put_image(reg, index=True)
    image = pull(rt, f"{reg.address}/app:1")
    assert image.manifest_digest == digest and image.id == cfg["digest"]


def test_pull_by_digest_leaves_the_image_untagged(fake_registry, rt):
    reg = fake_registry()
    digest, cfg, _ = put_image(reg)
    image = pull(rt, f"{reg.address}/app@{digest}")
    assert image.tags == []
    assert rt.images.resolve(f"{reg.address}/app@{digest}").id == cfg["digest"]


def test_a_corrupt_layer_is_refused_and_not_kept(fake_registry, rt):
    reg = fake_registry()
    _, _, layers = put_image(reg)
    reg.corrupt.add(layers[1]["digest"])
    with pytest.raises(DigestMismatch):
        pull(rt, f"{reg.address}/app:1")
    assert not rt.images.blobs.has(layers[1]["digest"])
    assert rt.images.list() == []
    assert not [p for p in (rt.images.blobs.root / "sha256").iterdir() if p.name.startswith(".tmp")]


def test_a_missing_tag(fake_registry, rt):
    reg = fake_registry()
    with pytest.raises(ImageNotFound, match="manifest unknown"):
        pull(rt, f"{reg.address}/app:nope")


def test_bearer_token_flow_anonymous_then_with_login(fake_registry, rt):
    reg = fake_registry(auth="bearer")
    put_image(reg)
    pull(rt, f"{reg.address}/app:1")
    first = reg.token_requests[0]
    assert first["auth"] is None
    assert first["query"] == {"service": ["fake"], "scope": ["repository:app:pull"]}
    # the token is reused: one token request for the whole pull
    assert len(reg.token_requests) == 1
    assert all(r["auth"] == f"Bearer {TOKEN}" for r in reg.requests
               if r["path"].startswith("/v2/app") and r is not reg.requests[0])
    login(rt, reg.address, USER, PASSWORD)
    assert reg.token_requests[-1]["auth"].startswith("Basic ")
    with pytest.raises(AuthenticationRequired, match="unauthorized"):
        login(rt, reg.address, USER, "wrong")
    assert auth.Credentials(rt.config.root / "auth.json").get(reg.address) == (USER, PASSWORD)


def test_basic_auth_needs_a_login(fake_registry, rt):
    reg = fake_registry(auth="basic")
    put_image(reg)
    with pytest.raises(AuthenticationRequired) as err:
        pull(rt, f"{reg.address}/app:1")
    assert "onggi login" in err.value.one_line()
    with pytest.raises(AuthenticationRequired):
        login(rt, reg.address, USER, "wrong")
    assert not (rt.config.root / "auth.json").exists()
    login(rt, reg.address, USER, PASSWORD)
    pull(rt, f"{reg.address}/app:1")
    assert logout(rt, reg.address) is True
    assert logout(rt, reg.address) is False


def test_push_uploads_what_is_missing_and_skips_what_is_there(fake_registry, rt):
    reg = fake_registry()
    put_image(reg)
    image = pull(rt, f"{reg.address}/app:1")
    rt.images.tag(image.id, f"{reg.address}/copy:2")
    seen = []
    digest = push(rt, f"{reg.address}/copy:2", progress=seen.append)
    assert digest == image.manifest_digest
    # every blob was known from app (the pull noted it): mounted, never uploaded
    assert not [r for r in reg.requests if r["path"].startswith("/v2/upload/")]
    assert sum("Mounted from app" in s for s in seen) == 4
    assert reg.manifests[("copy", "2")][1] == DOCKER_MANIFEST
    # pushing again: HEAD finds every blob
    seen.clear()
    push(rt, f"{reg.address}/copy:2", progress=seen.append)
    assert sum("Layer already exists" in s for s in seen) == 4


def test_push_uploads_unknown_blobs(fake_registry, rt):
    reg = fake_registry()
    put_image(reg)
    image = pull(rt, f"{reg.address}/app:1")
    other = fake_registry()                      # another registry: nothing to mount from
    rt.images.tag(image.id, f"{other.address}/app:1")
    digest = push(rt, f"{other.address}/app:1")
    assert digest == image.manifest_digest
    assert set(other.blobs) == {b["digest"] for b in [image.manifest["config"], *image.layers]}
    assert [r["method"] for r in other.requests if r["path"].startswith("/v2/upload/")] == ["PUT"] * 4
    assert rt.publisher.types()[-1] == "image.pushed"


def test_unreachable_registry_is_one_clear_error(rt):
    with pytest.raises(RegistryError, match="cannot reach registry 127.0.0.1:9"):
        pull(rt, "127.0.0.1:9/app:1")
