"""Chapter 4 (``04_batchnorm_inference``, NumPy and torch in its sandbox): PyTorch's batch norm by other names.

The exercise asks for a ``BatchNorm1d`` module written from tensor
operations; PyTorch's own batch norm is the reference and is forbidden. The
reading of the cells refuses the names it can see (``torch.nn.functional.
batch_norm``, ``torch._VF``, ``torch.ops``, ``getattr`` with a computed
name); the probe's record of the torch functions that ran must catch the
kernel whatever name reached it (kept in a dict or list, a subclass of the
library's module, a module reloaded through importlib). The cheats that switch
that record off, swap the probe's function or forge the records are here too.
"""
from __future__ import annotations

from tests.grading.submissions import tricks
from tests.grading.submissions.common import (Case, exercise, folder_case, insert_after, max_score, replace,
                                                 replace_all, solution)

A = "04_batchnorm_inference"
MAX = max_score(A)

INIT = '''
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def _factor(self):
        if not self.training:
            return 0.0
        with torch.no_grad():
            self.num_batches_tracked += 1
        return 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
'''


def module_calling(kernel_call: str, before: str = "", wrap: str = "") -> str:
    """A BatchNorm1d whose forward returns ``kernel_call`` (x, m = the momentum factor, self...)."""
    body = f"        m = self._factor()\n"
    if wrap:
        body += f"        with {wrap}:\n            return {kernel_call}\n"
    else:
        body += f"        return {kernel_call}\n"
    return f"{before}\nclass BatchNorm1d(torch.nn.Module):\n{INIT}\n    def forward(self, x):\n{body}"


FUNCTIONAL = ("{F}.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, m, "
              "self.eps)")

WRONG = {
    "BatchNorm1d": "class BatchNorm1d(torch.nn.Module):\n" + INIT + "\n    def forward(self, x):\n        return x\n",
    "population_statistics": "def population_statistics(batch_means, batch_vars, batch_size):\n"
                             "    return batch_means[0], batch_vars[0]\n",
    "fold_batchnorm": "def fold_batchnorm(linear, bn):\n    return linear\n",
}

# The library's implementations, kept under other names: what the swapped probe and the forger run.
LIBRARY = '''
import copy
_nn = [torch.nn][0]
def _population(batch_means, batch_vars, batch_size):
    return batch_means.mean(dim=0), batch_size / (batch_size - 1) * batch_vars.mean(dim=0)
def _fold(linear, bn):
    return _nn.utils.fusion.fuse_linear_bn_eval(copy.deepcopy(linear).eval(), copy.deepcopy(bn).eval())
_REPLACEMENTS = {"BatchNorm1d": _nn.BatchNorm1d, "population_statistics": _population, "fold_batchnorm": _fold}
'''


def wrong(**sources: str) -> dict:
    """Every function wrong but those given (grade_id -> source)."""
    return replace_all(solution(A), {**WRONG, **sources})


def case(student, content, **kw) -> Case:
    return folder_case(A, student, content, **kw)


