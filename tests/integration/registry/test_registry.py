"""Push, pull, login and logout against a real registry; skopeo and umoci as the judges."""
import json
import os
import shutil
import stat
import subprocess

import pytest

from .conftest import PASSWORD, USER

pytestmark = pytest.mark.root


def test_pushed_image_reads_back_in_skopeo_with_the_same_digest(onggi, rt, registry, skopeo):
    ref = f"{registry.address}/lesson/busybox:1"
    onggi("tag", "busybox", ref, check=True)
    out = onggi("push", ref, check=True).stdout
    digest = out.strip().splitlines()[-1].split("digest: ")[1].split()[0]
    assert digest == rt.images.resolve(ref).manifest_digest
    info = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)
    assert info["Digest"] == digest
    assert info["Layers"] == [layer["digest"] for layer in rt.images.resolve(ref).layers]
    raw = skopeo("inspect", "--raw", "--tls-verify=false", f"docker://{ref}").stdout.encode()
    assert raw == rt.images.blobs.get(digest)                    # the manifest, byte for byte

    again = onggi("push", ref, check=True).stdout
    assert "Layer already exists" in again and "Pushed" not in again
    other = f"{registry.address}/another/repo:2"
    onggi("tag", "busybox", other, check=True)
    mounted = onggi("push", other, check=True).stdout
    assert "Mounted from lesson/busybox" in mounted and "Pushed" not in mounted


def test_umoci_image_pushed_by_skopeo_is_pulled_and_run(onggi, rt, registry, skopeo, workdir):
    if shutil.which("umoci") is None:
        pytest.skip("umoci is not installed")
    layout, bundle = workdir / "umoci", workdir / "bundle"

    def umoci(*args):
        subprocess.run(["umoci", *map(str, args)], check=True, capture_output=True)
    umoci("init", "--layout", layout)
    umoci("new", "--image", f"{layout}:made")
    umoci("unpack", "--image", f"{layout}:made", bundle)
    (bundle / "rootfs" / "bin").mkdir()
    shutil.copy("/bin/busybox", bundle / "rootfs" / "bin" / "busybox")
    for applet in ("sh", "echo", "cat"):
        os.symlink("busybox", bundle / "rootfs" / "bin" / applet)
    (bundle / "rootfs" / "greeting").write_text("made by umoci\n")
    umoci("repack", "--image", f"{layout}:made", bundle)
    umoci("config", "--image", f"{layout}:made", "--config.cmd", "cat", "--config.cmd", "/greeting")
    ref = f"{registry.address}/umoci/made:1"
    skopeo("copy", "--dest-tls-verify=false", f"oci:{layout}:made", f"docker://{ref}")
    want = json.loads(skopeo("inspect", "--tls-verify=false", f"docker://{ref}").stdout)["Digest"]

    out = onggi("pull", ref, check=True).stdout
    assert out.strip().splitlines()[-1] == ref
    assert f"Digest: {want}" in out
    assert rt.images.resolve(ref).manifest_digest == want
    assert onggi("run", "--rm", ref, check=True).stdout == "made by umoci\n"


def test_built_image_round_trips_through_the_registry(onggi, rt, registry, tmp_path):
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo shipped > /msg\nCMD [\"cat\", \"/msg\"]\n")
    ref = f"{registry.address}/built/app:1"
    onggi("build", "-t", ref, ctx, check=True, timeout=120)
    built = rt.images.resolve(ref)
    digest = onggi("push", "-q", ref, check=True).stdout.strip()
    assert digest == built.manifest_digest
    onggi("rmi", ref, check=True)
    onggi("pull", ref, check=True)
    assert rt.images.resolve(ref).id == built.id
    assert onggi("run", "--rm", ref, check=True).stdout == "shipped\n"


