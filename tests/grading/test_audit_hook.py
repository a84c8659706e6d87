"""The audit hook of grader/audit.py, in a real sandbox job: every route from data to new code is refused, and
what honest notebooks do (dataclasses, namedtuples, new imports, %time, logging, warnings) still runs."""
from __future__ import annotations

import ast
import secrets

import pytest

from grader import sandbox
from tests.grading.grade_helpers import require_bwrap

pytestmark = pytest.mark.slow  # starts a bubblewrap sandbox

# Each is one cell that a notebook past the reading (grader/policy.py) could run: it must raise PermissionError.
REFUSED = {
    "eval": "eval('1 + 1')",
    "exec": "exec('x = 1')",
    "compile": "compile('x = 1', 'x', 'exec')",
    "string annotation": "import typing\ndef f(x: 'print(1) or int'): pass\ntyping.get_type_hints(f)",
    "pickle through np.load": (
        "import numpy as np\nwith open('p.npy', 'wb') as h:\n"
        "    h.write(b'cbuiltins\\nprint\\n(Vx\\ntR.')\nopts = {'allow_pickle': True}\nnp.load('p.npy', **opts)"),
    "pickle.loads": "import pickle\npickle.loads(b'cbuiltins\\nprint\\n(Vx\\ntR.')",
    "marshal": "import marshal\nmarshal.loads(marshal.dumps(1))",
    "ctypes": "import ctypes\nctypes.CDLL(None)",
    "gc walk": "import gc\ngc.get_objects()",
    "profiler": "import sys\nsys.setprofile(lambda *a: None)",
    "a dataclass field named with code": (
        "import dataclasses\nC = type('C', (), {'__annotations__': {'x': int, 'y=print(1), *z': int}})\n"
        "setattr(C, 'y=print(1), *z', dataclasses.field(init=False))\ndataclasses.dataclass(C)"),
    "a dataclass inheriting such a field": (
        "import dataclasses\nf = dataclasses.field()\nf.name, f.type, f._field_type = 'y=print(1), *z', int, "
        "dataclasses._FIELD\nA = dataclasses.dataclass(type('A', (), {}))\n"
        "B = type('B', (), {'__dataclass_fields__': {'y=print(1), *z': f}, '__dataclass_params__': A.__dataclass_params__})\n"
        "dataclasses.dataclass(type('C', (B,), {}))"),
    # a method reading a private attribute of whatever is passed as its self (the reading clears self._sys,
    # a name the class gives itself): the runner's transformer refuses objects of classes not of the notebook
    "a private attribute through a method's self": (
        "import collections\nclass Peek:\n    def __init__(self):\n        self._sys = None\n"
        "    def get(self):\n        return self._sys\nPeek.get(collections)"),
    "writing one through a method's self": (
        "import collections\nclass Poke:\n    def put(self, value):\n        self._sys = value\n"
        "Poke.put(collections, None)"),
    "a timeit.Timer outside %timeit": "import IPython.core.magics.execution as e\ne.timeit.Timer('x = 1').timeit(1)",
    # IPython's shell called from a cell runs text the reading never saw (attack 4: the reading now refuses
    # IPython but its display functions; the hook refuses the shell's exec with a cell's frame above it)
    "the shell's ex from a cell": "import IPython\nIPython.InteractiveShell.instance().ex('x = 1')",
    "the shell's run_cell from a cell": (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "outcome = InteractiveShell.instance().run_cell('x = 1')\nraise outcome.error_in_exec"),
    "the shell's ev from a cell": "import IPython\nIPython.InteractiveShell.instance().ev('1 + 1')",
    "the shell through extracted frame locals": (
        "import IPython\nfound = [IPython.extract_module_locals(d)[1] for d in range(1, 12)]\n"
        "shell = next(f['shell'] for f in found if 'shell' in f)\nshell.ex('x = 1')"),
    # other standard-library routes from a string to code (attack 7's review): each execs from a library file
    "singledispatch of a string annotation": (
        "import functools\n@functools.singledispatch\ndef f(x):\n    pass\n"
        "@f.register\ndef _(x: 'print(1) or int'):\n    pass"),
    "eval found by pydoc.locate": "import pydoc\npydoc.locate('builtins.eval')('1 + 1')",
    "a class's string annotations": "import typing\nclass C:\n    a: 'print(1) or int'\ntyping.get_type_hints(C)",
    "a module written by the job": (
        "with open('mine.py', 'w') as h:\n    h.write('x = 1')\nimport sys\nsys.path.insert(0, '.')\nimport mine"),
}

