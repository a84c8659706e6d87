"""Forbidden kernels refuse inside a sandbox job, by every route; the learner's other torch code runs.

The class grader's runner makes every aten operator that an exercise's ``ops`` rule names refuse
(``forbidden.refuse_kernels``) before any learner code runs, so no name, thread, torch function mode
or ``DisableTorchFunction`` reaches them; and a library the exercise's grading lacks imports as a
stand-in, as it imports in the learner's Jupyter (``forbidden.stand_in_for_absent``).
"""
from __future__ import annotations

import json
import secrets

import pytest

from autograder import forbidden
from grader import sandbox
from tests.grading.grade_helpers import require_bwrap

ROUTES = {
    "F.dropout": "F.dropout(x, 0.5, True)",
    "F.dropout eval": "F.dropout(x, 0.5, False)",
    "torch.dropout": "torch.dropout(x, 0.5, True)",
    "torch._VF.dropout": "torch._VF.dropout(x, 0.5, True)",
    "aten.dropout": "torch.ops.aten.dropout(x, 0.5, True)",
    "aten.native_dropout": "torch.ops.aten.native_dropout(x, 0.5, True)",
    "nn.Dropout": "torch.nn.Dropout()(x)",
    "F.alpha_dropout": "F.alpha_dropout(x, 0.5, True)",
    "F.dropout2d": "F.dropout2d(torch.ones(2, 3, 4, 4), 0.5, True)",
    "F.batch_norm": "F.batch_norm(x, None, None, training=True)",
    "torch.batch_norm": "torch.batch_norm(x, None, None, None, None, True, 0.1, 1e-5, False)",
    "aten.native_batch_norm": "torch.ops.aten.native_batch_norm(x, None, None, None, None, True, 0.1, 1e-5)",
    "aten._native_batch_norm_legit": "torch.ops.aten._native_batch_norm_legit.no_stats(x, None, None, True, 0.1, 1e-5)",
    "aten._native_batch_norm_legit_no_training": (
        "torch.ops.aten._native_batch_norm_legit_no_training(x, None, None, torch.zeros(3), torch.ones(3), 0.1, 1e-5)"),
    "nn.BatchNorm1d": "torch.nn.BatchNorm1d(3)(x)",
    "nn.BatchNorm1d eval": "torch.nn.BatchNorm1d(3).eval()(x)",
    "F.instance_norm": "F.instance_norm(torch.ones(2, 3, 4))",
    # batch norm on a rearranged batch: one group per channel, or a layer/RMS norm over the transposed batch
    "F.group_norm": "F.group_norm(x.t().reshape(1, 3, 4), 3)",
    "nn.GroupNorm": "torch.nn.GroupNorm(3, 3)(x.t().reshape(1, 3, 4))",
    "F.layer_norm": "F.layer_norm(x.t(), (4,))",
    "nn.LayerNorm": "torch.nn.LayerNorm(4)(x.t())",
    "F.rms_norm": "F.rms_norm(x.t() - x.t().mean(1, keepdim=True), (4,))",
    "fuse_linear_bn_eval": "torch.nn.utils.fuse_linear_bn_eval(torch.nn.Linear(3, 3).eval(), torch.nn.BatchNorm1d(3).eval())",
    "fusion module": "torch.nn.utils.fusion.fuse_linear_bn_weights",
    "with grad": "F.batch_norm(x.clone().requires_grad_(), None, None, training=True)",
    "inference_mode": "(lambda: [torch.inference_mode().__enter__(), F.dropout(x, 0.5, True)])()",
    "DisableTorchFunction": "(lambda: [torch._C.DisableTorchFunction().__enter__(), torch.nn.BatchNorm1d(3)(x)])()",
    "thread": "_thread_run(lambda: F.dropout(x, 0.5, True))",
}
ALLOWED = {"linear": "torch.nn.Linear(3, 2)(x).sum().backward()", "mul": "x * 2",
           "bernoulli": "torch.bernoulli(torch.full((3,), 0.5))", "normalize": "F.normalize(x, dim=0)",
           "rsqrt": "torch.rsqrt(x.abs() + 1)", "mean/var": "(x - x.mean(0)) / (x.var(0, unbiased=False) + 1e-5).sqrt()"}

