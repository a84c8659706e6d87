"""Both sides of the gate, graded by nbgrader itself: full marks, zero, and every known mistake losing points."""
from __future__ import annotations

import json

import pytest

from autograder.course import EXERCISES, Course, assignments, notebooks, total
from autograder.tests import mutants
from autograder.tests.conftest import by_assignment

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignments()


@pytest.mark.parametrize("assignment", by_assignment(ASSIGNMENTS))
def test_solution_earns_full_marks(graded, assignment):
    per_cell = graded(assignment).scores["solution"]
    lost = {cell: score for cell, score in per_cell.items() if score[0] < score[1]}
    assert per_cell and not lost, f"the solution lost points in {lost}"


@pytest.mark.parametrize("assignment", by_assignment(ASSIGNMENTS))
def test_blank_exercise_earns_zero_and_grading_completes(graded, assignment):
    scores = graded(assignment).scores
    score, maximum = total(scores["blank"])
    assert maximum == total(scores["solution"])[1] > 0
    assert score == 0
    # every submission of the batch was graded, the blank one did not stop the run
    expected = {"solution", "blank"} | {f"mutant-{m.name}" for m in mutants.for_assignment(assignment)}
    assert expected <= set(scores)


@pytest.mark.parametrize("mutant", by_assignment(mutants.ALL, lambda m: m.assignment, ids=lambda m: m.name))
def test_known_mistake_loses_points_and_gets_its_hint(graded, mutant):
    result = graded(mutant.assignment)
    per_cell = result.scores[f"mutant-{mutant.name}"]
    for cell in mutant.fails:
        score, maximum = per_cell[cell]
        assert score < maximum, f"{mutant.name} kept full marks in {cell}"
    outputs = result.course.autograded_outputs(f"mutant-{mutant.name}", mutant.assignment)
    messages = "\n".join(outputs.get(cell, "") for cell in mutant.fails)
    assert mutant.hint in messages, f"{mutant.name}: hint {mutant.hint!r} not in the feedback:\n{messages[:3000]}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_exercises_are_generated_from_solutions(tmp_path, assignment):
    """exercises/ holds exactly what `nbgrader generate_assignment` makes from solutions/ now."""
    course = Course.create(tmp_path)
    generated = course.generate(assignment)
    committed = EXERCISES / assignment
    names = sorted(p.name for p in generated.iterdir())
    assert names == sorted(p.name for p in committed.iterdir()), "run: nbgrader generate_assignment --force " + assignment
    for name in names:
        fresh, ours = json.loads((generated / name).read_text()), json.loads((committed / name).read_text())
        assert fresh == ours, f"exercises/{assignment}/{name} is stale: run `nbgrader generate_assignment {assignment} --force`"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_a_known_mistake(assignment):
    """Each solution cell is targeted by at least one mutant."""
    from autograder.tests.notebook_code import nbgrader_meta, solution_notebook

    solution_cells = {nbgrader_meta(c)["grade_id"] for c in solution_notebook(assignment).cells
                      if nbgrader_meta(c).get("solution")}
    targeted = {cell for m in mutants.for_assignment(assignment) for cell in m.cells}
    assert solution_cells <= targeted, f"no wrong answer tests {sorted(solution_cells - targeted)}"
