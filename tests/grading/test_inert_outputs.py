"""Issue 19, outside the sandbox: what the grader writes for people is inert, values that are not real
numbers fail with a message, links and deeply nested files get a clear status, and seeds follow the
submission's content. Fast: no sandbox."""
from __future__ import annotations

import csv
import io
import json
import os
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograder.compare import CheckFailed, assert_close, to_array
from autograder.probe import BadRecord, ObjectData, Record, RecordFailure, TensorData, decode, encode
from grader import class_report, exports, journal, submissions
from grader.exports import FORMULA_STARTS, inert
from grader.work import MAX_NOTEBOOK_DEPTH, _read_notebook, json_depth

INJECTIONS = ["=1+1", "+cmd", "-2", "@SUM(A1)", "\t=x", "\r=x", "\n=x", "=HYPERLINK(\"http://x\",\"y\")",
              "\uff1d1+1"]


# ---------------------------------------------------------------- CSV cells (OWASP "CSV Injection")

@pytest.mark.parametrize("text", INJECTIONS)
def test_a_cell_that_would_start_a_formula_gets_a_quote(text):
    assert inert(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "ana.perez", "1e3", "", "zoë", "a=b", " =x", "'quoted"])
def test_other_cells_are_unchanged(text):
    assert inert(text) == text


@given(st.text(max_size=30))
def test_no_cell_starts_a_formula(text):
    cell = inert(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert cell in (text, "'" + text)


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _records(ids):
    return [{"student_id": s, "assignment": "01_normalization", "score": 1.5, "max_score": 2.0, "status": "graded",
             "notes": []} for s in ids]


def test_canvas_and_moodle_exports_neutralise_ids_and_keep_the_scores():
    for text, columns in ((exports.canvas(_records(INJECTIONS + ["ok"])), (0, 2)),
                          (exports.moodle(_records(INJECTIONS + ["ok"])), (0,))):
        rows = _rows(text)
        body = [r for r in rows[1:] if r[0] != "    Points Possible"]
        assert len(body) == len(INJECTIONS) + 1
        for row in body:
            for column in columns:
                assert not row[column].startswith(FORMULA_STARTS), row
            assert row[-1] == "1.5"
        assert {r[0] for r in body} == {inert(s) for s in INJECTIONS + ["ok"]}


def test_grades_csv_neutralises_every_text_cell_and_the_journal_keeps_the_true_id(tmp_path):
    book = journal.Journal(tmp_path)
    for student in INJECTIONS:
        book.put({"student_id": student, "assignment": "01_normalization", "score": 1.0, "max_score": 2.0,
                  "status": "-status", "notes": ["=note from a file name", "skipped a\r=cmd|' /C calc'!A0"],
                  "key": "k"})
    rows = _rows(book.write_csv().read_bytes().decode())
    assert rows[0] == list(journal.COLUMNS)
    assert len(rows) == len(INJECTIONS) + 1   # a \r inside a cell starts no row of its own
    for row in rows[1:]:
        assert all(not cell.startswith(FORMULA_STARTS) for cell in row), row
        assert row[2:4] == ["1", "2"]
    assert {r["student_id"] for r in journal.Journal(tmp_path).records()} == set(INJECTIONS)  # the true ids


# ---------------------------------------------------------------- values: complex and other non-real results

finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.complex128, hnp.array_shapes(max_dims=2, max_side=5),
                  elements=st.builds(complex, finite, finite)))
def test_a_complex_array_fails_with_a_message_and_never_passes_by_its_real_part(values):
    with pytest.raises(CheckFailed, match="complex"):
        assert_close(values, values.real.copy(), what="the output")
    # through the record's encoding (the path of every check) it arrives as its type only, and fails the same way
    decoded = decode(encode(values))
    assert isinstance(decoded, ObjectData) and decoded.type_name.startswith("complex")
    with pytest.raises(CheckFailed, match="holds complex numbers"):
        to_array(decoded, "the output")


@pytest.mark.parametrize("value", [np.complex64(1 + 0j), np.complex128(2 + 3j), 1j, [1 + 2j, 3.0], [[1j]],
                                   (np.complex128(1), 2.0)])
def test_complex_scalars_and_lists_fail_with_a_message(value):
    with pytest.raises(CheckFailed, match="complex"):
        to_array(value, "the output")
    if isinstance(value, np.generic):
        decoded = decode(encode(value))
        assert isinstance(decoded, ObjectData) and "complex" in decoded.type_name


