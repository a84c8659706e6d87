"""Attributes named by strings or patterns, deep cells, and honest code the reading used to refuse (attack 3).

An independent attack found the reading blind to attributes that are not written as attribute syntax:
``string.Formatter().get_field("0.sys", [logging], {})`` and ``match logging: case object(sys=s)`` gave the
``sys`` module, and through it the refused kernels' handle, in a policy-clean cell. Every route of the
standard library that reads an attribute named by a string or a pattern is now judged like the attribute
itself (``policy.BY_NAME``, ``getattr`` of a module, class patterns, constant format templates), and a
private attribute through ``self`` is read only where the object is one of the notebook's own classes (the
runner checks it as the cell runs: a method handed a module, ``Peek.get(collections)``, is refused even
where the reading cleared the name). A correct notebook with a deep expression (a 600-term sum) keeps its
points instead of becoming a "grader failure", and the ordinary code that zeroed notebooks keeps its
points: ``%matplotlib inline``, ``%timeit``, ``%config InlineBackend...``, ``help(obj)``, a parameter named
``input``, a variable named ``vars``, ``import operator``, ``from types import SimpleNamespace``.
"""
from __future__ import annotations

from tests.grading.submissions import batchnorm_inference as bn
from tests.grading.submissions.common import Case, append, folder_case, insert_after, prepend, solution

N = "01_normalization"
B = "04_batchnorm_inference"

# The attack as found: the sys module through a Formatter, then the refused kernels' handle destroyed and the
# operator watch replaced; torch's own batch norm then passes for the learner's.
FORMATTER_ESCAPE = '''import string, logging
fmt = string.Formatter()
def grab(path, obj):
    return fmt.get_field("0" + path, [obj], {})[0]
sysmod = grab(".sys", logging)
forb = sysmod.modules.get("autograder.forbidden")
if forb is not None:
    lib = grab("._REFUSED", forb)["library"]
    if lib is not None:
        grab("._destroy", lib)()
    forb.watches_torch = lambda module: False
    forb.watched_code = lambda module: ({}, ())
'''

MATCH_ESCAPE = '''import logging
match logging:
    case object(sys=sysmod):
        pass
forb = sysmod.modules.get("autograder.forbidden")
match forb:
    case object(_REFUSED=refused):
        refused["library"]._destroy()
'''

# The same through a method handed a module as its self; the class names the private attributes itself, so the
# reading clears them, and the runner's check of self refuses (in a try: the class cell still runs, and the
# refused kernel then catches F.instance_norm).
SELF_ESCAPE = '''import collections
class Peek:
    def __init__(self):
        self._sys = None
        self._REFUSED = None
        self._destroy = None
    def sys_of(self):
        return self._sys
    def refused(self):
        return self._REFUSED
    def destroy(self):
        return self._destroy
try:
    sysmod = Peek.sys_of(collections)
    forb = sysmod.modules.get("autograder.forbidden")
    Peek.destroy(Peek.refused(forb)["library"])()
except PermissionError as error:
    print("refused:", error)
'''

ATTRGETTER_ESCAPE = "import operator, logging\nsysmod = operator.attrgetter('sys')(logging)\n"
GETATTR_ESCAPE = "import logging\nsysmod = getattr(logging, 'sys')\n"

HONEST_MAGICS = '''%matplotlib inline
%config InlineBackend.figure_format = 'retina'
%timeit -n 1 -r 1 np.zeros(3)
help(np.mean)
'''

HONEST_MODULES = '''import operator
from types import SimpleNamespace
settings = SimpleNamespace(feature_range=(0, 1))
ranked = sorted([("a", 2), ("b", 1)], key=operator.itemgetter(1))
'''

HONEST_NAMES = '''

def spread(input):
    means, vars = input.mean(0), input.var(0)
    return means, vars
'''


def _with_trailing(nb: dict, text: str) -> dict:
    """A scratch cell after the last test (never run by default, but read)."""
    import copy

    nb = copy.deepcopy(nb)
    nb["cells"].append({"cell_type": "code", "metadata": {}, "source": text, "execution_count": None, "outputs": []})
    return nb


def cases() -> list[Case]:
    sol, bsol = solution(N), solution(B)
    instance_norm = bn.module_calling(
        "torch.nn.functional.instance_norm(x.t().unsqueeze(0), None, None, self.weight, self.bias, "
        "use_input_stats=True, eps=self.eps)[0].t()")
    deep_sum = "total = " + " + ".join(str(i) for i in range(1, 600))
    too_deep = "total = " + " + ".join("1" for _ in range(5000))

    def cheat(student, content, status, assignment=B, note=""):
        return folder_case(assignment, student, content, status=status, note=note)

    def honest(student, content, assignment=N, note=""):
        return folder_case(assignment, student, content, full_marks=True, note=note)

    return [
        cheat("a3-formatter-escape", bn.wrong(BatchNorm1d=FORMATTER_ESCAPE + instance_norm),
              "hidden code: .get_field", note="string.Formatter().get_field reads any attribute named in a string"),
        cheat("a3-match-escape", bn.wrong(BatchNorm1d=MATCH_ESCAPE + instance_norm), "hidden code: case ...(sys=...)",
              note="a class pattern's keyword attributes are read like attributes"),
        cheat("a3-attrgetter-escape", bn.wrong(BatchNorm1d=ATTRGETTER_ESCAPE + instance_norm),
              "hidden code: .attrgetter"),
        cheat("a3-getattr-module", bn.wrong(BatchNorm1d=GETATTR_ESCAPE + instance_norm),
              "hidden code: getattr(..., 'sys')", note="a constant name is judged like the attribute it names"),
        cheat("a3-self-escape", bn.wrong(BatchNorm1d=SELF_ESCAPE + instance_norm), "forbidden reference",
              note="the reading clears self._sys (the class's own name); the runner refuses a module as self, "
                   "so the refused kernel stays and catches F.instance_norm"),
        cheat("a3-too-deep", insert_after(sol, "z_score_transform", too_deep),
              "hidden code: a cell the grader cannot read as Python (nested too deeply)", assignment=N,
              note="deeper than Python's own parser: hidden code, not a grader failure"),
        honest("a3-ok-deep-sum", insert_after(sol, "z_score_transform", deep_sum),
               note="a 600-term sum: read (not a RecursionError, not a grader failure)"),
        honest("a3-ok-magics", prepend(sol, "min_max_scale", HONEST_MAGICS),
               note="%matplotlib inline, %config InlineBackend, %timeit, help(obj) at the top of a solution cell"),
        honest("a3-ok-modules", prepend(sol, "min_max_scale", HONEST_MODULES),
               note="import operator (itemgetter), from types import SimpleNamespace"),
        honest("a3-ok-input-vars", append(bsol, "BatchNorm1d", HONEST_NAMES), assignment=B,
               note="a parameter named input, a variable named vars: the learner's names"),
        honest("a3-ok-trailing-help", _with_trailing(sol, "help(np.mean)\nhelp(min_max_scale)"),
               note="help() in a scratch cell after the last test"),
    ]
