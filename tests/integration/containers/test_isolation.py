"""What a container sees: PID 1, its own hostname, namespaces, /dev, /proc, capabilities.

Each test runs a tiny probe (a busybox shell line) inside a real container and
checks what it reports against what the host shows.
"""
import os

import pytest

pytestmark = pytest.mark.root

NONE = ("--network", "none")


def run_probe(onggi, script, *flags):
    proc = onggi("run", "--rm", *NONE, *flags, "busybox", "sh", "-c", script)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_command_is_pid_1_and_ps_sees_only_the_container(onggi):
    out = run_probe(onggi, "echo $$; ps -o pid,comm | tail -n +2")
    lines = out.split("\n")
    assert lines[0] == "1"
    pids = [line.split()[0] for line in lines[1:] if line.strip()]
    assert pids[0] == "1"
    # sh, ps, and the subshell of the pipe: nothing of the host's hundreds
    assert len(pids) <= 3 and all(int(p) < 10 for p in pids), out


def test_hostname_defaults_to_short_id_and_can_be_set(onggi):
    proc = onggi("run", "-d", *NONE, "busybox", "sleep", "30", check=True)
    cid = proc.stdout.strip()
    try:
        assert onggi("exec", cid, "hostname", check=True).stdout.strip() == cid[:12]
    finally:
        onggi("rm", "-f", cid)
    assert run_probe(onggi, "hostname", "--hostname", "onggi-box").strip() == "onggi-box"
    assert os.uname().nodename != "onggi-box"


def test_namespaces_differ_from_the_host(onggi):
    out = run_probe(onggi, "for n in pid mnt uts ipc net cgroup user; do echo $n $(readlink /proc/self/ns/$n); done")
    inside = dict(line.split() for line in out.strip().splitlines())
    for kind in ("pid", "mnt", "uts", "ipc", "net", "cgroup"):
        assert inside[kind] != os.readlink(f"/proc/self/ns/{kind}"), kind
    assert inside["user"] == os.readlink("/proc/self/ns/user")      # onggi does not unshare users


def test_inspect_reports_namespace_inodes_and_cgroup(onggi, rt):
    cid = onggi("run", "-d", *NONE, "busybox", "sleep", "30", check=True).stdout.strip()
    try:
        doc = rt.container(cid).inspect()
        pid = doc["State"]["Pid"]
        assert pid > 0 and doc["State"]["Running"]
        for kind, ns in doc["Namespaces"].items():
            assert ns["Inode"] == os.stat(f"/proc/{pid}/ns/{kind}").st_ino
            assert ns["HostInode"] == os.stat(f"/proc/self/ns/{kind}").st_ino
        assert doc["Namespaces"]["pid"]["Isolated"] and not doc["Namespaces"]["user"]["Isolated"]
        cg = doc["Cgroup"]["Path"]
        assert cg.endswith(cid) and cg in open(f"/proc/{pid}/cgroup").read()
        assert doc["GraphDriver"]["Data"]["MergedDir"] in open("/proc/self/mountinfo").read()
    finally:
        onggi("rm", "-f", cid)


def test_pivot_root_not_chroot_and_minimal_dev(onggi):
    out = run_probe(onggi, "cat /proc/self/mountinfo; echo ---; ls /dev")
    mounts, dev = out.split("---")
    root = next(line for line in mounts.splitlines() if line.split()[4] == "/")
    assert " - overlay " in root
    assert not any("/tmp/" in line.split()[4] for line in mounts.splitlines())   # no host paths
    names = set(dev.split())
    assert {"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm", "mqueue"} <= names
    assert "sda" not in names and "kmsg" not in names


def test_proc_masked_and_sys_readonly(onggi):
    out = run_probe(onggi, "wc -c < /proc/keys; touch /sys/x 2>&1; echo 1 > /proc/sys/kernel/domainname 2>&1; "
                           "grep -E ' /sys | /proc/sys ' /proc/self/mountinfo")
    lines = out.splitlines()
    assert lines[0].strip() == "0"                                  # /dev/null over /proc/keys
    assert "Read-only file system" in out
    assert all(" ro," in line or " ro " in line for line in lines if " /sys " in line or " /proc/sys " in line)


