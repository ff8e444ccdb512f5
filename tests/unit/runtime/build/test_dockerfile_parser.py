"""Dockerfile text -> instructions with their lines; every error names file and line."""
import pytest

from runtime.build import instructions as ins
from runtime.build.parser import parse
from runtime.errors import BuildError


def only(text: str):
    """The single instruction after FROM in ``FROM busybox\\n<text>``."""
    df = parse("FROM busybox\n" + text)
    (inst,) = df.stages[0].instructions
    return inst


@pytest.mark.parametrize("text,expected", [
    ("RUN echo hi", ins.Run(line=2, text="RUN echo hi", command=("echo hi",), shell_form=True)),
    ('RUN ["echo", "hi"]', ins.Run(line=2, text='RUN ["echo", "hi"]', command=("echo", "hi"),
                                   shell_form=False)),
    ("RUN [not json", ins.Run(line=2, text="RUN [not json", command=("[not json",), shell_form=True)),
    ("run echo lower", ins.Run(line=2, text="RUN echo lower", command=("echo lower",), shell_form=True)),
    ('CMD ["sh"]', ins.Cmd(line=2, text='CMD ["sh"]', command=("sh",), shell_form=False)),
    ("ENTRYPOINT top -b", ins.Entrypoint(line=2, text="ENTRYPOINT top -b", command=("top -b",),
                                         shell_form=True)),
    ('SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
     ins.Shell(line=2, text='SHELL ["/bin/ash", "-eo", "pipefail", "-c"]',
               command=("/bin/ash", "-eo", "pipefail", "-c"))),
    ("COPY a b /dst/", ins.Copy(line=2, text="COPY a b /dst/", sources=("a", "b"), dest="/dst/")),
    ('COPY ["a b", "/dst"]', ins.Copy(line=2, text='COPY ["a b", "/dst"]', sources=("a b",), dest="/dst")),
    ("COPY --from=build --chown=1:2 --chmod=755 /out /app",
     ins.Copy(line=2, text="COPY --from=build --chown=1:2 --chmod=755 /out /app", sources=("/out",),
              dest="/app", from_="build", chown="1:2", chmod="755")),
    ("ADD --chown=nobody files.tar.gz /opt/",
     ins.Add(line=2, text="ADD --chown=nobody files.tar.gz /opt/", sources=("files.tar.gz",),
             dest="/opt/", chown="nobody")),
    ("ENV A=1 B=\"two words\"", ins.Env(line=2, text='ENV A=1 B="two words"',
                                        pairs=(("A", "1"), ("B", '"two words"')))),
    ("ENV LEGACY the rest of it", ins.Env(line=2, text="ENV LEGACY the rest of it",
                                          pairs=(("LEGACY", "the rest of it"),))),
    ("LABEL a=b \"c d\"=e", ins.Label(line=2, text='LABEL a=b "c d"=e',
                                      pairs=(("a", "b"), ('"c d"', "e")))),
    ("ARG V", ins.Arg(line=2, text="ARG V", pairs=(("V", None),))),
    ("ARG V=1 W", ins.Arg(line=2, text="ARG V=1 W", pairs=(("V", "1"), ("W", None)))),
    ("ARG E=", ins.Arg(line=2, text="ARG E=", pairs=(("E", ""),))),
    ("EXPOSE 80 443/tcp", ins.Expose(line=2, text="EXPOSE 80 443/tcp", ports=("80", "443/tcp"))),
    ("WORKDIR /my app", ins.Workdir(line=2, text="WORKDIR /my app", path="/my app")),
    ("USER nobody:nogroup", ins.User(line=2, text="USER nobody:nogroup", user="nobody:nogroup")),
    ('VOLUME ["/data", "/logs"]', ins.Volume(line=2, text='VOLUME ["/data", "/logs"]',
                                             paths=("/data", "/logs"))),
    ("VOLUME /data /logs", ins.Volume(line=2, text="VOLUME /data /logs", paths=("/data", "/logs"))),
    ("STOPSIGNAL SIGINT", ins.StopSignal(line=2, text="STOPSIGNAL SIGINT", signal="SIGINT")),
    ("HEALTHCHECK NONE", ins.Healthcheck(line=2, text="HEALTHCHECK NONE", command=None)),
    ("HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost",
     ins.Healthcheck(line=2, text="HEALTHCHECK --interval=5s --retries=3 CMD wget -q localhost",
                     command=("wget -q localhost",), shell_form=True, interval="5s", retries="3")),
    ("MAINTAINER Ada <ada@example.org>",
     ins.Maintainer(line=2, text="MAINTAINER Ada <ada@example.org>", name="Ada <ada@example.org>")),
])
def test_instructions(text, expected):
    assert only(text) == expected


def test_from_forms_and_stages():
    df = parse("ARG BASE=busybox\nFROM $BASE AS Build\nRUN true\nfrom scratch\nCOPY --from=build /x /x\n")
    assert [a.pairs for a in df.global_args] == [(("BASE", "busybox"),)]
    assert [(s.index, s.name, s.from_.image, s.from_.line) for s in df.stages] == [
        (0, "build", "$BASE", 2), (1, None, "scratch", 4)]
    assert df.stage("BUILD") is df.stages[0] and df.stage("1") is df.stages[1]
    assert df.stages[1].shown == "stage-1"


