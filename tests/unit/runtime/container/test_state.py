import pytest

from runtime.container.state import State, Status
from runtime.errors import Conflict, InvalidTransition


@pytest.mark.parametrize("status, start, kill, delete", [
    (Status.CREATED, True, False, True),
    (Status.RUNNING, False, True, False),
    (Status.EXITED, True, False, True),
    (Status.REMOVING, False, False, False),
])
def test_transitions(status, start, kill, delete):
    assert (status.can_start(), status.can_kill(), status.can_delete()) == (start, kill, delete)


def test_forbidden_move_raises_invalid_transition():
    with pytest.raises(InvalidTransition) as info:
        Status.RUNNING.require("start")
    assert isinstance(info.value, Conflict)
    assert str(info.value) == "cannot start container: it is running"
    Status.EXITED.require("start")


def test_state_round_trip():
    s = State(status=Status.EXITED, pid=0, exit_code=137, oom_killed=True, finished_at="x")
    assert State.from_dict(s.to_dict()) == s
    assert State.from_dict({"status": "running", "unknown": 1}).status is Status.RUNNING
