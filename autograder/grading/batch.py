"""Grading a batch: plan, run the sandboxes in parallel, record every result as soon as it is known.

The main thread owns the gradebook, the feedback and the journal; worker
threads only wait on sandboxes (``sandbox.run``), so any number of workers
gives one writer. A submission is recorded (gradebook committed, feedback
written, journal entry replaced atomically, grades.csv rewritten) before the
next result is looked at. A notebook's failure (it timed out, crashed, ran
out of memory, flooded its output, or never started) becomes its status and
zero for what did not pass; it never stops the batch.
"""
from __future__ import annotations

import base64
import copy
import json
import os
import secrets
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import assignments as known_assignments
from autograder.course import notebooks as source_notebooks
from autograder.grading import journal as journal_module
from autograder.grading import sandbox
from autograder.grading.gradebook import CourseBook, status_page
from autograder.grading.references import ALLOWED
from autograder.grading.report import Progress, summary
from autograder.grading.submissions import Submission, discover

PREIMPORT_ALWAYS = ("numpy", "IPython.core.interactiveshell")
PREIMPORTABLE = ("numpy", "scipy", "sklearn", "torch", "matplotlib", "pandas", "normreg")


@dataclass
class Options:
    workers: int = os.cpu_count() or 1
    cell_timeout: float = 60.0
    memory: int = 3 * 1024 ** 3
    assignments: list[str] | None = None
    force: bool = False
    progress: bool = True
    all_cells: bool = False   # also run the cells after the last grade cell (they cannot change a score)


@dataclass
class NotebookJob:
    notebook: str
    nb: nbformat.NotebookNode          # sanitized, ready to run
    job: dict
    n_code: int


@dataclass
class Pending:
    submission: Submission
    key: str
    notes: list[str]
    statuses: dict[str, str] = field(default_factory=dict)     # notebook -> status
    executed: dict[str, nbformat.NotebookNode] = field(default_factory=dict)
    waiting: int = 0


def grade(submissions_dir: Path, out: Path, options: Options) -> dict:
    """Grade everything under ``submissions_dir`` into ``out``; return the summary numbers."""
    import warnings as _warnings

    _warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy chatter
    started = time.monotonic()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    problem = sandbox.check_bwrap()
    if problem:
        raise SystemExit(f"cannot grade: {problem}")
    book = CourseBook(out)
    journal = journal_module.Journal(out)
    names = options.assignments or known_assignments()
    unknown = [a for a in names if a not in known_assignments()]
    if unknown:
        raise SystemExit(f"unknown assignment(s): {', '.join(unknown)} (known: {', '.join(known_assignments())})")
    releases = {assignment: {p.stem for p in source_notebooks(assignment)} for assignment in names}
    staging = out / ".grading" / "unpacked"
    submissions, warnings = discover(Path(submissions_dir), releases, staging, options.assignments)
    infos = {a: book.prepare(a) for a in sorted({s.assignment for s in submissions})}
    settings = json.dumps([options.cell_timeout, options.memory, options.all_cells])
    hidden = [Path(submissions_dir), out, sandbox.REPO, Path.cwd()]

    todo: list[tuple[Submission, str]] = []
    skipped = 0
    for submission in submissions:
        key = journal_module.key(submission.digest, infos[submission.assignment].source_hash, settings)
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
        info = infos[submission.assignment]
        score, max_score = 0.0, info.max_score
        if not submission.problem:
            try:
                score, max_score = book.score(submission.student, submission.assignment)
            except Exception as error:  # noqa: BLE001
                pending.notes.append(f"score unavailable: {type(error).__name__}")
        problems = [s for s in pending.statuses.values() if s != "graded"]
        status = submission.problem or (problems[0] if problems else "graded")
        for notebook in info.release:
            folder = out / "feedback" / submission.student / submission.assignment
            folder.mkdir(parents=True, exist_ok=True)
            page = None
            if notebook in pending.executed:
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
                     "score": round(score, 6), "max_score": max_score, "status": status,
                     "notes": pending.notes, "key": pending.key,
                     "notebooks": pending.statuses})
        now = time.monotonic()
        if now - last_csv > 1.0:
            journal.write_csv()
            last_csv = now
        progress.advance(ok=status == "graded")

    def begin(submission: Submission, key: str) -> tuple[Pending, list[NotebookJob]]:
        """Main thread: gradebook rows, sanitized notebooks, jobs (nothing is run here)."""
        info = infos[submission.assignment]
        pending = Pending(submission, key, list(submission.notes))
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
            jobs.append(_make_job(submission, info, notebook, nb, options.all_cells))
        return pending, jobs

    def finish_notebook(pending: Pending, job: NotebookJob, run: sandbox.RunResult):
        submission = pending.submission
        info = infos[submission.assignment]
        executed, status, notes = merge(job.nb, run, info, job.notebook)
        pending.notes += notes
        executed = book.save(submission.student, submission.assignment, job.notebook, executed)
        pending.executed[job.notebook] = executed
        pending.statuses[job.notebook] = status

    queue = list(todo)
    queue.reverse()
    in_flight = {}
    graded_now = 0
    pool = ThreadPoolExecutor(max_workers=max(1, options.workers))
    # (no ``with pool``: leaving it would wait for the running sandboxes on Ctrl-C)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < 2 * max(1, options.workers):
                submission, key = queue.pop()
                try:
                    pending, jobs = begin(submission, key)
                except Exception as error:  # noqa: BLE001 - one odd submission must not stop the batch
                    submission.problem = f"could not be graded ({type(error).__name__})"
                    pending, jobs = Pending(submission, key, [f"{type(error).__name__}: {str(error)[:300]}"]), []
                    _quietly(book.zero_notebook, submission, infos)
                if not jobs:
                    record(pending)
                    graded_now += 1
                    continue
                pending.waiting = len(jobs)
                for job in jobs:
                    future = pool.submit(sandbox.run, job.job, _limits(options), hidden, job.n_code)
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
                notebooks_run += 1
                try:
                    finish_notebook(pending, job, run)
                except Exception as error:  # noqa: BLE001
                    pending.statuses[job.notebook] = f"could not be graded ({type(error).__name__})"
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
        journal.write_csv()
        progress.finish()
    wall = time.monotonic() - started
    records = journal.records()
    text = summary(records, graded_now, skipped, wall, notebooks_run, warnings, out)
    return {"summary": text, "graded": graded_now, "skipped": skipped, "wall": wall,
            "notebooks_run": notebooks_run, "records": records}


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


