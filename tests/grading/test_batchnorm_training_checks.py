"""The chapter-3 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes (down to N = 2, and N = 1 for images), seeds and eps:
the solution must pass every one, so the checks never fail a correct answer.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from autograder import CheckFailed, batchnorm_training as bt
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

ASSIGNMENT = "03_batchnorm_training"
SOLUTION = learner_namespace(solution_notebook(ASSIGNMENT))
FORWARD, BACKWARD = SOLUTION["batchnorm_forward"], SOLUTION["batchnorm_backward"]
SPATIAL_FORWARD, SPATIAL_BACKWARD = SOLUTION["spatial_batchnorm_forward"], SOLUTION["spatial_batchnorm_backward"]


@settings(max_examples=40, deadline=None)
@given(case=strategies.batchnorm_cases())
def test_solution_passes_forward_and_backward_checks(case):
    bt.check_batchnorm_forward(FORWARD, **case)
    bt.check_batchnorm_backward(FORWARD, BACKWARD, **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.spatial_batchnorm_cases())
def test_solution_passes_spatial_checks(case):
    bt.check_spatial_batchnorm_forward(SPATIAL_FORWARD, **case)
    bt.check_spatial_batchnorm_backward(SPATIAL_FORWARD, SPATIAL_BACKWARD, **case)


@settings(max_examples=15, deadline=None)
@given(case=strategies.batchnorm_cases())
def test_solution_passes_the_gradient_check(case):
    case["shape"] = (min(case["shape"][0], 8), case["shape"][1])
    bt.check_gradient_numerically(FORWARD, BACKWARD, max_entries=20, **case)


@settings(max_examples=10, deadline=None)
@given(case=strategies.spatial_batchnorm_cases())
def test_solution_passes_the_spatial_gradient_check(case):
    bt.check_gradient_numerically(SPATIAL_FORWARD, SPATIAL_BACKWARD, max_entries=20, **case)


def test_reference_is_pytorch_with_the_biased_variance():
    x = np.array([[4.0], [5.0], [6.0]])
    result = bt.reference(x, np.ones(1), np.zeros(1), np.ones_like(x))
    np.testing.assert_allclose(result.out.ravel(), [-np.sqrt(1.5), 0.0, np.sqrt(1.5)], atol=1e-4)
    x, gamma, beta, dout = bt.make_inputs(3, (6, 4))
    right = bt.variant(x, gamma, beta, dout)
    for name in ("out", "dx", "dgamma", "dbeta"):
        np.testing.assert_allclose(getattr(right, name), getattr(bt.reference(x, gamma, beta, dout), name),
                                   rtol=1e-9, atol=1e-9)


def test_failure_message_names_shape_feature_and_error():
    def off_in_feature_2(x, gamma, beta, eps=1e-5):
        out, cache = FORWARD(x, gamma, beta, eps)
        out[:, 2] += 0.5
        return out, cache

    with pytest.raises(CheckFailed) as failure:
        bt.check_batchnorm_forward(off_in_feature_2, shape=(8, 5))
    message = str(failure.value)
    assert "shape (8, 5)" in message and "Features that differ: 2 (of 5)" in message and "max error 0.5" in message


def test_the_finite_difference_check_catches_an_inconsistent_backward():
    def half_dx(dout, cache):
        dx, dgamma, dbeta = BACKWARD(dout, cache)
        return dx * 0.5, dgamma, dbeta

    half_dx.__name__ = "batchnorm_backward"
    with pytest.raises(CheckFailed, match="gradient check failed: dx"):
        bt.check_gradient_numerically(FORWARD, half_dx)


def test_torch_batch_norm_is_refused_by_any_name_and_left_intact():
    originals = (F.batch_norm, torch.batch_norm, torch.nn.modules.batchnorm._BatchNorm.forward)

    def crashes(x, gamma, beta, eps=1e-5):
        raise ValueError("boom")

    def cheats(x, gamma, beta, eps=1e-5):
        try:  # swallowing an exception does not help: the probe notes the operators that ran
            return F.batch_norm(torch.as_tensor(x), None, None, training=True).numpy(), None
        except Exception:
            return FORWARD(x, gamma, beta, eps)

    def through_vf(x, gamma, beta, eps=1e-5):
        t = torch.as_tensor
        return torch._VF.batch_norm(t(x), t(gamma), t(beta), None, None, True, 0.1, eps, False).numpy(), None

    def through_aten(x, gamma, beta, eps=1e-5):
        t = torch.as_tensor
        return torch.ops.aten.native_batch_norm(t(x), t(gamma), t(beta), None, None, True, 0.1, eps)[0].numpy(), None

    def through_module(x, gamma, beta, eps=1e-5):
        layer = torch.nn.BatchNorm1d(x.shape[1], eps=eps).double()
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(gamma))
            layer.bias.copy_(torch.as_tensor(beta))
            return layer(torch.as_tensor(x)).numpy(), None

    with pytest.raises(CheckFailed, match="raised ValueError: boom"):
        bt.check_batchnorm_forward(crashes)
    for cheat in (cheats, through_vf, through_aten, through_module):
        with pytest.raises(CheckFailed, match="library's own implementation"):
            bt.check_batchnorm_forward(cheat)
    with pytest.raises(CheckFailed, match="library's own implementation"):
        bt.check_batchnorm_backward(through_aten, BACKWARD)
    with pytest.raises(CheckFailed, match="library's own implementation"):
        bt.check_gradient_numerically(through_vf, BACKWARD, max_entries=2)
    assert (F.batch_norm, torch.batch_norm, torch.nn.modules.batchnorm._BatchNorm.forward) == originals
    assert "forward" not in vars(torch.nn.BatchNorm1d)
    layer = torch.nn.BatchNorm1d(3)
    assert layer(torch.randn(4, 3)).shape == (4, 3)


def test_torch_imported_by_the_learners_code_is_observed_too():
    """The notebook does not load torch; a forward that imports it itself is still caught (a fresh interpreter)."""
    code = textwrap.dedent("""
        import sys
        from autograder import CheckFailed, batchnorm_training as bt
        assert "torch" not in sys.modules

        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            import torch
            t = torch.as_tensor
            return torch.nn.functional.batch_norm(t(x), None, None, t(gamma), t(beta), training=True, eps=eps).numpy(), None

        try:
            bt.check_batchnorm_forward(batchnorm_forward)
        except CheckFailed as failure:
            print(failure)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert "library's own implementation" in done.stdout, done.stdout + done.stderr