@pytest.mark.parametrize("value, words", [
    (np.array(["1", "2"]), "strings"), (np.array([1, 2], dtype=object), "Python objects"),
    (np.zeros(2, "f8,f8"), "structured"), (np.array(["2020-01-01"], dtype="M8[D]"), "dates"),
    (np.array([3], dtype="m8[s]"), "time spans"), (np.zeros(2, "V8"), "structured"), (["1", "2"], "strings"),
    ([1.0, None], "Python objects")])
def test_other_non_real_results_fail_with_a_message(value, words):
    with pytest.raises(CheckFailed, match=words):
        to_array(value, "the output")


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(st.sampled_from([np.bool_, np.int8, np.uint16, np.int64, np.float16, np.float32, np.float64]),
                  hnp.array_shapes(max_dims=2, max_side=5)))
def test_real_results_are_still_read(values):
    assert to_array(values, "x").dtype == np.float64
    round_trip = decode(encode(values))
    assert isinstance(round_trip, np.ndarray) and np.array_equal(round_trip, values, equal_nan=True)


@pytest.mark.parametrize("kind", ["c8", "c16"])
def test_a_complex_tensor_record_is_not_a_tensor_of_numbers(kind):
    data = encode(TensorData(np.ones(3, dtype=kind), "complex64", False))
    decoded = decode(data)
    assert isinstance(decoded, ObjectData) and decoded.type_name == "complex Tensor (complex64)"


@pytest.mark.parametrize("forged", ["float32\n  Likely mistake: copy this", "x" * 41, "Float32", ""])
def test_a_tensor_dtype_is_a_short_name_only(forged):
    data = encode(TensorData(np.ones(3), "float32", False))
    data["dtype"] = forged
    with pytest.raises(BadRecord):
        decode(data)


@pytest.mark.parametrize("name, kept", [("MyModel", True), ("ndarray of dtype object", True), ("numpy datetime64", True),
                                        ("x\n\nDear instructor, ...", False), ("<script>", False), ("", False)])
def test_a_type_name_from_the_sandbox_keeps_only_a_type_names_characters(name, kept):
    decoded = decode({"$object": name})
    assert decoded.type_name == (name if kept else "object")


# ---------------------------------------------------------------- the class report's example is the verdict's own

def _job_and_info():
    import nbformat

    from grader.gradebook import AssignmentInfo
    from grader.submissions import Submission
    from grader.work import make_job

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell("def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return x"),
        nbformat.v4.new_code_cell("from autograder.normalization import check_min_max_scale\n"
                                  "check_min_max_scale(min_max_scale, seed=3)\nprint('passed')")])
    for cell, meta in zip(nb.cells, [{"grade": False, "grade_id": "setup", "locked": True, "solution": False},
                                     {"grade": False, "grade_id": "f", "locked": False, "solution": True},
                                     {"grade": True, "grade_id": "t", "points": 2, "solution": False, "locked": True}]):
        cell.metadata["nbgrader"] = dict(meta, schema_version=3)
    info = AssignmentInfo("01_normalization", {"n": nb}, {"n": {"t": 2.0}}, "h")
    submission = Submission("s", "01_normalization", files={"n.ipynb": nbformat.writes(nb).encode()})
    return nb, info, submission, make_job


ATTACK = "Dear instructor: student s has permission to skip this test. " * 3


def test_a_records_own_failure_text_is_never_the_reports_example():
    from grader.sandbox import RunResult
    from grader.work import merge

    nb, info, submission, make_job = _job_and_info()
    job = make_job(submission, info, "n", nb, secret=b"k" * 32)
    forged = Record()
    forged.fail(ATTACK, ["norm-minmax-per-example"])
    # the grade cell's own "cell" message (what the notebook printed while probed) is ignored too
    printed = {2: {"i": 2, "outputs": [{"output_type": "stream", "name": "stdout", "text": "PRINTED-WHILE-PROBED"}],
                   "count": 3}}
    executed, status, _ = merge(job, RunResult(cells=printed, probes={(2, 0): encode(forged)}, done=True), info)
    assert "PRINTED-WHILE-PROBED" not in json.dumps(executed.cells[2].outputs)
    (test,) = job.tests
    assert not test["passed"] and test["own_message"] is False and "norm-minmax-per-example" in test["mistakes"]
    record = {"student_id": "s", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0, "status": status,
              "notes": [], "tests": [test]}
    (mistake,) = class_report.summarise([record])["mistakes"]
    assert mistake["example"] == "" and ATTACK not in class_report.render([record])


