"""Grading an assignment once for all the tests that read its results."""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import Course, notebooks
from tests.grading import mutants
from tests.grading.notebook_code import nbgrader_meta, solution_notebook, with_replaced_cells


@dataclass
class GradedAssignment:
    assignment: str
    course: Course
    scores: dict  # {student: {grade_id: (score, max_score)}}, by nbgrader autograde
    command: Course | None = None       # the course folder `python -m autograder grade` wrote
    command_scores: dict | None = None  # the same submissions, by the class-grading command
    command_run: object = None          # its CompletedProcess
    languages: tuple = ("en",)          # the languages its submissions were in (``KOREAN`` students: "ko")


# The Korean submissions of a chapter that has its Korean notebook (exercises/ko/), graded in the same runs as
# the English ones, into the same gradebook: the Korean solution, the Korean blank, and the first known wrong
# answer on the Korean solution (its mistake must be named in Korean).
KOREAN = {"solution": "ko-solution", "blank": "ko-blank", "mutant": "ko-mutant"}


def student(role: str, lang: str) -> str:
    """The student id of a role ("solution", "blank") in a language's submissions."""
    return role if lang == "en" else KOREAN[role]


def without_demo_after_tests(notebook):
    """A copy whose code cells after the last grade cell are empty (as a learner may clear a demo cell)."""
    result = copy.deepcopy(notebook)
    last_test = max(i for i, cell in enumerate(result.cells) if cell.cell_type == "code" and nbgrader_meta(cell).get("grade"))
    for cell in result.cells[last_test + 1:]:
        if cell.cell_type == "code" and not nbgrader_meta(cell):
            cell.source = "# (the demo after the last test: not run for this wrong answer)"
    return result


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# Appended to the scratch course's nbgrader_config.py: its nbgrader runs start their kernels as forks of one
# warm interpreter (tests/grading/forking_kernels.py), the same kernels without ~2.5 s of start-up CPU each.
FORKING_KERNELS = f"""
import sys as _sys
_sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
import tests.grading.forking_kernels as _forking_kernels
_sys.path.pop(0)
_forking_kernels.install()
"""


