"""Issue 2's benchmark: launch latency of `onggi run --rm --network none busybox true`
against `runc run` on a busybox bundle with the same namespaces."""
import json
import os
import shutil
import subprocess
import uuid

import pytest

from .harness import paired, report, time_once

pytestmark = pytest.mark.root


@pytest.fixture
def runc_bundle(tmp_path, onggi_config):
    """Our own busybox layer as a plain runc bundle: pid, net, ipc, uts, mount and cgroup namespaces."""
    from runtime.core import Runtime
    rt = Runtime(onggi_config)
    layer = rt.images.layer_dirs(rt.images.resolve("busybox"))[0]
    bundle = tmp_path / "bundle"
    shutil.copytree(layer, bundle / "rootfs", symlinks=True)
    subprocess.run(["runc", "spec"], cwd=bundle, check=True)
    config = json.loads((bundle / "config.json").read_text())
    config["process"]["terminal"] = False
    config["process"]["args"] = ["true"]
    kinds = {n["type"] for n in config["linux"]["namespaces"]}
    config["linux"]["namespaces"] += [{"type": "cgroup"}] if "cgroup" not in kinds else []
    config["linux"]["cgroupsPath"] = f"/{onggi_config.cgroup_parent}-runc/bench"
    (bundle / "config.json").write_text(json.dumps(config))
    yield bundle
    # runc leaves the cgroup parent it made in every hierarchy; remove it.
    from pathlib import Path
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        parent = hierarchy / f"{onggi_config.cgroup_parent}-runc"
        for d in sorted(parent.glob("**/"), key=lambda p: -len(p.parts)) if parent.is_dir() else []:
            try:
                d.rmdir()
            except OSError:
                pass


def test_launch_latency_vs_runc(onggi, runc_bundle):
    onggi_argv = [".venv/bin/onggi", "run", "--rm", "--network", "none", "busybox", "true"]
    env = onggi.env

    def run_onggi():
        return time_once(onggi_argv, env=env)

    def run_runc():
        return time_once(["runc", "run", "--bundle", str(runc_bundle), f"b{uuid.uuid4().hex[:10]}"])

    result = paired(run_onggi, run_runc, runs=int(os.environ.get("BENCH_RUNS", "40")))
    report("launch latency: run --rm --network none busybox true",
           "onggi run --rm --network none busybox true", "runc run (same namespaces)", result)
    assert result["a_median_ms"] > 0
