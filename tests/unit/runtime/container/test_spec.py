import pytest

from runtime.container.spec import (ContainerSpec, PortMapping, Volume, merge_env, parse_publish,
                                    resolve_process, to_oci)
from runtime.errors import InvalidArgument

IMAGE = {"config": {"Env": ["PATH=/bin", "GREETING=hello"], "Cmd": ["sh"], "WorkingDir": "/data",
                    "Entrypoint": None, "User": ""}}
CID = "0123456789ab" + "c" * 52


def proc(**kw):
    return resolve_process(ContainerSpec(image="busybox", **kw), IMAGE, CID, "host")


def test_defaults_come_from_the_image():
    p = proc()
    assert p.args == ("sh",) and p.cwd == "/data" and p.hostname == CID[:12] and p.user == ""
    assert p.env == ("PATH=/bin", "HOSTNAME=" + CID[:12], "GREETING=hello")   # Docker's order


def test_cmd_replaces_image_cmd_and_entrypoint_resets_it():
    assert proc(cmd=("echo", "hi")).args == ("echo", "hi")
    assert proc(entrypoint=("echo",)).args == ("echo",)            # image Cmd dropped
    assert proc(entrypoint=("echo",), cmd=("a",)).args == ("echo", "a")
    img = {"config": {"Entrypoint": ["/entry"], "Cmd": ["default"]}}
    assert resolve_process(ContainerSpec(image="x"), img, CID).args == ("/entry", "default")
    assert resolve_process(ContainerSpec(image="x", cmd=("mine",)), img, CID).args == ("/entry", "mine")


def test_env_overrides_by_key_and_tty_sets_term():
    p = proc(env=("GREETING=annyeong", "NEW=1"), tty=True)
    env = dict(e.split("=", 1) for e in p.env)
    assert env["GREETING"] == "annyeong" and env["NEW"] == "1" and env["TERM"] == "xterm"
    assert "PATH=/usr/local/sbin" in resolve_process(ContainerSpec(image="x", cmd=("a",)), {}, CID).env[0]


def test_host_network_uses_host_hostname_and_no_command_is_an_error():
    assert proc(network="host").hostname == "host"
    assert proc(hostname="box").hostname == "box"
    with pytest.raises(InvalidArgument, match="no command specified"):
        resolve_process(ContainerSpec(image="x"), {"config": {}}, CID)


@pytest.mark.parametrize("items, expected", [
    (["A=1", "B=2", "A=3"], ["A=3", "B=2"]),
    (["A"], []),
    (["A=1", "B=2", "A"], ["B=2"]),     # -e A with no A on the host unsets A, as Docker does
    (["A=x=y"], ["A=x=y"]),
])
def test_merge_env(items, expected):
    assert merge_env(items, []) == expected


@pytest.mark.parametrize("text, expected", [
    ("/host:/ctr", Volume("/host", "/ctr", False)),
    ("/host:/ctr:ro", Volume("/host", "/ctr", True)),
    ("/host:/ctr:rw", Volume("/host", "/ctr", False)),
])
def test_volume_parse(text, expected):
    assert Volume.parse(text) == expected


@pytest.mark.parametrize("text", ["rel:/ctr", "/host:rel", "/host", "/host:/ctr:xx", "/h:/", ""])
def test_volume_parse_errors(text):
    with pytest.raises(InvalidArgument):
        Volume.parse(text)


@pytest.mark.parametrize("text, expected", [
    ("8080:80", PortMapping("0.0.0.0", 8080, 80, "tcp")),
    ("127.0.0.1:8080:80/udp", PortMapping("127.0.0.1", 8080, 80, "udp")),
    ("80", PortMapping("0.0.0.0", 0, 80, "tcp")),
    ("[::1]:9000:90", PortMapping("::1", 9000, 90, "tcp")),
])
def test_parse_publish(text, expected):
    assert parse_publish(text) == [expected]


@pytest.mark.parametrize("text", ["x:80", "80:y", "8080:80/sctp", "70000:80", "1.2.3:80:80", "0:0"])
def test_parse_publish_errors(text):
    with pytest.raises(InvalidArgument):
        parse_publish(text)


def test_spec_dict_round_trip():
    spec = ContainerSpec(image="busybox", cmd=("a",), volumes=(Volume("/a", "/b", True),),
                         ports=(PortMapping("0.0.0.0", 1, 2),), labels=(("k", "v"),), memory=64)
    assert ContainerSpec.from_dict(spec.to_dict()) == spec


def test_oci_config_says_what_runc_would_get():
    spec = ContainerSpec(image="busybox", read_only=True)
    oci = to_oci(spec, proc(), namespaces=["pid", "mnt", "net"], cgroup_path="/onggi/x",
                 limits={"memory": 64, "cpu_quota": 50000, "cpu_period": 100000, "pids": 10},
                 capabilities=["CAP_CHOWN"], mounts=[])
    assert oci["process"]["args"] == ["sh"] and oci["process"]["noNewPrivileges"] is True
    assert oci["root"]["readonly"] is True
    assert [n["type"] for n in oci["linux"]["namespaces"]] == ["pid", "mount", "network"]
    assert oci["linux"]["resources"] == {"memory": {"limit": 64, "swap": 64},
                                         "cpu": {"quota": 50000, "period": 100000},
                                         "pids": {"limit": 10}}
    assert "/proc/kcore" in oci["linux"]["maskedPaths"]


def test_hostname_longer_than_the_kernel_allows_is_refused_before_launch():
    assert proc(hostname="h" * 64).hostname == "h" * 64
    with pytest.raises(InvalidArgument, match="longer than 64 bytes"):
        proc(hostname="h" * 65)
