"""The tiny shell's applets in a simulated container, against what busybox 1.35 prints in a real
onggi container (the shapes below were copied from real runs)."""
import re
import time


def test_top_bn1_prints_one_screen_with_the_cpu_quota_applied(sim, started):
    # Real, two CPUs, --cpus 0.2:  "CPU:  10% usr ..." and the loop at "  10%"; `top -bn1` (the
    # flags run together) is one screen and exits 0, as `top -b -n 1` is.
    c = started("sh", "-c", "while :; do :; done", cpus=0.2)
    share = 20 / sim.host["ncpu"]
    for argv in (["top", "-bn1"], ["top", "-b", "-n", "1"], ["top", "-n1"]):
        code, out = c.exec_output(argv, timeout=3)
        assert code == 0, (argv, out)
        lines = out.splitlines()
        assert lines[1] == f"CPU:{share:4.0f}% usr   0% sys   0% nic{100 - share:4.0f}% idle   0% io   0% irq   0% sirq"
        assert lines[3] == "  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND"
        assert lines[4] == f"    1     0 root     R     2268   0% {share:3.0f}% sh -c while :; do :; done"


def test_top_without_a_count_keeps_running_until_stopped(sim, started):
    c = started()
    code, out = c.exec_output(["top", "-b"], timeout=0.3)
    assert code == 137 and out.startswith("Mem: ")


def test_uptime_is_busyboxs_shape(sim, started):
    c = started()
    sim.boot_time = time.time() - (3 * 3600 + 7 * 60 + 5)
    _, out = c.exec_output(["uptime"])
    assert re.fullmatch(r" \d\d:\d\d:\d\d up  3:07,  0 users,  load average: \d\.\d\d, \d\.\d\d, \d\.\d\d\n", out)
    sim.boot_time = time.time() - (7 * 60 + 5)
    _, out = c.exec_output(["uptime"])
    assert " up 7 min,  0 users," in out
