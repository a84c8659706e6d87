"""Issue 19, the trusted side's bookkeeping: ids that are spreadsheet formulas, links, files nested too deeply,
results that are not real numbers, text a notebook puts in front of the instructor, output while probed.

- Ids beginning with ``=``, ``+``, ``-`` or ``@`` are graded like any other (the gradebook and the
  feedback keep the true id; ``grades.csv`` and the exports write it inert: ``test_csv_cells_are_inert``);
  an id with a tab is not a usable id (a row and nothing else).
- A student folder, a zip, an assignment folder or a notebook that is a symbolic link (to a classmate's
  work) is refused with a row that has the assignment's maximum and no points: never 0/0, never a grade
  of the target's work. A zip holding a link is an unsafe zip.
- A notebook nested 200,000 deep (as a whole, or inside its metadata) is unreadable, for that row only;
  a notebook that is a JSON list is unreadable too (not a grader failure).
- A function that returns complex numbers loses exactly the tests of that function, with a message.
- A notebook whose function raises the course's own ``CheckFailed`` with a made-up message and a mistake
  id earns nothing, and its words never appear in the class report (``SANDBOX_TEXT``).
- What a function prints while it is probed (visible and hidden) never reaches the feedback; the
  submission keeps full marks. An error's text written by the function during a hidden test is not shown
  in that test's feedback either (it can hold the hidden inputs).
"""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

from tests.grading.submissions.common import (Case, append, dumps, exercise, folder_case, insert_after, max_score,
                                              notebook_name, points, replace, solution)

N = "01_normalization"
D = "06_dropout"
T = "03_batchnorm_training"
SANDBOX_TEXT = "SANDBOX-TEXT-FOR-THE-INSTRUCTOR"   # must never be in OUT/report.html


def _linked(student: str, assignment: str, status: str, make, elsewhere: str = "no submission", note: str = "") -> Case:
    """A case whose files are written by ``make(root, student)`` (links to a classmate's real work)."""
    def write(root: Path):
        make(Path(root), student, assignment)

    return Case(student, assignment, write, status, False, 0.0, None, note, False, elsewhere)


def _real_work(root: Path, owner: str, assignment: str) -> Path:
    """A correct notebook of ``assignment`` in ``owner``'s folder (outside SUBMISSIONS when owner starts with '../')."""
    folder = (root / owner / assignment).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / notebook_name(assignment)).write_bytes(dumps(solution(assignment)))
    return folder


def _student_folder_link(root, student, assignment):
    target = _real_work(root.parent, "real-work-of-a-classmate", assignment).parent
    (root / student).symlink_to(target, target_is_directory=True)


def _assignment_folder_link(root, student, assignment):
    target = _real_work(root.parent, "another-classmate", assignment)
    (root / student).mkdir()
    (root / student / assignment).symlink_to(target, target_is_directory=True)


def _notebook_link(root, student, assignment):
    target = _real_work(root.parent, "a-third-classmate", assignment) / notebook_name(assignment)
    (root / student / assignment).mkdir(parents=True)
    (root / student / assignment / notebook_name(assignment)).symlink_to(target)


def _zip_link(root, student, assignment):
    elsewhere = root.parent / "zips-elsewhere"
    elsewhere.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr(f"{assignment}/{notebook_name(assignment)}", dumps(solution(assignment)))
    (elsewhere / f"{student}.zip").write_bytes(buffer.getvalue())
    (root / f"{student}.zip").symlink_to(elsewhere / f"{student}.zip")


def _write_zip_with_link(root, student, assignment):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        info = zipfile.ZipInfo(f"{assignment}/{notebook_name(assignment)}")
        info.external_attr = 0o120777 << 16   # a symbolic link, to a classmate's notebook
        bundle.writestr(info, f"../../ok-solution/{assignment}/{notebook_name(assignment)}")
    (root / f"{student}.zip").write_bytes(buffer.getvalue())


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


COMPLEX_MIN_MAX = '''
_real_min_max_scale = min_max_scale
def min_max_scale(x, feature_range=(0.0, 1.0)):
    # right numbers as the real part, and an imaginary part that must not be ignored
    return _real_min_max_scale(x, feature_range) + 1j
'''

COMPLEX_BACKWARD = '''
_real_dropout_backward = dropout_backward
def dropout_backward(dout, mask, p):
    return _real_dropout_backward(dout, mask, p).astype(np.complex128)
'''

FORGED_FAILURE = f'''
import numpy as np
from autograder.compare import CheckFailed

def _claim(*args, **kwargs):
    raise CheckFailed("{SANDBOX_TEXT}: this learner's mistake is only a rounding detail; please give full marks.",
                      mistake="norm-minmax-per-example")

def min_max_scale(x, feature_range=(0.0, 1.0)):
    return _claim()

def z_score_fit(x):
    return _claim()

def z_score_transform(x, mean, std):
    return _claim()
'''

PRINTS_WHILE_PROBED_PLAIN = '''
_quiet_min_max_scale = min_max_scale
def min_max_scale(x, feature_range=(0.0, 1.0)):
    print('LEAK-INPUT', np.asarray(x).tolist(), feature_range)
    return _quiet_min_max_scale(x, feature_range)
'''


RAISES_ITS_INPUTS = '''
def min_max_scale(x, feature_range=(0.0, 1.0)):
    raise ValueError(f"LEAK-ERROR {np.asarray(x).tolist()}")
'''


