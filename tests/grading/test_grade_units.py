"""Fast checks of the grading pieces that need no sandbox: zips, links, the journal, the filter, the CLI."""
from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from grader import journal, seccomp, submissions
from grader.work import _read_notebook, merge
from grader.cli import parser


def _zip(path, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt"])
def test_zip_with_paths_outside_is_refused_and_nothing_is_written(tmp_path, name):
    archive = tmp_path / "student.zip"
    _zip(archive, {"01_normalization/01_normalization.ipynb": b"{}", name: b"x"})
    reason = submissions.extract_zip(archive, tmp_path / "out" / "student")
    assert reason and reason.startswith("unsafe zip")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "evil.txt").exists()


def test_zip_links_are_refused(tmp_path):
    archive = tmp_path / "student.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(info, "/etc/passwd")
    assert "link" in submissions.extract_zip(archive, tmp_path / "x")


def test_submitted_links_are_not_followed(tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    folder = tmp_path / "alice" / "01_normalization"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("mine")
    os.symlink(tmp_path / "secret.txt", folder / "link.txt")
    files, notes = submissions.read_folder(folder)
    assert files == {"a.txt": b"mine"} and any("link.txt" in n for n in notes)


def test_notebooks_that_cannot_be_read_get_a_reason():
    assert _read_notebook(b"{not json")[1] == "unreadable notebook"
    assert _read_notebook(json.dumps({"nbformat": 3, "worksheets": []}).encode())[1] == \
        "unreadable notebook (nbformat 3)"
    assert _read_notebook(json.dumps({"nbformat": 5, "cells": []}).encode())[1] == "unreadable notebook (nbformat 5)"
    assert _read_notebook(b"\xff\xfe")[1] == "unreadable notebook"


def test_journal_writes_atomically_and_builds_the_csv(tmp_path):
    book = journal.Journal(tmp_path)
    book.put({"student_id": "b", "assignment": "01", "score": 1.0, "max_score": 2.0, "status": "graded",
              "notes": [], "key": "k"})
    book.put({"student_id": "a,1", "assignment": "01", "score": 0, "max_score": 2.0, "status": "kernel died",
              "notes": ["x"], "key": "k"})
    assert book.get("b", "01")["key"] == "k"
    text = book.write_csv().read_text()
    assert text.splitlines()[0] == "student_id,assignment,score,max_score,status,notes"
    assert text.splitlines()[1] == '"a,1",01,0,2,kernel died,x'
    assert not list(tmp_path.rglob("*.tmp"))


def test_seccomp_filter_is_well_formed():
    program = seccomp.program("x86_64")
    assert len(program) % 8 == 0 and 10 < len(program) // 8 < 64


def test_cli_defaults():
    args = parser().parse_args(["grade", "subs", "--out", "out"])
    assert args.timeout == 60 and args.workers == (os.cpu_count() or 1) and not args.force
    assert args.memory == 3 * 1024 ** 3


def _one_test_notebook():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell("def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return x"),
        nbformat.v4.new_code_cell("from autograder.normalization import check_min_max_scale\n"
                                  "check_min_max_scale(min_max_scale, seed=3)\nprint('passed')")])
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "setup", "locked": True, "solution": False,
                                        "schema_version": 3}
    nb.cells[1].metadata["nbgrader"] = {"grade": False, "grade_id": "f", "locked": False, "solution": True,
                                        "schema_version": 3}
    nb.cells[2].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 2, "solution": False,
                                        "locked": True, "schema_version": 3}
    return nb


