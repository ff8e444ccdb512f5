"""Registry verbs: pull, push, login, logout (Docker's flags and lines)."""
from __future__ import annotations

import sys

from . import output


def _runtime():
    from ..core import Runtime
    return Runtime()


class _Lines:
    """Status lines as they come; byte counts only on a terminal, rewritten in place."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.tty = sys.stdout.isatty()
        self.pending = False

    def __call__(self, item) -> None:
        if self.quiet:
            return
        if isinstance(item, str):
            self._end_progress()
            print(item, flush=True)
        elif self.tty:
            short = item.layer.partition(":")[2][:12]
            sys.stdout.write(f"\r{short}: Downloading {output.human_size(item.done)}/"
                             f"{output.human_size(item.total)}\x1b[K")
            sys.stdout.flush()
            self.pending = True

    def _end_progress(self) -> None:
        if self.pending:
            sys.stdout.write("\r\x1b[K")
            self.pending = False


def pull_setup(p) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.add_argument("name", metavar="NAME[:TAG|@DIGEST]")


def pull(args) -> int:
    from ..image import reference
    from ..image.registry.pull import pull as run_pull
    run_pull(_runtime(), args.name, progress=_Lines(args.quiet))
    print(reference.parse(args.name).full)
    return 0


def push_setup(p) -> None:
    p.add_argument("-q", "--quiet", action="store_true", help="suppress verbose output")
    p.add_argument("name", metavar="NAME[:TAG]")


def push(args) -> int:
    from ..image.registry.push import push as run_push
    digest = run_push(_runtime(), args.name, progress=_Lines(args.quiet))
    if args.quiet:
        print(digest)
    return 0


def login_setup(p) -> None:
    p.add_argument("-u", "--username", help="username")
    p.add_argument("-p", "--password", help="password (visible to other users: prefer --password-stdin)")
    p.add_argument("--password-stdin", action="store_true", help="take the password from stdin")
    p.add_argument("server", metavar="SERVER", help="the registry, e.g. 127.0.0.1:5000")


def login(args) -> int:
    from ..errors import InvalidArgument
    from ..image.registry.login import login as run_login
    user, password = args.username, args.password
    if args.password_stdin:
        if args.password:
            raise InvalidArgument("--password and --password-stdin are mutually exclusive")
        password = sys.stdin.readline().rstrip("\r\n")
    if not user:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot ask for a username: stdin is not a terminal",
                                  hint="give it with -u USER")
        user = input("Username: ").strip()
    if password is None:
        if not sys.stdin.isatty():
            raise InvalidArgument("cannot ask for a password: stdin is not a terminal",
                                  hint="use --password-stdin")
        import getpass
        password = getpass.getpass("Password: ")
    if not user or not password:
        raise InvalidArgument("a username and a password are required")
    run_login(_runtime(), args.server, user, password)
    print("Login Succeeded")
    return 0


def logout_setup(p) -> None:
    p.add_argument("server", metavar="SERVER")


def logout(args) -> int:
    from ..image.registry.auth import normalize_registry
    from ..image.registry.login import logout as run_logout
    host = normalize_registry(args.server)
    if run_logout(_runtime(), args.server):
        print(f"Removing login credentials for {host}")
    else:
        print(f"Not logged in to {host}")
    return 0


COMMANDS = {
    "pull": (pull_setup, pull), "push": (push_setup, push),
    "login": (login_setup, login), "logout": (logout_setup, logout),
}
