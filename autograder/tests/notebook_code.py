"""Reading and rewriting the course's notebooks for tests."""
from __future__ import annotations

import copy
import textwrap

import nbformat

from autograder.course import notebooks


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_notebook(assignment: str) -> nbformat.NotebookNode:
    """The (single) solution notebook of an assignment."""
    (path,) = notebooks(assignment)
    return nbformat.read(path, as_version=4)


def with_replaced_cells(notebook: nbformat.NotebookNode, replacements: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose cells with these grade ids hold new source."""
    result = copy.deepcopy(notebook)
    found = set()
    for cell in result.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in replacements:
            cell.source = textwrap.dedent(replacements[grade_id]).strip("\n")
            found.add(grade_id)
    missing = set(replacements) - found
    if missing:
        raise KeyError(f"no cells with grade ids {sorted(missing)}")
    return result


def learner_namespace(notebook: nbformat.NotebookNode) -> dict:
    """Execute the notebook's solution cells and locked set-up cells (not tests, not demos).

    Gives the functions a learner defined, to call checks on them directly,
    much faster than a kernel.
    """
    namespace: dict = {}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta or meta.get("grade"):
            continue
        exec(compile(cell.source, meta.get("grade_id", "cell"), "exec"), namespace)
    return namespace
