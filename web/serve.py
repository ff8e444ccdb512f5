"""`onggi serve`: the web app on http://HOST:PORT/?token=TOKEN, with the classroom registry.

Prints the address with its token (like Jupyter) and serves until Ctrl-C or
SIGTERM. The token comes from --token, ONGGI_TOKEN, or is made at random. Only a
loopback address is served unless --allow-remote says otherwise (with a
warning: anyone who can reach the port and has the token drives root
containers). Socket.IO accepts only the served origin. The local registry (the
CNCF Distribution registry, Debian's docker-registry) is started on
127.0.0.1:5000 with its storage under the onggi root, and stopped on exit; if
it cannot start (the port is taken...), serving goes on without it and says so.

Real mode is the default wherever it works. Where real containers cannot run
(not root, not Linux, no overlayfs), or with ``--simulate``, the lessons run on
the simulated backend (``runtime/sim``, with its own classroom registry): one
line on stderr says so and why, and every page and view says "simulated".
"""
from __future__ import annotations

import ipaddress
import os
import secrets
import signal
import sys


def _parser():
    from runtime.cli.parser import Parser
    p = Parser(prog="onggi serve", description="Serve the lessons and live diagrams in a browser",
               add_help=False)
    p.add_argument("--help", action="help", help="show this help and exit")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7700, help="port to listen on (default 7700)")
    p.add_argument("--token", help="the access token (default: $ONGGI_TOKEN or a random one)")
    p.add_argument("--allow-remote", action="store_true",
                   help="allow listening on a non-loopback address (anyone who can reach it "
                        "and has the token controls root containers)")
    p.add_argument("--registry-port", type=int, default=5000,
                   help="port of the local registry on 127.0.0.1 (0: do not start one)")
    p.add_argument("--lessons", metavar="DIR",
                   help="serve the lessons in DIR instead of the course's (an instructor's own, "
                        "checked first with 'onggi lessons check DIR')")
    p.add_argument("--simulate", action="store_true",
                   help="run the lessons on the simulated backend (every view says so), even where "
                        "real containers could run; without it, onggi runs simulated only when it must")
    return p


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def origins(host: str, port: int) -> list[str]:
    """The origins a browser on the served address sends (loopback has two spellings)."""
    names = {host}
    if is_loopback(host):
        names |= {"127.0.0.1", "localhost"}
    return sorted(f"http://{h}:{port}" if ":" not in h else f"http://[{h}]:{port}" for h in names)


def command(argv) -> int:
    from runtime.errors import InvalidArgument, OnggiError
    args = _parser().parse_args(argv)
    if not 0 < args.port < 65536:
        raise InvalidArgument(f"invalid --port {args.port}: use 1 to 65535")
    if not is_loopback(args.host) and not args.allow_remote:
        raise InvalidArgument(f"refusing to listen on {args.host}: it is not a loopback address",
                              hint="add --allow-remote if the classroom must reach it")
    token = args.token or os.environ.get("ONGGI_TOKEN") or secrets.token_urlsafe(24)
    if args.lessons is not None and not os.path.isdir(args.lessons):
        raise InvalidArgument(f"no such folder of lessons: {args.lessons}",
                              hint="give --lessons the folder that holds NN-name/lesson.ko.md and lesson.en.md")

    from . import create_app, socketio
    simulate, why = _mode(args.simulate)
    app = create_app({"ONGGI_TOKEN": token, "ONGGI_ORIGINS": origins(args.host, args.port),
                      "ONGGI_SIMULATE": simulate, "ONGGI_SIMULATE_REASON": why,
                      "ONGGI_LESSONS": os.path.abspath(args.lessons) if args.lessons else None})
    if simulate:
        _check_world(app.runtime)
        print(f"onggi serve: running simulated (모의 실행): {why[1]}; the simulated world is in "
              f"{app.runtime.config.root / 'sim'}", file=sys.stderr, flush=True)
    # The simulation has its own classroom registry (runtime/sim/registry.py).
    registry = None if simulate else _start_registry(app.runtime.config, args.registry_port)
    if registry is not None:
        from runtime.image.registry.local import announce
        announce(app.runtime.config.run, registry.address)
    if not is_loopback(args.host):
        print(f"onggi serve: WARNING: listening on {args.host}: anyone who can reach this port "
              "and has the token can run root containers on this machine", file=sys.stderr)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"http://{shown}:{args.port}/?token={token}", flush=True)

    def stop(_signum, _frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    if not os.environ.get("ONGGI_DEBUG"):
        # Werkzeug's threaded server is what Flask-SocketIO's threading mode runs on,
        # and it serves a classroom well; its "development server" warnings would only
        # alarm the learners reading this terminal. ONGGI_DEBUG=1 shows them.
        import logging
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    try:
        socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True,
                     log_output=bool(os.environ.get("ONGGI_DEBUG")), use_reloader=False)
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        raise OnggiError(f"cannot serve on {args.host}:{args.port}: {exc.strerror or exc}",
                         hint="choose another --port, or stop what listens there") from None
    finally:
        app.steps.cancel_all()
        app.terminals.close_all()
        app.bridge.stop()
        if registry is not None:
            registry.stop()
            announce(app.runtime.config.run, None)
        if simulate:
            app.runtime.close()
    return 0


def _mode(asked: bool) -> tuple[bool, tuple[str, str] | None]:
    """(simulate?, why in Korean and English): as asked, or when real containers cannot run
    here (not root, not Linux, no overlayfs). Real mode wherever it works."""
    from runtime.config import Config
    from runtime.sim import host_problem, reason
    if asked:
        return True, reason(None)
    problem = host_problem(Config.from_env())
    return (True, reason(problem)) if problem is not None else (False, None)


def _check_world(rt) -> None:
    """The simulated world must be writable; find out now rather than at the first click."""
    from runtime.errors import OnggiError
    try:
        rt.images.ensure_base()
    except OSError as exc:
        raise OnggiError(f"cannot keep the simulated world in {rt.world.dir}: {exc.strerror or exc}",
                         hint="set ONGGI_ROOT and ONGGI_RUN to directories you can write") from None


def _start_registry(config, port: int):
    """The classroom registry on 127.0.0.1:PORT, or None (said on stderr) when it cannot start."""
    if not port:
        return None
    from runtime.errors import PortInUse
    try:
        from runtime.image.registry.local import LocalRegistry
        registry = LocalRegistry(config.root / "registry", host="127.0.0.1", port=port)
        registry.start()
    except PortInUse:
        print(f"onggi serve: the local registry did not start (127.0.0.1:{port} is already in use); "
              "serving without it (choose another with --registry-port)", file=sys.stderr)
        return None
    except Exception as exc:      # noqa: BLE001 - serving goes on without the registry
        reason = exc.one_line() if hasattr(exc, "one_line") else f"{type(exc).__name__}: {exc}"
        print(f"onggi serve: the local registry did not start ({reason}); serving without it",
              file=sys.stderr)
        return None
    print(f"onggi serve: local registry at {registry.url}", file=sys.stderr)
    return registry