def test_a_verdicts_message_that_quotes_sandbox_text_is_not_its_own():
    from grader import cells

    outcome_texts = cells.sandbox_texts([Record(out=[ObjectData("Some long class name"), {"key-of-the-notebook": 1}])])
    assert {"Some long class name", "key-of-the-notebook"} <= outcome_texts
    failed = Record()
    failed.fail("the notebook's words")
    assert "the notebook's words" in cells.sandbox_texts([failed])
    with pytest.raises(RecordFailure):
        failed["out"]


def test_a_verdicts_own_message_is_the_example():
    from grader.sandbox import RunResult
    from grader.work import merge

    nb, info, submission, make_job = _job_and_info()
    job = make_job(submission, info, "n", nb, secret=b"k" * 32)
    seed = job.job["cells"][2]["probes"][0]["params"]["seed"]
    from autograder.normalization import check_min_max_scale

    per_example = encode(check_min_max_scale.run_probe(
        [lambda x, feature_range=(0.0, 1.0): (x - x.min(axis=1, keepdims=True)) / np.ptp(x, axis=1, keepdims=True)],
        {"seed": seed}))
    merge(job, RunResult(probes={(2, 0): per_example}, done=True), info)
    (test,) = job.tests
    assert test["own_message"] is True and test["mistakes"]
    record = {"student_id": "s", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0, "status": "graded",
              "notes": [], "tests": [test]}
    assert class_report.summarise([record])["mistakes"][0]["example"]


# ---------------------------------------------------------------- seeds follow the submission's content

def test_a_changed_resubmission_gets_new_seeds_and_an_unchanged_one_keeps_them():
    from grader.submissions import Submission

    nb, info, submission, make_job = _job_and_info()

    def seed(files):
        job = make_job(Submission("s", "01_normalization", files=files), info, "n", nb, secret=b"k" * 32)
        return job.job["cells"][2]["probes"][0]["params"]["seed"]

    first = seed(submission.files)
    assert seed(dict(submission.files)) == first                               # a regrade: the same inputs
    assert seed({**submission.files, "n.ipynb": submission.files["n.ipynb"] + b" "}) != first   # one byte more
    assert seed({**submission.files, "table.npy": b"memorised"}) != first      # a file added
    other = make_job(Submission("t", "01_normalization", files=submission.files), info, "n", nb, secret=b"k" * 32)
    assert other.job["cells"][2]["probes"][0]["params"]["seed"] != first       # another student


# ---------------------------------------------------------------- deeply nested notebook files

@pytest.mark.parametrize("raw", [
    b"[" * 200_000 + b"]" * 200_000,
    b'{"nbformat": 4, "cells": [], "metadata": {"x": ' + b"[" * 200_000 + b"]" * 200_000 + b"}}",
    b'{"nbformat": 4, "cells": [' + b"{" * 100_000,                     # unclosed as well
    b'{"a": ' * 5000 + b"1" + b"}" * 5000,
])
def test_a_deeply_nested_notebook_is_a_status_not_a_crash(raw):
    nb, status = _read_notebook(raw)
    assert nb is None and status.startswith("unreadable notebook")


def test_brackets_inside_strings_do_not_count_and_ordinary_notebooks_are_read():
    import nbformat

    assert json_depth(b'{"a": "[[[[{{{{\\"[[[", "b": [[1]]}') == 3
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = [[[[[[1]]]]]]  # " + "[" * 500)])
    read, status = _read_notebook(nbformat.writes(nb).encode())
    assert status == "graded" and read.cells[0].source.startswith("x = ")
    assert json_depth(nbformat.writes(nb).encode()) < MAX_NOTEBOOK_DEPTH


@pytest.mark.parametrize("raw", [b"[1, 2]", b'"text"', b"3", b"null", b'{"nbformat": 3, "cells": []}', b"\xff\xfe"])
def test_notebooks_that_are_not_objects_are_unreadable_not_a_grader_failure(raw):
    nb, status = _read_notebook(raw)
    assert nb is None and status.startswith("unreadable notebook")


# ---------------------------------------------------------------- links

RELEASES = {"01_normalization": {"01_normalization"}}


def _found(root, tmp_path):
    found, _ = submissions.discover(root, RELEASES, tmp_path / "staging", ["01_normalization"])
    return {s.student: s for s in found}


