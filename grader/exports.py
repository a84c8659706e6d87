"""Grades for a learning-management system, besides ``grades.csv``: ``--export canvas`` and ``--export moodle``.

Both are CSV files, UTF-8, with a header row and one row per student (every
assignment graded is a column), the layouts their gradebook imports document:

- **Canvas** (``OUT/canvas_grades.csv``). Canvas's "Import grades in the
  Gradebook" reads the layout of its own gradebook export: the columns
  ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one
  column per assignment; a student is matched by one of ``ID`` (Canvas's own
  number), ``SIS User ID`` or ``SIS Login ID``, and an assignment column that
  does not exist yet is created. The export's second row, ``Points Possible``,
  gives each assignment's maximum. Canvas documents its CSV files as UTF-8 with
  the standard quoting (RFC 4180): see the Canvas Instructor Guide, "How do I
  import grades in the Gradebook?", and the format rules of
  https://developerdocs.instructure.com/services/canvas/sis/file.sis_csv ("All
  text should be UTF-8 encoded"; first row a header). The course's student id
  goes into ``SIS User ID`` (and ``Student``); ``ID`` and ``Section`` stay empty
  for Canvas to match by SIS id.
- **Moodle** (``OUT/moodle_grades.csv``). Moodle's "Import grades from CSV"
  (https://docs.moodle.org/en/Grade_import) takes a header row and one row per
  user; in its preview the instructor maps one column to a user field ("Map
  from" ``ID number``, "Map to" ``useridnumber``) and each grade column to a grade
  item; the file's encoding (UTF-8) and separator (comma) are chosen in the
  import form. The columns: ``ID number`` (the course's student id), ``Email
  address`` (empty: map by ID number), then one grade column per assignment,
  in points. A submission with no score (the grader's failure) is left empty,
  so that an import does not turn it into a zero.

Every text cell the grader writes into a CSV file (these exports and
``grades.csv``) goes through ``inert``: a cell that begins with ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or a line feed (or their full-width
forms) gets a single quote in front, as OWASP's "CSV Injection" page recommends,
so that a spreadsheet shows it as text instead of running it as a formula. A
student id is the folder or zip name a learner chose: ``=HYPERLINK(...)`` or
``@SUM(A1)`` would otherwise run when the instructor opens the file. Only the
CSV cell changes: the gradebook, the journal, the feedback folders and
``results.jsonl`` keep the true id. A neutralised id (``'-2``) no longer
matches the LMS's own id on import, so that row is shown as unmatched (the
instructor types it in) rather than imported under a formula. Lines end in
``\r\n`` (RFC 4180): Python's ``csv`` quotes a cell only for the characters of
its line ending, so a cell holding a lone ``\r`` (a file name in a note) would
otherwise start a new row.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from normreg.i18n import translator

_ = translator("grader")

KINDS = ("canvas", "moodle")
# what a spreadsheet reads as the start of a formula (OWASP "CSV Injection"); full-width forms too
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def inert(text) -> str:
    """``text`` as a CSV cell a spreadsheet shows and never evaluates: a quote before a formula's first character."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _table(records: list[dict]) -> tuple[list[str], list[str], dict[str, dict[str, dict]]]:
    assignments = sorted({r["assignment"] for r in records})
    students = sorted({r["student_id"] for r in records})
    by = {s: {} for s in students}
    for r in records:
        by[r["student_id"]][r["assignment"]] = r
    return assignments, students, by


def _number(value) -> str:
    return "" if value is None else f"{float(value):g}"


def _maximum(records: list[dict], assignment: str) -> float:
    return max((float(r["max_score"]) for r in records if r["assignment"] == assignment), default=0.0)


def canvas(records: list[dict]) -> str:
    assignments, students, by = _table(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180 line ends
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *map(inert, assignments)])
    writer.writerow(["    Points Possible", "", "", "", "", *[_number(_maximum(records, a)) for a in assignments]])
    for student in students:
        writer.writerow([inert(student), "", inert(student), "", "",
                         *[_number(by[student].get(a, {}).get("score")) for a in assignments]])
    return buffer.getvalue()


def moodle(records: list[dict]) -> str:
    assignments, students, by = _table(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # (a cell holding \r or \n is quoted only with this ending)
    # Moodle's import maps each column by hand (its preview), so the header may be in the report's language;
    # Canvas's import reads its own English header names, so canvas_grades.csv keeps them in every language.
    writer.writerow([_("ID number"), _("Email address"), *map(inert, assignments)])
    for student in students:
        writer.writerow([inert(student), "", *[_number(by[student].get(a, {}).get("score")) for a in assignments]])
    return buffer.getvalue()


def write(out: Path, records: list[dict], kind: str, lang: str | None = None) -> Path:
    """``OUT/<kind>_grades.csv``; ``lang`` ('en', 'ko'; default: the language in use): the words of its header."""
    from normreg.i18n import language, set_language

    if kind not in KINDS:
        raise ValueError(f"unknown export {kind!r} (known: {', '.join(KINDS)})")
    path = Path(out) / f"{kind}_grades.csv"
    previous = language()
    set_language(lang or previous)
    try:
        text = canvas(records) if kind == "canvas" else moodle(records)
    finally:
        set_language(previous)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(text.encode("utf-8"))
    temporary.replace(path)
    return path
