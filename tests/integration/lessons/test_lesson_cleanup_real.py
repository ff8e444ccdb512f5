"""Clean up removes exactly what a lesson made: its labelled containers and networks, what its
prefix names (made from a terminal), the images its actions made, and nothing else."""
import pytest

from web.lessons.actions import LABEL
from web.lessons.cleanup import clean

pytestmark = pytest.mark.root


def test_clean_up_removes_exactly_the_lessons_things(rt, onggi, names):
    p = names.prefix                      # everything of this test starts with it
    lesson, prefix = "98-cleanup", f"{p}ours-"
    made = {
        "labelled": f"{p}labelled",                                  # by a button: the label says whose
        "prefixed": f"{prefix}typed",                                # from a terminal, the suggested name
        "other_lesson": f"{p}other",
        "unrelated": f"{p}keep",
    }
    onggi("run", "-d", "--name", made["labelled"], "--label", f"{LABEL}={lesson}", "busybox", "sleep", "300", check=True)
    onggi("run", "-d", "--name", made["prefixed"], "busybox", "sleep", "300", check=True)
    onggi("run", "--name", f"{prefix}exited", "busybox", "true", check=True)
    onggi("run", "-d", "--name", made["other_lesson"], "--label", f"{LABEL}=97-other", "busybox", "sleep", "300",
          check=True)
    onggi("run", "-d", "--name", made["unrelated"], "busybox", "sleep", "300", check=True)
    onggi("network", "create", "--label", f"{LABEL}={lesson}", f"{p}net-a", check=True)
    onggi("network", "create", f"{prefix}net-b", check=True)
    onggi("network", "create", f"{p}net-keep", check=True)
    for tag in (f"{p}made:v1", f"localhost:5000/{prefix}pushed:v1", f"{prefix}local:v1", f"{p}keep:v1"):
        onggi("tag", "busybox", tag, check=True)

    out = clean(rt, lesson, prefix, images=[f"{p}made:v1", "busybox:latest"])

    assert sorted(out["containers"]) == sorted([made["labelled"], made["prefixed"], f"{prefix}exited"])
    assert sorted(out["networks"]) == sorted([f"{p}net-a", f"{prefix}net-b"])
    assert sorted(out["images"]) == sorted([f"{p}made:v1", f"localhost:5000/{prefix}pushed:v1",
                                            f"{prefix}local:v1"])
    assert out["failed"] == []
    left = {r.name for r in rt.containers.list()}
    assert made["other_lesson"] in left and made["unrelated"] in left
    assert not left & {made["labelled"], made["prefixed"], f"{prefix}exited"}
    assert {n.name for n in rt.networks.list()} >= {f"{p}net-keep"}
    tags = {t for i in rt.images.list() for t in i.tags}
    assert "busybox:latest" in tags and f"{p}keep:v1" in tags and f"{prefix}local:v1" not in tags


def test_an_older_build_left_without_a_name_goes_too(rt, onggi, names, tmp_path):
    ref = f"{names('app')}:v1"
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo one > /one\n")
    onggi("build", "-t", ref, ctx, check=True)
    old = rt.images.resolve(ref).id
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo two > /two\n")
    onggi("build", "-t", ref, ctx, check=True)
    new = rt.images.resolve(ref).id
    assert old != new and not rt.images.resolve(old).tags            # dangling now
    out = clean(rt, "98-cleanup", "", images=[ref, old, new])
    assert ref in out["images"] and old[7:19] in out["images"]
    ids = {i.id for i in rt.images.list()}
    assert old not in ids and new not in ids
