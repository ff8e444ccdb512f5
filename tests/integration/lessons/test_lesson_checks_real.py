"""Every goal check, passed and failed against the real kernel and onggi's real state.

What a check reads is made the way a learner would make it from their own
terminal (the real CLI), so these also show that a check accepts every correct
way to get there, not only the lesson's button.
"""
import os
import time

import pytest

from web.lessons import checks

from .conftest import free_port, until

pytestmark = pytest.mark.root


def passes(ctx, check, /, **params):
    out = checks.run(ctx, check, params)
    assert out.passed, (check, out)
    assert out.seen["ko"] and out.seen["en"] and out.missing is None
    return out


def fails(ctx, check, /, **params):
    out = checks.run(ctx, check, params)
    assert not out.passed, (check, out)
    assert out.seen["ko"] and out.seen["en"] and out.missing["ko"] and out.missing["en"]
    return out


def run_d(onggi, *args) -> str:
    return onggi("run", "-d", *args, check=True).stdout.strip()


# -- containers ---------------------------------------------------------------------------------

def test_container_running_reads_its_limits_back_from_the_cgroup(ctx, onggi, names):
    web = names("web")
    c = ctx()
    assert fails(c, "container_running", name=web).seen["en"] == f"there is no container named {web}"
    run_d(onggi, "--name", web, "-m", "128m", "--cpus", "0.5", "--pids-limit", "20", "--hostname", "h1",
          "--network", "bridge", "busybox", "sleep", "300")
    out = passes(c, "container_running", name=web, image="busybox", memory="128m", cpus=0.5, pids_limit=20,
                 network="bridge", hostname="h1")
    assert "128 MiB memory limit" in out.seen["en"] and "CPU limit of 0.5" in out.seen["en"]
    wrong = fails(c, "container_running", name=web, memory="64m")
    assert wrong.seen["en"] == f"a container named {web} runs, but its memory limit is 128 MiB, not 64 MiB"
    assert "메모리 한도가 64 MiB가 아니라 128 MiB입니다" in wrong.seen["ko"]
    assert "its CPU limit is 0.5, not 1" in fails(c, "container_running", name=web, cpus=1).seen["en"]
    assert "its pids limit is 20, not 30" in fails(c, "container_running", name=web, pids_limit=30).seen["en"]
    assert "it is on bridge, not on host" in fails(c, "container_running", name=web, network="host").seen["en"]
    assert "its hostname is h1, not h2" in fails(c, "container_running", name=web, hostname="h2").seen["en"]
    assert "its image is busybox:latest, not alpine:latest" in \
        fails(c, "container_running", name=web, image="alpine").seen["en"]


def test_container_running_reads_env_user_and_workdir_from_its_config(ctx, onggi, names):
    app = names("app")
    c = ctx()
    run_d(onggi, "--name", app, "-e", "GREETING=안녕", "-e", "MODE=dev", "-u", "1000", "-w", "/tmp",
          "busybox", "sleep", "300")
    out = passes(c, "container_running", name=app, env=["GREETING=안녕", "MODE=dev"], user="1000", workdir="/tmp")
    assert "GREETING=안녕 in its environment" in out.seen["en"] and "working directory /tmp" in out.seen["en"]
    assert passes(c, "container_running", name=app, env="MODE=dev").passed
    wrong = fails(c, "container_running", name=app, env=["MODE=prod", "COLOR=blue"], user="root", workdir="/")
    assert wrong.seen["en"] == (f"a container named {app} runs, but its MODE is dev, not prod, it has no COLOR "
                                "in its environment (-e COLOR=blue), its user is 1000, not root (-u root), "
                                "its working directory is /tmp, not / (-w /)")
    assert "환경 변수 MODE의 값이 prod이(가) 아니라 dev입니다" in wrong.seen["ko"]
    assert "사용자가 root이(가) 아니라 1000입니다" in wrong.seen["ko"]
    plain = names("plain")
    run_d(onggi, "--name", plain, "busybox", "sleep", "300")
    assert passes(c, "container_running", name=plain, user="root", workdir="/").passed


