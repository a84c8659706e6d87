"""Honest code the reading refused (the seventh attack's findings 3 to 11), and the routes it must still refuse.

- magics: IPython starts one only at the start of a *logical* line outside strings, so ``!=`` or ``% (args)``
  starting a continuation line and a ``%`` line in a docstring are Python (they were "hidden code");
- attribute names that are also modules' names (``np.select``, ``Tensor.select``, a learner's ``rung.resource``)
  are read, and checked as the cell runs: reaching a module a notebook may not import through them
  (``torch.optim.lr_scheduler.types``) raises in the cell; ``from torch import sys`` (which read clean) is refused;
- namedtuple's public ``_asdict``/``_replace``/``_fields``/``_make``;
- a name the learner binds by ``class``/``def``/``import``... is theirs (``class Out``), and the grader's own names
  (``__grader_own__``) cannot be bound by any form;
- a visible check run again in a cell of the learner's own is graded as usual; the check as a value, or called
  from inside the learner's code, stays refused;
- a one-line cell runs as written (no automagic): ``run (x)`` does not run a file the reading never read.
"""
from __future__ import annotations

from tests.grading.submissions import dropout, normalization
from tests.grading.submissions.common import (Case, cell_source, folder_case, insert_after, max_score, points, replace,
                                              solution)

N = "01_normalization"
T = "03_batchnorm_training"
B = "04_batchnorm_inference"
D = "06_dropout"

# min_max_scale with a comparison and a %-format starting continuation lines, and a docstring with % and ! lines
MIN_MAX_CONTINUED = '''def min_max_scale(x, feature_range=(0.0, 1.0)):
    """Rescale each column of x to feature_range.
    % the range of a column is max - min; a constant column becomes low
    !note: ints become floats
    """
    low, high = feature_range
    x = np.asarray(x)
    x = x.astype(np.result_type(x.dtype, np.float32))
    x_min, x_max = x.min(axis=0), x.max(axis=0)
    varies = (x_max
              != x_min)
    label = ("min_max_scale to [%g, %g]"
             % (low, high))
    total = 1 + \\
        2 \\
        % 3
    data_range = np.where(varies, x_max - x_min, 1)
    return low + (x - x_min) / data_range * (high - low)
'''

NAMEDTUPLE_SCRATCH = '''from collections import namedtuple
Range = namedtuple("Range", "low high")
r = Range(0.0, 1.0)
print(r._asdict(), r._replace(high=2.0), Range._fields, Range._make([0, 1]), Range._field_defaults)
'''

# a learner's names spelled like IPython's history, bound by class, def, import, except, with, walrus, match
SHELL_SPELLED = '''class Out(torch.Tensor):
    pass

def In(x):
    return x

import math as _i
try:
    raise ValueError("x")
except ValueError as _oh:
    message = str(_oh)
if (__ := In(3)) > 2:
    t = torch.ones(2).as_subclass(Out)
match (1, 2):
    case (_ii, *___):
        pair = (_ii, ___)
print(type(t).__name__, _i.pi, message, __, pair)
'''

MODULE_NAMED = '''from dataclasses import dataclass

@dataclass
class Rung:
    resource: int
    code: str
    signal: float = 0.0

rung = Rung(3, "a")
rung.resource += 1
picked = torch.arange(12.0).reshape(3, 4).select(1, 0)
chosen = np.select([np.arange(4) > 1], [np.arange(4)], default=0)
print(rung.resource, rung.code, rung.signal, picked.tolist(), chosen.tolist())
'''

DROPOUT_SELECT = '''def dropout_forward(x, p, train=True, rng=None):
    x = np.asarray(x)
    if not train:
        return x.copy(), None
    if rng is None:
        rng = np.random.default_rng()
    mask = rng.random(x.shape) >= p
    if p >= 1:
        return np.zeros_like(x), mask
    return np.select([mask], [x / (1.0 - p)], default=0.0).astype(x.dtype, copy=False), mask
'''

RERUN_DROPOUT = '''# my own quick re-check after editing
from autograder.dropout import check_dropout_forward
check_dropout_forward(dropout_forward, p=0.5)
'''

RERUN_NORMALIZATION = '''from autograder.normalization import check_min_max_scale as again
for _ in range(2):
    again(min_max_scale)
'''

# the refused routes: the check as a value (its verdict replaced), or called from inside the learner's code
CHECK_AS_VALUE = '''from autograder.dropout import check_dropout_forward
c = check_dropout_forward
c.verdict = lambda record, inputs: None
''' + dropout.WRONG["dropout_forward"]

CHECK_INSIDE = '''from autograder.dropout import check_dropout_forward
def dropout_forward(x, p, train=True, rng=None):
    check_dropout_forward(lambda x, p, train=True, rng=None: (x, None), p=0.5)
    x = np.asarray(x)
    return x.copy(), (np.ones(x.shape, dtype=bool) if train else None)
'''

