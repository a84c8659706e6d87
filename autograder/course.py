"""Run nbgrader on the course in a scratch folder: generate, submit, autograde, read scores.

The tests use this to grade solutions, blank exercises and wrong answers the
same way an instructor's ``nbgrader autograde`` would, without touching the
repository's own gradebook. Nothing here replaces nbgrader: it only calls its
command line with the course's configuration.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

# nbgrader's gradebook runs the `alembic` command through PATH; make this interpreter's
# scripts folder (the virtual environment's bin/) findable even when it is not activated.
_SCRIPTS = str(Path(sys.executable).parent)
if _SCRIPTS not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _SCRIPTS + os.pathsep + os.environ.get("PATH", "")

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"
CONFIG = REPO / "autograder" / "nbgrader_config.py"

# Every page the course writes for people to open (feedback pages, the class report) forbids every load: no script,
# no request to the network, the disk or the page's host; only its inline styles and the pictures inside it (data:).
# The feedback template (templates/course_feedback/index.html.j2) writes the same text.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                           "form-action 'none'; base-uri 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}" />'

# Where learners read the book: feedback pages and the class report link each recognised mistake to its
# section there. The one setting: the environment variable NORMREG_BOOK_URL (e.g. the GitHub Pages site,
# https://YOUR-ORG.github.io/normreg-course); the grade and report commands also take --book-url. Without
# it, the book built on this machine (_build/html), which works offline but only here.
BOOK_URL_VARIABLE = "NORMREG_BOOK_URL"


def book_url() -> str:
    """The URL of the published book's root (the folder of its index.html), without a trailing slash."""
    return (os.environ.get(BOOK_URL_VARIABLE) or (REPO / "_build" / "html").as_uri()).rstrip("/")


def assignments() -> list[str]:
    """Assignment ids: the folders of ``solutions/``, in order."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def notebooks(assignment: str, root: Path = SOLUTIONS) -> list[Path]:
    """The notebooks of one assignment under ``root`` (solutions/ or exercises/)."""
    return sorted((root / assignment).glob("*.ipynb"))


@dataclass
class Course:
    """A scratch nbgrader course folder holding a copy of ``solutions/``."""

    root: Path

    @classmethod
    def create(cls, root: Path) -> "Course":
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(SOLUTIONS, root / "solutions", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        (root / "nbgrader_config.py").write_text(f"load_subconfig({str(CONFIG)!r})\n")
        return cls(root)

    def nbgrader(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """Run ``nbgrader ARGS`` in the course folder; raise with its log if it fails."""
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # Notebooks here are small: one thread each grades faster than several
        # threads competing for the cores with other graders.
        for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(variable, "1")
        result = subprocess.run(
            [sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=env,
            capture_output=True, text=True, timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"nbgrader {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def generate(self, assignment: str) -> Path:
        """``nbgrader generate_assignment``: writes exercises/<assignment>/ and the gradebook entry."""
        self.nbgrader("generate_assignment", assignment, "--force")
        return self.root / "exercises" / assignment

    def submit(self, student: str, assignment: str, notebook: nbformat.NotebookNode | Path, name: str | None = None) -> Path:
        """Place one notebook as ``submitted/<student>/<assignment>/<name>``."""
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        if isinstance(notebook, Path):
            name = name or notebook.name
            shutil.copy(notebook, folder / name)
        else:
            nbformat.write(notebook, folder / name)
        return folder / name

    def autograde(self, assignment: str, student: str | None = None) -> subprocess.CompletedProcess:
        """``nbgrader autograde`` for every submitted student, or only ``student``."""
        args = ["autograde", assignment, "--force"]
        if student:
            args.append(f"--student={student}")
        return self.nbgrader(*args)

    def feedback(self, assignment: str) -> Path:
        """``nbgrader generate_feedback``: HTML per student under feedback/<student>/<assignment>/."""
        self.nbgrader("generate_feedback", assignment, "--force")
        return self.root / "feedback"

    def scores(self, assignment: str) -> dict[str, dict[str, tuple[float, float]]]:
        """{student: {grade_id: (score, max_score)}} read from the gradebook."""
        from nbgrader.api import Gradebook

        result: dict[str, dict[str, tuple[float, float]]] = {}
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gradebook:
            for submission in gradebook.assignment_submissions(assignment):
                per_cell = result.setdefault(submission.student_id, {})
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        per_cell[grade.name] = (float(grade.score), float(grade.max_score))
        return result

    def autograded_outputs(self, student: str, assignment: str) -> dict[str, str]:
        """{grade_id: all text output of that cell} from the autograded notebooks of a student."""
        texts: dict[str, str] = {}
        for path in sorted((self.root / "autograded" / student / assignment).glob("*.ipynb")):
            notebook = json.loads(path.read_text())
            for cell in notebook["cells"]:
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if not grade_id or cell["cell_type"] != "code":
                    continue
                parts = []
                for output in cell.get("outputs", []):
                    parts.append("".join(output.get("text", "")))
                    parts.append(output.get("ename", "") + ": " + output.get("evalue", ""))
                    parts.extend(output.get("traceback", []))
                texts[grade_id] = "\n".join(parts)
        return texts


def total(per_cell: dict[str, tuple[float, float]]) -> tuple[float, float]:
    """(score, max_score) summed over a student's grade cells."""
    return sum(s for s, _ in per_cell.values()), sum(m for _, m in per_cell.values())
