"""``python -m autograder grade SUBMISSIONS --out OUT [--workers N] [--timeout SECONDS] [--assignment ID ...] [--force]
[--export canvas|moodle] [--book-url URL] [--no-feedback] [--scheduler tcp://HOST:PORT]`` and ``python -m autograder report OUT [--export ...] [--book-url URL]``."""
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
                    "Each notebook runs in a bubblewrap sandbox of its own, forked from a worker's warm one.")
    grade.add_argument("submissions", type=Path, help="folder of student folders or <student>.zip files")
    grade.add_argument("--out", type=Path, required=True, help="output folder (grades.csv, feedback/, course/)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="worker processes on this machine, each with its own warm sandboxes (default: the "
                            "number of cores, %(default)s here)")
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
    grade.add_argument("--feedback", action=argparse.BooleanOptionalAction, default=True,
                       help="write each learner's feedback page to OUT/feedback/ (default; --no-feedback: grades "
                            "only, faster)")
    grade.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                       help="grade on the workers of a running Dask cluster (each with the course installed and "
                            "bubblewrap) instead of --workers processes on this machine")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    for command in (grade, report_parser(commands)):
        command.add_argument("--export", action="append", dest="exports", choices=("canvas", "moodle"), default=[],
                             help="also write OUT/<lms>_grades.csv for Canvas's or Moodle's gradebook import "
                                  "(repeatable)")
        command.add_argument("--lang", default="en", choices=("en", "ko"),
                             help="the language of the class report and the exports (default en; each learner's "
                                  "feedback page is in the language of their notebook)")
        command.add_argument("--book-url", default=None,
                             help="where learners read the book, for the links to its sections "
                                  "(default: $NORMREG_BOOK_URL, else the book built in _build/html)")
    return main


def report_parser(commands):
    report = commands.add_parser(
        "report", help="write OUT/report.html (and LMS exports) from the results of earlier grading runs",
        description="Write OUT/report.html, the class report, from the results recorded in OUT by "
                    "`python -m autograder grade` (the grade command writes it too, at the end of every run).")
    report.add_argument("out", type=Path, help="the output folder of a grading run")
    return report


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "book_url", None):
        from autograder.course import BOOK_URL_VARIABLE

        os.environ[BOOK_URL_VARIABLE] = args.book_url  # the one setting, read by feedback pages and the report
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
                          all_cells=args.all_cells, book_url=args.book_url, exports=tuple(args.exports),
                          feedback=args.feedback, scheduler=args.scheduler, lang=args.lang)
        try:
            result = grade(args.submissions, args.out, options)
        except KeyboardInterrupt:
            print("\ninterrupted: every grade already recorded is kept; run the same command again to resume",
                  file=sys.stderr)
            return 130
        print(result["summary"])
        return 0
    if args.command == "report":
        import time

        from grader import class_report, exports, journal

        if not (args.out / ".grading" / "results").is_dir():
            print(f"error: {args.out} holds no grading results (run `python -m autograder grade ... --out "
                  f"{args.out}` first)", file=sys.stderr)
            return 2
        started = time.monotonic()
        records = journal.Journal(args.out).records()
        journal.write_results(args.out, records)
        path = class_report.write(args.out, records, book_url=args.book_url, lang=args.lang)
        written = [exports.write(args.out, records, kind, lang=args.lang) for kind in args.exports]
        print(f"{len(records)} result(s): {path} ({time.monotonic() - started:.1f} s)"
              + "".join(f"\nexport: {p}" for p in written))
        return 0
    return 2
