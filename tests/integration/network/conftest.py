"""The `net` fixture: a test's own containers and user networks, removed after it."""
import pytest

from .helpers import Net


@pytest.fixture
def net(onggi, onggi_config, rt):
    """A Net for this test; its containers and networks are removed after it, even on failure."""
    before = set(rt.containers.ids())
    n = Net(onggi, onggi_config)
    yield n
    for cid in set(rt.containers.ids()) - before:
        try:
            rt.container(cid).remove(force=True)
        except Exception:          # noqa: BLE001 - teardown goes on
            pass
    for name in n.networks:
        onggi("network", "rm", name)
