"""Fast checks of the grading pieces that need no sandbox: zips, links, the journal, the filter, the CLI."""
from __future__ import annotations

import io
import json
import os
import zipfile

import pytest

from grader import journal, seccomp, submissions
from grader.work import _read_notebook, merge
from grader.cli import parser


def _zip(path, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("name", ["../evil.txt", "a/../../evil.txt", "/etc/evil.txt", "C:/evil.txt"])
def test_zip_with_paths_outside_is_refused_and_nothing_is_written(tmp_path, name):
    archive = tmp_path / "student.zip"
    _zip(archive, {"01_normalization/01_normalization.ipynb": b"{}", name: b"x"})
    reason = submissions.extract_zip(archive, tmp_path / "out" / "student")
    assert reason and reason.startswith("unsafe zip")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "evil.txt").exists()


def test_zip_links_are_refused(tmp_path):
    archive = tmp_path / "student.zip"
    info = zipfile.ZipInfo("link")
    info.external_attr = (0o120777 << 16)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(info, "/etc/passwd")
    assert "link" in submissions.extract_zip(archive, tmp_path / "x")


def test_submitted_links_are_not_followed(tmp_path):
    (tmp_path / "secret.txt").write_text("secret")
    folder = tmp_path / "alice" / "01_normalization"
    folder.mkdir(parents=True)
    (folder / "a.txt").write_text("mine")
    os.symlink(tmp_path / "secret.txt", folder / "link.txt")
    files, notes = submissions.read_folder(folder)
    assert files == {"a.txt": b"mine"} and any("link.txt" in n for n in notes)


def test_notebooks_that_cannot_be_read_get_a_reason():
    assert _read_notebook(b"{not json")[1] == "unreadable notebook"
    assert _read_notebook(json.dumps({"nbformat": 3, "worksheets": []}).encode())[1] == \
        "unreadable notebook (nbformat 3)"
    assert _read_notebook(json.dumps({"nbformat": 5, "cells": []}).encode())[1] == "unreadable notebook (nbformat 5)"
    assert _read_notebook(b"\xff\xfe")[1] == "unreadable notebook"


def test_journal_writes_atomically_and_builds_the_csv(tmp_path):
    book = journal.Journal(tmp_path)
    book.put({"student_id": "b", "assignment": "01", "score": 1.0, "max_score": 2.0, "status": "graded",
              "notes": [], "key": "k"})
    book.put({"student_id": "a,1", "assignment": "01", "score": 0, "max_score": 2.0, "status": "kernel died",
              "notes": ["x"], "key": "k"})
    assert book.get("b", "01")["key"] == "k"
    text = book.write_csv().read_text()
    assert text.splitlines()[0] == "student_id,assignment,score,max_score,status,notes"
    assert text.splitlines()[1] == '"a,1",01,0,2,kernel died,x'
    assert not list(tmp_path.rglob("*.tmp"))


def test_seccomp_filter_is_well_formed():
    program = seccomp.program("x86_64")
    assert len(program) % 8 == 0 and 10 < len(program) // 8 < 64


def test_cli_defaults():
    args = parser().parse_args(["grade", "subs", "--out", "out"])
    assert args.timeout == 60 and args.workers == (os.cpu_count() or 1) and not args.force
    assert args.memory == 3 * 1024 ** 3


def _one_test_notebook():
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np"),
        nbformat.v4.new_code_cell("def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return x"),
        nbformat.v4.new_code_cell("from autograder.normalization import check_min_max_scale\n"
                                  "check_min_max_scale(min_max_scale, seed=3)\nprint('passed')")])
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "grade_id": "setup", "locked": True, "solution": False,
                                        "schema_version": 3}
    nb.cells[1].metadata["nbgrader"] = {"grade": False, "grade_id": "f", "locked": False, "solution": True,
                                        "schema_version": 3}
    nb.cells[2].metadata["nbgrader"] = {"grade": True, "grade_id": "t", "points": 2, "solution": False,
                                        "locked": True, "schema_version": 3}
    return nb