def test_container_running_fails_for_a_container_that_ended(ctx, onggi, names):
    quick = names("quick")
    onggi("run", "--name", quick, "busybox", "true", check=True)
    out = fails(ctx(), "container_running", name=quick)
    assert out.seen["en"] == f"a container named {quick} exists, but it is exited (exit 0)"


def test_container_exited_with_its_code(ctx, onggi, names):
    one = names("one")
    c = ctx()
    fails(c, "container_exited", name=one)
    run_d(onggi, "--name", one, "busybox", "sh", "-c", "sleep 0.3; exit 3")
    assert fails(c, "container_exited", name=one).seen["en"] == f"{one} is running"
    assert until(lambda: checks.run(c, "container_exited", {"name": one}).passed)
    assert passes(c, "container_exited", name=one, exit_code=3).seen["en"] == f"{one} exited with code 3"
    assert fails(c, "container_exited", name=one, exit_code=0).seen["en"] == f"{one} exited with code 3"
    fails(c, "container_exited", name=one, oom_killed=True)


def test_container_exited_and_oom_killed_after_a_real_oom_kill(ctx, onggi, names):
    hog = names("hog")
    c = ctx()
    fails(c, "oom_killed", name=hog)
    run_d(onggi, "--name", hog, "-m", "16m", "busybox", "sh", "-c",
          "for i in $(seq 100); do head -c 1m /dev/zero; done | tail")
    assert until(lambda: checks.run(c, "container_exited", {"name": hog}).passed, timeout=30)
    passes(c, "container_exited", name=hog, exit_code=137, oom_killed=True)
    assert "OOM-killed" in passes(c, "oom_killed", name=hog).seen["en"]


def test_oom_killed_fails_for_a_container_that_did_not_run_out(ctx, onggi, names):
    calm = names("calm")
    run_d(onggi, "--name", calm, "-m", "64m", "busybox", "sleep", "300")
    assert fails(ctx(), "oom_killed", name=calm).seen["en"] == f"no OOM kill in {calm}"


def test_container_removed(ctx, onggi, names):
    gone = names("gone")
    c = ctx()
    passes(c, "container_removed", name=gone)
    run_d(onggi, "--name", gone, "busybox", "sleep", "300")
    assert fails(c, "container_removed", name=gone).seen["en"] == f"{gone} still exists (running)"
    onggi("rm", "-f", gone, check=True)
    passes(c, "container_removed", name=gone)


# -- what the learner ran ---------------------------------------------------------------------------

def test_ran_in_container_counts_a_terminals_exec_since_the_lesson_started(ctx, onggi, names):
    box = names("box")
    run_d(onggi, "--name", box, "busybox", "sleep", "300")
    onggi("exec", box, "ps", check=True)              # before the lesson started: does not count
    time.sleep(0.05)
    c = ctx(since=time.time())
    out = fails(c, "ran_in_container", name=box, command="ps")
    assert out.seen["en"] == f"nothing has been run in {box} yet" and out.missing["en"] == f"run `ps` inside {box}"
    onggi("exec", box, "uname", "-r", check=True)
    assert fails(ctx(since=c.since), "ran_in_container", name=box, command="ps").seen["en"] == \
        f"ran in {box}: `uname -r`"
    onggi("exec", box, "ps", "-o", "pid", check=True)
    assert passes(ctx(since=c.since), "ran_in_container", name=box, command="ps").seen["en"] == \
        f"you ran `ps -o pid` in {box}"
    fails(ctx(since=c.since), "ran_in_container", name=box, command="ps aux")


