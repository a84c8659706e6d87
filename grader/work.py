"""One submission, graded where the work is: in a worker process, on this machine or in a Dask cluster.

The head process (``batch.py``) finds the submissions and is the only writer of
the gradebook, the journal and ``grades.csv``. Everything that costs CPU per
submission runs here instead, in a worker process outside the sandbox (the
course's code only): nbgrader's sanitizing steps, reading the learner's cells
(``policy``), the probes each grade cell asks for (``cells.collect``, fresh
seeds), the sandbox run (this worker's warm sandboxes, ``sandbox.WarmPool``),
the verdicts on the records that come back, nbgrader's autograde steps and the
feedback page.

nbgrader stays the source of truth: each worker has its own copy of the
course's gradebook (the head's snapshot after it generated the assignments),
and nbgrader's preprocessors run on it unchanged. What the head needs comes
back as plain data (``Outcome``: each grade cell's ``auto_score``, the
comments and late penalty nbgrader computed, the autograded notebook, the
feedback page, the statuses and verdicts), and the head copies it into the real
gradebook in one transaction.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import json
import secrets
import shutil
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.feedback import mistake_note
from autograder.forbidden import RULES
from autograder.probe import BadRecord, GraderError, Record, decode
from grader import cells as cells_module
from grader import policy, sandbox
from grader.gradebook import AssignmentInfo, CourseBook

START_ATTEMPTS = 3  # a sandbox that does not start is the grader's failure: try again before giving up


@dataclass
class Setup:
    """What every worker needs for one grading run, sent once (between the course's own processes)."""

    run_id: str
    gradebook: bytes                       # OUT/course/gradebook.db after the assignments were generated
    infos: dict[str, AssignmentInfo]
    secret: bytes                          # the run's secret: fresh seeds come from it
    hidden: list[str]                      # folders no sandbox may see (the head's submissions, OUT, the course)
    cell_timeout: float = sandbox.DEFAULT_TIMEOUT
    memory: int = sandbox.DEFAULT_MEMORY
    all_cells: bool = False
    book_url: str | None = None
    feedback: bool = True


@dataclass
class Task:
    """One submission to grade: only data."""

    student: str
    assignment: str
    files: dict[str, bytes]                # path inside the assignment folder -> content
    timestamp: bytes | None = None         # nbgrader's timestamp.txt, if submitted


@dataclass
class NotebookGrades:
    """What nbgrader's SaveAutoGrades and AssignLatePenalties wrote for one notebook, to copy into the gradebook."""

    scores: dict[str, float | None] = field(default_factory=dict)     # grade id -> auto_score
    comments: dict[str, str | None] = field(default_factory=dict)     # grade id -> auto_comment
    penalty: float | None = None


@dataclass
class Outcome:
    student: str
    assignment: str
    statuses: dict[str, str] = field(default_factory=dict)            # notebook -> status
    notes: list[str] = field(default_factory=list)
    tests: list[dict] = field(default_factory=list)                   # every grade cell's verdict
    seconds: dict[str, float] = field(default_factory=dict)           # notebook -> wall time in its sandbox
    timeouts: list[dict] = field(default_factory=list)                # {"notebook", "cell"} that hit the limit
    grades: dict[str, NotebookGrades] = field(default_factory=dict)   # notebooks graded (the others score 0)
    autograded: dict[str, str] = field(default_factory=dict)          # notebook -> executed notebook (JSON)
    feedback: dict[str, str] = field(default_factory=dict)            # notebook -> feedback page (HTML)
    notebooks_run: int = 0
    cpu: float = 0.0            # CPU seconds: this worker's share and the job's process in the sandbox
    sandbox_cpu: float = 0.0    # of which the job's process in the sandbox
    sandbox_starts: int = 0     # warm sandboxes this worker started for it (0 when its warm one was reused)


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
    tests: list[dict] = field(default_factory=list)   # one verdict per grade cell, for results.jsonl
    points: dict[str, float] = field(default_factory=dict)   # grade_id -> its points
    cut: int | None = None            # the first cell holding code the reading refused: it and all after never run
    cut_finding: policy.Finding | None = None   # what the reading refused there

    def affected(self, index: int) -> bool:
        """Whether the grade cell at ``index`` comes after the cut: its test scores nothing (hidden code)."""
        return self.cut is not None and index >= self.cut


class _CachedSchemaValidation:
    """``jsonschema`` for nbgrader's cell-metadata checks, with each schema's validator made once.

    nbgrader validates every cell with ``jsonschema.validate(metadata, schema)``, which checks the
    schema itself on every call: a third of a worker's CPU per notebook went there. The verdict is
    the same (the best-matching error, or none); only the schema's own check, of nbgrader's fixed
    schema, is done once instead of for every cell.
    """

    def __init__(self):
        import jsonschema

        self._jsonschema = jsonschema
        self._validators: dict[str, object] = {}

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)

    def validate(self, instance, schema, *args, **kwargs):
        if args or kwargs:
            return self._jsonschema.validate(instance, schema, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            cls = self._jsonschema.validators.validator_for(schema)
            cls.check_schema(schema)
            validator = self._validators[key] = cls(schema)
        error = self._jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def _cache_schema_validation() -> None:
    from nbgrader.nbgraderformat import common

    if not isinstance(common.jsonschema, _CachedSchemaValidation):
        common.jsonschema = _CachedSchemaValidation()


_SCRATCH = "autograder-worker-"   # the folders of the workers' own copies of the gradebook


def _scratch_pragmas(connection, _record) -> None:
    """A worker's copy of the gradebook is thrown away after the run: no journal file, no fsync."""
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA journal_mode = MEMORY")


def _reuse_gradebook_engines() -> None:
    """One SQLAlchemy engine per gradebook file in this process, instead of one per ``Gradebook()``.

    nbgrader's preprocessors open a new ``Gradebook`` (so a new engine) for every notebook and step,
    and an engine's cache of compiled SQL dies with it: a worker spent a fifth of its CPU compiling
    the same queries again. Reusing the engine keeps the cache; ``Gradebook.close`` still closes
    its session and returns the connections (``dispose`` leaves the engine usable).
    """
    from nbgrader import api

    if getattr(api.create_engine, "reuses_engines", False):
        return
    made = api.create_engine
    engines: dict = {}
    lock = threading.Lock()

    def create_engine(url, *args, **kwargs):
        key = (str(url), args, tuple(sorted(kwargs.items())))
        with lock:
            if key not in engines:
                engines[key] = made(url, *args, **kwargs)
                if _SCRATCH in str(url):
                    from sqlalchemy import event

                    event.listen(engines[key], "connect", _scratch_pragmas)
            return engines[key]

    create_engine.reuses_engines = True
    api.create_engine = create_engine


class Worker:
    """A worker's state for one run: its copy of the gradebook, its warm sandboxes. One per thread."""

    def __init__(self, setup: Setup):
        _cache_schema_validation()
        _reuse_gradebook_engines()
        self.setup = setup
        self.folder = Path(tempfile.mkdtemp(prefix=_SCRATCH))
        (self.folder / "course").mkdir()
        (self.folder / "course" / "gradebook.db").write_bytes(setup.gradebook)
        self.book = CourseBook(self.folder)
        self.book._infos = dict(setup.infos)  # generated by the head already: prepare() only looks them up
        limits = sandbox.Limits(cell_timeout=setup.cell_timeout, memory=setup.memory)
        self.warm = sandbox.WarmPool(limits, [Path(p) for p in setup.hidden] + [self.folder])

    def close(self) -> None:
        self.warm.close(gently=True)
        shutil.rmtree(self.folder, ignore_errors=True)

    def grade(self, task: Task) -> Outcome:
        """Grade one submission; never raises for what the submission holds."""
        started, starts = time.thread_time(), self.warm.starts
        outcome = Outcome(task.student, task.assignment)
        info = self.setup.infos[task.assignment]
        self.book.start_submission(task.student, task.assignment, parse_timestamp(task.timestamp))
        present = {name for name in task.files if "/" not in name and name.endswith(".ipynb")}
        for notebook in info.release:
            try:
                self._notebook(task, info, notebook, present, outcome)
            except Exception as error:  # noqa: BLE001 - a grader bug costs this notebook, never the batch
                outcome.statuses[notebook] = f"grader failure ({type(error).__name__})"
                outcome.notes.append(f"{notebook}: {type(error).__name__}: {str(error)[:300]}")
                outcome.grades.pop(notebook, None)
        outcome.tests = _all_tests(info, outcome)
        outcome.cpu = time.thread_time() - started + outcome.sandbox_cpu
        outcome.sandbox_starts = self.warm.starts - starts
        return outcome

    def _notebook(self, task: Task, info: AssignmentInfo, notebook: str, present: set[str], outcome: Outcome):
        filename = f"{notebook}.ipynb"
        if filename not in task.files:
            others = sorted(present - {f"{n}.ipynb" for n in info.release})
            outcome.statuses[notebook] = "missing notebook"
            if others:
                outcome.notes.append(f"{filename} not found (found {', '.join(others[:3])})")
            return
        nb, reason = _read_notebook(task.files[filename])
        if nb is None:
            outcome.statuses[notebook] = reason
            return
        from autograder.i18n import notebook_language
        from normreg.i18n import language, set_language

        # the notebook's language ('en' or 'ko', from its metadata: never from its code) is the language of its
        # messages and feedback page, and nothing else: the same code earns the same score in either
        previous = language()
        set_language(notebook_language(nb))
        try:
            self._graded_notebook(task, info, notebook, nb, outcome)
        finally:
            set_language(previous)

    def _graded_notebook(self, task: Task, info: AssignmentInfo, notebook: str, nb, outcome: Outcome):
        try:
            nb, notes = self.book.sanitize(task.student, task.assignment, notebook, nb)
        except Exception as error:  # noqa: BLE001 - nbgrader refused the notebook
            outcome.statuses[notebook] = "invalid cell metadata"
            outcome.notes.append(f"{notebook}: {type(error).__name__}: {str(error)[:200]}")
            return
        outcome.notes += [f"{notebook}: {n}" if len(info.release) > 1 else n for n in notes]
        job = make_job(task, info, notebook, nb, self.setup.secret, self.setup.all_cells)
        for attempt in range(1, START_ATTEMPTS + 1):
            run = self.warm.run(job.job, job.n_code, job.libraries)
            if run.failure != "start" or attempt == START_ATTEMPTS:
                break
            time.sleep(0.5 * attempt)  # the grader's own failure (e.g. a loaded machine): again
        outcome.notebooks_run += 1
        outcome.sandbox_cpu += run.cpu or 0.0
        single_threaded_torch()  # local or Dask: the verdicts share the cores with the other workers
        executed, status, notes = merge(job, run, info, self.setup.book_url)
        outcome.notes += notes
        outcome.statuses[notebook] = status
        outcome.tests += job.tests
        outcome.seconds[notebook] = round(run.wall, 3)
        if run.failure == "timeout" and run.failed_cell is not None:
            outcome.timeouts.append({"notebook": notebook, "cell": info.cell_name(notebook, job.nb, run.failed_cell)})
        if status.startswith("grader failure"):
            return
        executed = self.book.save(task.student, task.assignment, notebook, executed, write=False)
        outcome.grades[notebook] = self.book.grades_of(task.student, task.assignment, notebook, executed)
        outcome.autograded[notebook] = nbformat.writes(executed)
        if self.setup.feedback:
            try:
                outcome.feedback[notebook] = self.book.feedback_html(task.student, task.assignment, notebook, executed)
            except Exception as error:  # noqa: BLE001 - a feedback page must not lose the grade
                outcome.notes.append(f"feedback page failed: {type(error).__name__}: {str(error)[:200]}")


def preload(assignments, feedback: bool) -> list[str]:
    """Import now what grading these assignments will import; return the modules' names.

    The head calls it before it forks its local workers, which then share every module
    it imported: otherwise each worker imports torch, SciPy and scikit-learn for itself on
    its first verdict (2-3 s of CPU each, paid again by every worker of every run). What is
    imported: each assignment's checks, the modules the checks import inside their functions
    (found in their source, so a new lazy import is never missed), the part of torch that
    its first ``backward(gradient)`` imports (SymPy), and with ``feedback`` the page's
    converters. Nothing runs: no thread pool is started before the fork.
    """
    import ast
    import importlib
    import inspect
    import sys

    # read for lazy imports: the checks, and the feedback page's code (not the shared modules such as
    # probe.py, whose imports of torch only serve exercises that have it)
    scanned = {RULES[a].checks for a in assignments if a in RULES} | ({"autograder.feedback"} if feedback else set())
    wanted = ["autograder.compare", "autograder.probe", "autograder.mistakes", "autograder.forbidden", *sorted(scanned)]
    if feedback:
        wanted += ["nbconvert.exporters", "nbgrader.preprocessors", "nbconvert.preprocessors"]
    imported, seen = [], set()
    while wanted:
        name = wanted.pop(0)
        if name in seen:
            continue
        seen.add(name)
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        imported.append(name)
        if name in scanned:
            tree = ast.parse(inspect.getsource(module))
            for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
                for node in ast.walk(function):
                    if isinstance(node, ast.Import):
                        wanted += [alias.name for alias in node.names]
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        wanted.append(node.module)
    if "torch" in sys.modules:
        wanted_by_backward = "torch.fx.experimental.symbolic_shapes"
        importlib.import_module(wanted_by_backward)
        imported.append(wanted_by_backward)
    return imported


def single_threaded_torch() -> None:
    """In a worker: torch computes on one thread (the workers are as many as the cores already)."""
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != 1:
        torch.set_num_threads(1)


_WORKERS = threading.local()


def grade(setup: Setup, task: Task) -> Outcome:
    """Grade ``task`` with this thread's worker for ``setup``'s run (made on first use, kept for the run)."""
    worker = getattr(_WORKERS, "worker", None)
    if worker is None or worker.setup.run_id != setup.run_id:
        if worker is not None:
            worker.close()
        worker = _WORKERS.worker = Worker(setup)
        _ALL.append(worker)
    return worker.grade(task)


_ALL: list[Worker] = []


def close_all() -> None:
    """End this process's warm sandboxes and remove its gradebook copies."""
    while _ALL:
        _ALL.pop().close()


def _all_tests(info, outcome: Outcome) -> list[dict]:
    """A verdict for every grade cell of the release: those that were checked, and the rest as not checked."""
    seen = {(t["notebook"], t["test"]) for t in outcome.tests}
    tests = list(outcome.tests)
    for notebook, points in info.points.items():
        for grade_id, maximum in points.items():
            if (notebook, grade_id) not in seen:
                tests.append({"notebook": notebook, "test": grade_id, "hidden": grade_id in info.hidden.get(notebook, ()),
                              "checked": False, "passed": False, "points": 0.0, "max_points": maximum,
                              "mistakes": [], "message": outcome.statuses.get(notebook, "not graded")})
    order = {(nb, g): i for i, (nb, g) in enumerate((nb, g) for nb, p in info.points.items() for g in p)}
    return sorted(tests, key=lambda t: order.get((t["notebook"], t["test"]), len(order)))


def parse_timestamp(raw: bytes | None):
    """The submission time of nbgrader's ``timestamp.txt``, or None."""
    if not raw:
        return None
    try:
        from nbgrader.utils import parse_utc
        return parse_utc(raw.decode().strip())
    except Exception:  # noqa: BLE001 - an unreadable timestamp is ignored, as nbgrader does
        return None


MAX_NOTEBOOK_DEPTH = 100   # nesting of a notebook's JSON; nbformat's own needs about 10 (widget state a few more)
# cells of a notebook: the course's have about 20, a learner's scratch work a few hundred; every step outside the
# sandbox is linear in them but slow per cell (nbformat, nbgrader: 50,000 empty cells cost 30 s of a worker's CPU)
MAX_CELLS = 5000


def json_depth(raw: bytes) -> int:
    """How deeply the JSON text ``raw`` nests (``[`` and ``{``), read without parsing it (and so without recursion)."""
    import re

    import numpy as np

    # the strings first (brackets inside them do not nest); what is left is counted as +1/-1 per bracket
    bare = re.sub(rb'"[^"\\]*(?:\\.[^"\\]*)*"', b"", raw)  # (the unrolled pattern: linear and fast)
    codes = np.frombuffer(bare, dtype=np.uint8)
    steps = ((codes == ord("[")) | (codes == ord("{"))).astype(np.int32)
    steps -= (codes == ord("]")) | (codes == ord("}"))
    return int(np.cumsum(steps).max(initial=0))


def _read_notebook(raw: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    """The submitted notebook, or None and the status of its row; never raises, whatever the bytes."""
    try:
        return _parse_notebook(raw)
    except Exception as error:  # noqa: BLE001 - RecursionError, MemoryError...: this row's status, not the batch's
        return None, f"unreadable notebook ({type(error).__name__})"


def _parse_notebook(raw: bytes) -> tuple[nbformat.NotebookNode | None, str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "unreadable notebook"
    # bounded before parsing: a file nested 200,000 deep would exhaust json's (and nbformat's) recursion
    if json_depth(raw) > MAX_NOTEBOOK_DEPTH:
        return None, "unreadable notebook (too deeply nested)"
    try:
        data = json.loads(text)
    except ValueError:
        return None, "unreadable notebook"
    if not isinstance(data, dict):
        return None, "unreadable notebook"
    if data.get("nbformat") != 4:
        return None, f"unreadable notebook (nbformat {str(data.get('nbformat'))[:20]})"
    if not isinstance(data.get("cells", None), list):
        return None, "unreadable notebook"
    if len(data["cells"]) > MAX_CELLS:
        return None, f"unreadable notebook (too many cells: {len(data['cells'])}, at most {MAX_CELLS})"
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


def content_digest(files: dict[str, bytes]) -> str:
    """The submission's content: every file's name and bytes (SHA-256), the notebooks included."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogateescape") + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def make_job(submission, info, notebook: str, nb: nbformat.NotebookNode, secret: bytes,
             all_cells: bool = False) -> NotebookJob:
    """What the sandbox runs: the learner's cells, and at each grade cell's place the probes it asks for."""
    rules = RULES.get(submission.assignment)
    release = info.release[notebook]
    release_sources = {cell.source for cell in release.cells if cell.cell_type == "code"}
    course_sources = [cell.source for cell in nb.cells if cell.cell_type == "code"
                      and (cell.metadata.get("nbgrader", {}).get("locked")
                           or cell.metadata.get("nbgrader", {}).get("grade"))]
    cells, learner_cells = [], []
    content = content_digest(submission.files)   # a changed resubmission: new seeds (cells.seed_maker)
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
                                            grade_cell.grade_id, content)
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
        result.cut, result.cut_finding = hidden_code_cut(result.review.hidden)
        if result.cut is not None:
            # what the grader cannot read never runs: the notebook runs up to (not including) that cell, so no code
            # of it can reach any probe; the tests before it are graded as usual, those after it score nothing
            cells = [cell for cell in cells if cell["i"] < result.cut]
    files = dict(submission.files)
    files.update(info.extra_files)  # the course's own files win, as in nbgrader autograde
    files = {name: base64.b64encode(data).decode() for name, data in files.items() if not name.endswith(".ipynb")}
    from autograder.i18n import messages, notebook_language

    lang = notebook_language(nb)
    result.job = {"nonce": secrets.token_hex(16), "cells": cells, "files": files, "lang": lang,
                  "messages": messages(lang)}
    result.n_code = len(cells)
    return result


def hidden_code_cut(findings) -> tuple[int | None, policy.Finding | None]:
    """The first cell holding hidden code (the reading's findings), and its first finding there; (None, None) if none.

    Cells run in order: a grade cell before that cell is probed before any of its code has run, so it is decided
    as usual. A finding without a usable cell index cuts at the start (fails closed)."""
    def where(finding) -> tuple[int, int]:
        cell, line = getattr(finding, "cell", 0), getattr(finding, "line", 0)
        return (cell if isinstance(cell, int) and cell >= 0 else 0, line if isinstance(line, int) else 0)

    if not findings:
        return None, None
    first = min(findings, key=where)
    return where(first)[0], first


NOT_READ = ("Graded notebooks may not use exec/eval/compile, dynamic imports or attribute names, frames, private "
            "library attributes, or modules outside the exercise's (e.g. os, sys, importlib)")


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
        elif run.failure == "tampering":  # the channel broke the runner's protocol: nothing it said counts
            status = "tampering: the notebook wrote on the grader's channel" + (f" in cell {where}" if where else "")
            notes.append(f"tampering: {run.detail}")
        else:
            status = "grader failure: the sandbox did not start"
            notes.append(run.detail[:300])
    missing = status if status != "graded" else "the notebook stopped before this test"
    hidden = job.review.hidden
    if hidden:
        notes.append("hidden code: " + "; ".join(str(f) for f in hidden[:5]))
        if job.cut is not None:
            after = sum(1 for i in job.grade_cells if job.affected(i))
            notes.append(f"hidden code: the notebook ran up to cell {job.cut + 1}, which the grader cannot read; "
                         f"{after} of {len(job.grade_cells)} test cell(s) come after it and score nothing")
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
        message = run.cells.get(index) if not job.affected(index) else None
        if index == job.cut:
            cell.outputs = [nbformat.v4.new_output("error", ename="HiddenCode", evalue=_not_run(job), traceback=[
                f"HiddenCode: {_not_run(job)}"])]
            cell.execution_count = None
            continue
        if message is None:
            cell.outputs, cell.execution_count = [], None
            continue
        cell.outputs = [o for o in map(_clean_output, message.get("outputs") or []) if o is not None]
        count = message.get("count")
        cell.execution_count = count if isinstance(count, int) else None
        if message.get("memory") and run.memory_limit and status == "graded":  # the limit as seen outside the job
            status = f"memory limit exceeded in cell {info.cell_name(notebook, nb, index)}"
    if status == "graded" and hidden:
        status = f"hidden code: {hidden[0]}"
    if status == "graded" and problems:
        status = problems[0]
    return executed, status, notes


def _not_run(job: NotebookJob) -> str:
    return (f"not run: the grader cannot read this cell ({job.cut_finding}), so the notebook was graded up to it; "
            f"the tests after it score nothing. {NOT_READ}")


def _grade_cell_outputs(cell, job: NotebookJob, index: int, run: sandbox.RunResult, missing: str,
                        notes: list[str], book_url: str | None = None) -> str | None:
    """Decide one grade cell and write its outputs; returns a status when it failed for a reason worth a status."""
    grade_cell, requests = job.grade_cells[index], job.requests[index]
    names = sorted({name for request in requests for name in request.learners})
    forbidden = job.review.forbidden_for(names)
    status = None
    records = {}
    affected = job.affected(index)
    if affected:
        outcome = cells_module.CellOutcome(False, error=("HiddenCode", (
            f"not graded: this test comes after cell {job.cut + 1}, which hides what it runs ({job.cut_finding}); "
            f"the notebook was run only up to that cell. {NOT_READ}")))
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
    checked = not (affected or forbidden or run.duplicates) and len(records) == len(requests)
    job.tests.append({"notebook": job.notebook, "test": grade_cell.grade_id, "hidden": HIDDEN_MARKER in grade_cell.source,
                      "checked": checked, "passed": bool(outcome.passed),
                      "points": maximum if outcome.passed else 0.0, "max_points": maximum,
                      "mistakes": list(outcome.mistakes), "message": (outcome.error or ("", ""))[1][:2000],
                      # the class report's example of a mistake is only ever the verdict's own words
                      "own_message": bool(outcome.own_message and outcome.error),
                      "seconds": (run.cells.get(index) or {}).get("s") if isinstance(
                          (run.cells.get(index) or {}).get("s"), (int, float)) else None})
    outputs = []
    if outcome.stdout:
        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=outcome.stdout))
    if not outcome.passed:
        ename, evalue = outcome.error or ("CheckFailed", "the test failed")
        if HIDDEN_MARKER in grade_cell.source and not outcome.own_message:
            evalue = cells_module.without_sandbox_text(evalue, records.values(), cells_module.param_texts(requests))
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