def test_grade_cells_are_decided_from_records_with_fresh_seeds():
    """The sandbox gets probes, never the grade cell; the verdict alone decides, from the record."""
    import numpy as np
    from nbgrader.utils import determine_grade

    from grader.work import make_job, merge
    from grader.gradebook import AssignmentInfo
    from grader.sandbox import RunResult
    from grader.submissions import Submission
    from autograder.normalization import check_min_max_scale
    from autograder.probe import encode

    nb = _one_test_notebook()
    info = AssignmentInfo("01_normalization", {"n": nb}, {"n": {"t": 2.0}}, "h")
    job = make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32)
    (probe_cell,) = [c for c in job.job["cells"] if "probes" in c]
    assert "check_min_max_scale" not in str([c.get("source") for c in job.job["cells"]])  # no grade cell inside
    (request,) = probe_cell["probes"]
    seed = request["params"]["seed"]
    assert request["learners"] == ["min_max_scale"] and seed != 3  # a fresh seed, not the cell's
    assert make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32).job["cells"][2] == probe_cell

    def scale(x, feature_range=(0.0, 1.0)):
        span = np.ptp(x, axis=0)
        return (x - x.min(axis=0)) / np.where(span == 0, 1, span)

    # a grade cell that never ran (timeout before it) scores 0
    executed, status, _ = merge(job, RunResult(cells={0: {"i": 0, "outputs": []}}, failure="timeout",
                                               failed_cell=1), info)
    assert status == "timeout in cell f" and determine_grade(executed.cells[2])[0] == 0
    # a correct record for the fresh seed passes; the cell's print is its output
    good = encode(check_min_max_scale.run_probe([scale], {"seed": seed}))
    executed, status, _ = merge(job, RunResult(probes={(2, 0): good}, done=True), info)
    assert status == "graded" and determine_grade(executed.cells[2])[0] == 2
    assert executed.cells[2].outputs[0]["text"] == "passed\n"
    # the answer for the visible seed is worth nothing; neither is forged data or a second message
    stale = encode(check_min_max_scale.run_probe([scale], {"seed": 3}))
    for run in [RunResult(probes={(2, 0): stale}, done=True),
                RunResult(probes={(2, 0): {"$record": {"out": {"$object": "x"}}}}, done=True),
                RunResult(probes={(2, 0): {"$nd": "O", "shape": [1], "data": ""}}, done=True),
                RunResult(probes={(2, 0): good}, duplicates=1, done=True)]:
        executed, _, _ = merge(job, run, info)
        assert determine_grade(executed.cells[2])[0] == 0


def test_corrupt_or_stray_result_files_are_reported_not_fatal(tmp_path):
    book = journal.Journal(tmp_path)
    book.put({"student_id": "a", "assignment": "01", "score": 1.0, "max_score": 2.0, "status": "graded",
              "notes": [], "key": "k"})
    folder = tmp_path / ".grading" / "results" / "01"
    (folder / "stray.json").write_text('{"hello": 1}')
    (folder / "corrupt.json").write_text('{"student_id": ')
    (folder / "dir.json").mkdir()
    fresh = journal.Journal(tmp_path)
    assert [r["student_id"] for r in fresh.records()] == ["a"]
    assert "a" in fresh.write_csv().read_text()
    assert len(fresh.problems) == 3 and all("graded again" in p for p in fresh.problems)


@pytest.mark.parametrize("student, usable", [
    ("zoë-ünïcode", True), ("x" * 150, True), ("alice smith", True),
    ("é" * 150, False), ("bad\nname", False), (" padded", False), ("", False)])
def test_student_ids_nbgrader_can_use_are_kept_and_others_get_a_reason(student, usable):
    assert (submissions.id_problem(student) is None) == usable