def test_probe_and_verdict_agree_through_the_encoding():
    """What the class grader does: the probe's record as data, then the verdict, for a few seeds."""
    from autograder.probe import decode, encode

    calls = [(bt.check_batchnorm_forward, (FORWARD,), {"shape": (7, 3)}),
             (bt.check_spatial_batchnorm_forward, (SPATIAL_FORWARD,), {"shape": (2, 3, 2, 2), "eps": 1e-3}),
             (bt.check_batchnorm_backward, (FORWARD, BACKWARD), {"shape": (5, 4)}),
             (bt.check_spatial_batchnorm_backward, (SPATIAL_FORWARD, SPATIAL_BACKWARD), {"shape": (3, 2, 2, 1)}),
             (bt.check_gradient_numerically, (FORWARD, BACKWARD), {"shape": (4, 3), "max_entries": 6}),
             (bt.check_gradient_numerically, (SPATIAL_FORWARD, SPATIAL_BACKWARD), {"shape": (2, 2, 2, 1)})]
    for seed in (0, 7, 2**31 - 2):
        for chk, learners, params in calls:
            params = dict(params, seed=seed)
            record = chk.run_probe(learners, params)
            assert record.failure is None
            chk.run_verdict(decode(encode(record)), params)


def test_not_implemented_is_reported_as_such():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        bt.check_batchnorm_forward(stub)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        bt.check_batchnorm_backward(FORWARD, stub)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        bt.check_gradient_numerically(stub, stub)


@pytest.mark.parametrize("returned", [None, object(), (1, 2, 3), "text"])
def test_malformed_results_are_rejected(returned):
    with pytest.raises(CheckFailed):
        bt.check_batchnorm_forward(lambda x, gamma, beta, eps=1e-5: returned)
    with pytest.raises(CheckFailed):
        bt.check_batchnorm_backward(FORWARD, lambda dout, cache: returned)
