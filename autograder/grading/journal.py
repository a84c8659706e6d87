"""Results that survive interruption: one file per (student, assignment), and grades.csv built from them.

A result is written (atomically: a temporary file, then ``os.replace``) only
after its grades are committed to the gradebook and its feedback is written,
so a run killed at any moment keeps every grade it finished and the next run
grades only the rest. Each result records the key it was graded under (the
hash of the submitted files, of the assignment's source and of the grader's
version); a re-run regrades a submission only when its key changed, or with
``--force``.
"""
from __future__ import annotations

import csv
import io
import json
import os
import time
from pathlib import Path
from urllib.parse import quote

GRADER_VERSION = "1"
COLUMNS = ("student_id", "assignment", "score", "max_score", "status", "notes")


class Journal:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.folder = self.out / ".grading" / "results"
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, student: str, assignment: str) -> Path:
        return self.folder / quote(assignment, safe="") / f"{quote(student, safe='')}.json"

    def get(self, student: str, assignment: str) -> dict | None:
        try:
            return json.loads(self._path(student, assignment).read_text())
        except (OSError, ValueError):
            return None

    def put(self, record: dict) -> None:
        path = self._path(record["student_id"], record["assignment"])
        path.parent.mkdir(parents=True, exist_ok=True)
        record = dict(record, written_at=time.time())
        _atomic_write(path, json.dumps(record, indent=1, sort_keys=True))

    def records(self) -> list[dict]:
        found = []
        for path in sorted(self.folder.glob("*/*.json")):
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return sorted(found, key=lambda r: (r["student_id"], r["assignment"]))

    def write_csv(self) -> Path:
        """``OUT/grades.csv`` from every result recorded so far."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(COLUMNS)
        for record in self.records():
            writer.writerow([record["student_id"], record["assignment"], _number(record["score"]),
                             _number(record["max_score"]), record["status"], "; ".join(record.get("notes", []))])
        path = self.out / "grades.csv"
        _atomic_write(path, buffer.getvalue())
        return path


def key(submission_digest: str, source_hash: str, settings: str = "") -> str:
    import hashlib
    return hashlib.sha256(f"{GRADER_VERSION}\0{submission_digest}\0{source_hash}\0{settings}".encode()).hexdigest()


def _number(value: float) -> str:
    return f"{value:g}"


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