def grade_assignment(assignment: str, root, command: bool = True, steps: dict | None = None,
                     mutant_demo: bool = False, cold_kernels: bool = False,
                     every_mutant_by_nbgrader: bool = False) -> GradedAssignment:
    """Generate the exercise in a scratch course and autograde, in one nbgrader run:
    the solution (student ``solution``), the untouched exercise (``blank``), the first
    known-wrong answer and the Korean ones; then grade those and every other known-wrong
    answer (``mutant-<name>``) with ``python -m autograder grade`` (one worker: pytest
    runs assignments in parallel). ``every_mutant_by_nbgrader``: nbgrader grades them all.
    ``steps``: filled with {step: (CPU s of child processes, wall s)}; ``mutant_demo``: the mutants keep the demo
    after the last test, as before (both for tests/grading/profile_grading.py). nbgrader's kernels are forked from
    one warm interpreter (``forking_kernels``) unless ``cold_kernels``."""
    steps = {} if steps is None else steps
    clock = [_children_cpu(), time.perf_counter()]

    def done(step):
        steps[step] = (_children_cpu() - clock[0], time.perf_counter() - clock[1])
        clock[:] = [_children_cpu(), time.perf_counter()]

    course = Course.create(root)
    if not cold_kernels:
        with open(course.root / "nbgrader_config.py", "a") as config:
            config.write(FORKING_KERNELS)
    exercise_dir = course.generate(assignment)
    done("generate_assignment")
    (solution_path,) = notebooks(assignment)
    course.submit("solution", assignment, solution_path)
    (exercise_path,) = sorted(exercise_dir.glob("*.ipynb"))
    course.submit("blank", assignment, exercise_path)
    # The mutants leave out the demo after the last test cell (the solution and the blank keep it): a cell that
    # runs after every test cannot change a score, and it was a third of nbgrader's CPU here (chapter 4: 6 s of
    # 11 s a notebook; chapter 8: 16 s of 39 s). The command skips such cells too unless --all-cells.
    source = solution_notebook(assignment) if mutant_demo else without_demo_after_tests(solution_notebook(assignment))
    # nbgrader grades the first known wrong answer only; the command grades them all (below). Every wrong answer's
    # cells and hint are checked in process too (test_grade_cells_in_process.py: the cells a learner's Jupyter runs,
    # which are nbgrader's), and an nbgrader run costs about ten times a warm sandbox's (benchmarks/grading_speed.py):
    # grading all of them this way too was half of this suite's time.
    wrong = mutants.for_assignment(assignment)
    nbgrader_wrong = wrong if every_mutant_by_nbgrader else wrong[:1]
    for mutant in nbgrader_wrong:
        course.submit(f"mutant-{mutant.name}", assignment,
                      with_replaced_cells(source, mutant.cells), name=solution_path.name)
    languages = ("en",)
    from autograder.notebooks import translate_notebook, translated_assignments

    if assignment in translated_assignments("ko"):
        import nbformat

        languages = ("en", "ko")
        # the Korean solution without the demo after its last test (the English one runs it; it scores nothing)
        course.submit(KOREAN["solution"], assignment,
                      translate_notebook(without_demo_after_tests(solution_notebook(assignment)), assignment),
                      name=solution_path.name)
        course.submit(KOREAN["blank"], assignment,
                      translate_notebook(nbformat.read(exercise_path, as_version=4), assignment), name=solution_path.name)
        first = mutants.for_assignment(assignment)[0]
        course.submit(KOREAN["mutant"], assignment,
                      with_replaced_cells(translate_notebook(source, assignment), first.cells), name=solution_path.name)
    course.autograde(assignment)
    done("nbgrader autograde")
    for mutant in wrong[len(nbgrader_wrong):]:  # graded by the command only
        course.submit(f"mutant-{mutant.name}", assignment,
                      with_replaced_cells(source, mutant.cells), name=solution_path.name)
    graded = GradedAssignment(assignment, course, course.scores(assignment), languages=languages)
    if command:
        from tests.grading.grade_helpers import grade

        out = Path(root) / "command"
        graded.command_run = grade(course.root / "submitted", out, "--workers", "1", assignment=assignment,
                                   timeout=1200)
        graded.command = Course(out / "course")
        graded.command_scores = graded.command.scores(assignment)
        done("class command")
    return graded


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module of check tests: tiny tensors, and other processes share the cores."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# Seconds the slowest scopes took in CI at 46239f0 (2 cores; only their order is used). pytest-xdist's loadscope
# hands whole scopes (a class, else a module) to its workers in collection order, and by default reorders them by
# their number of tests, which once put the browser test (1 test, 127 s) last and chapter 8's grading (17 tests,
# 312 s) 16th of 34: one worker then finished alone. So the run says --no-loadscope-reorder (pyproject.toml) and
# this puts the longest scopes first (longest-processing-time-first packing), then the other slow ones, then the
# rest as collected.
SLOWEST_SCOPES = {
    "tests/grading/test_grading.py::TestAssignment_08_reproducing_batch_norm": 215,
    "tests/grading/test_grading.py::TestAssignment_07_hyperparameter_search": 125,
    "tests/grading/test_grade_batch.py": 120,
    "tests/test_book_in_browser_ko.py": 105,
    "tests/grading/test_grade_dask.py": 100,
    "tests/grading/test_grading.py::TestAssignment_04_batchnorm_inference": 95,
    "tests/test_book_in_browser.py": 92,
    "tests/grading/test_grading.py::TestAssignment_06_dropout": 85,
    "tests/grading/test_grading.py::TestAssignment_01_normalization": 80,
    "tests/grading/test_grading.py::TestAssignment_02_covariate_shift": 75,
    "tests/grading/test_grading.py::TestAssignment_05_weight_decay": 72,
    "tests/grading/test_grading.py::TestAssignment_03_batchnorm_training": 65,
}


def _scope(item) -> str:
    """The scope pytest-xdist's loadscope gives an item: its class if it has one, else its module."""
    parts = item.nodeid.split("::")
    return "::".join(parts[:2]) if len(parts) > 2 else parts[0]


def pytest_collection_modifyitems(config, items):
    """Longest scopes first (a session-wide hook: pytest calls it with every collected item)."""
    def cost(item):
        return SLOWEST_SCOPES.get(_scope(item), 60 if item.get_closest_marker("slow") else 0)

    items[:] = sorted(items, key=lambda item: -cost(item))  # stable: scopes stay whole, in their own order
