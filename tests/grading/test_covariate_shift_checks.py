"""The chapter 2 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies models, modes, shapes, seeds and dtypes: the solution must pass
every one, so the checks never fail a correct answer on some input.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from torch import nn

from autograder import CheckFailed, covariate_shift
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

SOLUTION = learner_namespace(solution_notebook("02_covariate_shift"))


@settings(max_examples=40, deadline=None)
@given(case=strategies.preactivation_cases())
def test_solution_passes_record_preactivations_check(case):
    covariate_shift.check_record_preactivations(SOLUTION["record_preactivations"], **case)


@settings(max_examples=60, deadline=None)
@given(case=strategies.percentile_cases())
def test_solution_passes_activation_percentiles_check(case):
    covariate_shift.check_activation_percentiles(SOLUTION["activation_percentiles"], **case)


@settings(max_examples=60, deadline=None)
@given(case=strategies.drift_cases())
def test_solution_passes_percentile_drift_check(case):
    covariate_shift.check_percentile_drift(SOLUTION["percentile_drift"], **case)


def test_explicit_forward_agrees_with_the_model():
    """The reference itself: the last recorded Linear output is the model's output."""
    for nested in (False, True):
        model = covariate_shift.make_probe_model(3, (6, 5, 4, 3), batchnorm=True, nested=nested)
        x = torch.randn(7, 6)
        found = covariate_shift.explicit_forward(model, x, (nn.Linear,))
        with torch.no_grad():
            torch.testing.assert_close(found["outputs"][-1], model(x))
        assert len(found["outputs"]) == 3 and len(found["after_activation"]) == 2


def test_failure_message_names_element_and_error():
    def off_in_layer_1(model, x, layer_types=(nn.Linear,)):
        out = SOLUTION["record_preactivations"](model, x, layer_types)
        out[1][:, 3] += 0.5
        return out

    with pytest.raises(CheckFailed) as failure:
        covariate_shift.check_record_preactivations(off_in_layer_1)
    message = str(failure.value)
    assert "element 1 of" in message and "Features that differ: 3" in message and "max error 0.5" in message


def test_global_hooks_are_reported_and_cleaned_up():
    def global_hook(model, x, layer_types=(nn.Linear,)):
        recorded = []
        nn.modules.module.register_module_forward_hook(
            lambda m, a, out: recorded.append(out.detach().clone()) if isinstance(m, layer_types) else None)
        with torch.no_grad():
            model(x)
        return recorded

    with pytest.raises(CheckFailed, match="global module hook"):
        covariate_shift.check_record_preactivations(global_hook)
    assert not covariate_shift._global_hooks()


def test_not_implemented_is_reported_as_such():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (covariate_shift.check_record_preactivations, covariate_shift.check_activation_percentiles,
                  covariate_shift.check_percentile_drift):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


@pytest.mark.parametrize("returned", [None, "text", {"a": 1}, torch.zeros(3)])
def test_non_list_results_are_rejected(returned):
    with pytest.raises(CheckFailed):
        covariate_shift.check_record_preactivations(lambda model, x, layer_types=(nn.Linear,): returned)


def test_probe_and_verdict_agree_through_the_encoding():
    """What the class grader does: the probe's record as data, then the verdict, for a few seeds."""
    from autograder.probe import decode, encode

    calls = [(covariate_shift.check_record_preactivations, "record_preactivations",
              {"batchnorm": True, "mode": "eval", "layer_types": (nn.Linear, nn.BatchNorm1d), "nested": True}),
             (covariate_shift.check_record_preactivations, "record_preactivations",
              {"activation": "relu", "inplace": True, "dtype": torch.float64}),
             (covariate_shift.check_activation_percentiles, "activation_percentiles", {"q": (0, 37.5, 100)}),
             (covariate_shift.check_percentile_drift, "percentile_drift", {"steps": 5})]
    for seed in (0, 7, 2**31 - 2):
        for chk, name, params in calls:
            params = dict(params, seed=seed)
            record = chk.run_probe((SOLUTION[name],), params)
            assert record.failure is None
            chk.run_verdict(decode(encode(record)), params)


def test_the_model_state_left_behind_is_recorded_as_data():
    """Hooks left on modules, the mode afterwards and x afterwards travel in the record, not as objects."""
    def leaves_a_hook_and_switches_mode(model, x, layer_types=(nn.Linear,)):
        out = SOLUTION["record_preactivations"](model, x, layer_types)
        model[0].register_forward_hook(lambda *args: None)
        model.eval()
        return out

    chk = covariate_shift.check_record_preactivations
    record = chk.run_probe((leaves_a_hook_and_switches_mode,), {})
    assert record["hooks_left"] == ["0 (Linear): 1"] and record["global_hooks_left"] == 0
    assert record["modes_after"] == [False] * len(record["modes_after"])
    with pytest.raises(CheckFailed, match="left hooks registered"):
        chk.run_verdict(record, {})


def _by_course_helpers():
    """The three graded functions answered with normreg.monitoring, the helpers the book's figures use."""
    from normreg import monitoring

    def record_preactivations(model, x, layer_types=(nn.Linear,)):
        return monitoring.record_outputs(model, x, layer_types)

    def activation_percentiles(values, q=(15, 50, 85)):
        return monitoring.unit_percentiles(values, q)

    return {"record_preactivations": (record_preactivations, covariate_shift.check_record_preactivations),
            "activation_percentiles": (activation_percentiles, covariate_shift.check_activation_percentiles),
            "percentile_drift": (monitoring.band_width, covariate_shift.check_percentile_drift)}


@pytest.mark.parametrize("name", ["record_preactivations", "activation_percentiles", "percentile_drift"])
def test_the_course_helpers_are_refused_in_every_grading_path(name):
    """normreg.monitoring computes all three (it draws the book's figures) and is importable in a learner's
    Jupyter and under plain nbgrader: the probe sees its functions run (the ``code`` rule) and the check
    refuses them, by any name. (The class grader's sandbox does not hold normreg at all.)"""
    from autograder.probe import ForbiddenReference

    answer, run_check = _by_course_helpers()[name]
    with pytest.raises(ForbiddenReference, match=r"course's own implementation \(normreg\.monitoring\."):
        run_check(answer)
    run_check(SOLUTION[name])  # and the learner's own code still passes right after
