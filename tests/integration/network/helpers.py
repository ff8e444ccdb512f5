"""Helpers for the network tests: user networks of the test session's own, and a guard
that every address a test sends traffic to is routed through one of its own bridges."""
import ipaddress
import json
import subprocess
import time
from pathlib import Path

ONGGI = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "onggi"


def route_dev(address: str) -> str:
    """The device `ip route get ADDRESS` says the host would send to."""
    out = subprocess.run(["ip", "route", "get", address], capture_output=True, text=True, check=True).stdout
    words = out.split()
    return words[words.index("dev") + 1]


class Net:
    """Drive one test's containers and networks through the real CLI."""

    def __init__(self, onggi, config):
        self.onggi, self.config = onggi, config
        self.bridges = {config.bridge_name}
        self.networks = []

    def ok(self, *args, timeout=60) -> str:
        return self.onggi(*args, check=True, timeout=timeout).stdout.strip()

    def create(self, name: str) -> dict:
        """A user network on a free /24 next to the session's subnet."""
        base = ipaddress.IPv4Network(self.config.bridge_subnet)
        first, second = base.network_address.packed[:2]
        third = base.network_address.packed[2]
        for k in range(1, 60):
            subnet = f"{first}.{second}.{(third + k) % 256}.0/24"
            proc = self.onggi("network", "create", "--subnet", subnet, name)
            if proc.returncode == 0:
                self.networks.append(name)
                doc = self.inspect_network(name)
                self.bridges.add(doc["Options"]["com.docker.network.bridge.name"])
                return doc
            assert "overlaps" in proc.stderr, proc.stderr
        raise AssertionError("no free test subnet")

    def inspect_network(self, name: str) -> dict:
        return json.loads(self.ok("network", "inspect", name))[0]

    def inspect(self, container: str) -> dict:
        return json.loads(self.ok("inspect", container))[0]

    def ip(self, container: str, network: str = "bridge") -> str:
        return self.inspect(container)["NetworkSettings"]["Networks"][network]["IPAddress"]

    def ours(self, address: str) -> str:
        """Refuse to send traffic anywhere but to a container on this test's bridges."""
        dev = route_dev(address)
        assert dev in self.bridges, f"{address} would go via {dev}, not a test bridge"
        return address

    def host_address_on_bridge(self, address: str, bridge: str) -> str:
        """Refuse unless address is the host's own address on one of this test's bridges."""
        assert bridge in self.bridges
        out = subprocess.run(["ip", "-j", "addr", "show", "dev", bridge], capture_output=True, text=True,
                             check=True).stdout
        assert address in [a["local"] for a in json.loads(out)[0]["addr_info"]], f"{address} is not on {bridge}"
        return address

    def sh(self, container: str, script: str, timeout=30):
        return self.onggi("exec", container, "sh", "-c", script, timeout=timeout)

    def serve(self, name: str, *extra, text="hello", network=None) -> str:
        """A busybox httpd container serving `text` at /index.html on port 80."""
        args = ["run", "-d", "--name", name] + (["--network", network] if network else []) + list(extra)
        script = f"mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www"
        return self.ok(*args, "busybox", "sh", "-c", script)

    def fetch(self, client: str, url: str, tries: int = 20):
        """wget from inside client (busybox wget: no -T, it crashes in 1.35), retried while the
        server starts."""
        for _ in range(tries):
            proc = self.sh(client, f"timeout 3 wget -q -O- {url}")
            if proc.returncode == 0:
                return proc
            time.sleep(0.1)
        return proc

    def events(self, kind: str, cid: str | None = None) -> list[dict]:
        out = []
        for line in self.config.events_log.read_text().splitlines():
            e = json.loads(line)
            if e["type"] == kind and (cid is None or e["id"] == cid or e["data"].get("container") == cid):
                out.append(e)
        return out


def wait_until(check, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def links() -> dict[str, dict]:
    """The host's links as `ip -j link` shows them, by name."""
    out = subprocess.run(["ip", "-j", "-d", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {link["ifname"]: link for link in json.loads(out)}