def test_continuations_comments_and_blank_lines():
    text = ("# leading comment\n"
            "FROM busybox\n"
            "\n"
            "RUN echo one \\\n"
            "    # a comment inside the continuation is dropped\n"
            "\n"
            "    two \\   \n"
            "    three\n"
            "  # indented comment\n"
            "RUN echo '#not a comment'\n")
    run1, run2 = parse(text).stages[0].instructions
    assert run1.line == 4
    assert run1.command == ("echo one     two     three",)
    assert run2.line == 10 and run2.command == ("echo '#not a comment'",)


def test_escape_directive_backtick():
    text = "# escape=`\nFROM busybox\nCOPY a `\n  C:\\dst\\\nRUN dir c:\\\n"
    df = parse(text)
    assert df.escape == "`"
    copy, run = df.stages[0].instructions
    assert copy.sources == ("a",) and copy.dest == "C:\\dst\\"
    assert run.command == ("dir c:\\",) and run.line == 5


def test_directives_only_at_the_top():
    df = parse("FROM busybox\n# escape=`\nRUN a \\\n b\n")
    assert df.escape == "\\"
    assert df.stages[0].instructions[0].command == ("a  b",)


@pytest.mark.parametrize("text", ["\ufeffFROM busybox\nRUN true\n", "\ufeff# escape=`\nFROM busybox\nRUN true\n"])
def test_a_byte_order_mark_is_dropped(text):
    df = parse(text)
    assert df.stages[0].from_.image == "busybox"
    assert df.escape == ("`" if "escape" in text else "\\")


def test_an_unknown_directive_is_a_comment_and_ends_the_directives():
    # The reference's example: the unknown one is a comment, so the known one after it is too.
    df = parse("# unknowndirective=value\n# unknowndirective=value\n# escape=`\nFROM busybox\nRUN a \\\n b\n")
    assert df.directives == {} and df.escape == "\\"
    assert df.stages[0].instructions[0].command == ("a  b",)


def test_syntax_directive_is_kept_and_crlf_is_read():
    df = parse("# syntax=docker/dockerfile:1\r\nFROM busybox\r\nRUN true\r\n")
    assert df.directives == {"syntax": "docker/dockerfile:1"}
    assert df.stages[0].instructions[0].command == ("true",)


@pytest.mark.parametrize("text,line,message", [
    ("FROM busybox\nRUN true\nRUNN true\n", 3, "Dockerfile:3: unknown instruction: RUNN"),
    ("RUN true\n", 1, "no build stage in current context"),
    ("# c\nARG A\nENV X=1\nFROM busybox\n", 3, "no build stage in current context"),
    ("FROM\n", 1, "FROM requires either one or three arguments"),
    ("FROM a b\n", 1, "FROM requires either one or three arguments"),
    ("FROM a AS 1x\n", 1, "invalid name for build stage"),
    ("FROM a AS x\nFROM b AS X\n", 2, "duplicate name x"),
    ("FROM a\n\nRUN\n", 3, "RUN requires at least one argument"),
    ("FROM a\nCOPY onlyone\n", 2, "COPY requires at least two arguments"),
    ("FROM a\nENV A=1 B\n", 2, "Syntax error - can't find = in 'B'"),
    ("FROM a\nENV\n", 2, "ENV requires at least one argument"),
    ("FROM a\nENV ONLY\n", 2, "ENV must have two arguments"),
    ("FROM a\nSHELL /bin/sh -c\n", 2, "SHELL requires the arguments to be in JSON form"),
    ("FROM a\nWORKDIR\n", 2, "WORKDIR requires exactly one argument"),
    ("FROM a\nUSER a b\n", 2, "USER requires exactly one argument"),
    ("FROM a\nCOPY --frm=x a b\n", 2, "unknown flag: --frm"),
    ("FROM a\nRUN --mount=type=cache,target=/x true\n", 2, "RUN --mount is not supported"),
    ("FROM a\nHEALTHCHECK FOO x\n", 2, 'Unknown type "FOO" in HEALTHCHECK'),
    ("FROM a\nHEALTHCHECK NONE x\n", 2, "HEALTHCHECK NONE takes no arguments"),
    ("FROM a\nONBUILD RUN x\n", 2, "ONBUILD is not supported"),
    ("FROM a\nEXPOSE\n", 2, "EXPOSE requires at least one argument"),
    ("# escape=x\nFROM a\n", 1, "invalid escape token"),
    ("# escape=`\n# escape=\\\nFROM a\n", 2, "only one escape parser directive"),
    ("FROM a\nRUN a \\\n  b \\\n  c\nBOGUS\n", 5, "unknown instruction: BOGUS"),
    ("FROM a\nCMD [\"sleep\", 10]\n", 2, "arrays must be comprised of strings only"),
    ("FROM a\nRUN [1]\n", 2, "arrays must be comprised of strings only"),
    ("FROM a\nCOPY [\"a\", null]\n", 2, "arrays must be comprised of strings only"),
])
def test_errors_carry_the_line(text, line, message):
    with pytest.raises(BuildError) as err:
        parse(text)
    assert err.value.line == line
    assert err.value.file == "Dockerfile"
    assert message in str(err.value)
    assert str(err.value).startswith(f"Dockerfile:{line}: ")


def test_empty_file():
    with pytest.raises(BuildError, match="file with no instructions"):
        parse("# only a comment\n\n")


def test_error_names_the_file_given():
    with pytest.raises(BuildError) as err:
        parse("FROM a\nNOPE\n", file="web.Dockerfile")
    assert str(err.value).startswith("web.Dockerfile:2: unknown instruction: NOPE")
