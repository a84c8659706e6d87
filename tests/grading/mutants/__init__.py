"""Known wrong answers, one per mistake a check claims to catch.

Each chapter's module here defines ``MUTANTS``, a list of ``Mutant``: wrong
code that replaces solution cells (by grade id) of its assignment. The tests
grade every mutant with nbgrader and require that it loses points in the test
cells listed in ``fails`` and that the failure message contains ``hint``; they
also call the checks on it directly (faster, and with clearer failures).

A module may also define ``HINTS``: more wrong answers, each with the ``mistake`` id its message must name
(and no other id). They are graded in-process only, cell by cell (``tests/grading/test_hints.py``), not by
nbgrader and the class command, so that a broad set of plausible mistakes costs seconds, not minutes; the
graded ``MUTANTS`` of the same exercises carry a ``mistake`` too and are part of that test as well.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Mutant:
    name: str
    assignment: str
    cells: dict[str, str]          # grade_id of a solution cell -> replacement source
    fails: tuple[str, ...]         # grade ids of test cells that must lose points
    hint: str                      # text the failure message must contain
    note: str = field(default="")  # the mistake, for the test report
    mistake: str = field(default="")  # the id (autograder/mistakes.py) the message must name, and only it


def _collect(kind: str) -> list[Mutant]:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        found += getattr(importlib.import_module(f"{__name__}.{module.name}"), kind, [])
    return found


ALL: list[Mutant] = _collect("MUTANTS")     # graded by nbgrader and the class command too
HINTS: list[Mutant] = _collect("HINTS")     # graded in-process only
EVERY: list[Mutant] = ALL + HINTS

_names = [m.name for m in EVERY]
if len(set(_names)) != len(_names):
    raise ValueError(f"mutant names must be unique: {sorted({n for n in _names if _names.count(n) > 1})}")


def for_assignment(assignment: str) -> list[Mutant]:
    return [m for m in ALL if m.assignment == assignment]
