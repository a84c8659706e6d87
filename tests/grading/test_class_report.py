"""A synthetic class with known mistakes, graded by one run of ``python -m autograder grade``: results.jsonl,
the class report (counts, book links, the page in Debian's chromium), feedback that names the mistake and
links to the book, and the Canvas and Moodle exports.

Several learners per known wrong answer (``tests/grading/mutants``), correct ones, a blank exercise, a
notebook that never ends, one that calls the library's dropout (a forbidden reference) and a student who
handed in only one of the two chapters (01 and 06: fast, and NumPy and torch both).
"""
from __future__ import annotations

import csv
import html
import io
import json
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from autograder.course import REPO, notebooks
from autograder.mistakes import MISTAKES, book_labels
from grader.class_report import summarise
from tests.grading import mutants
from tests.grading.grade_helpers import grade, require_bwrap
from tests.grading.notebook_code import solution_notebook, with_replaced_cells

pytestmark = pytest.mark.slow  # runs notebooks in the sandbox

ASSIGNMENTS = ("01_normalization", "06_dropout")
BOOK_URL = "https://book.example.org/normreg"
MUTANT = {m.name: m for m in mutants.ALL}
# (mutant, learners, the mistake id its failures carry); None: correct work
CLASS = {
    "01_normalization": [("minmax_axis1", 3, "norm-minmax-per-example"), ("fit_ddof1", 3, "norm-std-ddof1"),
                         ("transform_own_statistics", 2, "norm-test-statistics-leak"),
                         ("minmax_float32_only_visible", 2, None), (None, 3, None)],
    "06_dropout": [("fwd_not_scaled", 3, "do-not-scaled"), ("bwd_no_mask", 2, "do-backward-mask-ignored"),
                   ("vanilla_is_inverted", 2, "do-vanilla-is-inverted"), ("fwd_calls_torch_dropout", 1, None),
                   (None, 2, None)],
}
LOOP = "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return x\nwhile True:\n    pass\n"
SCREENSHOT = REPO / "_build" / "browser-screenshots" / "report" / "report.png"