TRY = r'''
import json, threading
import torch
import torch.nn.functional as F
x = torch.randn(4, 3)
def _thread_run(f):
    box = []
    def run():
        try:
            box.append(f())
        except BaseException as error:
            box.append(error)
    t = threading.Thread(target=run); t.start(); t.join()
    if isinstance(box[0], BaseException):
        raise box[0]
    return box[0]
results = {}
for name, code in ROUTES.items():
    try:
        value = eval(code)
        if callable(value):
            value(torch.ones(3, 3), torch.ones(3), torch.zeros(3), torch.ones(3), torch.zeros(3))
        results[name] = "ran"
    except Exception as error:
        results[name] = type(error).__name__ + ": " + str(error)[:80]
print(json.dumps(results))
'''


def _job(check: str, *sources: str) -> dict:
    cells = [{"i": i, "source": s} for i, s in enumerate(sources)]
    # a probe cell names the exercise's checks: the runner refuses their kernels before the first cell
    cells.insert(0, {"i": 99, "probes": [{"check": check, "learners": ["nothing_here"], "params": {}}]})
    # below_audit_hook: the routes are tried with eval, as a notebook that got past the reading and the audit hook
    # would (grader/audit.py refuses eval itself: tests/grading/test_audit_hook.py)
    return {"nonce": secrets.token_hex(8), "files": {}, "cells": cells, "below_audit_hook": True}


def _run(warm, job) -> dict:
    run = warm.run(job, len(job["cells"]))
    assert run.done and not run.failure, (run.failure, run.detail)
    outputs = run.cells[max(c["i"] for c in job["cells"] if "source" in c)]["outputs"]
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert text, outputs
    return json.loads(text.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("check, refused", [
    ("autograder.dropout:check_dropout_module", [r for r in ROUTES if "dropout" in r.lower() or r == "thread"
                                                 or r == "inference_mode"]),
    ("autograder.batchnorm_inference:check_batchnorm_init", [r for r in ROUTES if "norm" in r.lower()
                                                               or "fus" in r or r in ("with grad",
                                                                                      "DisableTorchFunction")]),
])
def test_forbidden_kernels_refuse_in_a_job_by_every_route(check, refused):
    require_bwrap()
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=60), [sandbox.REPO], ("numpy", "torch")) as warm:
        results = _run(warm, _job(check, f"ROUTES = {json.dumps({**ROUTES, **ALLOWED})}", TRY))
    for name in refused:
        assert results[name].startswith("KernelRefused"), (name, results[name])
    for name in ALLOWED:
        assert results[name] == "ran", (name, results[name])


PER_EXERCISE = r"""
import gc
import pytest
import torch
import torch.nn.functional as F

from autograder import forbidden
from autograder.dropout import _backward_inputs

x = torch.ones(4, 3)
refused = forbidden.refuse_kernels(["autograder.dropout"])
assert "aten::dropout" in refused and not any("batch_norm" in r for r in refused)
with pytest.raises(forbidden.KernelRefused):
    F.dropout(x, 0.5, True)
F.batch_norm(x, None, None, training=True)  # not this exercise's kernel
inputs = _backward_inputs(seed=3, shape=(5, 4), p=0.3)  # built where dropout refuses: no F.dropout in it
assert inputs["mask"].shape == (5, 4)
with pytest.raises(forbidden.KernelRefused):
    torch.nn.Dropout()(x)
assert "torch:dropout" in forbidden.TRIED
# attack 7 undid the refusal with the registering Library's _destroy(): no Python object holds it now
assert forbidden._REFUSED["library"] is True and not hasattr(forbidden._REFUSED["library"], "_destroy")
assert forbidden.refuse_kernels(["autograder.dropout"]) == []  # registered once, for good
other = torch.library.Library("aten", "IMPL")
other._destroy()
gc.collect()
with pytest.raises(forbidden.KernelRefused):
    F.dropout(x, 0.5, True)
print("held")
"""


