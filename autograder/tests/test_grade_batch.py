"""One batch of correct, broken and adversarial submissions, graded by ``python -m autograder grade``.

The correct ones earn full marks, the others no false credit and a clear
status, and the batch completes (see autograder/tests/submissions for the
cases). Then: the gradebook agrees with grades.csv, no feedback shows a
hidden test, nothing was written outside the sandbox, no process outlived
it, and a re-run grades only what changed.
"""
from __future__ import annotations

import html
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import REPO
from autograder.tests.grade_helpers import grade, require_bwrap, rows
from autograder.tests.submissions import ASSIGNMENT, MAX_SCORE, NOTEBOOK, cases, solution

pytestmark = pytest.mark.slow  # runs notebooks in the sandbox

CASES = cases()


@dataclass
class Batch:
    root: Path
    submissions: Path
    out: Path
    result: subprocess.CompletedProcess
    rows: dict


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    require_bwrap()
    root = tmp_path_factory.mktemp("grade-batch")
    submissions = root / "class" / "submitted"
    submissions.mkdir(parents=True)
    for case in CASES:
        case.write(submissions)
    out = root / "out"
    result = grade(submissions, out, "--workers", "2", "--timeout", "10", "--memory", "2g")
    assert result.returncode == 0, f"grading failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    return Batch(root, submissions, out, result, rows(out))


def test_there_are_enough_adversarial_cases():
    bad = [c for c in CASES if not c.full_marks]
    assert len(bad) >= 25 and len(CASES) - len(bad) >= 3


def test_batch_completes_with_a_row_for_everyone(batch):
    assert set(batch.rows) == {c.student for c in CASES}
    assert "row(s) in" in batch.result.stdout  # the summary
    for row in batch.rows.values():
        assert float(row["max_score"]) == MAX_SCORE, row


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.student)
def test_status_and_score(batch, case):
    row = batch.rows[case.student]
    score = float(row["score"])
    assert case.status in row["status"], f"{case.student}: status {row['status']!r}, notes {row['notes']!r}"
    if case.full_marks:
        assert score == MAX_SCORE, f"{case.student}: {score} ({row['status']}; {row['notes']})"
    else:
        assert score <= case.at_most, f"{case.student} got false credit: {score} > {case.at_most} ({row['notes']})"


def test_gradebook_agrees_with_grades_csv(batch):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{batch.out / 'course' / 'gradebook.db'}") as gradebook:
        for student, row in batch.rows.items():
            submission = gradebook.find_submission(ASSIGNMENT, student)
            assert float(submission.score) == pytest.approx(float(row["score"])), student
            assert float(submission.max_score) == MAX_SCORE


def test_feedback_shows_results_but_never_hidden_tests(batch):
    hidden = []
    for cell in solution()["cells"]:
        source = "".join(cell["source"])
        if "### BEGIN HIDDEN TESTS" in source:
            region = source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            hidden += [line.strip() for line in region.splitlines() if len(line.strip()) > 12]
    assert hidden
    pages = sorted((batch.out / "feedback").glob(f"*/{ASSIGNMENT}/*.html"))
    assert {p.parent.parent.name for p in pages} == {c.student for c in CASES}
    for page in pages:
        text = _text(page)
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{page.parent.parent.name}'s feedback shows hidden tests: {leaked[:2]}"
    blank = _text(batch.out / "feedback" / "blank" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert "not implemented yet" in blank and "def min_max_scale" in blank
    wrong = _text(batch.out / "feedback" / "wrong" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert "differs from the reference" in wrong  # the check's message, for visible and hidden tests
    ok = _text(batch.out / "feedback" / "ok-solution" / ASSIGNMENT / f"{ASSIGNMENT}.html")
    assert "visible tests passed" in ok  # the learner's outputs


def _text(page: Path) -> str:
    """What a reader sees: tags removed (code is split into highlighting spans), entities decoded."""
    text = re.sub(r"<style.*?</style>|<script.*?</script>", "", page.read_text(), flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def _outputs(batch, student) -> str:
    path = batch.out / "course" / "autograded" / student / ASSIGNMENT / NOTEBOOK
    notebook = json.loads(path.read_text())
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")) + str(output.get("evalue", "")))
    return "\n".join(texts)


def test_the_sandbox_hides_the_course_and_the_network(batch):
    peek = _outputs(batch, "peek-at-solutions")
    assert "leaked: []" in peek
    assert "'solutions'" not in peek and "gradebook.db" not in peek
    assert "no network" in _outputs(batch, "network")
    wrote = _outputs(batch, "write-outside")
    assert "refused /etc/HACKED" in wrote
    for path in [REPO / "solutions" / "HACKED", Path("/etc/HACKED"), Path.home() / "HACKED",
                 REPO / "autograder" / "HACKED.py", batch.root / "HACKED", batch.submissions.parent / "HACKED"]:
        assert not path.exists(), f"a submission wrote {path}"
    for folder in (batch.root, batch.root.parent, batch.submissions.parent):
        assert not (folder / "zip-slip-escaped.txt").exists()


def test_floods_are_refused_and_nothing_outlives_the_sandbox(batch):
    assert "started 0" in _outputs(batch, "process-flood")
    leftovers = subprocess.run(["pgrep", "-f", "sleep 1000"], capture_output=True, text=True).stdout.split()
    assert not leftovers, f"processes started by submissions are still running: {leftovers}"


def test_rerun_grades_only_what_changed(batch):
    again = grade(batch.submissions, batch.out, "--workers", "2", "--timeout", "10", "--memory", "2g")
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(CASES)} unchanged" in again.stdout and "Graded 0 submission" in again.stdout
    assert rows(batch.out) == batch.rows
    # one student changes their notebook: only that one is graded again
    target = batch.submissions / "wrong" / ASSIGNMENT / NOTEBOOK
    target.write_text(json.dumps(solution()))
    third = grade(batch.submissions, batch.out, "--workers", "2", "--timeout", "10", "--memory", "2g")
    assert third.returncode == 0, third.stderr[-3000:]
    assert "Graded 1 submission" in third.stdout
    updated = rows(batch.out)
    assert float(updated["wrong"]["score"]) == MAX_SCORE
    assert {k: v for k, v in updated.items() if k != "wrong"} == \
        {k: v for k, v in batch.rows.items() if k != "wrong"}
