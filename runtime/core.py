"""The runtime: one object that wires the subsystems for a given :class:`Config`.

The CLI and the web app build one :class:`Runtime` and call its verbs; the
subsystems (images, cgroups, containers, networks) know nothing of each other
and are wired only here. Subsystems are built on first use, so ``onggi ps`` never
pays for the image store and ``onggi images`` never for cgroups.
"""
from __future__ import annotations

import os
import socket
from functools import cached_property

from . import events
from .config import Config
from .container.record import ContainerStore, Record
from .errors import NotRoot, Unsupported
from .eventlog import EventLog


class Runtime:
    def __init__(self, config: Config | None = None, *, publisher=None, syscalls=None):
        self.config = config or Config.from_env()
        self.publisher = publisher if publisher is not None else EventLog(self.config.events_log)
        if syscalls is None:
            from .linux.syscalls import Syscalls
            syscalls = Syscalls()
        self.syscalls = syscalls
        self.containers = ContainerStore(self.config)

    # -- subsystems, built on first use ------------------------------------------
    @cached_property
    def images(self):
        from .image.images import ImageStore
        return ImageStore(self.config, publisher=self.publisher, syscalls=self.syscalls)

    def image(self, ref: str):
        """The image ref names; busybox:latest is rebuilt offline if it is missing."""
        from .image.images import resolve_or_base
        return resolve_or_base(self.images, ref)

    def list_images(self):
        """Every image; a fresh onggi root gets its busybox:latest first."""
        from .image.images import list_with_base
        return list_with_base(self.images)

    @cached_property
    def cgroups(self):
        from .cgroups import open_manager
        return open_manager(self.config.cgroup_root, self.config.cgroup_parent)

    @cached_property
    def networks(self):
        from .network.manager import NetworkManager
        return NetworkManager(self.config, publisher=self.publisher, containers=self.containers,
                              syscalls=self.syscalls)

    def network_for(self, spec):
        """The network plugin for a launch, or None for 'none' and 'host' (handled inline)."""
        if spec.network in ("none", "host"):
            return None
        return self.networks.plugin_for(spec)

    @staticmethod
    def limits_for(spec):
        from .cgroups import Limits
        if spec.cpus:
            return Limits.from_cpus(spec.cpus, memory=spec.memory, pids=spec.pids_limit)
        return Limits(memory=spec.memory, pids=spec.pids_limit)

    # -- host checks ------------------------------------------------------------------
    def check_host(self) -> None:
        """Raise a one-line Unsupported if real containers cannot run here."""
        if os.geteuid() != 0:
            raise NotRoot("onggi needs root to create namespaces, cgroups and mounts")
        try:
            filesystems = (self.config.proc / "filesystems").read_text()
        except OSError:
            raise Unsupported("cannot read /proc/filesystems: is this Linux?",
                              hint="onggi runs real containers only on Linux") from None
        if "\toverlay\n" not in filesystems:
            raise Unsupported("the kernel has no overlayfs",
                              hint="load it with 'modprobe overlay', or use the web app's simulated mode")

    # -- containers ---------------------------------------------------------------------
    def create(self, spec):
        from .container.container import create
        return create(self, spec)

    def container(self, ref: str):
        from .container.container import Container
        return Container(self, self.containers.get(ref))

    def ps(self, all: bool = False):
        from .container.container import Container
        out = [Container(self, r) for r in self.containers.list()]
        return out if all else [c for c in out if c.state.status.value == "running"]

    def remove_record(self, record: Record, *, purge: bool = True):
        """Forget a container whose kernel objects are gone (monitor, --rm, rm).

        With purge=False its files wait in the trash: the return value is for
        ``self.containers.purge()`` (see ContainerStore.remove)."""
        if record.spec.network not in ("none", "host") and not record.spec.network.startswith("container:"):
            try:
                self.networks.release(record)
            except Exception:       # noqa: BLE001 - leases are re-checked by prune
                pass
        trash = self.containers.remove(record, purge=purge)
        self.publisher.publish(events.ContainerDeleted(id=record.id, name=record.name))
        return trash

    def images_in_use(self) -> tuple[set[str], set[str]]:
        """(image ids, layer dirs) that some container still needs."""
        ids, layers = set(), set()
        for r in self.containers.list():
            ids.add(r.image_id)
            layers.update(r.layers)
        return ids, layers

    # -- build and ship (the same names the simulated runtime answers to) ----------------
    def build(self, context, **kw):
        """Build an image from a Dockerfile; see runtime.build.builder.build."""
        from .build.builder import build
        return build(self, context, **kw)

    def pull(self, ref: str, **kw):
        """Pull an image from its registry; see runtime.image.registry.pull."""
        from .image.registry.pull import pull
        return pull(self, ref, **kw)

    def push(self, ref: str, **kw) -> str:
        """Push an image to its registry; the manifest digest."""
        from .image.registry.push import push
        return push(self, ref, **kw)

    # -- system --------------------------------------------------------------------------
    def system_df(self) -> dict:
        from .system import disk_usage
        return disk_usage(self)

    def system_prune(self) -> list[str]:
        from .system import prune
        return prune(self)

    @staticmethod
    def host_hostname() -> str:
        return socket.gethostname()
