"""Chapter 6 (``06_dropout``, NumPy and torch in its sandbox): PyTorch's dropout inside the learner's code.

``dropout_forward``, ``dropout_backward`` and ``vanilla_dropout_forward`` are
NumPy; ``Dropout`` is a torch module. ``F.dropout`` and ``nn.Dropout`` are the
reference and forbidden: by a visible name (the reading), by a name kept in a
list (the probe's record of torch functions), with that record switched off,
with the probe's function swapped, with the records forged through the nonce
taken from the runner's closure.
"""
from __future__ import annotations

from tests.grading.submissions import tricks
from tests.grading.submissions.common import (Case, exercise, folder_case, max_score, replace, replace_all,
                                                 solution, with_grade_cells)
from tests.grading.submissions.memorise import KEY_CODE, table

A = "06_dropout"
MAX = max_score(A)

MODULE = '''
class Dropout(torch.nn.Module):
    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def forward(self, x):
        return {call}
'''

WRONG = {
    "dropout_forward": "def dropout_forward(x, p, train=True, rng=None):\n"
                       "    x = np.asarray(x)\n    return x.copy(), (np.ones(x.shape, dtype=bool) if train else None)\n",
    "dropout_backward": "def dropout_backward(dout, mask, p):\n    return np.asarray(dout).copy()\n",
    "vanilla_dropout_forward": "def vanilla_dropout_forward(x, p, train=True, rng=None):\n"
                               "    x = np.asarray(x)\n"
                               "    return x.copy(), (np.ones(x.shape, dtype=bool) if train else None)\n",
    "Dropout": MODULE.format(call="x"),
}

# Correct NumPy functions (hidden in a forger, not the graded ones) and PyTorch's own module.
LIBRARY = '''
_nn = [torch.nn][0]
def _forward(x, p, train=True, rng=None):
    x = np.asarray(x)
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(x.shape) >= p
    return (np.zeros_like(x) if p >= 1 else x * mask / (1.0 - p)), mask
def _backward(dout, mask, p):
    dout = np.asarray(dout)
    return np.zeros_like(dout) if p >= 1 else dout * mask / (1.0 - p)
def _vanilla(x, p, train=True, rng=None):
    x = np.asarray(x)
    if not train:
        return x * (1.0 - p), None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(x.shape) >= p
    return x * mask, mask
_REPLACEMENTS = {"dropout_forward": _forward, "dropout_backward": _backward, "vanilla_dropout_forward": _vanilla,
                 "Dropout": _nn.Dropout}
'''


def _say_passed(cell: dict) -> None:
    cell["source"] = "print('Dropout: visible tests passed')"
    cell["metadata"]["nbgrader"]["points"] = 0


def wrong(**sources: str) -> dict:
    return replace_all(solution(A), {**WRONG, **sources})


def case(student, content, **kw) -> Case:
    return folder_case(A, student, content, **kw)


def _memorised_backward() -> str:
    answers = table(A, "test_dropout_backward", "dropout_backward", "dout", "dx")
    return (f"_ANSWERS = {answers!r}\n"
            "def dropout_backward(dout, mask, p):\n"
            f"    key = {KEY_CODE.format('dout')}\n"
            "    return np.array(_ANSWERS[key]) if key in _ANSWERS else np.zeros(np.shape(dout))\n")


