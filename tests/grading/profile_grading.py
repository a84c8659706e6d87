"""CPU seconds (user+sys of every child process) of each step of test_grading.py's fixture, per chapter.

    python -m tests.grading.profile_grading [--nbgrader-only] [--mutant-demo] [--cold-kernels] [ASSIGNMENT ...]

Measures CPU rather than wall time, so figures hold on a busy machine. The steps are the ones
``tests/grading/conftest.py`` runs: generate the exercise, nbgrader autograde of the solution, the blank
and every mutant, the class command over the same submissions, and the feedback pages. ``--nbgrader-only``
leaves the command out; ``--mutant-demo`` grades the mutants with the demo after their last test, as the tests
did before (the figures of both are in the report of issue 20); ``--cold-kernels`` starts each of nbgrader's
kernels as nbgrader does by default instead of forking them from a warm one (``forking_kernels.py``).
"""
from __future__ import annotations

import resource
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from autograder.course import assignments
from tests.grading import conftest


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _step(figures: dict, name: str):
    cpu, wall = _cpu(), time.perf_counter()
    yield
    figures[name] = (_cpu() - cpu, time.perf_counter() - wall)


def profile(assignment: str, command: bool = True, mutant_demo: bool = False, cold: bool = False) -> dict:
    figures: dict = {}
    root = Path(tempfile.mkdtemp(prefix=f"profile-{assignment}-"))
    graded = conftest.grade_assignment(assignment, root, command=command, steps=figures, mutant_demo=mutant_demo,
                                        cold_kernels=cold)
    assert not command or graded.command_run.returncode == 0, graded.command_run.stderr[-3000:]
    with _step(figures, "generate_feedback"):
        graded.course.feedback(assignment)
    return figures


def main(names: list[str]) -> None:
    command, demo, cold = "--nbgrader-only" not in names, "--mutant-demo" in names, "--cold-kernels" in names
    names = [name for name in names if not name.startswith("--")]
    for assignment in names or assignments():
        figures = profile(assignment, command, demo, cold)
        print(assignment, "  ".join(f"{name}: {cpu:.1f} s CPU ({wall:.0f} s wall)"
                                    for name, (cpu, wall) in figures.items()), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
