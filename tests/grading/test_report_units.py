"""The class report and the LMS exports on hand-made results (fast: no sandbox; the graded class is in
test_class_report.py)."""
from __future__ import annotations

import csv
import io
import re

from autograder.mistakes import MISTAKES
from grader import class_report, exports
from grader.journal import results_lines


def _test(name, passed, mistakes=(), message="", hidden=None, checked=True, points=1.0, own_message=True):
    return {"notebook": "01_normalization", "test": name, "hidden": name.endswith("_hidden") if hidden is None else hidden,
            "checked": checked, "passed": passed, "points": points if passed else 0.0, "max_points": points,
            "mistakes": list(mistakes), "message": message, "own_message": own_message and bool(message)}


RECORDS = [
    {"student_id": "ana.perez", "assignment": "01_normalization", "score": 1.0, "max_score": 2.0, "status": "graded",
     "notes": [], "seconds": {"01_normalization": 4.0}, "timeouts": [],
     "tests": [_test("test_z_score_fit", True), _test("test_z_score_fit_hidden", False, ["norm-std-ddof1"],
                                                      "std differs ... (called by ana.perez) ddof=1")]},
    {"student_id": "bo", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0, "status": "graded",
     "notes": [], "seconds": {"01_normalization": 9.5}, "timeouts": [],
     "tests": [_test("test_z_score_fit", False, ["norm-std-ddof1", "norm-variance-for-std"], "short ddof=1"),
               _test("test_z_score_fit_hidden", False, ["norm-std-ddof1"], "longer message, ddof=1 ...")]},
    {"student_id": "cy", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0,
     "status": "timeout in cell z_score_fit", "notes": [], "seconds": {"01_normalization": 61.0},
     "timeouts": [{"notebook": "01_normalization", "cell": "z_score_fit"}],
     "tests": [_test("test_z_score_fit", False, checked=False), _test("test_z_score_fit_hidden", False, checked=False)]},
    {"student_id": "dee", "assignment": "01_normalization", "score": None, "max_score": 2.0,
     "status": "forbidden reference: sklearn.preprocessing.StandardScaler", "notes": [], "seconds": {}, "timeouts": [],
     "tests": []},
    {"student_id": "ana.perez", "assignment": "06_dropout", "score": 0.0, "max_score": 16.0, "status": "no submission",
     "notes": [], "tests": []},
]


def test_summary_counts_learners_statuses_and_pass_rates():
    data = class_report.summarise(RECORDS)
    assert [(m["id"], m["learners"]) for m in data["mistakes"]] == [("norm-std-ddof1", 2), ("norm-variance-for-std", 1)]
    assert data["mistakes"][0]["example"] == "short ddof=1"          # the shortest message
    assert data["statuses"]["01_normalization"] == {"graded": 2, "timeout": 1, "forbidden reference": 1}
    assert data["statuses"]["06_dropout"] == {"missing": 1}
    assert data["pass_rates"]["01_normalization"]["test_z_score_fit"] == {"visible": [1, 2], "hidden": [0, 2]}
    assert data["timeouts"] == [{"student_id": "cy", "assignment": "01_normalization", "notebook": "01_normalization",
                                 "cell": "z_score_fit"}]
    assert [t["seconds"] for t in data["slowest"]] == [61.0, 9.5, 4.0]
    assert [x["student_id"] for x in data["look"]] == ["dee"]


def test_examples_name_no_student():
    assert class_report.anonymise("raised by ana.perez and bo", ["ana.perez", "bo", "a"]) == \
        "raised by <student> and <student>"


def test_page_is_self_contained_and_links_to_the_book():
    page = class_report.render(RECORDS, book_url="https://book.example.org/c/")
    assert "<script" not in page and "http://" not in page
    images = re.findall(r"<img src='([^']+)' alt='([^']+)'", page)
    assert len(images) == 2 + 1 + 1 and all(src.startswith("data:image/png;base64,") for src, _ in images)
    assert "https://book.example.org/c/book/01_data_normalization.html#norm-z-score" in page
    assert MISTAKES["norm-std-ddof1"].description in page and "ana.perez" not in page.split("id='time'")[0]


def test_results_lines_one_per_test():
    lines = results_lines(RECORDS)
    assert len(lines) == 6 and {x["student_id"] for x in lines} == {"ana.perez", "bo", "cy"}
    assert lines[1]["mistakes"] == ["norm-std-ddof1"] and lines[1]["status"] == "graded"


def test_exports_have_the_documented_columns():
    canvas = list(csv.reader(io.StringIO(exports.canvas(RECORDS))))
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "01_normalization", "06_dropout"]
    assert canvas[1][0].strip() == "Points Possible" and canvas[1][5:] == ["2", "16"]
    assert [r[2] for r in canvas[2:]] == ["ana.perez", "bo", "cy", "dee"]
    assert canvas[2][5:] == ["1", "0"] and canvas[5][5:] == ["", ""]   # no score (and no row) stays empty
    moodle = list(csv.reader(io.StringIO(exports.moodle(RECORDS))))
    assert moodle[0] == ["ID number", "Email address", "01_normalization", "06_dropout"]
    assert [r[0] for r in moodle[1:]] == ["ana.perez", "bo", "cy", "dee"]
    assert exports.canvas(RECORDS).endswith("\r\n")


def test_rows_the_grader_could_not_match_need_a_look():
    """Grade cells gone (their nbgrader metadata removed, e.g. cells copied into a new notebook): graded, and listed;
    a notebook under another name: missing (as for nbgrader), and listed."""
    stripped = {"student_id": "ed", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0, "status": "graded",
                "notes": ["grade cells missing: test_z_score_fit, test_z_score_fit_hidden"], "tests": []}
    renamed = {"student_id": "flo", "assignment": "01_normalization", "score": 0.0, "max_score": 2.0,
               "status": "missing notebook", "notes": ["01_normalization.ipynb not found (found 01_normalization (1).ipynb)"],
               "tests": []}
    look = class_report.summarise(RECORDS + [stripped, renamed])["look"]
    assert [(x["student_id"], x["notes"]) for x in look] == [
        ("dee", []), ("ed", ["grade cells missing: test_z_score_fit, test_z_score_fit_hidden"]),
        ("flo", ["01_normalization.ipynb not found (found 01_normalization (1).ipynb)"])]
