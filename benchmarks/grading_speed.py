"""Benchmark: plain serial ``nbgrader autograde`` against ``python -m autograder grade`` on one synthetic class.

    python benchmarks/grading_speed.py [--students 40] [--assignment 01_normalization] [--workers N]

Generates a class of synthetic submissions in a scratch folder (a mix of
correct, wrong, blank and broken notebooks), then grades the same class twice,
in one run: with nbgrader's own ``autograde`` (one notebook after another, one
kernel each) and with the course's sandboxed parallel command. Prints both
wall times, their ratio and notebooks per minute. Nothing in the repository is
written.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder.course import Course, notebooks  # noqa: E402
from tests.grading import mutants  # noqa: E402
from tests.grading.notebook_code import solution_notebook, with_replaced_cells  # noqa: E402

import nbformat  # noqa: E402


def broken_variants(exercise: nbformat.NotebookNode, solution: nbformat.NotebookNode):
    """Notebooks a class really hands in that run but fail, or cannot be read (no infinite loops:
    a timeout costs both graders the same wall time and says nothing about their speed)."""
    def replace_first_solution(source: str):
        nb = json.loads(json.dumps(solution))
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                cell["source"] = source
                break
        return nb
    yield "syntax-error", replace_first_solution("def min_max_scale(x, feature_range=(0, 1):\n    return x")
    yield "raises", replace_first_solution("raise ValueError('I give up')")
    yield "sys-exit", replace_first_solution("import sys\nsys.exit(1)")
    yield "corrupt-json", b'{"cells": [ {"cell_type": "code", "source": '


def make_class(assignment: str, n_students: int, seed: int = 0) -> list[tuple[str, object]]:
    """[(student id, notebook node or raw bytes)] for ``n_students`` students."""
    rng = random.Random(seed)
    solution = solution_notebook(assignment)
    exercise_path = REPO / "exercises" / assignment
    (exercise_file,) = sorted(exercise_path.glob("*.ipynb"))
    exercise = nbformat.read(exercise_file, as_version=4)
    wrong = [with_replaced_cells(solution, m.cells) for m in mutants.for_assignment(assignment)]
    broken = list(broken_variants(exercise, solution))
    kinds = ["correct"] * 4 + ["wrong"] * 3 + ["blank"] * 2 + ["broken"] * 1
    students = []
    for number in range(n_students):
        kind = kinds[number % len(kinds)]
        if kind == "correct":
            nb = solution
        elif kind == "wrong":
            nb = rng.choice(wrong) if wrong else exercise
        elif kind == "blank":
            nb = exercise
        else:
            nb = broken[number // len(kinds) % len(broken)][1]
        students.append((f"s{number:03d}-{kind}", nb))
    return students


def write_submissions(folder: Path, assignment: str, notebook_name: str, students) -> None:
    for student, nb in students:
        target = folder / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        path = target / notebook_name
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        elif isinstance(nb, dict) and not isinstance(nb, nbformat.NotebookNode):
            path.write_text(json.dumps(nb))
        else:
            nbformat.write(nb, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--assignment", default="01_normalization")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--all-cells", action="store_true",
                        help="pass --all-cells: also run the cells after the last test, as nbgrader does")
    parser.add_argument("--ours-only", action="store_true", help="skip the nbgrader run (no ratio)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="grading-benchmark-"))
    try:
        (source,) = notebooks(args.assignment)
        students = make_class(args.assignment, args.students)
        print(f"{len(students)} synthetic submissions of {args.assignment} "
              f"({', '.join(f'{k}: {sum(1 for s, _ in students if s.endswith(k))}' for k in ('correct', 'wrong', 'blank', 'broken'))})"
              f" in {scratch}; {os.cpu_count()} cores", flush=True)

        nbgrader_wall, graded = None, {}
        if not args.ours_only:
            course = Course.create(scratch / "nbgrader")
            course.generate(args.assignment)
            write_submissions(course.root / "submitted", args.assignment, source.name, students)
            started = time.perf_counter()
            try:
                course.autograde(args.assignment)
            except RuntimeError as error:  # nbgrader exits non-zero when some notebooks failed; it graded the rest
                print(f"(nbgrader reported failures: {str(error).splitlines()[0][:120]})")
            nbgrader_wall = time.perf_counter() - started
            graded = course.scores(args.assignment)
            print(f"plain nbgrader autograde (serial): {nbgrader_wall:.1f} s for {len(students)} notebooks "
                  f"({len(students) / nbgrader_wall * 60:.1f} notebooks/min; {len(graded)} in its gradebook)",
                  flush=True)

        submissions = scratch / "class"
        write_submissions(submissions, args.assignment, source.name, students)
        out = scratch / "out"
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
                        "--workers", str(args.workers), "--assignment", args.assignment, "--quiet",
                        *(["--all-cells"] if args.all_cells else [])],
                       cwd=REPO, check=True, stdout=subprocess.DEVNULL)
        ours_wall = time.perf_counter() - started
        with open(out / "grades.csv") as handle:
            rows = list(csv.DictReader(handle))
        print(f"python -m autograder grade (sandboxed, {args.workers} workers"
              f"{', --all-cells' if args.all_cells else ''}): {ours_wall:.1f} s for "
              f"{len(students)} notebooks ({len(students) / ours_wall * 60:.1f} notebooks/min; {len(rows)} rows)")
        disagreements = []
        for row in rows:
            theirs = graded.get(row["student_id"])
            if theirs is not None and row["status"] == "graded":
                total = sum(score for score, _ in theirs.values())
                if abs(total - float(row["score"])) > 1e-9:
                    disagreements.append((row["student_id"], total, row["score"]))
        if nbgrader_wall is not None:
            print(f"speed-up: {nbgrader_wall / ours_wall:.2f}x")
            print(f"scores that differ from nbgrader's: {len(disagreements)} {disagreements[:5]}")
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