def _preimports(sources: list[str]) -> list[str]:
    """Modules the notebook imports that are worth importing before its cells run (and before the snapshot)."""
    import ast

    wanted: list[str] = list(PREIMPORT_ALWAYS)
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            for name in names:
                root = name.split(".")[0]
                if root in PREIMPORTABLE or root == "autograder":
                    if name not in wanted:
                        wanted.append(name)
    return wanted


def _make_job(submission: Submission, info, notebook: str, nb: nbformat.NotebookNode,
              all_cells: bool = False) -> NotebookJob:
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        cells.append({"i": index, "source": cell.source, "grade": bool(meta.get("grade"))})
    if not all_cells:
        # what follows the last grade cell cannot change a score: not run (shown without outputs)
        while cells and not cells[-1]["grade"]:
            cells.pop()
    files = dict(submission.files)
    files.update(info.extra_files)  # the course's own files win, as in nbgrader autograde
    files = {name: base64.b64encode(data).decode() for name, data in files.items()
             if not name.endswith(".ipynb") or name == f"{notebook}.ipynb"}
    files[f"{notebook}.ipynb"] = base64.b64encode(nbformat.writes(nb).encode()).decode()
    job = {"nonce": secrets.token_hex(16), "cells": cells, "files": files, "preimport": _preimports([c["source"] for c in cells]),
           "allowed_references": list(ALLOWED.get(submission.assignment, ()))}
    return NotebookJob(notebook, nb, job, len(cells))


OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}


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


def merge(nb: nbformat.NotebookNode, run: sandbox.RunResult, info, notebook: str):
    """The executed notebook: the runner's outputs, and each grade cell's outcome as nbgrader reads it.

    nbgrader scores a code grade cell 0 when it has an error output. The
    runner's verdict decides: a failed grade cell always has one, a passed
    grade cell keeps none (student code cannot print one into it), a grade
    cell that never ran (the notebook died or timed out before it) gets one.
    """
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
            status = "sandbox failed to start"
            notes.append(run.detail[:300])
    for index, cell in enumerate(executed.cells):
        if cell.cell_type != "code":
            continue
        message = run.cells.get(index)
        is_grade = bool(cell.metadata.get("nbgrader", {}).get("grade"))
        if message is None:
            cell.outputs = []
            cell.execution_count = None
            if is_grade:
                reason = status if status != "graded" else "the notebook stopped before this cell"
                cell.outputs = [nbformat.v4.new_output("error", ename="NotGraded", evalue=f"not run: {reason}",
                                                       traceback=[f"NotGraded: not run: {reason}"])]
            continue
        outputs = [o for o in map(_clean_output, message.get("outputs") or []) if o is not None]
        count = message.get("count")
        cell.execution_count = count if isinstance(count, int) else None
        if message.get("memory") and status == "graded":
            status = f"memory limit exceeded in cell {info.cell_name(notebook, nb, index)}"
        if is_grade:
            passed = message.get("passed") is True
            if passed:
                outputs = [o for o in outputs if o.output_type != "error"]
            elif not any(o.output_type == "error" for o in outputs):
                outputs.append(nbformat.v4.new_output("error", ename="CheckFailed", evalue="the test failed",
                                                      traceback=["CheckFailed: the test failed"]))
        cell.outputs = outputs
    return executed, status, notes
