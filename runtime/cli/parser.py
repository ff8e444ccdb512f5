"""argparse, failing the way Docker does: one line and exit code 125."""
import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message):
        print(f"{self.prog}: {message}. See '{self.prog} --help'.", file=sys.stderr)
        raise SystemExit(125)