def test_grade_cells_are_decided_from_records_with_fresh_seeds():
    """The sandbox gets probes, never the grade cell; the verdict alone decides, from the record."""
    import numpy as np
    from nbgrader.utils import determine_grade

    from grader.work import make_job, merge
    from grader.gradebook import AssignmentInfo
    from grader.sandbox import RunResult
    from grader.submissions import Submission
    from autograder.normalization import check_min_max_scale
    from autograder.probe import encode

    nb = _one_test_notebook()
    info = AssignmentInfo("01_normalization", {"n": nb}, {"n": {"t": 2.0}}, "h")
    job = make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32)
    (probe_cell,) = [c for c in job.job["cells"] if "probes" in c]
    assert "check_min_max_scale" not in str([c.get("source") for c in job.job["cells"]])  # no grade cell inside
    (request,) = probe_cell["probes"]
    seed = request["params"]["seed"]
    assert request["learners"] == ["min_max_scale"] and seed != 3  # a fresh seed, not the cell's
    assert make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32).job["cells"][2] == probe_cell

    def scale(x, feature_range=(0.0, 1.0)):
        span = np.ptp(x, axis=0)
        return (x - x.min(axis=0)) / np.where(span == 0, 1, span)

    # a grade cell that never ran (timeout before it) scores 0
    executed, status, _ = merge(job, RunResult(cells={0: {"i": 0, "outputs": []}}, failure="timeout",
                                               failed_cell=1), info)
    assert status == "timeout in cell f" and determine_grade(executed.cells[2])[0] == 0
    # a correct record for the fresh seed passes; the cell's print is its output
    good = encode(check_min_max_scale.run_probe([scale], {"seed": seed}))
    executed, status, _ = merge(job, RunResult(probes={(2, 0): good}, done=True), info)
    assert status == "graded" and determine_grade(executed.cells[2])[0] == 2
    assert executed.cells[2].outputs[0]["text"] == "passed\n"
    # the answer for the visible seed is worth nothing; neither is forged data or a second message
    stale = encode(check_min_max_scale.run_probe([scale], {"seed": 3}))
    for run in [RunResult(probes={(2, 0): stale}, done=True),
                RunResult(probes={(2, 0): {"$record": {"out": {"$object": "x"}}}}, done=True),
                RunResult(probes={(2, 0): {"$nd": "O", "shape": [1], "data": ""}}, done=True),
                RunResult(probes={(2, 0): good}, duplicates=1, done=True)]:
        executed, _, _ = merge(job, run, info)
        assert determine_grade(executed.cells[2])[0] == 0


def test_corrupt_or_stray_result_files_are_reported_not_fatal(tmp_path):
    book = journal.Journal(tmp_path)
    book.put({"student_id": "a", "assignment": "01", "score": 1.0, "max_score": 2.0, "status": "graded",
              "notes": [], "key": "k"})
    folder = tmp_path / ".grading" / "results" / "01"
    (folder / "stray.json").write_text('{"hello": 1}')
    (folder / "corrupt.json").write_text('{"student_id": ')
    (folder / "dir.json").mkdir()
    fresh = journal.Journal(tmp_path)
    assert [r["student_id"] for r in fresh.records()] == ["a"]
    assert "a" in fresh.write_csv().read_text()
    assert len(fresh.problems) == 3 and all("graded again" in p for p in fresh.problems)


@pytest.mark.parametrize("student, usable", [
    ("zoë-ünïcode", True), ("x" * 150, True), ("alice smith", True),
    ("é" * 150, False), ("bad\nname", False), (" padded", False), ("", False)])
def test_student_ids_nbgrader_can_use_are_kept_and_others_get_a_reason(student, usable):
    assert (submissions.id_problem(student) is None) == usable


def test_unusable_ids_and_symlinked_folders_get_a_row(tmp_path):
    root = tmp_path / "submitted"
    (root / "real" / "01_normalization").mkdir(parents=True)
    (root / "real" / "01_normalization" / "01_normalization.ipynb").write_text("{}")
    os.symlink(root / "real", root / "linked")
    (root / ("é" * 110)).mkdir()  # 220 bytes: a legal folder name, too long for an id
    found, _ = submissions.discover(root, {"01_normalization": {"01_normalization"}}, tmp_path / "staging")
    by_student = {s.student: s for s in found}
    assert set(by_student) == {"real", "linked", "é" * 110}
    # a usable id: a row with the assignment's maximum and a clear refusal (never 0/0, never the target's work)
    assert not by_student["linked"].rejected and by_student["linked"].problem.startswith("refused: symbolic link")
    assert not by_student["linked"].files
    assert by_student["é" * 110].rejected and "student id" in by_student["é" * 110].problem
    assert not by_student["real"].rejected


