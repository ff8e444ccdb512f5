"""The `network` launch step's two plugins (launch.NetworkPlugin).

* :class:`BridgePlugin` for ``--network bridge|NAME``: one veth pair per network
  the container is on (eth0, eth1...), the default route through the first.
* :class:`JoinPlugin` for ``--network container:NAME``: no network of its own;
  the launch clones the child into NAME's network namespace (``netns_path``)
  instead of a new one, and ``connect`` only copies NAME's /etc/hosts and
  /etc/resolv.conf and reports the shared interfaces.

Both run in the container's monitor, after clone() and before the mounts.
"""
from __future__ import annotations

from ..errors import ContainerNotRunning
from . import endpoint, hosts


class BridgePlugin:
    def __init__(self, manager, spec):
        self.manager = manager
        self.spec = spec
        self.sockets: list = []         # the host ports held while the container runs

    def connect(self, record, child, undo: list) -> dict:
        # Pushed first: whatever part of the wiring happened is undone. On the
        # normal exit path this only releases leases and ports; the veths go
        # with the container's netns (see endpoint.py).
        undo.append(lambda: self.manager.detach(record, sockets=self.sockets))
        reports = []
        for index, name in enumerate(self.manager.networks_of(record)):
            reports.append(self.manager.attach(
                name, record, child.pid, ifname=f"eth{index}", default_route=index == 0,
                ports=self.spec.ports if index == 0 else (), sockets=self.sockets))
        view = self.manager.read_back(child.pid, reports)
        report = {"mode": "bridge", **(reports[0] if reports else {}), **view}
        if len(reports) > 1:
            report["endpoints"] = reports
        return report


class JoinPlugin:
    def __init__(self, manager, ref: str):
        self.manager = manager
        self.ref = ref
        self.target = None

    def netns_path(self, record) -> str:
        """The running container's netns that this one joins (clone without CLONE_NEWNET)."""
        target = self.manager.container_record(self.ref)
        state = target.current_state()
        if state.status.value != "running" or not state.pid:
            raise ContainerNotRunning(f"cannot join the network of container {target.name}: it is not running")
        self.target = (target, state.pid)
        return endpoint.netns_path(state.pid, self.manager.config.proc)

    def connect(self, record, child, undo: list) -> dict:
        target, pid = self.target or (self.manager.container_record(self.ref), 0)
        for name in ("hosts", "resolv.conf"):
            try:
                hosts.copy(str(target.dir / name), str(record.dir / name))
            except OSError:
                pass          # the target was started without them (host network): keep ours
        view = endpoint.read_netns(self.manager.syscalls, child.pid, self.manager.config.proc)
        return {"mode": "container", "container": target.id, "name": target.name,
                "netns_inode": endpoint.netns_inode(child.pid, self.manager.config.proc),
                "target_netns_inode": endpoint.netns_inode(pid, self.manager.config.proc) if pid else None,
                **view}
