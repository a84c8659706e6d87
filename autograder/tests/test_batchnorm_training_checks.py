"""The chapter-3 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes (down to N = 2, and N = 1 for images), seeds and eps:
the solution must pass every one, so the checks never fail a correct answer.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings

from autograder import CheckFailed, batchnorm_training as bt
from autograder.tests import strategies
from autograder.tests.notebook_code import learner_namespace, solution_notebook

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


def test_tripwire_is_removed_afterwards_even_when_the_learner_crashes():
    originals = (F.batch_norm, torch.batch_norm, torch.nn.modules.batchnorm._BatchNorm.forward)

    def crashes(x, gamma, beta, eps=1e-5):
        raise ValueError("boom")

    def cheats(x, gamma, beta, eps=1e-5):
        try:  # swallowing the tripwire's exception does not help
            return F.batch_norm(torch.as_tensor(x), None, None, training=True).numpy(), None
        except Exception:
            return FORWARD(x, gamma, beta, eps)

    with pytest.raises(CheckFailed, match="raised ValueError: boom"):
        bt.check_batchnorm_forward(crashes)
    with pytest.raises(CheckFailed, match="called PyTorch's batch norm"):
        bt.check_batchnorm_forward(cheats)
    assert (F.batch_norm, torch.batch_norm, torch.nn.modules.batchnorm._BatchNorm.forward) == originals
    assert "forward" not in vars(torch.nn.BatchNorm1d)
    layer = torch.nn.BatchNorm1d(3)
    assert layer(torch.randn(4, 3)).shape == (4, 3)


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
