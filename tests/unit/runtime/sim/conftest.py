"""A simulated onggi of its own per test (no root needed): ``sim`` is a SimRuntime over tmp_path,
``spec`` builds a ContainerSpec from busybox with one change, ``events`` reads its events log."""
from __future__ import annotations

import pytest


@pytest.fixture
def sim(tmp_path):
    from runtime.config import Config
    from runtime.sim import SimRuntime
    rt = SimRuntime(Config(root=tmp_path / "root", run=tmp_path / "run", cgroup_parent="onggi-sim-test"))
    yield rt
    rt.close()


@pytest.fixture
def spec():
    from runtime.container.spec import ContainerSpec

    def make(*cmd, **kw):
        return ContainerSpec(image=kw.pop("image", "busybox"), cmd=tuple(cmd) or ("sleep", "3600"), **kw)
    return make


@pytest.fixture
def events(sim):
    def read(kind=None):
        return [e for e in sim.publisher.read() if kind is None or e["type"] == kind]
    return read


@pytest.fixture
def started(sim, spec):
    """started(*cmd, **spec) -> a running (or already exited) simulated container."""
    def run(*cmd, **kw):
        c = sim.create(spec(*cmd, **kw))
        c.start().wait_started()
        return c
    return run
