"""runtime/inspect/cgroups.py: the tree under the parent with the kernel's gauges (on a fake v2 tree)."""
from runtime.cgroups import open_manager
from runtime.inspect.cgroups import percent, tree


def fake_v2(root, parent, name, files):
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    d = root / parent / name
    d.mkdir(parents=True)
    for key, value in files.items():
        (d / key).write_text(value)
    return d


def test_tree_reads_gauges_and_nested_cgroups(tmp_path):
    d = fake_v2(tmp_path, "onggi-t", "c1", {
        "memory.current": "1048576\n", "memory.max": "4194304\n", "pids.current": "3\n",
        "pids.max": "64\n", "cpu.stat": "usage_usec 2500000\nnr_periods 10\nnr_throttled 4\nthrottled_usec 9\n",
        "cpu.max": "50000 100000\n", "memory.events": "oom 1\noom_kill 1\n", "cgroup.procs": "42\n7\n"})
    (d / "inner").mkdir()
    (d / "inner/cgroup.procs").write_text("99\n")
    model = tree(open_manager(tmp_path, "onggi-t", version="v2"))
    assert model["parent"] == "/onggi-t" and model["version"] == "v2"
    [c] = model["children"]
    assert c.path == "/onggi-t/c1" and c.procs == [7, 42]
    assert c.stats["memory_current"] == 1048576 and c.stats["memory_max"] == 4194304
    assert c.stats["pids_current"] == 3 and c.stats["cpu_usage_ns"] == 2_500_000_000
    assert c.stats["cpu_nr_throttled"] == 4 and c.stats["oom_kills"] == 1
    assert c.limits == {"memory": 4194304, "cpu_quota": 50000, "cpu_period": 100000, "pids": 64}
    assert [(n.path, n.procs) for n in c.children] == [("/onggi-t/c1/inner", [99])]


def test_no_parent_yet_is_an_empty_tree(tmp_path):
    (tmp_path / "cgroup.controllers").write_text("cpu memory pids\n")
    assert tree(open_manager(tmp_path, "onggi-t", version="v2"))["children"] == []


def test_percent():
    assert percent(1, 4) == 25.0
    assert percent(5, None) is None and percent(None, 5) is None
    assert percent(9, 4) == 100.0
