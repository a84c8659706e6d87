"""Grading a batch: plan, send each submission to a worker, record every result as soon as it is known.

This process, the head, is the only writer of the gradebook, the feedback
folder, the journal and ``grades.csv``, and it does as little else as it can:
it finds the submissions, skips what was graded already, and sends each of the
others to a worker process as data (``work.Task``). A worker (``work.py``, on
this machine or in a Dask cluster with ``--scheduler``) does everything that
costs CPU: nbgrader's sanitizing, reading the learner's cells, the sandbox run
in one of its warm sandboxes, the verdicts, nbgrader's autograde steps on its
own copy of the gradebook, the feedback page. What comes back (``work.Outcome``)
is recorded before the next result is looked at: the grades in one gradebook
transaction, the autograded notebook and the feedback page written, the
journal entry replaced atomically, ``grades.csv`` rewritten. A notebook's
failure (it timed out, crashed, ran out of memory, flooded its output) becomes
its status and zero for what did not pass; a sandbox that did not start, a
worker that was lost or a grader bug gives a row that says the grader failed
(no score), and the next run grades it again. Nothing stops the batch.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from autograder.course import assignments as known_assignments
from autograder.course import notebooks as source_notebooks
from autograder.forbidden import RULES
from grader import journal as journal_module
from grader import sandbox, work
from grader.gradebook import CourseBook, status_page
from grader.report import Progress, summary
from grader.submissions import Submission, discover
from grader.work import START_ATTEMPTS  # noqa: F401 - part of this module's interface (tests)


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
    feedback: bool = True     # write each learner's feedback page (``--no-feedback``: grades only)
    scheduler: str | None = None  # a Dask scheduler's address (tcp://HOST:PORT): grade on its workers
    lang: str | None = None   # the class report's and the exports' language ("en", "ko"); each notebook's own pages follow it


# ---------------------------------------------------------------- where the work runs

_SETUP: work.Setup | None = None  # in a local worker process: the run it works for
_STARTS = None  # in a local worker process: where it says which task it starts (the head keeps the time)

# The head's bound on one submission's work outside the sandbox (nbgrader's steps, the reading, the verdicts, the
# feedback page), per notebook, on top of everything the sandbox may take (its starts, the notebook's deadline).
# Ordinary work takes a second or two; past this, the worker is stuck (a notebook that makes some step quadratic):
# the row is a grader failure, the worker is replaced, and the run goes on.
TRUSTED_SECONDS = 300.0
WAIT_SECONDS = 5.0   # how often the head looks at the clocks of the submissions in flight


def submission_bound(options: Options, notebooks: int) -> float:
    """The seconds a worker may spend on one submission of ``notebooks`` notebooks before the head gives up on it."""
    sandbox_seconds = (work.START_ATTEMPTS * sandbox.STARTUP_SECONDS + sandbox.READY_SECONDS + sandbox.DONE_SECONDS
                       + options.cell_timeout * sandbox.BUDGETED_CELLS)
    return max(1, notebooks) * (TRUSTED_SECONDS + sandbox_seconds)


def _install(setup: work.Setup, head: int, starts=None) -> None:
    """A local worker process's start: die with the head, remember the run; end its sandboxes with it.

    ``PR_SET_PDEATHSIG``: a ``kill -9`` of the head kills this worker, and bubblewrap (``--die-with-parent``)
    and every process of its sandboxes with it; the check of ``getppid`` after it covers a head that died
    before the signal was asked for.
    """
    global _SETUP, _STARTS
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != head:
        os._exit(1)
    _SETUP, _STARTS = setup, starts
    multiprocessing.util.Finalize(None, work.close_all, exitpriority=10)


def _grade_here(task: work.Task, token: int | None = None) -> work.Outcome:
    if _STARTS is not None and token is not None:
        _STARTS.put((token, os.getpid()))   # the head starts this task's clock now, and knows whom to stop
    return work.grade(_SETUP, task)


class LocalWorkers:
    """``n`` worker processes on this machine, each with its own warm sandboxes.

    Forked from the head (which has imported nbgrader and the checks already) before
    the head starts any thread, so that starting them costs milliseconds.
    """

    BOUND_FACTOR = 1.0   # a task's clock starts when a worker takes it

    def __init__(self, setup: work.Setup, n: int):
        self.capacity, self.setup = n, setup
        self.context = multiprocessing.get_context("fork")
        self.starts = self.context.SimpleQueue()
        self.tokens: dict[Future, int] = {}
        self.running: dict[int, tuple[int, float]] = {}   # token -> (worker pid, when it started, head's clock)
        self.counter = 0
        self._start_pool()

    def _start_pool(self) -> None:
        self.pool = ProcessPoolExecutor(max_workers=self.capacity, mp_context=self.context, initializer=_install,
                                        initargs=(self.setup, os.getpid(), self.starts))
        for future in [self.pool.submit(os.getpid) for _ in range(self.capacity)]:  # start them all now
            future.result()

    def submit(self, task: work.Task) -> Future:
        self.counter += 1
        future = self.pool.submit(_grade_here, task, self.counter)
        self.tokens[future] = self.counter
        return future

    def started(self, future: Future) -> float | None:
        """When (the head's monotonic clock) a worker began this task; None while it waits for one."""
        while not self.starts.empty():
            token, pid = self.starts.get()
            self.running[token] = (pid, time.monotonic())
        token = self.tokens.get(future)
        return self.running[token][1] if token in self.running else None

    def forget(self, future: Future) -> None:
        self.running.pop(self.tokens.pop(future, None), None)

    def replace(self, stuck: Future, others: dict[Future, work.Task]) -> dict[Future, Future]:
        """End every worker (the stuck one cannot be stopped alone: the pool would be broken anyway), start fresh ones
        and submit ``others`` again; returns each old future's replacement."""
        self.forget(stuck)
        self.close(now=True)
        for future in others:
            self.forget(future)
        while not self.starts.empty():
            self.starts.get()
        self.running.clear()
        self._start_pool()
        return {future: self.submit(task) for future, task in others.items()}

    def close(self, now: bool = False) -> None:
        if now:
            processes = list((self.pool._processes or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:  # their sandboxes die with them (bwrap --die-with-parent)
                process.kill()
            for process in processes:
                process.join(timeout=10)
        else:
            self.pool.shutdown(wait=True)


class DaskWorkers:
    """The workers of a running Dask distributed cluster (``--scheduler tcp://HOST:PORT``).

    Each Dask worker needs the course installed (this repository's
    ``requirements.txt``) and bubblewrap; the run's setup is broadcast once.
    Dask runs a task again elsewhere when its worker is lost, so every
    submission is graded exactly once as far as the head can tell: the head
    records each result when its future completes, and only then.
    """

    def __init__(self, setup: work.Setup, address: str):
        from distributed import Client

        self.client = Client(address, timeout=60)
        problems = {w: p for w, p in self.client.run(sandbox.check_bwrap).items() if p}
        if problems:
            raise SystemExit("cannot grade: " + "; ".join(f"worker {w}: {p}" for w, p in sorted(problems.items())))
        threads = self.client.nthreads()
        if not threads:
            raise SystemExit(f"cannot grade: the Dask cluster at {address} has no workers")
        self.capacity = sum(threads.values())
        self.setup = self.client.scatter(setup, broadcast=True, hash=False)

    def submit(self, task: work.Task) -> Future:
        """A concurrent.futures Future for the Dask task, so that the head waits on both kinds alike."""
        result: Future = Future()
        task_future = self.client.submit(work.grade, self.setup, task, pure=False)

        def done(finished):
            try:
                result.set_result(finished.result())
            except BaseException as error:  # noqa: BLE001 - e.g. KilledWorker: the head records a grader failure
                result.set_exception(error)

        task_future.add_done_callback(done)
        result.dask = task_future
        result.submitted = time.monotonic()
        return result

    def started(self, future: Future) -> float | None:
        """Dask does not say when a task starts: its clock runs from its submission, and at most two tasks per
        worker thread are in flight, so the head allows it its bound twice over (``BOUND_FACTOR``)."""
        return getattr(future, "submitted", None)

    BOUND_FACTOR = 2.0

    def forget(self, future: Future) -> None:
        pass

    def replace(self, stuck: Future, others: dict[Future, work.Task]) -> dict[Future, Future]:
        """A Dask task cannot be stopped where it runs: it is cancelled (its worker thread may stay busy)."""
        try:
            self.client.cancel(stuck.dask)
        except Exception:  # noqa: BLE001 - a cluster that went away has nothing to cancel
            pass
        return {future: future for future in others}

    def close(self, now: bool = False) -> None:
        try:
            self.client.run(work.close_all)
        except Exception:  # noqa: BLE001 - a cluster that went away leaves nothing to close
            pass
        self.client.close()


def grade(submissions_dir: Path, out: Path, options: Options) -> dict:
    """Grade everything under ``submissions_dir`` into ``out``; return the summary numbers.

    The steps, in order (each a method of ``Run``): ``plan`` finds the submissions and what is left to
    grade; ``dispatch`` sends each to a worker and ``record``s every result as it comes back; ``finish``
    writes the class report, the exports and the summary.
    """
    import warnings as _warnings

    _warnings.filterwarnings("ignore", message=".*not in session.*")  # nbgrader's own SQLAlchemy chatter
    run = Run(Path(submissions_dir), Path(out), options)
    run.plan()
    run.dispatch()
    return run.finish()


class Run:
    """One run of the class command, from finding the submissions to the summary; see ``grade``."""

    def __init__(self, submissions_dir: Path, out: Path, options: Options):
        self.started = time.monotonic()
        self.submissions_dir, self.out, self.options = submissions_dir, out, options
        out.mkdir(parents=True, exist_ok=True)
        names = options.assignments or known_assignments()
        unknown = [a for a in names if a not in known_assignments()]
        if unknown:
            raise SystemExit(f"unknown assignment(s): {', '.join(unknown)} (known: {', '.join(known_assignments())})")
        self.names = names
        self.hidden = [submissions_dir, out, sandbox.REPO, Path.cwd()]
        self.head_cpu = time.process_time()
        # the sandbox's start is checked while the head finds, generates and imports: joined before any grading
        self.checking = Preflight(self.hidden) if not options.scheduler else None
        self.book = CourseBook(out)
        self.journal = journal_module.Journal(out)
        self.secret = journal_module.secret(out)
        self.counts = {"notebooks_run": 0, "graded_now": 0, "cpu": 0.0, "sandbox_cpu": 0.0, "starts": 0,
                       "preload": 0.0}
        self.last_csv = 0.0

    # ------------------------------------------------------------ 1. what to grade

    def plan(self) -> None:
        """Find the submissions, prepare each assignment once, and keep those whose grading is not current."""
        options = self.options
        releases = {assignment: {p.stem for p in source_notebooks(assignment)} for assignment in self.names}
        staging = self.out / ".grading" / "unpacked"
        submissions, self.warnings = discover(self.submissions_dir, releases, staging, options.assignments)
        self.infos = {a: self.book.prepare(a) for a in sorted({s.assignment for s in submissions if not s.rejected})}
        settings = json.dumps([options.cell_timeout, options.memory, options.all_cells, options.feedback,
                               journal_module.grader_hash()])
        self.todo: list[tuple[Submission, str]] = []
        self.skipped = 0
        for submission in submissions:
            info = self.infos.get(submission.assignment)
            key = journal_module.key(submission.digest, info.source_hash if info else "", settings)
            previous = self.journal.get(submission.student, submission.assignment)
            if previous and previous.get("key") == key and not options.force:
                self.skipped += 1
                continue
            self.todo.append((submission, key))
        self.progress = Progress(len(self.todo), enabled=options.progress)
        self.progress.show(force=True)

    # ------------------------------------------------------------ 2. grade on the workers, record each result

    def dispatch(self) -> None:
        """Send every submission to a worker, at most two per worker in flight, and record each result."""
        options = self.options
        # one library set after the other: a worker's warm sandboxes are reused instead of replaced
        queue = sorted(self.todo, key=lambda item: RULES[item[0].assignment].libraries
                       if item[0].assignment in RULES else ())
        queue.reverse()
        setup = work.Setup(run_id=secrets.token_hex(8), gradebook=self.book.snapshot(), infos=self.infos,
                           secret=self.secret, hidden=[str(p) for p in self.hidden],
                           cell_timeout=options.cell_timeout, memory=options.memory, all_cells=options.all_cells,
                           book_url=options.book_url, feedback=options.feedback)
        workers = None
        in_flight: dict = {}
        try:
            if queue and not options.scheduler:  # imported once here, shared by the forked workers
                preload_started = time.process_time()
                work.preload(sorted({submission.assignment for submission, _ in queue}), options.feedback)
                self.counts["preload"] = time.process_time() - preload_started
            if self.checking is not None:
                self.checking.wait()  # the workers are forked from a head without other threads
            workers = (DaskWorkers(setup, options.scheduler) if options.scheduler
                       else LocalWorkers(setup, max(1, options.workers))) if queue else None
            while queue or in_flight:
                while queue and len(in_flight) < 2 * workers.capacity:
                    submission, key = queue.pop()
                    if submission.rejected or submission.problem:
                        self.record(submission, key, None)
                        continue
                    task = work.Task(submission.student, submission.assignment,
                                     dict(submission.files), submission.files.get("timestamp.txt"))
                    in_flight[workers.submit(task)] = (submission, key, task)
                if not in_flight:
                    continue
                done, _ = wait(list(in_flight), timeout=WAIT_SECONDS, return_when=FIRST_COMPLETED)
                for future in done:
                    submission, key, _task = in_flight.pop(future)
                    workers.forget(future)
                    try:
                        outcome, problem = future.result(), None
                    except Exception as error:  # noqa: BLE001 - a lost worker or a grader bug: no score, regraded next run
                        outcome, problem = None, f"grader failure ({type(error).__name__}: {str(error)[:200]})"
                    self.record(submission, key, outcome, problem)
                self._give_up_on_stuck(workers, in_flight)
        except BaseException:  # Ctrl-C: stop the workers and their sandboxes now; what was recorded stays recorded
            if workers is not None:
                workers.close(now=True)
            workers = None
            raise
        finally:
            if workers is not None:
                workers.close()
            self.book.close()
            self.journal.write_csv()
            journal_module.write_results(self.out, self.journal.records())
            self.progress.finish()

    def _give_up_on_stuck(self, workers, in_flight: dict) -> None:
        """A submission a worker has held past its bound (``submission_bound``) is a grader failure, and the worker
        is replaced (with the submissions it shared the pool with, sent again): one notebook that makes the grader's
        own work endless costs its row, never the run."""
        now = time.monotonic()
        for future in list(in_flight):
            if future not in in_flight or future.done():
                continue
            started = workers.started(future)
            submission, key, _task = in_flight[future]
            notebooks = len(self.infos[submission.assignment].release) if submission.assignment in self.infos else 1
            bound = submission_bound(self.options, notebooks) * workers.BOUND_FACTOR
            if started is None or now - started <= bound:
                continue
            del in_flight[future]
            others = {f: entry[2] for f, entry in in_flight.items()}
            replaced = workers.replace(future, others)
            for old, new in replaced.items():
                in_flight[new] = in_flight.pop(old)
            self.record(submission, key, None, f"grader failure: the grader's own work on this submission took too "
                                                f"long (over {bound:.0f} s outside the sandbox); its worker was replaced")

    def record(self, submission: Submission, key: str, outcome: work.Outcome | None, problem: str | None = None):
        """Everything about one submission, written at once: gradebook (one transaction), files, journal."""
        self.counts["graded_now"] += 1
        if submission.rejected:
            self.journal.put({"student_id": submission.student, "assignment": submission.assignment, "score": 0.0,
                              "max_score": 0.0, "status": submission.problem, "notes": submission.notes,
                              "key": key, "notebooks": {}})
            self.progress.advance(ok=False)
            return
        info = self.infos[submission.assignment]
        outcome = outcome or work.Outcome(submission.student, submission.assignment)
        notes = list(submission.notes) + outcome.notes
        if problem:
            notes.append(problem)
        score, max_score = 0.0, info.max_score
        try:
            score, max_score = self.book.record(submission.student, submission.assignment,
                                                work.parse_timestamp(submission.files.get("timestamp.txt")),
                                                {} if submission.problem else outcome.grades)
        except Exception as error:  # noqa: BLE001
            notes.append(f"score unavailable: {type(error).__name__}: {str(error)[:200]}")
            problem = problem or f"grader failure ({type(error).__name__})"
        problems = [s for s in outcome.statuses.values() if s != "graded"]
        status = submission.problem or problem or (problems[0] if problems else "graded")
        grader_failed = status.startswith("grader failure")
        self._write_files(submission, info, outcome, status, grader_failed, score, max_score)
        tests = outcome.tests or work._all_tests(info, outcome)
        if submission.problem or grader_failed:
            for test in tests:
                test.update(checked=False, passed=False, points=0.0, message=status)
        self.journal.put({"student_id": submission.student, "assignment": submission.assignment,
                          "score": None if grader_failed else round(score, 6), "max_score": max_score,
                          "status": status, "notes": notes, "key": "" if grader_failed else key,
                          "notebooks": outcome.statuses, "tests": tests,
                          "seconds": outcome.seconds, "timeouts": outcome.timeouts})
        for name, value in (("notebooks_run", outcome.notebooks_run), ("cpu", outcome.cpu),
                            ("sandbox_cpu", outcome.sandbox_cpu), ("starts", outcome.sandbox_starts)):
            self.counts[name] += value
        now = time.monotonic()
        if now - self.last_csv > 1.0:
            self.journal.write_csv()
            self.last_csv = now
        self.progress.advance(ok=status == "graded")

    def _write_files(self, submission, info, outcome, status, grader_failed, score, max_score) -> None:
        """The autograded notebooks and, with feedback, one page per notebook (a status page where none came)."""
        for notebook in info.release:
            if notebook in outcome.autograded and not grader_failed:
                self.book.write_autograded(submission.student, submission.assignment, notebook,
                                           outcome.autograded[notebook])
            if not self.options.feedback:
                continue
            folder = self.out / "feedback" / submission.student / submission.assignment
            folder.mkdir(parents=True, exist_ok=True)
            page = outcome.feedback.get(notebook) if not grader_failed else None
            if page is None:
                page = status_page(submission.student, submission.assignment, notebook,
                                   outcome.statuses.get(notebook, status), score, max_score)
            journal_module._atomic_write(folder / f"{notebook}.html", page)

    # ------------------------------------------------------------ 3. report, exports, summary

    def finish(self) -> dict:
        """The class report and exports (a failure there is a warning: the grades are recorded) and the summary."""
        counts, out = self.counts, self.out
        graded_now, notebooks_run = counts["graded_now"], counts["notebooks_run"]
        # the head's own CPU: finding, recording; not the report, nor the imports it made once for its workers
        head_cpu = time.process_time() - self.head_cpu - counts["preload"]
        wall = time.monotonic() - self.started
        records = self.journal.records()
        report_started = time.monotonic()
        from grader import class_report, exports

        written = []
        warnings = list(self.warnings)
        try:  # the grades are recorded already: a report that fails is reported, never a lost run
            class_report.write(out, records, book_url=self.options.book_url, lang=self.options.lang)
            written = [exports.write(out, records, kind, lang=self.options.lang) for kind in self.options.exports]
        except Exception as error:  # noqa: BLE001
            warnings.append(f"the report or an export could not be written ({type(error).__name__}: "
                            f"{str(error)[:300]}); `python -m autograder report {out}` tries again")
        report_wall = time.monotonic() - report_started
        text = summary(records, graded_now, self.skipped, wall, notebooks_run, warnings + self.journal.problems, out,
                       cpu={"head": head_cpu, "workers": counts["cpu"], "sandbox": counts["sandbox_cpu"],
                            "starts": counts["starts"], "preload": counts["preload"]})
        text += f"\nreport: {out}/report.html ({report_wall:.1f} s)" + "".join(f"\nexport: {path}" for path in written)
        return {"summary": text, "graded": graded_now, "skipped": self.skipped, "wall": wall + report_wall,
                "notebooks_run": notebooks_run, "records": records, "report_wall": report_wall,
                "head_cpu": head_cpu, "worker_cpu": counts["cpu"], "sandbox_cpu": counts["sandbox_cpu"],
                "preload_cpu": counts["preload"]}


class Preflight(threading.Thread):
    """``preflight`` on a thread of its own, started at once (a missing bubblewrap stops the run at once)."""

    def __init__(self, hidden: list[Path]):
        super().__init__(name="preflight", daemon=True)
        problem = sandbox.check_bwrap()
        if problem:
            raise SystemExit(f"cannot grade: {problem}")
        self.hidden, self.error = hidden, None
        self.start()

    def run(self) -> None:
        try:
            preflight(self.hidden)
        except SystemExit as error:
            self.error = error

    def wait(self) -> None:
        self.join()
        if self.error is not None:
            raise self.error


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



