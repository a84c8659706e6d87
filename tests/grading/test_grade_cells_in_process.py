"""Every notebook's own grade cells, run in-process on the solution and on every known mistake.

Faster and more direct than a kernel (test_grading.py covers the nbgrader path),
and the calls come from the notebooks themselves, so these tests cannot drift
from what learners are graded on.
"""
from __future__ import annotations

import re

import pytest

from autograder import mistakes as registry
from autograder.compare import CheckFailed
from autograder.course import assignments
from tests.grading import mutants
from tests.grading.notebook_code import run_grade_cells, solution_notebook, with_replaced_cells


@pytest.fixture
def language():
    """Run a test in a language (its notebooks' first cell sets it): English again afterwards."""
    from normreg.i18n import set_language

    yield set_language
    set_language(None)


def _in(lang: str, notebook, assignment: str):
    """``notebook`` in ``lang``: as exercises/ko/ holds it (translate_notebook), English as it is."""
    if lang == "en":
        return notebook
    from autograder.notebooks import translate_notebook, translated_assignments

    if assignment not in translated_assignments(lang):
        pytest.skip(f"{assignment} has no notebook in {lang!r} yet")
    return translate_notebook(notebook, assignment, lang)


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("assignment", assignments())
def test_solution_passes_every_grade_cell(assignment, lang, language):
    language(lang)  # the language the notebook's first cell chooses (its grade cells run here without it)
    results = run_grade_cells(_in(lang, solution_notebook(assignment), assignment))
    failed = {cell: message for cell, message in results.items() if message is not None}
    assert results and not failed, f"the solution fails {failed}"


@pytest.mark.parametrize("assignment", assignments())
def test_korean_known_mistake_is_named_in_korean(assignment, language):
    """The first known wrong answer of a chapter, in its Korean notebook: the same cells fail with the same
    mistake ids as in English, in Korean words (the mistakes' Korean descriptions name them)."""
    mutant = mutants.for_assignment(assignment)[0]
    _in("ko", solution_notebook(assignment), assignment)  # skips a chapter with no Korean notebook yet
    outcome = {}
    for lang in ("en", "ko"):
        language(lang)
        errors = {}
        notebook = with_replaced_cells(_in(lang, solution_notebook(assignment), assignment), mutant.cells)
        results = run_grade_cells(notebook, errors=errors)
        outcome[lang] = ({cell for cell, message in results.items() if message is not None},
                         {m for e in errors.values() for m in getattr(e, "mistakes", ())},
                         "\n".join(str(errors.get(cell, "")) for cell in mutant.fails))
    assert outcome["ko"][:2] == outcome["en"][:2] and set(mutant.fails) <= outcome["ko"][0]
    assert re.search("[가-힣]{4}", outcome["ko"][2]), outcome["ko"][2][:2000]


# Hints that name no misconception: a hidden test's values differ (no mistake recognised), a numerical
# gradient check failed, or the library's own implementation ran (a `forbidden reference` status, which
# the class report lists among the students to look at), or the notebook imports a library its exercise's grading
# does not provide (a rule of the grading, the same on every path: autograder.forbidden.imports_of_absent).
GENERIC_HINTS = ("differs from the reference", "gradient check failed", "library's own implementation",
                 "course's own implementation", "grading provides only")


@pytest.mark.parametrize("mutant", mutants.ALL, ids=lambda m: m.name)
def test_mutant_fails_its_cells_with_its_hint(mutant):
    errors = {}
    results = run_grade_cells(with_replaced_cells(solution_notebook(mutant.assignment), mutant.cells), errors=errors)
    passed = [cell for cell in mutant.fails if results[cell] is None]
    assert not passed, f"{mutant.name} passes {passed}"
    messages = "\n".join(results[cell] for cell in mutant.fails)
    assert mutant.hint in messages, f"{mutant.name}: hint {mutant.hint!r} not in:\n{messages[:3000]}"
    # ... and the failure that shows the hint names the mistake by its id (autograder/mistakes.py)
    if not any(generic in mutant.hint for generic in GENERIC_HINTS):
        named = [errors[cell] for cell in mutant.fails if isinstance(errors.get(cell), CheckFailed)
                 and mutant.hint in str(errors[cell])]
        ids = {mistake for error in named for mistake in error.mistakes}
        assert ids and ids <= set(registry.MISTAKES), \
            f"{mutant.name}: the failure with hint {mutant.hint!r} names no mistake id:\n{named[0] if named else messages}"
