"""Finding what was submitted: nbgrader's folder layout or a folder of ``<student>.zip`` exports.

``SUBMISSIONS/<student_id>/<assignment_id>/<notebook>.ipynb`` is nbgrader's
``submitted/`` layout. A learning-management system exports one zip per
student instead; a zip is unpacked (under ``OUT``) only if every member stays
inside its folder (no absolute paths, no ``..``, no links) and it is not
absurdly large, and the assignment folder is then found inside it (at its top,
under one wrapping folder, or the notebooks themselves).

Nothing here follows symbolic links. A student folder (or zip) that is a link,
an assignment folder that is a link and a notebook that is a link are refused:
the row gets the assignment's maximum, no points and a status that begins with
``refused: symbolic link`` (the class report lists it under "work that needs a
look"), never a grade of the work the link points to (another student's, say).
A zip that holds a link is refused as an unsafe zip. Any other linked file is
skipped, not read, with a note.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MAX_FILE_BYTES = 50 * 1024 ** 2
MAX_TOTAL_BYTES = 100 * 1024 ** 2
MAX_ZIP_MEMBERS = 5000
SKIP_PARTS = {".ipynb_checkpoints", "__pycache__", "__MACOSX", ".DS_Store"}
LINK_REFUSED = "refused: symbolic link"
MAX_ID_BYTES = 200  # a student id is a folder name in the feedback and the gradebook's course folder


@dataclass
class Submission:
    student: str
    assignment: str
    files: dict[str, bytes] = field(default_factory=dict)  # path inside the assignment folder -> content
    problem: str | None = None  # why it cannot be graded at all (status), or None
    notes: list[str] = field(default_factory=list)
    rejected: bool = False      # the student id itself cannot be used: a row, nothing else

    @property
    def digest(self) -> str:
        h = hashlib.sha256((self.problem or "").encode() + b"\0")
        for name in sorted(self.files):
            h.update(name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        return h.hexdigest()


def id_problem(student: str) -> str | None:
    """Why a folder or zip name cannot be a student id (nbgrader's folders and gradebook), or None."""
    if not student or student.startswith(".") or not student.isprintable() or any(c in student for c in "/\\"):
        return "not a usable student id (empty, hidden, or with control characters or slashes)"
    if len(student.encode("utf-8")) > MAX_ID_BYTES:
        return f"not a usable student id (longer than {MAX_ID_BYTES} bytes)"
    if student != student.strip():
        return "not a usable student id (leading or trailing spaces)"
    return None


def read_folder(folder: Path) -> tuple[dict[str, bytes], list[str]]:
    """Regular files under ``folder`` (no links followed), with size caps; and notes on what was skipped."""
    files: dict[str, bytes] = {}
    notes: list[str] = []
    total = 0
    for directory, subdirs, names in os.walk(folder, followlinks=False):
        subdirs[:] = sorted(d for d in subdirs if d not in SKIP_PARTS)
        for name in sorted(names):
            if name in SKIP_PARTS:
                continue
            path = Path(directory) / name
            relative = str(path.relative_to(folder))
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                notes.append(f"skipped {relative} (not a regular file)")
                continue
            if info.st_size > MAX_FILE_BYTES or total + info.st_size > MAX_TOTAL_BYTES:
                notes.append(f"skipped {relative} (too large)")
                continue
            with open(path, "rb", opener=lambda p, f: os.open(p, f | os.O_NOFOLLOW)) as handle:
                files[relative] = handle.read(MAX_FILE_BYTES + 1)
            total += info.st_size
    return files, notes


def unsafe_member(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    path = PurePosixPath(name)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        return f"path outside the folder: {name[:80]}"
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        return f"symbolic link: {name[:80]}"
    return None


def extract_zip(archive: Path, destination: Path) -> str | None:
    """Unpack ``archive`` into ``destination``; None, or the reason it was refused."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                return "unsafe zip (too many files)"
            for info in members:
                reason = unsafe_member(info)
                if reason:
                    return f"unsafe zip ({reason})"
            if sum(i.file_size for i in members) > MAX_TOTAL_BYTES:
                return "unsafe zip (too large when unpacked)"
            shutil.rmtree(destination, ignore_errors=True)
            destination.mkdir(parents=True)
            root = destination.resolve()
            for info in members:
                target = (destination / info.filename.replace("\\", "/")).resolve()
                if root not in target.parents and target != root:
                    return "unsafe zip (path outside the folder)"
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(info) as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink, 1 << 20)
                if target.stat().st_size > MAX_FILE_BYTES:
                    return "unsafe zip (a file too large when unpacked)"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        return f"unreadable zip ({type(error).__name__})"
    return None


def _assignment_folder(unpacked: Path, assignment: str, release_names: set[str], only: bool) -> Path | None:
    """Where an assignment's files are inside an unpacked zip."""
    candidates = [unpacked]
    entries = [p for p in unpacked.iterdir() if p.name not in SKIP_PARTS]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        candidates.append(entries[0])  # one wrapping folder, e.g. the student's name
    for base in candidates:
        if (base / assignment).is_dir() and not (base / assignment).is_symlink():
            return base / assignment
    for base in candidates:
        notebooks = {p.stem for p in base.glob("*.ipynb")}
        if notebooks & release_names or (only and notebooks):
            return base
    return None


def discover(root: Path, releases: dict[str, set[str]], staging: Path,
             requested: list[str] | None = None) -> tuple[list[Submission], list[str]]:
    """All (student, assignment) submissions under ``root``; and warnings for the summary.

    ``releases`` maps every known assignment to its notebook names. The
    assignments graded are ``requested``, or else every known one that some
    student submitted; every student gets a row for each of them.
    """
    root = Path(root)
    warnings: list[str] = []
    students: dict[str, tuple[str, Path]] = {}  # id -> ("dir" | "zip", path)
    refused: dict[str, str] = {}                 # name -> why it gets a row and nothing else
    for entry in sorted(root.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            student = entry.stem if entry.suffix.lower() == ".zip" else entry.name
            problem = id_problem(student)
            if problem:
                refused[student] = problem
                warnings.append(f"{student!r}: {problem}")
            elif student not in students:
                # a usable id: a row per assignment with the maximum and a clear refusal (not 0/0, never the target's work)
                students[student] = ("link", entry)
            continue
        if entry.is_dir():
            kind, student = "dir", entry.name
        elif entry.suffix.lower() == ".zip" and entry.is_file():
            kind, student = "zip", entry.stem
        else:
            warnings.append(f"ignored {entry.name} (neither a student folder nor a .zip)")
            continue
        problem = id_problem(student)
        if problem:
            refused[student] = problem
            warnings.append(f"{student!r}: {problem}")
            continue
        if student in students:
            if students[student][0] == "link":
                continue  # a link and a real folder or zip of one id: the link stays refused
            warnings.append(f"{student}: both a folder and a zip; the folder is graded")
            if kind == "zip":
                continue
        students[student] = (kind, entry)

    unpacked: dict[str, tuple[Path | None, str | None]] = {}
    for student, (kind, path) in students.items():
        if kind == "zip":
            destination = staging / student
            problem = extract_zip(path, destination)
            unpacked[student] = (None if problem else destination, problem)

    if requested:
        assignments = list(requested)
    else:
        seen = set()
        for student, (kind, path) in students.items():
            if kind == "link":
                continue  # never looked into
            base = path if kind == "dir" else unpacked[student][0]
            if base is None:
                continue
            for assignment in releases:
                if (base / assignment).is_dir() or any((base / d / assignment).is_dir()
                                                       for d in os.listdir(base) if (base / d).is_dir()):
                    seen.add(assignment)
        if not seen and len(releases) == 1:
            seen = set(releases)
        if not seen and any(kind == "zip" for kind, _ in students.values()):
            # zips of bare notebooks: match by notebook name
            for assignment, names in releases.items():
                for student, (kind, _) in students.items():
                    base = unpacked.get(student, (None, None))[0]
                    if base is not None and any(p.stem in names for p in base.rglob("*.ipynb")):
                        seen.add(assignment)
        assignments = sorted(seen)

    result: list[Submission] = []
    for student, problem in refused.items():
        for assignment in assignments or list(releases)[:1]:
            result.append(Submission(student, assignment, problem=problem, rejected=True))
    for student, (kind, path) in students.items():
        for assignment in assignments:
            submission = Submission(student, assignment)
            result.append(submission)
            if kind == "link":
                submission.problem = f"{LINK_REFUSED} (the student {'zip' if path.suffix.lower() == '.zip' else 'folder'} " \
                                     f"is a link; not followed)"
                continue
            if kind == "dir":
                folder = path / assignment
                if folder.is_symlink():
                    submission.problem = f"{LINK_REFUSED} (the assignment folder is a link; not followed)"
                    continue
                if not folder.exists():
                    submission.problem = "no submission"
                    continue
                if not folder.is_dir():
                    submission.problem = "unreadable submission (not a folder)"
                    continue
            else:
                base, problem = unpacked[student]
                if problem:
                    submission.problem = problem
                    continue
                folder = _assignment_folder(base, assignment, releases.get(assignment, set()),
                                            only=len(assignments) == 1)
                if folder is None:
                    submission.problem = "no submission"
                    continue
            submission.files, submission.notes = read_folder(folder)
            linked = sorted(name for name in os.listdir(folder) if name.endswith(".ipynb")
                            and os.path.islink(os.path.join(folder, name)))
            if linked:  # a notebook that is a link: refused, not "missing" (and never the target read)
                submission.problem = f"{LINK_REFUSED} (the notebook {linked[0][:80]} is a link; not followed)"
                continue
            if not submission.files:
                submission.problem = "empty submission"
    return result, warnings
