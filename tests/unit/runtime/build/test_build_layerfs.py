"""COPY, ADD and WORKDIR write through the image's symlinks, never over them."""
import io
import os
import tarfile

import pytest

from runtime.build.context import BuildContext
from runtime.build.copy import Staging
from runtime.build.dockerignore import Matcher
from runtime.build.layerfs import LayerStack
from runtime.errors import InvalidArgument
from runtime.linux.fake import RecordingSyscalls


@pytest.fixture
def image(tmp_path):
    """Two layers like a usr-merged image: /bin -> usr/bin, and links made in the upper one."""
    low, top = tmp_path / "low", tmp_path / "top"
    (low / "usr" / "bin").mkdir(parents=True)
    (low / "usr" / "bin" / "sh").write_text("sh")
    (low / "etc").mkdir()
    os.symlink("usr/bin", low / "bin")
    (top / "opt" / "real").mkdir(parents=True)
    os.symlink("/opt/real", top / "abs")
    os.symlink("../../opt/real", top / "opt" / "up")
    os.symlink("loop2", top / "loop1")
    os.symlink("loop1", top / "loop2")
    return LayerStack([low, top], RecordingSyscalls())


@pytest.mark.parametrize("path,resolved", [
    ("/bin", "/usr/bin"),
    ("/bin/", "/usr/bin"),
    ("/bin/new/deeper", "/usr/bin/new/deeper"),     # what does not exist yet is kept
    ("/abs/x", "/opt/real/x"),                      # an absolute target starts again at "/"
    ("/opt/up/x", "/opt/real/x"),                   # ".." in a target, and above "/" stays at "/"
    ("/etc/x", "/etc/x"),
    ("/", "/"),
    ("/missing/bin", "/missing/bin"),
])
def test_resolve_follows_links_inside_the_image(image, path, resolved):
    assert image.resolve(path) == resolved


def test_resolve_gives_up_on_a_link_loop(image):
    with pytest.raises(InvalidArgument, match="too many levels of symbolic links"):
        image.resolve("/loop1/x")


@pytest.fixture
def context(tmp_path):
    root = tmp_path / "ctx"
    (root / "dir").mkdir(parents=True)
    (root / "tool").write_text("tool")
    (root / "dir" / "a").write_text("a")
    return BuildContext(root, Matcher([]))


def staged(tmp_path):
    out = tmp_path / "staging"
    out.mkdir()
    return out


@pytest.mark.parametrize("sources,dest,expected", [
    (["tool"], "/bin/", "usr/bin/tool"),
    (["tool"], "/bin/tool", "usr/bin/tool"),
    (["dir"], "/bin", "usr/bin/a"),
    (["tool"], "/abs/sub/", "opt/real/sub/tool"),
    (["tool"], "x", "usr/bin/x"),                   # relative to a WORKDIR that is a link
])
def test_copy_writes_through_a_linked_destination(image, context, tmp_path, sources, dest, expected):
    root = staged(tmp_path)
    Staging(root, image, None, None).copy_sources(context.sources(sources), dest, "/bin", "COPY")
    assert (root / expected).is_file()
    assert not (root / "bin").exists() and not (root / "abs").exists()


def test_add_extracts_through_a_linked_destination(image, tmp_path):
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        info = tarfile.TarInfo("inside")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    root = staged(tmp_path)
    Staging(root, image, None, None).extract(archive, "/bin", "/", RecordingSyscalls())
    assert (root / "usr" / "bin" / "inside").read_text() == "hi"
    assert not (root / "bin").exists()


@pytest.mark.parametrize("dest", ["/usr/bin/sh/", "/usr/bin/sh/deeper/x", "/bin/sh/"])
def test_copy_never_puts_a_directory_over_a_file_of_the_image(image, context, tmp_path, dest):
    # A directory in the layer would hide the file (COPY x /etc/passwd/ hid the passwd
    # file); Docker fails with "not a directory".
    root = staged(tmp_path)
    with pytest.raises(InvalidArgument, match="/usr/bin/sh is a file in the image, not a directory"):
        Staging(root, image, None, None).copy_sources(context.sources(["tool"]), dest, "/", "COPY")
