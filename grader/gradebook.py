"""nbgrader's side of grading: the course folder in OUT, the gradebook, and nbgrader's own preprocessors.

Everything that reads or writes a gradebook is here. The real one, in
``OUT/course``, has one writer however many workers run: the head process,
which copies each submission's grades into it in one transaction (``record``).
The nbgrader steps run in the workers (``work.py``), each on its own copy of
the gradebook, in ``nbgrader autograde``'s order:

- ``prepare``: ``nbgrader generate_assignment`` into ``OUT/course`` (only when
  ``solutions/<assignment>`` changed), which records the cells, points and
  checksums in the gradebook;
- ``sanitize``: ClearOutput, DeduplicateIds, OverwriteKernelspec,
  OverwriteCells (with ``add_missing_cells``: a deleted grade cell is put
  back and graded) and CheckCellMetadata; before them, nbgrader metadata the
  learner edited is put back from the released notebook, and metadata of
  cells the gradebook does not know is dropped, so that an edited cell can
  neither claim points nor stop the notebook from validating;
- ``save``: after the sandbox ran the notebook: IgnorePattern, LimitOutput,
  SaveAutoGrades, AssignLatePenalties, CheckCellMetadata;
- ``feedback_html``: the course's GenerateFeedback preprocessors
  (GetGrades, ShortenHiddenTracebacks, ClearHiddenTests, CSS) and nbgrader's
  feedback template, so hidden tests' source never reaches the learner.
"""
from __future__ import annotations

import collections
import copy
import hashlib
import html
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.course import CONFIG, SOLUTIONS, Course

NOTEBOOK_IGNORE = (".ipynb_checkpoints", "__pycache__", "feedback")


