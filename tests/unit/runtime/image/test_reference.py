import pytest

from runtime.errors import InvalidReference
from runtime.image.reference import Reference, familiar, parse, try_parse

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize("text, domain, path, tag, digest, familiar_, full", [
    ("busybox", "docker.io", "library/busybox", "latest", None,
     "busybox:latest", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io", "library/busybox", "1.36", None,
     "busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io", "library/busybox", "latest", None,
     "busybox:latest", "docker.io/library/busybox:latest"),
    ("docker.io/busybox", "docker.io", "library/busybox", "latest", None,
     "busybox:latest", "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox:1", "docker.io", "library/busybox", "1", None,
     "busybox:1", "docker.io/library/busybox:1"),
    ("user/app:v1", "docker.io", "user/app", "v1", None, "user/app:v1", "docker.io/user/app:v1"),
    ("library/a/b", "docker.io", "library/a/b", "latest", None,
     "library/a/b:latest", "docker.io/library/a/b:latest"),
    ("localhost:5000/foo:1", "localhost:5000", "foo", "1", None,
     "localhost:5000/foo:1", "localhost:5000/foo:1"),
    ("localhost/fixture/layered:1", "localhost", "fixture/layered", "1", None,
     "localhost/fixture/layered:1", "localhost/fixture/layered:1"),
    ("registry:5000/a/b:tag", "registry:5000", "a/b", "tag", None,
     "registry:5000/a/b:tag", "registry:5000/a/b:tag"),
    ("registry.example.com/a/b/c", "registry.example.com", "a/b/c", "latest", None,
     "registry.example.com/a/b/c:latest", "registry.example.com/a/b/c:latest"),
    ("127.0.0.1:5000/x", "127.0.0.1:5000", "x", "latest", None,
     "127.0.0.1:5000/x:latest", "127.0.0.1:5000/x:latest"),
    ("Registry/x", "Registry", "x", "latest", None, "Registry/x:latest", "Registry/x:latest"),
    ("ab/a__b.c-d_e/f---g", "docker.io", "ab/a__b.c-d_e/f---g", "latest", None,
     "ab/a__b.c-d_e/f---g:latest", "docker.io/ab/a__b.c-d_e/f---g:latest"),
    (f"busybox@{D}", "docker.io", "library/busybox", None, D,
     f"busybox@{D}", f"docker.io/library/busybox@{D}"),
    (f"busybox:1@{D}", "docker.io", "library/busybox", "1", D,
     f"busybox:1@{D}", f"docker.io/library/busybox:1@{D}"),
    ("busybox:A_tag.with-chars", "docker.io", "library/busybox", "A_tag.with-chars", None,
     "busybox:A_tag.with-chars", "docker.io/library/busybox:A_tag.with-chars"),
])
def test_parse(text, domain, path, tag, digest, familiar_, full):
    ref = parse(text)
    assert ref == Reference(domain, path, tag, digest)
    assert ref.familiar == familiar_ == str(ref)
    assert ref.full == full
    assert parse(ref.full) == ref  # the full form parses back to the same reference


@pytest.mark.parametrize("text, message", [
    ("", "invalid reference format"),
    (" busybox", "invalid reference format"),
    ("Busybox", "must be lowercase"),
    ("user/App", "must be lowercase"),
    ("busybox:", "bad tag"),
    ("busybox:-x", "bad tag"),
    (":latest", "invalid reference format"),
    ("busybox@sha256:abc", "bad digest"),
    ("busybox@md5:" + "0" * 32, "bad digest"),
    ("a//b", "invalid reference format"),
    ("a_b.c/x", "invalid reference format"),  # has a dot, so a registry host, and "_" is not allowed there
    ("-a", "invalid reference format"),
    ("a-", "invalid reference format"),
    ("a/b:c/d", "invalid reference format"),
    ("localhost:port/x", "invalid reference format"),
    ("ab" * 32, "cannot specify 64-byte hexadecimal strings"),
    ("a" * 256, "must not be more than 255 characters"),
    ("busybox:" + "t" * 129, "bad tag"),
])
def test_parse_errors(text, message):
    with pytest.raises(InvalidReference, match=message):
        parse(text)
    assert try_parse(text) is None


def test_no_default_tag_keeps_a_bare_name():
    ref = parse("busybox", default_tag=None)
    assert ref.tag is None and ref.familiar == "busybox" and ref.familiar_name == "busybox"
    assert ref.name == "docker.io/library/busybox"


def test_with_tag():
    assert parse(f"busybox@{D}").with_tag("2").familiar == "busybox:2"
    with pytest.raises(InvalidReference):
        parse("busybox").with_tag("bad tag")


def test_familiar_helper():
    assert familiar("docker.io/library/busybox") == "busybox:latest"
