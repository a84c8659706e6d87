"""One batch of correct, broken and adversarial submissions of four chapters, graded by one run of
``python -m autograder grade`` (01_normalization, 03_batchnorm_training, 04_batchnorm_inference, 06_dropout).

The correct ones earn full marks, the others no false credit and a clear
status, and the batch completes (see tests/grading/submissions for the
cases). Then: every student has a row for every assignment, the gradebook
agrees with grades.csv, no feedback shows a hidden test or runs a learner's
script, nothing was written outside the sandbox, no process outlived it, a
re-run grades nothing, and a changed notebook is graded again alone.
``test_batch_figures`` sums it up (cases, false credit, lost rows,
undergraded correct work, leaks, escapes, wall time).
"""
from __future__ import annotations

import html
import json
import re
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course import REPO
from tests.grading.grade_helpers import grade, require_bwrap, rows_by_assignment
from tests.grading.submissions import (ASSIGNMENTS, CORRUPT_RESULTS, STRAY_RESULTS, cases, hidden_test_lines, max_score,
                                          notebook_name, prepare_out, solution)

pytestmark = pytest.mark.slow  # runs notebooks in the sandbox

CASES = cases()
OPTIONS = ("--workers", "2", "--timeout", "10", "--memory", "2g")
MARKER = f"grade-batch-{uuid.uuid4().hex}"   # in the environment of the grader and its bwrap processes
TEMPLATE_SCRIPTS = ('<script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/', '<script type="text/x-mathjax-config">')
# What a learner's markup must never become in a feedback page: a script, an event handler, a javascript: link.
ACTIVE_MARKUP = re.compile(r"<script|<[^>]*\son[a-z]+\s*=|<[^>]*(href|src)\s*=\s*[\"']?\s*javascript:", re.I)
HOST_PATHS = [REPO / "solutions" / "HACKED", Path("/etc/HACKED"), Path.home() / "HACKED", Path("/root/HACKED"),
              Path("/home/HACKED"), Path("/var/tmp/HACKED"), REPO / "autograder" / "HACKED.py"]
FILL_PLACES = ("/var/tmp", "/run", "/dev/shm", "/home", "/dev", "/var", "/etc", "/tmp")


@dataclass
class Batch:
    root: Path
    submissions: Path
    out: Path
    result: subprocess.CompletedProcess
    rows: dict            # (student, assignment) -> grades.csv row
    wall: float
    leftovers: list[str]  # processes of the batch still alive after it returned