def course_config():
    """The course's nbgrader settings (autograder/nbgrader_config.py) as a traitlets Config."""
    from traitlets.config.loader import PyFileConfigLoader

    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def tree_hash(folder: Path, ignore=NOTEBOOK_IGNORE) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder)
        if any(part in ignore or part.endswith(".pyc") for part in relative.parts):
            continue
        digest.update(str(relative).encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


@dataclass
class AssignmentInfo:
    name: str
    release: dict[str, nbformat.NotebookNode]       # notebook name (no .ipynb) -> released notebook
    points: dict[str, dict[str, float]]             # notebook -> {grade_id: max points}
    source_hash: str
    extra_files: dict[str, bytes] = field(default_factory=dict)  # non-notebook files of the source folder
    hidden: dict[str, set[str]] = field(default_factory=dict)    # notebook -> grade ids that hold hidden tests

    @property
    def max_score(self) -> float:
        return float(sum(sum(p.values()) for p in self.points.values()))

    def cell_name(self, notebook: str, nb: nbformat.NotebookNode, index: int) -> str:
        grade_id = nb.cells[index].get("metadata", {}).get("nbgrader", {}).get("grade_id")
        return grade_id or f"#{index + 1}"


class CourseBook:
    """The nbgrader course folder ``OUT/course`` and its gradebook."""

    def __init__(self, out: Path):
        self.root = Path(out) / "course"
        self.db_path = self.root / "gradebook.db"
        self.db_url = f"sqlite:///{self.db_path}"
        self.config = course_config()
        self._exporter = None
        self._infos: dict[str, AssignmentInfo] = {}
        self._translated_releases: dict[tuple[str, str, str], nbformat.NotebookNode] = {}

    # -------------------------------------------------------------- assignments

    def prepare(self, assignment: str) -> AssignmentInfo:
        """Generate the assignment in the course folder if its source changed; describe it."""
        if assignment in self._infos:
            return self._infos[assignment]
        source = SOLUTIONS / assignment
        if not source.is_dir():
            raise KeyError(f"no assignment {assignment!r} in {SOLUTIONS}")
        digest = tree_hash(source)
        stamp = self.root / ".generated" / f"{assignment}.sha256"
        release_dir = self.root / "exercises" / assignment
        if not (stamp.exists() and stamp.read_text() == digest and release_dir.is_dir() and self.db_path.exists()):
            self.root.mkdir(parents=True, exist_ok=True)
            course = Course(self.root)
            shutil.rmtree(self.root / "solutions" / assignment, ignore_errors=True)
            shutil.copytree(source, self.root / "solutions" / assignment,
                            ignore=shutil.ignore_patterns(*NOTEBOOK_IGNORE, "*.pyc"))
            (self.root / "nbgrader_config.py").write_text(f"load_subconfig({str(CONFIG)!r})\n")
            try:
                self._generate_in_process(assignment)
            except Exception:  # noqa: BLE001 - nbgrader's command line says what went wrong
                course.generate(assignment)
            stamp.parent.mkdir(exist_ok=True)
            stamp.write_text(digest)
        release = {p.stem: nbformat.read(p, as_version=4) for p in sorted(release_dir.glob("*.ipynb"))}
        from nbgrader.api import Gradebook

        points: dict[str, dict[str, float]] = {}
        with Gradebook(self.db_url) as gradebook:
            for notebook in gradebook.find_assignment(assignment).notebooks:
                points[notebook.name] = {cell.name: float(cell.max_score) for cell in notebook.grade_cells}
        extra = {}
        for path in sorted(p for p in source.rglob("*") if p.is_file() and p.suffix != ".ipynb"):
            relative = path.relative_to(source)
            if not any(part in NOTEBOOK_IGNORE or part.endswith(".pyc") for part in relative.parts):
                extra[str(relative)] = path.read_bytes()
        hidden = {p.stem: {c.metadata["nbgrader"]["grade_id"] for c in nbformat.read(p, as_version=4).cells
                           if c.get("metadata", {}).get("nbgrader", {}).get("grade")
                           and "### BEGIN HIDDEN TESTS" in c.source}
                  for p in sorted(source.glob("*.ipynb"))}
        info = AssignmentInfo(assignment, release, points, digest, extra, hidden)
        self._infos[assignment] = info
        return info

    def _generate_in_process(self, assignment: str) -> None:
        """``nbgrader generate_assignment ASSIGNMENT --force``, without starting another Python."""
        from nbgrader.converters import GenerateAssignment
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config

        config = Config(self.config)
        config.CourseDirectory.root = str(self.root)
        config.CourseDirectory.assignment_id = assignment
        config.GenerateAssignment.force = True
        coursedir = CourseDirectory(config=config)
        converter = GenerateAssignment(coursedir=coursedir, config=config)
        converter.force = True
        converter.start()
        if not list((self.root / "exercises" / assignment).glob("*.ipynb")):
            raise RuntimeError("generate_assignment wrote no notebook")

    # -------------------------------------------------------------- submissions

    def _resources(self, student: str, assignment: str, notebook: str) -> dict:
        return {"nbgrader": {"student": student, "assignment": assignment, "notebook": notebook,
                             "db_url": self.db_url},
                "unique_key": notebook, "output_files_dir": f"{notebook}_files"}

    def start_submission(self, student: str, assignment: str, timestamp=None) -> None:
        """Create or update the student and the submission (and its grade rows) in the gradebook."""
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gradebook:
            gradebook.update_or_create_student(student)
            if timestamp is not None:
                gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
            else:
                gradebook.update_or_create_submission(assignment, student)

    def _preprocessor(self, cls, **settings):
        instance = cls(config=self.config)
        for key, value in settings.items():
            setattr(instance, key, value)
        return instance

    def _release_in(self, assignment: str, notebook: str, lang: str) -> nbformat.NotebookNode:
        """The release as the learners of ``lang`` got it (exercises/<lang>/ is made the same way from it)."""
        key, cache = (assignment, notebook, lang), self._translated_releases
        if key not in cache:
            from autograder.notebooks import translated_exercise

            cache[key] = translated_exercise(self.prepare(assignment).release[notebook], assignment, lang)
        return cache[key]

    def sanitize(self, student: str, assignment: str, notebook: str,
                 nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
        """nbgrader's sanitizing steps; returns the notebook to run and notes on what was repaired."""
        from nbgrader.preprocessors import (CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells,
                                            OverwriteKernelspec)

        info = self.prepare(assignment)
        from autograder.i18n import notebook_language

        lang = notebook_language(nb)
        notes = restore_cell_metadata(nb, info.release[notebook],
                                      self._release_in(assignment, notebook, lang) if lang != "en" else None)
        resources = self._resources(student, assignment, notebook)
        for cls in (ClearOutput, DeduplicateIds, OverwriteKernelspec):
            nb, resources = self._preprocessor(cls).preprocess(nb, resources)
        for cell in nb.cells:  # DeduplicateIds empties the metadata of duplicates: make them plain cells
            if cell.metadata.get("nbgrader") == {}:
                del cell.metadata["nbgrader"]
        before = copy.deepcopy(nb)
        try:
            nb, resources = self._preprocessor(OverwriteCells, add_missing_cells=True).preprocess(nb, resources)
        except Exception:  # noqa: BLE001 - nbgrader cannot place a missing cell: grade without it
            nb = before
            nb, resources = self._preprocessor(OverwriteCells).preprocess(nb, resources)
        nb = nbformat.from_dict(nb)  # cells nbgrader put back hold plain dicts
        # a Korean notebook's locked cells: OverwriteCells put back the English release's; its language again
        from autograder.notebooks import RestoreLanguage

        nb, resources = RestoreLanguage().preprocess(nb, resources)
        nb, resources = self._preprocessor(CheckCellMetadata).preprocess(nb, resources)
        present = {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells
                   if c.metadata.get("nbgrader", {}).get("grade")}
        missing = sorted(set(info.points.get(notebook, {})) - present)
        if missing:
            notes.append("grade cells missing: " + ", ".join(missing))
        restored = [c.metadata.nbgrader["grade_id"] for c in nb.cells
                    if c.get("source", "").startswith("# This cell (id:") and c.metadata.get("nbgrader")]
        if restored:
            notes.append("deleted grade cells put back: " + ", ".join(restored))
        return nb, notes

    def save(self, student: str, assignment: str, notebook: str,
             nb: nbformat.NotebookNode, write: bool = True) -> nbformat.NotebookNode:
        """nbgrader's steps after execution: the grades go into the gradebook (and, with ``write``, the
        autograded notebook into ``course/autograded``)."""
        from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput,
                                            SaveAutoGrades)

        resources = self._resources(student, assignment, notebook)
        for cls in (IgnorePattern, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata):
            nb, resources = self._preprocessor(cls).preprocess(nb, resources)
        if write:
            self.write_autograded(student, assignment, notebook, nbformat.writes(nb))
        return nb

    def write_autograded(self, student: str, assignment: str, notebook: str, text: str) -> None:
        folder = self.root / "autograded" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        _atomic_write(folder / f"{notebook}.ipynb", text)

    def grades_of(self, student: str, assignment: str, notebook: str, nb: nbformat.NotebookNode):
        """What ``save`` wrote for the grade cells, comments and late penalty of ``nb`` (a worker's copy)."""
        from nbgrader import utils
        from nbgrader.api import Gradebook

        from grader.work import NotebookGrades

        ids = {c.metadata.nbgrader["grade_id"] for c in nb.cells if utils.is_grade(c) or utils.is_solution(c)
               or utils.is_task(c)}
        result = NotebookGrades()
        with Gradebook(self.db_url) as gradebook:
            submitted = gradebook.find_submission_notebook(notebook, assignment, student)
            result.scores = {g.name: g.auto_score for g in submitted.grades if g.name in ids}
            result.comments = {c.name: c.auto_comment for c in submitted.comments if c.name in ids}
            result.penalty = submitted.late_submission_penalty
        return result

    # -------------------------------------------------------------- the head's one writer

    def snapshot(self) -> bytes:
        """The gradebook as it is now (assignments generated), for the workers' own copies."""
        import sqlite3

        with sqlite3.connect(self.db_path) as connection:
            return connection.serialize()

    def _connection(self):
        """The head's connection to the gradebook, opened once for the run."""
        import sqlite3

        if getattr(self, "_sqlite", None) is None:
            self._sqlite = sqlite3.connect(self.db_path, isolation_level=None, timeout=60)
        return self._sqlite

    def close(self) -> None:
        if getattr(self, "_sqlite", None) is not None:
            self._sqlite.close()
            self._sqlite = None

    def record(self, student: str, assignment: str, timestamp, grades: dict) -> tuple[float, float]:
        """Write one submission's grades in one transaction; return its (score, max_score).

        ``grades``: notebook -> ``work.NotebookGrades`` for the notebooks that were graded; every
        other notebook of the assignment scores 0. The rows are nbgrader's own (what its
        ``add_submission``, ``SaveAutoGrades`` and ``AssignLatePenalties`` write, in its schema), written
        with plain SQL: nbgrader's ORM costs the head ~60 ms per new submission, this ~2 ms, and the head
        is what limits how many workers one run can feed. As SaveAutoGrades does, a grade an instructor
        changed by hand (a manual score) is kept and flagged for review; the score is nbgrader's
        (manual over automatic, extra credit added, late penalty subtracted).
        """
        connection = self._connection()
        run = connection.execute
        run("BEGIN IMMEDIATE")
        try:
            (assignment_id,) = run("SELECT id FROM assignment WHERE name = ?", (assignment,)).fetchone()
            run("INSERT OR IGNORE INTO student (id) VALUES (?)", (student,))
            stamp = timestamp.strftime("%Y-%m-%d %H:%M:%S.%f") if timestamp is not None else None
            found = run("SELECT id FROM submitted_assignment WHERE assignment_id = ? AND student_id = ?",
                        (assignment_id, student)).fetchone()
            if found is None:
                submission_id = uuid.uuid4().hex
                run("INSERT INTO submitted_assignment (id, assignment_id, student_id, timestamp, extension) "
                    "VALUES (?, ?, ?, ?, NULL)", (submission_id, assignment_id, student, stamp))
                for (notebook_id,) in run("SELECT id FROM notebook WHERE assignment_id = ?", (assignment_id,)).fetchall():
                    submitted_id = uuid.uuid4().hex
                    run("INSERT INTO submitted_notebook (id, assignment_id, notebook_id, flagged, late_submission_penalty) "
                        "VALUES (?, ?, ?, 0, NULL)", (submitted_id, submission_id, notebook_id))
                    cells = run("SELECT b.id, b.type FROM base_cell b WHERE b.notebook_id = ?", (notebook_id,)).fetchall()
                    graded = {c for c, kind in cells if kind in ("GradeCell", "TaskCell")}
                    commented = {c for c, kind in cells if kind in ("SolutionCell", "TaskCell")}
                    run_many = connection.executemany
                    run_many("INSERT INTO grade (id, notebook_id, cell_id, auto_score, manual_score, extra_credit, "
                             "needs_manual_grade) VALUES (?, ?, ?, NULL, NULL, NULL, 1)",
                             [(uuid.uuid4().hex, submitted_id, c) for c in sorted(graded)])
                    run_many("INSERT INTO comment (id, notebook_id, cell_id, auto_comment, manual_comment) "
                             "VALUES (?, ?, ?, NULL, NULL)", [(uuid.uuid4().hex, submitted_id, c) for c in sorted(commented)])
            else:
                (submission_id,) = found
                if stamp is not None:
                    run("UPDATE submitted_assignment SET timestamp = ? WHERE id = ?", (stamp, submission_id))
            notebooks = run("SELECT s.id, n.name FROM submitted_notebook s JOIN notebook n ON n.id = s.notebook_id "
                            "WHERE s.assignment_id = ?", (submission_id,)).fetchall()
            for submitted_id, name in notebooks:
                saved = grades.get(name)
                if saved is None:
                    run("UPDATE grade SET auto_score = 0, needs_manual_grade = 0 WHERE notebook_id = ?", (submitted_id,))
                    run("UPDATE comment SET auto_comment = NULL WHERE notebook_id = ?", (submitted_id,))
                    continue
                rows = run("SELECT g.id, b.name, g.manual_score FROM grade g JOIN base_cell b ON b.id = g.cell_id "
                           "WHERE g.notebook_id = ?", (submitted_id,)).fetchall()
                connection.executemany(
                    "UPDATE grade SET auto_score = ?, needs_manual_grade = ? WHERE id = ?",
                    [(saved.scores[cell], int(manual is not None or saved.scores[cell] is None), grade_id)
                     for grade_id, cell, manual in rows if cell in saved.scores])
                rows = run("SELECT c.id, b.name FROM comment c JOIN base_cell b ON b.id = c.cell_id "
                           "WHERE c.notebook_id = ?", (submitted_id,)).fetchall()
                connection.executemany("UPDATE comment SET auto_comment = ? WHERE id = ?",
                                       [(saved.comments[cell], comment_id) for comment_id, cell in rows
                                        if cell in saved.comments])
                run("UPDATE submitted_notebook SET late_submission_penalty = ? WHERE id = ?",
                    (saved.penalty, submitted_id))
            score, penalty = run(
                "SELECT COALESCE(SUM(CASE WHEN g.manual_score IS NOT NULL THEN g.manual_score + COALESCE(g.extra_credit, 0.0) "
                "WHEN g.auto_score IS NOT NULL THEN g.auto_score + COALESCE(g.extra_credit, 0.0) ELSE 0.0 END), 0.0), "
                "(SELECT COALESCE(SUM(late_submission_penalty), 0.0) FROM submitted_notebook WHERE assignment_id = ?) "
                "FROM grade g JOIN submitted_notebook s ON s.id = g.notebook_id WHERE s.assignment_id = ?",
                (submission_id, submission_id)).fetchone()
            (max_score,) = run(
                "SELECT COALESCE(SUM(m), 0.0) FROM (SELECT COALESCE(g.max_score, t.max_score, 0.0) AS m FROM base_cell b "
                "JOIN notebook n ON n.id = b.notebook_id LEFT JOIN grade_cells g ON g.id = b.id "
                "LEFT JOIN task_cells t ON t.id = b.id WHERE n.assignment_id = ? AND (g.id IS NOT NULL OR t.id IS NOT NULL))",
                (assignment_id,)).fetchone()
            run("COMMIT")
        except BaseException:
            run("ROLLBACK")
            raise
        return float(score) - float(penalty or 0.0), float(max_score)


    # -------------------------------------------------------------- feedback

    def feedback_html(self, student: str, assignment: str, notebook: str, nb: nbformat.NotebookNode) -> str:
        """The learner's feedback page, made by the course's GenerateFeedback preprocessors."""
        from nbconvert.exporters import HTMLExporter
        from traitlets.config import Config
        from traitlets.utils.importstring import import_item

        if self._exporter is None:
            import nbgrader

            base = Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
            config = Config(self.config)
            # The course's template (autograder/nbgrader_config.py): nbgrader's feedback page, loading no MathJax.
            config.HTMLExporter.template_name = self.config.HTMLExporter.get("template_name", "feedback")
            # The learner's outputs and markdown are theirs: no <script>, event handlers or javascript: URLs.
            config.HTMLExporter.sanitize_html = True
            config.HTMLExporter.extra_template_basedirs = list(self.config.HTMLExporter.get(
                "extra_template_basedirs", [str(base / "templates")]))
            config.HTMLExporter.extra_template_paths = [
                str(base / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
            self._exporter = _feedback_exporter(HTMLExporter)(config=config)
            names = self.config.GenerateFeedback.get("preprocessors", [
                "nbgrader.preprocessors.GetGrades", "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor"])
            self._feedback_steps = [import_item(n) if isinstance(n, str) else n for n in names]
        from jupyter_core.paths import jupyter_config_dir

        nb = copy.deepcopy(nb)
        resources = self._resources(student, assignment, notebook)
        resources["config_dir"] = jupyter_config_dir()
        for cls in self._feedback_steps:
            step = cls(config=self._exporter.config)
            step.enabled = True
            nb, resources = step.preprocess(nb, resources)
        body, _ = self._exporter.from_notebook_node(nb, resources=resources)
        return body


def _feedback_exporter(base):
    """nbconvert's HTMLExporter without its last step, a BeautifulSoup pass over the whole page.

    That pass (nbconvert 7) adds ``tabindex`` to JupyterLab's cell classes, which nbgrader's
    classic-based feedback template does not have, and a default ``alt`` text to images that lack one;
    parsing and writing the page again took more than half of a feedback page's CPU. The alt text is
    added here with a regular expression; everything else is nbconvert's.
    """
    import re

    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    missing_alt = re.compile(r"<img(?![^<>]*\salt=)", re.I)   # [^<>]: each tag scanned once, even with no ">"

    class FeedbackExporter(base):
        def from_notebook_node(self, nb, resources=None, **kw):
            language = nb.metadata.get("language_info", {})
            lexer = language.get("pygments_lexer", language.get("name", None))
            self.register_filter("highlight_code", self.filters.get(
                "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            body, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return missing_alt.sub('<img alt="No description has been provided for this image"', body), resources

    return FeedbackExporter


def restore_cell_metadata(nb: nbformat.NotebookNode, release: nbformat.NotebookNode,
                          translated: nbformat.NotebookNode | None = None) -> list[str]:
    """Put back the released nbgrader metadata of known cells; drop it from unknown cells.

    ``translated``: the same release in the notebook's language (a Korean notebook's locked cells are
    unedited when they hold either its words or the English ones).

    nbgrader identifies graded and locked cells by their metadata, which the
    learner can edit (JupyterLab shows it). A known ``grade_id`` gets its
    released metadata back (points, grade, locked, solution); a cell claiming
    to be graded or locked with an id the assignment does not have loses the
    claim and runs as an ordinary cell.
    """
    released = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"] for c in release.cells
                if "grade_id" in c.get("metadata", {}).get("nbgrader", {})}
    released_source = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
                       if "grade_id" in c.get("metadata", {}).get("nbgrader", {})}
    other_source = {c.metadata["nbgrader"]["grade_id"]: c.source for c in (translated.cells if translated else [])
                    if "grade_id" in c.get("metadata", {}).get("nbgrader", {})}
    notes = []
    edited = sorted({c.metadata["nbgrader"]["grade_id"] for c in nb.cells
                     if isinstance(c.get("metadata", {}).get("nbgrader"), dict)
                     and c.metadata["nbgrader"].get("grade_id") in released
                     and released[c.metadata["nbgrader"]["grade_id"]].get("locked")
                     and c.get("source") != released_source[c.metadata["nbgrader"]["grade_id"]]
                     and c.get("source") != other_source.get(c.metadata["nbgrader"]["grade_id"])})
    if edited:
        notes.append("edited locked cells restored: " + ", ".join(edited))
    seen = [c.metadata["nbgrader"].get("grade_id") for c in nb.cells
            if isinstance(c.get("metadata", {}).get("nbgrader"), dict) and c.metadata["nbgrader"].get("grade_id")]
    counts = collections.Counter(g for g in seen if isinstance(g, str))   # linear: 50,000 cells are not 50,000²
    duplicates = sorted(g for g, n in counts.items() if n > 1)
    if duplicates:
        notes.append("duplicated cells (nbgrader keeps the last of each): " + ", ".join(duplicates))
    for cell in nb.cells:
        meta = cell.get("metadata", {})
        nbgrader_meta = meta.get("nbgrader")
        if nbgrader_meta is None:
            continue
        grade_id = nbgrader_meta.get("grade_id") if isinstance(nbgrader_meta, dict) else None
        if isinstance(grade_id, str) and grade_id in released:
            wanted = copy.deepcopy(released[grade_id])
            checksum = nbgrader_meta.get("checksum") if isinstance(nbgrader_meta, dict) else None
            if checksum is not None:
                wanted["checksum"] = checksum
            else:
                wanted.pop("checksum", None)
            flags = ("grade", "solution", "locked", "points", "task", "grade_id")
            if any(nbgrader_meta.get(k) != wanted.get(k) for k in flags):
                notes.append(f"cell metadata of {grade_id} restored")
            meta["nbgrader"] = nbformat.from_dict(wanted)
        else:
            del meta["nbgrader"]
            if isinstance(nbgrader_meta, dict) and (nbgrader_meta.get("grade") or nbgrader_meta.get("locked")
                                                     or nbgrader_meta.get("solution")):
                notes.append(f"unknown graded cell {str(grade_id)[:40]!r} ignored")
    return notes


def status_page(student: str, assignment: str, notebook: str, status: str, score: float, max_score: float) -> str:
    """Feedback for a notebook that could not be run."""
    e = html.escape
    from autograder.course import CSP_META

    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'>{CSP_META}<title>{e(notebook)}</title></head><body>"
            f"<h1>{e(assignment)} / {e(notebook)}</h1><p>Student: {e(student)}</p>"
            f"<p><strong>Not graded: {e(status)}.</strong></p><p>Score: {score} / {max_score}</p></body></html>")


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text)
    os.replace(temporary, path)