HONEST = r'''
import collections, dataclasses, logging, statistics, warnings, typing

@dataclasses.dataclass
class Point:
    x: int
    y: int = 2

Pair = collections.namedtuple("Pair", "a b")
class Named(typing.NamedTuple):
    a: int
logging.getLogger("learner").info("fine")
warnings.warn("a learner's warning")
print([Point(1).y, Pair(1, 2).b, Named(3).a, statistics.mean([1, 2, 3])])
'''


def _job(*sources: str) -> dict:
    return {"nonce": secrets.token_hex(8), "files": {}, "cells": [{"i": i, "source": s} for i, s in enumerate(sources)]}


@pytest.fixture(scope="module")
def warm():
    require_bwrap()
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=30), [sandbox.REPO], ("numpy", "torch")) as warm:
        yield warm


def test_every_route_from_data_to_code_is_refused(warm):
    names = list(REFUSED)
    run = warm.run(_job(*REFUSED.values()), len(names))
    assert run.done and not run.failure, (run.failure, run.detail)
    for index, name in enumerate(names):
        errors = [o for o in run.cells[index]["outputs"] if o.get("output_type") == "error"]
        # the refusal itself, or as the cause of the library's own error (np.load: UnpicklingError from it)
        shown = errors and errors[0]["evalue"] + "".join(errors[0].get("traceback", []))
        assert errors and "PermissionError: refused by the grader" in f"{errors[0]['ename']}: {shown}", \
            (name, run.cells[index]["outputs"])


def test_honest_code_runs_under_the_hook(warm):
    run = warm.run(_job(HONEST, "%time total = sum(range(10))\nprint(total)"), 2)
    assert run.done and not run.failure, (run.failure, run.detail)
    printed = [o["text"] for o in run.cells[0]["outputs"] if o.get("name") == "stdout"]
    assert printed and ast.literal_eval(printed[-1].strip()) == [2, 2, 3, 2], run.cells[0]["outputs"]
    assert "45" in "".join(o.get("text", "") for o in run.cells[1]["outputs"]), run.cells[1]["outputs"]


# Honest notebook code that used to break its cell in the sandbox (attack 3, H1/H3)
HONEST_MAGICS = {
    "matplotlib": "%matplotlib inline\n%matplotlib\nimport matplotlib.pyplot as plt\nprint('after', 1)",
    "timeit": "%timeit -n 1 -r 1 total = sum(range(10))\nprint('after', 2)",
    "timeit cell": "%%timeit -n 1 -r 1\ntotal = sum(range(10))",
    "config": "%config InlineBackend.figure_format = 'retina'\nprint('after', 4)",
    # %%capture runs its body with the shell's run_cell, from the cell: the body was read as the cell's code
    "capture": "%%capture captured\ntotal = sum(range(10))\nprint('hidden by capture')",
    "after capture": "print('after', total, 'captured' if 'hidden by capture' in captured.stdout else captured.stdout)",
    "help": "help(len)\nhelp()\nprint('after', 5)",
    "own private": ("class Box:\n    _count = 0\n    def __init__(self):\n        self._items = [1]\n"
                    "    def total(self):\n        return sum(self._items) + type(self)._count\n"
                    "    @classmethod\n    def bump(cls):\n        cls._count += 1\n"
                    "Box.bump()\nprint('after', Box().total())"),
}


def test_honest_magics_help_and_private_attributes_run(warm):
    names = list(HONEST_MAGICS)
    run = warm.run(_job(*HONEST_MAGICS.values()), len(names))
    assert run.done and not run.failure, (run.failure, run.detail)
    for index, name in enumerate(names):
        outputs = run.cells[index]["outputs"]
        assert not [o for o in outputs if o.get("output_type") == "error"], (name, outputs)
        text = "".join(o.get("text", "") for o in outputs)
        if name not in ("timeit cell", "capture"):
            assert "after" in text, (name, outputs)
    assert "after 45 captured" in "".join(o.get("text", "") for o in run.cells[names.index("after capture")]["outputs"])
    assert "Return the number of items" in "".join(o.get("text", "") for o in run.cells[names.index("help")]["outputs"])