def test_docker_default_capabilities_and_no_new_privs(onggi):
    from runtime.linux import caps
    out = run_probe(onggi, "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status")
    fields = dict(line.split(":") for line in out.strip().splitlines())
    assert int(fields["CapEff"], 16) == caps.mask(caps.DOCKER_DEFAULT)
    assert int(fields["CapBnd"], 16) == caps.mask(caps.DOCKER_DEFAULT)
    assert fields["NoNewPrivs"].strip() == "1"
    # without CAP_SYS_ADMIN, mount(2) is refused with EPERM (busybox: "permission denied")
    denied = onggi("run", "--rm", *NONE, "busybox", "sh", "-c", "mount -t tmpfs t /tmp 2>&1; echo rc=$?")
    assert "permission denied" in denied.stdout.lower() and "rc=1" in denied.stdout


def test_user_workdir_env_and_entrypoint(onggi, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\n")
    out = run_probe(onggi, "id -u; id -g; pwd; echo $GREETING $FROM_FILE $HOME",
                    "-u", "nobody", "-w", "/tmp/work", "-e", "GREETING=annyeong", "--env-file", env_file)
    uid, gid, cwd, env = out.strip().splitlines()
    assert (uid, gid, cwd) == ("65534", "65534", "/tmp/work")
    assert env.split()[:2] == ["annyeong", "yes"]
    proc = onggi("run", "--rm", *NONE, "--entrypoint", "echo", "busybox", "from", "entrypoint", check=True)
    assert proc.stdout == "from entrypoint\n"


def test_volumes_and_read_only_root(onggi, tmp_path):
    (tmp_path / "in.txt").write_text("from the host")
    out = run_probe(onggi, "cat /data/in.txt; echo out > /data/out.txt; touch /x 2>&1; echo rw > /tmp/ok 2>&1 || true",
                    "-v", f"{tmp_path}:/data", "--read-only")
    assert out.startswith("from the host")
    assert "Read-only file system" in out
    assert (tmp_path / "out.txt").read_text() == "out\n"
    ro = onggi("run", "--rm", *NONE, "-v", f"{tmp_path}:/data:ro", "busybox", "sh", "-c", "echo x > /data/y")
    assert ro.returncode != 0 and not (tmp_path / "y").exists()


def test_volume_target_through_an_image_symlink_stays_inside(onggi, rt, tmp_path):
    """A symlink in the rootfs must not send a bind mount to the host (secure_join)."""
    host = tmp_path / "vol"
    host.mkdir()
    (host / "f").write_text("vol")
    c = rt.create(__import__("runtime").ContainerSpec(image="busybox", cmd=("sleep", "1"), network="none"))
    # plant "escape -> /etc" in the container's writable layer
    os.symlink("/etc", c.record.upper / "escape")
    c.remove()
    proc = onggi("run", "--rm", *NONE, "-v", f"{host}:/escape/inside", "busybox", "cat", "/escape/inside/f")
    assert proc.returncode == 0 and proc.stdout == "vol"
    assert not os.path.exists("/etc/inside")


def test_only_stdio_reaches_the_command_whatever_its_starter_had_open(onggi, tmp_path):
    """As runc: fds the starting process left open (a shell's, an IDE's) do not leak
    into the container. Cold, so the monitor is a fork of that very process."""
    import subprocess
    held = os.open(tmp_path, os.O_RDONLY)                # inheritable in the child below
    try:
        proc = subprocess.run([".venv/bin/onggi", "run", "--rm", *NONE, "busybox", "ls", "/proc/self/fd"],
                              env=dict(onggi.env, ONGGI_NO_WARM="1"), pass_fds=(held,),
                              capture_output=True, text=True, timeout=60)
    finally:
        os.close(held)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["0", "1", "2", "3"]   # 3: the directory ls reads
