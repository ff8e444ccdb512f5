"""A browser terminal's shell in a simulated container: echo, prompt, lines, Ctrl-C, exit."""
import threading
import time

import pytest


class Screen:
    def __init__(self):
        self.text = ""
        self.code = None
        self.done = threading.Event()

    def output(self, text):
        self.text += text

    def exit(self, code):
        self.code = code
        self.done.set()

    def wait_for(self, needle, timeout=3.0):
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared in {self.text!r}")
            time.sleep(0.01)


@pytest.fixture
def term(started):
    def open_(c=None, argv=("sh",)):
        c = c or started(name="t")
        screen = Screen()
        session = c.shell(list(argv), output=screen.output, on_exit=screen.exit)
        session.open()
        return c, session, screen
    return open_


def test_lines_run_with_a_prompt_and_keep_the_working_directory(term):
    c, session, screen = term()
    screen.wait_for("/ # ")
    session.write("hostnamf\x7fe\r")                    # a typo, fixed with backspace
    screen.wait_for(c.inspect()["Config"]["Hostname"] + "\r\n/ # ")
    session.write("cd /root\r")
    screen.wait_for("~ # ")
    session.write("echo hi > note.txt; cat note.txt\r")
    screen.wait_for("hi\r\n~ # ")
    assert session.lines == ["hostname", "cd /root", "echo hi > note.txt; cat note.txt"]
    assert ("A", "/root/note.txt") in c.diff()
    session.write("ps\r")
    screen.wait_for("sh\r\n")
    assert "    1 root     sleep 3600" in screen.text
    session.close()


def test_ctrl_c_interrupts_a_command_and_exit_ends_the_session(term):
    c, session, screen = term()
    screen.wait_for("/ # ")
    t0 = time.monotonic()
    session.write("sleep 30\r")
    time.sleep(0.2)
    session.write("\x03")
    screen.wait_for("^C\r\n/ # ")
    assert time.monotonic() - t0 < 3
    session.write("exit 3\r")
    assert screen.done.wait(3) and screen.code == 3
    assert c.state.status.value == "running"             # an exec'd shell ends; the container does not


def test_the_first_process_shell_of_run_it_ends_the_container(sim, spec, term):
    c = sim.create(spec("sh", tty=True, interactive=True, name="it"))
    c.start().wait_started()
    _, session, screen = term(c)
    screen.wait_for("/ # ")
    session.write("echo $$\r")
    screen.wait_for("1\r\n")
    session.write("\x04")                                # Ctrl-D: exit
    assert screen.done.wait(3) and screen.code == 0
    assert c.state.status.value == "exited" and c.state.exit_code == 0


def test_a_one_shot_command_runs_and_ends(term):
    _, _, screen = term(argv=("ls", "/"))
    assert screen.done.wait(3) and screen.code == 0
    assert "bin\r\ndev\r\netc" in screen.text


def test_a_fork_loop_typed_in_a_terminal_stops_at_the_limit_and_then_only_builtins_run(term, started, sim):
    # Real busybox sh in a container with --pids-limit 20: one "can't fork" and the prompt comes
    # back ($? is 2); at the limit every program (ls, ps) needs a fork and fails, echo does not.
    c, session, screen = term(started(name="forks", pids_limit=20))
    screen.wait_for("/ # ")
    session.write("while true; do sleep 3600 & done\r")
    screen.wait_for("sh: can't fork: Resource temporarily unavailable\r\n/ # ", timeout=10)
    assert screen.text.count("can't fork") == 1
    assert sim.cgroups.get(c.id).stats().pids_current == 20
    session.write("echo status=$?; ls /\r")
    screen.wait_for("status=2\r\nsh: can't fork: Resource temporarily unavailable\r\n/ # ")
    session.write("ps\r")
    screen.wait_for("ps\r\nsh: can't fork: Resource temporarily unavailable\r\n/ # ")
    assert "PID   USER" not in screen.text
    session.close()


def test_ps_in_a_terminal_shows_the_command_it_runs_with_its_arguments(term):
    # A line "ps aux; echo x" showed the child as "ps;": busybox ps shows the forked ps, "ps aux".
    c, session, screen = term()
    screen.wait_for("/ # ")
    session.write("ps aux; echo done\r")
    screen.wait_for("done\r\n/ # ")
    assert "    3 root     ps aux\r\n" in screen.text and "ps aux;" not in screen.text.split("\r\n", 1)[1]
    session.close()