def _students_processes(marker: str) -> list[str]:
    """Processes whose environment holds ``marker`` (the grader's bwrap processes), and any `sleep 1000`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if marker.encode() in environ or command.startswith("sleep 1000"):
            found.append(f"{entry.name}: {command[:200]}")
    return found


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    require_bwrap()
    root = tmp_path_factory.mktemp("grade-batch")
    submissions = root / "class" / "submitted"
    submissions.mkdir(parents=True)
    for case in CASES:
        case.write(submissions)
    out = root / "out"
    prepare_out(out)
    started = time.monotonic()
    result = grade(submissions, out, *OPTIONS, assignment=ASSIGNMENTS, env={"GRADE_BATCH_MARKER": MARKER},
                   timeout=900)
    wall = time.monotonic() - started
    assert result.returncode == 0, f"grading failed:\n{result.stdout}\n{result.stderr[-5000:]}"
    time.sleep(0.5)
    return Batch(root, submissions, out, result, rows_by_assignment(out), wall, _students_processes(MARKER))


def _score(row) -> float:
    return float(row["score"]) if row["score"] not in ("", None) else float("nan")


# ---------------------------------------------------------------- the cases themselves

def test_there_are_enough_adversarial_cases():
    assert len(CASES) >= 60
    for assignment in ASSIGNMENTS:
        mine = [c for c in CASES if c.assignment == assignment]
        assert any(c.full_marks for c in mine), f"no correct control in {assignment}"
        assert sum(not c.full_marks for c in mine) >= 8, f"too few adversarial cases in {assignment}"


def test_max_scores_come_from_the_notebooks():
    # the grade cells' points, summed: 01 has 12, 03 20, 04 23, 06 16 today
    for assignment in ASSIGNMENTS:
        nb = solution(assignment)
        total = sum(c["metadata"]["nbgrader"].get("points", 0) for c in nb["cells"]
                    if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
        assert max_score(assignment) == total > 0


# ---------------------------------------------------------------- rows, statuses, scores

def test_batch_completes_with_a_row_for_everyone(batch):
    students = {c.student for c in CASES}
    expected = {(s, a) for s in students for a in ASSIGNMENTS}
    assert set(batch.rows) == expected, (f"lost rows: {sorted(expected - set(batch.rows))[:10]}; "
                                         f"unexpected rows: {sorted(set(batch.rows) - expected)[:10]}")
    assert "row(s) in" in batch.result.stdout  # the summary
    refused = {c.student for c in CASES if c.refused}
    for (student, assignment), row in batch.rows.items():
        if student in refused:
            assert float(row["max_score"]) in (0.0, max_score(assignment)), row
        else:
            assert float(row["max_score"]) == max_score(assignment), row


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.assignment[:2]}-{c.student[:40]}")
def test_status_and_score(batch, case):
    row = batch.rows[(case.student, case.assignment)]
    score = _score(row)
    where = f"{case.student} ({case.assignment}): {row['status']!r}, score {row['score']!r}; notes {row['notes']!r}"
    assert case.status in row["status"], f"status: {where}"
    if case.full_marks:
        assert score == max_score(case.assignment), f"correct work undergraded: {where}"
    else:
        assert score <= case.at_most, f"false credit (more than {case.at_most}): {where}"
    if case.at_least is not None:
        assert score >= case.at_least, f"lost more than its own crash costs ({case.at_least}): {where}"
    for assignment in ASSIGNMENTS:  # the assignments this student did not submit
        if assignment == case.assignment:
            continue
        other = batch.rows[(case.student, assignment)]
        assert _score(other) == 0, other
        assert case.elsewhere in other["status"], other


def test_gradebook_agrees_with_grades_csv(batch):
    from nbgrader.api import Gradebook, MissingEntry

    refused = {c.student for c in CASES if c.refused}
    with Gradebook(f"sqlite:///{batch.out / 'course' / 'gradebook.db'}") as gradebook:
        for (student, assignment), row in batch.rows.items():
            if student in refused:
                try:
                    submission = gradebook.find_submission(assignment, student)
                except MissingEntry:
                    continue
                assert float(submission.score) == 0.0, (student, assignment)
                continue
            submission = gradebook.find_submission(assignment, student)
            assert float(submission.score) == pytest.approx(_score(row)), (student, assignment, row)
            assert float(submission.max_score) == max_score(assignment), (student, assignment)


def test_stray_result_files_are_reported_and_everyone_is_graded(batch):
    # everyone has a row (test_batch_completes_with_a_row_for_everyone), those whose own result was corrupt too
    for student, assignment in CORRUPT_RESULTS:
        assert batch.rows[(student, assignment)]["status"] == "graded"
    out = batch.result.stdout
    assert "unreadable result file" in out
    for relative, content in STRAY_RESULTS.items():
        if content is not None:
            assert Path(relative).name in out, f"{relative} not reported:\n{out[-3000:]}"


# ---------------------------------------------------------------- feedback

def _text(page: Path) -> str:
    """What a reader sees: tags removed (code is split into highlighting spans), entities decoded, and
    runs of white space as one space (long messages are wrapped onto several lines)."""
    text = re.sub(r"<style.*?</style>|<script.*?</script>", "", page.read_text(), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _pages(batch) -> list[Path]:
    return sorted((batch.out / "feedback").glob("*/*/*.html"))


def _hidden_leaks(batch) -> list[str]:
    leaks = []
    lines = {a: hidden_test_lines(a) for a in ASSIGNMENTS}
    for page in _pages(batch):
        text = _text(page)
        leaked = [line for line in lines.get(page.parent.name, []) if " ".join(line.split()) in text]
        if leaked:
            leaks.append(f"{page.parent.parent.name}/{page.parent.name}: {leaked[:2]}")
    return leaks


def _active_markup(batch) -> list[str]:
    found = []
    for page in _pages(batch):
        text = page.read_text()
        for script in TEMPLATE_SCRIPTS:
            text = text.replace(script, "", 1)
        for match in ACTIVE_MARKUP.finditer(text):
            found.append(f"{page.parent.parent.name}/{page.parent.name}: {text[match.start():match.start() + 120]!r}")
    return found


def _outputs(batch, student, assignment) -> str:
    path = batch.out / "course" / "autograded" / student / assignment / notebook_name(assignment)
    notebook = json.loads(path.read_text())
    texts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")) + str(output.get("evalue", "")) + json.dumps(output.get("data", {})))
    return "\n".join(texts)


def _input_leaks(batch) -> list[str]:
    """The inputs a probe gave the learner's function, printed by it: never in the outputs or the feedback."""
    leaks = []
    for case in CASES:
        if case.student != "ok-print-inputs":
            continue
        if "LEAK-INPUT" in _outputs(batch, case.student, case.assignment):
            leaks.append(f"{case.student}: outputs")
        for page in (batch.out / "feedback" / case.student).glob("*/*.html"):
            if re.search(r"LEAK-INPUT [(\[]", _text(page)):  # what it printed (its source shows 'LEAK-INPUT',)
                leaks.append(f"{case.student}: {page.name}")
    return leaks


