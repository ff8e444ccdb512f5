"""The local registry will not start on a port something else holds: otherwise that other
server would answer its start-up check and be handed out as ours."""
import socket

import pytest

from runtime.errors import PortInUse
from runtime.image.registry.local import LocalRegistry, port_free


def test_a_taken_port_is_refused_before_anything_is_written(tmp_path):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen(1)
        port = other.getsockname()[1]
        assert not port_free("127.0.0.1", port)
        registry = LocalRegistry(tmp_path / "registry", port=port)
        with pytest.raises(PortInUse, match=f"127.0.0.1:{port} is already in use"):
            registry.start()
        assert registry.process is None and not (tmp_path / "registry").exists()
    assert port_free("127.0.0.1", port)
