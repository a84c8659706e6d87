"""Grade cells on the trusted side: which probes to ask the sandbox for, and then the verdicts.

A grade cell is course code (nbgrader restores its source, hidden tests
included, from the gradebook), e.g.::

    from autograder.normalization import check_min_max_scale
    for seed, shape in [(10, (50, 3)), (11, (7, 9))]:
        check_min_max_scale(min_max_scale, seed=seed, shape=shape)
    print("min_max_scale: visible tests passed")

The grader runs it twice in its own process, never in the sandbox:

1. ``collect``: the learner's names (``min_max_scale``) are placeholders and
   every check call is written down as a ``Request`` (check, learner names,
   parameters) instead of running. Each ``seed`` is replaced by a fresh one,
   derived from a secret the sandbox never sees, so only an implementation that
   works earns points (a table of the visible answers does not).
2. The sandbox runs the learner's cells and, at each grade cell's place, the
   probes of its requests; the records come back as data.
3. ``verdicts``: the cell runs again; each check call takes its request's
   parameters and the record and runs the verdict. The cell passes if it runs to
   its end; its printed text and the first ``CheckFailed`` become its outputs.
"""
from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import hmac
import io
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from autograder.compare import CheckFailed
from autograder.probe import (Check, ForbiddenReference, GraderError, ObjectData, Record, RecordFailure, TensorData,
                              grading_mode)


