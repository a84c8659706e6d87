"""Adversarial and broken submissions of four chapters, generated, for ``test_grade_batch.py``.

Each ``Case`` writes one student's submission of one assignment into a
SUBMISSIONS folder (nbgrader's ``<student>/<assignment>/`` layout, or
``<student>.zip``) and says what grading must give: the status (a substring
of it), and either full marks or at most some score (no false credit), and
where it matters at least some score (what a crash costs, and no more). The
correct ones are mixed in, so the batch also shows that the bad ones do not
stop or slow the others. All four assignments are graded in one run, so every
student also has a "no submission" row for the three others.

- ``normalization``: 01_normalization (NumPy only in its sandbox): the
  original batch (structure, limits, escapes, ids, zips) and the cheats;
- ``batchnorm_training``: 03_batchnorm_training (NumPy only; torch absent);
- ``batchnorm_inference``: 04_batchnorm_inference (NumPy and torch): the
  library's batch norm under other names, and the operator record;
- ``dropout``: 06_dropout (NumPy and torch): F.dropout / nn.Dropout inside
  the learner's code, and the operator record;
- ``reading`` and ``reading_attack3``: what the reading of the cells refuses (hidden code, attributes
  named by strings or patterns) and the ordinary code it reads clean;
- ``tricks``: the cheats the chapters share (sys.modules without an import,
  frames through inspect, forged runner messages, the operator record
  switched off...); ``memorise``: the visible tests' answers;
- ``isolation``: one job against another; ``sandbox_mounts``: what a job can
  write, execute and read of the file system (``/dev``, ``noexec`` ``/tmp``,
  ``/etc``, ``/var``, ``/opt``, top-level files) and the memory status;
- ``work_attack3``: hidden code costs only the tests after it, the feedback step stays linear, and feedback
  pages load nothing (the third attack's report);
- ``attack4``: IPython's shell from a cell, honest names the reading refused, and Korean notebooks noted as
  edited (the fourth attack's report);
- ``attack7``: learner code called while a library is imported (a logging handler evaluating string
  annotations) and the dropout module's independence test switched off by a tensor subclass (the seventh
  attack's report).
- ``honest7``: honest code the reading refused (magics, names that are also modules', namedtuple's, a learner's
  ``class Out``, a visible check run again) and the routes it must still refuse (the seventh attack's report).

``prepare_out`` puts stray and corrupt result files in OUT before the run.
"""
from __future__ import annotations

import json
from pathlib import Path

from tests.grading.submissions import common
from tests.grading.submissions.common import ASSIGNMENTS, Case, hidden_test_lines, max_score, notebook_name

ASSIGNMENT = "01_normalization"
NOTEBOOK = notebook_name(ASSIGNMENT)
MAX_SCORE = max_score(ASSIGNMENT)

__all__ = ["ASSIGNMENT", "ASSIGNMENTS", "MAX_SCORE", "NOTEBOOK", "Case", "cases", "exercise", "hidden_test_lines",
           "max_score", "notebook_name", "prepare_out", "solution", "STRAY_RESULTS", "CORRUPT_RESULTS"]


def solution(assignment: str = ASSIGNMENT) -> dict:
    return common.solution(assignment)


def exercise(assignment: str = ASSIGNMENT) -> dict:
    return common.exercise(assignment)


# Cases written to get past a reading that judged only chains starting at an imported module's name
# (``warnings.sys.modules``, ``dataclasses.inspect``, ``t = torch; t._C``, an alias in a list). The reading
# now judges every chain, so they stop there, with this status; their attacks (kept as written) still run
# in the sandbox, where the same score (0) follows from the verdicts alone.
READ_AS_HIDDEN = {
    "process-flood-quietly": "hidden code: .sys", "peek-quietly": "hidden code: .sys",
    "ctypes-quietly": "hidden code: .sys", "reload-and-import": "hidden code: .sys",
    "loosen-tolerance": "hidden code: .sys", "read-expected-by-frames": "hidden code: .inspect",
    "frames-through-helpers": "hidden code: .sys", "forge-probes-by-stack": "hidden code: .sys",
    "forge-guessed-nonce": "tampering", "bn-training-torch-quietly": "hidden code: .sys",
    "bn-training-gc-checks": "hidden code: .sys", "bn-training-gc-referrers": "hidden code: .sys",
    "bn-training-closure-visible": "hidden code: .sys", "bn-vf-alias": "hidden code: ._VF",
    "bn-reloaded-library-module": "hidden code: .sys", "bn-function-mode-disabled": "hidden code: ._C",
    "bn-record-silenced": "hidden code: .sys", "bn-swap-run-probe": "hidden code: .sys",
    "bn-forge-by-gc": "hidden code: .sys", "bn-fold-fusion-alias": "forbidden reference: ...fuse_linear_bn_eval",
    "bn-loosen-tolerance": "hidden code: .sys", "dropout-learner-code-silenced": "hidden code: .sys",
    "dropout-swap-run-probe": "hidden code: .sys", "dropout-forge-closure-nonce": "hidden code: .sys",
}


