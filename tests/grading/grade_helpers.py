"""Running ``python -m autograder grade`` from the tests and reading what it wrote."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest

from autograder.course import REPO


def require_bwrap():
    from grader.sandbox import check_bwrap

    problem = check_bwrap()
    if problem:
        message = f"the grading sandbox cannot run here: {problem} (Debian: apt-get install bubblewrap)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs bubblewrap: a skip there would hide a broken sandbox
        pytest.skip(message)


def grade(submissions: Path, out: Path, *extra: str, timeout: float = 500, wait: bool = True,
          assignment: str | Sequence[str] | None = "01_normalization", env: dict[str, str] | None = None):
    """``python -m autograder grade``; ``assignment``: one id, several, or None (every one submitted);
    ``env``: extra environment variables of the grading process."""
    names = [assignment] if isinstance(assignment, str) else list(assignment or ())
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
               *[part for name in names for part in ("--assignment", name)], "--quiet", *extra]
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    if not wait:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def true_id(cell: str) -> str:
    """The student id of a grades.csv cell: ``grader.exports.inert`` put a quote before one that began a formula."""
    from grader.exports import FORMULA_STARTS

    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as handle:
        return {true_id(row["student_id"]): row for row in csv.DictReader(handle)}


def rows_by_assignment(out: Path) -> dict[tuple[str, str], dict]:
    """grades.csv as (student_id, assignment) -> row (a student has a row for every assignment graded)."""
    with open(out / "grades.csv", newline="") as handle:
        return {(true_id(row["student_id"]), row["assignment"]): row for row in csv.DictReader(handle)}
