"""Simulated containers: the Runtime's interface, the launch's six steps, PID 1's rules, exec, events."""
import os
import signal
import time

import pytest

from runtime.container.state import Status
from runtime.container.steps import NAMES
from runtime.errors import (Cancelled, CommandNotFound, ContainerNotRunning, ContainerRunning,
                            InvalidTransition, NameInUse)


def test_the_simulation_says_what_it_is(sim):
    assert sim.simulated is True
    sim.check_host()                      # never raises
    assert isinstance(sim.why, tuple) and len(sim.why) == 2


def test_a_container_runs_with_its_own_namespaces_and_pid(sim, started, events):
    c = started(name="web")
    state = c.state
    assert state.status is Status.RUNNING and state.pid > 0
    ns, host = sim.truth.ns_of("web"), sim.truth.host_ns()
    assert {k for k in ns if ns[k] != host[k]} == {"pid", "mnt", "uts", "ipc", "net", "cgroup"}
    assert ns["user"] == host["user"] and ns["time"] == host["time"]
    assert sim.truth.namespace_inodes(state.pid) == ns and sim.truth.nspid("web") == [state.pid, 1]
    assert [c.name for c in sim.ps()] == ["web"]
    types = [e["type"] for e in events()]
    assert types[types.index("container.created"):] == ["container.created"] + ["container.step"] * 6 + \
        ["container.started"]
    steps = [e["data"] for e in events("container.step")]
    assert [s["step"] for s in steps] == list(NAMES) and all(s["report"]["simulated"] for s in steps)


def test_step_reports_are_shaped_like_the_real_ones(sim, started, events):
    started(name="web", network="bridge", memory=64 << 20)
    reports = {e["data"]["step"]: e["data"]["report"] for e in events("container.step")}
    rootfs = reports["rootfs"]
    assert rootfs["fstype"] == "overlay" and rootfs["lowerdir"][0].endswith("/init")
    assert rootfs["lowerdir"][-1].startswith(str(sim.config.layers_dir)) and rootfs["upperdir"].endswith("/upper")
    assert reports["cgroup"]["files"]["memory.max"] == str(64 << 20) and reports["cgroup"]["version"] == "v2"
    assert reports["namespaces"]["namespaces"]["pid"]["isolated"] is True
    net = reports["network"]
    assert net["mode"] == "bridge" and net["address"].startswith("10.213.0.")
    assert net["container_veth"]["peer_ifindex"] == net["host_veth"]["ifindex"]
    assert reports["mounts"]["root"]["fstype"] == "overlay"
    assert reports["exec"]["args"] == ["sleep", "3600"] and len(reports["exec"]["cap_effective"]) == 14


def test_exec_answers_like_busybox_in_the_container(sim, started):
    c = started(name="web", network="bridge")
    hostname = c.inspect()["Config"]["Hostname"]
    assert c.exec_output(["hostname"]) == (0, hostname + "\n")
    assert c.exec_output(["cat", "/etc/hostname"]) == (0, hostname + "\n")
    assert c.exec_output(["id"]) == (0, "uid=0(root) gid=0(root) groups=10(wheel)\n")
    code, out = c.exec_output(["ps"])
    assert code == 0 and out.splitlines()[:2] == ["PID   USER     COMMAND", "    1 root     sleep 3600"]
    code, out = c.exec_output(["ip", "addr"])
    assert "eth0@if" in out and f"inet {sim.truth.ip_address('web')}/16" in out
    assert c.exec_output(["uname", "-r"]) == (0, sim.truth.kernel_release() + "\n")
    assert c.exec_output(["cat", "/etc/os-release"])[0] == 1


def test_exec_writes_to_the_fds_it_is_given(sim, started, events):
    c = started(name="web")
    r, w = os.pipe()
    try:
        assert c.exec(["echo", "hello"], stdio=(0, w, w)) == 0
    finally:
        os.close(w)
    assert os.read(r, 100) == b"hello\n"
    os.close(r)
    assert events("container.exec")[-1]["data"]["cmd"] == ["echo", "hello"]


def test_writes_land_in_the_writable_layer(sim, started):
    c = started(name="box")
    c.exec_output(["sh", "-c", "echo 'hello, overlay' > /root/note.txt"])
    c.exec_output(["sh", "-c", "echo 'student:x:1000:1000::/home/student:/bin/sh' >> /etc/passwd"])
    c.exec_output(["rm", "/bin/vi"])
    assert c.diff() == [("C", "/bin"), ("D", "/bin/vi"), ("C", "/etc"), ("C", "/etc/passwd"),
                        ("C", "/root"), ("A", "/root/note.txt")]
    assert sim.truth.whiteouts("box") == ["/bin/vi"]
    assert sim.truth.read_file("box", "/root/note.txt") == "hello, overlay\n"
    twin = started(name="twin")
    assert sim.truth.file_exists("twin", "/bin/vi") and not sim.truth.file_exists("box", "/bin/vi")
    assert twin.exec_output(["ls", "/bin/vi"]) == (0, "/bin/vi\n")


def test_a_short_command_exits_and_keeps_its_output(sim, started, events):
    c = started("echo", "hello from a container", name="quick")
    assert c.wait() == 0
    assert [(s, d) for s, d, _ in c.logs()] == [("stdout", b"hello from a container\n")]
    types = [e["type"] for e in events() if e.get("id") == c.id]
    assert types[-2:] == ["container.started", "container.exited"]