# Attack 7: learner code called back while a library is imported (matplotlib logs at DEBUG during its import)
# borrowed the import to evaluate string annotations. Each route is one job (a library is imported once per job):
# its first cell sets the callback and imports matplotlib, its second raises what the callback met.
IMPORT_TIME_SETUP = r'''
import functools, logging, typing
HOLD = {"errors": []}
def _setup(a: "HOLD.update(ran=True)"):
    pass
class _Annotated:
    b: "HOLD.update(ran=True)"
def _try(target=_setup):
    if "ran" not in HOLD and not HOLD["errors"]:
        try:
            typing.get_type_hints(target)
        except Exception as error:
            HOLD["errors"].append(error)
'''
IMPORT_TIME_ROUTES = {
    "a logging.Handler": "class _H(logging.Handler):\n    def emit(self, record):\n        _try()\n"
                         "logging.getLogger().addHandler(_H())",
    "a handler's filter function": "_h = logging.StreamHandler()\n_h.addFilter(lambda record: _try() or True)\n"
                                   "logging.getLogger().addHandler(_h)",
    # no learner frame at all between the import and typing: a partial of typing.get_type_hints is the filter
    "a partial of typing.get_type_hints as a filter": (
        "class _F:\n    pass\n_f = _F()\n_f.filter = functools.partial(typing.get_type_hints, _setup, None, None)\n"
        "_h = logging.StreamHandler()\n_h.addFilter(_f)\nlogging.getLogger().addHandler(_h)\n"
        "HOLD['errors'] = []\n_try = None"),
    "a log record factory": (
        "_old = logging.getLogRecordFactory()\ndef _factory(*args, **kwargs):\n    _try(_Annotated)\n"
        "    return _old(*args, **kwargs)\nlogging.setLogRecordFactory(_factory)"),
    "a Formatter": ("class _Fmt(logging.Formatter):\n    def format(self, record):\n        _try(_Annotated)\n"
                    "        return 'x'\n_h = logging.StreamHandler()\n_h.setFormatter(_Fmt())\n"
                    "logging.getLogger().addHandler(_h)"),
}
IMPORT_TIME_TRIGGER = "logging.getLogger().setLevel(logging.DEBUG)\nimport matplotlib\nlogging.getLogger().setLevel(logging.WARNING)\n"
IMPORT_TIME_REPORT = '''
assert "ran" not in HOLD, "the annotation was evaluated"
print("errors", [type(e).__name__ for e in HOLD["errors"]])
if HOLD["errors"]:
    raise HOLD["errors"][0]
'''


@pytest.mark.parametrize("route", list(IMPORT_TIME_ROUTES))
def test_learner_code_called_during_an_import_cannot_evaluate_text(warm, route):
    setup = IMPORT_TIME_SETUP + IMPORT_TIME_ROUTES[route] + "\n"
    if "partial" in route:  # the partial raises in the handler's filter, which logging lets through: the import fails
        run = warm.run(_job(setup + IMPORT_TIME_TRIGGER, "print(HOLD)"), 2)
        assert run.done and not run.failure, (run.failure, run.detail)
        errors = [o for o in run.cells[0]["outputs"] if o.get("output_type") == "error"]
        assert errors and errors[0]["ename"] == "PermissionError" and "typing.py" in errors[0]["evalue"], errors
        assert "ran" not in "".join(o.get("text", "") for o in run.cells[1]["outputs"]), run.cells[1]["outputs"]
        return
    run = warm.run(_job(setup + IMPORT_TIME_TRIGGER, IMPORT_TIME_REPORT), 2)
    assert run.done and not run.failure, (run.failure, run.detail)
    assert not [o for o in run.cells[0]["outputs"] if o.get("output_type") == "error"], run.cells[0]["outputs"]
    errors = [o for o in run.cells[1]["outputs"] if o.get("output_type") == "error"]
    assert errors and errors[0]["ename"] == "PermissionError" and "refused by the grader" in errors[0]["evalue"], \
        (route, run.cells[1]["outputs"])


HONEST_IMPORT_TIME = r'''
import copy, logging
import torch
seen = []
class Keep(logging.Handler):
    def emit(self, record):
        seen.append(record.name)
logging.getLogger().addHandler(Keep())
logging.getLogger().setLevel(logging.DEBUG)
import matplotlib
logging.getLogger().setLevel(logging.WARNING)
layer = copy.deepcopy(torch.nn.Linear(2, 2))  # imports torch.distributed.nn, which generates a class (exec)
print("honest", bool(seen), type(layer).__name__)
'''


def test_honest_handlers_and_a_library_generating_code_at_import_still_run(warm):
    run = warm.run(_job(HONEST_IMPORT_TIME), 1)
    assert run.done and not run.failure, (run.failure, run.detail)
    outputs = run.cells[0]["outputs"]
    assert not [o for o in outputs if o.get("output_type") == "error"], outputs
    assert "honest True Linear" in "".join(o.get("text", "") for o in outputs), outputs


def test_the_timing_magic_refuses_code_a_learner_function_hands_it():
    """Unit: a %time exec is the cell's own only when the cell's top-level code called the magic."""
    from grader import audit

    def frame_chain():
        import sys
        return sys._getframe(0)

    assert not audit._magic_called_by_a_cell(frame_chain(), "/nowhere/IPython/")
