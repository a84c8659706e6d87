"""Checks in two halves: a probe that runs the learner's code, and a verdict that decides.

A ``Check`` is three functions sharing one set of parameters (seed, shape,
hyperparameters...):

- ``inputs(**params) -> dict``: builds the inputs from the parameters alone
  (NumPy, or torch where the exercise is about torch). It runs on both sides
  and must give the same inputs each time.
- ``probe(record, *learner, inputs)``: calls the learner's code on the inputs
  and stores what came back in ``record`` (``record["out"] = result``). Values
  are captured as plain data at once (arrays copied, tensors detached,
  anything else reduced to its type name), so later changes do not reach them.
  It imports no reference library: under the class grader it runs in the
  learner's sandbox, which holds only the libraries the exercise needs.
- ``verdict(record, inputs)``: computes the reference, compares, and raises
  ``CheckFailed`` with a message for the learner.

In a learner's Jupyter and under plain ``nbgrader autograde``, calling a check
runs the three in the kernel. The class grader (``python -m autograder
grade``) runs ``inputs`` and ``probe`` in the sandbox, receives the record as
data (``encode`` / ``decode``: arrays, numbers, strings, lists and dicts,
validated and size-capped; never objects), and runs ``inputs`` and ``verdict``
in its own process, where no learner code runs. Both paths send the record
through the same encoding, so they give the same messages.

When the learner's code raises, the probe stops and the record keeps what was
stored so far and the error; the verdict compares what it has and meets the
error where it first needs a value that was never stored.

Where an exercise forbids torch functions or Python modules (``forbidden.py``),
the probe records which of them the learner's code ran (``learner_code``), so
the check refuses the library's (or the course's own) implementation whatever
name it was reached by.
"""
from __future__ import annotations

from autograder.i18n import _

import base64
import contextlib
import functools
import inspect
import itertools
import math
import re
import sys
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from autograder.compare import CheckFailed
from autograder.forbidden import watched_code, watches_torch  # bound once: a notebook cannot swap them

MAX_ARRAY_BYTES = 64 * 1024 ** 2     # one array in a record
MAX_RECORD_BYTES = 128 * 1024 ** 2   # all arrays of one record
MAX_ITEMS = 100_000                  # entries of one list or dict
MAX_TEXT = 20_000                    # characters of one string
MAX_DEPTH = 12
NUMERIC_KINDS = "biufc"              # bool, int, uint, float, complex
OPS_KEY = "$ops"
WATCH_KEY = "$watch"                 # what the probe watched: {"torch": bool, "code": [module names]}
_DTYPE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TYPE_NAME = re.compile(r"[A-Za-z_][\w .,<>()\[\]-]{0,199}")


class ForbiddenReference(CheckFailed):
    """The learner's code ran the library implementation the exercise asks them to write."""


class RecordFailure(CheckFailed):
    """A record's own failure text, raised where a verdict needs a value that was never stored.

    Under the class grader the text was written in the sandbox (where the learner's code runs):
    the learner may read it in their feedback, but it is never taken as the verdict's own words
    (the class report's example of a mistake comes only from the verdict's messages).
    """


class GraderError(Exception):
    """A check or a grade cell was used in a way the grader does not support (a course bug, not the learner's)."""


# ---------------------------------------------------------------- values the learner's code returned

@dataclass(frozen=True)
class TensorData:
    """A torch tensor as data: its values (NumPy), torch dtype name and whether it required grad."""

    array: np.ndarray
    dtype: str
    requires_grad: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        return self.array.shape


@dataclass(frozen=True)
class ObjectData:
    """Something that is not data (a function, a module, a custom object): only its type name travels."""

    type_name: str


def type_name(value: Any) -> str:
    """The type name of a recorded value, as the learner's code returned it (for messages)."""
    if isinstance(value, TensorData):
        return "Tensor"
    if isinstance(value, ObjectData):
        return value.type_name
    return type(value).__name__


