"""Known wrong answers, one per mistake a check claims to catch.

Each chapter's module here defines ``MUTANTS``, a list of ``Mutant``: wrong
code that replaces solution cells (by grade id) of its assignment. The tests
grade every mutant with nbgrader and require that it loses points in the test
cells listed in ``fails`` and that the failure message contains ``hint``; they
also call the checks on it directly (faster, and with clearer failures).
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


def _collect() -> list[Mutant]:
    found = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        found += importlib.import_module(f"{__name__}.{module.name}").MUTANTS
    names = [m.name for m in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"mutant names must be unique: {sorted(duplicates)}")
    return found


ALL: list[Mutant] = _collect()


def for_assignment(assignment: str) -> list[Mutant]:
    return [m for m in ALL if m.assignment == assignment]
