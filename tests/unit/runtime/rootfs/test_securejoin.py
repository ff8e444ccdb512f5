import os

import pytest

from runtime.rootfs.securejoin import ensure_inside, secure_join


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "rootfs"
    (r / "etc").mkdir(parents=True)
    (r / "usr/lib").mkdir(parents=True)
    os.symlink("/etc", r / "abs")                 # absolute: means the container's /etc
    os.symlink("../../../../..", r / "up")        # tries to climb out
    os.symlink("usr/lib", r / "lib")
    os.symlink("loop2", r / "loop1")
    os.symlink("loop1", r / "loop2")
    return r


@pytest.mark.parametrize("path, expected", [
    ("/etc/hosts", "etc/hosts"),
    ("/abs/passwd", "etc/passwd"),
    ("/up/etc/shadow", "etc/shadow"),
    ("/../../etc", "etc"),
    ("/lib/x", "usr/lib/x"),
    ("/missing/deep/path", "missing/deep/path"),
    ("/", ""),
])
def test_stays_inside(root, path, expected):
    want = os.path.join(str(root), expected) if expected else str(root)
    assert secure_join(str(root), path) == want


def test_symlink_loop_is_an_error(root):
    with pytest.raises(OSError):
        secure_join(str(root), "/loop1/x")


def test_ensure_inside_creates_dirs_and_files_inside(root):
    d = ensure_inside(str(root), "/abs/new/dir")
    assert d == str(root / "etc/new/dir") and os.path.isdir(d)
    f = ensure_inside(str(root), "/up/file", is_dir=False)
    assert f == str(root / "file") and os.path.isfile(f)
