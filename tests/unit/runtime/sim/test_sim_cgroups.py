"""Simulated cgroups: limits read back, gauges that move, the OOM kill, throttling, the pids limit."""
import time

from runtime.cgroups import Limits
from runtime.container.state import Status


def test_limits_read_back_like_the_kernels(sim, started):
    c = started(memory=(64 << 20) + 100, cpus=0.5, pids_limit=20)
    cg = sim.cgroups.get(c.id)
    assert cg.path == f"/{sim.config.cgroup_parent}/{c.id}" and sim.cgroups.version == "v2"
    assert cg.limits() == Limits(memory=64 << 20, cpu_quota=50000, cpu_period=100000, pids=20)
    files = cg.files()
    assert files["memory.max"] == str(64 << 20) and files["memory.swap.max"] == "0"
    assert files["cgroup.procs"] == str(c.state.pid)
    assert sim.cgroups.names() == [c.id] and sim.cgroups.exists(c.id)


def test_a_cgroup_exists_only_while_its_container_runs(sim, started):
    c = started()
    c.kill()
    assert not sim.cgroups.exists(c.id) and sim.cgroups.get(c.id).stats().memory_current is None


def test_memory_creeps_and_a_memory_eater_is_oom_killed(sim, started, events):
    idle = started()
    first = sim.cgroups.get(idle.id).stats().memory_current
    time.sleep(0.2)
    assert sim.cgroups.get(idle.id).stats().memory_current > first
    eater = started("sh", "-c", "for i in $(seq 100); do head -c 1m /dev/zero; sleep 0.05; done | tail",
                    memory=8 << 20, name="eater")
    time.sleep(0.1)
    assert 0 < sim.cgroups.get(eater.id).stats().memory_current <= 8 << 20
    assert eater.wait() == 137
    state = eater.state
    assert state.oom_killed and state.exit_code == 137
    mine = [e["type"] for e in events() if e.get("id") == eater.id]
    assert mine[-2:] == ["container.oom", "container.exited"]
    assert events("container.oom")[-1]["data"] == {"name": "eater", "memory_peak": 8 << 20, "memory_max": 8 << 20,
                                                    "oom_kills": 1}
    assert events("container.exited")[-1]["data"] == {"exit_code": 137, "oom_killed": True}


def test_an_eater_under_its_limit_just_finishes(sim, started):
    c = started("sh", "-c", "for i in $(seq 2); do head -c 1m /dev/zero; done | tail", memory=64 << 20)
    assert c.wait() == 0 and not c.state.oom_killed


def test_a_busy_loop_uses_its_quota_and_is_throttled(sim, started):
    t0 = time.monotonic()
    c = started("sh", "-c", "while :; do :; done", cpus=0.2)
    time.sleep(0.5)
    s = sim.cgroups.get(c.id).stats()
    ran = time.monotonic() - t0
    assert 0.2 * 0.5e9 * 0.95 <= s.cpu_usage_ns <= 0.2 * ran * 1e9 * 1.05      # 0.2 CPU, not one
    assert s.cpu_nr_periods >= 4 and s.cpu_nr_throttled >= 4
    idle = started()
    time.sleep(0.2)
    assert sim.cgroups.get(idle.id).stats().cpu_nr_throttled == 0
    assert c.stats()["cpu_percent"] == 20.0


def test_a_fork_loop_stops_at_the_pids_limit(sim, started):
    c = started(pids_limit=20, name="forks")
    code, out = c.exec_output(["sh", "-c", "while true; do sleep 3600 & done"], timeout=5)
    # As busybox's ash does: the first refused fork ends the script with status 2, saying so once.
    assert code == 2 and out == "sh: can't fork: Resource temporarily unavailable\n"
    s = sim.cgroups.get(c.id).stats()
    assert s.pids_current == 19 and s.pids_max == 20        # its sleeps stay; the shell is gone
    assert sim.truth.pids_refused("forks") > 0
    assert sim.truth.cgroup_files_inside(c.id)["pids.events"].startswith("max ")
    assert c.state.status is Status.RUNNING


def test_an_oom_kill_is_drawn_before_the_exit(sim, started, events):
    # The page re-reads gauges every second and flashes a cgroup whose OOM kills count is not
    # zero: the gauge must sit full, then the kill be counted (and announced) while the cgroup
    # still exists, each long enough to be drawn, before the container exits.
    from runtime.sim.plan import BASE_MEMORY, EAT_RATE
    limit = 8 << 20
    c = started("sh", "-c", "for i in $(seq 100); do head -c 1m /dev/zero; sleep 0.05; done | tail",
                memory=limit, name="eater")
    full = (limit - BASE_MEMORY) / EAT_RATE
    time.sleep(full + 0.2)
    s = sim.cgroups.get(c.id).stats()
    assert c.state.status is Status.RUNNING and s.memory_current == limit and s.oom_kills == 0
    time.sleep(0.8)
    s = sim.cgroups.get(c.id).stats()
    assert c.state.status is Status.RUNNING and s.oom_kills == 1
    assert "oom_kill 1" in sim.cgroups.get(c.id).files()["memory.events"]
    assert [e["type"] for e in events() if e.get("id") == c.id][-1] == "container.oom"
    assert c.wait() == 137 and c.state.oom_killed
    mine = [e["type"] for e in events() if e.get("id") == c.id]
    assert mine.count("container.oom") == 1 and mine[-2:] == ["container.oom", "container.exited"]
