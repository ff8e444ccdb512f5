"""The tiny shell: parsing, expansions, redirections into the layered files, loops that never end."""
import pytest

from runtime.sim import busybox
from runtime.sim.fs import FS
from runtime.sim.shell.interp import CantFork, Interp, Out, RunsForever
from runtime.sim.shell.parse import ShellSyntaxError, parse


class Machine:
    """Just enough of a container for the shell: files, a clock, processes, a pids limit."""

    def __init__(self, pids_max=None):
        self.fs = FS([busybox.layer()])
        self.hostname = "c0ffee123456"
        self.clock = 0.0
        self.spawned = []
        self.pids_max = pids_max
        self.killed = []

    def special_read(self, path):
        return {"/etc/hostname": self.hostname + "\n", "/dev/null": "", "/dev/zero": "\0" * 8}.get(path)

    def special_list(self, path):
        return None

    def special_link(self, path):
        return None

    def sleep(self, seconds):
        self.clock += seconds
        if self.clock > 600:
            raise RunsForever("idle")

    def tick(self):
        pass

    def spawn(self, argv, kind):
        if self.pids_max is not None and len(self.spawned) + 1 >= self.pids_max:
            raise CantFork()
        self.spawned.append((argv, kind))
        return len(self.spawned) + 1

    def kill(self, pid, sig):
        self.killed.append((pid, sig))
        return None if pid == 1 else "No such process"

    def procs(self):
        return [{"pid": 1, "cmd": "sleep 3600"}]


def sh(script, machine=None, **kw):
    m = machine or Machine(**kw)
    shell = Interp(m, {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "X": "a b"})
    out = Out()
    status = shell.run(script, out)
    return status, out.text(1), out.text(2), shell, m


@pytest.mark.parametrize("script,out", [
    ("echo hi there", "hi there\n"),
    ("echo 'single $X' \"double $X\" $X", "single $X double a b a b\n"),
    ("x=1; y=$((x+2)); echo $y", "3\n"),
    ("echo $(echo inner) `echo back`", "inner back\n"),
    ("false || echo or; true && echo and; false && echo never; :", "or\nand\n"),
    ("for i in $(seq 3); do echo n$i; done", "n1\nn2\nn3\n"),
    ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3\n"),
    ("if [ -f /etc/passwd ]; then echo yes; else echo no; fi", "yes\n"),
    ("ls /bin | head -3", "[\n[[\nacpid\n"),
    ("echo a b c | wc -w", "3\n"),
    ("cat /etc/hostname", "c0ffee123456\n"),
    ("f() { echo in f $1; }; f arg", "in f arg\n"),
    ("echo ${NOPE:-fallback}", "fallback\n"),
    ("printf '%s-%d\\n' a 5", "a-5\n"),
])
def test_scripts_print_what_ash_prints(script, out):
    status, stdout, _, _, _ = sh(script)
    assert stdout == out and status == 0


def test_redirections_write_the_containers_files():
    status, stdout, _, _, m = sh("echo 'hello, overlay' > /root/note.txt; echo more >> /root/note.txt; "
                                 "cat /root/note.txt; echo gone 2>/dev/null >/dev/null")
    assert stdout == "hello, overlay\nmore\n"
    assert m.fs.upper["/root/note.txt"]["d"] == "hello, overlay\nmore\n"
    assert ("A", "/root/note.txt") in m.fs.diff()


def test_errors_go_to_stderr_with_busybox_words_and_codes():
    status, _, err, _, _ = sh("cat /etc/os-release")
    assert (status, err) == (1, "cat: can't open '/etc/os-release': No such file or directory\n")
    status, _, err, _, _ = sh("frobnicate")
    assert (status, err) == (127, "sh: frobnicate: not found\n")
    status, _, err, _, _ = sh("vi /etc/passwd")          # in the image, but not simulated
    assert status == 127 and "not available in simulated mode" in err
    status, _, err, _, _ = sh("echo x 2>&1 > /nonexistent/dir/f")
    assert status == 1 and "can't create" in err


def test_a_syntax_error_is_one_line_and_status_2():
    status, _, err, _, _ = sh("while true; do echo x")
    assert status == 2 and err.startswith("sh: syntax error")
    with pytest.raises(ShellSyntaxError):
        parse("if true; then")


def test_sleep_moves_the_clock_and_exit_ends_the_script():
    status, stdout, _, shell, m = sh("sleep 2; echo a; sleep 0.5; exit 3; echo never")
    assert (status, stdout, m.clock, shell.exited) == (3, "a\n", 2.5, True)


@pytest.mark.parametrize("script,kind", [
    ("while :; do :; done", "busy"),
    ("while true; do sleep 1; done", "idle"),
    ("yes > /dev/null", "busy"),
    ("tail -f /dev/null", "idle"),
])
def test_a_script_that_would_never_end_says_how(script, kind):
    with pytest.raises(RunsForever) as info:
        sh(script)
    assert info.value.kind == kind


def test_background_jobs_become_processes_until_the_pids_limit():
    # ash's first refused fork raises its error: the script ends there with status 2 (not a
    # loop printing "can't fork" for ever), and the sleeps it started live on.
    status, _, err, shell, m = sh("while true; do sleep 3600 & done; echo never", pids_max=20)
    assert status == 2 and shell.exited
    assert err == "sh: can't fork: Resource temporarily unavailable\n"
    assert len(m.spawned) == 19 and m.spawned[0] == (["sleep", "3600"], "idle")


def test_traps_are_remembered_and_kill_asks_the_machine():
    status, _, err, shell, m = sh("trap 'echo bye; exit 0' TERM; kill -TERM 1; kill -9 77")
    assert shell.traps == {"TERM": "echo bye; exit 0"}
    assert m.killed == [(1, 15), (77, 9)] and "can't kill pid 77: No such process" in err


def test_hostname_cannot_be_changed_without_cap_sys_admin():
    class M(Machine):
        def sethostname(self, name):
            return "Operation not permitted"
    status, _, err, _, _ = sh("hostname ns-changed", M())
    assert (status, err) == (1, "hostname: sethostname: Operation not permitted\n")


def test_dd_makes_a_file_of_the_asked_size_without_holding_its_bytes():
    status, _, err, _, m = sh("dd if=/dev/urandom of=/big.bin bs=1M count=20")
    assert status == 0 and m.fs.lookup("/big.bin")["s"] == 20 << 20 and "d" not in m.fs.lookup("/big.bin")
    assert "20+0 records out" in err
