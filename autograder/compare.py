"""Comparing a learner's result with the reference, and explaining the difference.

Every check goes through these helpers so that all failure messages have the
same shape: what was called, what differs (shape, which entries, by how much),
and the likely mistake when the wrong result matches a known wrong answer.
"""
from __future__ import annotations

from autograder.i18n import _

from typing import Callable, Mapping

import numpy as np

# Captured at import time: a notebook that later replaces np.allclose or
# friends does not change what the checks compute.
_asarray = np.asarray
_abs = np.abs
_isfinite = np.isfinite
_argmax = np.argmax
_unravel = np.unravel_index
_array_equal = np.array_equal


class CheckFailed(AssertionError):
    """A check found a wrong result. The message is written for the learner.

    ``mistakes``: the ids of the recognised mistakes (``autograder/mistakes.py``) the
    message names: given as ``mistake=`` (an id or several), or found in the message
    (texts made with ``recognised(id, text)``).
    """

    def __init__(self, message="", *args, mistake=None):
        super().__init__(message, *args)
        from autograder.mistakes import known_ids, mistakes_in

        given = (mistake,) if isinstance(mistake, str) else tuple(mistake or ())
        self.mistakes = known_ids(list(given) + list(mistakes_in(str(message))))


def call_learner(fn: Callable, *args, name: str | None = None, **kwargs):
    """Call the learner's ``fn``; turn a crash into a CheckFailed that says what happened."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(_('`{name}` should be a function, but it is {fn_type}').format(name=name, fn_type=type(fn).__name__))
    from autograder.probe import learner_code

    try:
        with learner_code():
            return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            _('`{name}` is not implemented yet: replace `raise NotImplementedError()` with your code').format(name=name)
        ) from None
    except CheckFailed:
        raise
    except Exception as error:  # the learner's bug, reported rather than crashing the check
        raise CheckFailed(
            _('`{name}` raised {error_type}: {error}\n  (called as {name}({arguments}))').format(name=name, error_type=type(error).__name__, error=error, arguments=_describe_args(args, kwargs))
        ) from error


def _describe_args(args, kwargs) -> str:
    def one(value):
        if isinstance(value, np.ndarray):
            return f"<array shape={value.shape} dtype={value.dtype}>"
        return repr(value)

    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def to_array(value, what: str) -> np.ndarray:
    """The learner's result as a float64 NumPy array, or a CheckFailed saying why not."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(_('{what} is None: did you forget to `return` it?').format(what=what), mistake="forgot-return")
    type_name = getattr(value, "type_name", None)  # probe.ObjectData: not data, only its type travelled
    if isinstance(type_name, str):
        if type_name.startswith("complex"):  # probe.decode: complex values arrive as their type only
            raise CheckFailed(_('{what} holds complex numbers ({type_name}); expected real numbers').format(what=what, type_name=type_name))
        raise CheckFailed(_('{what} should be a NumPy array, but it is a {type_name}').format(what=what, type_name=type_name))
    if type(value).__name__ == "TensorData":
        raise CheckFailed(_('{what} should be a NumPy array, but it is a torch.Tensor (of dtype {value_dtype})').format(what=what, value_dtype=value.dtype))
    if isinstance(value, (np.ndarray, np.generic)):
        # A plain ndarray from here on: a subclass could override arithmetic or ufuncs
        # (e.g. make ``actual - expected`` zero) and pass any comparison.
        value = _asarray(value)
        _real_dtype(value.dtype, what)
        return value.astype(np.float64)
    if type(value) in (int, float, list, tuple):
        if type(value) in (list, tuple):
            # nested lists of complex numbers or other objects: refused by what NumPy makes of them,
            # never cast (a cast to float drops an imaginary part with a mere warning)
            try:
                _real_dtype(_asarray(value).dtype, what)
            except (TypeError, ValueError) as error:  # ragged lists
                raise CheckFailed(_('{what} cannot be read as an array of numbers: {error}').format(what=what, error=error)) from None
        try:
            return _asarray(value, dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise CheckFailed(_('{what} cannot be read as an array of numbers: {error}').format(what=what, error=error)) from None
    if type(value) is complex:
        raise CheckFailed(_('{what} is a complex number; expected a real number').format(what=what))
    raise CheckFailed(_('{what} should be a NumPy array, but it is a {value_type}').format(what=what, value_type=type(value).__name__))


def _real_dtype(dtype: np.dtype, what: str) -> None:
    """Refuse every dtype that is not real numbers (bool counts as 0 and 1), with a message that says which."""
    __tracebackhide__ = True
    kind = dtype.kind
    if kind in "biuf" and dtype.fields is None and dtype.subdtype is None:
        return
    if kind == "c":
        raise CheckFailed(_('{what} has the complex dtype {dtype}; expected real numbers (a complex result is never compared by its real part alone)').format(what=what, dtype=dtype))
    names = {"O": _("Python objects"), "U": _("strings"), "S": _("bytes"), "V": _("structured or raw records"),
             "M": _("dates (datetime64)"), "m": _("time spans (timedelta64)")}
    raise CheckFailed(_('{what} has dtype {dtype} ({kind}); expected real numbers').format(what=what, dtype=dtype, kind=names.get(kind, _('not numbers'))))


def _matches(actual: np.ndarray, candidate: np.ndarray, rtol: float, atol: float) -> bool:
    candidate = _asarray(candidate, dtype=np.float64)
    if actual.shape != candidate.shape:
        return False
    both_nan = ~_isfinite(actual) & ~_isfinite(candidate)
    close = _abs(actual - candidate) <= atol + rtol * _abs(candidate)
    return bool((close | both_nan).all())


def likely_mistake(actual: np.ndarray, mistakes: Mapping[str, np.ndarray] | None, rtol: float, atol: float) -> str | None:
    """The description of the first known wrong answer that ``actual`` equals, if any.

    In ``assert_close`` every description is a text made with ``mistakes.recognised``, so that the
    failure carries the mistake's id.
    """
    for description, candidate in (mistakes or {}).items():
        if candidate is not None and _matches(actual, candidate, rtol, atol):
            return description
    return None


def _position(index: tuple[int, ...], ndim: int) -> str:
    if ndim == 1:
        return f"feature {index[0]}"
    if ndim == 2:
        return _('row {index_0}, feature {index_1}').format(index_0=index[0], index_1=index[1])
    return f"index {tuple(int(i) for i in index)}"


def distinct_digits(got: float, expected: float, digits: int = 6) -> tuple[str, str]:
    """``got`` and ``expected`` printed with ``digits`` significant digits, or with as many more as it takes for
    the two to read differently (up to 17, which tells any two different floats apart): a message must not say
    "got -0.282482, expected -0.282482" for a difference of 1e-8."""
    for n in range(digits, 18):
        a, b = f"{got:.{n}g}", f"{expected:.{n}g}"
        if a != b:
            return a, b
    return f"{got!r}", f"{expected!r}"


def assert_close(
    actual,
    expected: np.ndarray,
    *,
    what: str,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    mistakes: Mapping[str, np.ndarray] | Callable[[], Mapping[str, np.ndarray]] | None = None,
    hint_for_nonfinite: str | None = None,
) -> None:
    """Raise CheckFailed unless ``actual`` equals ``expected`` within ``atol + rtol*|expected|``.

    ``what`` names the result in the message (e.g. "min_max_scale(x)").
    ``mistakes`` maps a description of a known mistake to the wrong answer it
    produces; when ``actual`` matches one, the message names it. It may be a
    function that returns that mapping, called only when the check fails (for
    wrong answers that cost something to compute, such as autograd passes).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    actual = to_array(actual, what)
    expected = _asarray(expected, dtype=np.float64)

    def hint() -> str:
        known = mistakes() if callable(mistakes) else mistakes
        mistake = likely_mistake(actual, known, rtol, atol)
        return _('\n  Likely mistake: {mistake}').format(mistake=mistake) if mistake else ""

    if actual.shape != expected.shape:
        raise CheckFailed(_('{what} has shape {actual_shape}, expected {expected_shape}{hint}').format(what=what, actual_shape=actual.shape, expected_shape=expected.shape, hint=hint()))

    bad_values = ~_isfinite(actual) & _isfinite(expected)
    if bad_values.any():
        where = np.argwhere(bad_values)
        columns = sorted({int(i[-1]) for i in where}) if actual.ndim == 2 else None
        detail = _(' in features {columns}').format(columns=columns) if columns is not None else ""
        extra = f"\n  {hint_for_nonfinite}" if hint_for_nonfinite else ""
        raise CheckFailed(
            _('{what} contains NaN or inf{detail} ({bad_values_sum} entries) where the reference is finite{extra}{hint}').format(what=what, detail=detail, bad_values_sum=int(bad_values.sum()), extra=extra, hint=hint())
        )

    error = _abs(actual - expected)
    tolerance = atol + rtol * _abs(expected)
    wrong = error > tolerance
    if wrong.any():
        worst = _unravel(int(_argmax(np.where(wrong, error, -1.0))), actual.shape) if actual.ndim else ()
        message = (
            _('{what} differs from the reference in {wrong_sum} of {wrong_size} entries (max error {error_max:.3g}, tolerance atol={atol:g}, rtol={rtol:g}).').format(what=what, wrong_sum=int(wrong.sum()), wrong_size=wrong.size, error_max=float(error.max()), atol=atol, rtol=rtol)
        )
        if actual.ndim:
            message += (
                _('\n  Worst at {position}: got {got}, expected {expected}').format(
                    position=_position(worst, actual.ndim), **dict(zip(("got", "expected"), distinct_digits(float(actual[worst]), float(expected[worst])))))
            )
        if actual.ndim == 2:
            columns = np.flatnonzero(wrong.any(axis=0))
            shown = ", ".join(str(int(c)) for c in columns[:10]) + (", ..." if len(columns) > 10 else "")
            message += _('\n  Features that differ: {shown} (of {actual_shape_1})').format(shown=shown, actual_shape_1=actual.shape[1])
        raise CheckFailed(message + hint())


def assert_unchanged(before: np.ndarray, after: np.ndarray, name: str) -> None:
    """Fail if the learner's function modified an input array in place."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not _array_equal(before, after, equal_nan=True):
        raise CheckFailed(
            _("`{name}` changed its input array in place; compute the result in a new array (e.g. `x - m` rather than `x -= m`) so the caller's data stays intact").format(name=name), mistake="changed-input-in-place")
