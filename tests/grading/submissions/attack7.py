"""Learner code run while a library is imported, and the dropout module's independence test (attack 7).

An independent attack ran text the reading never saw by borrowing an import: a ``logging.Handler`` called while
``import matplotlib`` logs at DEBUG evaluated string annotations (``typing.get_type_hints``), and the audit hook
allowed any ``exec`` from a library file while an import was on the stack. From there it destroyed the
registration of the refused kernels and switched the probe's torch watch off: torch's own dropout (06) and
batch norm (08; here 04) earned every point. The hook now takes an ``exec`` for a library's own import-time
code only when every frame up to the import is the imported package's, the kernels' registration cannot be
undone from Python, and the probe's watch cannot be switched off through a module attribute. The variations
reach ``typing`` through a filter, a partial of ``typing.get_type_hints`` (no learner frame at all), a log
record factory and a formatter. Honest handlers and tensor subclasses keep full marks.

And a ``Dropout`` module keeping a fixed number of units got 16/16 by returning a ``torch.Tensor`` subclass
(even for the many-calls probe's small input alone): the probe recorded the many calls only for plain tensors,
and the verdict skipped the independence test when they were missing. It now records any tensor's values and
fails the test when they cannot be read.
"""
from __future__ import annotations

from tests.grading.submissions import batchnorm_inference as bn
from tests.grading.submissions.common import Case, cell_source, folder_case, max_score, points, replace, solution

D = "06_dropout"
B = "04_batchnorm_inference"
DROPOUT_TESTS = points(D, "test_Dropout", "test_Dropout_hidden")
BATCHNORM_TESTS = points(B, "test_BatchNorm1d", "test_BatchNorm1d_hidden", "test_BatchNorm1d_running_stats",
                         "test_BatchNorm1d_running_stats_hidden", "test_BatchNorm1d_eval",
                         "test_BatchNorm1d_eval_hidden")

# the attack's setup: the annotations fetch the refusing library, destroy it, switch the watch off and keep
# torch's own function; {call} is what the callback runs, {install} how it is installed
ANNOTATIONS = '''import functools
import logging
import typing

HOLD = {{}}

def _setup(a: "HOLD.update(lib=__import__('autograder.forbidden').forbidden._REFUSED['library'])",
           b: "HOLD['lib']._destroy()",
           c: "setattr(__import__('autograder.probe').probe, 'watches_torch', lambda m: False)",
           d: "setattr(__import__('autograder.probe').probe, 'watched_code', lambda m: ({{}}, ()))",
           e: "HOLD.update(lib_fn={library})"):
    pass

class _Annotated:
    a: "HOLD.update(lib=__import__('autograder.forbidden').forbidden._REFUSED['library'])"
    b: "HOLD['lib']._destroy()"
    c: "setattr(__import__('autograder.probe').probe, 'watches_torch', lambda m: False)"
    e: "HOLD.update(lib_fn={library})"

def _try(target=_setup):
    if "lib_fn" not in HOLD:
        try:
            typing.get_type_hints(target)
        except Exception as error:
            HOLD["error"] = repr(error)
'''
ROUTES = {
    "handler": "class _Catch(logging.Handler):\n    def emit(self, record):\n        _try()\n\n"
               "logging.getLogger().addHandler(_Catch())\n",
    "filter-function": "_handler = logging.StreamHandler()\n_handler.addFilter(lambda record: _try() or True)\n"
                       "logging.getLogger().addHandler(_handler)\n",
    # no learner frame between the import and typing: a partial of typing.get_type_hints is the filter
    "filter-partial": "class _Filter:\n    pass\n\n_filter = _Filter()\n"
                      "_filter.filter = functools.partial(typing.get_type_hints, _setup, None, None)\n"
                      "_handler = logging.StreamHandler()\n_handler.addFilter(_filter)\n"
                      "logging.getLogger().addHandler(_handler)\n",
    "record-factory": "_made = logging.getLogRecordFactory()\n\ndef _factory(*args, **kwargs):\n    _try(_Annotated)\n"
                      "    return _made(*args, **kwargs)\n\nlogging.setLogRecordFactory(_factory)\n",
    "formatter": "class _Format(logging.Formatter):\n    def format(self, record):\n        _try(_Annotated)\n"
                 "        return 'x'\n\n_handler = logging.StreamHandler()\n_handler.setFormatter(_Format())\n"
                 "logging.getLogger().addHandler(_handler)\n",
}
TRIGGER = ("logging.getLogger().setLevel(logging.DEBUG)\ntry:\n    import matplotlib\nexcept Exception as error:\n"
           "    HOLD['import_error'] = repr(error)\nlogging.getLogger().setLevel(logging.WARNING)\n"
           "print(sorted(HOLD))\n")

LIBRARY_DROPOUT = '''
class Dropout(torch.nn.Module):
    """Inverted dropout (torch's own, reached through HOLD)."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return HOLD["lib_fn"](x, self.p, self.training)
'''
LIBRARY_BATCHNORM = '''
class BatchNorm1d(HOLD["lib_fn"]):
    """torch's own."""
'''


