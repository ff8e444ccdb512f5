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