def test_output_differs_from_the_hosts_even_when_run_from_a_terminal(ctx, onggi, names):
    box = names("box")
    cid = run_d(onggi, "--name", box, "busybox", "sleep", "300")
    c = ctx()
    onggi("exec", box, "hostname", check=True)            # onggi never sees what it printed
    out = passes(c, "ran_in_container", name=box, command="hostname", output_differs_from_host=True)
    host = os.uname().nodename
    assert out.seen["en"] == f"{box} printed `{cid[:12]}`, the host prints `{host}`: they differ"


def test_output_the_same_as_the_hosts_fails(ctx, onggi, names):
    same = names("same")
    run_d(onggi, "--name", same, "--network", "host", "busybox", "sleep", "300")
    c = ctx()
    onggi("exec", same, "hostname", check=True)            # --network host keeps the host's name
    out = fails(c, "ran_in_container", name=same, command="hostname", output_differs_from_host=True)
    assert out.seen["en"] == f"{same} printed `{os.uname().nodename}`, the same as the host"


def test_a_browser_terminals_transcript_counts_with_its_output(ctx, onggi, names):
    box = names("box")
    cid = run_d(onggi, "--name", box, "busybox", "sleep", "300")
    now = time.time()
    typed = [{"container": cid, "entries": [{"time": now + 1, "line": "hostname",
                                             "output": f"hostname\r\n{cid[:12]}\r\n/ # "}]}]
    c = ctx(since=now, transcripts=lambda: typed)
    out = passes(c, "ran_in_container", name=box, command="hostname", output_differs_from_host=True)
    assert f"`{cid[:12]}`" in out.seen["en"]


# -- namespaces ------------------------------------------------------------------------------------------

def test_namespaces_isolated_and_shared(ctx, onggi, names):
    own, hostnet = names("own"), names("hostnet")
    run_d(onggi, "--name", own, "busybox", "sleep", "300")
    run_d(onggi, "--name", hostnet, "--network", "host", "busybox", "sleep", "300")
    c = ctx()
    host_net = os.stat("/proc/self/ns/net").st_ino
    for kind in ("pid", "uts", "mnt", "ipc", "net"):
        out = passes(c, "namespace_isolated", name=own, kind=kind)
        assert f"the host's is {os.stat(f'/proc/self/ns/{kind}').st_ino}: separate" in out.seen["en"]
        fails(c, "namespace_shared", name=own, kind=kind)
    assert passes(c, "namespace_shared", name=hostnet, kind="net").seen["en"] == \
        f"{hostnet}'s net namespace is {host_net}, the host's own"
    assert "the same as the host's" in fails(c, "namespace_isolated", name=hostnet, kind="net").seen["en"]
    passes(c, "namespace_isolated", name=hostnet, kind="uts")
    fails(c, "namespace_isolated", name=names("absent"), kind="net")


def test_namespaces_of_a_stopped_container_cannot_be_read(ctx, onggi, names):
    done = names("done")
    onggi("run", "--name", done, "busybox", "true", check=True)
    assert "is not running" in fails(ctx(), "namespace_isolated", name=done, kind="pid").seen["en"]


# -- cgroups -------------------------------------------------------------------------------------------------

def test_cgroup_value_reads_the_interface_file(ctx, onggi, names, rt):
    lim = names("lim")
    cid = run_d(onggi, "--name", lim, "-m", "64m", "--pids-limit", "20", "busybox", "sleep", "300")
    c = ctx()
    out = passes(c, "cgroup_value", name=lim, file="memory.max", equals="67108864")
    assert out.seen["en"] == f"{lim}'s memory.max reads 67108864"
    passes(c, "cgroup_value", name=lim, file="memory.max", equals="64m")
    passes(c, "cgroup_value", name=lim, file="pids.max", equals="20")
    assert fails(c, "cgroup_value", name=lim, file="memory.max", equals="max").missing["en"] == "it should read max"
    # The kernel's own file says the same (v1 or v2 name).
    files = rt.cgroups.get(cid).files()
    assert files.get("memory.max", files.get("memory.limit_in_bytes")) == "67108864"


