"""What every chapter's cases share: the notebooks, their points, the ``Case`` and ways of writing a submission.

The points come from the solution notebooks' grade cells (what nbgrader's
gradebook holds), so an expectation such as "loses the z_score_transform
tests" is written as ``max_score(A) - points(A, "test_z_score_transform",
"test_z_score_transform_hidden")``, never as a number that could drift.
"""
from __future__ import annotations

import copy
import io
import json
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from autograder.course import EXERCISES, notebooks

ASSIGNMENTS = ("01_normalization", "03_batchnorm_training", "04_batchnorm_inference", "06_dropout")


# ---------------------------------------------------------------- the course's notebooks

@lru_cache(maxsize=None)
def _text(path: Path) -> str:
    return path.read_text()


def notebook_name(assignment: str) -> str:
    (path,) = notebooks(assignment)
    return path.name


def solution(assignment: str) -> dict:
    """A fresh copy of the solution notebook (with its hidden tests)."""
    (path,) = notebooks(assignment)
    return json.loads(_text(path))


def exercise(assignment: str) -> dict:
    """A fresh copy of the released exercise (what a learner starts from)."""
    return json.loads(_text(EXERCISES / assignment / notebook_name(assignment)))


def meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def source(cell) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


@lru_cache(maxsize=None)
def grade_points(assignment: str) -> dict[str, float]:
    """grade_id -> points of every grade cell of the solution notebook."""
    return {meta(c)["grade_id"]: float(meta(c).get("points", 0)) for c in solution(assignment)["cells"]
            if meta(c).get("grade")}


def max_score(assignment: str) -> float:
    return sum(grade_points(assignment).values())


def points(assignment: str, *grade_ids: str) -> float:
    table = grade_points(assignment)
    return sum(table[g] for g in grade_ids)


def cell_source(assignment: str, grade_id: str) -> str:
    for cell in solution(assignment)["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            return source(cell)
    raise KeyError(grade_id)


def hidden_test_lines(assignment: str) -> list[str]:
    """The lines between BEGIN and END HIDDEN TESTS (long enough not to match by chance)."""
    lines = []
    for cell in solution(assignment)["cells"]:
        text = source(cell)
        if "### BEGIN HIDDEN TESTS" in text:
            region = text.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
            lines += [line.strip() for line in region.splitlines() if len(line.strip()) > 12]
    return lines


# ---------------------------------------------------------------- editing a notebook

def replace(nb: dict, grade_id: str, text: str) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            cell["source"] = text
            return nb
    raise KeyError(grade_id)


def replace_all(nb: dict, sources: dict[str, str]) -> dict:
    for grade_id, text in sources.items():
        nb = replace(nb, grade_id, text)
    return nb


def prepend(nb: dict, grade_id: str, text: str) -> dict:
    """``text`` put before the current source of the cell ``grade_id``."""
    for cell in nb["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            return replace(nb, grade_id, text + "\n" + source(cell))
    raise KeyError(grade_id)


def append(nb: dict, grade_id: str, text: str) -> dict:
    for cell in nb["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            return replace(nb, grade_id, source(cell) + "\n" + text)
    raise KeyError(grade_id)


def insert_after(nb: dict, grade_id: str, text: str, metadata: dict | None = None, cell_type: str = "code") -> dict:
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb["cells"]):
        if meta(cell).get("grade_id") == grade_id:
            new = {"cell_type": cell_type, "metadata": metadata or {}, "source": text}
            if cell_type == "code":
                new.update(execution_count=None, outputs=[])
            nb["cells"].insert(index + 1, new)
            return nb
    raise KeyError(grade_id)


def without_grade_cells(nb: dict, grade_ids) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if meta(c).get("grade_id") not in set(grade_ids)]
    return nb


def with_grade_cells(nb: dict, change: Callable[[dict], None]) -> dict:
    """A copy of ``nb`` where ``change(cell)`` was applied to every grade cell."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if meta(cell).get("grade"):
            change(cell)
    return nb


def dumps(nb: dict) -> bytes:
    return json.dumps(nb).encode()


# ---------------------------------------------------------------- a case

@dataclass(frozen=True)
class Case:
    student: str
    assignment: str
    write: Callable[[Path], None]    # writes the submission under SUBMISSIONS
    status: str = "graded"           # grades.csv status must contain this
    full_marks: bool = False         # correct work: the assignment's maximum
    at_most: float = 0.0             # otherwise: no more than this score (0: no credit at all)
    at_least: float | None = None    # and, where stated, no less (what a crash costs, not more)
    note: str = ""
    refused: bool = False            # the id itself is refused: a row per assignment, no gradebook entry
    elsewhere: str = "no submission"  # the status of this student's rows for the other assignments


def folder_case(assignment: str, student: str, content, status: str = "graded", full_marks: bool = False,
                at_most: float = 0.0, at_least: float | None = None, name: str | None = None, note: str = "",
                extra_files: dict[str, bytes] | None = None, refused: bool = False) -> Case:
    """``SUBMISSIONS/<student>/<assignment>/<notebook>`` (nbgrader's layout); ``content`` a dict, bytes or None."""
    filename = name or notebook_name(assignment)

    def write(root: Path):
        folder = root / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        if content is not None:
            (folder / filename).write_bytes(content if isinstance(content, bytes) else dumps(content))
        for relative, payload in (extra_files or {}).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(payload)

    return Case(student, assignment, write, status, full_marks, at_most, at_least, note, refused,
                status if refused else "no submission")


def zip_case(assignment: str, student: str, members: dict[str, bytes], status: str, full_marks: bool = False,
             at_most: float = 0.0, note: str = "") -> Case:
    def write(root: Path):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            for name, data in members.items():
                bundle.writestr(name, data)
        (root / f"{student}.zip").write_bytes(buffer.getvalue())

    # a zip that cannot be unpacked is the same problem for every assignment
    return Case(student, assignment, write, status, full_marks, at_most, None, note,
                elsewhere="no submission" if status == "graded" else status)


def symlink_case(assignment: str, student: str, target: str, note: str = "") -> Case:
    """A student folder that is a symbolic link to another student's folder."""
    def write(root: Path):
        (root / student).symlink_to(root / target, target_is_directory=True)

    return Case(student, assignment, write, "symbolic link", False, 0.0, None, note, refused=True,
                elsewhere="symbolic link")
