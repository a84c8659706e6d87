"""Chapter 3 (``03_batchnorm_training``, NumPy only in its sandbox: torch is absent there).

Batch norm forward and backward in NumPy. PyTorch is the reference and is
forbidden: imported by name it is a forbidden reference, imported quietly it
is not there at all. The other cheats look for something to use in the
sandbox (the checks through the garbage collector, functions out of closures,
the answers of the visible tests) and must find nothing that earns a point.
"""
from __future__ import annotations

from tests.grading.submissions import tricks
from tests.grading.submissions.common import Case, exercise, folder_case, max_score, replace, replace_all, solution
from tests.grading.submissions.memorise import KEY_CODE, table

A = "03_batchnorm_training"
MAX = max_score(A)

WRONG = {
    "batchnorm_forward": "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
                         "    return np.asarray(x, dtype=float).copy(), None\n",
    "batchnorm_backward": "def batchnorm_backward(dout, cache):\n"
                          "    dout = np.asarray(dout, dtype=float)\n"
                          "    return dout.copy(), np.zeros(dout.shape[1]), np.zeros(dout.shape[1])\n",
    "spatial_batchnorm_forward": "def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
                                 "    return np.asarray(x, dtype=float).copy(), None\n",
    "spatial_batchnorm_backward": "def spatial_batchnorm_backward(dout, cache):\n"
                                  "    dout = np.asarray(dout, dtype=float)\n"
                                  "    return dout.copy(), np.zeros(dout.shape[1]), np.zeros(dout.shape[1])\n",
}


def wrong(**sources: str) -> dict:
    return replace_all(solution(A), {**WRONG, **sources})


def case(student, content, **kw) -> Case:
    return folder_case(A, student, content, **kw)


def _memorised_forward() -> str:
    answers = table(A, "test_batchnorm_forward", "batchnorm_forward", "x", "forward")
    return (f"_ANSWERS = {answers!r}\n"
            "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
            f"    key = {KEY_CODE.format('x')}\n"
            "    out = np.array(_ANSWERS[key]) if key in _ANSWERS else np.zeros(np.shape(x))\n"
            "    return out, None\n")


def cases() -> list[Case]:
    sol = solution(A)
    warns = replace(sol, "batchnorm_forward", (
        "import warnings\n"
        "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
        "    warnings.warn('batch statistics in training mode')\n"
        "    x = np.asarray(x, dtype=np.float64)\n"
        "    mean, var = x.mean(axis=0), x.var(axis=0)\n"
        "    inv_std = 1.0 / np.sqrt(var + eps)\n"
        "    x_hat = (x - mean) * inv_std\n"
        "    return gamma * x_hat + beta, (x_hat, gamma, inv_std)\n"))
    torch_forward = (
        "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
        "    t = _torch.tensor(x)\n"
        "    out = _torch.nn.functional.batch_norm(t, None, None, _torch.tensor(gamma), _torch.tensor(beta), True, 0.0, eps)\n"
        "    return out.numpy(), None\n")
    gc_checks = tricks.MODULES + (
        "_patched = 0\n"
        "for _thing in _modules['gc'].get_objects():\n"
        "    if type(_thing).__name__ == 'Check':\n"
        "        _thing.verdict = lambda record, inputs: None\n"
        "        _thing.run_verdict = lambda record, params: None\n"
        "        _patched += 1\n"
        "    elif type(_thing) is dict and {'x', 'gamma', 'beta', 'dout'} <= set(_thing):\n"
        "        _thing['gamma'] = np.ones_like(_thing['gamma'])\n"
        "        _thing['beta'] = np.zeros_like(_thing['beta'])\n"
        "        _patched += 1\n"
        "print('patched', _patched, 'objects')\n")
    referrers = tricks.MODULES + (
        "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
        "    for holder in _modules['gc'].get_referrers(x):\n"
        "        if type(holder).__name__ == 'Record':\n"
        "            holder.failure = None\n"
        "    return np.asarray(x, dtype=float).copy(), None\n")
    closure = tricks.RUNNER_BY_STACK + (
        "_send, _job = _runner()\n"
        "_nonce = _send.__closure__[1].cell_contents\n"
        "print('nonce', _nonce)\n")
    return [
        case("bn-training-ok", sol, full_marks=True),
        case("bn-training-ok-warns", warns, full_marks=True, note="warnings.warn inside batchnorm_forward"),
        case("bn-training-blank", exercise(A)),
        case("bn-training-wrong", wrong()),
        case("bn-training-import-torch", wrong(batchnorm_forward="import torch as _torch\n" + torch_forward),
             status="forbidden reference: torch",
             note="torch is this exercise's reference: refused by name (and absent from the sandbox)"),
        case("bn-training-torch-quietly", wrong(batchnorm_forward=tricks.MODULES + (
            "try:\n    _torch = _modules['importlib'].import_module('torch')\n"
            "except ImportError as error:\n    print('no torch:', error)\n    _torch = None\n") + torch_forward),
             note="torch imported through importlib (reached through sys.modules): absent in the sandbox"),
        case("bn-training-memorised", wrong(batchnorm_forward=_memorised_forward()),
             note="batchnorm_forward as a table of the visible tests' answers"),
        case("bn-training-gc-checks", wrong(batchnorm_forward=WRONG["batchnorm_forward"] + gc_checks),
             note="gc.get_objects: the Check objects' verdicts and the probes' inputs changed in the sandbox"),
        case("bn-training-gc-referrers", wrong(batchnorm_forward=referrers),
             note="gc.get_referrers from inside the function: the probe's record found and its failure cleared"),
        case("bn-training-closure-visible", wrong(batchnorm_forward=WRONG["batchnorm_forward"] + closure),
             status="hidden code: .__closure__", note="the nonce out of send().__closure__: read as hidden code"),
        case("bn-training-ctypes", wrong(batchnorm_forward="import ctypes\n" + WRONG["batchnorm_forward"]),
             status="hidden code: import of ctypes"),
    ]