def test_pids_limited_by_a_fork_loop(ctx, onggi, names):
    forks, free = names("forks"), names("free")
    run_d(onggi, "--name", forks, "--pids-limit", "10", "busybox", "sh", "-c",
          "for i in $(seq 30); do sleep 300 & done; wait")
    run_d(onggi, "--name", free, "--pids-limit", "10", "busybox", "sleep", "300")
    c = ctx()
    assert until(lambda: checks.run(c, "pids_limited", {"name": forks}).passed)
    assert "hit its pids limit" in passes(c, "pids_limited", name=forks).seen["en"]
    assert fails(c, "pids_limited", name=free).seen["en"] == f"{free}'s processes: 1 / 10"


def test_cpu_throttled_by_a_quota(ctx, onggi, names):
    busy, idle = names("busy"), names("idle")
    run_d(onggi, "--name", busy, "--cpus", "0.1", "busybox", "sh", "-c", "while :; do :; done")
    run_d(onggi, "--name", idle, "--cpus", "0.1", "busybox", "sleep", "300")
    c = ctx()
    assert until(lambda: checks.run(c, "cpu_throttled", {"name": busy}).passed, timeout=10)
    assert "nr_throttled" in passes(c, "cpu_throttled", name=busy).seen["en"]
    assert fails(c, "cpu_throttled", name=idle).seen["en"] == f"{idle}'s nr_throttled is 0"


# -- images ------------------------------------------------------------------------------------------------------

def test_image_exists_and_removed(ctx, onggi, names):
    ref = f"{names('img')}:v1"
    c = ctx()
    passes(c, "image_exists", ref="busybox", layers=1)
    assert fails(c, "image_exists", ref="busybox", layers=2).seen["en"] == "busybox has 1 layers"
    fails(c, "image_exists", ref=ref)
    passes(c, "image_removed", ref=ref)
    onggi("tag", "busybox", ref, check=True)
    assert passes(c, "image_exists", ref=ref).seen["en"].startswith(f"the image {ref} exists (1 layers")
    assert fails(c, "image_removed", ref=ref).missing["en"] == f"remove {ref} (onggi rmi)"
    onggi("rmi", ref, check=True)
    passes(c, "image_removed", ref=ref)


def _context(tmp_path, hello: str):
    d = tmp_path / "ctx"
    d.mkdir(exist_ok=True)
    (d / "hello.txt").write_text(hello)
    (d / "Dockerfile").write_text("FROM busybox\nWORKDIR /app\nRUN echo built > /app/built.txt\n"
                                  "COPY hello.txt /app/hello.txt\nCMD [\"cat\", \"/app/hello.txt\"]\n")
    return d


def test_image_built_counts_builds_cached_steps_and_the_step_that_missed(ctx, onggi, names, tmp_path):
    ref = f"{names('app')}:v1"
    c = ctx()
    assert fails(c, "image_built", ref=ref).seen["en"] == f"{ref} has not been built in this lesson yet"
    onggi("build", "-t", ref, _context(tmp_path, "one\n"), check=True)
    passes(ctx(since=c.since), "image_built", ref=ref)
    assert fails(ctx(since=c.since), "image_built", ref=ref, builds=2).missing["en"] == "build it at least 2 times"
    onggi("build", "-t", ref, _context(tmp_path, "one\n"), check=True)          # nothing changed
    out = passes(ctx(since=c.since), "image_built", ref=ref, cached_steps=4, builds=2)
    assert "WORKDIR /app: CACHED" in out.seen["en"]
    assert "came from the cache" in fails(ctx(since=c.since), "image_built", ref=ref, missed="COPY").seen["en"]
    onggi("build", "-t", ref, _context(tmp_path, "two\n"), check=True)          # COPY misses
    passes(ctx(since=c.since), "image_built", ref=ref, cached_steps=2, missed="COPY", builds=3)
    out = fails(ctx(since=c.since), "image_built", ref=ref, cached_steps=3)
    assert out.seen["en"].startswith("the last build used the cache for 2 steps")
    assert "no step starting with ADD" in fails(ctx(since=c.since), "image_built", ref=ref, missed="ADD").seen["en"]
    # Builds before the lesson started do not count.
    fails(ctx(since=time.time()), "image_built", ref=ref)


