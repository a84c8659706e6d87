"""Results that survive interruption: one file per (student, assignment), and grades.csv built from them.

A result is written (atomically: a temporary file, then ``os.replace``) only
after its grades are committed to the gradebook and its feedback is written,
so a run killed at any moment keeps every grade it finished and the next run
grades only the rest. Each result records the key it was graded under (the
hash of the submitted files, of the assignment's source, of the grading
settings and of the course's checks and configuration, ``grader_hash``); a
re-run regrades a submission only when its key changed, or with ``--force``.
A result file that cannot be read (corrupt, or not one of ours) is reported
and its submission graded again; it never stops a run. A row whose grading
failed on the grader's side has no score and is graded again next time.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import time
from pathlib import Path
from urllib.parse import quote

GRADER_VERSION = "2"
REQUIRED = {"student_id": str, "assignment": str, "max_score": (int, float), "status": str}
COLUMNS = ("student_id", "assignment", "score", "max_score", "status", "notes")


class Journal:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.folder = self.out / ".grading" / "results"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.problems: list[str] = []   # unreadable result files, for the summary
        self._reported: set[str] = set()

    def _path(self, student: str, assignment: str) -> Path:
        # hashed: any student id (long, non-ASCII) makes a short, safe file name; the id is inside
        digest = hashlib.sha256(f"{student}\0{assignment}".encode()).hexdigest()[:40]
        return self.folder / quote(assignment, safe="")[:100] / f"{digest}.json"

    def _read(self, path: Path) -> dict | None:
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict) or any(not isinstance(record.get(k), t) for k, t in REQUIRED.items()) \
                    or not isinstance(record.get("score"), (int, float, type(None))):
                raise ValueError("not a result record")
            return record
        except (OSError, ValueError, UnicodeDecodeError) as error:
            if str(path) not in self._reported:
                self._reported.add(str(path))
                self.problems.append(f"ignored unreadable result file {path.relative_to(self.out)} "
                                     f"({type(error).__name__}); its submission is graded again")
            return None

    def get(self, student: str, assignment: str) -> dict | None:
        path = self._path(student, assignment)
        if not path.exists():
            return None
        record = self._read(path)
        if record and (record["student_id"], record["assignment"]) != (student, assignment):
            return None
        return record

    def put(self, record: dict) -> None:
        path = self._path(record["student_id"], record["assignment"])
        path.parent.mkdir(parents=True, exist_ok=True)
        record = dict(record, written_at=time.time())
        _atomic_write(path, json.dumps(record, indent=1, sort_keys=True))

    def records(self) -> list[dict]:
        found = {}
        for path in sorted(self.folder.glob("*/*.json")):
            record = self._read(path)
            if record is not None:
                found[(record["student_id"], record["assignment"])] = record
        return [found[k] for k in sorted(found)]

    def write_csv(self) -> Path:
        """``OUT/grades.csv`` from every result recorded so far (text cells inert: ``exports.inert``)."""
        from grader.exports import inert

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")  # a cell holding \r or \n is quoted (exports.py)
        writer.writerow(COLUMNS)
        for record in self.records():
            writer.writerow([inert(record["student_id"]), inert(record["assignment"]),
                             "" if record.get("score") is None else _number(record["score"]),
                             _number(record["max_score"]), inert(record["status"]),
                             inert("; ".join(str(n) for n in record.get("notes", [])))])
        path = self.out / "grades.csv"
        _atomic_write(path, buffer.getvalue())
        return path


RESULT_FIELDS = ("student_id", "assignment", "notebook", "test", "hidden", "checked", "passed", "points",
                 "max_points", "mistakes", "message", "status")


def results_lines(records: list[dict]) -> list[dict]:
    """One line per student, assignment and test: the verdict, its points and the mistakes it recognised."""
    lines = []
    for record in records:
        for test in record.get("tests") or []:
            if not isinstance(test, dict):
                continue
            line = {key: test.get(key) for key in RESULT_FIELDS}
            line.update(student_id=record["student_id"], assignment=record["assignment"], status=record["status"])
            lines.append(line)
    return lines


def write_results(out: Path, records: list[dict]) -> Path:
    """``OUT/results.jsonl`` (next to grades.csv), rewritten from the results recorded so far."""
    text = "".join(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n" for line in results_lines(records))
    path = Path(out) / "results.jsonl"
    _atomic_write(path, text)
    return path


def secret(out: Path) -> bytes:
    """The grading run's secret (``OUT/.grading/secret``): fresh seeds come from it; the sandbox never sees OUT."""
    path = Path(out) / ".grading" / "secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(os.urandom(32).hex())
    return bytes.fromhex(path.read_text().strip())


def grader_hash() -> str:
    """The hash of the course's checks (``autograder``, nbgrader configuration included) and of this grader."""
    repo = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in ("autograder", "grader"):
        for path in sorted((repo / package).rglob("*.py")):
            if "tests" in path.relative_to(repo).parts:
                continue
            digest.update(str(path.relative_to(repo)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(submission_digest: str, source_hash: str, settings: str = "") -> str:
    return hashlib.sha256(f"{GRADER_VERSION}\0{submission_digest}\0{source_hash}\0{settings}".encode()).hexdigest()


def _number(value: float) -> str:
    return f"{value:g}"


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
