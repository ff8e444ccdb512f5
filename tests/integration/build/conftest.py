"""Fixtures for builds on the real kernel: a build context in a temporary directory."""
from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest


@pytest.fixture
def context(tmp_path):
    """make(files: {relpath: text|bytes}) -> the context directory; Dockerfile text is dedented."""
    root = tmp_path / "ctx"
    root.mkdir()

    def make(files: dict) -> Path:
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(textwrap.dedent(content).lstrip("\n") if rel.endswith("Dockerfile")
                                else content)
        return root
    yield make
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def build(onggi, context):
    """build(*flags, ctx) -> CompletedProcess of `onggi build`."""
    def run(*args, check=True):
        proc = onggi("build", *args, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"onggi build {' '.join(map(str, args))} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc
    return run
