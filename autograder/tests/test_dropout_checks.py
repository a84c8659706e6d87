"""The dropout checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes, seeds, rates and dtypes: the solution must pass every
one, so the statistical checks never fail a correct answer on some input (their
bounds are two-sided binomial intervals at the 1e-6 level).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from autograder import CheckFailed, dropout
from autograder.tests import strategies
from autograder.tests.notebook_code import learner_namespace, solution_notebook

SOLUTION = learner_namespace(solution_notebook("06_dropout"))


@settings(max_examples=40, deadline=None)
@given(case=strategies.dropout_cases())
def test_solution_passes_forward_check(case):
    dropout.check_dropout_forward(SOLUTION["dropout_forward"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.dropout_cases())
def test_solution_passes_backward_check(case):
    dropout.check_dropout_backward(SOLUTION["dropout_backward"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.dropout_cases(with_edges=False))
def test_solution_passes_vanilla_check(case):
    dropout.check_vanilla_dropout(SOLUTION["vanilla_dropout_forward"], **case)


@settings(max_examples=30, deadline=None)
@given(case=strategies.dropout_cases())
def test_solution_passes_module_check(case):
    dropout.check_dropout_module(SOLUTION["Dropout"], **case)


@settings(max_examples=20, deadline=None)
@given(case=strategies.dropout_cases(with_edges=False))
def test_solution_passes_eval_and_edge_checks(case):
    dropout.check_dropout_eval(SOLUTION["dropout_forward"], **case)
    dropout.check_dropout_edge_cases(SOLUTION["dropout_forward"], seed=case["seed"], shape=case["shape"])
    dropout.check_dropout_module_edge_cases(SOLUTION["Dropout"], seed=case["seed"], shape=case["shape"])


def test_torch_scale_is_one_over_keep_probability():
    for p in (0.0, 0.1, 0.5, 0.9):
        assert dropout.torch_keep_scale(p) == pytest.approx(1 / (1 - p), rel=1e-12)
    assert dropout.torch_keep_scale(1.0) == 0.0


def test_binomial_interval_has_the_stated_confidence():
    lo, hi = dropout.dropped_interval(10_000, 0.2)
    assert lo < 2000 < hi and hi - lo < 500
    assert dropout.dropped_interval(50, 0.0) == (0, 0) and dropout.dropped_interval(50, 1.0) == (50, 50)


def test_failure_message_names_counts_and_bound():
    def drops_too_much(x, p, train=True, rng=None):
        return SOLUTION["dropout_forward"](x, min(1.0, p + 0.2), train, rng)

    with pytest.raises(CheckFailed) as failure:
        dropout.check_dropout_forward(drops_too_much, p=0.2)
    message = str(failure.value)
    assert "Binomial(10000, 0.2)" in message and "probability 1 - 1e-06" in message and "torch.nn.functional.dropout dropped" in message


def test_not_implemented_is_reported_as_such():
    def stub(x, p, train=True, rng=None):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        dropout.check_dropout_forward(stub)

    class Stub(torch.nn.Module):
        def __init__(self, p=0.5):
            super().__init__()
            raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        dropout.check_dropout_module(Stub)


@pytest.mark.parametrize("returned", [None, object(), "text", (np.zeros(3),)])
def test_non_tuple_results_are_rejected(returned):
    with pytest.raises(CheckFailed):
        dropout.check_dropout_forward(lambda x, p, train=True, rng=None: returned)
