"""argparse, failing the way Docker does: one line and exit code 125."""
import argparse
import functools
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message):
        prefix = "the following arguments are required: "
        if message.startswith(prefix):
            # argparse counts a REMAINDER positional (run's COMMAND) as required even
            # though it may be empty: name only what is really missing.
            optional = {a.dest for a in self._actions if a.nargs == argparse.REMAINDER}
            missing = [m for m in message[len(prefix):].split(", ") if m not in optional]
            message = prefix + ", ".join(missing)
        print(f"{self.prog}: {message}. See '{self.prog} --help'.", file=sys.stderr)
        raise SystemExit(125)

    def add_subparsers(self, **kwargs):
        kwargs.setdefault("parser_class", SubParser)
        return super().add_subparsers(**kwargs)


class SubParser(Parser):
    """A subcommand's parser (`onggi network create`): an argument it does not know is its
    error, named with its help (argparse would hand it up to `onggi network`)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


@functools.cache
def command(verb: str):
    """(argparse parser, run function) for one verb; built once per process.

    A parser is not changed by parsing, so the warm server builds every verb's
    parser ahead and each forked worker reuses them.
    """
    import importlib
    from . import VERBS
    module = importlib.import_module(f"runtime.cli.{VERBS[verb][0]}")
    parser = Parser(prog=f"onggi {verb}", description=VERBS[verb][1], add_help=False)
    parser.add_argument("--help", action="help", help="show this help and exit")
    setup, run = module.COMMANDS[verb]
    setup(parser)
    return parser, run
