"""Every known wrong answer of exercises 7 and 8 is told its own mistake, and no other.

The mutants with a ``mistake`` (``tests/grading/mutants``: the graded ``MUTANTS`` and the broader
``HINTS``) are graded in-process, only the test cells they must fail (visible ones first): each cell must
fail, the visible one included (the learner sees the mistake before submitting); the visible cells' failures
must name exactly the mutant's mistake, and a hidden cell's failure that mistake or none (some hidden inputs
are too small to tell two mistakes apart: then no name is given, since a wrong name is worse than none). The solution's cells are
graded the same way elsewhere (test_grade_cells_in_process.py); other correct ways of writing the functions
pass the checks in test_hyperparameter_search_checks.py and test_reproducing_batch_norm_checks.py.
"""
from __future__ import annotations

import numpy as np
import pytest

from autograder.compare import CheckFailed
from tests.grading import mutants
from tests.grading.notebook_code import learner_namespace, nbgrader_meta, solution_notebook, with_replaced_cells

ASSIGNMENTS = ("07_hyperparameter_search", "08_reproducing_batch_norm")
CASES = [m for m in mutants.EVERY if m.assignment in ASSIGNMENTS]

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/grading/conftest.py


def grade_cells(mutant) -> dict[str, BaseException | None]:
    """The mutant's cells to fail, graded in-process: all of them for a graded mutant (its hidden ones are graded
    by nbgrader and the command too), the visible ones for the others (what the learner sees before submitting)."""
    notebook = with_replaced_cells(solution_notebook(mutant.assignment), mutant.cells)
    namespace = learner_namespace(notebook)
    graded = mutant in mutants.ALL
    results = {}
    for cell in notebook.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id not in mutant.fails or (grade_id.endswith("_hidden") and not graded):
            continue
        try:
            with np.errstate(all="ignore"):
                exec(compile(cell.source, grade_id, "exec"), dict(namespace))
            results[grade_id] = None
        except Exception as error:  # noqa: BLE001 -- a failed grade cell, whatever it raised
            results[grade_id] = error
    return results


def test_every_mutant_of_exercises_7_and_8_names_a_mistake():
    assert len(CASES) >= 80
    unnamed = [m.name for m in CASES if not m.mistake]
    assert not unnamed, f"mutants without the id their message must name: {unnamed}"
    visible = [m.name for m in CASES if not any(not cell.endswith("_hidden") for cell in m.fails)]
    assert not visible, f"mutants no visible test shows: {visible}"


@pytest.mark.parametrize("mutant", CASES, ids=lambda m: m.name)
def test_mutant_is_told_its_mistake_and_no_other(mutant):
    results = grade_cells(mutant)
    passed = [cell for cell in results if results[cell] is None]
    assert not passed, f"{mutant.name} passes {passed}"
    for cell, error in results.items():
        message = f"{type(error).__name__}: {error}"
        ids = set(getattr(error, "mistakes", ()) or ())
        assert isinstance(error, CheckFailed), f"{mutant.name} in {cell}: not a check's failure: {message[:2000]}"
        if cell.endswith("_hidden") and not ids:
            continue
        assert mutant.hint in message, f"{mutant.name} in {cell}: hint {mutant.hint!r} not in:\n{message[:3000]}"
        assert ids == {mutant.mistake}, f"{mutant.name} in {cell}: named {sorted(ids)}, expected {mutant.mistake}:\n{message[:3000]}"


# ---------------------------------------------------------------- on fresh seeds, as the class command grades

CHEAP = {"sta_": 60, "sip_": 4, "split_": 4, "grid_": 4, "halving_": 4, "net_": 2, "cap_percentiles_wrong": 4,
         "cap_read": 4,
         # `is` for `==`: as written (plain nbgrader's shared string constants) and with the parameters decoded
         # (the class command's new string objects), the same failure and the same name
         "config_condition_is": 1}


def _seeds_for(mutant) -> int:
    return next((n for prefix, n in CHEAP.items() if mutant.name.startswith(prefix)), 0)


@pytest.mark.parametrize("mutant", [m for m in CASES if _seeds_for(m)], ids=lambda m: m.name)
def test_mutant_is_caught_and_named_on_fresh_seeds(mutant):
    """The visible cells with fresh seeds and the parameters as the sandbox receives them (tests/grading/many_seeds.py,
    which runs the same over 200 seeds and every mutant)."""
    from tests.grading.many_seeds import fresh_seeds, sweep

    results = sweep(mutant, fresh_seeds(_seeds_for(mutant)), "visible")
    for (cell, key), counts in results.items():
        assert set(counts) == {"named"}, f"{mutant.name} in {cell} [{key}]: {dict(counts)}"
