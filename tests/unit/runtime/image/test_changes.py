import os
import stat

import pytest

from runtime.image.changes import changes
from runtime.image.layers import OVERLAY_OPAQUE


def whiteout(path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o000, os.makedev(0, 0))
    except PermissionError:
        pytest.skip("this kernel does not allow unprivileged whiteout devices")


def make(root, files: dict) -> None:
    """{"a/b": "text" | None (directory)}."""
    for rel, content in files.items():
        path = root / rel
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)


@pytest.fixture
def stack(tmp_path):
    """Two lower layers like a small image, and an empty upper dir."""
    low, mid, upper = (tmp_path / n for n in ("low", "mid", "upper"))
    make(low, {"bin/sh": "sh", "bin/ls": "ls", "etc/motd": "v1", "etc/hosts": "h",
               "data/keep/file": "k", "data/gone/file": "g", "data/redo/old": "o"})
    make(mid, {"etc/motd": "v2", "data/redo/new": "n", "added": "a"})
    whiteout(mid / "data" / "gone")  # deleted by the middle layer
    upper.mkdir()
    return [low, mid], upper


def test_nothing_changed(stack, syscalls):
    lowers, upper = stack
    assert changes(upper, lowers, syscalls) == []


def test_added_changed_deleted(stack, syscalls):
    lowers, upper = stack
    make(upper, {"etc/motd": "v3", "newdir/file": "x", "data/gone/file": "back"})
    whiteout(upper / "etc" / "hosts")
    (upper / "bin").mkdir()
    whiteout(upper / "bin" / "ls")
    whiteout(upper / "nothing-below")  # a whiteout of what no lower has: not a change
    assert changes(upper, lowers, syscalls) == [
        ("C", "/bin"),
        ("D", "/bin/ls"),
        ("C", "/data"),
        ("A", "/data/gone"),  # the middle layer deleted it, so it is new again
        ("A", "/data/gone/file"),
        ("C", "/etc"),
        ("D", "/etc/hosts"),
        ("C", "/etc/motd"),
        ("A", "/newdir"),
        ("A", "/newdir/file"),
    ]


def test_opaque_directory_hides_the_lower_entries(stack, syscalls):
    lowers, upper = stack
    make(upper, {"data/redo/fresh": "f", "data/redo/new": "n2"})
    syscalls.lsetxattr(upper / "data" / "redo", OVERLAY_OPAQUE, b"y")
    assert changes(upper, lowers, syscalls) == [
        ("C", "/data"),
        ("C", "/data/redo"),
        ("A", "/data/redo/fresh"),
        ("C", "/data/redo/new"),
        ("D", "/data/redo/old"),
    ]


def test_an_opaque_lower_layer_hides_the_layers_below_it(tmp_path, syscalls):
    low, mid, upper = tmp_path / "low", tmp_path / "mid", tmp_path / "upper"
    make(low, {"d/old": "o"})
    make(mid, {"d/new": "n"})
    syscalls.lsetxattr(mid / "d", OVERLAY_OPAQUE, b"y")
    make(upper, {"d/old": "again", "d/new": "changed"})
    assert changes(upper, [low, mid], syscalls) == [("C", "/d"), ("C", "/d/new"), ("A", "/d/old")]


def test_a_file_in_a_lower_layer_hides_a_directory_below(tmp_path, syscalls):
    low, mid, upper = tmp_path / "low", tmp_path / "mid", tmp_path / "upper"
    make(low, {"x/inner": "i"})
    make(mid, {"x": "now a file"})
    make(upper, {"x/inner": "new"})  # overlay would have replaced x with a dir
    assert changes(upper, [low, mid], syscalls) == [("C", "/x"), ("A", "/x/inner")]
