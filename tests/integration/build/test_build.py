"""Builds through the real CLI: real containers for RUN, the cache and its reasons, history."""
import io
import json
import re
import tarfile

import pytest

pytestmark = pytest.mark.root

MULTI = """
    FROM busybox AS build
    ARG GREETING=hello
    WORKDIR /src
    COPY hello.txt .
    RUN tr a-z A-Z < hello.txt > shout.txt && echo "built for $GREETING"

    FROM busybox
    ENV WHO=world
    COPY --from=build /src/shout.txt /out/
    CMD ["cat", "/out/shout.txt"]
"""


def steps(stdout: str) -> list[str]:
    """The step lines, 'CACHED [..] X' or '[..] X', in order."""
    return [line for line in stdout.splitlines() if re.match(r"^(CACHED )?\[", line)]


def reasons(stdout: str) -> list[str]:
    return [line.split("cache miss: ", 1)[1] for line in stdout.splitlines() if "cache miss: " in line]


def image_id(onggi, ref: str) -> str:
    return onggi("image", "inspect", "-f", "{{.Id}}", ref, check=True).stdout.strip()


def blob_count(rt) -> int:
    return len(rt.images.blobs.list())


def test_multi_stage_builds_runs_and_rebuilds_from_cache(onggi, rt, context, build):
    ctx = context({"Dockerfile": MULTI, "hello.txt": "hello onggi\n"})
    first = build("-t", "multi:1", ctx)
    assert "built for hello" in first.stdout           # the RUN's own output is shown
    assert onggi("run", "--rm", "multi:1", check=True).stdout == "HELLO ONGGI\n"
    built = image_id(onggi, "multi:1")

    blobs = blob_count(rt)
    again = build("-t", "multi:1", ctx)
    lines = steps(again.stdout)
    assert lines[0] == "[build 1/8] FROM busybox AS build"
    assert all(line.startswith("CACHED ") for line in lines if " FROM " not in line), again.stdout
    assert len([line for line in lines if line.startswith("CACHED ")]) == 6
    assert reasons(again.stdout) == []
    assert image_id(onggi, "multi:1") == built          # same image ID...
    assert blob_count(rt) == blobs                       # ...and not one new blob

    # Change the COPY'd file: the cache misses exactly from that step, and says why.
    (ctx / "hello.txt").write_text("changed\n")
    third = build("-t", "multi:1", ctx)
    lines = steps(third.stdout)
    assert lines[1].startswith("CACHED ") and "WORKDIR" in lines[1]
    assert lines[2] == "[build 3/8] COPY hello.txt ."
    assert reasons(third.stdout) == [
        "COPY hello.txt: content changed", "RUN: parent layer changed",
        "COPY --from=build: the stage it copies from changed", "CMD: parent layer changed"]
    assert lines[5].startswith("CACHED ") and "ENV WHO=world" in lines[5]
    assert onggi("run", "--rm", "multi:1", check=True).stdout == "CHANGED\n"
    assert image_id(onggi, "multi:1") != built


def test_build_arg_change_is_named(onggi, context, build):
    ctx = context({"Dockerfile": MULTI, "hello.txt": "x\n"})
    build("-t", "args:1", ctx)
    out = build("-t", "args:1", "--build-arg", "GREETING=bonjour", ctx).stdout
    assert "built for bonjour" in out
    assert reasons(out)[0] == "ARG GREETING changed"
    assert "cache miss" not in out.split("RUN tr")[0]      # everything before the RUN was cached
    history = onggi("history", "--no-trunc", "args:1", check=True).stdout
    assert "RUN |1 GREETING=bonjour /bin/sh -c tr a-z A-Z" not in history   # that was stage one
    assert "--no-cache" in build("-t", "args:1", "--no-cache", ctx).stdout


