"""The CLI reads flags as Docker does, and fails the way Docker does (one line, 125)."""
import pytest

from runtime.cli import containers, output
from runtime.cli.parser import Parser


def parse_run(argv):
    p = Parser(prog="onggi run", add_help=False)
    containers.run_setup(p)
    return p.parse_args(argv)


def test_flags_stop_at_the_image():
    args = parse_run(["-it", "--rm", "-e", "A=1", "-e", "B=2", "-m", "64m", "busybox", "ls", "-l", "--all"])
    assert args.interactive and args.tty and args.rm
    assert args.env == ["A=1", "B=2"] and args.memory == "64m"
    assert args.image == "busybox" and args.command == ["ls", "-l", "--all"]


def test_dash_h_is_hostname_like_docker():
    assert parse_run(["-h", "box", "busybox"]).hostname == "box"


def test_spec_from_flags(monkeypatch):
    monkeypatch.setenv("FROM_HOST", "yes")
    args = parse_run(["--name", "web", "-e", "FROM_HOST", "-e", "X=1", "--cpus", "0.5", "--pids-limit", "20",
                      "-v", "/a:/b:ro", "--network", "none", "--entrypoint", "", "busybox", "sh"])
    spec = containers._spec(args)
    assert spec.name == "web" and spec.env == ("FROM_HOST=yes", "X=1")
    assert spec.cpus == 0.5 and spec.pids_limit == 20 and spec.volumes[0].readonly
    assert spec.entrypoint == () and spec.cmd == ("sh",) and spec.network == "none"


def test_unknown_flag_exits_125(capsys):
    with pytest.raises(SystemExit) as info:
        parse_run(["--nope", "busybox"])
    assert info.value.code == 125
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "onggi run --help" in err


def test_a_missing_image_is_named_alone_as_the_command_is_optional(capsys):
    with pytest.raises(SystemExit) as info:
        parse_run([])
    assert info.value.code == 125
    assert capsys.readouterr().err == ("onggi run: the following arguments are required: image. "
                                       "See 'onggi run --help'.\n")


def test_zero_memory_and_cpus_mean_no_limit_as_in_docker():
    spec = containers._spec(parse_run(["-m", "0", "--cpus", "0", "busybox"]))
    assert spec.memory is None and spec.cpus is None


@pytest.mark.parametrize("template, expected", [
    ("{{.State.Pid}}", "42"),
    ("{{.State.Running}}", "true"),
    ("{{json .Config.Env}}", '["A=1"]'),
    ("{{.Name}} {{.Missing.Field}}!", "/web !"),
])
def test_format_templates(template, expected):
    doc = {"State": {"Pid": 42, "Running": True}, "Config": {"Env": ["A=1"]}, "Name": "/web"}
    assert containers.format_template(template, doc) == expected


def test_commit_changes():
    changes = containers.parse_changes(['CMD ["cat", "/f"]', "ENV A=1", "WORKDIR /app", "EXPOSE 80",
                                        "ENTRYPOINT echo hi", "LABEL a=b c=d", "USER nobody"])
    assert changes == {"Cmd": ["cat", "/f"], "Env": ["A=1"], "WorkingDir": "/app",
                       "ExposedPorts": {"80/tcp": {}}, "Entrypoint": ["/bin/sh", "-c", "echo hi"],
                       "Labels": {"a": "b", "c": "d"}, "User": "nobody"}
    from runtime.errors import InvalidArgument
    with pytest.raises(InvalidArgument):
        containers.parse_changes(["RUN rm -rf /"])


@pytest.mark.parametrize("n, text", [(0, "0B"), (999, "999B"), (1000, "1kB"), (4_260_000, "4.26MB"),
                                     (2_140_000_000, "2.14GB")])
def test_sizes_like_docker(n, text):
    assert output.human_size(n) == text


@pytest.mark.parametrize("seconds, text", [(0.5, "Less than a second"), (1, "1 second"), (45, "45 seconds"),
                                           (90, "About a minute"), (600, "10 minutes"), (3600, "About an hour"),
                                           (7200, "2 hours"), (3 * 86400, "3 days")])
def test_durations_like_docker(seconds, text):
    assert output.duration(seconds) == text


def test_table_aligns_columns(capsys):
    output.table(["A", "LONG HEADER"], [["xyz", "1"]])
    assert capsys.readouterr().out == "A     LONG HEADER\nxyz   1\n"


def test_usage_lists_every_verb():
    from runtime.cli import VERBS, usage
    text = usage()
    assert all(f"  {verb} " in text for verb in VERBS)


def test_publishing_with_the_host_network_warns_as_docker_does(capsys):
    containers._spec(parse_run(["--network", "host", "-p", "8080:80", "busybox"]))
    assert capsys.readouterr().err == "WARNING: Published ports are discarded when using host network mode\n"
    containers._spec(parse_run(["--network", "none", "busybox"]))
    assert capsys.readouterr().err == ""


def test_a_mistyped_verb_suggests_the_one_meant(capsys):
    from runtime.cli import run
    assert run(["rnu"]) == 125
    assert capsys.readouterr().err == ("onggi: 'rnu' is not an onggi command. "
                                       "Did you mean 'run'? See 'onggi --help'\n")
    assert run(["xyzzy"]) == 125
    assert "Did you mean" not in capsys.readouterr().err


def test_help_verb_shows_that_verbs_help_as_docker_help_run(capsys):
    from runtime.cli import run
    with pytest.raises(SystemExit) as info:     # argparse's --help
        run(["help", "run"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: onggi run [OPTIONS] IMAGE") and "--step" in out


def test_an_unknown_flag_of_a_subcommand_names_the_subcommands_help(capsys):
    from runtime.cli import network
    p = Parser(prog="onggi network", add_help=False)
    network.network_setup(p)
    with pytest.raises(SystemExit) as info:
        p.parse_args(["create", "--bogus", "lab"])
    assert info.value.code == 125
    assert capsys.readouterr().err == ("onggi network create: unrecognized arguments: --bogus. "
                                       "See 'onggi network create --help'.\n")
    assert p.parse_args(["create", "--subnet", "10.99.0.0/24", "lab"]).name == "lab"