def test_unusable_ids_and_symlinked_folders_get_a_row(tmp_path):
    root = tmp_path / "submitted"
    (root / "real" / "01_normalization").mkdir(parents=True)
    (root / "real" / "01_normalization" / "01_normalization.ipynb").write_text("{}")
    os.symlink(root / "real", root / "linked")
    (root / ("é" * 110)).mkdir()  # 220 bytes: a legal folder name, too long for an id
    found, _ = submissions.discover(root, {"01_normalization": {"01_normalization"}}, tmp_path / "staging")
    by_student = {s.student: s for s in found}
    assert set(by_student) == {"real", "linked", "é" * 110}
    # a usable id: a row with the assignment's maximum and a clear refusal (never 0/0, never the target's work)
    assert not by_student["linked"].rejected and by_student["linked"].problem.startswith("refused: symbolic link")
    assert not by_student["linked"].files
    assert by_student["é" * 110].rejected and "student id" in by_student["é" * 110].problem
    assert not by_student["real"].rejected


def test_a_sandbox_that_will_not_start_is_retried_then_reported_as_the_graders_failure(tmp_path, monkeypatch):
    """Never a zero for the learner: no score, a status that says the grader failed, regraded on the next run."""
    from grader import batch, sandbox

    (tmp_path / "sub" / "s" / "01_normalization").mkdir(parents=True)
    from autograder.course import SOLUTIONS

    (tmp_path / "sub" / "s" / "01_normalization" / "01_normalization.ipynb").write_text(
        (SOLUTIONS / "01_normalization" / "01_normalization.ipynb").read_text())
    calls = tmp_path / "calls"  # the workers are processes: they count in a file

    def refuse(self, job, n_code):
        with open(calls, "a") as handle:
            handle.write("1")
        return sandbox.RunResult(failure="start", detail="SIGKILL")

    monkeypatch.setattr(batch, "preflight", lambda hidden: None)
    monkeypatch.setattr(batch.sandbox.WarmSandbox, "run", refuse)
    monkeypatch.setattr(batch.time, "sleep", lambda s: None)
    options = batch.Options(workers=1, assignments=["01_normalization"], progress=False)
    result = batch.grade(tmp_path / "sub", tmp_path / "out", options)
    (row,) = result["records"]
    assert len(calls.read_text()) == batch.START_ATTEMPTS
    assert row["status"].startswith("grader failure") and row["score"] is None and row["key"] == ""
    assert "s,01_normalization,,12," in (tmp_path / "out" / "grades.csv").read_text()
    again = batch.grade(tmp_path / "sub", tmp_path / "out", options)
    assert again["skipped"] == 0 and again["graded"] == 1  # graded again, not kept as a result


def test_no_sandbox_at_all_stops_the_run_with_a_message(tmp_path, monkeypatch):
    from grader import batch

    monkeypatch.setattr(batch.sandbox, "check_bwrap", lambda: "bubblewrap is not installed")
    (tmp_path / "sub").mkdir()
    with pytest.raises(SystemExit, match="cannot grade: bubblewrap is not installed"):
        batch.grade(tmp_path / "sub", tmp_path / "out", batch.Options(progress=False))


def test_learner_markdown_carries_no_script_into_feedback():
    import nbformat

    from autograder.feedback import SanitizeMarkdown

    cell = nbformat.v4.new_markdown_cell("# Mine <script>alert(1)</script><img src=x onerror=alert(2)>\n"
                                         "[a](javascript:alert(3)) <a href='javascript:x'>b</a> **kept** [ok](https://x.org)")
    text = SanitizeMarkdown().preprocess_cell(cell, {}, 0)[0].source
    assert "<script" not in text and "onerror" not in text and "javascript:" not in text.lower()
    assert "**kept**" in text and "[ok](https://x.org)" in text


def test_preload_imports_what_the_verdicts_import_inside_their_functions():
    """The head imports, before forking its workers, every module the checks import lazily (read from their source)."""
    from grader import work

    imported = work.preload(["06_dropout", "01_normalization"], feedback=True)
    for name in ("autograder.dropout", "scipy.stats", "torch.nn.functional", "autograder.normalization",
                 "sklearn.preprocessing", "latex2mathml.converter", "torch.fx.experimental.symbolic_shapes"):
        assert name in imported, name
    assert "sklearn.preprocessing" not in work.preload(["06_dropout"], feedback=False)


