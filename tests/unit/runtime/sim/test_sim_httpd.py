"""Simulated web servers: busybox httpd listens, wget in a peer reads its files, a published port
answers a real HTTP client on 127.0.0.1, and nothing listens once the container is gone."""
import socket
import time
import urllib.error
import urllib.request

import pytest

from runtime.container.spec import parse_publish
from runtime.errors import PortInUse

PAGE = "mkdir -p /www && echo '<h1>안녕 from '$(hostname)'</h1>' > /www/index.html && exec httpd -f -p 80 -h /www"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str = "/") -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_wget_reads_a_peers_page_and_not_across_networks(sim, started):
    sim.networks.create("lab")
    sim.networks.create("other")
    web = started("sh", "-c", PAGE, name="web", network="lab")
    client = started(name="client", network="lab")
    stranger = started(name="stranger", network="other")
    code, out = client.exec_output(["wget", "-qO-", "http://web/"])
    assert code == 0 and out == f"<h1>안녕 from {web.id[:12]}</h1>\n"
    code, out = client.exec_output(["wget", "-qO-", "http://web/missing.html"])
    assert code == 1 and "404" in out
    code, out = client.exec_output(["wget", "-qO-", "http://web:8080/"])
    assert code == 1 and "Connection refused" in out
    code, out = stranger.exec_output(["wget", "-qO-", f"http://{sim.truth.ip_address('web')}/"])
    assert code == 1 and "timed out" in out
    code, out = web.exec_output(["wget", "-qO-", "http://127.0.0.1/"])        # itself, over lo
    assert code == 0 and "안녕" in out


def test_httpd_started_by_exec_or_in_the_background_listens_until_the_container_ends(sim, started):
    sim.networks.create("lab")
    box = started(name="box", network="lab")
    client = started(name="client", network="lab")
    assert client.exec_output(["wget", "-qO-", "http://box/"])[0] == 1
    box.exec_output(["sh", "-c", "echo hi > /index.html && httpd -p 80 -h /"])     # daemonizes
    assert client.exec_output(["wget", "-qO-", "http://box/"]) == (0, "hi\n")
    assert "httpd" in box.exec_output(["ps"])[1]
    address = sim.truth.ip_address("box")
    box.kill()
    code, out = client.exec_output(["wget", "-qO-", f"http://{address}/"])
    assert code == 1 and "Connection refused" in out


def test_a_published_port_answers_http_on_127_0_0_1_until_the_container_is_removed(sim, started):
    port = free_port()
    web = started("sh", "-c", PAGE, name="web", network="bridge", ports=tuple(parse_publish(f"{port}:80")))
    sim.snapshot()
    assert get(port) == (200, f"<h1>안녕 from {web.id[:12]}</h1>\n")
    assert get(port, "/nope")[0] == 404
    web.remove(force=True)
    deadline = time.monotonic() + 3
    while not refused(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert refused(port)


def test_a_published_port_nothing_listens_behind_closes_the_connection(sim, started):
    port = free_port()
    started(name="idle", network="bridge", ports=tuple(parse_publish(f"{port}:80")))
    sim.snapshot()
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        get(port)


def test_a_port_another_program_holds_is_refused_before_anything_is_made(sim, spec):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        with pytest.raises(PortInUse, match=f"port {port}/tcp is already in use"):
            sim.create(spec(name="web", network="bridge", ports=tuple(parse_publish(f"{port}:80"))))
    assert sim.ps(all=True) == []


def test_init_starts_the_inittab_respawn_entries_as_a_system_container(sim, started):
    sim.networks.create("lab")
    script = ("printf '::sysinit:/bin/mkdir -p /var/www\\n::respawn:/bin/sleep 3600\\n"
              "::respawn:/bin/httpd -f -p 80 -h /var/www\\n' > /etc/inittab; "
              "echo up > /var/www/index.html; exec init")
    lxc = started("sh", "-c", script, name="lxc", network="lab")
    assert lxc.state.status.value == "running"
    ps = lxc.exec_output(["ps"])[1]
    assert "1 root     init" in ps and "sleep 3600" in ps and "httpd -f -p 80" in ps
    client = started(name="client", network="lab")
    assert client.exec_output(["wget", "-qO-", "http://lxc/"]) == (0, "up\n")
