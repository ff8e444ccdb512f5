import os

import pytest

from runtime.config import Config
from runtime.core import Runtime
from runtime.errors import NotRoot, Unsupported


def test_check_host_needs_overlayfs(tmp_path):
    (tmp_path / "filesystems").write_text("nodev\tsysfs\nnodev\tproc\n\text4\n")
    rt = Runtime(Config(root=tmp_path / "r", run=tmp_path / "run", proc=tmp_path), publisher=None)
    if os.geteuid() != 0:
        with pytest.raises(NotRoot):
            rt.check_host()
        return
    with pytest.raises(Unsupported, match="no overlayfs") as info:
        rt.check_host()
    assert "modprobe overlay" in info.value.one_line()
    (tmp_path / "filesystems").write_text("nodev\toverlay\n")
    rt.check_host()


def test_config_from_env_and_back():
    cfg = Config.from_env({"ONGGI_ROOT": "/x", "ONGGI_CGROUP_PARENT": "p", "ONGGI_BRIDGE_SUBNET": "10.1.0.0/24"})
    assert str(cfg.root) == "/x" and cfg.cgroup_parent == "p" and cfg.bridge_subnet == "10.1.0.0/24"
    assert Config.from_env(cfg.to_env()) == cfg


def test_subsystems_are_built_on_first_use(tmp_path):
    rt = Runtime(Config(root=tmp_path / "r", run=tmp_path / "run"))
    assert "images" not in vars(rt) and "cgroups" not in vars(rt)
    rt.images
    assert "images" in vars(rt)