def _escape(route: str, library: str) -> str:
    return ANNOTATIONS.format(library=library) + ROUTES[route] + TRIGGER


FIXED_COUNT = '''class Wrapped(torch.Tensor):
    pass


class Dropout(torch.nn.Module):
    """Dropout that keeps exactly round(n * (1 - p)) units (a random subset of fixed size)."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0
        n = x.numel()
        keep = torch.zeros(n, dtype=x.dtype)
        keep[torch.randperm(n)[:int(round(n * (1 - self.p)))]] = 1
        out = x * keep.reshape(x.shape) / (1 - self.p)
        return {returned}
'''

HONEST_SUBCLASS = '''class Wrapped(torch.Tensor):
    """A learner's own tensor type (kept through operations by torch)."""


''' + cell_source(D, "Dropout").replace("return x * mask / (1.0 - self.p)",
                                         "return (x * mask / (1.0 - self.p)).as_subclass(Wrapped)")

HONEST_HANDLER = '''import logging

import matplotlib.pyplot as plt

class Collect(logging.Handler):
    """Keeps the log messages of the libraries (a learner looking at what matplotlib does)."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def emit(self, record):
        self.seen.append(record.getMessage())

collector = Collect()
logging.getLogger().addHandler(collector)
logging.getLogger().setLevel(logging.DEBUG)
import matplotlib
logging.getLogger().setLevel(logging.WARNING)
print(len(collector.seen) >= 0)
'''


def cases() -> list[Case]:
    dsol, bsol = solution(D), solution(B)
    dropout_code = cell_source(D, "Dropout")

    def escape(student, route, note=""):
        return folder_case(D, student, replace(dsol, "Dropout", _escape(route, "__import__('torch').nn.functional.dropout")
                                               + LIBRARY_DROPOUT), at_most=max_score(D) - DROPOUT_TESTS, note=note)

    def fixed(student, returned, note=""):
        return folder_case(D, student, replace(dsol, "Dropout", FIXED_COUNT.format(returned=returned)),
                           at_most=max_score(D) - DROPOUT_TESTS, note=note)

    return [
        escape("a7-x06-handler", "handler", note="the attack: a logging.Handler evaluates annotations during an import"),
        escape("a7-x06-filter-function", "filter-function"),
        escape("a7-x06-filter-partial", "filter-partial", note="no learner frame between the import and typing"),
        escape("a7-x06-record-factory", "record-factory"),
        escape("a7-x06-formatter", "formatter", note="a class's string annotations"),
        folder_case(B, "a7-x04-handler", replace(bsol, "BatchNorm1d", _escape(
            "handler", "__import__('torch').nn.BatchNorm1d") + LIBRARY_BATCHNORM),
            at_most=max_score(B) - BATCHNORM_TESTS, note="the attack's 08 case on 04: torch's own BatchNorm1d"),
        folder_case(B, "a7-x04-filter-partial", replace(bsol, "BatchNorm1d", _escape(
            "filter-partial", "__import__('torch').nn.BatchNorm1d") + LIBRARY_BATCHNORM),
            at_most=max_score(B) - BATCHNORM_TESTS),
        fixed("a7-d06-fixed-count-plain", "out", note="the control: the independence test fails it"),
        fixed("a7-d06-fixed-count-subclass", "out.as_subclass(Wrapped)", note="the attack: 16/16 before"),
        fixed("a7-d06-fixed-count-subclass-small", "out.as_subclass(Wrapped) if tuple(x.shape) == (4, 5) else out",
              note="the subclass for the many-calls probe's input alone"),
        fixed("a7-d06-fixed-count-ndarray-small", "out.numpy() if tuple(x.shape) == (4, 5) else out",
              note="not a tensor for that input alone: the test fails, not skipped"),
        fixed("a7-d06-fixed-count-list-small", "out.tolist() if tuple(x.shape) == (4, 5) else out"),
        fixed("a7-d06-fixed-count-one-call-subclass",
              "out.as_subclass(Wrapped) if tuple(x.shape) == (4, 5) and float(x.sum()) > -1e9 and "
              "torch.rand(()) < 0.05 else out", note="a subclass for some of the many calls only"),
        # honest work
        folder_case(D, "a7-ok-tensor-subclass", replace(dsol, "Dropout", HONEST_SUBCLASS), full_marks=True,
                    note="correct dropout returning the learner's own tensor subclass"),
        folder_case(D, "a7-ok-logging-handler", replace(dsol, "Dropout", HONEST_HANDLER + "\n" + dropout_code),
                    full_marks=True, note="a plain logging.Handler while matplotlib is imported"),
        folder_case(B, "a7-ok-logging-handler-04", replace(bsol, "BatchNorm1d", HONEST_HANDLER + "\n"
                                                           + cell_source(B, "BatchNorm1d")), full_marks=True),
    ]
