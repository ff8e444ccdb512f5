"""A container's lifecycle: the statuses and the moves between them, nothing else.

::

    created --start--> running --(process exits)--> exited --start--> running
       |                  |                            |
       +------delete------+------(kill, then)----------+--delete--> (gone)

A forbidden move raises :class:`~runtime.errors.InvalidTransition`. The statuses
and their spelling are Docker's, so ``onggi ps`` and ``docker ps`` read the same.
"""
from __future__ import annotations

import enum
from dataclasses import asdict, dataclass

from ..errors import InvalidTransition


class Status(str, enum.Enum):
    CREATED = "created"
    RUNNING = "running"
    EXITED = "exited"
    REMOVING = "removing"

    def __str__(self) -> str:
        return self.value

    def can_start(self) -> bool:
        return self in (Status.CREATED, Status.EXITED)

    def can_kill(self) -> bool:
        return self is Status.RUNNING

    def can_delete(self) -> bool:
        """Without force; with force anything but REMOVING may be deleted."""
        return self in (Status.CREATED, Status.EXITED)

    def require(self, verb: str) -> None:
        allowed = {"start": self.can_start, "kill": self.can_kill, "delete": self.can_delete}
        if not allowed[verb]():
            raise InvalidTransition(self.value, verb)


@dataclass
class State:
    """What state.json holds; the monitor is its only writer while it runs."""
    status: Status = Status.CREATED
    pid: int = 0
    monitor_pid: int = 0
    exit_code: int | None = None
    oom_killed: bool = False
    started_at: str = ""
    finished_at: str = ""
    error: str = ""
    restart_count: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["status"] = self.status.value
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "State":
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        known["status"] = Status(known.get("status", "created"))
        return cls(**known)
