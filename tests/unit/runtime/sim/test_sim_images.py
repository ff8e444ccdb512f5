"""Simulated images, builds with the real parser and cache rules, and the classroom registry."""
import pytest

from runtime.build.builder import Output
from runtime.errors import BuildError, ImageInUse, ImageNotFound, RegistryError
from runtime.events import BuildStep

DOCKERFILE = """FROM busybox
WORKDIR /app
RUN echo "built at $(date)" > /app/built.txt
COPY hello.txt /app/hello.txt
CMD ["sh", "-c", "cat /app/hello.txt /app/built.txt"]
"""


@pytest.fixture
def context(tmp_path):
    ctx = tmp_path / "context"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE)
    (ctx / "hello.txt").write_text("hello, onggi\n")
    return ctx


def steps_of(sim, context, **kw):
    seen = []
    image = sim.build(context, progress=lambda item: seen.append(item), **kw)
    return image, [s for s in seen if isinstance(s, BuildStep) and s.phase == "start"], seen


def test_busybox_is_there_from_the_start(sim):
    images = sim.list_images()
    assert [i.tags for i in images] == [["busybox:latest"]]
    image = sim.image("busybox")
    assert len(image.diff_ids) == 1 and image.settings["Cmd"] == ["sh"]
    assert sim.images.history("busybox")[0]["created_by"].startswith("onggi: static busybox 1.35.0")
    doc = sim.images.inspect("busybox:latest")
    assert doc["Simulated"] is True and doc["RootFS"]["Layers"] == image.diff_ids


def test_tag_and_rmi_by_dockers_rules(sim, started):
    sim.images.ensure_base()
    assert sim.images.tag("busybox", "mine:v1") == "mine:v1"
    assert sim.images.resolve("mine:v1").id == sim.image("busybox").id
    assert sim.images.remove("mine:v1") == ["Untagged: mine:v1"]
    c = started(image="busybox")
    ids, layers = sim.images_in_use()
    with pytest.raises(ImageInUse):
        sim.images.remove("busybox", in_use=ids, in_use_layers=layers)
    c.remove(force=True)
    lines = sim.images.remove("busybox")
    assert lines[0] == "Untagged: busybox:latest" and any(x.startswith("Deleted: sha256:") for x in lines[1:])
    with pytest.raises(ImageNotFound):
        sim.images.resolve("busybox:latest")


def test_a_build_runs_each_step_and_a_rebuild_is_all_cached(sim, context):
    image, starts, seen = steps_of(sim, context, tag="hello:v1")
    assert [s.cached for s in starts[1:]] == [False] * 4
    assert starts[2].reason == "RUN: not built before"
    assert len(image.diff_ids) == 4                    # busybox, WORKDIR's /app, RUN's file, COPY's file
    again, starts2, _ = steps_of(sim, context, tag="hello:v1")
    assert [s.cached for s in starts2[1:]] == [True] * 4 and again.id == image.id
    from runtime.container.spec import ContainerSpec
    c = sim.create(ContainerSpec(image="hello:v1"))
    c.start().wait_started()
    assert c.wait() == 0
    text = b"".join(d for _, d, _ in c.logs()).decode()
    assert text.startswith("hello, onggi\nbuilt at ")


def test_a_changed_file_misses_the_cache_from_its_copy_on(sim, context):
    steps_of(sim, context, tag="hello:v1")
    (context / "hello.txt").write_text("changed\n")
    _, starts, _ = steps_of(sim, context, tag="hello:v1")
    assert [s.cached for s in starts[1:]] == [True, True, False, False]
    assert starts[3].reason == "COPY hello.txt: content changed"
    assert starts[4].reason == "CMD: parent layer changed"


def test_layers_hold_what_run_made_and_rm_does_not_shrink_an_image(sim, tmp_path):
    ctx = tmp_path / "fat"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN dd if=/dev/urandom of=/big.bin bs=1M count=20\n"
                                    "RUN rm /big.bin\n")
    image = sim.build(ctx, tag="fat:v1")
    sizes = [r["size"] for r in sim.images.history("fat:v1")]
    assert sizes[0] < 10_000 and sizes[1] > 20 << 20           # newest first: rm's layer, dd's layer
    whiteout = sim.images.layer(image.diff_ids[-1])
    assert whiteout["/big.bin"]["k"] == "w"


def test_a_failing_run_is_a_build_error_with_the_line(sim, tmp_path):
    ctx = tmp_path / "bad"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("FROM busybox\n\nRUN false\n")
    with pytest.raises(BuildError, match=r"Dockerfile:3: RUN false: .*exit code: 1"):
        sim.build(ctx, tag="bad:v1")
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN echo to-stdout\n")
    _, _, seen = steps_of(sim, ctx)
    assert Output("stdout", b"to-stdout\n") in seen


def test_push_and_pull_through_the_classroom_registry(sim, context, started, events):
    sim.build(context, tag="localhost:5000/ship-hello:v1")
    digest = sim.push("localhost:5000/ship-hello:v1")
    assert digest.startswith("sha256:") and events("image.pushed")[-1]["data"]["digest"] == digest
    sim.images.remove("localhost:5000/ship-hello:v1")
    image = sim.pull("localhost:5000/ship-hello:v1")
    assert image.tags == ["localhost:5000/ship-hello:v1"]
    assert events("image.pulled")[-1]["data"] == {"ref": "localhost:5000/ship-hello:v1", "digest": digest}
    # A container on the host's network fetches the manifest and hashes it to the same digest.
    c = started("sh", "-c", "wget -qO- http://127.0.0.1:5000/v2/ship-hello/manifests/v1 | sha256sum",
                network="host")
    assert c.wait() == 0
    assert b"".join(d for _, d, _ in c.logs()).decode().split()[0] == digest.removeprefix("sha256:")
    with pytest.raises(RegistryError, match="only the classroom registry"):
        sim.push("docker.io/library/busybox:latest")
