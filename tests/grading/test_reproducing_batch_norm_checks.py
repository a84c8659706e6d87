"""The chapter-8 checks called directly on the solution's functions (fast, no kernel).

Hypothesis varies models, modes, percentiles, curves, network sizes and short experiments: the
solution must pass every one, so the checks never fail a correct answer on some input. The
mutants (one per mistake the checks name) are graded by test_grade_cells_in_process.py and
test_grading.py; here the checks' own claims are tested: the outcome check's failure rate, the
refusal of PyTorch's batch norm, the reference against PyTorch's own training loop.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from autograder import CheckFailed, reproducing_batch_norm as rb
from autograder.probe import ForbiddenReference
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

SOLUTION = learner_namespace(solution_notebook("08_reproducing_batch_norm"))


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/grading/conftest.py


@settings(max_examples=40, deadline=None)
@given(case=strategies.sigmoid_percentile_cases())
def test_solution_passes_sigmoid_input_percentiles_check(case):
    rb.check_sigmoid_input_percentiles(SOLUTION["sigmoid_input_percentiles"], **case)


@settings(max_examples=60, deadline=None)
@given(case=strategies.steps_to_accuracy_cases())
def test_solution_passes_steps_to_accuracy_check(case):
    rb.check_steps_to_accuracy(SOLUTION["steps_to_accuracy"], **case)


@settings(max_examples=15, deadline=None)
@given(case=strategies.paper_network_cases())
def test_solution_passes_paper_network_check(case):
    rb.check_paper_network(SOLUTION["paper_network"], SOLUTION["BatchNorm1d"], **case)


@settings(max_examples=8, deadline=None)
@given(case=strategies.run_experiment_cases())
def test_solution_passes_run_experiment_check(case):
    """float64 keeps the learner's BatchNorm1d and torch's within the check's tolerance, whatever the settings."""
    rb.check_run_experiment(SOLUTION["run_experiment"], SOLUTION["BatchNorm1d"], **case)


@settings(max_examples=2, deadline=None)
@given(seed=st.integers(0, 2**31 - 10))
def test_solution_passes_outcome_check_for_fresh_seeds(seed):
    """The class grader replaces every seed by a fresh one: the stated bound must hold for any of them."""
    rb.check_experiment_outcome(SOLUTION["run_experiment"], SOLUTION["BatchNorm1d"], seed=seed)


def test_outcome_check_fails_an_experiment_without_the_findings():
    """A 'BatchNorm' that does nothing: both networks are the baseline, so neither finding can show."""
    class Identity(torch.nn.Module):
        def __init__(self, num_features):
            super().__init__()

        def forward(self, x):
            return x

    with pytest.raises(CheckFailed, match="does not show the paper's findings in 3 of 3 runs"):
        rb.check_experiment_outcome(SOLUTION["run_experiment"], Identity)


def test_torch_batch_norm_in_the_network_is_refused():
    """A network built with torch.nn.BatchNorm1d (ignoring the learner's class) computes the right curves but is refused."""
    def run_with_torch_bn(BatchNorm, *args, **kwargs):
        return SOLUTION["run_experiment"](torch.nn.BatchNorm1d, *args, **kwargs)

    with pytest.raises(ForbiddenReference, match="library's own implementation"):
        rb.check_run_experiment(run_with_torch_bn, SOLUTION["BatchNorm1d"], steps=4, record_every=2)


def test_reference_run_matches_a_plain_pytorch_loop():
    """The reference recipe against the same loop written out with torch's BatchNorm1d (the page's way)."""
    X_train, y_train, X_test, y_test = rb.make_data(5, 200, 50, 16)
    expected = rb.reference_run(X_train, y_train, X_test, y_test, steps=12, record_every=4, lr=0.5, std=0.3, seed=5,
                                hidden=8)
    result = SOLUTION["run_experiment"](torch.nn.BatchNorm1d, X_train, y_train, X_test, y_test, steps=12,
                                        record_every=4, lr=0.5, std=0.3, seed=5, hidden=8)
    for name in ("baseline", "batchnorm"):
        for key in ("accuracy", "percentiles"):
            torch.testing.assert_close(result[name][key], expected[name][key], rtol=0, atol=0)


def test_mistake_runs_differ_from_the_reference():
    """Each named mistake changes the curves, so its hint can only be given to code that makes it."""
    data = rb.make_data(0, 300, 120, 64)
    settings = dict(steps=40, record_every=10, lr=0.5, std=0.1, seed=0)
    expected = rb.reference_run(*data, **settings)
    for _, mistake in rb.MISTAKE_RUNS:
        wrong = rb.reference_run(*data, mistake=mistake, **settings)
        assert any(not torch.allclose(wrong[name][key], expected[name][key])
                   for name in ("baseline", "batchnorm") for key in ("accuracy", "percentiles")), mistake


def test_steps_to_accuracy_check_names_the_first_reaching_step():
    def last_reaching(steps, accuracy, target):
        reached = [int(s) for s, a in zip(steps, accuracy) if a >= target]
        return reached[-1] if reached else None

    with pytest.raises(CheckFailed, match="the first recorded step"):
        rb.check_steps_to_accuracy(last_reaching, seed=3, records=12, target=0.5)


def test_band_drift_is_max_minus_min_over_time():
    history = np.array([[[0.0, 1.0]], [[2.0, 0.0]], [[1.0, 3.0]]])  # (T=3, Q=1, H=2)
    assert rb.band_drift(history) == pytest.approx((2.0 + 3.0) / 2)
