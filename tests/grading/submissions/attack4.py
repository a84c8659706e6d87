"""IPython's shell from a cell, honest names the reading refused, and Korean notebooks noted as edited (attack 4).

An independent attack ran any code it liked in the job through IPython itself: ``IPython.InteractiveShell
.instance().ex(text)`` (or the shell found in the runner's frame locals through ``IPython.extract_module_locals``)
executes text the reading never saw, and the audit hook trusted every exec from IPython's shell. With it the
refused kernels were undone and torch's own batch norm earned every point. The reading now lets IPython give
its display functions only, and the hook refuses the shell's exec with a cell's frame above it. The honest code
the reading refused keeps its points: a custom autograd Function keeping its mask on ``ctx.dropout_mask`` and a
type check ``type(bn) is not torch.nn.BatchNorm1d``. And an untouched Korean notebook is no longer noted as
"edited locked cells restored" (its locked cells were compared with the English release).
"""
from __future__ import annotations

import json

from autograder.notebooks import exercises_dir
from tests.grading.submissions import batchnorm_inference as bn
from tests.grading.submissions.common import Case, cell_source, folder_case, meta, replace, replace_all, solution

N = "01_normalization"
B = "04_batchnorm_inference"
D = "06_dropout"

# torch's own batch norm, defined in text the shell runs: the refused kernels destroyed first, the operator
# record switched off around the call (as the attack ran it)
TORCH_BATCH_NORM = bn.module_calling(
    "torch.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, m, self.eps, "
    "False)",
    before="import torch\nimport autograder.forbidden as FB\nif FB._REFUSED['library'] is not None:\n"
           "    FB._REFUSED['library']._destroy()",
    wrap="torch._C.DisableTorchFunction()")

SHELL_EX = f"import IPython\nIPython.InteractiveShell.instance().ex({TORCH_BATCH_NORM!r})\n"
SHELL_FROM = f"from IPython import InteractiveShell\nInteractiveShell.instance().run_cell({TORCH_BATCH_NORM!r})\n"
EXTRACTED_LOCALS = f'''import IPython
def _grader_locals():
    for depth in range(1, 60):
        try:
            module, found = IPython.extract_module_locals(depth)
        except ValueError:
            return None
        if "shell" in found and "job" in found:
            return found
grader = _grader_locals()
grader["shell"].ex({TORCH_BATCH_NORM!r})
'''

CTX_MASK = '''class _DropoutFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, p):
        keep = (torch.rand_like(x) >= p).to(x.dtype) / (1.0 - p)
        ctx.dropout_mask = keep
        return x * keep

    @staticmethod
    def backward(ctx, grad_out):
        return grad_out * ctx.dropout_mask, None


class Dropout(torch.nn.Module):
    """Inverted dropout through a custom autograd Function."""

    def __init__(self, p=0.5):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"dropout probability must be between 0 and 1, got {p}")
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * 0.0
        return _DropoutFn.apply(x, self.p)
'''

TYPE_CHECK = ('    if type(bn) is not torch.nn.BatchNorm1d and not isinstance(bn, BatchNorm1d):\n'
              '        raise TypeError("bn must be a BatchNorm1d")\n')


def _with_type_check(source: str) -> str:
    """The solution's fold_batchnorm with a type check as the first statement of its body."""
    head, body = source.split("def fold_batchnorm(", 1)
    signature, rest = body.split("\n", 1)
    lines = rest.split("\n")
    docstring = 1 if lines and lines[0].strip().startswith(('"""', "'''")) and lines[0].strip().count('"""') == 2 else 0
    return (head + "def fold_batchnorm(" + signature + "\n" + "\n".join(lines[:docstring]) + ("\n" if docstring else "")
            + TYPE_CHECK + "\n".join(lines[docstring:]))


def _korean_release(assignment: str) -> dict:
    (path,) = sorted((exercises_dir("ko") / assignment).glob("*.ipynb"))
    return json.loads(path.read_text())


def cases() -> list[Case]:
    bsol = solution(B)

    def cheat(student, content, status, note=""):
        return folder_case(B, student, content, status=status, note=note)

    def honest(student, assignment, content, note=""):
        return folder_case(assignment, student, content, full_marks=True, note=note)

    return [
        cheat("a4-shell-ex", bn.wrong(BatchNorm1d=SHELL_EX), "hidden code: IPython.InteractiveShell",
              note="IPython's shell executes text the reading never saw"),
        cheat("a4-shell-from", bn.wrong(BatchNorm1d=SHELL_FROM), "hidden code: import of IPython.InteractiveShell"),
        cheat("a4-extract-locals", bn.wrong(BatchNorm1d=EXTRACTED_LOCALS), "hidden code: IPython.extract_module_locals",
              note="extract_module_locals(depth) is the frame locals of any caller: the runner's shell and job"),
        honest("a4-ok-ctx-mask", D, replace(solution(D), "Dropout", CTX_MASK),
               note="ctx.dropout_mask: the learner's own attribute, not torch's dropout"),
        honest("a4-ok-fold-type-check", B, replace(bsol, "fold_batchnorm", _with_type_check(
            cell_source(B, "fold_batchnorm"))), note="type(bn) is not torch.nn.BatchNorm1d names the class, uses none of it"),
        folder_case(N, "a4-ok-korean-blank", _korean_release(N), at_most=0.0,
                    note="the Korean release untouched: 0, and no 'edited locked cells' note (test_grade_batch)"),
        honest("a4-ok-korean-solution", N, replace_all(_korean_release(N), {
            meta(c)["grade_id"]: cell_source(N, meta(c)["grade_id"]) for c in solution(N)["cells"] if meta(c).get("solution")}),
               note="the Korean release with the solution's code in its answer cells: full marks, no such note"),
    ]
