"""The CLI as a Docker user types it: shapes, filters, templates and errors that
Docker users rely on in scripts (found by auditing the CLI against docker's)."""
import os

import pytest

pytestmark = pytest.mark.root

NONE = ("--network", "none")


def _one_line_125(proc):
    assert proc.returncode == 125, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def _dirs(onggi_config):
    d = onggi_config.containers_dir
    return set(os.listdir(d)) if d.exists() else set()


def test_system_df_counts_images(onggi):
    images = set(onggi("images", "-q", check=True).stdout.split())
    row = next(line for line in onggi("system", "df", check=True).stdout.splitlines()
               if line.startswith("Images"))
    assert int(row.split()[1]) == len(images) >= 1, row


def test_env_key_unset_on_the_host_is_not_set(onggi, rt):
    env = {"PARITY_SET": "yes"}
    out = onggi("run", "--rm", *NONE, "-e", "PARITY_SET", "-e", "PARITY_UNSET", "busybox", "env",
                env_extra=env, check=True).stdout
    assert "PARITY_SET=yes" in out and "PARITY_UNSET" not in out
    onggi("run", "-d", *NONE, "--name", "envbox", "busybox", "sleep", "30", check=True)
    out = onggi("exec", "-e", "PARITY_UNSET", "envbox", "env", check=True).stdout
    assert "PARITY_UNSET" not in out


def test_rm_f_of_a_missing_container_is_not_an_error(onggi, rt):
    proc = onggi("rm", "-f", "parity-nosuch")
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert onggi("rm", "parity-nosuch").returncode == 125


def test_start_running_is_a_noop_and_one_bad_name_does_not_stop_the_others(onggi, rt):
    onggi("run", "-d", *NONE, "--name", "up1", "busybox", "sleep", "30", check=True)
    proc = onggi("start", "up1")
    assert proc.returncode == 0 and proc.stdout == "up1\n", proc.stderr
    onggi("create", *NONE, "--name", "later", "busybox", "sleep", "30", check=True)
    proc = onggi("start", "parity-nosuch", "later")
    assert proc.returncode == 125 and "no such container" in proc.stderr
    assert proc.stdout == "later\n"
    assert onggi("inspect", "-f", "{{.State.Status}}", "later").stdout.strip() == "running"


def test_ps_filter_and_format(onggi, rt):
    onggi("run", *NONE, "--name", "done3", "-l", "tier=x", "busybox", "sh", "-c", "exit 3")
    onggi("run", "-d", *NONE, "--name", "alive", "busybox", "sleep", "30", check=True)
    # a status filter lists stopped containers without -a, as Docker does
    assert onggi("ps", "-f", "status=exited", "--format", "{{.Names}}", check=True).stdout.split() == ["done3"]
    assert onggi("ps", "-a", "-f", "exited=3", "-f", "label=tier=x", "--format", "{{.Names}} {{.State}}",
                 check=True).stdout == "done3 exited\n"
    assert onggi("ps", "-q", "-f", "name=aliv", check=True).stdout.strip() == \
        onggi("inspect", "-f", "{{.Id}}", "alive").stdout.strip()[:12]
    table = onggi("ps", "--format", r"table {{.Names}}\t{{.Status}}", check=True).stdout.splitlines()
    assert table[0].split() == ["NAMES", "STATUS"] and table[1].startswith("alive ")
    assert "invalid filter" in _one_line_125(onggi("ps", "-f", "colour=red"))
    assert "no placeholder .Nope" in _one_line_125(onggi("ps", "--format", "{{.Nope}}"))


def test_inspect_range_over_networks(onggi, rt):
    """Docker's documented way to get an address; it used to print the whole document."""
    onggi("run", "-d", "--name", "addr", "busybox", "sleep", "30", check=True)
    ip = onggi("inspect", "-f", "{{.NetworkSettings.IPAddress}}", "addr", check=True).stdout.strip()
    out = onggi("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "addr",
                check=True).stdout.strip()
    assert ip and out == ip
    assert "invalid template" in _one_line_125(onggi("inspect", "-f", "{{range .Config.Env}}", "addr"))


@pytest.mark.parametrize("args, message", [
    (["--name", "n" * 300], "longer than 255 characters"),
    (["--hostname", "h" * 65], "longer than 64 bytes"),
    (["-w", "/etc/passwd"], "cannot use working directory /etc/passwd: not a directory"),
    (["-v", "/etc/hostname:/bin"], "cannot mount volume /etc/hostname:/bin"),
])
def test_bad_run_input_is_one_line_and_leaves_nothing(onggi, onggi_config, rt, args, message):
    before = _dirs(onggi_config)
    err = _one_line_125(onggi("run", "--rm", *NONE, *args, "busybox", "true"))
    assert message in err and "bug in onggi" not in err
    assert _dirs(onggi_config) == before


def test_exec_bad_workdir_says_so(onggi, rt):
    onggi("run", "-d", *NONE, "--name", "wd", "busybox", "sleep", "30", check=True)
    assert "cannot use working directory" in _one_line_125(onggi("exec", "-w", "/etc/passwd", "wd", "true"))


def test_logs_tail_bad_value_is_one_line(onggi, rt):
    onggi("run", *NONE, "--name", "tl", "busybox", "sh", "-c", "echo a; echo b", check=True)
    assert "invalid --tail" in _one_line_125(onggi("logs", "--tail", "abc", "tl"))
    assert onggi("logs", "--tail", "1", "tl", check=True).stdout == "b\n"
    assert onggi("logs", "--tail", "-1", "tl", check=True).stdout == "a\nb\n"


def test_inspect_of_nothing_says_no_such_object_not_no_such_image(onggi):
    proc = onggi("inspect", "nosuch-parity")
    assert proc.returncode == 1 and proc.stdout.strip() == "[]"
    assert proc.stderr == ("onggi: no such object: nosuch-parity. 'onggi ps -a' lists the containers "
                           "and 'onggi images' the images\n")
    assert "no such image" in onggi("inspect", "--type", "image", "nosuch-parity").stderr
