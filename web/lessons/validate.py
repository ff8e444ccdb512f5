"""Check lesson files without serving them: ``onggi lessons check [FOLDER...]``
(or ``python -m web.lessons.validate [FOLDER...]``).

For an instructor writing a lesson: every lesson folder under FOLDER (default: the
course's ``lessons/``) is read as the web app reads it, and what is wrong is printed
one line per lesson, ``lessons/11-env/lesson.ko.md:42: what is wrong; what to do``.
Exit status 0 when every lesson loads, 1 when one does not, 2 for a folder that
does not exist.
"""
from __future__ import annotations

import sys
from pathlib import Path


def main(argv=None) -> int:
    from . import LESSONS
    from .loader import check_course, lesson_dirs
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(__doc__.strip().split("\n\n")[0].replace("``", ""))
        return 0
    status = 0
    for folder in [Path(a) for a in args] or [LESSONS]:
        if not folder.is_dir():
            print(f"{folder}: no such folder of lessons", file=sys.stderr)
            status = max(status, 2)
            continue
        errors = check_course(folder)
        for exc in errors:
            print(" ".join(str(exc).split()), file=sys.stderr)
        count = len(lesson_dirs(folder, strict=False))
        if errors:
            print(f"{folder}: {len(errors)} of {count} lessons have errors "
                  "(the format is in lessons/README.md)", file=sys.stderr)
            status = max(status, 1)
        else:
            print(f"{folder}: {count} lessons, all well-formed in Korean and English")
    return status


def command(argv) -> int:
    """``onggi lessons check [FOLDER...]`` (an onggi.commands entry point, like serve)."""
    from runtime.errors import InvalidArgument
    if argv[:1] != ["check"]:
        if argv[:1] in (["-h"], ["--help"]) or not argv:
            print("Usage:  onggi lessons check [FOLDER...]\n\n"
                  "Check lesson files as the web app reads them (default: the course's lessons/).")
            return 0
        raise InvalidArgument(f"unknown lessons command '{argv[0]}'", hint="use 'onggi lessons check [FOLDER...]'")
    return main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