def test_a_sandbox_that_fails_its_preflight_stops_the_run_before_any_grade(tmp_path, monkeypatch):
    """The preflight runs on a thread while the head prepares: its failure still stops the run, and nothing is graded."""
    from grader import batch
    from autograder.course import SOLUTIONS

    folder = tmp_path / "sub" / "s" / "01_normalization"
    folder.mkdir(parents=True)
    (folder / "01_normalization.ipynb").write_text((SOLUTIONS / "01_normalization" / "01_normalization.ipynb").read_text())

    def broken(hidden):
        raise SystemExit("cannot grade: the sandbox cannot run the course's code (test)")

    monkeypatch.setattr(batch, "preflight", broken)
    with pytest.raises(SystemExit, match="cannot run the course's code"):
        batch.grade(tmp_path / "sub", tmp_path / "out", batch.Options(workers=1, progress=False))
    grades = tmp_path / "out" / "grades.csv"
    assert not grades.exists() or len(grades.read_text().splitlines()) == 1  # the header alone


def test_a_submission_the_worker_holds_past_its_bound_is_a_grader_failure_and_the_run_goes_on(tmp_path, monkeypatch):
    """A worker stuck outside the sandbox (a notebook that makes a trusted step endless) costs its row only: the head
    gives up on it at its bound, replaces the worker, and grades the submission queued behind it."""
    import time

    from autograder.course import SOLUTIONS
    from grader import batch, work

    for student in ("a-stuck", "b-fine"):
        folder = tmp_path / "sub" / student / "01_normalization"
        folder.mkdir(parents=True)
        (folder / "01_normalization.ipynb").write_text(
            (SOLUTIONS / "01_normalization" / "01_normalization.ipynb").read_text())

    def grade(self, task):
        if task.student == "a-stuck":
            while True:  # stuck in the trusted side's work
                time.sleep(1)
        return work.Outcome(task.student, task.assignment, statuses={"01_normalization": "graded"})

    monkeypatch.setattr(batch, "preflight", lambda hidden: None)
    monkeypatch.setattr(work.Worker, "grade", grade)
    monkeypatch.setattr(batch, "submission_bound", lambda options, notebooks: 2.0)
    monkeypatch.setattr(batch, "WAIT_SECONDS", 0.2)
    started = time.monotonic()
    result = batch.grade(tmp_path / "sub", tmp_path / "out",
                         batch.Options(workers=1, assignments=["01_normalization"], progress=False, feedback=False))
    assert time.monotonic() - started < 60
    rows = {r["student_id"]: r for r in result["records"]}
    assert rows["a-stuck"]["status"].startswith("grader failure: the grader's own work") and "too long" in \
        rows["a-stuck"]["status"] and rows["a-stuck"]["score"] is None
    assert rows["b-fine"]["status"] == "graded"


def test_the_bound_on_a_submission_covers_the_sandbox_and_minutes_of_trusted_work():
    from grader import batch, sandbox

    options = batch.Options()
    assert batch.submission_bound(options, 1) >= batch.TRUSTED_SECONDS + sandbox.BUDGETED_CELLS * options.cell_timeout
    assert batch.submission_bound(options, 2) == 2 * batch.submission_bound(options, 1)


