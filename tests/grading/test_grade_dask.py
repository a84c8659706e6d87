"""Grading on a Dask cluster (``--scheduler tcp://HOST:PORT``), with a worker lost in the middle of the batch.

A real scheduler and two workers are started as separate processes on
127.0.0.1 with Dask's own command line (``dask scheduler``, ``dask worker``),
as an instructor would start them on several machines. A mixed class of two
chapters (NumPy and torch: correct, wrong, blank and broken notebooks) is
graded through ``--scheduler``; once some rows are recorded, one worker is
killed with SIGKILL (its whole process group, as a machine that goes away).
Then every student has exactly one row, every score equals the one a local
run gives the same class, and nbgrader's gradebook agrees with grades.csv.
"""
from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.course import REPO, notebooks
from tests.grading.grade_helpers import grade, require_bwrap, rows_by_assignment

pytestmark = pytest.mark.slow  # a cluster, sandboxes, two grading runs

ASSIGNMENTS = ("01_normalization", "06_dropout")
PER_ASSIGNMENT = 10  # one full cycle of make_class: 4 correct, 3 wrong, 2 blank, 1 broken
DASK = Path(sys.executable).parent / "dask"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start(*args: str, log: Path) -> subprocess.Popen:
    return subprocess.Popen([str(DASK), *args], cwd=REPO, stdout=open(log, "w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for_workers(address: str, count: int, timeout: float = 120) -> None:
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(count, timeout=timeout)


def _write_class(folder: Path) -> list[tuple[str, str]]:
    from benchmarks.grading_speed import make_class, write_submissions

    students = []
    for assignment in ASSIGNMENTS:
        (source,) = notebooks(assignment)
        made = make_class(assignment, PER_ASSIGNMENT, seed=3)
        write_submissions(folder, assignment, source.name, made)
        students += [(student, assignment) for student, _ in made]
    return students


def _results(out: Path) -> int:
    return sum(1 for _ in (out / ".grading" / "results").rglob("*.json")) if (out / ".grading").is_dir() else 0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    require_bwrap()
    root = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = _start("scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                       log=root / "scheduler.log")
    workers = [_start("worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", f"w{n}",
                      "--memory-limit", "0", log=root / f"worker{n}.log") for n in (1, 2)]
    try:
        _wait_for_workers(address, 2)
        yield address, workers, root
    finally:
        for process in [*workers, scheduler]:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=30)


def test_a_worker_lost_mid_batch_loses_no_grade_and_counts_none_twice(cluster, tmp_path):
    address, workers, root = cluster
    submissions = tmp_path / "submitted"
    students = _write_class(submissions)
    out = tmp_path / "dask-out"
    started = time.monotonic()
    run = grade(submissions, out, "--scheduler", address, assignment=ASSIGNMENTS, wait=False)
    killed_after = None
    while run.poll() is None and time.monotonic() - started < 600:
        if killed_after is None and _results(out) >= 4:
            killed_after = _results(out)
            os.killpg(workers[0].pid, signal.SIGKILL)  # the worker and its sandboxes, mid-batch
        time.sleep(0.05)
    stdout, stderr = run.communicate(timeout=60)
    dask_wall = time.monotonic() - started
    assert run.returncode == 0, stderr[-4000:]
    assert killed_after is not None and killed_after < len(students), "the worker was not killed mid-batch"
    assert workers[0].wait(timeout=30) == -signal.SIGKILL

    local_out = tmp_path / "local-out"
    started = time.monotonic()
    local = grade(submissions, local_out, "--workers", "2", assignment=ASSIGNMENTS, timeout=600)
    local_wall = time.monotonic() - started
    assert local.returncode == 0, local.stderr[-4000:]

    with open(out / "grades.csv", newline="") as handle:
        keys = [(row["student_id"], row["assignment"]) for row in csv.DictReader(handle)]
    assert sorted(keys) == sorted(students)  # exactly one row each: none lost, none twice
    dask_rows, local_rows = rows_by_assignment(out), rows_by_assignment(local_out)
    differ = {key: (dask_rows[key]["score"], local_rows[key]["score"]) for key in dask_rows
              if (dask_rows[key]["score"], dask_rows[key]["status"]) != (local_rows[key]["score"],
                                                                         local_rows[key]["status"])}
    assert not differ
    assert all(row["score"] != "" for row in dask_rows.values())  # no grader failure: the lost work was redone

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{out / 'course' / 'gradebook.db'}") as gradebook:
        for (student, assignment), row in dask_rows.items():
            submission = gradebook.find_submission(assignment, student)
            assert float(submission.score) == pytest.approx(float(row["score"])), (student, assignment)
        assert sum(len(a.submissions) for a in gradebook.assignments) == len(students)
    graded = sum(1 for row in dask_rows.values() if row["status"] == "graded")
    print(f"\nDask: {len(students)} submissions of {', '.join(ASSIGNMENTS)} on 2 workers, one killed after "
          f"{killed_after} rows: {dask_wall:.1f} s; local run, 2 workers: {local_wall:.1f} s; "
          f"{len(students)} rows each, {graded} graded, 0 scores differ")