def test_a_sandbox_that_will_not_start_is_retried_then_reported_as_the_graders_failure(tmp_path, monkeypatch):
    """Never a zero for the learner: no score, a status that says the grader failed, regraded on the next run."""
    from grader import batch, sandbox

    (tmp_path / "sub" / "s" / "01_normalization").mkdir(parents=True)
    from autograder.course import SOLUTIONS

    (tmp_path / "sub" / "s" / "01_normalization" / "01_normalization.ipynb").write_text(
        (SOLUTIONS / "01_normalization" / "01_normalization.ipynb").read_text())
    calls = tmp_path / "calls"  # the workers are processes: they count in a file

    def refuse(self, job, n_code):
        with open(calls, "a") as handle:
            handle.write("1")
        return sandbox.RunResult(failure="start", detail="SIGKILL")

    monkeypatch.setattr(batch, "preflight", lambda hidden: None)
    monkeypatch.setattr(batch.sandbox.WarmSandbox, "run", refuse)
    monkeypatch.setattr(batch.time, "sleep", lambda s: None)
    options = batch.Options(workers=1, assignments=["01_normalization"], progress=False)
    result = batch.grade(tmp_path / "sub", tmp_path / "out", options)
    (row,) = result["records"]
    assert len(calls.read_text()) == batch.START_ATTEMPTS
    assert row["status"].startswith("grader failure") and row["score"] is None and row["key"] == ""
    assert "s,01_normalization,,12," in (tmp_path / "out" / "grades.csv").read_text()
    again = batch.grade(tmp_path / "sub", tmp_path / "out", options)
    assert again["skipped"] == 0 and again["graded"] == 1  # graded again, not kept as a result


def test_no_sandbox_at_all_stops_the_run_with_a_message(tmp_path, monkeypatch):
    from grader import batch

    monkeypatch.setattr(batch.sandbox, "check_bwrap", lambda: "bubblewrap is not installed")
    (tmp_path / "sub").mkdir()
    with pytest.raises(SystemExit, match="cannot grade: bubblewrap is not installed"):
        batch.grade(tmp_path / "sub", tmp_path / "out", batch.Options(progress=False))


def test_learner_markdown_carries_no_script_into_feedback():
    import nbformat

    from autograder.feedback import SanitizeMarkdown

    cell = nbformat.v4.new_markdown_cell("# Mine <script>alert(1)</script><img src=x onerror=alert(2)>\n"
                                         "[a](javascript:alert(3)) <a href='javascript:x'>b</a> **kept** [ok](https://x.org)")
    text = SanitizeMarkdown().preprocess_cell(cell, {}, 0)[0].source
    assert "<script" not in text and "onerror" not in text and "javascript:" not in text.lower()
    assert "**kept**" in text and "[ok](https://x.org)" in text


def test_preload_imports_what_the_verdicts_import_inside_their_functions():
    """The head imports, before forking its workers, every module the checks import lazily (read from their source)."""
    from grader import work

    imported = work.preload(["06_dropout", "01_normalization"], feedback=True)
    for name in ("autograder.dropout", "scipy.stats", "torch.nn.functional", "autograder.normalization",
                 "sklearn.preprocessing", "latex2mathml.converter", "torch.fx.experimental.symbolic_shapes"):
        assert name in imported, name
    assert "sklearn.preprocessing" not in work.preload(["06_dropout"], feedback=False)


def test_a_sandbox_that_fails_its_preflight_stops_the_run_before_any_grade(tmp_path, monkeypatch):
    """The preflight runs on a thread while the head prepares: its failure still stops the run, and nothing is graded."""
    from grader import batch
    from autograder.course import SOLUTIONS

    folder = tmp_path / "sub" / "s" / "01_normalization"
    folder.mkdir(parents=True)
    (folder / "01_normalization.ipynb").write_text((SOLUTIONS / "01_normalization" / "01_normalization.ipynb").read_text())

    def broken(hidden):
        raise SystemExit("cannot grade: the sandbox cannot run the course's code (test)")

    monkeypatch.setattr(batch, "preflight", broken)
    with pytest.raises(SystemExit, match="cannot run the course's code"):
        batch.grade(tmp_path / "sub", tmp_path / "out", batch.Options(workers=1, progress=False))
    grades = tmp_path / "out" / "grades.csv"
    assert not grades.exists() or len(grades.read_text().splitlines()) == 1  # the header alone
