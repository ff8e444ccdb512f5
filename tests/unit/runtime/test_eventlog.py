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


def test_the_log_is_bounded_and_one_rotated_generation_is_kept(tmp_path):
    path = tmp_path / "events.log"
    log = EventLog(path, max_bytes=1000)
    for i in range(100):
        log.publish(events.ContainerStarted(id=str(i), pid=i))
    assert not path.exists() or path.stat().st_size <= 1000  # a new log starts after a rotation
    assert (tmp_path / "events.log.1").stat().st_size <= 1000 + 200
    ids = [int(e["id"]) for e in log.read()]
    assert ids == list(range(ids[0], 100)) and 0 < ids[0] < 95    # newest kept, in order, no gaps


def test_a_writer_follows_a_rotation_made_by_another(tmp_path):
    path = tmp_path / "events.log"
    a, b = EventLog(path, max_bytes=300), EventLog(path, max_bytes=10**6)
    b.publish(events.ContainerStarted(id="b-before", pid=1))        # b holds an fd now
    while not (tmp_path / "events.log.1").exists():
        a.publish(events.ContainerStarted(id="a", pid=2))
    b.publish(events.ContainerStarted(id="b-after", pid=3))
    current = [e["id"] for e in EventLog(path).follow(from_start=True, stop=lambda: True)]
    assert "b-after" in path.read_text() and "b-after" not in (tmp_path / "events.log.1").read_text()
    assert current[-1] == "b-after"


def test_follow_crosses_a_rotation_without_losing_events(tmp_path):
    path = tmp_path / "events.log"
    seen = []

    def reader():
        for e in EventLog(path).follow(timeout=0.05):
            seen.append(int(e["id"]))
            if seen[-1] == 59:
                return
    th = threading.Thread(target=reader)
    th.start()
    time.sleep(0.2)
    writer = EventLog(path, max_bytes=800)
    for i in range(60):
        writer.publish(events.ContainerStarted(id=str(i), pid=i))
        time.sleep(0.005)
    th.join(10)
    assert (tmp_path / "events.log.1").exists()              # it did rotate, more than once
    assert seen == list(range(60))