def _notebook_in(folder):
    folder.mkdir(parents=True)
    (folder / "01_normalization.ipynb").write_text('{"nbformat": 4, "cells": []}')


def test_a_linked_student_folder_or_zip_is_refused_with_the_maximum_not_graded_as_its_target(tmp_path):
    root = tmp_path / "submitted"
    _notebook_in(root / "victim" / "01_normalization")
    os.symlink(root / "victim", root / "copycat")
    zipped = tmp_path / "victim.zip"
    with zipfile.ZipFile(zipped, "w") as bundle:
        bundle.writestr("01_normalization/01_normalization.ipynb", "{}")
    os.symlink(zipped, root / "zipper.zip")
    by = _found(root, tmp_path)
    for student in ("copycat", "zipper"):
        assert not by[student].rejected and not by[student].files
        assert by[student].problem.startswith("refused: symbolic link"), by[student].problem
    assert by["victim"].problem is None and by["victim"].files


def test_a_linked_assignment_folder_or_notebook_is_refused(tmp_path):
    root = tmp_path / "submitted"
    _notebook_in(root / "victim" / "01_normalization")
    (root / "folder-link").mkdir()
    os.symlink(root / "victim" / "01_normalization", root / "folder-link" / "01_normalization")
    (root / "notebook-link" / "01_normalization").mkdir(parents=True)
    os.symlink(root / "victim" / "01_normalization" / "01_normalization.ipynb",
               root / "notebook-link" / "01_normalization" / "01_normalization.ipynb")
    by = _found(root, tmp_path)
    assert "assignment folder" in by["folder-link"].problem and by["folder-link"].problem.startswith("refused")
    assert "notebook" in by["notebook-link"].problem and by["notebook-link"].problem.startswith("refused")
    assert not by["folder-link"].files and "01_normalization.ipynb" not in by["notebook-link"].files


def test_a_link_inside_a_zip_refuses_the_zip(tmp_path):
    archive = tmp_path / "s.zip"
    info = zipfile.ZipInfo("01_normalization/01_normalization.ipynb")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(info, "../victim/01_normalization/01_normalization.ipynb")
    assert submissions.extract_zip(archive, tmp_path / "x") == \
        "unsafe zip (symbolic link: 01_normalization/01_normalization.ipynb)"


def test_refused_rows_are_listed_for_a_look():
    record = {"student_id": "copycat", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0,
              "status": "refused: symbolic link (the student folder is a link; not followed)", "notes": [], "tests": []}
    assert [r["student_id"] for r in class_report.summarise([record])["look"]] == ["copycat"]


# ---------------------------------------------------------------- the summary on the terminal

def test_the_summary_shows_control_characters_escaped():
    from grader.report import summary

    records = [{"student_id": "s", "assignment": "a", "score": 0.0, "max_score": 1.0,
                "status": "refused: symbolic link (the notebook \x1b]0;owned\x07x.ipynb is a link; not followed)"}]
    text = summary(records, 1, 0, 1.0, 0, ["ignored \x1b[2Jclear (neither a student folder nor a .zip)"], "OUT")
    assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b]0;owned\\x07x.ipynb" in text and "\\x1b[2Jclear" in text


DTYPE_TEXTS = sorted({np.dtype(t).str for t in np.sctypeDict.values() if t is not np.void}
                     | {"f8,f8", "(2,)f8", "V8", "O", "M8[D]", "m8[s]", "U3", "S3", ">f8", "<c16", "b1"})


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(DTYPE_TEXTS), st.lists(st.integers(0, 3), max_size=2), st.binary(max_size=64))
def test_a_forged_array_is_real_numbers_a_complex_type_or_refused(dtype_text, shape, payload):
    import base64

    try:
        itemsize = np.dtype(dtype_text).itemsize
    except TypeError:
        itemsize = 1
    size = int(np.prod(shape)) * itemsize
    data = {"$nd": dtype_text, "shape": shape, "data": base64.b64encode((payload * (size + 1))[:size]).decode()}
    try:
        value = decode(data)
    except BadRecord:
        return
    if isinstance(value, ObjectData):
        assert value.type_name.startswith("complex") and np.dtype(dtype_text).kind == "c"
    else:
        assert isinstance(value, np.ndarray) and value.dtype.kind in "biuf" and value.dtype.fields is None
        assert to_array(value, "x").dtype == np.float64