def test_image_pushed_and_pulled_with_a_moved_tag(ctx, onggi, names, tmp_path, registry):
    ref = f"{registry.address}/{names('ship')}:v1"
    c = ctx()
    fails(c, "image_pushed", ref=ref)
    fails(c, "image_pulled", ref=ref)
    onggi("build", "-t", ref, _context(tmp_path, "first\n"), check=True)
    onggi("push", ref, check=True)
    passes(ctx(since=c.since), "image_pushed", ref=ref)
    out = fails(ctx(since=c.since), "image_pushed", ref=ref, digest_changed=True)
    assert "pushed 1 time(s), always as sha256:" in out.seen["en"]
    onggi("build", "-t", ref, _context(tmp_path, "second\n"), check=True)
    onggi("push", ref, check=True)
    assert "its digest is now sha256:" in passes(ctx(since=c.since), "image_pushed", ref=ref,
                                                digest_changed=True).seen["en"]
    onggi("rmi", ref, check=True)
    onggi("pull", ref, check=True)
    passes(ctx(since=c.since), "image_pulled", ref=ref)


# -- networks ---------------------------------------------------------------------------------------------------

def test_network_exists_with_its_subnet(ctx, onggi, names):
    lab = names("lab")
    c = ctx()
    assert fails(c, "network_exists", name=lab).seen["en"] == f"there is no network named {lab}"
    fails(c, "network_exists", name="bridge")                     # the default one is not user-defined
    onggi("network", "create", "--subnet", "10.199.7.0/24", lab, check=True)
    assert "subnet 10.199.7.0/24" in passes(c, "network_exists", name=lab, subnet="10.199.7.0/24").seen["en"]
    assert fails(c, "network_exists", name=lab, subnet="10.199.8.0/24").seen["en"] == \
        f"{lab}'s subnet is 10.199.7.0/24"


def test_containers_connected_on_a_common_network(ctx, onggi, names):
    lab, web, client, alone = names("lab"), names("web"), names("client"), names("alone")
    onggi("network", "create", lab, check=True)
    run_d(onggi, "--name", web, "--network", lab, "busybox", "sleep", "300")
    run_d(onggi, "--name", client, "--network", lab, "busybox", "sleep", "300")
    run_d(onggi, "--name", alone, "--network", "none", "busybox", "sleep", "300")
    c = ctx()
    out = fails(c, "containers_connected", **{"from": client, "to": web})
    assert f"has not reached {web} yet" in out.seen["en"]
    onggi("exec", client, "ping", "-c", "1", "-W", "2", web, check=True)      # by name, on the user network
    assert f"reached {web} over {lab}" in passes(ctx(since=c.since), "containers_connected",
                                                 **{"from": client, "to": web}).seen["en"]
    assert "share no network" in fails(c, "containers_connected", **{"from": alone, "to": web}).seen["en"]


def test_a_ping_that_got_no_reply_is_not_a_connection(ctx, onggi, names):
    lab, web, client = names("lab"), names("web"), names("client")
    onggi("network", "create", lab, check=True)
    run_d(onggi, "--name", web, "--network", lab, "busybox", "sleep", "300")
    run_d(onggi, "--name", client, "--network", lab, "busybox", "sleep", "300")
    now = time.time()
    typed = lambda: [{"container": client, "entries": [{  # noqa: E731
        "time": now + 1, "line": f"ping -c 1 {web}", "output": f"ping: bad address '{web}'\r\n/ # "}]}]
    out = fails(ctx(since=now, transcripts=typed), "containers_connected", **{"from": client, "to": web})
    assert "did not get through" in out.seen["en"]