def cases() -> list[Case]:
    sol = solution(A)
    warns = replace(sol, "Dropout", (
        "import warnings\n" + MODULE.format(call="self._drop(x)") +
        "\n    def _drop(self, x):\n"
        "        warnings.warn('dropout in training mode', RuntimeWarning)\n"
        "        if not self.training or self.p == 0:\n            return x\n"
        "        if self.p == 1:\n            return x * 0.0\n"
        "        return x * (torch.rand_like(x) >= self.p).to(x.dtype) / (1.0 - self.p)\n"))
    in_list = "_F = [torch.nn.functional]\n"
    return [
        # correct work, mixed in
        case("dropout-ok", sol, full_marks=True),
        case("dropout-ok-warns", warns, full_marks=True, note="warnings.warn on every forward of the module"),
        case("dropout-blank", exercise(A)),
        case("dropout-wrong", wrong()),
        # PyTorch's dropout, by names the reading sees
        case("dropout-functional-visible", wrong(Dropout=MODULE.format(
            call="torch.nn.functional.dropout(x, self.p, self.training)")),
             status="forbidden reference: torch.nn.functional.dropout"),
        case("dropout-module-visible", wrong(Dropout=MODULE.format(call="torch.nn.Dropout(self.p).train(self.training)(x)")),
             status="forbidden reference: torch.nn.Dropout"),
        case("dropout-getattr-computed", wrong(Dropout="_kernel = getattr(torch.nn.functional, 'drop' + 'out')\n"
                                                       + MODULE.format(call="_kernel(x, self.p, self.training)")),
             status="hidden code: getattr() with a computed name"),
        # ... and by names it cannot see
        case("dropout-functional-in-list", wrong(Dropout=in_list + MODULE.format(
            call="_F[0].dropout(x, self.p, self.training)")), status="forbidden reference",
             note="F.dropout through a name kept in a list: recorded as torch:dropout while probed"),
        case("dropout-module-in-dict", wrong(Dropout="_LAYERS = {'d': torch.nn}\n" + MODULE.format(
            call="_LAYERS['d'].Dropout(self.p).train(self.training)(x)")), status="forbidden reference",
             note="nn.Dropout through a name kept in a dict, inside the learner's Dropout"),
        case("dropout-forward-by-torch", wrong(dropout_forward=(
            "_t = torch\n"
            "def dropout_forward(x, p, train=True, rng=None):\n"
            "    x = np.asarray(x)\n"
            "    if not train:\n        return x.copy(), None\n"
            "    out = _t.nn.functional.dropout(_t.from_numpy(x.copy()), p).numpy()\n"
            "    return out, out != 0\n")), status="forbidden reference",
             note="the NumPy function computed with F.dropout through an alias of torch"),
        # the record switched off, the probe swapped, the records forged
        case("dropout-learner-code-silenced", wrong(Dropout=tricks.SILENCE_LEARNER_CODE + in_list + MODULE.format(
            call="_F[0].dropout(x, self.p, self.training)")),
             note="learner_code() replaced by contextlib.nullcontext in the checks' modules (through sys.modules): "
                  "F.dropout (kept in a list) runs unrecorded"),
        case("dropout-swap-run-probe", wrong(dropout_forward=WRONG["dropout_forward"]
                                            + "_nn = [torch.nn][0]\n_REPLACEMENTS = {'Dropout': _nn.Dropout}\n"
                                            + tricks.SWAP_RUN_PROBE),
             note="Check.run_probe replaced in the sandbox: torch.nn.Dropout is probed instead of the learner's"),
        case("dropout-forge-closure-nonce", wrong(dropout_forward=WRONG["dropout_forward"]
                                                  + tricks.forge_raw(LIBRARY)),
             note="the nonce taken from send()'s closure (inspect.getclosurevars) and written with the "
                  "channel's own write(): forged cell outputs (HTML with scripts), probe records, 'done'"),
        case("dropout-memorised-backward", wrong(dropout_backward=_memorised_backward()),
             note="dropout_backward as a table of the visible tests' answers"),
        case("dropout-edited-grade-cells", with_grade_cells(wrong(), _say_passed),
             note="every grade cell replaced by a print: nbgrader's sources are put back"),
        case("dropout-import-checks", wrong(Dropout=WRONG["Dropout"] + "import autograder.dropout\n"
                                            "autograder.dropout.TOLERANCE.clear()\n"),
             status="hidden code: import of autograder.dropout"),
    ]
