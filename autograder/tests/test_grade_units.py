"""Fast checks of the grading pieces that need no sandbox: zips, links, the journal, the filter, the CLI."""
from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from autograder.grading import journal, seccomp, submissions
from autograder.grading.batch import _read_notebook, merge
from autograder.grading.cli import parser


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


def test_a_grade_cell_that_never_ran_scores_zero_in_nbgrader_terms():
    import nbformat
    from nbgrader.utils import determine_grade

    from autograder.grading.gradebook import AssignmentInfo
    from autograder.grading.sandbox import RunResult

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("check()")])
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 2, "solution": False,
                                        "locked": True, "schema_version": 3}
    info = AssignmentInfo("a", {"n": nb}, {"n": {"t": 2.0}}, "h")
    ran = RunResult(cells={0: {"i": 0, "outputs": [], "count": 1}}, failure="timeout", failed_cell=0)
    executed, status, _ = merge(nb, ran, info, "n")
    assert status == "timeout in cell #1"
    assert determine_grade(executed.cells[1])[0] == 0
    # a passed grade cell keeps no error output, even one student code managed to print into it
    passed = RunResult(cells={0: {"i": 0, "outputs": []}, 1: {"i": 1, "passed": True, "outputs": [
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": []}]}}, done=True)
    executed, status, _ = merge(nb, passed, info, "n")
    assert status == "graded" and determine_grade(executed.cells[1])[0] == 2
    failed = RunResult(cells={0: {"i": 0, "outputs": []}, 1: {"i": 1, "passed": False, "outputs": []}}, done=True)
    executed, _, _ = merge(nb, failed, info, "n")
    assert determine_grade(executed.cells[1])[0] == 0