def test_feedback_shows_results_but_never_hidden_tests(batch):
    pages = _pages(batch)
    graded = {(c.student, c.assignment) for c in CASES if not c.refused}
    assert graded <= {(p.parent.parent.name, p.parent.name) for p in pages}
    leaks = _hidden_leaks(batch)
    assert not leaks, f"feedback shows hidden tests: {leaks[:3]}"
    blank = _text(batch.out / "feedback" / "blank" / "01_normalization" / "01_normalization.html")
    assert "not implemented yet" in blank and "def min_max_scale" in blank
    wrong = _text(batch.out / "feedback" / "wrong" / "01_normalization" / "01_normalization.html")
    assert "differs from the reference" in wrong  # the check's message, for visible and hidden tests
    ok = _text(batch.out / "feedback" / "ok-solution" / "01_normalization" / "01_normalization.html")
    assert "visible tests passed" in ok  # the learner's outputs


def test_every_feedback_page_forbids_every_load_and_remote_images_become_words(batch):
    """M1 (attack3): a markdown image from a tracker is never fetched when the page is opened."""
    from autograder.course import CONTENT_SECURITY_POLICY

    from tests.grading.submissions.work_attack3 import TRACKER

    for page in _pages(batch):
        head = page.read_text().split("</head>")[0]
        assert "Content-Security-Policy" in head and CONTENT_SECURITY_POLICY.replace("'", "") in \
            html.unescape(head).replace("'", "").replace('"', ""), page
    text = (batch.out / "feedback" / "a3-remote-image" / "01_normalization" / "01_normalization.html").read_text()
    assert not re.search(r"<img[^>]*src=[\"']?https?:", text) and f"image not loaded: tracking pixel ({TRACKER})" in text
    assert not re.search(r"<img[^>]*src=[\"']?(?!data:)", text)
    assert "Content-Security-Policy" in (batch.out / "report.html").read_text().split("</head>")[0]


