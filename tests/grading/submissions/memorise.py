"""Answers to the visible tests, worked out here (the honest side) for a learner who memorises them.

A memorising notebook holds a table keyed by the visible tests' inputs and
returns zeros for anything else. Under ``nbgrader autograde`` it would pass
the visible tests; the class grader gives every test fresh inputs (fresh
seeds), so it must earn nothing.
"""
from __future__ import annotations

import importlib

from tests.grading.submissions.common import cell_source, meta, solution, source


def solution_functions(assignment: str) -> dict:
    """The solution's functions and classes, defined from its cells."""
    import numpy as np

    namespace: dict = {"np": np}
    if assignment in ("04_batchnorm_inference", "06_dropout"):
        import torch
        namespace["torch"] = torch
    for cell in solution(assignment)["cells"]:
        if cell["cell_type"] == "code" and meta(cell).get("solution"):
            exec(compile(source(cell), f"<solution {meta(cell).get('grade_id')}>", "exec"), namespace)
    return namespace


def visible_requests(assignment: str, grade_id: str):
    """(check, learner names, parameters) of each check call in the grade cell ``grade_id``, seeds as written."""
    from grader import cells

    nb = solution(assignment)
    course = [source(c) for c in nb["cells"] if c["cell_type"] == "code"
              and (meta(c).get("locked") or meta(c).get("grade"))]
    text = cell_source(assignment, grade_id)
    grade_cell = cells.GradeCell(0, grade_id, text, cells.cell_namespace(course, text))
    found = []
    for request in cells.collect(grade_cell, None):
        module, name = request.check.split(":")
        found.append((getattr(importlib.import_module(module), name), request.learners, request.params))
    return found


def key_of(array) -> str:
    """The key a memorising notebook computes from an input array (same expression on both sides)."""
    import numpy as np

    return repr((tuple(array.shape), round(float(np.sum(array)), 6)))


KEY_CODE = "repr((tuple({0}.shape), round(float(np.sum({0})), 6)))"


def table(assignment: str, grade_id: str, function: str, input_key: str, output_key: str) -> dict[str, object]:
    """key of inputs[input_key] -> what the solution's ``function`` gave (record[output_key]), for the visible
    calls of grade cell ``grade_id`` that test ``function`` alone."""
    import numpy as np

    functions = solution_functions(assignment)
    answers = {}
    for check, learners, params in visible_requests(assignment, grade_id):
        if learners != [function]:
            continue
        inputs = check.inputs(**params)
        record = check.run_probe([functions[function]], params)
        value = dict.get(record, output_key)
        if value is None:
            continue
        if isinstance(value, tuple):
            value = [np.asarray(v).tolist() for v in value]
        else:
            value = np.asarray(value).tolist()
        answers[key_of(inputs[input_key])] = value
    if not answers:
        raise AssertionError(f"no visible test of {function} in {grade_id}")
    return answers
