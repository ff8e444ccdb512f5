""".dockerignore matching and the content hash of what a COPY names."""
import os

import pytest

from runtime.build import dockerignore
from runtime.build.context import BuildContext, SourceNotFound, content_hash


@pytest.mark.parametrize("patterns,path,excluded", [
    ("*.log", "a.log", True),
    ("*.log", "dir/a.log", False),          # * stays within one component
    ("**/*.log", "dir/sub/a.log", True),
    ("**/*.log", "a.log", True),
    ("node_modules", "node_modules/x/y.js", True),   # a matched directory takes its contents
    ("/secret", "secret", True),
    ("./build/", "build/out", True),
    ("a?c", "abc", True),
    ("a?c", "a/c", False),
    ("[ab].txt", "b.txt", True),
    ("[!ab].txt", "c.txt", True),
    ("*.md\n!README.md", "README.md", False),
    ("*.md\n!README.md", "NOTES.md", True),
    ("!README.md\n*.md", "README.md", True),          # the last match decides
    ("# comment\n\n  tmp  ", "tmp/x", True),
    ("docs/**", "docs/a/b", True),
    ("docs/**", "docsx", False),
    ("a\\*b", "a*b", True),
    ("a\\*b", "axb", False),
    ("\ufeffsecret.txt", "secret.txt", True),       # a byte order mark is no part of the pattern
])
def test_patterns(patterns, path, excluded):
    assert dockerignore.parse(patterns).excluded(path) is excluded


def test_skip_dir_only_without_exceptions():
    assert dockerignore.parse("build").skip_dir("build")
    assert not dockerignore.parse("build\n!build/keep").skip_dir("build")


@pytest.fixture
def ctx(tmp_path):
    root = tmp_path / "ctx"
    (root / "src" / "sub").mkdir(parents=True)
    (root / "hello.txt").write_text("hello\n")
    (root / "src" / "a.py").write_text("a")
    (root / "src" / "sub" / "b.py").write_text("b")
    (root / "src" / "debug.log").write_text("noise")
    os.symlink("a.py", root / "src" / "link")
    (root / ".dockerignore").write_text("**/*.log\n")
    return root


def make(root):
    return BuildContext(root, dockerignore.load(root))


def test_a_file_source(ctx):
    (src,) = make(ctx).sources(["hello.txt"])
    assert src.name == "hello.txt" and not src.is_dir
    assert [(i.rel, i.kind) for i in src.items] == [("", "file")]


def test_a_directory_source_is_walked_without_ignored_files(ctx):
    (src,) = make(ctx).sources(["src"])
    assert src.is_dir
    assert [(i.rel, i.kind) for i in src.items] == [
        ("a.py", "file"), ("link", "symlink"), ("sub", "dir"), ("sub/b.py", "file")]


def test_wildcards(ctx):
    names = [s.name for s in make(ctx).sources(["src/*.py", "*.txt"])]
    assert names == ["src/a.py", "hello.txt"]


@pytest.mark.parametrize("pattern", ["missing.txt", "src/*.go", "src/debug.log", "../outside"])
def test_missing_ignored_or_outside_sources(ctx, pattern):
    with pytest.raises(SourceNotFound):
        make(ctx).sources([pattern])


def test_content_hash_follows_content_and_mode_not_time(ctx):
    first, files = content_hash(make(ctx).sources(["."]))
    assert set(files) >= {"hello.txt", "src/a.py", "src/sub/b.py"} and "src/debug.log" not in files
    os.utime(ctx / "hello.txt", (1, 1))
    assert content_hash(make(ctx).sources(["."]))[0] == first
    (ctx / "src" / "debug.log").write_text("ignored change")
    assert content_hash(make(ctx).sources(["."]))[0] == first
    os.chmod(ctx / "hello.txt", 0o755)
    second, _ = content_hash(make(ctx).sources(["."]))
    assert second != first
    (ctx / "hello.txt").write_text("changed\n")
    third, files3 = content_hash(make(ctx).sources(["."]))
    assert third not in (first, second)
    assert files3["hello.txt"] != files["hello.txt"] and files3["src/a.py"] == files["src/a.py"]


def test_symlinks_never_lead_out_of_the_context(ctx, tmp_path):
    outside = tmp_path / "host-secret"
    outside.write_text("host")
    os.symlink("/", ctx / "root")                       # absolute: means the context's own root
    os.symlink(str(outside), ctx / "abs-link")
    (ctx / "real.txt").write_text("inside")
    os.symlink("real.txt", ctx / "rel-link")
    (src,) = make(ctx).sources(["root/hello.txt"])
    assert src.items[0].path == ctx / "hello.txt"
    (src,) = make(ctx).sources(["rel-link"])            # a source symlink is followed...
    assert src.items[0].kind == "file" and src.items[0].path == ctx / "real.txt"
    with pytest.raises(SourceNotFound):                 # ...but only within the context
        make(ctx).sources(["abs-link"])
    (src,) = make(ctx).sources(["root/src/sub/*.py"])
    assert src.name == "root/src/sub/b.py" and src.items[0].path == ctx / "src" / "sub" / "b.py"
