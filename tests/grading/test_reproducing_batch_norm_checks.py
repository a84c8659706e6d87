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
from tests.grading.notebook_code import learner_namespace, nbgrader_meta, solution_notebook

SOLUTION = learner_namespace(solution_notebook("08_reproducing_batch_norm"))
SOLUTION_SOURCE = {nbgrader_meta(c).get("grade_id"): c.source for c in solution_notebook("08_reproducing_batch_norm").cells}


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
    """A 'BatchNorm' that does nothing: both networks are the baseline, so neither finding can show; and the runs
    are not the recipe's, which the check says first (its verdict never rests on a wrong run's luck)."""
    class Identity(torch.nn.Module):
        def __init__(self, num_features):
            super().__init__()

        def forward(self, x):
            return x

    with pytest.raises(CheckFailed, match="judged on runs of the recipe"):
        rb.check_experiment_outcome(SOLUTION["run_experiment"], Identity)


def test_findings_fail_when_the_networks_do_not_differ():
    X_train, y_train, X_test, y_test = rb.make_data(0, 600, 300, 64)
    run = rb.reference_run(X_train, y_train, X_test, y_test, steps=160, record_every=20, lr=1.0, std=0.3, seed=0)
    curves = {"steps": run["steps"].numpy(),
              "baseline": {k: run["baseline"][k].numpy() for k in rb.CURVES}}
    curves["batchnorm"] = curves["baseline"]
    assert len(rb.findings(curves)) == 2


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
    """Each named recipe mistake changes the curves, so its hint can only be given to code that makes it: a continuous
    one (the eval-mode percentiles or the training network's) unless the mistake is about the accuracy alone."""
    data = rb.make_data(0, 300, 120, 64, test_flip=rb.TEST_FLIP)
    settings = dict(steps=40, record_every=10, lr=0.5, std=0.1, seed=0)
    expected = rb.reference_run(*data, **settings)
    accuracy_only = {"training_batch", "training_batch_eval", "accuracy_in_train_mode", "accuracy_on_training_data"}
    for mistake in rb.RUN_MISTAKES:
        wrong = rb.reference_run(*data, mistake=mistake, **settings)
        keys = rb.CURVES if mistake in accuracy_only else ("percentiles", "percentiles_eval")
        assert any(not torch.allclose(wrong[name][key], expected[name][key], rtol=1e-5, atol=1e-7)
                   for name in ("baseline", "batchnorm") for key in keys), mistake


def test_each_batch_norm_mistake_is_told_apart():
    """The simulated wrong BatchNorm1d modules differ from torch's and from each other on the probe's batches."""
    reference = rb._bn_simulate()
    seen = []
    for mistake, _, flags, _ in rb.BN_MISTAKES():
        facts = rb._bn_simulate(**flags)
        key = tuple(None if facts[k] is None else tuple(facts[k].reshape(-1).tolist()) for k in rb.BN_WHAT())
        assert any(not (facts[k] is None and reference[k] is None) and (facts[k] is None or reference[k] is None
                   or not torch.allclose(facts[k], reference[k])) for k in rb.BN_WHAT()), mistake
        assert key not in seen, mistake
        seen.append(key)


# ---------------------------------------------------------------- other correct answers pass, and are told nothing

def _steps_numpy(steps, accuracy, target):
    reached = np.flatnonzero(np.asarray(accuracy) >= target)
    return int(np.asarray(steps)[reached[0]]) if len(reached) else None


def _steps_tensor(steps, accuracy, target):
    mask = torch.as_tensor(accuracy) >= target
    return int(torch.as_tensor(steps)[mask][0]) if bool(mask.any()) else None


def _percentiles_numpy(model, x, q=(15, 50, 85)):
    sigmoid = [m for m in model.modules() if isinstance(m, torch.nn.Sigmoid)][-1]
    seen = []
    handle = sigmoid.register_forward_hook(lambda module, args, out: seen.append(args[0].detach()))
    try:
        with torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return torch.from_numpy(np.percentile(seen[-1].numpy(), q, axis=0))


@pytest.mark.parametrize("steps_to_accuracy", [_steps_numpy, _steps_tensor])
def test_other_correct_steps_to_accuracy_pass(steps_to_accuracy):
    for seed in range(30):
        rb.check_steps_to_accuracy(steps_to_accuracy, seed=seed)
        rb.check_steps_to_accuracy(steps_to_accuracy, seed=seed, records=5, plateau=True)
        rb.check_steps_to_accuracy(steps_to_accuracy, seed=seed, records=3, every=7)


def test_other_correct_percentiles_pass():
    for seed in range(5):
        rb.check_sigmoid_input_percentiles(_percentiles_numpy, seed=seed, normalized=bool(seed % 2))
        rb.check_sigmoid_input_percentiles(_percentiles_numpy, seed=seed, q=(5, 50, 95), mode="train")


def test_run_experiment_measured_in_another_order_passes():
    """The training network's copy first, then the accuracy and the eval-mode percentiles: the same numbers."""
    source = SOLUTION_SOURCE["run_experiment"].replace(
        "                percentiles_eval.append(sigmoid_input_percentiles(model, X_test))\n"
        "                percentiles.append(sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test))\n", "")
    source = source.replace(
        "            if step % record_every == 0:\n                model.eval()\n",
        "            if step % record_every == 0:\n"
        "                percentiles.append(sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test))\n"
        "                model.eval()\n"
        "                percentiles_eval.append(sigmoid_input_percentiles(model, X_test))\n")
    assert source != SOLUTION_SOURCE["run_experiment"]
    namespace = dict(SOLUTION)
    exec(source, namespace)
    rb.check_run_experiment(namespace["run_experiment"], SOLUTION["BatchNorm1d"])


def test_steps_to_accuracy_check_names_the_first_reaching_step():
    def last_reaching(steps, accuracy, target):
        reached = [int(s) for s, a in zip(steps, accuracy) if a >= target]
        return reached[-1] if reached else None

    with pytest.raises(CheckFailed, match="the first recorded step"):
        rb.check_steps_to_accuracy(last_reaching, seed=3, records=12, target=0.5)


def test_band_drift_is_max_minus_min_over_time():
    history = np.array([[[0.0, 1.0]], [[2.0, 0.0]], [[1.0, 3.0]]])  # (T=3, Q=1, H=2)
    assert rb.band_drift(history) == pytest.approx((2.0 + 3.0) / 2)