def test_port_published_answers_on_127_0_0_1(ctx, onggi, names):
    pub, closed = names("pub"), names("closed")
    port = free_port()
    run_d(onggi, "--name", pub, "-p", f"{port}:80", "busybox", "sh", "-c",
          "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www")
    run_d(onggi, "--name", closed, "busybox", "sleep", "300")
    c = ctx()
    assert until(lambda: checks.run(c, "port_published", {"name": pub, "host_port": port}).passed)
    assert passes(c, "port_published", name=pub, host_port=port).seen["en"] == \
        f"127.0.0.1:{port} answers and forwards to {pub}'s 80/tcp"
    assert fails(c, "port_published", name=closed, host_port=port).seen["en"] == f"{closed} publishes: none"


def test_a_published_port_nothing_listens_on_does_not_answer(ctx, onggi, names):
    mute = names("mute")
    port = free_port()
    run_d(onggi, "--name", mute, "-p", f"{port}:80", "busybox", "sleep", "300")
    assert "does not answer" in fails(ctx(), "port_published", name=mute, host_port=port).seen["en"]


# -- files --------------------------------------------------------------------------------------------------------

def test_files_through_the_overlay_the_upper_layer_and_whiteouts(ctx, onggi, names):
    box, twin = names("box"), names("twin")
    cid = run_d(onggi, "--name", box, "busybox", "sleep", "300")
    run_d(onggi, "--name", twin, "busybox", "sleep", "300")
    c = ctx()
    passes(c, "file_in_container", name=box, path="/bin/vi")
    passes(c, "file_in_container", name=box, path="/etc/hostname", contains=cid[:12])
    fails(c, "file_in_container", name=box, path="/etc/hostname", contains="nope")
    fails(c, "file_in_container", name=box, path="/root/note.txt")
    out = fails(c, "file_in_layer", name=box, path="/etc/passwd", layer="upper")
    assert out.seen["en"] == "/etc/passwd is only in the image's layers below"
    fails(c, "file_in_layer", name=box, path="/root/note.txt", layer="upper")
    onggi("exec", box, "sh", "-c", "echo hello > /root/note.txt; echo student:x:1000:1000::/:/bin/sh >> /etc/passwd",
          check=True)
    passes(c, "file_in_container", name=box, path="/root/note.txt", contains="hello")
    passes(c, "file_in_layer", name=box, path="/root/note.txt", layer="upper")
    assert passes(c, "file_in_layer", name=box, path="/etc/passwd", layer="upper").seen["en"] == \
        f"/etc/passwd is in {box}'s writable layer (upperdir)"
    fails(c, "whiteout_in_upper", name=box, path="/bin/vi")
    onggi("exec", box, "rm", "/bin/vi", check=True)
    assert "0/0 character device" in passes(c, "whiteout_in_upper", name=box, path="/bin/vi").seen["en"]
    fails(c, "file_in_container", name=box, path="/bin/vi")
    passes(c, "file_in_container", name=twin, path="/bin/vi")                 # its neighbour is untouched
    # An exited container's files are read from its layers by overlay's rules.
    onggi("stop", "-t", "1", box, check=True)
    passes(c, "file_in_container", name=box, path="/root/note.txt")
    fails(c, "file_in_container", name=box, path="/bin/vi")


def test_a_symlink_never_leads_a_check_out_of_the_container(ctx, onggi, names):
    box = names("box")
    run_d(onggi, "--name", box, "busybox", "sh", "-c", "ln -s /etc/shadow-of-the-host /root/link; "
          "ln -s / /root/up; sleep 300")
    c = ctx()
    assert until(lambda: checks.run(c, "file_in_container", {"name": box, "path": "/root/up"}).passed)
    # The host has /etc/os-release; the container does not: through /root/up it stays inside.
    assert os.path.exists("/etc/os-release")
    fails(c, "file_in_container", name=box, path="/root/up/etc/os-release")
