"""The recognised mistakes as data: every id used exists, every mistake is recognised somewhere, every label
is in the book. (That every known wrong answer is recognised as one of them is asserted where the mutants'
grade cells already run in-process: tests/grading/test_grade_cells_in_process.py.)"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder import mistakes as registry
from autograder.course import REPO


ID_SHAPE = re.compile(r"(cap|hp|bn|bninf|cs|norm|wd|do)-[a-z0-9]+(-[a-z0-9]+)*")


def _ids_used() -> list[tuple[str, str]]:
    """(file, id) for every recognised("id", ...) and mistake="id" in the checks, and every tuple that starts with a
    string shaped as an id (("id", text, candidate) tables whose entries reach recognised(*entry))."""
    found = []
    for path in sorted((REPO / "autograder").glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple) and node.elts and isinstance(node.elts[0], ast.Constant) \
                    and isinstance(node.elts[0].value, str) and ID_SHAPE.fullmatch(node.elts[0].value):
                found.append((path.name, node.elts[0].value))
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "recognised" and node.args \
                    and isinstance(node.args[0], ast.Constant):
                found.append((path.name, node.args[0].value))
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "mistake":
                        found += [(path.name, c.value) for c in ast.walk(keyword.value)
                                  if isinstance(c, ast.Constant) and isinstance(c.value, str)]
    return found


def test_every_id_used_exists_and_every_mistake_is_used():
    used = _ids_used()
    assert len(used) > 100
    unknown = [(f, i) for f, i in used if i not in registry.MISTAKES]
    assert not unknown, f"ids used but not in autograder/mistakes.py: {unknown}"
    unused = set(registry.MISTAKES) - {i for _, i in used}
    assert not unused, f"mistakes no check recognises: {sorted(unused)}"


def test_every_mistake_has_a_description_and_a_book_section():
    labels = registry.book_labels()
    for mistake in registry.MISTAKES.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", mistake.id), mistake.id
        assert mistake.description and "\n" not in mistake.description and len(mistake.description) < 120
        assert mistake.label in labels, f"{mistake.id}: no ({mistake.label})= above a heading in book/*.md"
        link = registry.mistake_link(mistake.id, "https://example.org/course")
        assert link == f"https://example.org/course/{labels[mistake.label]}.html#{mistake.label}"


def test_each_label_sits_above_a_heading():
    for page in sorted((REPO / "book").glob("*.md")):
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if registry.LABEL.fullmatch(line):
                assert i + 1 < len(lines) and lines[i + 1].startswith("#"), f"{page.name}:{i + 1}: {line}"


def test_unknown_ids_are_refused():
    with pytest.raises(KeyError):
        registry.recognised("no-such-mistake", "text")
    assert registry.known_ids(["norm-std-ddof1", "forged", 3, "norm-std-ddof1"]) == ("norm-std-ddof1",)
