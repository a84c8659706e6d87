"""Running ``python -m autograder grade`` from the tests and reading what it wrote."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

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
          assignment: str | None = "01_normalization"):
    command = [sys.executable, "-m", "autograder", "grade", str(submissions), "--out", str(out),
               *(["--assignment", assignment] if assignment else []), "--quiet", *extra]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    if not wait:
        return subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)


def rows(out: Path) -> dict[str, dict]:
    with open(out / "grades.csv", newline="") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}