def _results(batch, student: str) -> list[dict]:
    lines = (batch.out / "results.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["student_id"] == student and r["assignment"] == "01_normalization"]


def test_hidden_code_costs_only_the_tests_after_its_cell(batch):
    """The tests before the first cell holding refused code are graded as usual; those after it score nothing with
    a message naming the cell; the row says hidden code, with full marks too, and is listed for a look."""
    tests = {t["test"]: t for t in _results(batch, "a3-getattr-between")}
    for name in ("test_min_max_scale", "test_min_max_scale_hidden"):
        assert tests[name]["checked"] and tests[name]["passed"] and tests[name]["points"] > 0, tests[name]
    for name in ("test_z_score_fit", "test_z_score_fit_hidden", "test_z_score_transform"):
        assert not tests[name]["checked"] and tests[name]["points"] == 0, tests[name]
        assert tests[name]["message"].startswith("not graded: this test comes after cell "), tests[name]
        assert "getattr() with a computed name" in tests[name]["message"]
    trailing = batch.rows[("a3-load-ext-trailing", "01_normalization")]
    assert trailing["status"].startswith("hidden code: the magic %load_ext") and float(trailing["score"]) == 12
    report = (batch.out / "report.html").read_text()
    for student in ("a3-load-ext-trailing", "a3-getattr-between", "a3-refused-in-early-function"):
        assert student in report.split("<h2 id='look'>")[-1], student
    # the cell that was refused shows why it did not run; what follows it has no outputs
    executed = json.loads((batch.out / "course" / "autograded" / "a3-getattr-between" / "01_normalization" /
                           "01_normalization.ipynb").read_text())
    refused = [c for c in executed["cells"] if "getattr(rng, kind)" in "".join(c.get("source", ""))]
    assert refused and refused[0]["outputs"][0]["ename"] == "HiddenCode"


def test_feedback_runs_no_learner_script(batch):
    found = _active_markup(batch)
    assert not found, f"{len(found)} script(s) or event handler(s) from learners in feedback pages: {found[:4]}"


def test_probed_inputs_never_reach_the_feedback(batch):
    assert not _input_leaks(batch)


def test_a_hidden_tests_feedback_never_shows_the_text_the_code_raised(batch):
    """The function raises an error holding its inputs: the visible test shows it, the hidden test only its verdict."""
    path = batch.out / "course" / "autograded" / "raises-its-inputs" / "01_normalization" / "01_normalization.ipynb"
    cells = {cell["metadata"].get("nbgrader", {}).get("grade_id"): json.dumps(cell.get("outputs", []))
             for cell in json.loads(path.read_text())["cells"]}
    assert "LEAK-ERROR" in cells["test_min_max_scale"]
    assert "LEAK-ERROR" not in cells["test_min_max_scale_hidden"]
    assert "not shown for a hidden test" in cells["test_min_max_scale_hidden"]
    page = _text(batch.out / "feedback" / "raises-its-inputs" / "01_normalization" / "01_normalization.html")
    assert page.count("LEAK-ERROR [") == 1 and "not shown for a hidden test" in page  # the visible test's alone


def test_csv_cells_are_inert_and_the_report_shows_no_sandbox_text(batch):
    """Ids such as ``=1+1`` or ``@SUM(A1)``: no cell of grades.csv begins a formula (the gradebook keeps the id);
    the class report's examples are the verdicts' own words, never a notebook's (``bookkeeping.SANDBOX_TEXT``)."""
    import csv

    from grader.exports import FORMULA_STARTS
    from tests.grading.submissions.bookkeeping import SANDBOX_TEXT

    with open(batch.out / "grades.csv", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert "'=1+1" in cells and "'@SUM(A1)" in cells
    assert (batch.out / "feedback" / "=1+1").is_dir()   # the true id everywhere else
    report = (batch.out / "report.html").read_text()
    assert SANDBOX_TEXT not in report
    assert not ACTIVE_MARKUP.search(report)   # a student id that is markup is shown escaped


# ---------------------------------------------------------------- the sandbox

def _escapes(batch) -> list[str]:
    escaped = [str(p) for p in HOST_PATHS + [batch.root / "HACKED", batch.submissions.parent / "HACKED"] if p.exists()]
    for folder in (batch.root, batch.root.parent, batch.submissions.parent):
        if (folder / "zip-slip-escaped.txt").exists():
            escaped.append(str(folder / "zip-slip-escaped.txt"))
    for place in FILL_PLACES:
        escaped += [str(p) for p in Path(place).glob("fill-*.bin")]
    escaped += [f"process: {p}" for p in batch.leftovers]
    return escaped


NOT_RUN = "not run: the grader cannot read this cell"


def _ran_and_says(batch, student: str, words: str) -> bool:
    """The attack's cell ran and printed ``words``, or the reading refused it and it never ran (hidden code: the
    notebook stops before that cell, so the attack reaches no sandbox; tests/grading/test_isolation.py runs such
    attacks in the sandbox directly)."""
    outputs = _outputs(batch, student, "01_normalization")
    return words in outputs or (NOT_RUN in outputs and "hidden code" in batch.rows[(student, "01_normalization")]
                                ["status"])


def test_the_sandbox_hides_the_course_and_the_network(batch):
    assert _ran_and_says(batch, "peek-at-solutions", "leaked: []")
    assert _ran_and_says(batch, "peek-quietly", "quietly leaked: []")
    peek = _outputs(batch, "peek-at-solutions", "01_normalization")
    assert "'solutions'" not in peek and "gradebook.db" not in peek
    assert _ran_and_says(batch, "network", "no network")
    for student in ("write-outside", "write-outside-quietly"):
        wrote = _outputs(batch, student, "01_normalization")
        assert _ran_and_says(batch, student, "refused /etc/HACKED"), wrote[-2000:]
        # only the sandbox's own /tmp (its HOME is /tmp/home) takes a file
        outside = [p for p in re.findall(r"wrote (\S+)", wrote) if not p.startswith("/tmp/")]
        assert not outside, f"{student} wrote {outside}"
    assert not _escapes(batch), _escapes(batch)


def test_only_the_capped_tmp_is_writable(batch):
    filled = _outputs(batch, "ok-fill-disks", "01_normalization")
    reported = re.search(r"filled: (\{.*\})", filled)
    assert reported, filled[-2000:]
    for place in FILL_PLACES[:-1]:  # (read-only, or not there at all: /var/tmp in an empty /var)
        assert re.search(f"'{place}': '0 files, then (OSError|FileNotFoundError)'", reported.group(1)), \
            reported.group(1)
    tmp = re.search(r"'/tmp': '(\d+) files, then OSError'", reported.group(1))
    assert tmp and 0 < int(tmp.group(1)) < 48, reported.group(1)   # 48 x 8 MB is more than /tmp's cap


def test_no_native_code_from_the_submission_and_nothing_of_the_machine(batch):
    from tests.grading.submissions.sandbox_mounts import an_extension_module

    if an_extension_module() is not None:  # the job's /tmp (its submission's files) is noexec
        native = _outputs(batch, "mnt-native-extension", "01_normalization")
        assert "native: loaded" not in native, native[-2000:]
        # its importlib is hidden code: the notebook stops before that cell, so the extension never reaches the
        # sandbox here (tests/grading/test_isolation.py loads one in a job directly); where it runs, it is refused
        if NOT_RUN not in native:
            assert "native: refused" in native, native[-2000:]
            assert "failed to map segment" in native or "ermission" in native, native[-2000:]
    assert "seen of the machine: []" in _outputs(batch, "mnt-read-the-machine", "01_normalization")
    assert not Path("/dev/mnt-mark").exists()


def test_floods_are_refused_and_nothing_outlives_the_sandbox(batch):
    assert _ran_and_says(batch, "process-flood", "started 0")
    assert _ran_and_says(batch, "process-flood-quietly", "quietly started 0")
    # ctypes itself is refused by the job's audit hook (grader/audit.py) before seccomp's refusal of fork
    ctypes_run = _outputs(batch, "ctypes-quietly", "01_normalization")
    assert _ran_and_says(batch, "ctypes-quietly", "ctypes fork: -1") or "refused by the grader: ctypes" in ctypes_run, \
        ctypes_run
    assert not batch.leftovers, f"processes of the batch still running: {batch.leftovers}"
    assert not _students_processes(MARKER)


# ---------------------------------------------------------------- the figures, then the re-runs

def _figures(batch) -> dict:
    expected = {(c.student, a) for c in CASES for a in ASSIGNMENTS}
    false_credit, undergraded = [], []
    for case in CASES:
        row = batch.rows.get((case.student, case.assignment))
        if row is None:
            continue
        score = _score(row)
        if case.full_marks and not score == max_score(case.assignment):
            undergraded.append(f"{case.student} ({case.assignment}): {row['score']} {row['status']}")
        if not case.full_marks and not score <= case.at_most:
            false_credit.append(f"{case.student} ({case.assignment}): {row['score']} > {case.at_most}")
    leaks = _hidden_leaks(batch) + _active_markup(batch) + _input_leaks(batch)
    return {"cases": len(CASES), "by chapter": {a: sum(c.assignment == a for c in CASES) for a in ASSIGNMENTS},
            "false credit": false_credit, "lost rows": sorted(expected - set(batch.rows)),
            "undergraded correct work": undergraded, "leaks": leaks, "escapes": _escapes(batch),
            "wall time (s)": round(batch.wall, 1)}


def test_batch_figures(batch):
    figures = _figures(batch)
    print(json.dumps(figures, indent=1, ensure_ascii=False))
    problems = {k: v for k, v in figures.items() if isinstance(v, list) and v}
    assert not problems, json.dumps(figures, indent=1, ensure_ascii=False)[:6000]
    assert batch.wall < 400, f"the batch took {batch.wall:.0f} s"


def test_rerun_grades_nothing_and_a_changed_notebook_alone(batch):
    before = rows_by_assignment(batch.out)
    again = grade(batch.submissions, batch.out, *OPTIONS, assignment=ASSIGNMENTS, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    submitted = len({c.student for c in CASES}) * len(ASSIGNMENTS)
    assert f"{submitted} unchanged" in again.stdout and "Graded 0 submission" in again.stdout, again.stdout[-3000:]
    assert rows_by_assignment(batch.out) == before
    # one student changes their notebook: only that one is graded again
    target = batch.submissions / "wrong" / "01_normalization" / notebook_name("01_normalization")
    target.write_text(json.dumps(solution("01_normalization")))
    third = grade(batch.submissions, batch.out, *OPTIONS, assignment=ASSIGNMENTS, timeout=600)
    assert third.returncode == 0, third.stderr[-3000:]
    assert "Graded 1 submission" in third.stdout, third.stdout[-3000:]
    updated = rows_by_assignment(batch.out)
    assert _score(updated[("wrong", "01_normalization")]) == max_score("01_normalization")
    assert {k: v for k, v in updated.items() if k != ("wrong", "01_normalization")} == \
        {k: v for k, v in before.items() if k != ("wrong", "01_normalization")}



def test_an_untouched_korean_notebook_is_not_noted_as_edited(batch):
    """Its locked cells hold the Korean release's words (attack 4: every Korean row was noted "edited locked cells
    restored", which hid a real edit among the false ones)."""
    rows = {student: row for (student, assignment), row in batch.rows.items()
            if student.startswith("a4-ok-korean") and assignment == "01_normalization"}
    assert len(rows) == 2
    for student, row in rows.items():
        assert "edited locked cells" not in row["notes"], (student, row["notes"])
