"""The first thing a Docker user types, end to end through the real CLI."""
import pytest

pytestmark = pytest.mark.root


def test_run_echo(onggi):
    proc = onggi("run", "--rm", "busybox", "echo", "hello")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello\n"


def test_nothing_left_after_rm(onggi, rt):
    onggi("run", "--rm", "busybox", "true", check=True)
    assert rt.containers.ids() == []
    assert not rt.cgroups.names()