def test_basic_auth_login_push_logout(onggi, rt, basic_registry):
    ref = f"{basic_registry.address}/private/app:1"
    onggi("tag", "busybox", ref, check=True)
    denied = onggi("push", ref)
    assert denied.returncode == 125
    assert "unauthorized" in denied.stderr and "onggi login" in denied.stderr
    bad = onggi("login", "-u", USER, "--password-stdin", basic_registry.address, input="wrong\n")
    assert bad.returncode == 125 and "unauthorized" in bad.stderr
    auth_file = rt.config.root / "auth.json"
    assert not auth_file.exists()
    good = onggi("login", "-u", USER, "--password-stdin", basic_registry.address, input=PASSWORD + "\n")
    assert good.returncode == 0 and good.stdout == "Login Succeeded\n"
    assert stat.S_IMODE(os.stat(auth_file).st_mode) == 0o600
    assert basic_registry.address in json.loads(auth_file.read_text())["auths"]
    assert onggi("push", ref).returncode == 0
    onggi("rmi", ref, check=True)
    assert onggi("pull", ref).returncode == 0
    out = onggi("logout", basic_registry.address, check=True).stdout
    assert out == f"Removing login credentials for {basic_registry.address}\n"
    assert basic_registry.address not in json.loads(auth_file.read_text())["auths"]
    assert onggi("pull", ref).returncode == 125


def test_token_auth(onggi, rt, token_registry):
    ref = f"{token_registry.address}/tokens/app:1"
    onggi("tag", "busybox", ref, check=True)
    anonymous = onggi("push", ref)
    assert anonymous.returncode == 125 and "unauthorized" in anonymous.stderr
    assert token_registry.tokens.requests[0]["auth"] is None      # asked anonymously first
    wrong = onggi("login", "-u", USER, "-p", "nope", token_registry.address)
    assert wrong.returncode == 125 and "incorrect username or password" in wrong.stderr
    onggi("login", "-u", USER, "-p", PASSWORD, token_registry.address, check=True)
    pushed = onggi("push", ref)
    assert pushed.returncode == 0, pushed.stderr
    scopes = [s for r in token_registry.tokens.requests for s in r["query"].get("scope", [])]
    assert "repository:tokens/app:pull,push" in scopes
    onggi("rmi", ref, check=True)
    pulled = onggi("pull", ref)
    assert pulled.returncode == 0, pulled.stderr
    assert onggi("run", "--rm", ref, "echo", "token ok", check=True).stdout == "token ok\n"


def test_from_an_image_that_is_only_in_the_registry_pulls_it(onggi, rt, registry, tmp_path):
    base = f"{registry.address}/bases/busybox:1"
    onggi("tag", "busybox", base, check=True)
    onggi("push", base, check=True)
    onggi("rmi", base, check=True)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(f"FROM {base}\nRUN echo pulled-base > /m\n")
    out = onggi("build", "-t", "frompull:1", ctx, check=True, timeout=120).stdout
    assert f"pulling {base}: not in the image store" in out
    assert rt.images.resolve(base).id == rt.images.resolve("busybox").id
    assert onggi("run", "--rm", "frompull:1", "cat", "/m", check=True).stdout == "pulled-base\n"


def test_the_components_view_lists_what_the_announced_registry_holds(onggi, rt, registry):
    """The Registry box reads the registry (GET /v2/_catalog), not the local names: a tag alone adds
    nothing, a push adds the repository."""
    from runtime.image.registry.local import announce, announced, catalog
    from web.diagrams import components
    assert catalog(registry.address) == []
    assert components.collect(rt, None, {})["repositories"] is None            # nothing announced
    announce(rt.config.run, registry.address)
    try:
        assert announced(rt.config.run) == registry.address
        ref = f"{registry.address}/view/busybox:1"
        onggi("tag", "busybox", ref, check=True)
        assert components.collect(rt, None, {})["repositories"] == []
        onggi("push", ref, check=True)
        assert components.collect(rt, None, {})["repositories"] == ["view/busybox"]
    finally:
        announce(rt.config.run, None)
    assert announced(rt.config.run) is None
    registry.stop()
    assert catalog(registry.address) is None
