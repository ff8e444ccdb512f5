"""Issue 4's build benchmark: a five-step Dockerfile rebuilt with nothing changed,
`onggi build` against `podman build` (both warm: every step cached), paired and
alternating. Goal: onggi at most half of podman's time.

podman gets its own storage in a temporary directory, runc as its runtime and
cgroupfs as its cgroup manager (crun refuses this host's hybrid cgroups), the
ulimits this machine needs (CONTAINERS_CONF), and the same busybox base image,
loaded from an `onggi save` archive.
"""
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from .harness import paired, report, time_once

ONGGI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "onggi"

pytestmark = pytest.mark.root

DOCKERFILE = """\
FROM busybox
WORKDIR /app
COPY hello.txt .
RUN cat hello.txt > copy.txt
ENV GREETING=hi
CMD ["cat", "/app/copy.txt"]
"""
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
"""


@pytest.fixture
def bench_dir():
    # podman refuses a runroot path longer than 50 characters: pytest's tmp_path is too long.
    path = Path(tempfile.mkdtemp(prefix="onggi-bb-"))
    yield path
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f if line.split()[4].startswith(str(path))]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


def test_rebuild_nothing_changed_vs_podman(onggi, onggi_config, bench_dir):
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    ctx = bench_dir / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "hello.txt").write_text("hello\n")
    conf = bench_dir / "containers.conf"
    conf.write_text(CONTAINERS_CONF)
    podman_env = dict(os.environ, CONTAINERS_CONF=str(conf))
    podman = ["podman", "--root", str(bench_dir / "storage"), "--runroot", str(bench_dir / "runroot"),
              "--storage-driver", "overlay"]
    archive = bench_dir / "busybox.tar"
    onggi("save", "-o", archive, "busybox", check=True)
    loaded = subprocess.run([*podman, "load", "-i", str(archive)], env=podman_env, capture_output=True,
                            text=True)
    assert loaded.returncode == 0, loaded.stderr
    try:
        onggi_argv = [str(ONGGI), "build", "-t", "bench:1", str(ctx)]
        podman_argv = [*podman, "build", "-t", "bench:1", str(ctx)]
        time_once(onggi_argv, env=onggi.env)          # the first builds fill both caches
        time_once(podman_argv, env=podman_env)
        out = subprocess.run(onggi_argv, env=onggi.env, capture_output=True, text=True).stdout
        assert out.count("CACHED [") == 5, out
        result = paired(lambda: time_once(onggi_argv, env=onggi.env),
                        lambda: time_once(podman_argv, env=podman_env), runs=20, warmup=2)
        report("rebuild of a five-step Dockerfile, nothing changed (warm cache)",
               "onggi build", "podman build", result)
        assert result["ratio"] <= 0.5, result
    finally:
        subprocess.run([*podman, "rmi", "-a", "-f"], env=podman_env, capture_output=True)
