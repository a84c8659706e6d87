"""Both sides of the gate, graded by nbgrader itself: full marks, zero, and every known mistake losing points.

One test class per assignment (made at the bottom of this file), so that
``pytest -n auto --dist loadscope`` grades different assignments on different
workers, each exactly once.
"""
from __future__ import annotations

import html
import json

import pytest

from autograder.course import EXERCISES, assignments, total
from tests.grading import mutants
from tests.grading.conftest import GradedAssignment, grade_assignment
from tests.grading.notebook_code import nbgrader_meta, solution_notebook


# What only the command reads in the learner's cells: a forbidden reference (that test scores 0) and
# hidden code such as torch._VF or torch.ops (the whole notebook scores 0).
COMMAND_ONLY = ("ForbiddenReference: not graded", "HiddenCode: not graded")


def pytest_generate_tests(metafunc):
    if "mutant" in metafunc.fixturenames:
        metafunc.parametrize("mutant", mutants.for_assignment(metafunc.cls.assignment), ids=lambda m: m.name)


@pytest.fixture(scope="class")
def graded(request, tmp_path_factory) -> GradedAssignment:
    """The class's assignment, graded once for all its tests."""
    assignment = request.cls.assignment
    return grade_assignment(assignment, tmp_path_factory.mktemp(f"course-{assignment}"))


def _replay(graded: GradedAssignment, student: str, cells) -> str:
    """What the command wrote in these cells, and the run's secret: with it in ``OUT/.grading/secret`` a
    regrade draws the same fresh seeds (``grader.cells.seed_maker``), so a failure seen once can be replayed."""
    outputs = graded.command.autograded_outputs(student, graded.assignment)
    secret = (graded.command.root.parent / ".grading" / "secret").read_text().strip()
    shown = "\n".join(f"--- {cell}:\n{outputs.get(cell, '(no output)')[:3000]}" for cell in cells)
    return f"{shown}\n(grading secret of this run: {secret})"


