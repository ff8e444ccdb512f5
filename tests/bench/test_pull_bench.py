"""Issue 4's pull benchmark: a five-layer image of about 50 MB from a local registry
(Debian's docker-registry on 127.0.0.1), `onggi pull` against `skopeo copy docker://...
oci:...`, each run into an empty store, paired and alternating. Goal: ratio <= 1.0.

The image is built by onggi (five RUN layers of 10 MB of random bytes, which no
compression could shrink) and pushed once; both tools then download the same
blobs and verify every digest.
"""
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from runtime.image.registry.local import LocalRegistry

from .harness import paired, report, time_once

pytestmark = pytest.mark.root

ONGGI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "onggi"
DOCKERFILE = "FROM busybox\n" + "".join(
    f"RUN head -c 10000000 /dev/urandom > /layer{i}.bin\n" for i in range(5))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pull_50mb_vs_skopeo(onggi, tmp_path):
    for tool in ("skopeo", "docker-registry"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    with LocalRegistry(tmp_path / "registry", port=_free_port()) as reg:
        ref = f"{reg.address}/bench/big:1"
        onggi("build", "-t", ref, ctx, check=True, timeout=300)
        onggi("push", ref, check=True, timeout=300)
        scratch = Path(tempfile.mkdtemp(prefix="onggi-pull-bench-", dir=tmp_path))

        def onggi_pull() -> float:
            # A fresh, empty image store each time; the same run directory, so the CLI's
            # warm server (see runtime/cli/warm.py) serves every run as it serves users.
            d = Path(tempfile.mkdtemp(dir=scratch))
            env = dict(onggi.env, ONGGI_ROOT=str(d / "root"))
            try:
                return time_once([str(ONGGI), "pull", "-q", ref], env=env)
            finally:
                shutil.rmtree(d, ignore_errors=True)

        def skopeo_copy() -> float:
            d = Path(tempfile.mkdtemp(dir=scratch))
            try:
                return time_once(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{ref}",
                                  f"oci:{d / 'layout'}:big"])
            finally:
                shutil.rmtree(d, ignore_errors=True)

        probe = Path(tempfile.mkdtemp(dir=scratch))
        env = dict(onggi.env, ONGGI_ROOT=str(probe / "root"))
        subprocess.run([str(ONGGI), "pull", "-q", ref], env=env, check=True, capture_output=True)
        size = sum(p.stat().st_size for p in (probe / "root" / "image" / "blobs").rglob("*") if p.is_file())
        shutil.rmtree(probe)
        assert 45e6 < size < 60e6, size

        result = paired(onggi_pull, skopeo_copy, runs=10, warmup=1)
        report(f"pull of a 5-layer image ({size / 1e6:.1f} MB) from a local registry",
               "onggi pull", "skopeo copy docker:// oci:", result)
    assert result["ratio"] <= 1.0, result
