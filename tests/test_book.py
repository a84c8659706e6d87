"""The book builds with warnings as errors, and every page executes in under a minute."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "_build"
PAGE_TIME_LIMIT = 60.0  # seconds per page on a 2-core CPU

pytestmark = pytest.mark.slow


def toc_files() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]

    def walk(entries):
        for entry in entries:
            files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc["parts"]:
        walk(part["chapters"])
    return files


# built_book: tests/conftest.py (one locked build shared with the browser test)


def test_every_toc_page_is_built(built_book):
    for name in toc_files():
        assert (built_book / f"{name}.html").is_file(), f"{name} missing from the built book"


def test_exercises_are_offered_for_download(built_book):
    for notebook in (REPO / "exercises").glob("*/*.ipynb"):
        relative = notebook.relative_to(REPO)
        assert (built_book / "_sources" / relative).is_file(), f"{relative} is not downloadable"


def test_solutions_are_not_published(built_book):
    html = "".join(p.read_text(errors="ignore") for p in built_book.rglob("*.html"))
    assert "BEGIN SOLUTION" not in html and "BEGIN HIDDEN TESTS" not in html
    assert not list(built_book.rglob("solutions"))


def test_every_page_executes_within_a_minute(built_book):
    from jupyter_cache import get_cache

    records = get_cache(BUILD / ".jupyter_cache").list_cache_records()
    pages = [name for name in toc_files()
             if (REPO / f"{name}.md").is_file() and (REPO / f"{name}.md").read_text().startswith("---\njupytext")]
    assert len(records) >= len(pages)
    newest = {}  # the cache keeps the records of earlier versions of a page too: judge the latest run
    for record in sorted(records, key=lambda r: r.created):
        newest[Path(record.uri).name] = record.data.get("execution_seconds", 0)
    slow = {name: seconds for name, seconds in newest.items() if seconds > PAGE_TIME_LIMIT}
    assert not slow, f"pages over {PAGE_TIME_LIMIT:.0f} s: {slow}"
