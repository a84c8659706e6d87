"""Grading a batch: plan, run the sandboxes in parallel, decide, record every result as soon as it is known.

The main thread owns the gradebook, the feedback, the journal and every
verdict; worker threads only wait on sandboxes (``sandbox.run``), so any number
of workers gives one writer, and no score is decided where learner code runs.
For each notebook the main thread reads the learner's cells (``policy``),
collects the probes its grade cells ask for (``cells.collect``, fresh seeds),
sends the learner's cells and the probes to a sandbox, and runs the verdicts
on the records that come back (``cells.verdicts``). A submission is recorded
(gradebook committed, feedback written, journal entry replaced atomically,
grades.csv rewritten) before the next result is looked at. A notebook's
failure (it timed out, crashed, ran out of memory, flooded its output) becomes
its status and zero for what did not pass; a sandbox that did not start is
retried, and if it still cannot start the row says the grader failed (no
score) and the next run grades it again. Nothing stops the batch.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import textwrap
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import assignments as known_assignments
from autograder.course import notebooks as source_notebooks
from autograder.forbidden import RULES
from grader import cells as cells_module
from grader import journal as journal_module
from grader import policy, sandbox
from grader.gradebook import CourseBook, status_page
from grader.report import Progress, summary
from grader.submissions import Submission, discover
from autograder.feedback import mistake_note
from autograder.probe import BadRecord, GraderError, Record, decode

START_ATTEMPTS = 3  # a sandbox that does not start is the grader's failure: try again before giving up


@dataclass
class Options:
    workers: int = os.cpu_count() or 1
    cell_timeout: float = sandbox.DEFAULT_TIMEOUT
    memory: int = sandbox.DEFAULT_MEMORY
    assignments: list[str] | None = None
    force: bool = False
    progress: bool = True
    all_cells: bool = False   # also run the cells after the last grade cell (they cannot change a score)
    book_url: str | None = None   # where the book is published (feedback and report link to it); None: the setting
    exports: tuple[str, ...] = ()  # LMS grade files to write besides grades.csv: "canvas", "moodle"


@dataclass
class NotebookJob:
    notebook: str
    nb: nbformat.NotebookNode          # sanitized, ready to run
    job: dict
    n_code: int
    grade_cells: dict[int, cells_module.GradeCell] = field(default_factory=dict)   # cell index -> grade cell
    requests: dict[int, list] = field(default_factory=dict)                      # cell index -> its Requests
    review: policy.Review = field(default_factory=policy.Review)
    libraries: tuple[str, ...] | None = None
    attempts: int = 0
    tests: list[dict] = field(default_factory=list)   # one verdict per grade cell, for results.jsonl
    points: dict[str, float] = field(default_factory=dict)   # grade_id -> its points


@dataclass
class Pending:
    submission: Submission
    key: str
    notes: list[str]
    statuses: dict[str, str] = field(default_factory=dict)     # notebook -> status
    executed: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    waiting: int = 0
    tests: list[dict] = field(default_factory=list)            # every grade cell's verdict
    seconds: dict[str, float] = field(default_factory=dict)    # notebook -> wall time in its sandbox
    timeouts: list[dict] = field(default_factory=list)         # {"notebook", "cell"} that hit the time limit


def grade(submissions_dir: Path, out: Path, options: Options) -> dict:
    """Grade everything under ``submissions_dir`` into ``out``; return the summary numbers."""
    import warnings as _warnings

    _warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy chatter
    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    names = options.assignments or known_assignments()
    unknown = [a for a in names if a not in known_assignments()]
    if unknown:
        raise SystemExit(f"unknown assignment(s): {', '.join(unknown)} (known: {', '.join(known_assignments())})")
    hidden = [Path(submissions_dir), out, sandbox.REPO, Path.cwd()]
    preflight(hidden)
    book = CourseBook(out)
    journal = journal_module.Journal(out)
    secret = journal_module.secret(out)
    releases = {assignment: {p.stem for p in source_notebooks(assignment)} for assignment in names}
    staging = out / ".grading" / "unpacked"
    submissions, warnings = discover(Path(submissions_dir), releases, staging, options.assignments)
    infos = {a: book.prepare(a) for a in sorted({s.assignment for s in submissions if not s.rejected})}
    settings = json.dumps([options.cell_timeout, options.memory, options.all_cells, journal_module.grader_hash()])

    todo: list[tuple[Submission, str]] = []
    skipped = 0
    for submission in submissions:
        source_hash = infos[submission.assignment].source_hash if submission.assignment in infos else ""
        key = journal_module.key(submission.digest, source_hash, settings)
        previous = journal.get(submission.student, submission.assignment)
        if previous and previous.get("key") == key and not options.force:
            skipped += 1
            continue
        todo.append((submission, key))

    progress = Progress(len(todo), enabled=options.progress)
    progress.show(force=True)
    notebooks_run = 0
    last_csv = 0.0

    def record(pending: Pending):
        nonlocal last_csv
        submission = pending.submission
        if submission.rejected:
            journal.put({"student_id": submission.student, "assignment": submission.assignment, "score": 0.0,
                         "max_score": 0.0, "status": submission.problem, "notes": pending.notes,
                         "key": pending.key, "notebooks": {}})
            progress.advance(ok=False)
            return
        info = infos[submission.assignment]
        score, max_score = 0.0, info.max_score
        if not submission.problem:
            try:
                score, max_score = book.score(submission.student, submission.assignment)
            except Exception as error:  # noqa: BLE001
                pending.notes.append(f"score unavailable: {type(error).__name__}")
        problems = [s for s in pending.statuses.values() if s != "graded"]
        status = submission.problem or (problems[0] if problems else "graded")
        grader_failed = status.startswith("grader failure")
        for notebook in info.release:
            folder = out / "feedback" / submission.student / submission.assignment
            folder.mkdir(parents=True, exist_ok=True)
            page = None
            if notebook in pending.executed and not grader_failed:
                try:
                    page = book.feedback_html(submission.student, submission.assignment, notebook,
                                              pending.executed[notebook])
                except Exception as error:  # noqa: BLE001 - a feedback page must not lose the grade
                    pending.notes.append(f"feedback page failed: {type(error).__name__}")
            if page is None:
                page = status_page(submission.student, submission.assignment, notebook,
                                   pending.statuses.get(notebook, status), score, max_score)
            journal_module._atomic_write(folder / f"{notebook}.html", page)
        journal.put({"student_id": submission.student, "assignment": submission.assignment,
                     "score": None if grader_failed else round(score, 6), "max_score": max_score, "status": status,
                     "notes": pending.notes, "key": "" if grader_failed else pending.key,
                     "notebooks": pending.statuses, "tests": _all_tests(info, pending),
                     "seconds": pending.seconds, "timeouts": pending.timeouts})
        now = time.monotonic()
        if now - last_csv > 1.0:
            journal.write_csv()
            last_csv = now
        progress.advance(ok=status == "graded")

    def begin(submission: Submission, key: str) -> tuple[Pending, list[NotebookJob]]:
        """Main thread: gradebook rows, sanitized notebooks, jobs (nothing is run here)."""
        pending = Pending(submission, key, list(submission.notes))
        if submission.rejected:
            return pending, []
        info = infos[submission.assignment]
        book.start_submission(submission.student, submission.assignment, _timestamp(submission))
        if submission.problem:
            for notebook in info.release:
                book.zero_notebook(submission.student, submission.assignment, notebook)
            return pending, []
        jobs = []
        present = {name for name in submission.files if "/" not in name and name.endswith(".ipynb")}
        for notebook in info.release:
            filename = f"{notebook}.ipynb"
            if filename not in submission.files:
                others = sorted(present - {f"{n}.ipynb" for n in info.release})
                pending.statuses[notebook] = "missing notebook"
                if others:
                    pending.notes.append(f"{filename} not found (found {', '.join(others[:3])})")
                book.zero_notebook(submission.student, submission.assignment, notebook)
                continue
            nb, reason = _read_notebook(submission.files[filename])
            if nb is None:
                pending.statuses[notebook] = reason
                book.zero_notebook(submission.student, submission.assignment, notebook)
                continue
            try:
                nb, notes = book.sanitize(submission.student, submission.assignment, notebook, nb)
            except Exception as error:  # noqa: BLE001 - nbgrader refused the notebook
                pending.statuses[notebook] = "invalid cell metadata"
                pending.notes.append(f"{notebook}: {type(error).__name__}: {str(error)[:200]}")
                book.zero_notebook(submission.student, submission.assignment, notebook)
                continue
            pending.notes += [f"{notebook}: {n}" if len(info.release) > 1 else n for n in notes]
            jobs.append(make_job(submission, info, notebook, nb, secret, options.all_cells))
        return pending, jobs

    def finish_notebook(pending: Pending, job: NotebookJob, run: sandbox.RunResult):
        submission = pending.submission
        info = infos[submission.assignment]
        executed, status, notes = merge(job, run, info, options.book_url)
        pending.notes += notes
        executed = book.save(submission.student, submission.assignment, job.notebook, executed)
        pending.executed[job.notebook] = executed
        pending.statuses[job.notebook] = status
        pending.tests += job.tests
        pending.seconds[job.notebook] = round(run.wall, 3)
        if run.failure == "timeout" and run.failed_cell is not None:
            pending.timeouts.append({"notebook": job.notebook,
                                     "cell": info.cell_name(job.notebook, job.nb, run.failed_cell)})

    # one library set after the other: a worker's warm sandboxes are reused instead of replaced
    queue = sorted(todo, key=lambda item: RULES[item[0].assignment].libraries if item[0].assignment in RULES else ())
    queue.reverse()
    in_flight = {}
    graded_now = 0
    warm = sandbox.WarmPool(_limits(options), hidden)
    pool = ThreadPoolExecutor(max_workers=max(1, options.workers))
    # (no ``with pool``: leaving it would wait for the running sandboxes on Ctrl-C)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < 2 * max(1, options.workers):
                submission, key = queue.pop()
                try:
                    pending, jobs = begin(submission, key)
                except Exception as error:  # noqa: BLE001 - one odd submission must not stop the batch
                    submission.problem = f"grader failure ({type(error).__name__})"
                    pending, jobs = Pending(submission, key, [f"{type(error).__name__}: {str(error)[:300]}"]), []
                    _quietly(book.zero_notebook, submission, infos)
                if not jobs:
                    record(pending)
                    graded_now += 1
                    continue
                pending.waiting = len(jobs)
                for job in jobs:
                    future = pool.submit(warm.run, job.job, job.n_code, job.libraries)
                    in_flight[future] = (pending, job)
            if not in_flight:
                continue
            done, _ = wait(list(in_flight), return_when=FIRST_COMPLETED)
            for future in done:
                pending, job = in_flight.pop(future)
                try:
                    run = future.result()
                except Exception as error:  # noqa: BLE001 - a grader bug must not stop the batch
                    run = sandbox.RunResult(failure="start", detail=f"{type(error).__name__}: {error}")
                job.attempts += 1
                if run.failure == "start" and job.attempts < START_ATTEMPTS:
                    time.sleep(0.5 * job.attempts)  # the grader's own failure (e.g. a loaded machine): again
                    retry = pool.submit(warm.run, job.job, job.n_code, job.libraries)
                    in_flight[retry] = (pending, job)
                    continue
                notebooks_run += 1
                try:
                    finish_notebook(pending, job, run)
                except Exception as error:  # noqa: BLE001
                    pending.statuses[job.notebook] = f"grader failure ({type(error).__name__})"
                    pending.notes.append(f"{job.notebook}: {type(error).__name__}: {str(error)[:300]}")
                    _quietly(book.zero_notebook, pending.submission, infos, job.notebook)
                pending.waiting -= 1
                if pending.waiting == 0:
                    record(pending)
                    graded_now += 1
    except BaseException:  # Ctrl-C: stop the sandboxes now; what was recorded stays recorded
        sandbox.kill_all()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        warm.close()
        journal.write_csv()
        journal_module.write_results(out, journal.records())
        progress.finish()
    wall = time.monotonic() - started
    records = journal.records()
    report_started = time.monotonic()
    from grader import class_report, exports

    written = []
    try:  # the grades are recorded already: a report that fails is reported, never a lost run
        class_report.write(out, records, book_url=options.book_url)
        written = [exports.write(out, records, kind) for kind in options.exports]
    except Exception as error:  # noqa: BLE001
        warnings.append(f"the report or an export could not be written ({type(error).__name__}: {str(error)[:300]}); "
                        f"`python -m autograder report {out}` tries again")
    report_wall = time.monotonic() - report_started
    text = summary(records, graded_now, skipped, wall, notebooks_run, warnings + journal.problems, out)
    text += f"\nreport: {out}/report.html ({report_wall:.1f} s)" + "".join(f"\nexport: {path}" for path in written)
    return {"summary": text, "graded": graded_now, "skipped": skipped, "wall": wall + report_wall,
            "notebooks_run": notebooks_run, "records": records, "report_wall": report_wall}


def _all_tests(info, pending: Pending) -> list[dict]:
    """A verdict for every grade cell of the release: those that were checked, and the rest as not checked."""
    seen = {(t["notebook"], t["test"]) for t in pending.tests}
    tests = list(pending.tests)
    for notebook, points in info.points.items():
        for grade_id, maximum in points.items():
            if (notebook, grade_id) not in seen:
                tests.append({"notebook": notebook, "test": grade_id, "hidden": grade_id in info.hidden.get(notebook, ()),
                              "checked": False, "passed": False, "points": 0.0, "max_points": maximum,
                              "mistakes": [], "message": pending.statuses.get(notebook, pending.submission.problem
                                                                               or "not graded")})
    order = {(nb, g): i for i, (nb, g) in enumerate((nb, g) for nb, p in info.points.items() for g in p)}
    return sorted(tests, key=lambda t: order.get((t["notebook"], t["test"]), len(order)))


def preflight(hidden: list[Path]) -> None:
    """Stop with a clear error when no sandbox can start, instead of giving a whole class zero."""
    problem = sandbox.check_bwrap()
    if problem:
        raise SystemExit(f"cannot grade: {problem}")
    job = {"nonce": secrets.token_hex(8), "cells": [{"i": 0, "source": "import autograder.probe"}], "files": {}}
    for attempt in range(START_ATTEMPTS):
        run = sandbox.run(job, sandbox.Limits(cell_timeout=60), hidden, 1, libraries=("numpy",))
        error = [o for o in run.cells.get(0, {}).get("outputs", []) if o.get("output_type") == "error"]
        if run.done and not error:
            return
        time.sleep(1 + attempt)
    detail = run.detail or (f"{error[0].get('ename')}: {error[0].get('evalue')}" if error else run.failure)
    raise SystemExit(f"cannot grade: the sandbox cannot run the course's code ({str(detail)[:500]}); "
                     f"check that bubblewrap works and that the course is installed in this environment")


def _quietly(zero, submission: Submission, infos, notebook: str | None = None) -> None:
    """Zero the grades of a submission that could not be graded, ignoring a second failure."""
    for name in [notebook] if notebook else list(infos[submission.assignment].release):
        try:
            zero(submission.student, submission.assignment, name)
        except Exception:  # noqa: BLE001
            pass


def _limits(options: Options) -> sandbox.Limits:
    return sandbox.Limits(cell_timeout=options.cell_timeout, memory=options.memory)


def _timestamp(submission: Submission):
    raw = submission.files.get("timestamp.txt")
    if not raw:
        return None
    try:
        from nbgrader.utils import parse_utc
        return parse_utc(raw.decode().strip())
    except Exception:  # noqa: BLE001 - an unreadable timestamp is ignored, as nbgrader does
        return None


def _read_notebook(raw: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "unreadable notebook"
    if not isinstance(data, dict) or not isinstance(data.get("cells", None), list):
        return None, "unreadable notebook" if data.get("nbformat") == 4 or not isinstance(data, dict) else \
            f"unreadable notebook (nbformat {data.get('nbformat')})"
    if data.get("nbformat") != 4:
        return None, f"unreadable notebook (nbformat {data.get('nbformat')})"
    try:
        nb = nbformat.reads(json.dumps(data), as_version=4)
        for cell in nb.cells:
            if not isinstance(cell.get("source", ""), str) or cell.get("cell_type") not in ("code", "markdown", "raw"):
                return None, "unreadable notebook"
            cell.setdefault("metadata", nbformat.NotebookNode())
            if cell.cell_type == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
    except Exception:  # noqa: BLE001 - anything nbformat cannot read
        return None, "unreadable notebook"
    return nb, "graded"


def make_job(submission: Submission, info, notebook: str, nb: nbformat.NotebookNode, secret: bytes,
             all_cells: bool = False) -> NotebookJob:
    """What the sandbox runs: the learner's cells, and at each grade cell's place the probes it asks for."""
    rules = RULES.get(submission.assignment)
    release = info.release[notebook]
    release_sources = {cell.source for cell in release.cells if cell.cell_type == "code"}
    course_sources = [cell.source for cell in nb.cells if cell.cell_type == "code"
                      and (cell.metadata.get("nbgrader", {}).get("locked")
                           or cell.metadata.get("nbgrader", {}).get("grade"))]
    cells, learner_cells = [], []
    result = NotebookJob(notebook, nb, {}, 0)
    result.points = info.points.get(notebook, {})
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            grade_cell = cells_module.GradeCell(index, meta.get("grade_id", f"#{index + 1}"), cell.source,
                                                cells_module.cell_namespace(course_sources, cell.source))
            seeds = cells_module.seed_maker(secret, submission.student, submission.assignment, notebook,
                                            grade_cell.grade_id)
            requests = cells_module.collect(grade_cell, seeds)
            result.grade_cells[index], result.requests[index] = grade_cell, requests
            cells.append({"i": index, "probes": [{"check": r.check, "learners": r.learners,
                                                  "params": cells_module.encode_params(r.params)} for r in requests]})
            continue
        cells.append({"i": index, "source": cell.source})
        if meta.get("solution") or (not meta.get("locked") and cell.source not in release_sources):
            learner_cells.append((index, cell.source))
    if not all_cells:
        # what follows the last grade cell cannot change a score: not run (shown without outputs)
        while cells and "probes" not in cells[-1]:
            cells.pop()
    if rules is not None:
        result.review = policy.review(learner_cells, course_sources, rules)
        result.libraries = rules.libraries
    files = dict(submission.files)
    files.update(info.extra_files)  # the course's own files win, as in nbgrader autograde
    files = {name: base64.b64encode(data).decode() for name, data in files.items() if not name.endswith(".ipynb")}
    result.job = {"nonce": secrets.token_hex(16), "cells": cells, "files": files}
    result.n_code = len(cells)
    return result


OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}
HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"


def _clean_output(raw) -> dict | None:
    if not isinstance(raw, dict) or raw.get("output_type") not in OUTPUT_TYPES:
        return None
    kind = raw["output_type"]
    try:
        if kind == "stream":
            name = raw.get("name") if raw.get("name") in ("stdout", "stderr") else "stdout"
            return nbformat.v4.new_output("stream", name=name, text=str(raw.get("text", "")))
        if kind == "error":
            return nbformat.v4.new_output("error", ename=str(raw.get("ename", "Error")),
                                          evalue=str(raw.get("evalue", "")),
                                          traceback=[str(t) for t in raw.get("traceback", [])][:100])
        data = {str(k): v for k, v in (raw.get("data") or {}).items()
                if isinstance(v, (str, dict, list)) and "javascript" not in str(k)}
        if not data:
            return None
        if kind == "execute_result":
            count = raw.get("execution_count")
            return nbformat.v4.new_output("execute_result", data=data,
                                          execution_count=count if isinstance(count, int) else None)
        return nbformat.v4.new_output("display_data", data=data)
    except Exception:  # noqa: BLE001
        return None


def merge(job: NotebookJob, run: sandbox.RunResult, info, book_url: str | None = None):
    """The executed notebook: the learner's outputs from the sandbox, the grade cells' from the verdicts.

    nbgrader scores a code grade cell 0 when it has an error output: a grade
    cell gets one exactly when its verdicts failed (or it was not checked).
    """
    nb, notebook = job.nb, job.notebook
    executed = copy.deepcopy(nb)
    notes: list[str] = []
    status = "graded"
    if run.failure:
        where = info.cell_name(notebook, nb, run.failed_cell) if run.failed_cell is not None else None
        if run.failure == "timeout":
            status = f"timeout in cell {where}" if where else "timeout"
        elif run.failure == "died":
            status = "kernel died" + (f" in cell {where}" if where else "")
            if run.detail:
                notes.append(f"kernel died: {run.detail}")
        elif run.failure == "output":
            status = "output too large" + (f" in cell {where}" if where else "")
        else:
            status = "grader failure: the sandbox did not start"
            notes.append(run.detail[:300])
    missing = status if status != "graded" else "the notebook stopped before this test"
    hidden = job.review.hidden
    if hidden:
        notes.append("hidden code: " + "; ".join(str(f) for f in hidden[:5]))
    if run.duplicates:
        notes.append(f"{run.duplicates} forged probe message(s) from the notebook")
    problems: list[str] = []
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        if index in job.grade_cells:
            problem = _grade_cell_outputs(cell, job, index, run, missing, notes, book_url)
            if problem:
                problems.append(problem)
            continue
        message = run.cells.get(index)
        if message is None:
            cell.outputs, cell.execution_count = [], None
            continue
        cell.outputs = [o for o in map(_clean_output, message.get("outputs") or []) if o is not None]
        count = message.get("count")
        cell.execution_count = count if isinstance(count, int) else None
        if message.get("memory") and status == "graded":
            status = f"memory limit exceeded in cell {info.cell_name(notebook, nb, index)}"
    if status == "graded" and problems:
        status = problems[0]
    return executed, status, notes


def _grade_cell_outputs(cell, job: NotebookJob, index: int, run: sandbox.RunResult, missing: str,
                        notes: list[str], book_url: str | None = None) -> str | None:
    """Decide one grade cell and write its outputs; returns a status when it failed for a reason worth a status."""
    grade_cell, requests = job.grade_cells[index], job.requests[index]
    names = sorted({name for request in requests for name in request.learners})
    forbidden = job.review.forbidden_for(names)
    status = None
    records = {}
    if job.review.hidden:
        outcome = cells_module.CellOutcome(False, error=("HiddenCode", (
            f"not graded: your notebook hides what it runs ({job.review.hidden[0]}). Graded notebooks may not use "
            "exec/eval/compile, dynamic imports or attribute names, frames, private library attributes, or "
            "modules outside the exercise's (e.g. os, sys, importlib)")))
        status = f"hidden code: {job.review.hidden[0]}"
    elif forbidden:
        outcome = cells_module.CellOutcome(False, error=("ForbiddenReference", (
            f"not graded: the code under test uses {forbidden[0]}, which this exercise asks you to do without: "
            "write it yourself")), forbidden=True)
        status = f"forbidden reference: {forbidden[0]}"
    elif run.duplicates:
        outcome = cells_module.CellOutcome(False, error=("Tampering", "not graded: the notebook sent messages in "
                                                                      "the grader's name"))
        status = "tampering: forged grader messages"
    else:
        for k in range(len(requests)):
            if (index, k) not in run.probes:
                continue
            try:
                record = decode(run.probes[(index, k)])
                if not isinstance(record, Record):
                    raise BadRecord("not a record")
            except (BadRecord, ValueError, TypeError) as error:
                record = Record()
                record.fail(f"the grader could not read what your code returned ({error})")
            records[k] = record
        try:
            outcome = cells_module.verdicts(grade_cell, requests, records, missing)
        except GraderError as error:
            outcome = cells_module.CellOutcome(False, error=("GraderError", str(error)), grader_error=str(error))
        if outcome.forbidden:
            status = f"forbidden reference in {grade_cell.grade_id}"
        if outcome.grader_error:
            notes.append(f"{grade_cell.grade_id}: grader error: {outcome.grader_error}")
            status = f"grader error in {grade_cell.grade_id}"
    maximum = job.points.get(grade_cell.grade_id, 0.0)
    checked = not (job.review.hidden or forbidden or run.duplicates) and len(records) == len(requests)
    job.tests.append({"notebook": job.notebook, "test": grade_cell.grade_id, "hidden": HIDDEN_MARKER in grade_cell.source,
                      "checked": checked, "passed": bool(outcome.passed),
                      "points": maximum if outcome.passed else 0.0, "max_points": maximum,
                      "mistakes": list(outcome.mistakes), "message": (outcome.error or ("", ""))[1][:2000],
                      "seconds": (run.cells.get(index) or {}).get("s") if isinstance(
                          (run.cells.get(index) or {}).get("s"), (int, float)) else None})
    outputs = []
    if outcome.stdout:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=outcome.stdout))
    if not outcome.passed:
        ename, evalue = outcome.error or ("CheckFailed", "the test failed")
        # the message alone (no source lines: hidden tests stay hidden), wrapped to the width of the page
        shown = "\n".join(textwrap.fill(line, 110, subsequent_indent="  ") if len(line) > 110 else line
                          for line in f"{ename}: {evalue}".splitlines())
        outputs.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[shown]))
        note = mistake_note(outcome.mistakes, book_url)
        if note:  # the recognised mistake in words, linked to the book's section on it
            outputs.append(nbformat.v4.new_output("display_data", data=note))
    cell.outputs = outputs
    cell.execution_count = (run.cells.get(index) or {}).get("count") if isinstance(
        (run.cells.get(index) or {}).get("count"), int) else None
    return status