# torch's own dropout through the sys module a from-import hands over (it read clean)
FROM_TORCH_SYS = '''from torch import sys
_F = sys.modules["torch.nn.functional"]
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p
    def forward(self, x):
        return _F.dropout(x, self.p, self.training)
'''

# the runner's own check of a method's self, undone by a def of its name
GRADER_OWN_DEF = '''def __grader_own__(anything):
    return anything
''' + dropout.WRONG["dropout_forward"]

# a module a notebook may not import, reached through a name the reading now lets through: refused as the cell runs,
# so the cell stops there and Dropout is never defined (its tests score nothing, the others are graded)
TYPES_THROUGH_TORCH = "kinds = torch.optim.lr_scheduler.types\nmade = kinds.SimpleNamespace()\n"

# a one-line cell that IPython's automagic would run as %run (x): the file's code is never read
AUTOMAGIC_RUN = '''open("(x)", "w").write(%r)
''' % cell_source(N, "min_max_scale")


def cases() -> list[Case]:
    nsol, dsol = solution(N), solution(D)

    def honest(student, assignment, content, note=""):
        return folder_case(assignment, student, content, full_marks=True, note=note)

    def refused(student, assignment, content, status, note="", at_most=0.0, at_least=None):
        return folder_case(assignment, student, content, status=status, at_most=at_most, at_least=at_least,
                           note=note)

    dropout_module = points(D, "test_Dropout", "test_Dropout_hidden")
    spatial = cell_source(T, "spatial_batchnorm_forward")
    head, rest = spatial.split('"""', 1)
    return [
        # findings 3 to 5: lines that only look like magics
        honest("h7-ok-continued-lines", N, replace(nsol, "min_max_scale", MIN_MAX_CONTINUED),
               note="!= and % (args) starting continuation lines, % and ! lines in a docstring"),
        honest("h7-ok-docstring-percent", T, replace(solution(T), "spatial_batchnorm_forward",
                                                     head + '"""\n    % reshape to (N*H*W, C), normalize, reshape back\n'
                                                     + rest),
               note="a docstring line starting with %"),
        # findings 6 to 8: attribute names that are also modules' names
        honest("h7-ok-np-select", D, replace(dsol, "dropout_forward", DROPOUT_SELECT), note="np.select"),
        honest("h7-ok-module-named-fields", B, insert_after(solution(B), "BatchNorm1d", MODULE_NAMED),
               note="rung.resource, rung.code, Tensor.select, np.select"),
        refused("h7-types-through-torch", D, replace(dsol, "Dropout", TYPES_THROUGH_TORCH + cell_source(D, "Dropout")),
                "graded", at_most=max_score(D) - dropout_module, at_least=max_score(D) - dropout_module,
                note="the types module through torch.optim.lr_scheduler.types: refused as the cell runs"),
        refused("h7-from-torch-sys", D, dropout.wrong(Dropout=FROM_TORCH_SYS), "hidden code: import of torch.sys",
                note="from torch import sys read clean"),
        # finding 10: namedtuple's public names
        honest("h7-ok-namedtuple", N, insert_after(nsol, "min_max_scale", NAMEDTUPLE_SCRATCH),
               note="_asdict, _replace, _fields, _make"),
        # finding 11: names the learner binds
        honest("h7-ok-class-out", D, insert_after(dsol, "dropout_forward", SHELL_SPELLED),
               note="class Out, def In, import math as _i, except ... as _oh, walrus __, match captures"),
        refused("h7-grader-own-def", D, dropout.wrong(dropout_forward=GRADER_OWN_DEF),
                "hidden code: __grader_own__ (bound by the notebook)"),
        # finding 9: a visible check run again
        honest("h7-ok-rerun-check", D, insert_after(dsol, "dropout_forward", RERUN_DROPOUT),
               note="from autograder.dropout import check_dropout_forward, called in a scratch cell"),
        honest("h7-ok-rerun-check-alias", N, insert_after(nsol, "min_max_scale", RERUN_NORMALIZATION),
               note="a visible check imported under another name, called in a loop"),
        refused("h7-check-as-value", D, dropout.wrong(dropout_forward=CHECK_AS_VALUE),
                "hidden code: check_dropout_forward used as a value"),
        refused("h7-check-inside", D, dropout.wrong(dropout_forward=CHECK_INSIDE),
                "hidden code: check_dropout_forward(...) inside a function"),
        # the grading shell has no automagic: what the reading reads is what runs
        refused("h7-automagic-run", N, _automagic(), "graded",
                note="run (x) would be %run (x) with IPython's automagic: a file the reading never read"),
    ]


def _automagic() -> dict:
    """The wrong solution, then a cell writing the solution's min_max_scale to a file, then ``run (x)``."""
    nb = insert_after(normalization.wrong(), "min_max_scale", AUTOMAGIC_RUN)
    cells = nb["cells"]
    index = next(i for i, c in enumerate(cells) if c.get("source") == AUTOMAGIC_RUN)
    cells.insert(index + 1, {"cell_type": "code", "metadata": {}, "source": "run (x)", "execution_count": None,
                             "outputs": []})
    return nb
