"""The checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes, seeds, dtypes and ranges: the solution must pass
every one, so the checks never fail a correct answer on some input.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings

from autograder import CheckFailed, normalization
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

SOLUTION = learner_namespace(solution_notebook("01_normalization"))


@settings(max_examples=60, deadline=None)
@given(case=strategies.scaling_cases())
def test_solution_passes_min_max_check(case):
    normalization.check_min_max_scale(SOLUTION["min_max_scale"], **case)


@settings(max_examples=60, deadline=None)
@given(case=strategies.scaling_cases(with_range=False))
def test_solution_passes_z_score_fit_check(case):
    normalization.check_z_score_fit(SOLUTION["z_score_fit"], **case)


@settings(max_examples=60, deadline=None)
@given(case=strategies.pipeline_cases())
def test_solution_passes_z_score_pipeline_check(case):
    normalization.check_z_score_pipeline(SOLUTION["z_score_fit"], SOLUTION["z_score_transform"], **case)


def test_failure_message_names_shape_feature_and_error():
    def off_in_feature_2(x, feature_range=(0.0, 1.0)):
        out = SOLUTION["min_max_scale"](x, feature_range)
        out[:, 2] += 0.5
        return out

    with pytest.raises(CheckFailed) as failure:
        normalization.check_min_max_scale(off_in_feature_2, shape=(12, 5))
    message = str(failure.value)
    assert "shape (12, 5)" in message and "Features that differ: 2 (of 5)" in message and "max error 0.5" in message


def test_not_implemented_is_reported_as_such():
    def stub(x, feature_range=(0.0, 1.0)):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        normalization.check_min_max_scale(stub)


@pytest.mark.parametrize("returned", [object(), "text", {"a": 1}])
def test_non_array_results_are_rejected(returned):
    with pytest.raises(CheckFailed):
        normalization.check_min_max_scale(lambda x, feature_range=(0.0, 1.0): returned)