def _learners():
    """(student, assignment, notebook JSON or None for a blank exercise)."""
    for assignment, groups in CLASS.items():
        source = solution_notebook(assignment)
        for name, count, _ in groups:
            for k in range(count):
                student = f"{name or 'correct'}-{assignment[:2]}-{k}".replace("_", "-")
                nb = source if name is None else with_replaced_cells(source, MUTANT[name].cells)
                yield student, assignment, nb
    source = solution_notebook("01_normalization")
    yield "blank-01", "01_normalization", None
    yield "loops-01", "01_normalization", with_replaced_cells(source, {"min_max_scale": LOOP})
    yield "only-06", "06_dropout", solution_notebook("06_dropout")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    require_bwrap()
    root = tmp_path_factory.mktemp("class-report")
    submitted = root / "submitted"
    for student, assignment, nb in _learners():
        folder = submitted / student / assignment
        folder.mkdir(parents=True)
        (path,) = notebooks(assignment)
        if nb is None:
            shutil.copy(REPO / "exercises" / assignment / path.name, folder / path.name)
        else:
            (folder / path.name).write_text(json.dumps(nb))
    out = root / "out"
    result = grade(submitted, out, "--workers", "2", "--timeout", "10", "--export", "canvas", "--export", "moodle",
                   "--book-url", BOOK_URL, assignment=ASSIGNMENTS, timeout=900)
    assert result.returncode == 0, f"grading failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    records = [json.loads(p.read_text()) for p in sorted((out / ".grading" / "results").glob("*/*.json"))]
    return out, result, records


def _expected_learners() -> dict[str, int]:
    expected = Counter()
    for groups in CLASS.values():
        for _, count, mistake in groups:
            if mistake:
                expected[mistake] += count
    return dict(expected)


def test_results_jsonl_has_a_verdict_per_student_assignment_and_test(graded):
    out, _, records = graded
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    students = {s for s, _, _ in _learners()}
    tests = {"01_normalization": 6, "06_dropout": 8}
    assert len(lines) == len(students) * sum(tests.values())
    keys = {(x["student_id"], x["assignment"], x["test"]) for x in lines}
    assert len(keys) == len(lines)
    for line in lines:
        assert set(line) >= {"student_id", "assignment", "test", "hidden", "passed", "points", "max_points",
                             "mistakes", "status"}
        assert line["points"] == (line["max_points"] if line["passed"] else 0)
        assert line["hidden"] == line["test"].endswith("_hidden")
        assert all(m in MISTAKES for m in line["mistakes"])
    # the points of every row add up to its score in grades.csv
    with open(out / "grades.csv", newline="") as handle:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    for (student, assignment), row in rows.items():
        points = sum(x["points"] for x in lines if (x["student_id"], x["assignment"]) == (student, assignment))
        assert float(row["score"]) == pytest.approx(points), (student, assignment)


def test_report_counts_equal_the_known_numbers(graded):
    _, result, records = graded
    data = summarise(records)
    found = {m["id"]: m["learners"] for m in data["mistakes"]}
    assert found == _expected_learners(), f"mistakes: {found}"
    students = {s for s, _, _ in _learners()}
    statuses = data["statuses"]
    n01 = sum(c for _, c, _ in CLASS["01_normalization"]) + 2            # + blank, loops
    n06 = sum(c for _, c, _ in CLASS["06_dropout"]) + 1                  # + only-06
    assert sum(statuses["01_normalization"].values()) == sum(statuses["06_dropout"].values()) == len(students)
    assert statuses["01_normalization"]["missing"] == len(students) - n01
    assert statuses["06_dropout"]["missing"] == len(students) - n06
    assert statuses["01_normalization"]["timeout"] == 1
    assert statuses["06_dropout"]["forbidden reference"] == 1
    assert [t["cell"] for t in data["timeouts"]] == ["min_max_scale"]
    assert {(x["student_id"], x["assignment"]) for x in data["look"]} == {("fwd-calls-torch-dropout-06-0", "06_dropout")}
    # visible passed, hidden failed: the two learners who handle float64 only
    rates = data["pass_rates"]["01_normalization"]["test_min_max_scale"]
    ran = n01 - 1   # every notebook of 01 but the one that never ends reached the test (the blank one too)
    assert rates["hidden"][0] == 3 + 3 + 2                    # correct, fit_ddof1, transform_own_statistics
    assert rates["visible"][0] == rates["hidden"][0] + 2      # + the float64-only ones
    assert rates["visible"][1] == rates["hidden"][1] == ran
    assert len(data["slowest"]) == 10 and data["slowest"][0]["seconds"] >= data["slowest"][-1]["seconds"]
    assert "report: " in result.stdout


def test_report_links_every_mistake_to_an_existing_book_anchor(graded):
    out, _, _ = graded
    page = (out / "report.html").read_text()
    links = re.findall(r"href='([^']+)'", page)
    mistakes = [link for link in links if "#" in link]
    assert len(mistakes) == len(_expected_learners())
    labels = book_labels()
    built = REPO / "_build" / "html"
    for link in mistakes:
        assert link.startswith(BOOK_URL + "/book/"), link
        page_path, anchor = link[len(BOOK_URL) + 1:].split("#")
        assert labels[anchor] + ".html" == page_path
        if (built / page_path).exists():  # the built book (command 1, CI) has the anchor
            assert f'id="{anchor}"' in (built / page_path).read_text(), link
    # no script, no request: every picture is inside the page
    assert "<script" not in page.lower()
    assert all(src.startswith("data:image/png;base64,") for src in re.findall(r"<img src='([^']+)'", page))


@pytest.mark.parametrize("width", [1280, 390])
def test_report_opens_in_chromium_with_every_image_loaded(graded, width):
    from tests.test_book_in_browser import _chromium

    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    out, _, _ = graded
    errors, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                      else (outside.append(route.request.url), route.abort()))
        tab = context.new_page()
        tab.on("console", lambda m: m.type == "error" and errors.append(m.text))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto((out / "report.html").as_uri(), wait_until="load")
        images = tab.evaluate("[...document.images].map(i => [i.complete, i.naturalWidth, i.alt])")
        width = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width == 1280:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOT), full_page=True)
        browser.close()
    assert not errors, errors
    assert not outside, outside
    assert len(images) == 2 + 2 + 1   # a histogram and a pass-rate chart per assignment, the mistakes chart
    assert all(complete and natural > 0 and len(alt.split()) >= 5 for complete, natural, alt in images), images
    assert width[0] <= width[1], f"the report scrolls sideways: {width}"


@pytest.mark.parametrize("width", [1280, 390])
def test_feedback_page_fits_the_screen_in_chromium(graded, width):
    """A feedback page read on a laptop and on a phone: nothing scrolls the page sideways (long code scrolls in
    its own box), and no grade cell's heading (its id, score and link) covers the code below it."""
    from tests.test_book_in_browser import _chromium
    from playwright.sync_api import sync_playwright

    out, _, _ = graded
    page = out / "feedback" / "fit-ddof1-01-0" / "01_normalization" / "01_normalization.html"
    outside = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": width, "height": 900})
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(("file:", "data:"))
                      else (outside.append(route.request.url), route.abort()))
        tab = context.new_page()
        tab.goto(page.as_uri(), wait_until="load")
        scroll = tab.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        panels = tab.evaluate("""[...document.querySelectorAll('div.nbgrader_cell')].map(cell => {
            const head = cell.querySelector('.panel-heading').getBoundingClientRect();
            const body = cell.querySelector('.panel-body').getBoundingClientRect();
            const score = cell.querySelector('.panel-heading .pull-right');
            const s = score ? score.getBoundingClientRect() : head;
            return [head.bottom, body.top, s.bottom, s.right, head.right, body.width, cell.getBoundingClientRect().width];
        })""")
        browser.close()
    assert not outside, outside
    assert scroll[0] <= scroll[1], f"the feedback page scrolls sideways at {width} px: {scroll}"
    assert len(panels) >= 9, f"{len(panels)} grade cells found in {page}"
    for head_bottom, body_top, score_bottom, score_right, head_right, body_width, cell_width in panels:
        assert head_bottom <= body_top + 0.5 and score_bottom <= body_top + 0.5, (width, panels)
        assert score_right <= head_right + 0.5
        assert body_width >= 0.9 * cell_width  # the code box takes the panel's width


def test_feedback_names_the_mistake_and_links_to_the_book_offline(graded):
    out, _, _ = graded
    page = (out / "feedback" / "fit-ddof1-01-0" / "01_normalization" / "01_normalization.html").read_text()
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "Recognised mistake: " + MISTAKES["norm-std-ddof1"].description in " ".join(text.split())
    assert f'href="{BOOK_URL}/book/01_data_normalization.html#norm-z-score"' in page
    # the exercise's "chapter 1" link leads to the published book, not to a path in the repository
    assert f'href="{BOOK_URL}/book/01_data_normalization.html"' in page and "../../book/" not in page
    # no MathJax from a CDN (nor from anywhere): formulas are MathML
    assert "cdnjs" not in page and "<script src" not in page
    assert page.count("<math") > 5


def test_lms_exports_have_the_documented_columns_one_row_per_student(graded):
    out, _, records = graded
    students = sorted({s for s, _, _ in _learners()})
    scores = {(r["student_id"], r["assignment"]): r["score"] for r in records}
    raw = (out / "canvas_grades.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")   # UTF-8 without a byte-order mark
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *ASSIGNMENTS]
    assert rows[1][0].strip() == "Points Possible" and rows[1][5:] == ["12", "16"]
    assert [r[2] for r in rows[2:]] == students
    for row in rows[2:]:
        assert [float(v) for v in row[5:]] == [scores[(row[2], a)] for a in ASSIGNMENTS]
    rows = list(csv.reader(io.StringIO((out / "moodle_grades.csv").read_bytes().decode("utf-8"))))
    assert rows[0] == ["ID number", "Email address", *ASSIGNMENTS]
    assert [r[0] for r in rows[1:]] == students
    for row in rows[1:]:
        assert [float(v) for v in row[2:]] == [scores[(row[0], a)] for a in ASSIGNMENTS]


def test_report_command_rewrites_the_report_from_the_results(graded, tmp_path):
    import subprocess
    import sys

    out, _, _ = graded
    before = summarise([json.loads(p.read_text()) for p in sorted((out / ".grading" / "results").glob("*/*.json"))])
    (out / "report.html").unlink()
    run = subprocess.run([sys.executable, "-m", "autograder", "report", str(out), "--book-url", BOOK_URL],
                         cwd=REPO, capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, PYTHONUNBUFFERED="1"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert (out / "report.html").exists() and "report.html" in run.stdout
    assert before["mistakes"][0]["learners"] == max(_expected_learners().values())
    missing = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path)], cwd=REPO,
                             capture_output=True, text=True, timeout=300)
    assert missing.returncode == 2 and "no grading results" in missing.stderr
