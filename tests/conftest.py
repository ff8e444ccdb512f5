"""Fixtures shared by every test tree.

* ``@pytest.mark.root`` tests are skipped (not failed) when not root.
* ``onggi_config``: a whole onggi of its own for this test session, in a temporary
  directory, with its own cgroup parent (``onggi-test-XXXX``), bridge names
  (``onggiXXXX*``), subnet and nftables table, so a running onggi is never touched.
  The busybox base image is built in it once.
* ``rt``: a Runtime over that config; containers a test leaves are removed after it.
* ``onggi``: runs the real CLI (``.venv/bin/onggi``) against that config.

Teardown removes every kernel object the session made (processes, mounts,
cgroups, bridges and veths, nftables table) even when tests failed, with plain
calls that do not depend on the code under test working.
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ONGGI = REPO / ".venv" / "bin" / "onggi"
CGROUP_ROOT = Path("/sys/fs/cgroup")


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (real namespaces, cgroups and mounts)")
    for item in items:
        if "root" in item.keywords:
            item.add_marker(skip)


def _session_config():
    from runtime.config import Config
    tag = secrets.token_hex(2)
    base = Path(tempfile.mkdtemp(prefix=f"onggi-test-{tag}-"))
    octet = 100 + int(tag, 16) % 100
    return Config(root=base / "root", run=base / "run", cgroup_root=CGROUP_ROOT,
                  cgroup_parent=f"onggi-test-{tag}", bridge_name=f"onggi{tag}0",
                  bridge_subnet=f"10.{octet}.{int(tag[:2], 16)}.0/24",
                  bridge_prefix=f"onggi{tag}", nft_table=f"onggi_test_{tag}"), base


@pytest.fixture(scope="session")
def onggi_config():
    if os.geteuid() != 0:
        pytest.skip("needs root")
    config, base = _session_config()
    from runtime.core import Runtime
    try:
        Runtime(config).images.ensure_base()
        yield config
    finally:
        teardown_onggi(config)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def rt(onggi_config):
    """A Runtime over the session's onggi; containers this test makes are removed after it."""
    from runtime.core import Runtime
    runtime = Runtime(onggi_config)
    before = set(runtime.containers.ids())
    yield runtime
    for cid in set(runtime.containers.ids()) - before:
        try:
            runtime.container(cid).remove(force=True)
        except Exception:          # noqa: BLE001 - teardown must go on
            pass


@pytest.fixture
def onggi(onggi_config):
    """Run the real CLI against the session's onggi: onggi("run", "--rm", "busybox", "true")."""
    env = dict(os.environ, **onggi_config.to_env())
    env.pop("ONGGI_DEBUG", None)

    def run(*args, input=None, timeout=60, check=False, env_extra=None):
        proc = subprocess.run([str(ONGGI), *map(str, args)], input=input, capture_output=True,
                              timeout=timeout, env=dict(env, **(env_extra or {})),
                              text=not isinstance(input, bytes))
        if check and proc.returncode != 0:
            raise AssertionError(f"onggi {' '.join(map(str, args))} exited {proc.returncode}: "
                                 f"{proc.stderr}")
        return proc
    run.env = env
    return run


@pytest.fixture
def stop_warm(onggi_config):
    """Stop the session's warm CLI server now (it restarts on the next CLI call), or
    the one of another run dir: stop_warm(run=PATH)."""
    from dataclasses import replace
    return lambda run=None: stop_warm_server(onggi_config if run is None else replace(onggi_config, run=run))


# --- teardown that trusts nothing ---------------------------------------------------

def stop_warm_server(config) -> None:
    """Stop every warm CLI server process (runtime/cli/warm.py) of this config's run
    dir, its spare included, and one still starting up; return once they are gone."""
    mine = f"ONGGI_RUN={config.run}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if b"runtime.cli.warm" not in f.read():
                    continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                if mine not in f.read().split(b"\0"):
                    continue
            os.kill(int(entry), signal.SIGTERM)
            pids.append(int(entry))
        except OSError:
            pass
    deadline = time.monotonic() + 5
    for pid in pids:
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.01)
        if _running(pid):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def teardown_onggi(config) -> None:
    """Remove every kernel object this config's onggi may have made."""
    stop_warm_server(config)
    try:
        from runtime.core import Runtime
        rt = Runtime(config)
        for cid in rt.containers.ids():
            try:
                rt.container(cid).remove(force=True)
            except Exception:      # noqa: BLE001
                pass
        try:
            rt.system_prune()
        except Exception:          # noqa: BLE001
            pass
    except Exception:              # noqa: BLE001
        pass
    _kill_cgroup_procs(config.cgroup_parent)
    _unmount_under(str(config.root))
    _remove_cgroups(config.cgroup_parent)
    _remove_links(config.bridge_prefix)
    subprocess.run(["nft", "delete", "table", "inet", config.nft_table], capture_output=True)
    subprocess.run(["nft", "delete", "table", "ip", config.nft_table], capture_output=True)


def _parent_dirs(parent: str):
    for d in CGROUP_ROOT.iterdir():
        p = d / parent
        if p.is_dir():
            yield p


def _kill_cgroup_procs(parent: str) -> None:
    for _ in range(50):
        pids = set()
        for d in _parent_dirs(parent):
            for procs in d.rglob("cgroup.procs"):
                try:
                    pids.update(int(x) for x in procs.read_text().split())
                except OSError:
                    pass
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def _remove_cgroups(parent: str) -> None:
    for d in list(_parent_dirs(parent)):
        for sub in sorted((p for p in d.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
            try:
                sub.rmdir()
            except OSError:
                pass
        try:
            d.rmdir()
        except OSError:
            pass


def _unmount_under(prefix: str) -> None:
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)


def _remove_links(prefix: str) -> None:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(prefix):
            subprocess.run(["ip", "link", "delete", name], capture_output=True)


if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
