import threading
import time

from runtime import events
from runtime.eventlog import EventLog


def test_append_and_read(tmp_path):
    log = EventLog(tmp_path / "run" / "events.log")
    log.publish(events.ContainerCreated(id="c1", name="web", image="busybox"))
    log.publish(events.ContainerExited(id="c1", exit_code=3))
    got = list(log.read())
    assert [e["type"] for e in got] == ["container.created", "container.exited"]
    assert got[1]["data"] == {"exit_code": 3, "oom_killed": False}
    assert set(got[0]) == {"time", "type", "id", "data"}


def test_follow_sees_appends_from_another_writer_quickly(tmp_path):
    path = tmp_path / "events.log"
    seen = []

    def reader():
        for e in EventLog(path).follow(timeout=0.2):
            seen.append((e["id"], time.time()))
            if len(seen) == 3:
                return
    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.2)
    writer = EventLog(path)
    sent = []
    for i in range(3):
        sent.append(time.time())
        writer.publish(events.ContainerStarted(id=str(i), pid=i))
        time.sleep(0.02)
    th.join(5)
    assert [s[0] for s in seen] == ["0", "1", "2"]
    assert max(s[1] - t for s, t in zip(seen, sent)) < 0.2


def test_follow_since_replays_history(tmp_path):
    log = EventLog(tmp_path / "events.log")
    log.publish(events.ContainerCreated(id="old"))
    gen = log.follow(since=0)
    assert next(gen)["id"] == "old"
    gen.close()


def test_every_event_type_is_a_topic_name():
    kinds = [cls for cls in vars(events).values()
             if isinstance(cls, type) and issubclass(cls, events.Event) and cls is not events.Event]
    assert len(kinds) >= 15
    for cls in kinds:
        kind, _, action = cls.type.partition(".")
        assert kind in ("container", "image", "layer", "build", "network") and action, cls


def test_follow_without_inotify_polls(tmp_path):
    import runtime.linux.inotify as ino_mod
    real = ino_mod.Inotify

    class Broken:
        def __init__(self):
            raise OSError(38, "Function not implemented")
    ino_mod.Inotify = Broken
    try:
        path = tmp_path / "events.log"
        gen = EventLog(path).follow(timeout=0.1, from_start=True)
        EventLog(path).publish(events.ContainerCreated(id="polled"))
        assert next(gen)["id"] == "polled"
        gen.close()
    finally:
        ino_mod.Inotify = real
