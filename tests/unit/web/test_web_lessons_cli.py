"""run_cli: the lesson's exec action ends when the CLI ends."""
import sys
import time

from web.lessons.cli import run_cli


def test_the_cli_ending_ends_the_wait_though_its_children_hold_the_pipe(tmp_path):
    # Like `onggi exec cg-forks sh -c 'while true; do sleep 3600 & done'`: the CLI exits at
    # once, but the sleeps it left behind keep its stdout open. The button must not say
    # "running…" until the timeout.
    cli = tmp_path / "fake-onggi"
    cli.write_text("#!/bin/sh\necho \"sh: can't fork\"\nsleep 30 &\nexit 2\n")
    cli.chmod(0o755)
    t = time.monotonic()
    ran = run_cli(str(cli), [], {"PATH": "/usr/bin:/bin"}, timeout=10)
    assert time.monotonic() - t < 5
    assert ran.code == 2 and not ran.timed_out and "can't fork" in ran.output


def test_output_that_comes_before_the_cli_ends_is_all_read(tmp_path):
    cli = tmp_path / "fake-onggi"
    cli.write_text("#!/bin/sh\nfor i in 1 2 3; do echo line$i; sleep 0.3; done\n")
    cli.chmod(0o755)
    ran = run_cli(str(cli), [], {"PATH": "/usr/bin:/bin"}, timeout=10)
    assert ran.code == 0 and ran.output.split() == ["line1", "line2", "line3"]
