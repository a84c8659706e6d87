"""Both sides of the gate, graded by nbgrader itself: full marks, zero, and every known mistake losing points.

One test class per assignment (made at the bottom of this file), so that
``pytest -n auto --dist loadscope`` grades different assignments on different
workers, each exactly once.
"""
from __future__ import annotations

import html
import json
import re

import pytest

from autograder.course import EXERCISES, assignments, total
from tests.grading import mutants
from tests.grading.conftest import KOREAN, GradedAssignment, grade_assignment, student
from tests.grading.notebook_code import nbgrader_meta, solution_notebook


# What only the command reads in the learner's cells: a forbidden reference (that test scores 0) and
# hidden code such as torch._VF or torch.ops (the whole notebook scores 0).
COMMAND_ONLY = ("ForbiddenReference: not graded", "HiddenCode: not graded")


def pytest_generate_tests(metafunc):
    if "mutant" in metafunc.fixturenames:
        metafunc.parametrize("mutant", mutants.for_assignment(metafunc.cls.assignment), ids=lambda m: m.name)
    if "lang" in metafunc.fixturenames:
        metafunc.parametrize("lang", ["en", "ko"])


def _needs(graded: GradedAssignment, lang: str) -> None:
    if lang not in graded.languages:
        pytest.skip(f"{graded.assignment} has no notebook in {lang!r} yet (locale/{lang}/LC_MESSAGES/notebooks/)")


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

    def test_solution_earns_full_marks(self, graded, lang):
        _needs(graded, lang)
        per_cell = graded.scores[student("solution", lang)]
        lost = {cell: score for cell, score in per_cell.items() if score[0] < score[1]}
        assert per_cell and not lost, f"the solution lost points in {lost}"

    def test_blank_exercise_earns_zero_and_grading_completes(self, graded, lang):
        _needs(graded, lang)
        score, maximum = total(graded.scores[student("blank", lang)])
        assert maximum == total(graded.scores["solution"])[1] > 0
        assert score == 0
        # every submission of the batch was graded: the blank one did not stop the run
        expected = {"solution", "blank", f"mutant-{mutants.for_assignment(self.assignment)[0].name}"}
        if "ko" in graded.languages:
            expected |= set(KOREAN.values())
        assert expected <= set(graded.scores)

    def test_known_mistake_loses_points_and_gets_its_hint(self, graded, mutant):
        """Every known wrong answer, graded by the command (fresh seeds, in the sandbox): its cells lose points and
        say its hint, or for one that uses a library the exercise forbids or hides what it runs, that reason. The
        same cells in process (a learner's Jupyter): test_grade_cells_in_process.py; by nbgrader: the first one,
        in test_class_command_scores_every_submission_as_nbgrader_does."""
        per_cell = graded.command_scores[f"mutant-{mutant.name}"]
        for cell in mutant.fails:
            score, maximum = per_cell[cell]
            assert score < maximum, f"{mutant.name} kept full marks in {cell}"
        outputs = graded.command.autograded_outputs(f"mutant-{mutant.name}", self.assignment)
        messages = "\n".join(outputs.get(cell, "") for cell in mutant.fails)
        assert mutant.hint in messages or any(reason in messages for reason in COMMAND_ONLY), \
            f"{mutant.name}: hint {mutant.hint!r} not in:\n{messages[:3000]}"

    def test_class_command_gives_full_marks_and_zero(self, graded, lang):
        """The course command (sandbox, verdicts outside it, fresh seeds) grades the solution and the blank right."""
        from tests.grading.grade_helpers import require_bwrap

        require_bwrap()
        _needs(graded, lang)
        run = graded.command_run
        assert run.returncode == 0, f"grading failed:\n{run.stdout}\n{run.stderr[-5000:]}"
        solution = student("solution", lang)
        per_cell = graded.command_scores[solution]
        lost = {cell: score for cell, score in per_cell.items() if score[0] < score[1]}
        assert per_cell and not lost, \
            f"the solution lost points through the command in {lost}:\n{_replay(graded, solution, lost)}"
        assert total(graded.command_scores[student("blank", lang)])[0] == 0
        wrong = {f"mutant-{m.name}" for m in mutants.for_assignment(self.assignment)}
        assert set(graded.command_scores) == set(graded.scores) | wrong

    def test_class_command_scores_every_submission_as_nbgrader_does(self, graded):
        """Every submission nbgrader graded (solution, blank, the first wrong answer, the Korean ones): the same
        points per test cell both ways, except where only the command reads a forbidden reference or hidden code
        in the learner's cells (``COMMAND_ONLY``)."""
        assert graded.command_scores is not None
        differ = {}
        for student in graded.scores:
            cells = graded.command_scores[student]
            outputs = graded.command.autograded_outputs(student, self.assignment)
            for cell, score in cells.items():
                theirs = graded.scores[student].get(cell)
                refused = any(reason in outputs.get(cell, "") for reason in COMMAND_ONLY)
                if score != theirs and not (refused and score[0] < theirs[0]):
                    differ.setdefault(student, {})[cell] = (theirs, score)
        assert not differ, f"nbgrader (first) and the command (second) disagree: {differ}\n" + "\n".join(
            _replay(graded, student, cells) for student, cells in differ.items())

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
        if "ko" in graded.languages:  # the Korean blank's page (plain nbgrader): Korean words, Korean messages
            ko_blank = html.unescape(next(p for p in pages if p.parent.parent.name == KOREAN["blank"]).read_text())
            assert "아직 구현되지 않았습니다" in ko_blank and "점수: 0.0" in ko_blank and '<html lang="ko">' in ko_blank
            assert "not implemented yet" not in ko_blank and "Score:" not in ko_blank

    def test_korean_notebook_speaks_korean_and_scores_as_english(self, graded):
        """One gradebook for both languages: the Korean solution, blank and known wrong answer score what the
        English ones score, cell by cell, both ways; the wrong answer's mistake is named in Korean, its feedback
        page is Korean and links into the Korean edition of the book."""
        _needs(graded, "ko")
        first = mutants.for_assignment(self.assignment)[0]
        pairs = [("solution", KOREAN["solution"]), ("blank", KOREAN["blank"]), (f"mutant-{first.name}", KOREAN["mutant"])]
        for english, korean in pairs:
            assert graded.scores[korean] == graded.scores[english], f"nbgrader: {korean} and {english} differ"
        for cell in first.fails:
            assert graded.scores[KOREAN["mutant"]][cell][0] < graded.scores[KOREAN["mutant"]][cell][1]
        ko_out = graded.course.autograded_outputs(KOREAN["mutant"], self.assignment)
        messages = "\n".join(ko_out.get(cell, "") for cell in first.fails)
        assert re.search("[가-힣]{4}", messages), messages[:2000]
        if graded.command_scores is None:
            return
        for english, korean in pairs[:2]:  # the wrong answer's fresh seeds differ by student: pass/fail is compared
            assert graded.command_scores[korean] == graded.command_scores[english], f"command: {korean} / {english}"
        lost = {c for c, (s, m) in graded.command_scores[KOREAN["mutant"]].items() if s < m}
        assert set(first.fails) <= lost
        out = graded.command.root.parent
        results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]
        named = {m for r in results if r.get("student_id") == KOREAN["mutant"] for m in r.get("mistakes") or []}
        english = {m for r in results if r.get("student_id") == f"mutant-{first.name}" for m in r.get("mistakes") or []}
        assert named == english
        command_out = graded.command.autograded_outputs(KOREAN["mutant"], self.assignment)
        words = "\n".join(command_out.get(cell, "") for cell in first.fails)
        assert re.search("[가-힣]{4}", words), words[:2000]
        (page,) = (out / "feedback" / KOREAN["mutant"] / self.assignment).glob("*.html")
        text = html.unescape(page.read_text())
        assert '<html lang="ko">' in text and "점수:" in text and "Score:" not in text
        from autograder.mistakes import describe
        from normreg.i18n import set_language

        set_language("ko")
        try:  # the feedback page names each recognised mistake in Korean, linked into the Korean edition
            for mistake in named:
                assert describe(mistake) in text, f"{mistake} not named in Korean in {page}"
        finally:
            set_language(None)
        if named:
            assert "알아낸 실수:" in text and "/ko/book/" in text

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
        if "ko" in graded.languages:  # exercises/ko/: the fresh English exercise translated from the catalog now
            from autograder.notebooks import exercises_dir, generated as translated

            committed = exercises_dir("ko") / self.assignment
            fresh = translated(self.assignment, "ko", english=graded.course.root / "exercises")
            assert sorted(fresh) == sorted(p.name for p in committed.iterdir())
            for name, text in fresh.items():
                assert json.loads(text) == json.loads((committed / name).read_text()), \
                    f"exercises/ko/{self.assignment}/{name} is stale: run `python -m autograder.notebooks generate " \
                    f"{self.assignment}` and commit exercises/ko/"

    def test_every_graded_function_has_a_known_mistake(self):
        solution_cells = {nbgrader_meta(c)["grade_id"] for c in solution_notebook(self.assignment).cells
                          if nbgrader_meta(c).get("solution")}
        targeted = {cell for m in mutants.for_assignment(self.assignment) for cell in m.cells}
        assert solution_cells <= targeted, f"no wrong answer tests {sorted(solution_cells - targeted)}"


for _assignment in assignments():
    _name = "TestAssignment_" + _assignment
    globals()[_name] = pytest.mark.slow(type(_name, (GradingChecks,), {"assignment": _assignment}))
