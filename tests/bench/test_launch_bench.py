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

    # settle: onggi's warm server forks its next worker after each command, and
    # that worker's zygote joins a spare cgroup, holding cgroup_mutex through an
    # RCU grace period: a runc started at that moment would wait for it.
    result = paired(run_onggi, run_runc, runs=int(os.environ.get("BENCH_RUNS", "40")),
                    settle=float(os.environ.get("BENCH_SETTLE", "0.1")))
    report("launch latency: run --rm --network none busybox true",
           "onggi run --rm --network none busybox true", "runc run (same namespaces)", result)
    assert result["a_median_ms"] > 0


def test_launch_latency_on_cgroup2_vs_runc(onggi, onggi_config, runc_bundle, tmp_path, stop_warm):
    """The cgroup v2 launch path (clone3 into the cgroup, no zygote) timed for real on
    a hybrid host, whose cgroup2 mount (unified/) has no controllers: onggi pointed at
    it, with a warm server of its own, against the same runc as above. On a pure v2
    host the test above already is this one."""
    root = onggi_config.cgroup_root
    if (root / "cgroup.controllers").exists() or not (root / "unified" / "cgroup.controllers").exists():
        pytest.skip("not a hybrid host: the launch bench above runs the host's own layout")
    run_dir = tmp_path / "run-v2"
    env = dict(onggi.env, ONGGI_CGROUP_ROOT=str(root / "unified"), ONGGI_RUN=str(run_dir))
    argv = [".venv/bin/onggi", "run", "--rm", "--network", "none", "busybox", "true"]
    try:
        result = paired(lambda: time_once(argv, env=env),
                        lambda: time_once(["runc", "run", "--bundle", str(runc_bundle),
                                           f"b{uuid.uuid4().hex[:10]}"]),
                        runs=int(os.environ.get("BENCH_RUNS", "40")),
                        settle=float(os.environ.get("BENCH_SETTLE", "0.1")))
    finally:
        stop_warm(run=run_dir)
    report("launch latency on cgroup v2 (this host's unified/ mount, no controllers)",
           "onggi run (cgroup v2: clone3 into cgroup)", "runc run (same namespaces)", result)
    assert result["a_median_ms"] > 0


def test_first_process_into_a_cgroup2_cgroup_cloned_vs_moved(onggi_config):
    """What a launch on cgroup v2 saves: its first process cloned straight into its
    cgroup (clone3 with CLONE_INTO_CGROUP) against cloned and then moved (a write to
    cgroup.procs, as on v1 and as runc does), after a quiet spell of 60 ms each time,
    as between two commands. Measured on this host's cgroup2 tree (unified/ here)."""
    import time
    from pathlib import Path

    from runtime.linux.syscalls import CLONE_NEWPID, Syscalls
    root = Path("/sys/fs/cgroup")
    v2 = root if (root / "cgroup.controllers").exists() else root / "unified"
    if not (v2 / "cgroup.controllers").exists():
        pytest.skip("no cgroup2 tree on this host")
    parent = v2 / f"{onggi_config.cgroup_parent}-clone3"
    parent.mkdir(exist_ok=True)
    sys = Syscalls()

    def once(cloned: bool) -> float:
        time.sleep(0.06)
        d = parent / uuid.uuid4().hex[:8]
        d.mkdir()
        fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
        try:
            t0 = time.perf_counter()
            pid = sys.clone(CLONE_NEWPID, cgroup_fd=fd) if cloned else sys.clone(CLONE_NEWPID)
            if pid == 0:
                time.sleep(0.05)
                os._exit(0)
            if not cloned:
                (d / "cgroup.procs").write_text(str(pid))
            elapsed = time.perf_counter() - t0
            os.waitpid(pid, 0)
            return elapsed
        finally:
            os.close(fd)
            d.rmdir()

    try:
        result = paired(lambda: once(True), lambda: once(False), runs=int(os.environ.get("BENCH_RUNS", "40")) // 2)
    finally:
        parent.rmdir()
    report("first process into its cgroup (cgroup2), after a quiet spell",
           "clone3 CLONE_INTO_CGROUP (onggi on v2)", "clone then write cgroup.procs (v1; runc)", result)
    assert result["a_median_ms"] < result["b_median_ms"]
