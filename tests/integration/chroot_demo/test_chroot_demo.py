"""chroot alone vs a container, for real: the chroot sees the host, the container does not."""
import json
import os
import socket
from pathlib import Path

import pytest

from runtime.demo.chroot import chroot_vs_namespaces, run_in_chroot

pytestmark = pytest.mark.root


def mounts_under(path: Path) -> list[str]:
    prefix = str(path) + "/"
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if (line.split()[4] + "/").startswith(prefix)]


def test_chroot_fences_only_the_filesystem(rt, onggi_config):
    before = set(rt.containers.ids())
    r = chroot_vs_namespaces(rt)
    ch, ct, host = r["chroot"], r["container"], r["host"]

    # Files: the one fence chroot makes. / holds busybox's files on both sides, not the host's.
    assert ch["files"] == ct["files"] and "bin" in ch["files"] and not ch["sees_host_files"]
    assert set(host["files"]) - set(ch["files"]), "the host has something in / busybox has not"
    # Processes: the chroot sees the host's, this test's own process among them.
    assert ch["processes"] > ct["processes"]
    assert ch["sees_host_processes"] and os.getpid() in ch["pids"] and 1 in ch["pids"]
    assert not ct["sees_host_processes"] and ct["pids"][0] == 1 and ct["processes"] <= 3
    # Hostname: the host's in the chroot, the container's own in the container.
    assert ch["hostname"] == socket.gethostname() and ch["hostname_is_host"]
    assert ct["hostname"] == ct["id"][:12] and not ct["hostname_is_host"]
    # Network: the host's interfaces in the chroot, only lo in the container.
    assert "lo" in ch["interfaces"] and ch["sees_host_interfaces"]
    assert ct["interfaces"] == ["lo"]
    assert host["pid"] == os.getpid()

    # Nothing left behind: no mount, no scratch directory, no container.
    assert mounts_under(onggi_config.root / "demo") == []
    assert not any((onggi_config.root / "demo").glob("chroot-*"))
    assert set(rt.containers.ids()) == before


def test_the_chroot_really_is_the_image_and_writes_stay_out_of_the_layer(rt, onggi_config):
    layers = [str(p) for p in rt.images.layer_dirs(rt.image("busybox"))]
    before = sorted(os.listdir(layers[-1]))
    out = run_in_chroot(rt.syscalls, layers, onggi_config.root / "demo",
                        "ls /; test -e /etc/debian_version && echo HOST || echo IMAGE; "
                        "echo scribble > /written-in-the-chroot && cat /written-in-the-chroot")
    assert "IMAGE" in out and "HOST" not in out          # / is the image's, not the host's
    assert "scribble" in out
    assert sorted(os.listdir(layers[-1])) == before       # the write went to the private upper
    assert mounts_under(onggi_config.root / "demo") == []


def test_a_hung_chroot_is_killed_and_cleaned(rt, onggi_config):
    from runtime.errors import OnggiError
    layers = [str(p) for p in rt.images.layer_dirs(rt.image("busybox"))]
    with pytest.raises(OnggiError, match="did not finish within 0.5 s"):
        run_in_chroot(rt.syscalls, layers, onggi_config.root / "demo", "sleep 30", timeout=0.5)
    assert mounts_under(onggi_config.root / "demo") == []
    assert not any((onggi_config.root / "demo").glob("chroot-*"))


def test_the_cli_shows_both_sides(onggi):
    done = onggi("demo", "chroot", env_extra={"ONGGI_LANG": "en"})
    assert done.returncode == 0, done.stderr
    assert "chroot only" in done.stdout and socket.gethostname() in done.stdout
    done = onggi("demo", "chroot", env_extra={"ONGGI_LANG": "ko"})
    assert done.returncode == 0, done.stderr
    assert "chroot만" in done.stdout and "chroot only" not in done.stdout
    as_json = json.loads(onggi("demo", "chroot", "--format", "json", check=True).stdout)
    assert as_json["chroot"]["sees_host_processes"] and not as_json["container"]["sees_host_processes"]