def test_sleep_as_pid_1_ignores_sigterm_so_stop_kills_after_the_timeout(sim, started):
    c = started(name="demo")
    c.exec_output(["kill", "-TERM", "1"])
    c.exec_output(["kill", "-KILL", "1"])             # from inside, not even SIGKILL reaches init
    assert c.state.status is Status.RUNNING
    t0 = time.monotonic()
    c.stop(timeout=0.3)
    assert time.monotonic() - t0 >= 0.3
    assert (c.state.status, c.state.exit_code) == (Status.EXITED, 137)


def test_a_pid_1_with_a_trap_stops_cleanly(sim, started):
    c = started("sh", "-c", "trap 'echo got SIGTERM, bye; exit 0' TERM; while true; do sleep 1; done", name="trap")
    assert c.state.status is Status.RUNNING
    t0 = time.monotonic()
    c.stop(timeout=5)
    assert time.monotonic() - t0 < 1
    assert c.state.exit_code == 0 and b"got SIGTERM, bye\n" in [d for _, d, _ in c.logs()]


def test_kill_from_the_host(sim, started):
    c = started(name="k")
    c.kill(signal.SIGTERM)                              # no handler: ignored
    assert c.state.status is Status.RUNNING
    c.kill()                                           # SIGKILL: always
    assert c.state.exit_code == 137
    with pytest.raises(ContainerNotRunning):
        c.kill()


def test_rm_auto_remove_and_names(sim, started, spec, events):
    c = started(name="one")
    with pytest.raises(NameInUse):
        sim.create(spec(name="one"))
    with pytest.raises(ContainerRunning):
        c.remove()
    c.remove(force=True)
    assert sim.ps(all=True) == []
    gone = started("true", name="gone", auto_remove=True)
    deadline = time.monotonic() + 2
    while sim.ps(all=True) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert sim.ps(all=True) == []
    order = [e["type"] for e in events() if e.get("id") == gone.id and e["type"] != "container.step"]
    assert order == ["container.created", "container.started", "container.exited", "container.deleted"]


def test_a_command_that_is_not_there_fails_the_launch_and_leaves_nothing_running(sim, spec):
    c = sim.create(spec("nosuch"))
    with pytest.raises(CommandNotFound, match='exec: "nosuch": executable file not found'):
        c.start().wait_started()
    state = c.state
    assert state.status is Status.CREATED and state.exit_code == 127
    assert sim.cgroups.names() == [] and not sim.truth.ns_of(c.id)


def test_start_is_refused_while_running(sim, started):
    c = started()
    with pytest.raises(InvalidTransition):
        c.start()


def test_a_gated_launch_pauses_before_every_step_and_a_cancel_undoes_it(sim, spec):
    seen = []
    c = sim.create(spec(network="bridge", name="stepped"))
    handle = c.start(gate=lambda step, i: seen.append((i, step.name)) or True,
                     on_report=lambda step, i, report: seen.append(("report", step.name)))
    assert seen == [] and c.state.status is Status.CREATED      # nothing runs until asked
    assert handle.wait_started() > 0
    assert [s for s in seen if s[0] != "report"] == list(enumerate(NAMES))
    c2 = sim.create(spec(network="bridge", name="cancelled"))
    handle = c2.start(gate=lambda step, i: i < 4)               # cancel before "mounts"
    with pytest.raises(Cancelled):
        handle.wait_started()
    assert c2.state.status is Status.CREATED and sim.truth.ns_of("cancelled") == {}
    assert not sim.cgroups.exists(c2.id) and sim.truth.ip_address("cancelled") is None
    assert len(sim.networks.inspect("bridge")["Containers"]) == 1                # only "stepped"


def test_the_diagrams_see_a_half_made_launch(sim, spec):
    c = sim.create(spec(name="half"))
    models = {}

    def gate(step, index):
        models[step.name] = (sim.truth.namespaces({"container": "half"})["containers"],
                             sim.cgroups.exists(c.id), sim.truth.overlay_mounted(c.id))
        return True
    c.start(gate=gate).wait_started()
    assert models["rootfs"] == ([], False, False)
    assert models["cgroup"] == ([], False, True)
    assert models["namespaces"] == ([], True, True)
    proc = models["network"][0][0]["procs"][0]
    assert proc["nspid"][1] == 1 and proc["cmd"] == "(waiting to exec)"
    assert models["exec"][0][0]["root"] == "overlay"


def test_inspect_has_dockers_keys_and_the_simulated_kernels(sim, started):
    c = started(name="web", memory=64 << 20, cpus=0.5, pids_limit=50)
    doc = c.inspect()
    assert doc["Simulated"] is True and doc["Name"] == "/web" and doc["State"]["Running"] is True
    assert doc["State"]["Pid"] == c.state.pid and doc["HostConfig"]["Memory"] == 64 << 20
    assert doc["Namespaces"]["pid"]["Isolated"] is True and doc["GraphDriver"]["Mounted"] is True
    assert doc["Cgroup"]["Files"]["pids.max"] == "50" and doc["Cgroup"]["Files"]["cpu.max"] == "50000 100000"
    top = c.top()
    assert top[0]["pid"] == c.state.pid and top[0]["nspid"] == [c.state.pid, 1]


def test_two_runtimes_on_one_root_see_one_world(sim, started):
    from runtime.sim import SimRuntime
    c = started(name="shared")
    other = SimRuntime(sim.config)
    try:
        assert other.container("shared").state.pid == c.state.pid
        other.container("shared").kill()
        assert c.state.exit_code == 137
    finally:
        other.close()
