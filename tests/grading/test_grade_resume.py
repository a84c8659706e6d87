"""An interrupted grading run loses no grade already written, and the next run resumes."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.grading.grade_helpers import grade, require_bwrap, rows
from tests.grading.submissions import ASSIGNMENT, MAX_SCORE, NOTEBOOK, exercise, solution

pytestmark = pytest.mark.slow  # runs notebooks in the sandbox


def test_killed_run_keeps_its_grades_and_resumes(tmp_path):
    require_bwrap()
    submissions = tmp_path / "submitted"
    class_ = {"a-first": solution(), "b-blank": exercise(), "c-third": solution()}
    for student, nb in class_.items():
        folder = submissions / student / ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_text(json.dumps(nb))
    out = tmp_path / "out"
    process = grade(submissions, out, "--workers", "1", wait=False)
    results = out / ".grading" / "results" / ASSIGNMENT
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and len(list(results.glob("*.json"))) < 1:
        time.sleep(0.2)
        assert process.poll() is None, process.communicate()
    os.killpg(process.pid, signal.SIGKILL)  # as a power cut or `kill -9` would
    process.wait()
    kept = {p.name: p.read_text() for p in results.glob("*.json")}
    assert kept and len(kept) < len(class_)

    resumed = grade(submissions, out, "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"{len(kept)} unchanged" in resumed.stdout
    for name, text in kept.items():
        assert (results / name).read_text() == text  # not regraded, not lost
    final = rows(out)
    assert set(final) == set(class_)
    assert all(final[s]["status"] == "graded" for s in final)
    assert [float(final[s]["score"]) for s in sorted(final)] == [MAX_SCORE, 0.0, MAX_SCORE]

    forced = grade(submissions, out, "--workers", "2", "--force")
    assert forced.returncode == 0 and f"Graded {len(class_)} submission" in forced.stdout
