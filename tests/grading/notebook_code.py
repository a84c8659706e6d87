"""Reading and rewriting the course's notebooks for tests."""
from __future__ import annotations

import copy
import textwrap

import nbformat
import numpy as np

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
    namespace: dict = {"__name__": "__main__"}  # as a kernel's: the absent-library rule reads notebooks' namespaces
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta or meta.get("grade"):
            continue
        exec(compile(cell.source, meta.get("grade_id", "cell"), "exec"), namespace)
    return namespace


def run_grade_cells(notebook: nbformat.NotebookNode, namespace: dict | None = None,
                    errors: dict | None = None) -> dict[str, str | None]:
    """Run every grade cell in order, as a kernel would, in-process.

    ``namespace`` defaults to ``learner_namespace(notebook)``; pass another to
    grade other implementations. Returns {grade_id: None if the cell passed,
    else "ErrorName: message"}; ``errors``, if given, receives {grade_id: the exception} of the failed cells.
    """
    namespace = learner_namespace(notebook) if namespace is None else dict(namespace)
    results: dict[str, str | None] = {}
    for cell in notebook.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        try:
            with np.errstate(all="ignore"):
                exec(compile(cell.source, meta["grade_id"], "exec"), namespace)
            results[meta["grade_id"]] = None
        except Exception as error:  # a failed grade cell, whatever it raised
            results[meta["grade_id"]] = f"{type(error).__name__}: {error}"
            if errors is not None:
                errors[meta["grade_id"]] = error
    return results
