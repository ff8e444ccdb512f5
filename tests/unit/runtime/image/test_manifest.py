import pytest

from runtime.errors import InvalidArgument
from runtime.image.manifest import (apply_changes, derive_config, encode, host_platform, merge_env,
                                    new_config)


def test_encode_is_canonical():
    assert encode({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == '{"a":[1,{"c":"é","d":2}],"b":1}'.encode()


def test_host_platform_uses_go_names():
    platform = host_platform()
    assert platform["os"] == "linux"
    assert platform["architecture"] in ("amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64")


@pytest.mark.parametrize("settings, changes, expected", [
    ({}, {"Cmd": ["sh"]}, {"Cmd": ["sh"]}),
    ({"Cmd": ["sh"]}, {"Cmd": ["ls"]}, {"Cmd": ["ls"]}),
    ({"Env": ["A=1", "B=2"]}, {"Env": ["B=3", "C=4"]}, {"Env": ["A=1", "B=3", "C=4"]}),
    ({"Labels": {"a": "1"}}, {"Labels": {"b": "2"}}, {"Labels": {"a": "1", "b": "2"}}),
    ({"ExposedPorts": {"80/tcp": {}}}, {"ExposedPorts": {"443/tcp": {}}},
     {"ExposedPorts": {"80/tcp": {}, "443/tcp": {}}}),
    ({"Entrypoint": ["x"], "WorkingDir": "/"}, {"Entrypoint": None}, {"WorkingDir": "/"}),
    ({"User": None}, {}, {}),
])
def test_apply_changes(settings, changes, expected):
    before = {k: v for k, v in settings.items()}
    assert apply_changes(settings, changes) == expected
    assert settings == before  # a new dict; the parent's config is not touched


def test_apply_changes_refuses_unknown_keys():
    with pytest.raises(InvalidArgument, match="invalid config change 'cmd'"):
        apply_changes({}, {"cmd": ["sh"]})


def test_merge_env_keeps_order():
    assert merge_env(["PATH=/bin", "A=1"], ["PATH=/usr/bin"]) == ["PATH=/usr/bin", "A=1"]


def test_new_and_derived_config():
    base = new_config("2024-01-01T00:00:00Z", {"created": "2024-01-01T00:00:00Z", "created_by": "x"},
                      ["sha256:" + "a" * 64], {"Cmd": ["sh"]})
    base["container_config"] = {"Cmd": ["junk"]}  # as Docker writes
    history = {"created": "2024-02-02T00:00:00Z", "created_by": "commit"}
    child = derive_config(base, "sha256:" + "b" * 64, history, {"Env": ["A=1"]}, author="me")
    assert child["rootfs"]["diff_ids"] == ["sha256:" + "a" * 64, "sha256:" + "b" * 64]
    assert child["history"][-1] == history and len(child["history"]) == 2
    assert child["config"] == {"Cmd": ["sh"], "Env": ["A=1"]}
    assert child["created"] == "2024-02-02T00:00:00Z" and child["author"] == "me"
    assert "container_config" not in child
    assert base["rootfs"]["diff_ids"] == ["sha256:" + "a" * 64]  # parent untouched
    empty = derive_config(base, None, history)
    assert empty["history"][-1]["empty_layer"] is True
    assert empty["rootfs"] == base["rootfs"]