@pytest.mark.parametrize("text", [
    "See [the book](" + " " * 40000 + "x",          # the attacker's SCRIPT_LINK input (40 KB: 16 s before)
    "a" + " " * 40000 + "x",                          # mistune itself is quadratic in a run of spaces
    "[a](<" + " " * 40000 + "x", "](" * 20000, "$\\text{" * 8000 + "$", "$$" + "\\text{a" * 8000 + "$$",
    "<img" * 20000, "![x](" + " " * 40000,
])
def test_learner_markdown_is_cleaned_and_rendered_in_linear_time(text):
    """Every regular expression applied to learner markdown, and the markdown renderer after them, on large
    adversarial input: well under a second each (the quadratic forms took seconds to hours)."""
    import time

    import nbformat
    from nbconvert.filters.markdown import markdown2html

    from autograder.feedback import SanitizeMarkdown, strip_files_prefix_with_mathml

    started = time.process_time()
    cell = SanitizeMarkdown().preprocess_cell(nbformat.v4.new_markdown_cell(text), {}, 0)[0]
    strip_files_prefix_with_mathml(markdown2html(cell.source))
    assert time.process_time() - started < 3.0


def test_the_cleaned_script_link_pattern_still_catches_every_spelling():
    from autograder.feedback import SCRIPT_LINK

    for text in ["[a](javascript:x)", "[a]( <  JavaScript :x)", "[a](<data:x)", "[a](\n vbscript:x)", "[a](< data :x)"]:
        assert SCRIPT_LINK.search(text), text
    for text in ["[a](https://x.org)", "[a](<https://x.org>)", "[a](javascript)"]:
        assert not SCRIPT_LINK.search(text), text


def test_markdown_images_from_elsewhere_become_words_and_inline_pictures_stay():
    from nbconvert.filters.markdown import markdown2html

    from autograder.feedback import strip_files_prefix_with_mathml

    page = strip_files_prefix_with_mathml(markdown2html(
        "![tracking pixel](https://tracker.example.invalid/md.png) ![by ref][r] ![](//host/x.png)\n\n"
        "[r]: http://t.invalid/r.png\n\n![inline](data:image/png;base64,iVBORw0KGgo=)"))
    assert "tracker.example.invalid" in page and "<img src=\"https" not in page and "//host" in page
    assert page.count("<img") == 1 and 'src="data:image/png;base64,iVBORw0KGgo="' in page
    assert "[image not loaded: tracking pixel (https://tracker.example.invalid/md.png)]" in page


def test_feedback_pages_and_the_class_report_forbid_every_load():
    """A Content-Security-Policy in every page made for people: nothing from the network, the disk or the host."""
    from autograder.course import CONTENT_SECURITY_POLICY, CSP_META, REPO
    from grader import class_report
    from grader.gradebook import status_page

    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "img-src data:;" in CONTENT_SECURITY_POLICY
    template = (REPO / "autograder" / "templates" / "course_feedback" / "mathjax.html.j2").read_text()
    assert f'content="{CONTENT_SECURITY_POLICY}"' in template   # the template writes the same policy
    for page in (status_page("s", "01_normalization", "01_normalization", "unreadable notebook", 0, 12),
                 class_report.render([])):
        head = page.split("</head>")[0]
        assert CSP_META in head or CSP_META.replace('"', "'") in head, head[:300]


def test_restoring_cell_metadata_is_linear_in_the_number_of_cells():
    """50,000 cells claiming grade ids (the attacker's 7 MB notebook): quadratic, 46 s of a worker's CPU before."""
    import time

    import nbformat

    from autograder.course import SOLUTIONS
    from grader.gradebook import restore_cell_metadata

    release = nbformat.read(SOLUTIONS / "01_normalization" / "01_normalization.ipynb", as_version=4)
    nb = nbformat.from_dict({"cells": [{"cell_type": "raw", "source": "", "metadata": {"nbgrader": {
        "grade_id": f"g{i % 25000}"}}} for i in range(50000)]})
    started = time.process_time()
    notes = restore_cell_metadata(nb, release)
    assert time.process_time() - started < 5.0
    assert any(n.startswith("duplicated cells") for n in notes)