MARKUP_IN_OUTPUTS = """
print("<script>alert('XSS-PRINT')</script>")
raise ValueError("<img src=x onerror=\\"alert('XSS-ERROR')\\"><script>alert('XSS-ERROR')</script>")
"""

MARKUP_ID = "<img src=x onerror=alert('XSS-ID')>"   # no slash: a usable id (a folder name), shown escaped


def _markup_in_metadata(assignment: str) -> dict:
    nb = solution(assignment)
    nb["metadata"]["title"] = "</title><script>alert('XSS-TITLE')</script>"
    nb["metadata"]["authors"] = [{"name": "<img src=x onerror=alert('XSS-AUTHOR')>"}]
    nb["metadata"].setdefault("language_info", {})["name"] = "<script>alert('XSS-LANG')</script>"
    return nb


def cases() -> list[Case]:
    min_max = points(N, "test_min_max_scale", "test_min_max_scale_hidden")
    backward = points(D, "test_dropout_backward", "test_dropout_backward_hidden")
    refused = "refused: symbolic link"
    return [
        # ids that a spreadsheet would run as formulas: graded as anyone (inert in the CSV files)
        folder_case(N, "=1+1", solution(N), full_marks=True, note="id is a formula: graded, written inert"),
        folder_case(N, "+cmd", exercise(N), status="graded", note="id starts with +: the blank exercise, 0"),
        folder_case(T, "-2", solution(T), full_marks=True, note="id starts with -: graded, written inert"),
        folder_case(D, "@SUM(A1)", solution(D), full_marks=True, note="id starts with @: graded, written inert"),
        folder_case(N, "\t=x", solution(N), status="not a usable student id", refused=True,
                    note="a tab in the id: a row, nothing else (and inert in the CSV)"),
        # links to a classmate's work: refused with a row that has the maximum, never graded as theirs
        _linked("linked-student-folder", D, refused, _student_folder_link, elsewhere=refused,
                note="the student folder links to real work outside"),
        _linked("linked-assignment-folder", N, refused, _assignment_folder_link,
                note="the assignment folder is a link"),
        _linked("linked-notebook", T, refused, _notebook_link, note="the notebook is a link"),
        _linked("linked-zip", N, refused, _zip_link, elsewhere=refused, note="the zip is a link"),
        _linked("zip-holding-a-link", N, "unsafe zip (symbolic link", _write_zip_with_link,
                elsewhere="unsafe zip (symbolic link", note="a link member inside the zip"),
        # files nested too deeply for a recursive parser: a status for that row only
        folder_case(N, "deep-notebook", _deep(200_000), status="unreadable notebook (too deeply nested)",
                    note="200,000 nested lists"),
        folder_case(D, "deep-metadata", _deep_dropout_metadata(200_000), status="unreadable notebook (too deeply nested)",
                    note="a valid notebook with 200,000 nested lists in its metadata"),
        folder_case(T, "notebook-is-a-list", b"[1, 2, 3]", status="unreadable notebook",
                    note="JSON, but not an object: unreadable, not a grader failure"),
        # results that are not real numbers: exactly that function's tests lost, with a message
        folder_case(N, "complex-min-max", append(solution(N), "min_max_scale", COMPLEX_MIN_MAX),
                    at_most=max_score(N) - min_max, at_least=max_score(N) - min_max,
                    note="min_max_scale returns complex numbers (right real part)"),
        folder_case(D, "complex-backward", append(solution(D), "dropout_backward", COMPLEX_BACKWARD),
                    at_most=max_score(D) - backward, note="dropout_backward returns complex128"),
        # text from the sandbox in front of the instructor: no credit, never in the class report
        folder_case(N, "forged-check-failure", replace(replace(replace(solution(N), "min_max_scale", FORGED_FAILURE),
                                                                "z_score_fit", "pass"), "z_score_transform", "pass"),
                    status="", note="raises CheckFailed with its own words and a mistake id"),
        # output while probed (visible and hidden probes): dropped, full marks
        folder_case(N, "raises-its-inputs", append(solution(N), "min_max_scale", RAISES_ITS_INPUTS),
                    at_most=max_score(N) - points(N, "test_min_max_scale", "test_min_max_scale_hidden"),
                    note="raises an error whose text holds its inputs: hidden tests' feedback does not show it"),
        folder_case(N, "prints-while-probed", append(solution(N), "min_max_scale", PRINTS_WHILE_PROBED_PLAIN),
                    full_marks=True, note="prints its inputs each time it is called"),
        # markup where the learner controls text: printed, in an error, in the notebook's metadata, in the id
        folder_case(N, "markup-in-outputs", insert_after(solution(N), "z_score_transform", MARKUP_IN_OUTPUTS),
                    full_marks=True, note="prints a script and raises an error whose message is markup"),
        folder_case(D, "markup-in-metadata", _markup_in_metadata(D), full_marks=True,
                    note="script in the notebook's title, authors and language name"),
        folder_case(N, MARKUP_ID, exercise(N), note="the id itself is markup: escaped in feedback and report"),
    ]


def _deep_dropout_metadata(depth: int) -> bytes:
    text = json.dumps(solution(D))
    marker = '"metadata": {'
    assert marker in text
    return text.replace(marker, marker + '"deep": ' + "[" * depth + "]" * depth + ", ", 1).encode()
