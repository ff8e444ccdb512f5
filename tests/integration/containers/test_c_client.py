"""The `onggi` client in C (runtime/cli/client.c) against a stand-in warm server that
records what it is sent: the same request warm.py's Python client makes, fds and
signals passed on, the exit code returned, and the Python CLI whenever no server
will run the command."""
import marshal
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.root

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Path:
    if shutil.which("cc") is None:
        pytest.skip("no C compiler (make setup installs gcc)")
    out = tmp_path_factory.mktemp("client") / "onggi"
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", f'-DONGGI_PYTHON="{sys.executable}"',
                    "-o", str(out), str(REPO / "runtime/cli/client.c")], check=True)
    return out


class FakeServer:
    """Serves warm.py's protocol on RUN/cli.sock: each connection gets the next
    answer from ANSWERS, a function of the request returning the bytes to send."""

    def __init__(self, run: Path, answers, hold=None):
        self.requests = []
        self.hold = hold                      # called before a connection is closed
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(run / "cli.sock"))
        self.sock.listen(4)
        self.answers = list(answers)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        for answer in self.answers:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return                        # closed
            with conn:
                head, fds, _, _ = socket.recv_fds(conn, 4, 3)
                size, data = int.from_bytes(head, "big"), b""
                while len(data) < size:
                    data += conn.recv(size - len(data))
                request = dict(zip(("argv", "env", "cwd", "umask"), marshal.loads(data)), fds=len(fds))
                self.requests.append(request)
                try:
                    conn.sendall(answer(request, fds))
                    if self.hold is not None:
                        self.hold()
                finally:
                    for fd in fds:
                        os.close(fd)

    def close(self):
        self.sock.close()


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    return d


def env_for(run_dir, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ONGGI_")}
    return dict(env, ONGGI_RUN=str(run_dir), **extra)


def exits(code: int, out: bytes = b""):
    def answer(request, fds):
        if out:
            os.write(fds[1], out)             # the client's own stdout, passed to us
        return b"P" + (4242).to_bytes(4, "big") + b"X" + code.to_bytes(4, "big", signed=True)
    return answer


def test_the_request_is_what_the_python_client_sends(client, run_dir, tmp_path):
    server = FakeServer(run_dir, [exits(7, b"from the worker\n")])
    proc = subprocess.run([str(client), "run", "--rm", "-e", "K=값", "busybox", "sh", "-c", "echo a  b"],
                          env=env_for(run_dir, X_TEST="héllo 한국"), cwd=tmp_path, capture_output=True,
                          preexec_fn=lambda: os.umask(0o027))
    server.close()
    assert proc.returncode == 7 and proc.stdout == b"from the worker\n"
    [req] = server.requests
    assert req["argv"] == ["run", "--rm", "-e", "K=값", "busybox", "sh", "-c", "echo a  b"]
    assert req["env"]["X_TEST"] == "héllo 한국" and req["env"]["ONGGI_RUN"] == str(run_dir)
    assert req["cwd"] == str(tmp_path) and req["umask"] == 0o027 and req["fds"] == 3


def test_signals_go_to_the_worker_and_its_death_by_one_is_the_exit_status(client, run_dir):
    worker = subprocess.Popen(["sleep", "30"])           # stands in for the worker process

    def answer(request, fds):
        return b"P" + worker.pid.to_bytes(4, "big")

    server = FakeServer(run_dir, [answer], hold=lambda: worker.wait(timeout=10))
    proc = subprocess.Popen([str(client), "run", "busybox", "sleep", "30"], env=env_for(run_dir))
    try:
        deadline = time.monotonic() + 5
        while not server.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.1)                                # the P reached it
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 128 + signal.SIGINT
        assert worker.wait(timeout=5) == -signal.SIGINT
    finally:
        worker.kill()
        server.close()


def test_a_stale_server_makes_it_the_python_cli(client, run_dir):
    """'S': the Python CLI runs the command; here it asks the server again first
    (as it would a fresh one), and that second request is answered."""
    server = FakeServer(run_dir, [lambda req, fds: b"S", exits(3)])
    proc = subprocess.run([str(client), "ps", "-a"], env=env_for(run_dir), capture_output=True, timeout=30)
    server.close()
    assert proc.returncode == 3
    assert [r["argv"] for r in server.requests] == [["ps", "-a"], ["ps", "-a"]]


def test_text_marshal_would_refuse_goes_through_the_python_cli(client, run_dir):
    """A non-UTF-8 argument: the Python client sends it (surrogateescape), not us."""
    server = FakeServer(run_dir, [exits(0)])
    arg = b"caf\xe9"
    proc = subprocess.run([str(client).encode(), b"inspect", arg], env=env_for(run_dir), timeout=30)
    server.close()
    assert proc.returncode == 0
    assert server.requests[0]["argv"] == ["inspect", os.fsdecode(arg)]


def test_without_warm_it_is_the_python_cli(client, run_dir):
    proc = subprocess.run([str(client), "--version"], env=env_for(run_dir, ONGGI_NO_WARM="1"),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout.startswith("onggi version ")
    assert not (run_dir / "cli.sock").exists()


def test_make_setup_installed_it_as_onggi():
    with open(REPO / ".venv/bin/onggi", "rb") as f:
        assert f.read(4) == b"\x7fELF"
