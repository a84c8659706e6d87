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