def test_failing_run_shows_output_and_exit_code_and_leaves_nothing(onggi, rt, context, build):
    ctx = context({"Dockerfile": """
        FROM busybox
        ENV A=1
        RUN echo about to fail && echo on stderr >&2 && exit 3
        CMD ["true"]
    """})
    images_before = {i.id for i in rt.images.list()}
    index_before = rt.images.layout.read_index().dump()
    proc = build("-t", "broken:1", ctx, check=False)
    assert proc.returncode == 1
    assert "about to fail" in proc.stdout and "on stderr" in proc.stdout
    err = proc.stderr.strip()
    assert err.startswith("onggi: Dockerfile:3: RUN echo about to fail"), err
    assert "exit code: 3" in err and "\n" not in err
    assert rt.containers.ids() == []
    assert {i.id for i in rt.images.list()} == images_before
    assert rt.images.layout.read_index().dump() == index_before
    assert not (rt.config.root / "buildcache" / "tmp").exists() or \
        list((rt.config.root / "buildcache" / "tmp").iterdir()) == []


def test_a_command_that_does_not_exist(onggi, rt, context, build):
    ctx = context({"Dockerfile": "FROM busybox\nRUN [\"/no/such/thing\"]\n"})
    proc = build(ctx, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("onggi: Dockerfile:2: RUN") and "127" in proc.stderr
    assert rt.containers.ids() == []


def test_parse_errors_carry_file_and_line(onggi, context, build):
    ctx = context({"Dockerfile": "FROM busybox\nRUN true\nRUNN true\n", "other.Dockerfile": "FROM\n"})
    proc = build(ctx, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("onggi: Dockerfile:3: unknown instruction: RUNN")
    proc = build("-f", ctx / "other.Dockerfile", ctx, check=False)
    assert proc.stderr.startswith("onggi: other.Dockerfile:1: FROM requires either one or three arguments")


@pytest.mark.parametrize("dockerfile,error", [
    # The base name comes from an ARG with no value: still the file, the line and exit 1.
    ("ARG TAG\nFROM busybox:$TAG\n", "onggi: Dockerfile:2: FROM busybox:$TAG: invalid reference format"),
    ("ARG BASE\nFROM $BASE\n", "onggi: Dockerfile:2: FROM $BASE: base name should not be blank"),
])
def test_a_bad_base_name_carries_file_and_line(context, build, dockerfile, error):
    proc = build(context({"Dockerfile": dockerfile}), check=False)
    assert (proc.returncode, proc.stderr.splitlines()[0][:len(error)]) == (1, error)


def test_history_sizes_and_config(onggi, rt, context, build):
    ctx = context({"Dockerfile": """
        FROM busybox
        LABEL org.example.lesson="build and ship"
        ENV APP_HOME=/app
        WORKDIR $APP_HOME
        COPY --chown=nobody app.sh bin/
        RUN chmod +x bin/app.sh
        USER nobody
        EXPOSE 8080
        VOLUME /data
        STOPSIGNAL SIGINT
        HEALTHCHECK --interval=5s --retries=2 CMD wget -q localhost:8080
        ENTRYPOINT ["/app/bin/app.sh"]
        CMD ["--help"]
    """, "app.sh": "#!/bin/sh\necho app \"$@\" as $(id -u) in $(pwd)\n"})
    build("-t", "hist:1", ctx)
    rows = [line for line in onggi("history", "--no-trunc", "hist:1", check=True).stdout.splitlines()[1:]]
    by = {r.split("   ")[2].strip() if len(r.split("   ")) > 2 else r: r for r in rows}
    zero = [r for r in rows if re.search(r"\s0B(\s|$)", r)]
    assert any("ENV APP_HOME=/app" in r for r in zero)
    assert any("LABEL org.example.lesson=build and ship" in r for r in zero)
    assert not any("COPY --chown=nobody app.sh bin/" in r for r in zero)
    assert not any("RUN /bin/sh -c chmod +x bin/app.sh" in r for r in zero)
    assert by
    image = rt.images.resolve("hist:1")
    s = image.settings
    assert s["WorkingDir"] == "/app" and s["User"] == "nobody"
    assert s["ExposedPorts"] == {"8080/tcp": {}} and s["Volumes"] == {"/data": {}}
    assert s["StopSignal"] == "SIGINT" and s["Entrypoint"] == ["/app/bin/app.sh"] and s["Cmd"] == ["--help"]
    assert s["Healthcheck"] == {"Test": ["CMD-SHELL", "wget -q localhost:8080"],
                                "Interval": 5_000_000_000, "Retries": 2}
    assert s["Labels"] == {"org.example.lesson": "build and ship"}
    hist = image.config["history"]
    assert [h.get("empty_layer", False) for h in hist[-12:]] == [
        True, True, False, False, False, True, True, True, True, True, True, True]
    assert len(image.diff_ids) == len(image.layers) == 4      # busybox, WORKDIR, COPY, RUN
    out = onggi("run", "--rm", "hist:1", check=True).stdout
    assert out == "app --help as 65534 in /app\n"
    owner = onggi("run", "--rm", "--entrypoint", "stat", "hist:1", "-c", "%u %a", "/app/bin/app.sh",
                  check=True).stdout
    assert owner == "65534 755\n"


def test_dockerignore_add_tar_and_add_url(onggi, context, build):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        data = b"from the archive\n"
        info = tarfile.TarInfo("pkg/readme.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    ctx = context({"Dockerfile": """
        FROM busybox
        COPY . /ctx/
        ADD pkg.tar.gz /opt/
        ADD plain.txt /opt/plain.txt
        CMD ["sh", "-c", "ls /ctx; cat /opt/pkg/readme.txt /opt/plain.txt"]
    """, "pkg.tar.gz": raw.getvalue(), "plain.txt": "plain\n", "secret.key": "no",
        "logs/a.log": "no", ".dockerignore": "*.key\nlogs\n"})
    build("-t", "ignore:1", ctx)
    out = onggi("run", "--rm", "ignore:1", check=True).stdout
    listed = out.split("from the archive")[0].split()
    assert "secret.key" not in listed and "logs" not in listed
    assert {"Dockerfile", "pkg.tar.gz", "plain.txt"} <= set(listed)
    assert out.endswith("from the archive\nplain\n")

    ctx2 = context({"Dockerfile": "FROM busybox\n\nADD https://example.org/x.tgz /x/\n"})
    proc = build(ctx2, check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("onggi: Dockerfile:3: ADD https://example.org/x.tgz: downloading a URL "
                                  "needs the network")

    ctx3 = context({"Dockerfile": "FROM busybox\nCOPY secret.key /\n"})
    proc = build(ctx3, check=False)
    assert proc.stderr.startswith("onggi: Dockerfile:2: COPY secret.key /: secret.key: not found")


def test_target_builds_only_what_it_needs(onggi, context, build):
    ctx = context({"Dockerfile": """
        FROM busybox AS base
        RUN echo base > /base.txt
        FROM base AS test
        RUN cat /base.txt && echo tested > /test.txt
        FROM busybox AS unused
        RUN exit 1
        FROM base
        CMD ["cat", "/base.txt"]
    """})
    out = build("-t", "target:test", "--target", "test", ctx).stdout
    assert "unused" not in out and "[base 1/4]" in out and "[test 4/4]" in out
    assert onggi("run", "--rm", "target:test", "cat", "/test.txt", check=True).stdout == "tested\n"
    proc = build("-t", "target:all", ctx, check=False)
    assert proc.returncode == 0 and "exit 1" not in proc.stdout       # the unused stage is skipped
    proc = build("--target", "nope", ctx, check=False)
    assert proc.returncode == 1 and "target stage 'nope' could not be found" in proc.stderr


def test_build_publishes_steps_and_built(onggi, rt, context, build):
    ctx = context({"Dockerfile": "FROM busybox\nENV X=1\nRUN echo hi > /hi\n"})
    build("-t", "events:1", ctx)
    wire = [json.loads(line) for line in rt.config.events_log.read_text().splitlines()]
    steps_ = [e for e in wire if e["type"] == "build.step"]
    built = [e for e in wire if e["type"] == "image.built" and e["data"]["name"] == "events:1"]
    assert built and built[-1]["id"] == image_id(onggi, "events:1")
    last = [e["data"] for e in steps_ if e["id"] == steps_[-1]["id"]]
    assert [(d["n"], d["total"], d["phase"]) for d in last] == [
        (1, 3, "start"), (1, 3, "done"), (2, 3, "start"), (2, 3, "done"), (3, 3, "start"), (3, 3, "done")]
    run_done = last[-1]
    assert run_done["instruction"] == "RUN echo hi > /hi"
    assert run_done["layer"].startswith("sha256:") and run_done["size"] > 0


def test_global_args_and_substitution_forms(onggi, context, build):
    ctx = context({"Dockerfile": """
        ARG BASE=busybox
        FROM $BASE
        ARG BASE
        ARG EMPTY=
        ENV DIR=/srv
        COPY hello.txt ${DIR}/${EMPTY:-fallback}/
        COPY hello.txt ${DIR}/${BASE:+set}/${UNSET-unset}.txt
        CMD ["sh", "-c", "cat /srv/fallback/hello.txt /srv/set/unset.txt; echo $BASE"]
    """, "hello.txt": "hi\n"})
    build("-t", "subst:1", ctx)
    assert onggi("run", "--rm", "subst:1", check=True).stdout == "hi\nhi\n\n"   # ARGs are not ENV
    out = build("-t", "subst:1", "--build-arg", "BASE=busybox:latest", ctx).stdout
    assert "[Warning]" not in out
    # Same base image; only the COPY that names $BASE depends on it.
    assert reasons(out) == ["ARG BASE changed", "CMD: parent layer changed"]
    assert "CACHED [3/5] COPY hello.txt ${DIR}/${EMPTY:-fallback}/" in out


def test_from_scratch_with_a_binary_from_another_stage(onggi, rt, context, build):
    ctx = context({"Dockerfile": """
        FROM busybox AS tools
        FROM scratch
        COPY --from=tools /bin/busybox /bin/busybox
        CMD ["/bin/busybox", "echo", "from scratch"]
    """})
    out = build("-t", "scratch:1", ctx).stdout
    assert "[stage-1 2/4] FROM scratch" in out
    assert onggi("run", "--rm", "scratch:1", check=True).stdout == "from scratch\n"
    image = rt.images.resolve("scratch:1")
    assert len(image.layers) == 1 and image.settings["Env"][0].startswith("PATH=")


def test_workdir_belongs_to_the_user_and_copy_goes_through_links(onggi, context, build):
    # BuildKit makes a WORKDIR (and the parents it makes) owned by the USER so far,
    # and writes COPY, ADD and WORKDIR through a symlink in the image (usr-merged
    # images link /bin to usr/bin) instead of putting a directory over it.
    ctx = context({"Dockerfile": """
        FROM busybox
        RUN echo "app:x:1234:1234::/home/app:/bin/sh" >> /etc/passwd \\
            && echo "app:x:1234:" >> /etc/group \\
            && mkdir -p /usr/real && ln -s usr/real /lnk && echo old > /usr/real/old
        COPY hello.txt /lnk/
        WORKDIR /lnk/wd
        USER app
        WORKDIR /home/app/work
        RUN touch mine
        CMD ["sh", "-c", "stat -c '%u %n' /home/app /home/app/work mine; readlink /lnk; ls /lnk"]
    """, "hello.txt": "hi\n"})
    build("-t", "through:1", ctx)
    assert onggi("run", "--rm", "through:1", check=True).stdout == (
        "1234 /home/app\n1234 /home/app/work\n1234 mine\nusr/real\nhello.txt\nold\nwd\n")
