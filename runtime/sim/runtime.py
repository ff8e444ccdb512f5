"""SimRuntime: the :class:`runtime.core.Runtime` interface over the simulated world.

The web app and the lessons call the same names on it as on the real one
(``config``, ``publisher``, ``check_host``, ``create``, ``container``, ``ps``,
``image``, ``list_images``, ``images``, ``cgroups``, ``networks``, ``containers``,
``remove_record``, ``images_in_use``, ``system_df``, ``system_prune``,
``limits_for``, ``host_hostname``), plus what only a simulation has:

* ``simulated = True`` and ``why``: (Korean, English) reasons this machine runs simulated;
* ``truth``: the simulated kernel's readers (:mod:`.truth`) for the diagrams and checks;
* ``build``, ``pull``, ``push``: the builder and the classroom registry, simulated
  (:mod:`.build`, :mod:`.registry`), with the real functions' signatures minus ``rt``.

Events go to the real events log at ``config.events_log``, so the web's relay and
``onggi events`` see them as they see real ones. State lives in
``config.root/sim/world.json`` (:mod:`.state`), shared by every process on that root.
A timer (one daemon thread at a time) records exits when their time comes, so
``container.exited`` reaches the browsers without anyone asking; every look at
the world does the same, so a process without the timer sees the same world.
"""
from __future__ import annotations

import socket
import threading
import time
from functools import cached_property

from runtime.config import Config
from runtime.eventlog import EventLog

from . import container as containers
from .ports import Ports
from .state import World


class SimRuntime:
    simulated = True
    syscalls = None

    def __init__(self, config: Config | None = None, *, publisher=None, why: tuple[str, str] | None = None):
        self.config = config or Config.from_env()
        self._own_log = publisher is None
        self.publisher = publisher if publisher is not None else EventLog(self.config.events_log)
        self.world = World(self.config.root)
        self.why = why or ("모의 실행으로 시작했습니다", "started in simulated mode")
        self.containers = containers.SimContainerStore(self)
        self.boot_time = time.time() - 3600
        self._timer: threading.Timer | None = None
        self._timer_at: float | None = None
        self._timer_lock = threading.Lock()
        self._closed = False
        self.ports = Ports(self)

    # -- what this host is ---------------------------------------------------------------------
    @cached_property
    def host(self) -> dict:
        from .machine import host_facts
        return host_facts()

    def check_host(self) -> None:
        """Never raises: the simulation runs anywhere."""

    @staticmethod
    def host_hostname() -> str:
        return socket.gethostname()

    @staticmethod
    def limits_for(spec):
        from runtime.core import Runtime
        return Runtime.limits_for(spec)

    # -- subsystems --------------------------------------------------------------------------------
    @cached_property
    def images(self):
        from .images import SimImageStore
        return SimImageStore(self)

    @cached_property
    def cgroups(self):
        from .cgroups import SimCgroups
        return SimCgroups(self)

    @cached_property
    def networks(self):
        from .networks import SimNetworks
        return SimNetworks(self)

    @cached_property
    def truth(self):
        from .truth import SimTruth
        return SimTruth(self)

    @cached_property
    def registry(self):
        from .registry import SimRegistry
        return SimRegistry(self)

    def image(self, ref: str):
        from runtime.image.images import resolve_or_base
        return resolve_or_base(self.images, ref)

    def list_images(self):
        from runtime.image.images import list_with_base
        return list_with_base(self.images)

    # -- containers ----------------------------------------------------------------------------------
    def create(self, spec):
        return containers.create(self, spec)

    def container(self, ref: str):
        return containers.SimContainer(self, self.containers.get(ref))

    def ps(self, all: bool = False):
        out = [containers.SimContainer(self, r) for r in self.containers.list()]
        return out if all else [c for c in out if c.state.status.value == "running"]

    def remove_record(self, record) -> None:
        self.container(record.id).remove(force=True)

    def images_in_use(self) -> tuple[set[str], set[str]]:
        ids, layers = set(), set()
        for c in self.snapshot()["containers"].values():
            ids.add(c["image_id"])
            layers.update(str(self.config.layers_dir / h) for h in c["layers"])
        return ids, layers

    # -- system --------------------------------------------------------------------------------------
    def system_df(self) -> dict:
        in_use, in_use_layers = self.images_in_use()
        cs = self.snapshot()["containers"].values()
        sizes = {c["id"]: sum(e.get("s", 0) for e in (c.get("upper") or {}).values()) for c in cs}
        return {"images": self.images.disk_usage(in_use, in_use_layers),
                "containers": {"total": len(sizes),
                               "active": sum(c["state"]["status"] == "running" for c in cs),
                               "size": sum(sizes.values()),
                               "reclaimable": sum(sizes[c["id"]] for c in cs if c["state"]["status"] != "running")},
                "simulated": True}

    def system_prune(self) -> list[str]:
        done = []
        for c in self.ps(all=True):
            if c.state.status.value != "running":
                c.remove(force=True)
                done.append(f"Deleted container: {c.id}")
        done += self.networks.prune({c.id for c in self.ps()})
        in_use, in_use_layers = self.images_in_use()
        done += self.images.prune(in_use, in_use_layers)
        return done

    # -- build and ship -----------------------------------------------------------------------------------
    def build(self, context, **kw):
        """``runtime.build.builder.build(rt, context, ...)``, simulated (see :mod:`.build`)."""
        from .build import build
        return build(self, context, **kw)

    def pull(self, ref: str, **kw):
        return self.registry.pull(ref, **kw)

    def push(self, ref: str, **kw) -> str:
        return self.registry.push(ref, **kw)

    # -- time ----------------------------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """The world now: exits that are due are recorded first (and published)."""
        world = self.world.read()
        due = containers.due(world)
        if due is not None and due <= time.time():
            with self.world.edit() as w:
                containers.advance(self, w, time.time())
            world = self.world.read()
        if not self._closed:
            self.ports.sync(world)
        return world

    def wake(self) -> None:
        """Make sure the timer fires when the next exit is due (call after a change)."""
        due = containers.due(self.world.read())
        if due is None or self._closed:
            return
        with self._timer_lock:
            if self._timer is not None and self._timer_at is not None and self._timer_at <= due:
                return
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(max(due - time.time(), 0) + 0.005, self._tick)
            self._timer.daemon = True
            self._timer_at = due
            self._timer.start()

    def _tick(self) -> None:
        with self._timer_lock:
            self._timer = self._timer_at = None
        try:
            self.snapshot()
        except Exception:          # noqa: BLE001 - a timer must not kill anything; the next look retries
            pass
        self.wake()

    def close(self) -> None:
        """Stop the timer and the published ports' listeners (the world stays as it is)."""
        self._closed = True
        self.ports.close()
        with self._timer_lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._timer_at = None
        if self._own_log:
            self.publisher.close()
