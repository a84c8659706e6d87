"""What the class report adds to a grading run: ``python benchmarks/report_speed.py --students 100``.

Builds a synthetic class of 01_normalization (the solution and every known wrong answer of the chapter,
round-robin), grades it with ``python -m autograder grade`` (the report and the Canvas and Moodle exports
are written at the end of the run, and the summary says how long they took), then writes the report
again from the results alone with ``python -m autograder report`` and times that. Prints both and the
grading run's wall time.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import notebooks  # noqa: E402
from tests.grading import mutants  # noqa: E402
from tests.grading.notebook_code import solution_notebook, with_replaced_cells  # noqa: E402

ASSIGNMENT = "01_normalization"


def build(folder: Path, students: int) -> None:
    source = solution_notebook(ASSIGNMENT)
    variants = [source] + [with_replaced_cells(source, m.cells) for m in mutants.for_assignment(ASSIGNMENT)]
    (path,) = notebooks(ASSIGNMENT)
    for k in range(students):
        target = folder / f"learner-{k:03d}" / ASSIGNMENT / path.name
        target.parent.mkdir(parents=True)
        target.write_text(json.dumps(variants[k % len(variants)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        submitted, out = Path(scratch) / "submitted", Path(scratch) / "out"
        build(submitted, args.students)
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                              "--assignment", ASSIGNMENT, "--workers", str(args.workers), "--quiet",
                              "--export", "canvas", "--export", "moodle"], cwd=REPO, capture_output=True, text=True)
        wall = time.monotonic() - started
        if run.returncode:
            print(run.stdout, run.stderr[-3000:])
            return 1
        in_run = float(re.search(r"report: \S+ \(([0-9.]+) s\)", run.stdout).group(1))
        started = time.monotonic()
        again = subprocess.run([sys.executable, "-m", "autograder", "report", str(out)], cwd=REPO,
                               capture_output=True, text=True)
        alone = time.monotonic() - started
        if again.returncode:
            print(again.stdout, again.stderr[-3000:])
            return 1
        lines = len((out / "results.jsonl").read_text().splitlines())
        size = (out / "report.html").stat().st_size
        print(run.stdout.strip())
        print(f"\n{args.students} submissions of {ASSIGNMENT}, {args.workers} workers: grading run {wall:.1f} s wall, "
              f"of which report + exports {in_run:.1f} s ({100 * in_run / wall:.1f} %); results.jsonl {lines} lines, "
              f"report.html {size / 1024:.0f} KiB; `python -m autograder report` alone (a fresh Python, imports "
              f"included) {alone:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
