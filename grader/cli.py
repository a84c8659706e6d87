"""``python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout SECONDS] [--assignment ID ...] [--force]``."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from grader.sandbox import DEFAULT_MEMORY, DEFAULT_TIMEOUT


def _memory(text: str) -> int:
    units = {"k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}
    text = text.strip().lower().rstrip("b")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m autograder", description="The course's autograder.")
    commands = main.add_subparsers(dest="command", required=True)
    grade = commands.add_parser(
        "grade", help="grade a class of submissions in parallel sandboxes",
        description="Grade SUBMISSIONS/<student>/<assignment>/*.ipynb (or SUBMISSIONS/<student>.zip) "
                    "into OUT/grades.csv, OUT/feedback/ and nbgrader's gradebook OUT/course/gradebook.db. "
                    "Each notebook runs in its own bubblewrap sandbox.")
    grade.add_argument("submissions", type=Path, help="folder of student folders or <student>.zip files")
    grade.add_argument("--out", type=Path, required=True, help="output folder (grades.csv, feedback/, course/)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="sandboxes running at once (default: the number of cores, %(default)s here)")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                       help="seconds a cell may run (default %(default)g)")
    grade.add_argument("--memory", type=_memory, default=DEFAULT_MEMORY,
                       help=f"address-space limit per sandbox, e.g. 2g (default {DEFAULT_MEMORY // 1024 ** 3}g)")
    grade.add_argument("--assignment", action="append", dest="assignments", metavar="ID",
                       help="grade only this assignment (repeatable; default: every assignment submitted)")
    grade.add_argument("--force", action="store_true", help="regrade everything, changed or not")
    grade.add_argument("--all-cells", action="store_true",
                       help="also run the cells after the last test (by default they are not run: they "
                            "cannot change a score, and the feedback shows them without outputs)")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    return main


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "grade":
        # jsonschema (through nbformat) imports rfc3987_syntax if installed, which compiles ~40 lark
        # grammars at import time (seconds); nbformat never validates the IRI formats it serves.
        sys.modules.setdefault("rfc3987_syntax", None)
        from grader.batch import Options, grade

        if not args.submissions.is_dir():
            print(f"error: {args.submissions} is not a folder", file=sys.stderr)
            return 2
        if args.workers < 1 or args.timeout <= 0:
            print("error: --workers must be at least 1 and --timeout positive", file=sys.stderr)
            return 2
        options = Options(workers=args.workers, cell_timeout=args.timeout, memory=args.memory,
                          assignments=args.assignments, force=args.force, progress=not args.quiet,
                          all_cells=args.all_cells)
        try:
            result = grade(args.submissions, args.out, options)
        except KeyboardInterrupt:
            print("\ninterrupted: every grade already recorded is kept; run the same command again to resume",
                  file=sys.stderr)
            return 130
        print(result["summary"])
        return 0
    return 2
