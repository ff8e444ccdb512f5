"""The ``onggi`` command: argument parsing and output only; every verb calls the library.

Verbs and flags are Docker's. Only the module that defines the verb being run is
imported (the table below names it), so ``onggi run`` never pays for the image
builder or the web app. Verbs that live outside ``runtime/`` (``serve``) plug in
through the ``onggi.commands`` entry point group, which keeps the dependency
pointing one way: the web app knows the runtime, never the reverse.

Errors: one line on stderr, ``onggi: what is wrong. what to do``, and Docker's
exit codes (125 onggi failed, 126 not executable, 127 not found). Set
ONGGI_DEBUG=1 to see a traceback for a bug.

Start-up: :func:`main` first asks the warm server (``warm.py``) to run the
command, which saves Python's import time; this module therefore imports
nothing at the top, not even argparse.
"""
import os
import sys

# verb -> (module under runtime.cli, one-line help). Grouped as `onggi --help` shows them.
VERBS = {
    "run": ("containers", "Create and run a new container from an image"),
    "create": ("containers", "Create a new container without starting it"),
    "start": ("containers", "Start one or more stopped containers"),
    "ps": ("containers", "List containers"),
    "logs": ("containers", "Fetch the logs of a container"),
    "exec": ("containers", "Run a command in a running container"),
    "stop": ("containers", "Stop one or more running containers"),
    "kill": ("containers", "Kill one or more running containers"),
    "rm": ("containers", "Remove one or more containers"),
    "wait": ("containers", "Block until containers stop, then print their exit codes"),
    "inspect": ("containers", "Return low-level information on containers or images"),
    "top": ("containers", "Display the running processes of a container"),
    "stats": ("containers", "Display a live stream of container resource usage"),
    "diff": ("containers", "Inspect changes to files on a container's filesystem"),
    "commit": ("containers", "Create a new image from a container's changes"),
    "events": ("containers", "Get real time events from onggi"),
    "images": ("images", "List images"),
    "image": ("images", "Manage images (ls, inspect, rm, tag, history, prune)"),
    "tag": ("images", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"),
    "rmi": ("images", "Remove one or more images"),
    "history": ("images", "Show the history of an image"),
    "save": ("images", "Save one or more images to a tar archive"),
    "load": ("images", "Load an image from a tar archive"),
    "import": ("images", "Import the contents from a tarball to create an image"),
    "build": ("build", "Build an image from a Dockerfile"),
    "pull": ("registry", "Download an image from a registry"),
    "push": ("registry", "Upload an image to a registry"),
    "login": ("registry", "Log in to a registry"),
    "logout": ("registry", "Log out from a registry"),
    "network": ("network", "Manage networks"),
    "system": ("system", "Manage onggi (df, prune, init)"),
    "demo": ("demo", "Live lesson demos: a VM beside a container, chroot vs namespaces"),
}


def main() -> None:
    """The `onggi` program: run sys.argv's command (warm when possible) and exit.

    Ends with os._exit after flushing: the interpreter's own teardown (collecting
    every module) would cost more than many commands themselves.
    """
    argv = sys.argv[1:]
    code = None
    warm = _warm_allowed(argv)
    # Priming the kernel's cgroup migration lock (runtime/linux/migration.py), first
    # of all so that its wait overlaps everything else. Not for a launch the warm
    # server runs: its worker has a zygote already in a spare cgroup (no move to
    # wait for, and a primer would hold cgroup_mutex through its wait, stalling
    # the rename of that spare), or primes itself when it cannot use it.
    if argv[:1] == ["exec"] or not warm:
        _prime(argv)
    if warm:
        from .warm import client
        code = client(argv)
        if code is None:          # no warm server after all: the launch is ours
            _prime(argv)
    if code is None:
        code = run(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code & 0xFF if isinstance(code, int) else 1)


def _prime(argv) -> None:
    if argv[:1] in (["run"], ["start"], ["exec"]) and os.geteuid() == 0:
        # (Config's cgroup_root, read by hand: importing Config costs more than this saves.)
        from ..linux.migration import prime
        prime(os.environ.get("ONGGI_CGROUP_ROOT") or "/sys/fs/cgroup", cloned=argv[0] != "exec")


def _warm_allowed(argv) -> bool:
    # serve is long-lived and threaded, and prints its own URL: run it directly.
    return (bool(argv) and argv[0] != "serve" and os.geteuid() == 0
            and not os.environ.get("ONGGI_NO_WARM"))


def run(argv: list[str], *, served=None) -> int:
    """Run one command in this process; its exit code.

    served: set (a ``warm.Served``) when this process is a warm server's worker,
    not the user's own process (the client is): Ctrl-C or a closed terminal cannot
    kill it, so it may supervise an attached container itself, with the worker's
    zygote, and leave work for after the client has its answer (``args.served``)."""
    argv = list(argv)
    try:
        return _dispatch(argv, served)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `onggi ps | head`: stop quietly, with the status of a process that
        # SIGPIPE ended (128 + 13), so a pipeline can tell output was cut short.
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return 141
    except Exception as exc:     # noqa: BLE001 - the one place errors become a line
        return report(exc)


def report(exc: BaseException) -> int:
    from ..errors import OnggiError
    if isinstance(exc, OnggiError):
        print(f"onggi: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    if isinstance(exc, PermissionError) and os.geteuid() != 0:
        print(f"onggi: {exc.strerror or exc}: {exc.filename or ''}. onggi needs root: try sudo onggi",
              file=sys.stderr)
        return 125
    if os.environ.get("ONGGI_DEBUG"):
        raise exc
    where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
    print(f"onggi: unexpected error: {type(exc).__name__}: {exc}{where}. "
          "This is a bug in onggi: run again with ONGGI_DEBUG=1 and report the traceback",
          file=sys.stderr)
    return 125


def _dispatch(argv: list[str], served=None) -> int:
    if argv[:1] == ["help"] and len(argv) > 1:
        argv = [argv[1], "--help"]           # `onggi help run`, as `docker help run`
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    if argv[0] in ("-v", "--version", "version"):
        from importlib.metadata import version
        print(f"onggi version {version('onggi')}")
        return 0
    verb, rest = argv[0], argv[1:]
    if verb in VERBS:
        from .parser import command
        parser, run = command(verb)
        args = parser.parse_args(rest)
        args.served = served
        return run(args) or 0
    plugin = _plugin(verb)
    if plugin is not None:
        return plugin(rest) or 0
    from ..errors import InvalidArgument
    raise InvalidArgument(f"'{verb}' is not an onggi command", hint=_did_you_mean(verb))


def _did_you_mean(verb: str) -> str:
    """The hint for `onggi rnu`: the verb meant, when one is close (as git does)."""
    import difflib
    close = difflib.get_close_matches(verb, [*VERBS, "serve", "lessons"], n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'? See 'onggi --help'" if close else "see 'onggi --help'"


def _plugin(verb: str):
    from importlib.metadata import entry_points
    for ep in entry_points(group="onggi.commands"):
        if ep.name == verb:
            return ep.load()
    return None


def usage() -> str:
    lines = ["Usage:  onggi COMMAND [OPTIONS]", "",
             "onggi (옹기) runs real containers and shows what the kernel does for each one.", "",
             "Commands:"]
    lines += [f"  {verb:<9} {text}" for verb, (_, text) in VERBS.items()]
    lines += ["  serve     Serve the lessons and live diagrams in a browser",
              "  lessons   Check lesson files ('onggi lessons check DIR'), for an instructor writing one", "",
              "Run 'onggi COMMAND --help' for more information on a command."]
    return "\n".join(lines)
