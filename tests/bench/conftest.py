"""Shared by the benchmarks: our busybox rootfs as a podman image (podman is the peer
of the network and monitor-memory benchmarks)."""
import os
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest


@pytest.fixture
def podman_busybox(tmp_path, onggi_config):
    """Our busybox layer imported into podman, and the environment podman needs here."""
    from runtime.core import Runtime
    rt = Runtime(onggi_config)
    layer = rt.images.layer_dirs(rt.images.resolve("busybox"))[0]
    archive = tmp_path / "busybox.tar"
    with tarfile.open(archive, "w") as tar:
        tar.add(layer, arcname=".")
    conf = tmp_path / "containers.conf"
    text = '[containers]\ndefault_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]\n'
    if not Path("/sys/fs/cgroup/cgroup.controllers").exists():
        # crun refuses hybrid/v1 cgroup hierarchies ("cgroups in hybrid mode not
        # supported"); runc, podman's other runtime, handles them.
        text += '[engine]\nruntime = "runc"\n'
    conf.write_text(text)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    image = f"localhost/onggi-bench-busybox:{uuid.uuid4().hex[:8]}"
    subprocess.run(["podman", "import", str(archive), image], env=env, check=True, capture_output=True)
    yield image, env
    subprocess.run(["podman", "rmi", "-f", image], env=env, capture_output=True)
