"""The warm server's spare takes its copy-on-write faults before a client comes
(runtime/cli/warm.py: _prefault), and stops as soon as one does."""
import gc
import os
import socket

from runtime.cli.warm import _prefault


def private_kib() -> int:
    with open("/proc/self/smaps_rollup") as f:
        return sum(int(line.split()[1]) for line in f if line.startswith(("Private_Clean", "Private_Dirty")))


def in_a_fork(body) -> int:
    """Run body() in a forked child (sharing every page with us); the number it returns."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            gc.disable()                     # a collection would touch every page of ours
            os.write(w, str(body()).encode())
        finally:
            os._exit(0)
    os.close(w)
    os.waitpid(pid, 0)
    with os.fdopen(r) as f:
        return int(f.read() or -1)


def listener(tmp_path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(tmp_path / "s"))
    sock.listen(1)
    return sock


def test_a_spare_copies_the_pages_it_shares_before_a_client_comes(tmp_path):
    ballast = [bytearray(4096) for _ in range(4096)]          # 16 MiB shared with the child
    sock = listener(tmp_path)

    def body():
        before = private_kib()
        _prefault(sock)
        return private_kib() - before
    grown = in_a_fork(body)
    assert grown > 16 * 1024, f"only {grown} KiB became the spare's own"
    del ballast


def test_a_waiting_client_stops_it_at_once(tmp_path):
    ballast = [bytearray(4096) for _ in range(4096)]
    sock = listener(tmp_path)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(str(tmp_path / "s"))                         # someone is waiting already

    def body():
        before = private_kib()
        _prefault(sock, chunk=64)
        return private_kib() - before
    grown = in_a_fork(body)
    assert grown < 4 * 1024, f"{grown} KiB copied while a client waited"
    client.close()
    del ballast