class GradingChecks:
    """The tests every assignment must pass; subclasses set ``assignment``."""

    assignment: str

    def test_solution_earns_full_marks(self, graded):
        per_cell = graded.scores["solution"]
        lost = {cell: score for cell, score in per_cell.items() if score[0] < score[1]}
        assert per_cell and not lost, f"the solution lost points in {lost}"

    def test_blank_exercise_earns_zero_and_grading_completes(self, graded):
        score, maximum = total(graded.scores["blank"])
        assert maximum == total(graded.scores["solution"])[1] > 0
        assert score == 0
        # every submission of the batch was graded: the blank one did not stop the run
        expected = {"solution", "blank"} | {f"mutant-{m.name}" for m in mutants.for_assignment(self.assignment)}
        assert expected <= set(graded.scores)

    def test_known_mistake_loses_points_and_gets_its_hint(self, graded, mutant):
        per_cell = graded.scores[f"mutant-{mutant.name}"]
        for cell in mutant.fails:
            score, maximum = per_cell[cell]
            assert score < maximum, f"{mutant.name} kept full marks in {cell}"
        outputs = graded.course.autograded_outputs(f"mutant-{mutant.name}", self.assignment)
        messages = "\n".join(outputs.get(cell, "") for cell in mutant.fails)
        assert mutant.hint in messages, f"{mutant.name}: hint {mutant.hint!r} not in the feedback:\n{messages[:3000]}"

    def test_class_command_gives_full_marks_and_zero(self, graded):
        """The course command (sandbox, verdicts outside it, fresh seeds) grades the solution and the blank right."""
        from tests.grading.grade_helpers import require_bwrap

        require_bwrap()
        run = graded.command_run
        assert run.returncode == 0, f"grading failed:\n{run.stdout}\n{run.stderr[-5000:]}"
        per_cell = graded.command_scores["solution"]
        lost = {cell: score for cell, score in per_cell.items() if score[0] < score[1]}
        assert per_cell and not lost, \
            f"the solution lost points through the command in {lost}:\n{_replay(graded, 'solution', lost)}"
        assert total(graded.command_scores["blank"])[0] == 0
        assert set(graded.command_scores) == set(graded.scores)

    def test_class_command_scores_every_submission_as_nbgrader_does(self, graded):
        """Solution, blank and every mutant: the same points per test cell both ways, except where only
        the command reads a forbidden reference or hidden code in the learner's cells (``COMMAND_ONLY``)."""
        assert graded.command_scores is not None
        differ = {}
        for student, cells in graded.command_scores.items():
            outputs = graded.command.autograded_outputs(student, self.assignment)
            for cell, score in cells.items():
                theirs = graded.scores[student].get(cell)
                refused = any(reason in outputs.get(cell, "") for reason in COMMAND_ONLY)
                if score != theirs and not (refused and score[0] < theirs[0]):
                    differ.setdefault(student, {})[cell] = (theirs, score)
        assert not differ, f"nbgrader (first) and the command (second) disagree: {differ}\n" + "\n".join(
            _replay(graded, student, cells) for student, cells in differ.items())

    def test_class_command_feedback_names_the_mistake(self, graded, mutant):
        """The hint, or for a mutant that uses a library the exercise forbids or hides what it runs, that reason."""
        outputs = graded.command.autograded_outputs(f"mutant-{mutant.name}", self.assignment)
        messages = "\n".join(outputs.get(cell, "") for cell in mutant.fails)
        assert mutant.hint in messages or any(reason in messages for reason in COMMAND_ONLY), \
            f"{mutant.name}: hint {mutant.hint!r} not in:\n{messages[:3000]}"

    def test_feedback_never_shows_hidden_test_source(self, graded):
        """Hidden tests' lines appear in no student's feedback, though their scores and messages do."""
        hidden_lines = []
        for cell in solution_notebook(self.assignment).cells:
            if "### BEGIN HIDDEN TESTS" in cell.source:
                region = cell.source.split("### BEGIN HIDDEN TESTS")[1].split("### END HIDDEN TESTS")[0]
                hidden_lines += [line.strip() for line in region.splitlines() if len(line.strip()) > 12]
        assert hidden_lines
        pages = sorted(graded.course.feedback(self.assignment).glob(f"*/{self.assignment}/*.html"))
        assert {p.parent.parent.name for p in pages} >= {"solution", "blank"}
        for page in pages:
            text = html.unescape(page.read_text())
            leaked = [line for line in hidden_lines if line in text]
            assert not leaked, f"{page.parent.parent.name}'s feedback shows hidden tests: {leaked[:3]}"
        blank = html.unescape(next(p for p in pages if p.parent.parent.name == "blank").read_text())
        assert "not implemented yet" in blank and "Score: 0.0" in blank

    def test_exercises_are_generated_from_solutions(self, graded):
        """exercises/ holds exactly what `nbgrader generate_assignment` makes from solutions/ now (the fixture's
        run, on a fresh copy of solutions/: a second run cost 7 s of CPU a chapter for the same files)."""
        generated = graded.course.root / "exercises" / self.assignment
        committed = EXERCISES / self.assignment
        fix = f"run `nbgrader generate_assignment {self.assignment} --force` and commit exercises/"
        names = sorted(p.name for p in generated.iterdir())
        assert names == sorted(p.name for p in committed.iterdir()), fix
        for name in names:
            fresh, ours = json.loads((generated / name).read_text()), json.loads((committed / name).read_text())
            assert fresh == ours, f"exercises/{self.assignment}/{name} is stale: {fix}"

    def test_every_graded_function_has_a_known_mistake(self):
        solution_cells = {nbgrader_meta(c)["grade_id"] for c in solution_notebook(self.assignment).cells
                          if nbgrader_meta(c).get("solution")}
        targeted = {cell for m in mutants.for_assignment(self.assignment) for cell in m.cells}
        assert solution_cells <= targeted, f"no wrong answer tests {sorted(solution_cells - targeted)}"


for _assignment in assignments():
    _name = "TestAssignment_" + _assignment
    globals()[_name] = pytest.mark.slow(type(_name, (GradingChecks,), {"assignment": _assignment}))
