"""`onggi serve` runs simulated when real containers cannot run (and says so in one line), or when asked."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
NOBODY = 65534


def _onggi() -> tuple[list[str], str]:
    """The CLI through a Python this user can run, and the PYTHONPATH it needs. A venv made
    from a Python in root's home cannot be run by another user (its symlink goes through
    /root); the same Python's own copy elsewhere, with the venv's packages, can."""
    import site
    python = sys.executable if os.access(sys.executable, os.X_OK) else \
        shutil.which(f"python{sys.version_info[0]}.{sys.version_info[1]}", path="/usr/bin:/usr/local/bin")
    if python is None:
        pytest.skip("no Python this user can run")
    return ([python, "-c", "import sys; sys.argv[0] = 'onggi'; from runtime.cli import main; main()"],
            os.pathsep.join([str(REPO), *site.getsitepackages()]))


def test_simulate_flag_and_the_reasons(monkeypatch):
    import runtime.sim
    from runtime.errors import NotRoot, Unsupported
    from web.serve import _mode
    simulate, why = _mode(True)
    assert simulate and "--simulate" in why[0] and "--simulate" in why[1]
    monkeypatch.setattr(runtime.sim, "host_problem", lambda config: NotRoot("onggi needs root"))
    simulate, why = _mode(False)
    assert simulate and why[1] == ("real containers cannot be made on this computer: onggi is not running "
                                   "as root (namespaces, cgroups and mounts need root)")
    assert why[0].startswith("이 컴퓨터에서는 진짜 컨테이너를 만들 수 없습니다 — root 권한이 없습니다")
    monkeypatch.setattr(runtime.sim, "host_problem", lambda config: Unsupported("the kernel has no overlayfs"))
    assert "overlayfs" in _mode(False)[1][1]
    monkeypatch.setattr(runtime.sim, "host_problem", lambda config: None)
    assert _mode(False) == (False, None)


def test_host_problem_sees_a_normal_user():
    from runtime.config import Config
    from runtime.errors import NotRoot
    from runtime.sim import host_problem
    problem = host_problem(Config())
    assert (problem is None) == (os.geteuid() == 0 and Path("/proc/filesystems").exists()
                                 and "\toverlay\n" in Path("/proc/filesystems").read_text())
    if os.geteuid() != 0:
        assert isinstance(problem, NotRoot)


def test_usable_config_moves_an_unwritable_root_to_the_users_own(tmp_path):
    from runtime.config import Config
    from runtime.sim import usable_config
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    config = Config(root=locked / "root", run=locked / "run")
    moved = usable_config(config, {"XDG_STATE_HOME": str(tmp_path / "state")})
    if os.geteuid() == 0:
        assert moved == config                 # root can write anywhere
    else:
        assert moved.root == tmp_path / "state" / "onggi" and moved.run == moved.root / "run"
    assert usable_config(config, {"ONGGI_ROOT": str(locked / "root"), "ONGGI_RUN": "x"}) == config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_normal_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("needs setpriv (util-linux) to drop root")
    return [setpriv, f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def test_serve_as_a_normal_user_falls_back_to_simulated_with_one_line():
    prefix, (onggi, pythonpath) = _as_normal_user(), _onggi()
    base = Path(tempfile.mkdtemp(prefix="onggi-sim-serve-"))
    proc = None
    try:
        base.chmod(0o777)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ONGGI_")}
        env.update(ONGGI_ROOT=str(base / "root"), ONGGI_RUN=str(base / "run"), ONGGI_TOKEN="sim-token",
                   HOME=str(base), PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=pythonpath)
        proc = subprocess.Popen([*prefix, *onggi, "serve", "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        said = proc.stderr.readline()
        url = proc.stdout.readline().strip()
        assert said.startswith("onggi serve: running simulated (모의 실행): real containers cannot be made "
                               "on this computer: onggi is not running as root"), said
        assert str(base / "root" / "sim") in said
        assert url == f"http://127.0.0.1:{port}/?token=sim-token"
        deadline = time.monotonic() + 10
        auth = {"Authorization": "Bearer sim-token"}
        while True:
            try:
                page = urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/", headers=auth),
                                              timeout=2).read().decode()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert 'id="sim-banner"' in page and "root 권한이 없습니다" in page
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/containers?all=1", headers=auth)
        assert urllib.request.urlopen(request, timeout=5).read() == b"[]\n"
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()
        shutil.rmtree(base, ignore_errors=True)
    assert proc.returncode == 0


def test_a_world_that_cannot_be_written_is_one_line_at_start(tmp_path):
    from runtime.config import Config
    from runtime.errors import OnggiError
    from runtime.sim import SimRuntime
    from web.serve import _check_world
    (tmp_path / "file").write_text("not a directory")
    rt = SimRuntime(Config(root=tmp_path / "file" / "root", run=tmp_path / "run"))
    with pytest.raises(OnggiError, match="cannot keep the simulated world in") as info:
        _check_world(rt)
    assert "ONGGI_ROOT" in info.value.hint
    rt.close()