def _two_test_notebook(refused: str, where: str):
    """Two functions, each with its test; ``refused`` (code the reading refuses) in a cell ``where``: "between" the
    tests, "inside" the second function's cell, "after" the last test or "early" (a function defined before both
    tests, called only by the second)."""
    import nbformat

    nb = _one_test_notebook()
    second = nbformat.v4.new_code_cell("def z_score(x):\n    return x")
    second.metadata["nbgrader"] = {"grade": False, "grade_id": "g", "locked": False, "solution": True,
                                   "schema_version": 3}
    test = nbformat.v4.new_code_cell("from autograder.normalization import check_min_max_scale\n"
                                     "check_min_max_scale(min_max_scale, seed=4)")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "t2", "points": 3, "solution": False, "locked": True,
                                 "schema_version": 3}
    nb.cells += [second, test]
    if where == "between":
        nb.cells.insert(3, nbformat.v4.new_code_cell(refused))
    elif where == "inside":
        second.source = refused + "\n" + second.source
    elif where == "after":
        nb.cells.append(nbformat.v4.new_code_cell(refused))
    elif where == "early":
        nb.cells.insert(1, nbformat.v4.new_code_cell("def helper(x):\n    " + refused.replace("\n", "\n    ")))
    return nb


@pytest.mark.parametrize("refused", ["eval('1 + 1')", "import numpy as np\nrng = np.random.default_rng()\n"
                                     "kind = 'uniform'\nsample = getattr(rng, kind)(0, 1)",
                                     "name = 'x'\nwith open(f'stats_{name}.txt', 'w') as f:\n    f.write('1')",
                                     "%load_ext autoreload"])
@pytest.mark.parametrize("where", ["between", "inside", "after", "early"])
def test_hidden_code_costs_only_the_tests_after_the_first_cell_holding_it(refused, where):
    """The notebook runs up to (not including) the first cell the reading refuses; the tests before it are graded
    as usual, those after it score nothing with a message naming the cell; the row's status says hidden code."""
    import numpy as np
    from nbgrader.utils import determine_grade

    from autograder.normalization import check_min_max_scale
    from autograder.probe import encode
    from grader.gradebook import AssignmentInfo
    from grader.sandbox import RunResult
    from grader.submissions import Submission
    from grader.work import make_job

    nb = _two_test_notebook(refused, where)
    info = AssignmentInfo("01_normalization", {"n": _two_test_notebook("pass", "none")},
                          {"n": {"t": 2.0, "t2": 3.0}}, "h")
    job = make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32, all_cells=True)
    cut = {"between": 3, "inside": 3, "after": 5, "early": 1}[where]
    assert job.review.hidden and job.cut == cut
    # nothing from the refused cell on runs: it is not in the job at all
    assert [c["i"] for c in job.job["cells"]] == list(range(cut)) and refused not in json.dumps(job.job)

    def scale(x, feature_range=(0.0, 1.0)):
        span = np.ptp(x, axis=0)
        return (x - x.min(axis=0)) / np.where(span == 0, 1, span)

    probes = {}
    for cell in job.job["cells"]:
        for k, request in enumerate(cell.get("probes", [])):
            probes[(cell["i"], k)] = encode(check_min_max_scale.run_probe([scale], request["params"]))
    executed, status, notes = merge(job, RunResult(probes=probes, done=True), info)
    scores = {c.metadata["nbgrader"]["grade_id"]: determine_grade(c)[0] for c in executed.cells
              if c.metadata.get("nbgrader", {}).get("grade")}
    assert scores == {"between": {"t": 2, "t2": 0}, "inside": {"t": 2, "t2": 0}, "after": {"t": 2, "t2": 3},
                      "early": {"t": 0, "t2": 0}}[where]
    assert status.startswith("hidden code: ")   # listed under "work that needs a look", whatever the score
    assert any(f"ran up to cell {cut + 1}" in n for n in notes)
    for test in job.tests:
        if test["points"] == 0:
            assert test["message"].startswith(f"not graded: this test comes after cell {cut + 1}, which hides")
            assert not test["checked"]
        else:
            assert test["checked"] and test["passed"]
    assert executed.cells[cut].outputs[0]["ename"] == "HiddenCode"
    # what a forged message claims for a cell after the cut is never shown (the cell did not run)
    forged = RunResult(probes=probes, done=True, cells={i: {"i": i, "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "forged"}]} for i in range(len(nb.cells))})
    executed, _, _ = merge(job, forged, info)
    assert all("forged" not in json.dumps(c.get("outputs", [])) for c in executed.cells[cut:])


def test_a_notebook_without_hidden_code_is_not_cut():
    from grader.gradebook import AssignmentInfo
    from grader.submissions import Submission
    from grader.work import hidden_code_cut, make_job

    nb = _two_test_notebook("pass", "none")
    info = AssignmentInfo("01_normalization", {"n": nb}, {"n": {"t": 2.0, "t2": 3.0}}, "h")
    job = make_job(Submission("s", "01_normalization"), info, "n", nb, secret=b"k" * 32)
    assert job.cut is None and not job.review.hidden and len(job.job["cells"]) == len(nb.cells)
    assert hidden_code_cut([]) == (None, None)

    class Odd:   # a finding without a usable cell: cut at the start (fails closed)
        cell, line = None, 3
    assert hidden_code_cut([Odd()])[0] == 0


def test_a_notebook_with_more_cells_than_any_learner_writes_is_unreadable_before_it_is_parsed():
    from grader.work import MAX_CELLS

    cell = {"cell_type": "raw", "metadata": {}, "source": ""}
    many = json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell] * (MAX_CELLS + 1)})
    nb, reason = _read_notebook(many.encode())
    assert nb is None and reason.startswith("unreadable notebook (too many cells")
    nb, reason = _read_notebook(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                            "cells": [cell] * 10}).encode())
    assert nb is not None and reason == "graded"