def test_refusal_is_per_exercise_for_good_and_the_grader_can_build_its_inputs():
    """In a fresh process (no sandbox; the refusal cannot be undone, so not in this one): the exercise's own
    kernels refuse, others run, the grader's inputs are built, and nothing in Python puts the kernels back."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-c", PER_EXERCISE], capture_output=True, text=True, timeout=300,
                         cwd=str(sandbox.REPO))
    assert run.returncode == 0 and "held" in run.stdout, (run.stdout[-2000:], run.stderr[-4000:])


ONE_RULE = r'''
import numpy as np
import torch
import torch.nn as nn
print(type(torch).__name__, type(nn).__name__)
def min_max_scale(x, feature_range=(0.0, 1.0)):
    low, high = feature_range
    x = np.asarray(x, dtype=float)
    r = x.max(0) - x.min(0)
    r = np.where(r == 0, 1, r)
    return low + (x - x.min(0)) / r * (high - low)
'''


@pytest.mark.slow
def test_a_library_the_grading_lacks_imports_as_a_stand_in_and_the_test_says_so():
    """Exercise 01's sandbox holds NumPy only: ``import torch`` no longer stops the cell (as in the learner's
    Jupyter), and the probe's record carries the message every path gives."""
    from autograder.probe import decode

    require_bwrap()
    job = {"nonce": secrets.token_hex(8), "files": {}, "cells": [
        {"i": 0, "source": ONE_RULE},
        {"i": 1, "probes": [{"check": "autograder.normalization:check_min_max_scale", "learners": ["min_max_scale"],
                             "params": {}}]},
        {"i": 2, "source": "print(callable(min_max_scale))"}]}
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=60), [sandbox.REPO], ("numpy",)) as warm:
        run = warm.run(job, 3)
    assert run.done and not run.failure, (run.failure, run.detail)
    assert "AbsentLibrary AbsentLibrary" in run.cells[0]["outputs"][0]["text"], run.cells[0]["outputs"]
    assert run.cells[2]["outputs"][0]["text"].strip() == "True"  # the cell ran past the import
    record = decode(run.probes[(1, 0)])
    assert "grading provides only NumPy: remove `import torch`" in record.failure, record.failure


def test_the_same_message_in_the_learners_jupyter():
    """Where torch is installed (the learner's Jupyter, plain nbgrader), the check gives the same message."""
    import numpy as np
    import torch

    from autograder.compare import CheckFailed
    from autograder.normalization import check_min_max_scale

    namespace = {"np": np, "torch": torch, "__name__": "__main__"}  # a notebook's namespace, as IPython's
    exec(compile(ONE_RULE.replace("import torch\nimport torch.nn as nn\nprint(type(torch).__name__, "
                                  "type(nn).__name__)\n", ""), "<cell>", "exec"), namespace)
    with pytest.raises(CheckFailed, match="grading provides only NumPy: remove `import torch`"):
        check_min_max_scale(namespace["min_max_scale"])
    del namespace["torch"]
    check_min_max_scale(namespace["min_max_scale"])  # without it, the same function passes


def test_a_watch_left_off_or_a_record_without_its_operators_is_tampering():
    """The second line, on every path: the probe's torch watch found off when the code returns, and a
    record with values but no operator list, are refused with a message that says so."""
    import numpy as np
    import torch

    from autograder.compare import CheckFailed
    from autograder.dropout import check_dropout_backward
    from autograder.probe import OPS_KEY, decode, encode

    left = []

    def leaves_the_watch_off(dout, mask, p):
        left.append(torch._C.DisableTorchFunction())
        left[-1].__enter__()  # not exited before returning
        return np.asarray(dout) * mask / (1 - p)

    try:
        with pytest.raises(CheckFailed, match="tampering: your code switched off"):
            check_dropout_backward(leaves_the_watch_off)
    finally:
        while left:
            left.pop().__exit__(None, None, None)
    assert torch._C._is_torch_function_enabled()

    def honest(dout, mask, p):
        return np.asarray(dout) * mask / (1 - p)

    record = check_dropout_backward.run_probe([honest], {})
    check_dropout_backward.run_verdict(decode(encode(record)), {})
    dict.pop(record, OPS_KEY)
    with pytest.raises(CheckFailed, match="tampering: the record"):
        check_dropout_backward.run_verdict(decode(encode(record)), {})
