"""The event vocabulary: what the runtime tells the world, one frozen dataclass each.

On the wire (the events log, ``onggi events --format json``, Socket.IO) an event is
``{"time": unix seconds, "type": "container.exited", "id": "<object id>", "data": {...}}``
where ``data`` holds the dataclass's other fields. The wire format is the stable
contract; the classes are how the runtime builds it. Order per container is
created -> step* -> started -> (oom) -> exited -> deleted.

The runtime only publishes (to a :class:`Publisher`, normally the events log); it
never knows who listens.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, fields
from typing import ClassVar, Protocol


@dataclass(frozen=True)
class Event:
    type: ClassVar[str] = "event"
    id: str

    def data(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "id"}

    def to_wire(self, at: float | None = None) -> dict:
        return {"time": time.time() if at is None else at, "type": self.type,
                "id": self.id, "data": self.data()}


class Publisher(Protocol):
    def publish(self, event: Event) -> None: ...


class NullPublisher:
    """Publishes nowhere (for library users who do not want a log)."""

    def publish(self, event: Event) -> None:
        pass


class RecordingPublisher:
    """Keeps what was published, in order (tests, and in-process listeners)."""

    def __init__(self):
        self.events: list[Event] = []

    def publish(self, event: Event) -> None:
        self.events.append(event)

    def types(self) -> list[str]:
        return [e.type for e in self.events]


# --- containers ---------------------------------------------------------------

@dataclass(frozen=True)
class ContainerCreated(Event):
    type: ClassVar[str] = "container.created"
    name: str = ""
    image: str = ""


@dataclass(frozen=True)
class ContainerStep(Event):
    """One launch step ran (or is about to, phase="before"); report = kernel's view."""
    type: ClassVar[str] = "container.step"
    step: str = ""
    index: int = 0
    total: int = 0
    phase: str = "after"
    report: dict | None = None


@dataclass(frozen=True)
class ContainerStarted(Event):
    type: ClassVar[str] = "container.started"
    name: str = ""
    pid: int = 0


@dataclass(frozen=True)
class ContainerExecStarted(Event):
    type: ClassVar[str] = "container.exec"
    cmd: tuple = ()
    pid: int = 0


@dataclass(frozen=True)
class ContainerOOM(Event):
    """The OOM killer struck in a container's cgroup: its memory as the kernel counted it
    just before the cgroup went away (when PID 1 dies of it, the cgroup is gone by the
    time anyone could look), so a view can still show where the limit was reached."""
    type: ClassVar[str] = "container.oom"
    name: str = ""
    memory_peak: int = 0          # bytes: the most the cgroup ever used
    memory_max: int = 0           # bytes: its limit (0: none)
    oom_kills: int = 0            # processes the OOM killer killed in it


@dataclass(frozen=True)
class ContainerExited(Event):
    type: ClassVar[str] = "container.exited"
    exit_code: int = 0
    oom_killed: bool = False


@dataclass(frozen=True)
class ContainerDeleted(Event):
    type: ClassVar[str] = "container.deleted"
    name: str = ""


# --- images, layers, builds -----------------------------------------------------

@dataclass(frozen=True)
class LayerExtracted(Event):
    """id is the layer's diff_id."""
    type: ClassVar[str] = "layer.extracted"
    size: int = 0
    files: int = 0


@dataclass(frozen=True)
class ImageTagged(Event):
    type: ClassVar[str] = "image.tagged"
    name: str = ""


@dataclass(frozen=True)
class ImageLoaded(Event):
    """An image arrived by load, import or commit; how says which."""
    type: ClassVar[str] = "image.loaded"
    name: str = ""
    how: str = "load"


@dataclass(frozen=True)
class ImageDeleted(Event):
    type: ClassVar[str] = "image.deleted"
    name: str = ""


@dataclass(frozen=True)
class ImagePullProgress(Event):
    type: ClassVar[str] = "image.pull"
    ref: str = ""
    layer: str = ""
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class ImagePulled(Event):
    type: ClassVar[str] = "image.pulled"
    ref: str = ""
    digest: str = ""


@dataclass(frozen=True)
class ImagePushed(Event):
    type: ClassVar[str] = "image.pushed"
    ref: str = ""
    digest: str = ""


@dataclass(frozen=True)
class BuildStep(Event):
    """id is the build's. Published when a step begins (phase="start": cached or the
    reason it is not) and when it is done (layer digest and size, "" and 0 for none)."""
    type: ClassVar[str] = "build.step"
    n: int = 0
    total: int = 0
    instruction: str = ""
    cached: bool = False
    reason: str = ""
    layer: str = ""
    size: int = 0
    phase: str = "done"
    stage: str = ""


@dataclass(frozen=True)
class ImageBuilt(Event):
    type: ClassVar[str] = "image.built"
    name: str = ""


# --- networks -------------------------------------------------------------------

@dataclass(frozen=True)
class NetworkCreated(Event):
    type: ClassVar[str] = "network.created"
    name: str = ""
    bridge: str = ""
    subnet: str = ""


@dataclass(frozen=True)
class NetworkConnected(Event):
    """id is the network's; its name, the container, veth names and address in data."""
    type: ClassVar[str] = "network.connected"
    container: str = ""
    network: str = ""
    host_veth: str = ""
    container_veth: str = ""
    address: str = ""


@dataclass(frozen=True)
class NetworkDisconnected(Event):
    type: ClassVar[str] = "network.disconnected"
    container: str = ""
    network: str = ""


@dataclass(frozen=True)
class NetworkRemoved(Event):
    type: ClassVar[str] = "network.removed"
    name: str = ""
