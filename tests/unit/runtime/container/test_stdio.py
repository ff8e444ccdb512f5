"""The json-file log keeps one entry per line, however the output was read."""
import os

from runtime.container.stdio import LogWriter, read_log


def test_one_entry_per_line_so_tail_counts_lines(tmp_path):
    log = tmp_path / "container.log"
    w = LogWriter(log)
    w.write("stdout", b"a\nb\nc")          # one read(2) that brought three lines, the last partial
    w.write("stderr", b"\xff\n")           # not UTF-8: survives the round trip
    w.close()
    assert len(log.read_text().splitlines()) == 4
    assert [d for _, d, _ in read_log(log, tail=2)] == [b"c", b"\xff\n"]
    assert b"".join(d for _, d, _ in read_log(log)) == b"a\nb\nc\xff\n"


def test_raw_mode_keeps_what_was_typed_before_it():
    import pty
    import select
    from runtime.container.stdio import raw_mode
    master, slave = pty.openpty()
    try:
        os.write(master, b"hostname\n")               # typed while onggi was starting
        assert select.select([slave], [], [], 1)[0]   # it has reached the line discipline
        with raw_mode(True, slave):
            assert select.select([slave], [], [], 1)[0], "the typed-ahead input was discarded"
            assert os.read(slave, 100) == b"hostname\n"
    finally:
        os.close(master)
        os.close(slave)