def cases() -> list[Case]:
    sol = solution(A)
    warns = replace(sol, "population_statistics", (
        "import warnings\n"
        "def population_statistics(batch_means, batch_vars, batch_size):\n"
        "    warnings.warn('the paper uses m / (m - 1): unbiased', UserWarning)\n"
        "    m = batch_size\n"
        "    return batch_means.mean(dim=0), m / (m - 1) * batch_vars.mean(dim=0)\n"))
    return [
        # correct work, mixed in
        case("bn-inference-ok", sol, full_marks=True),
        case("bn-inference-ok-warns", warns, full_marks=True, note="warnings.warn inside a tested function"),
        case("bn-inference-blank", exercise(A)),
        case("bn-inference-wrong", wrong()),
        # the library's batch norm, by names the reading sees
        case("bn-functional-visible", wrong(BatchNorm1d=module_calling(FUNCTIONAL.format(F="torch.nn.functional"))),
             status="forbidden reference: torch.nn.functional.batch_norm"),
        case("bn-vf-visible", wrong(BatchNorm1d=module_calling(
            "torch._VF.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, m, "
            "self.eps, False)")), status="hidden code: torch._VF"),
        case("bn-getattr-computed", wrong(BatchNorm1d=module_calling(
            FUNCTIONAL.format(F="_F"), before="_F = torch.nn.functional\n_name = 'batch' + '_norm'\n"
            "_kernel = getattr(_F, _name)").replace("_F.batch_norm(", "_kernel(")),
             status="hidden code: getattr() with a computed name"),
        case("bn-library-module-visible", wrong(BatchNorm1d=(
            "class BatchNorm1d(torch.nn.BatchNorm1d):\n    pass\n")),
             status="forbidden reference: torch.nn.BatchNorm1d"),
        # another of torch's normalization layers on a rearranged batch (one group per channel) is batch norm
        case("bn-group-norm-transposed", wrong(BatchNorm1d=module_calling(
            "torch.nn.functional.group_norm(x.t().reshape(1, x.shape[1], -1), x.shape[1], self.weight, self.bias, "
            "self.eps).reshape(x.shape[1], -1).t()")),
             status="forbidden reference: torch.nn.functional.group_norm"),
        # ... and by names it cannot see: the probe's record of torch functions must catch them
        case("bn-functional-in-dict", wrong(BatchNorm1d=module_calling(
            FUNCTIONAL.format(F='_KERNELS["functional"]'), before="_KERNELS = {'functional': torch.nn.functional}")),
             status="forbidden reference",
             note="F.batch_norm through a name kept in a dict: recorded as torch:batch_norm while probed"),
        case("bn-vf-alias", wrong(BatchNorm1d=module_calling(
            "_t._VF.batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, self.training, m, "
            "self.eps, False)", before="_t = torch")), status="forbidden reference"),
        case("bn-aten-in-list", wrong(BatchNorm1d=module_calling(
            "_OPS[0].aten.native_batch_norm(x, self.weight, self.bias, self.running_mean, self.running_var, "
            "self.training, m, self.eps)[0]", before="_t = torch\n_OPS = [_t.ops]")), status="forbidden reference",
             note="torch.ops.aten.native_batch_norm through a name kept in a list"),
        case("bn-reloaded-library-module", wrong(BatchNorm1d=(
            tricks.MODULES + "_fresh = _modules['importlib'].reload(_modules['torch.nn.modules.batchnorm'])\n"
            "class BatchNorm1d(_fresh.BatchNorm1d):\n    pass\n")), status="forbidden reference",
             note="torch.nn.modules.batchnorm reloaded through importlib, its fresh BatchNorm1d subclassed "
                  "(a fresh import of torch.nn.functional itself fails: its C functions keep their docstrings)"),
        # the record of torch functions switched off, the probe swapped, the records forged
        case("bn-function-mode-disabled", wrong(BatchNorm1d=module_calling(
            FUNCTIONAL.format(F='_KERNELS["functional"]'),
            before="_t = torch\n_KERNELS = {'functional': torch.nn.functional}",
            wrap="_t._C.DisableTorchFunction()")),
             note="F.batch_norm (kept in a dict) run under torch._C.DisableTorchFunction (reached through an "
                  "alias): the probe's TorchFunctionMode sees nothing"),
        case("bn-record-silenced", wrong(BatchNorm1d=module_calling(
            FUNCTIONAL.format(F='_KERNELS["functional"]'),
            before=tricks.SILENCE_RUNNING + "_KERNELS = {'functional': torch.nn.functional}")),
             note="probe._RUNNING replaced (through sys.modules) by a list that stays empty: learner_code() "
                  "records nothing"),
        case("bn-swap-run-probe", wrong(BatchNorm1d=WRONG["BatchNorm1d"] + LIBRARY + tricks.SWAP_RUN_PROBE),
             note="Check.run_probe replaced in the sandbox: the probes run torch's BatchNorm1d, fuse_linear_bn_eval "
                  "and a correct population_statistics instead of the learner's, and drop the operators"),
        case("bn-forge-by-gc", insert_after(wrong(), "BatchNorm1d", LIBRARY + tricks.forge_by_gc("")),
             note="the runner's send() and job found with gc.get_objects: every probe record forged from "
                  "torch's own implementations, then 'done'"),
        case("bn-fold-fusion-alias", wrong(fold_batchnorm=(
            "import copy\n_utils = [torch.nn.utils]\n"
            "def fold_batchnorm(linear, bn):\n"
            "    return _utils[0].fusion.fuse_linear_bn_eval(copy.deepcopy(linear).eval(), copy.deepcopy(bn).eval())\n")),
             note="torch.nn.utils.fusion (forbidden) through a name kept in a list: it runs no batch_norm "
                  "function, so only the reading could see it"),
        # the checks and their tolerances
        case("bn-import-checks", wrong(BatchNorm1d=WRONG["BatchNorm1d"] + (
            "import autograder.batchnorm_inference as _checks\n"
            "_checks.TOLERANCE[torch.float64] = (1e9, 1e9)\n_checks.TOLERANCE[torch.float32] = (1e9, 1e9)\n")),
             status="hidden code: import of autograder.batchnorm_inference"),
        case("bn-loosen-tolerance", wrong(BatchNorm1d=WRONG["BatchNorm1d"] + tricks.LOOSEN_TOLERANCES),
             note="TOLERANCE enlarged through sys.modules: only in the sandbox"),
    ]