def capture(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data (runs where the learner's code runs; never trusts ``value``'s methods)."""
    if depth > MAX_DEPTH:
        return ObjectData("nested too deeply")
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value[:MAX_TEXT] if kind is str else value
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "U" and value.size <= MAX_ITEMS:
            return capture(np.ndarray.tolist(value), depth)  # strings (e.g. rng.choice of names): lists of str
        if value.dtype.kind not in NUMERIC_KINDS:
            return ObjectData(f"ndarray of dtype {value.dtype}")
        return np.array(value, copy=True, subok=False)
    if isinstance(value, np.generic):
        if isinstance(value, np.str_):
            return str.__str__(value)[:MAX_TEXT]
        if value.dtype.kind not in NUMERIC_KINDS:
            return ObjectData(f"numpy {type(value).__name__}")
        return np.array(value, copy=True).reshape(())[()]
    torch = _real_torch()
    if torch is not None and isinstance(value, torch.Tensor):
        return _tensor_data(torch, value)
    if kind in (tuple, list):
        items = [capture(item, depth + 1) for item in itertools.islice(kind.__iter__(value), MAX_ITEMS)]
        return tuple(items) if kind is tuple else items
    if kind is dict:
        return {str(key)[:MAX_TEXT]: capture(item, depth + 1)
                for key, item in itertools.islice(dict.items(value), MAX_ITEMS)}
    if isinstance(value, (bool, int, float)):  # subclasses: keep only the number
        return (bool if isinstance(value, bool) else int if isinstance(value, int) else float)(value)
    return ObjectData(type(value).__name__[:200])


def _real_torch():
    """torch where it is imported, and not the stand-in of a sandbox that holds no torch (``forbidden.AbsentLibrary``)."""
    torch = sys.modules.get("torch")
    return None if torch is None or getattr(type(torch), "__grader_absent__", False) else torch


def _tensor_data(torch, tensor) -> TensorData:
    """A tensor's values as data; of a subclass too, read as a plain ``torch.Tensor`` with the subclass's own
    code switched off (its ``__torch_function__``, an overridden ``detach``, ``dtype`` or ``numpy``: none runs)."""
    with torch.no_grad(), torch._C.DisableTorchFunctionSubclass():
        plain = torch.Tensor.as_subclass(tensor, torch.Tensor)
        requires_grad, dtype = bool(plain.requires_grad), plain.dtype
        plain = torch.Tensor.detach(plain)
        if plain.is_complex():
            data = plain.to(torch.complex128)
        elif plain.dtype.is_floating_point:
            data = plain.to(torch.float64)
        else:
            data = plain.to(torch.int64) if plain.dtype != torch.bool else plain
        array = np.array(data.cpu().numpy(), copy=True)
    return TensorData(array, str(dtype).replace("torch.", ""), requires_grad)


# ---------------------------------------------------------------- the record

class Record(dict):
    """What a probe stored: name -> plain data; plus, if the learner's code raised, the message.

    Reading a name the probe never stored raises that message as ``CheckFailed``
    (the learner's error reached before the value could be computed).
    """

    failure: str | None = None
    failure_mistakes: tuple[str, ...] = ()   # ids of the mistakes the failure recognised

    def __setitem__(self, key: str, value):
        super().__setitem__(key, capture(value))

    def __missing__(self, key):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if self.failure is not None:
            raise RecordFailure(self.failure, mistake=self.failure_mistakes)
        raise CheckFailed(_('the grader received no value for {key!r} from your code').format(key=key))

    def fail(self, message: str, mistakes=()) -> None:
        from autograder.mistakes import known_ids

        self.failure = str(message)[:MAX_TEXT]
        self.failure_mistakes = known_ids(list(mistakes))

    def ops(self) -> list[str]:
        return list(dict.get(self, OPS_KEY, ()))


# ---------------------------------------------------------------- encoding (the only thing that crosses the sandbox)

def encode(value: Any) -> Any:
    """Plain data as JSON-ready values (arrays as base64 with dtype and shape)."""
    if value is None or type(value) in (bool, int, str):
        return value
    if type(value) is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if isinstance(value, np.ndarray):
        array = np.array(value, order="C", copy=True)  # (ascontiguousarray would make a 0-d array 1-d)
        return {"$nd": array.dtype.str, "shape": list(array.shape), "data": base64.b64encode(array.tobytes()).decode()}
    if isinstance(value, np.generic):
        return {"$scalar": encode(np.asarray(value).reshape(1))}
    if isinstance(value, TensorData):
        return {"$tensor": encode(value.array), "dtype": value.dtype, "requires_grad": value.requires_grad}
    if isinstance(value, ObjectData):
        return {"$object": value.type_name}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, Record):
        return {"$record": {key: encode(item) for key, item in dict.items(value)}, "failure": value.failure,
                "mistakes": list(value.failure_mistakes)}
    if isinstance(value, dict):
        return {"$dict": {str(key): encode(item) for key, item in value.items()}}
    raise TypeError(f"not plain data: {type(value).__name__}")


class BadRecord(ValueError):
    """Data from the sandbox that is not what a probe writes."""


def decode(data: Any, budget: list[int] | None = None, depth: int = 0) -> Any:
    """The inverse of ``encode``, for data that may have been forged: validates every piece."""
    budget = [MAX_RECORD_BYTES] if budget is None else budget
    if depth > MAX_DEPTH + 3:
        raise BadRecord("nested too deeply")
    if data is None or type(data) in (bool, int, float):
        if type(data) is int and abs(data) > 2 ** 63:
            raise BadRecord("integer out of range")
        return data
    if type(data) is str:
        if len(data) > MAX_TEXT:
            raise BadRecord("string too long")
        return data
    if type(data) is list:
        if len(data) > MAX_ITEMS:
            raise BadRecord("list too long")
        return [decode(item, budget, depth + 1) for item in data]
    if type(data) is not dict or len(data) > 4:
        raise BadRecord("unexpected value")
    if "$nd" in data:
        return _decode_array(data, budget)
    if "$scalar" in data:
        array = decode(data["$scalar"], budget, depth + 1)
        if isinstance(array, ObjectData) and array.type_name.startswith("complex"):
            return ObjectData(array.type_name.replace(" array", " number"))
        if not isinstance(array, np.ndarray) or array.shape != (1,):
            raise BadRecord("bad scalar")
        return array[0]
    if "$float" in data:
        if data["$float"] not in ("nan", "inf", "-inf"):
            raise BadRecord("bad float")
        return float(data["$float"])
    if "$tensor" in data:
        array = decode(data["$tensor"], budget, depth + 1)
        dtype, grad = data.get("dtype"), data.get("requires_grad")
        # a dtype is a short name (``float32``): it appears in the verdicts' messages, so no other text
        if type(dtype) is not str or not _DTYPE_NAME.fullmatch(dtype) or type(grad) is not bool:
            raise BadRecord("bad tensor")
        if isinstance(array, ObjectData) and array.type_name.startswith("complex"):
            return ObjectData(f"complex Tensor ({dtype})")
        if not isinstance(array, np.ndarray):
            raise BadRecord("bad tensor")
        return TensorData(array, dtype, grad)
    if "$object" in data:
        if type(data["$object"]) is not str:
            raise BadRecord("bad object")
        # a type name appears in the verdicts' messages: only the characters of a type's name pass
        name = data["$object"][:200]
        return ObjectData(name if _TYPE_NAME.fullmatch(name) else "object")
    if "$tuple" in data:
        items = decode(data["$tuple"], budget, depth + 1)
        if type(items) is not list:
            raise BadRecord("bad tuple")
        return tuple(items)
    if "$dict" in data:
        return _decode_mapping(data["$dict"], dict(), budget, depth)
    if "$record" in data:
        record = _decode_mapping(data["$record"], Record(), budget, depth)
        failure = data.get("failure")
        if failure is not None:
            if type(failure) is not str:
                raise BadRecord("bad failure message")
            mistakes = data.get("mistakes", [])
            if type(mistakes) is not list or len(mistakes) > 20:
                raise BadRecord("bad mistake ids")
            record.fail(failure, mistakes)  # unknown ids are dropped: they only label the failure
        if OPS_KEY in record and (type(record[OPS_KEY]) is not list
                                  or not all(type(op) is str for op in record[OPS_KEY])):
            raise BadRecord("bad operator list")
        return record
    raise BadRecord("unexpected value")


def _decode_mapping(items, target: dict, budget, depth):
    if type(items) is not dict or len(items) > MAX_ITEMS:
        raise BadRecord("bad mapping")
    for key, item in items.items():
        if type(key) is not str or len(key) > MAX_TEXT:
            raise BadRecord("bad key")
        dict.__setitem__(target, key, decode(item, budget, depth + 1))
    return target


def _decode_array(data: dict, budget: list[int]) -> np.ndarray:
    dtype_text, shape, payload = data.get("$nd"), data.get("shape"), data.get("data")
    if type(dtype_text) is not str or type(shape) is not list or type(payload) is not str or len(shape) > 32:
        raise BadRecord("bad array")
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        raise BadRecord("bad array dtype") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise BadRecord(f"array dtype {dtype_text!r} is not numeric")
    if not all(type(n) is int and 0 <= n <= MAX_ARRAY_BYTES for n in shape):
        raise BadRecord("bad array shape")
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_ARRAY_BYTES or size > budget[0] or len(payload) > 4 * (size // 3 + 3):
        raise BadRecord("array too large")
    raw = base64.b64decode(payload.encode(), validate=True)
    if len(raw) != size:
        raise BadRecord("array data does not match its shape")
    budget[0] -= size
    if dtype.kind == "c":
        # No check compares complex numbers: a complex result is not data a verdict can use (cast to
        # float it would lose its imaginary part), so it arrives as what it is, and every verdict
        # that reads it fails with a message (``compare.to_array``: "holds complex numbers").
        return ObjectData(f"{dtype.name} array")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


# ---------------------------------------------------------------- what the learner's code ran (torch, Python)

@dataclass
class Watch:
    """What one probe watches for while the learner's code runs, and what it saw (``seen``)."""

    seen: set
    torch: bool = False          # note torch functions (the exercise's ``ops`` rule)
    files: dict = field(default_factory=dict)   # {source file: module name}: note their Python functions (``code``)
    folders: tuple = ()          # ((package folder, package name), ...): the same for every file under them


_RUNNING: list[Watch] = []   # the watches of the probes running now (innermost last)
_WATCHING: list[Watch] = []  # the watches a ``learner_code`` block is watching for now (an inner one adds nothing)


class learner_code:
    """Run the learner's code; while a probe watches, note the forbidden code it reaches.

    - torch functions: a ``TorchFunctionMode`` sees every torch function the code reaches,
      whatever name it used (``F.batch_norm``, ``torch._VF.batch_norm``,
      ``torch.ops.aten.native_batch_norm``, ``nn.Dropout``'s call of ``F.dropout``);
    - Python functions of the exercise's ``code`` rule (``normreg.monitoring``,
      ``torch.nn.utils.fusion``): a profiler (``sys.setprofile``) looks at the source file of
      every function called, so an alias, a wrapper or a copy of the function made with its code
      object is seen too. Code that switches the profiler off is noted as well.

    Neither changes what the code computes. A class rather than a generator: the dropout checks
    enter it thousands of times per notebook, and this costs a third as much.
    """

    __slots__ = ("_entered",)

    def __enter__(self) -> None:
        entered = self._entered = []
        if not _RUNNING:
            return
        watch = _RUNNING[-1]
        if any(open_watch is watch for open_watch in _WATCHING):  # inside an outer ``learner_code`` of the same probe: it already watches
            return
        _WATCHING.append(watch)
        entered.append(watch)
        if watch.torch and _real_torch() is not None:
            mode = _noting_mode()(watch.seen)
            mode.__enter__()
            entered.append(mode)
        if watch.files or watch.folders:
            calls = _noting_calls(watch)
            calls.__enter__()
            entered.append(calls)

    def __exit__(self, *error) -> bool:
        while self._entered:  # innermost first, each told of the error (none of them swallows it)
            entered = self._entered.pop()
            if isinstance(entered, Watch):  # (entered first, so left last)
                del _WATCHING[next(i for i, w in enumerate(_WATCHING) if w is entered)]
                continue
            if hasattr(entered, "seen") and not _mode_still_on(entered):
                entered.seen.add(WATCH_OFF)  # the code left the watch off (a mode popped, torch functions disabled)
                try:
                    entered.__exit__(*error)
                except Exception:  # noqa: BLE001 - the stack the code left behind: the note is what counts
                    pass
                continue
            entered.__exit__(*error)
        return False


SWITCHED_OFF = "python:sys.setprofile"  # noted when the learner's code replaced the watching profiler
PROFILER_RUNNING = "python:cProfile"     # noted when a profiler in C was running already (nothing was watched)
WATCH_OFF = "python:torch function mode"  # noted when the code returned with the torch watch switched off


def note_verdict_only(name: str) -> None:
    """A check's reference-like helper (``forbidden.verdict_only``) was called: noted if the learner's code called
    it (a ``learner_code`` block is open), so that the verdict refuses the answer as a forbidden reference."""
    if _WATCHING:
        _WATCHING[-1].seen.add(name)


def _mode_still_on(mode) -> bool:
    """The noting mode is still on torch's function mode stack, and torch functions are not disabled."""
    try:
        from torch.overrides import _get_current_function_mode_stack

        torch = sys.modules["torch"]
        return mode in _get_current_function_mode_stack() and torch._C._is_torch_function_enabled()
    except Exception:  # noqa: BLE001 - what cannot be checked counts as switched off
        return False


@contextlib.contextmanager
def _noting_calls(watch: Watch):
    files, seen = watch.files, watch.seen
    prefixes = tuple(folder for folder, _unused in watch.folders)

    previous = sys.getprofile()
    if previous is not None and not callable(previous):
        # A profiler written in C (cProfile) is running: it cannot be chained or put back from Python,
        # and running the learner's code unwatched would let forbidden code through.
        seen.add(PROFILER_RUNNING)
        yield
        return

    def note(frame, event, arg):
        if event == "call":
            path = frame.f_code.co_filename
            if path in files:
                seen.add(f"python:{files[path]}.{frame.f_code.co_name}")
            elif prefixes and path.startswith(prefixes):
                package = next(name for folder, name in watch.folders if path.startswith(folder))
                seen.add(f"python:{package}.{frame.f_code.co_name}")
        if previous is not None:
            previous(frame, event, arg)  # a profiler in Python that was running before keeps its events

    sys.setprofile(note)
    try:
        yield
    finally:
        if sys.getprofile() is not note:
            seen.add(SWITCHED_OFF)
        sys.setprofile(previous)


@functools.lru_cache(maxsize=1)
def _noting_mode():
    """The TorchFunctionMode class that notes torch functions into a set (made once: torch is imported by then)."""
    from torch.overrides import TorchFunctionMode

    class Noting(TorchFunctionMode):
        def __init__(self, seen: set):
            super().__init__()
            self.seen = seen

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.seen.add("torch:" + str(getattr(func, "__name__", func)))
            return func(*args, **(kwargs or {}))

    return Noting


# ---------------------------------------------------------------- the check

class Check:
    """A check: ``check(learner_fn, ..., **params)`` runs probe and verdict (see the module docstring)."""

    def __init__(self, name: str, inputs: Callable[..., dict], probe: Callable, verdict: Callable,
                 learners: int = 1, doc: str | None = None):
        self.__name__ = self.name = name
        self.inputs, self.probe, self.verdict, self.learners = inputs, probe, verdict, learners
        self.__doc__ = doc or verdict.__doc__ or probe.__doc__
        self.module = inputs.__module__
        self.parameters = inspect.signature(inputs).parameters
        self.__signature__ = inspect.Signature(
            [inspect.Parameter(f"learner_{i}", inspect.Parameter.POSITIONAL_ONLY) for i in range(learners)]
            + list(self.parameters.values()))

    @property
    def qualified_name(self) -> str:
        return f"{self.module}:{self.name}"

    def __repr__(self) -> str:
        return f"<check {self.qualified_name}>"

    def __call__(self, *learners, **params):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if _MODE:
            return _MODE[-1](self, learners, params)
        if _PROBING:
            # a learner's function that calls a check while it is itself checked would run code outside that
            # probe's watch (and clear what the probe noted): refused, on every path
            raise GraderError(_("a check ({name}) was called by code that a check is running: call checks from a "
                                "cell, never from inside the code they check").format(name=self.name))
        self.bind(learners, params)
        record = self.run_probe(learners, params)
        return self.run_verdict(decode(encode(record)), params)

    def bind(self, learners, params) -> None:
        if len(learners) != self.learners:
            raise TypeError(f"{self.name} takes {self.learners} function(s) to check, got {len(learners)}")
        unknown = set(params) - set(self.parameters)
        if unknown:
            raise TypeError(f"{self.name} got unexpected parameters {sorted(unknown)}")

    def run_probe(self, learners, params, _watches_torch=watches_torch, _watched_code=watched_code) -> Record:
        """Probe: run the learner's code on fresh inputs; always returns a Record (never raises).

        What it watches is decided by ``forbidden``'s functions as they were when this module was imported
        (bound here, not looked up in a module a notebook can write to), and the record says what was
        watched (``WATCH_KEY``): the verdict, outside the sandbox, refuses a record that watched less than
        the exercise's rules ask (``_watched_as_ruled``).
        """
        from autograder import forbidden
        from autograder.forbidden import imports_of_absent

        record = Record()
        seen: set[str] = set()
        files, folders = _watched_code(self.module)
        watch = Watch(seen, _watches_torch(self.module), files, folders)
        dict.__setitem__(record, WATCH_KEY, {"torch": bool(watch.torch), "code": sorted(
            set(files.values()) | {name for _folder, name in folders})})
        absent = imports_of_absent(self.module, _namespace_of(learners))
        if absent:  # the same on every path: see forbidden.imports_of_absent
            record.fail(absent)
            dict.__setitem__(record, OPS_KEY, [])
            return record
        inputs = self.inputs(**params)  # the course's own code: an error here is the grader's, not the learner's
        tried = forbidden.TRIED
        tried.clear()
        watching = True  # also without torch or ``code`` rule: the checks' own helpers note themselves (verdict_only)
        if watching:
            _RUNNING.append(watch)
        _PROBING.append(self)
        try:
            self.probe(record, *learners, inputs)
        except CheckFailed as error:
            record.fail(str(error), getattr(error, "mistakes", ()))
        except RecursionError:
            record.fail(_("your code recursed too deeply (RecursionError)"))
        except MemoryError:
            record.fail(_("your code ran out of memory (MemoryError)"))
        except BaseException as error:  # noqa: BLE001 - whatever the learner's objects raised
            record.fail(_('your code raised {error_type} while it was checked: {text_error}').format(error_type=type(error).__name__, text_error=_text(error)))
        finally:
            _PROBING.pop()
            if watching:
                _RUNNING.pop()
                _WATCHING[:] = [open_watch for open_watch in _WATCHING if open_watch is not watch]
        # a refused kernel (class grader's sandbox) the learner's code called counts as running it, even if the
        # code caught the error: the status then says which, and the score is nothing either way
        seen |= tried
        tried.clear()
        dict.__setitem__(record, OPS_KEY, sorted(seen))
        return record

    def run_verdict(self, record: Record, params) -> None:
        """Verdict: decide from the record alone; raises CheckFailed (or ForbiddenReference)."""
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        from autograder.forbidden import forbidden_ops, watches_torch

        if OPS_KEY not in record and len(record) and watches_torch(self.module):
            # every probe sends its operator list, empty or not: values without it were not stored by a probe
            raise ForbiddenReference(_("tampering: the record of your code's run lacks the list of operators it ran, which every probe sends"))
        if OPS_KEY in record and not _watched_as_ruled(self.module, dict.get(record, WATCH_KEY)):
            # the probe's decision of what to watch was changed in the sandbox (attack 7 replaced it)
            raise ForbiddenReference(_("tampering: the grader's watch of the code your code runs was switched off while it was checked (the record says it watched less than this exercise's rules ask)"))
        used = forbidden_ops(self.module, record.ops())
        if used:
            if PROFILER_RUNNING in used:
                raise ForbiddenReference(
                    _('a profiler (cProfile or similar, through sys.setprofile) was running while your code was checked: the grader needs sys.setprofile to watch which functions your code runs; stop the profiler and run the test again'))
            if WATCH_OFF in used:
                raise ForbiddenReference(
                    _("tampering: your code switched off the grader's watch of the torch functions it runs (a function mode popped, or torch functions disabled) while it was checked"))
            if SWITCHED_OFF in used:
                raise ForbiddenReference(
                    _('your code replaced the profiler (sys.setprofile) while it was checked: the grader watches which functions your code runs, so leave sys.setprofile alone'))
            names = [op.split(":", 1)[1] for op in used]
            named = [name for name in names if not name.rsplit(".", 1)[-1].startswith("<")]  # not <genexpr>, <lambda>
            shown = ", ".join((named or names)[:3])
            whose = _("the course's own") if all(op.startswith(("python:normreg.", "python:autograder.")) for op in used) else _("the library's own")
            raise ForbiddenReference(
                _('your code ran {whose} implementation ({shown}): this exercise asks you to write it yourself').format(whose=whose, shown=shown))
        self.verdict(record, self.inputs(**params))


def _watched_as_ruled(check_module: str, watched) -> bool:
    """Whether a record's ``WATCH_KEY`` says the probe watched at least what this exercise's rules ask.

    Decided where the verdict runs: torch functions where the ``ops`` rule asks, and every module of the
    ``code`` rule that the exercise's grading sandbox holds (torch's; the course's own helpers are absent
    there, so they cannot run either, see ``forbidden.watched_code``).
    """
    from autograder.forbidden import sandbox_code, watches_torch as rule_watches_torch

    if type(watched) is not dict or type(watched.get("torch")) is not bool or type(watched.get("code")) is not list:
        return False
    if rule_watches_torch(check_module) and not watched["torch"]:
        return False
    return set(sandbox_code(check_module)) <= {name for name in watched["code"] if type(name) is str}


def _namespace_of(learners) -> dict | None:
    """The notebook's namespace, as the learner's functions (or a class's methods) see it."""
    for learner in learners:
        candidates = [learner] + (list(vars(learner).values()) if isinstance(learner, type) else [])
        for candidate in candidates:
            namespace = getattr(candidate, "__globals__", None)
            if isinstance(namespace, dict):
                return namespace
    return None


def _text(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except Exception:  # noqa: BLE001 - an exception with a broken __str__
        return _("<no message>")


def check(*, inputs: Callable[..., dict], probe: Callable, learners: int = 1) -> Callable[[Callable], Check]:
    """Decorator for the verdict: ``@check(inputs=..., probe=...) def check_x(record, inputs): ...``."""
    def wrap(verdict: Callable) -> Check:
        made = Check(verdict.__name__, inputs, probe, verdict, learners)
        made.module = verdict.__module__
        return made
    return wrap


# ---------------------------------------------------------------- grading mode (the class grader's own process)

_MODE: list[Callable] = []
_PROBING: list = []   # the checks whose probe is running now (a check called from inside one is refused)


@contextlib.contextmanager
def grading_mode(handler: Callable):
    """While active, calling a check calls ``handler(check, learners, params)`` instead (collect or verdict)."""
    _MODE.append(handler)
    try:
        yield
    finally:
        _MODE.pop()
