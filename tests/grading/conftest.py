"""Grading an assignment once for all the tests that read its results."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import Course, notebooks
from tests.grading import mutants
from tests.grading.notebook_code import solution_notebook, with_replaced_cells


@dataclass
class GradedAssignment:
    assignment: str
    course: Course
    scores: dict  # {student: {grade_id: (score, max_score)}}, by nbgrader autograde
    command: Course | None = None       # the course folder `python -m autograder grade` wrote
    command_scores: dict | None = None  # the same submissions, by the class-grading command
    command_run: object = None          # its CompletedProcess


def grade_assignment(assignment: str, root, command: bool = True) -> GradedAssignment:
    """Generate the exercise in a scratch course and autograde, in one nbgrader run:
    the solution (student ``solution``), the untouched exercise (``blank``) and
    every known-wrong answer (``mutant-<name>``); then grade the same submissions
    with ``python -m autograder grade`` (one worker: pytest runs assignments in parallel)."""
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
    graded = GradedAssignment(assignment, course, course.scores(assignment))
    if command:
        from tests.grading.grade_helpers import grade

        out = Path(root) / "command"
        graded.command_run = grade(course.root / "submitted", out, "--workers", "1", assignment=assignment,
                                   timeout=1200)
        graded.command = Course(out / "course")
        graded.command_scores = graded.command.scores(assignment)
    return graded


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of check tests: tiny tensors, and other processes share the cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
