"""`onggi serve`'s checks (no server started here) and Socket.IO's origin check."""
import pytest

from runtime.errors import InvalidArgument
from web.serve import command, is_loopback, origins


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.8.0.1", True), ("localhost", True),
                                           ("::1", True), ("0.0.0.0", False), ("10.0.0.5", False),
                                           ("example.org", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def test_a_non_loopback_bind_needs_the_flag():
    with pytest.raises(InvalidArgument, match="not a loopback address") as info:
        command(["--host", "0.0.0.0", "--port", "7700"])
    assert "--allow-remote" in info.value.hint


def test_bad_port_is_refused():
    with pytest.raises(InvalidArgument, match="invalid --port"):
        command(["--port", "0"])


def test_serve_takes_an_instructors_lessons_folder(tmp_path, monkeypatch):
    with pytest.raises(InvalidArgument, match="no such folder of lessons"):
        command(["--lessons", str(tmp_path / "nope")])
    seen = {}

    class Stop(Exception):
        pass

    def create_app(config):
        seen.update(config)
        raise Stop()
    monkeypatch.setattr("web.create_app", create_app)
    with pytest.raises(Stop):
        command(["--lessons", str(tmp_path), "--simulate"])
    assert seen["ONGGI_LESSONS"] == str(tmp_path)


def test_origins_of_loopback_have_both_spellings():
    assert origins("127.0.0.1", 7700) == ["http://127.0.0.1:7700", "http://localhost:7700"]
    assert origins("10.0.0.5", 80) == ["http://10.0.0.5:80"]


def test_socketio_accepts_only_the_served_origin(onggi_dirs):
    from web import create_app
    from web.config import TestConfig

    class Cfg(TestConfig):
        ONGGI_RUNTIME = onggi_dirs
        ONGGI_ORIGINS = origins("127.0.0.1", 7700)
    client = create_app(Cfg).test_client()
    path = "/socket.io/?EIO=4&transport=polling"
    auth = {"Authorization": "Bearer test-token"}
    assert client.get(path, headers=auth | {"Origin": "http://127.0.0.1:7700"}).status_code == 200
    assert client.get(path, headers=auth | {"Origin": "http://localhost:7700"}).status_code == 200
    assert client.get(path, headers=auth | {"Origin": "http://evil.example"}).status_code == 400


def test_the_registry_port_taken_by_another_registry_is_said_not_used(tmp_path, capsys):
    """Another registry (another onggi's) already answers on the port: serve must not announce
    it as its own (ours fails to bind, but 'GET /v2/ answers' passed first) and goes on without."""
    import shutil
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from runtime.config import Config
    from web.serve import _start_registry

    class V2(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), V2)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        config = Config(root=tmp_path / "root", run=tmp_path / "run")
        registry = _start_registry(config, other.server_address[1])
        if registry is not None:
            registry.stop()
        assert registry is None
        err = capsys.readouterr().err
        assert "already in use" in err and "serving without it" in err
        assert not shutil.which("docker-registry") or not (tmp_path / "root" / "registry.config.yml").exists()
    finally:
        other.shutdown()
        other.server_close()
