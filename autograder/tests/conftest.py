"""One grading run per assignment, shared by the tests that read its results.

For every assignment the fixture generates the exercise in a scratch course,
submits the solution (student ``solution``), the untouched exercise (student
``blank``) and every known-wrong answer (one student per mutant), and runs
``nbgrader autograde`` once over all of them.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from autograder.course import Course, assignments, notebooks
from autograder.tests import mutants
from autograder.tests.notebook_code import solution_notebook, with_replaced_cells


@dataclass
class GradedAssignment:
    assignment: str
    course: Course
    scores: dict  # {student: {grade_id: (score, max_score)}}


def grade_assignment(assignment: str, root) -> GradedAssignment:
    course = Course.create(root)
    exercise_dir = course.generate(assignment)
    (solution_path,) = notebooks(assignment)
    course.submit("solution", assignment, solution_path)
    (exercise_path,) = sorted(exercise_dir.glob("*.ipynb"))
    course.submit("blank", assignment, exercise_path)
    source = solution_notebook(assignment)
    for mutant in mutants.for_assignment(assignment):
        course.submit(f"mutant-{mutant.name}", assignment,
                      with_replaced_cells(source, mutant.cells), name=solution_path.name)
    course.autograde(assignment)
    return GradedAssignment(assignment, course, course.scores(assignment))


@pytest.fixture(scope="session")
def graded(tmp_path_factory):
    """``graded(assignment)`` grades that assignment once per test session and caches it.

    Tests of one assignment share an xdist group (see ``by_assignment``), so
    with ``pytest -n 2 --dist loadgroup`` each assignment is graded on one worker.
    """
    cache: dict[str, GradedAssignment] = {}

    def get(assignment: str) -> GradedAssignment:
        if assignment not in cache:
            cache[assignment] = grade_assignment(assignment, tmp_path_factory.mktemp(f"course-{assignment}"))
        return cache[assignment]

    return get


def by_assignment(values, assignment_of=lambda v: v, ids=None):
    """pytest.param for each value, grouped for xdist by its assignment."""
    return [pytest.param(v, marks=pytest.mark.xdist_group(assignment_of(v)), id=ids(v) if ids else None) for v in values]
