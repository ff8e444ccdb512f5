"""``onggi build``: flags as Docker's, progress as BuildKit prints it, plus why a step missed the cache.

    [1/5] FROM busybox
    CACHED [2/5] WORKDIR /app
    [3/5] COPY hello.txt /app/
     => cache miss: COPY hello.txt: content changed
     => layer sha256:5d1a0c3e2b7f  2.05kB
"""
from __future__ import annotations

import os
import sys

from . import output


def build_setup(p) -> None:
    p.add_argument("-t", "--tag", action="append", default=[], metavar="NAME[:TAG]",
                   help="name and optionally a tag for the image (may be repeated)")
    p.add_argument("-f", "--file", help="name of the Dockerfile (default: CONTEXT/Dockerfile)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="set a build-time variable")
    p.add_argument("--no-cache", action="store_true", help="do not use the cache when building")
    p.add_argument("--target", help="set the target build stage to build")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the image ID")
    p.add_argument("context", metavar="CONTEXT", help="the build context directory")


def build(args) -> int:
    from ..build.builder import build as run_build
    from ..core import Runtime
    from ..errors import InvalidArgument
    build_args = {}
    for item in args.build_arg:
        key, eq, value = item.partition("=")
        if not key:
            raise InvalidArgument(f"invalid --build-arg {item!r}: use KEY=VALUE")
        if not eq:
            if key not in os.environ:
                continue              # docker: KEY alone takes the value from the environment
            value = os.environ[key]
        build_args[key] = value
    dockerfile = os.path.abspath(args.file) if args.file else "Dockerfile"
    rt = Runtime()
    printer = _Printer(quiet=args.quiet)
    image = run_build(rt, args.context, tag=args.tag[0] if args.tag else None, dockerfile=dockerfile,
                      build_args=build_args, no_cache=args.no_cache, target=args.target,
                      progress=printer)
    for extra in args.tag[1:]:
        rt.images.tag(image.id, extra)
    if args.quiet:
        print(image.id)
        return 0
    print(f"Successfully built {image.short_id}")
    for name in args.tag:
        from ..image import reference
        print(f"Successfully tagged {reference.familiar(name)}")
    return 0


class _Printer:
    """Turns the builder's progress into lines on stdout (RUN output as it comes)."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def __call__(self, item) -> None:
        if self.quiet:
            return
        from ..build.builder import Note, Output
        from ..events import BuildStep
        out = sys.stdout
        if isinstance(item, BuildStep):
            where = f"[{item.stage + ' ' if item.stage else ''}{item.n}/{item.total}]"
            if item.phase == "start":
                out.write(f"CACHED {where} {item.instruction}\n" if item.cached
                          else f"{where} {item.instruction}\n")
                if item.reason:
                    out.write(f" => cache miss: {item.reason}\n")
            elif not item.cached and not item.instruction.upper().startswith("FROM"):
                if item.layer:
                    out.write(f" => layer {item.layer[:19]}  {output.human_size(item.size)}\n")
                elif item.instruction.split(" ", 1)[0].upper() in ("RUN", "COPY", "ADD", "WORKDIR"):
                    out.write(" => no layer: nothing changed on disk (0B)\n")
                else:
                    out.write(" => no layer: only the image config changed (0B)\n")
        elif isinstance(item, Output):
            out.flush()
            sys.stdout.buffer.write(item.data)
            sys.stdout.buffer.flush()
            return
        elif isinstance(item, Note):
            out.write(f" => {item.text}\n")
        out.flush()


COMMANDS = {"build": (build_setup, build)}