class LearnerRef:
    """Stands for a name the learner defines; only a check may take it (as a positional argument)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        object.__setattr__(self, "name", name)

    def __repr__(self) -> str:
        return f"<learner's {self.name}>"

    def __getattr__(self, attribute):
        raise GraderError(f"a grade cell used the learner's `{self.name}` outside a check (.{attribute})")

    def __call__(self, *args, **kwargs):
        raise GraderError(f"a grade cell called the learner's `{self.name}` outside a check")


@dataclass
class Request:
    check: str                  # "module:name" of the Check
    learners: list[str]         # the learner's names passed to it
    params: dict                # keyword parameters (trusted objects), seed already replaced


@dataclass
class CellOutcome:
    passed: bool
    stdout: str = ""
    error: tuple[str, str] | None = None     # (ename, message) of the failure
    forbidden: bool = False                  # failed because the learner's code ran a forbidden reference
    grader_error: str | None = None          # a failure on the grader's side (not the learner's)
    mistakes: tuple[str, ...] = ()           # ids of the recognised mistakes (autograder/mistakes.py)
    # the failure message is the verdict's own words: no text that came from the sandbox is in it
    # (only such a message may stand as the class report's example of a mistake)
    own_message: bool = True


@dataclass
class GradeCell:
    index: int
    grade_id: str
    source: str
    namespace: dict = field(repr=False, default_factory=dict)

    @property
    def learner_names(self) -> list[str]:
        return sorted(name for name, value in self.namespace.items() if isinstance(value, LearnerRef))


def cell_namespace(setup_sources: list[str], source: str) -> dict:
    """The names a grade cell sees: the imports of the course's own cells, and placeholders for the learner's."""
    namespace: dict = {"__name__": "__grade_cell__"}
    for text in setup_sources:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
        if imports:
            exec(compile(ast.Module(body=imports, type_ignores=[]), "<course imports>", "exec"), namespace)
    tree = ast.parse(source)
    stored = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            stored |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in stored \
                and node.id not in namespace and not hasattr(builtins, node.id):
            namespace[node.id] = LearnerRef(node.id)
    return namespace


def _run(cell: GradeCell, handler: Callable, stdout: io.StringIO) -> None:
    namespace = dict(cell.namespace)
    code = compile(cell.source, f"<grade cell {cell.grade_id}>", "exec")
    with grading_mode(handler), contextlib.redirect_stdout(stdout), np.errstate(all="ignore"), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(code, namespace)


def collect(cell: GradeCell, fresh_seed: Callable[[int], int] | None) -> list[Request]:
    """The check calls of a grade cell, with fresh seeds (``fresh_seed(k)`` for the k-th call; None keeps them)."""
    requests: list[Request] = []

    def handler(check: Check, learners, params):
        if not all(isinstance(learner, LearnerRef) for learner in learners):
            raise GraderError(f"{cell.grade_id}: {check.name} must be given the learner's names, nothing else")
        check.bind(learners, params)
        params = dict(params)
        if fresh_seed is not None and "seed" in check.parameters:
            params["seed"] = fresh_seed(len(requests))
        requests.append(Request(check.qualified_name, [learner.name for learner in learners], params))

    try:
        _run(cell, handler, io.StringIO())
    except GraderError:
        raise
    except Exception as error:  # noqa: BLE001 - a grade cell that does more than call checks
        raise GraderError(f"grade cell {cell.grade_id} cannot be graded outside the kernel: "
                          f"{type(error).__name__}: {error}") from error
    return requests


def verdicts(cell: GradeCell, requests: list[Request], records: dict[int, Record], missing: str) -> CellOutcome:
    """Run the grade cell with the verdicts; ``records[k]`` answers request k (``missing``: why one is absent)."""
    position = [0]
    stdout = io.StringIO()

    def handler(check: Check, learners, params):
        __tracebackhide__ = True
        k = position[0]
        position[0] += 1
        if k >= len(requests) or requests[k].check != check.qualified_name:
            raise GraderError(f"grade cell {cell.grade_id} called its checks in another order than when collected")
        record = records.get(k)
        if record is None:
            raise CheckFailed(f"not checked: {missing}")
        check.run_verdict(record, requests[k].params)

    try:
        _run(cell, handler, stdout)
    except ForbiddenReference as error:
        return CellOutcome(False, stdout.getvalue(), (type(error).__name__, str(error)), forbidden=True)
    except CheckFailed as error:
        message = str(error)
        own = not isinstance(error, RecordFailure) and not any(
            text in message for text in sandbox_texts(records.values(), param_texts(requests)))
        return CellOutcome(False, stdout.getvalue(), ("CheckFailed", message),
                           mistakes=tuple(getattr(error, "mistakes", ())), own_message=own)
    except Exception as error:  # noqa: BLE001 - a verdict that broke on this record: the grader's failure
        detail = f"{type(error).__name__}: {error}"[:500]
        return CellOutcome(False, stdout.getvalue(),
                           ("GraderError", f"the grader could not check this cell ({detail}); your instructor "
                                           f"has been told"), grader_error=detail)
    return CellOutcome(True, stdout.getvalue())


SANDBOX_TEXT_MIN = 8   # shorter strings of a record (``list``, ``float32``) say nothing by themselves


def _strings(value, found: set, depth: int = 0) -> set:
    """Every string in ``value`` (values, dict keys, a record's type names and failure text) into ``found``."""
    if depth > 40:
        return found
    if isinstance(value, str):
        found.add(value)
    elif isinstance(value, dict):
        for key, item in dict.items(value):
            _strings(key, found, depth + 1)
            _strings(item, found, depth + 1)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            _strings(item, found, depth + 1)
    elif isinstance(value, ObjectData):
        _strings(value.type_name, found, depth + 1)
    elif isinstance(value, TensorData):
        _strings(value.dtype, found, depth + 1)
    if isinstance(value, Record) and value.failure:
        _strings(value.failure, found, depth + 1)
    return found


def sandbox_texts(records, known: frozenset | set = frozenset()) -> set[str]:
    """Every string in ``records`` (values, keys, type names, failure texts) long enough to carry a message.

    They were written where the learner's code runs: a verdict's message that quotes one of them
    (a failure text wrapped in a hint, a type name) is not the verdict's own words. Strings in ``known``
    (the grade cell's own parameters, ``param_texts``: a grid's names the learner's code was handed and
    returned) are the grader's words wherever they come back from.
    """
    found: set[str] = set()
    for record in records:
        _strings(record, found)
    return {text for text in found if len(text) >= SANDBOX_TEXT_MIN} - set(known)


def param_texts(requests) -> frozenset:
    """Every string in the requests' parameters (the grade cell's own, trusted values), keys included."""
    found: set[str] = set()
    for request in requests:
        _strings(request.params, found)
    return frozenset(found)


HIDDEN_TEXT = "[what your code wrote is not shown for a hidden test]"


def without_sandbox_text(message: str, records, known: frozenset | set = frozenset()) -> str:
    """``message`` with every text the learner's code wrote (``sandbox_texts``) replaced by ``HIDDEN_TEXT``.

    A hidden test's feedback keeps the verdict's own words (what failed, the mistake it recognised)
    but never what the code wrote while the hidden probe ran: an exception's text can carry the
    hidden inputs, as a print can.
    """
    for text in sorted(sandbox_texts(records, known), key=len, reverse=True):
        message = message.replace(text, HIDDEN_TEXT)
    return message


def seed_maker(secret: bytes, *parts: str) -> Callable[[int], int]:
    """Fresh seeds for one grade cell of one submission, unknowable without ``secret``.

    ``parts`` name the grade cell (student, assignment, notebook, test) and the submission's content
    (``work.content_digest``): a resubmission whose files changed in any byte gets new inputs, so a
    table of the outputs seen in an earlier feedback answers nothing; an unchanged submission
    regraded (``--force``, a new grader version) gets the same inputs, and so the same grade.
    """
    prefix = "\0".join(parts).encode()

    def fresh(k: int) -> int:
        digest = hmac.new(secret, prefix + b"\0" + str(k).encode(), hashlib.sha256).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF

    return fresh


# ---------------------------------------------------------------- parameters into the sandbox

def encode_params(params: dict) -> dict:
    """A request's parameters as JSON (dtypes and torch.nn classes by name)."""
    return {key: _encode_param(value) for key, value in params.items()}


def _encode_param(value):
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is tuple:
        return {"$tuple": [_encode_param(item) for item in value]}
    if type(value) is list:
        return [_encode_param(item) for item in value]
    if type(value) is dict:
        return {"$dict": {str(key): _encode_param(item) for key, item in value.items()}}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"$np": np.dtype(value).name}
    import sys

    torch = sys.modules.get("torch")
    if torch is not None:
        if isinstance(value, torch.dtype):
            return {"$torch": str(value).replace("torch.", "")}
        if isinstance(value, type) and getattr(torch.nn, value.__name__, None) is value:
            return {"$nn": value.__name__}
    raise GraderError(f"a grade cell passed a parameter the grader cannot send: {value!r}")