# Cases whose hidden code comes after some grade cells (attack3, "affected tests only"): the notebook runs up to
# the first cell holding it, so the tests before that cell are graded as usual (their code is the correct
# solution where _SOLUTION_BEFORE_CUT says so: they pass), and a crash in or after that cell never happens (os-exit, segfault: the kernel that died
# is now work_attack3's a3-kernel-dies-readably). student -> (status, the grade ids before the cut).
_01_BEFORE_FIT = ("test_min_max_scale", "test_min_max_scale_hidden")
_01_BEFORE_TRANSFORM = _01_BEFORE_FIT + ("test_z_score_fit", "test_z_score_fit_hidden")
_06_BEFORE_DROPOUT_CLASS = ("test_dropout_forward", "test_dropout_forward_hidden", "test_dropout_backward",
                            "test_dropout_backward_hidden", "test_vanilla_dropout_forward",
                            "test_vanilla_dropout_forward_hidden")
CUT_BY_HIDDEN_CODE = {
    "os-exit": ("hidden code: ._exit", _01_BEFORE_FIT),
    "segfault": ("hidden code: ._sigsegv", _01_BEFORE_TRANSFORM),
    "reload-and-import": ("hidden code: .sys", _01_BEFORE_FIT),
    "read-unparsable-cell": ("hidden code: a cell the grader cannot read as Python", _01_BEFORE_TRANSFORM),
    "read-help-syntax": ("hidden code: a cell the grader cannot read as Python", _01_BEFORE_TRANSFORM),
    "dropout-getattr-computed": ("hidden code: getattr() with a computed name", _06_BEFORE_DROPOUT_CLASS),
    "dropout-learner-code-silenced": ("hidden code: .sys", _06_BEFORE_DROPOUT_CLASS),
    "dropout-import-checks": ("hidden code: import of autograder.dropout", _06_BEFORE_DROPOUT_CLASS),
    "read-thread-dropout": ("hidden code: import of threading", _06_BEFORE_DROPOUT_CLASS),
    "forge-guessed-nonce": ("hidden code: .sys", ()),   # its forged messages are never sent: no tampering to see
    "a3-too-deep": ("hidden code: a cell the grader cannot read as Python (nested too deeply)", _01_BEFORE_TRANSFORM),
}


_SOLUTION_BEFORE_CUT = {"os-exit", "segfault", "read-unparsable-cell", "read-help-syntax", "forge-guessed-nonce",
                        "a3-too-deep"}


def cases() -> list[Case]:
    import dataclasses

    from tests.grading.submissions import (attack4, attack7, batchnorm_inference, batchnorm_training, bookkeeping,
                                           dropout, honest7, isolation, normalization, reading, reading_attack3,
                                           sandbox_mounts, work_attack3)

    found = normalization.cases() + batchnorm_training.cases() + batchnorm_inference.cases() + dropout.cases()
    found += isolation.cases() + bookkeeping.cases() + reading.cases() + reading_attack3.cases()
    found += sandbox_mounts.cases() + work_attack3.cases()
    found += attack4.cases() + attack7.cases() + honest7.cases()
    restated = {**READ_AS_HIDDEN, **reading.READ_NOW}
    found = [dataclasses.replace(c, status=restated[c.student]) if c.student in restated else c for c in found]
    for index, case in enumerate(found):
        if case.student in CUT_BY_HIDDEN_CODE:
            status, before = CUT_BY_HIDDEN_CODE[case.student]
            kept = common.points(case.assignment, *before)
            # built on the solution, the tests before the cut pass; the others' earlier cells are the blank exercise
            found[index] = dataclasses.replace(case, status=status, at_most=kept,
                                               at_least=kept if case.student in _SOLUTION_BEFORE_CUT else None,
                                               note=case.note + " (hidden code: the tests before its cell are graded)")
    students = [c.student for c in found]
    duplicates = {s for s in students if students.count(s) > 1}
    if duplicates:
        raise AssertionError(f"two cases for the same student: {sorted(duplicates)}")
    return found


# Files that are not results, left in OUT/.grading/results/<assignment>/ before the run (path -> content;
# None: a directory). The run must complete, report them, and grade everyone anyway.
STRAY_RESULTS = {
    f"{ASSIGNMENT}/truncated.json": b'{"student_id": "ghost", "assignment": "01_normal',
    f"{ASSIGNMENT}/a-list.json": b"[1, 2, 3]",
    f"{ASSIGNMENT}/not-utf8.json": b"\xff\xfe\x00garbage",
    "03_batchnorm_training/missing-fields.json": json.dumps({"student_id": "ghost", "score": 20}).encode(),
    "04_batchnorm_inference/x.json": None,
    "06_dropout/empty.json": b"",
}


# Students whose own result file is corrupt before the run (where the grader would look for their result).
CORRUPT_RESULTS = (("ok-solution", "01_normalization"), ("dropout-ok", "06_dropout"))


def prepare_out(out: Path) -> None:
    """Stray and corrupt files where the grader keeps its results."""
    results = Path(out) / ".grading" / "results"
    from grader.journal import Journal

    journal = Journal(Path(out))
    for student, assignment in CORRUPT_RESULTS:
        path = journal._path(student, assignment)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('{"student_id": "' + student + '", "assignment": "' + assignment + '", "score": 1')
    for relative, content in STRAY_RESULTS.items():
        path = results / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir()
            (path / "inside.json").write_text("{}")
        else:
            path.write_bytes(content)