def test_an_untouched_korean_notebook_has_no_edited_locked_cells_and_an_edit_is_still_seen(tmp_path):
    """A Korean notebook's locked cells hold the Korean release's words: not an edit (attack 4 found every
    Korean submission noted "edited locked cells restored", which hid the real edits among the false ones)."""
    import nbformat

    from autograder.notebooks import exercises_dir
    from grader.gradebook import CourseBook

    assignment = "01_normalization"
    (path,) = sorted((exercises_dir("ko") / assignment).glob("*.ipynb"))
    book = CourseBook(tmp_path)
    untouched = nbformat.read(path, as_version=4)
    _, notes = book.sanitize("ko-blank", assignment, path.stem, untouched)
    assert not [n for n in notes if n.startswith("edited locked cells")], notes

    edited = nbformat.read(path, as_version=4)
    test = next(c for c in edited.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_min_max_scale")
    test.source += "\nprint('changed')"
    _, notes = book.sanitize("ko-edit", assignment, path.stem, edited)
    assert "edited locked cells restored: test_min_max_scale" in notes, notes


def test_a_hidden_tests_message_hides_what_the_code_wrote_but_not_the_grade_cells_own_words():
    """Attack 5: a hidden grid's names came back in the learner's result and were masked as 'what your code wrote',
    in an honest learner's feedback; the cell's own parameters are the grader's words wherever they come back."""
    from grader.cells import HIDDEN_TEXT, Request, param_texts, without_sandbox_text

    requests = [Request("autograder.hyperparameter_search:check_grid_search", ["grid_search"],
                        {"grid": {"weight_decay": [0.0, 0.1], "activation": ["relu", "tanh"]}, "seed": 7})]
    records = [{"results": [[{"weight_decay": 0.0, "activation": "relu"}, 1.0]],
                "printed": "secret hidden input shape (13, 17)"}]
    message = ("grid_search: configuration 0 has names ['activation', 'weight_decay'] ...; "
               "your code said: secret hidden input shape (13, 17)")
    shown = without_sandbox_text(message, records, param_texts(requests))
    assert "weight_decay" in shown and "activation" in shown
    assert "secret hidden input" not in shown and HIDDEN_TEXT in shown
