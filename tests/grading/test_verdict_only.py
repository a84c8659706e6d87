"""The checks' own reference-like helpers (``forbidden.verdict_only``) answer nothing: a learner's function that
runs one is refused on every path, as the library's implementation is.

A check module holds what its verdict compares with; some of it, with every mistake switched off, is an answer
(``weight_decay._adam_like()`` is Adam). These tests import them as a learner could in their own Jupyter and
check that the check refuses the answer built on them, while the solutions pass
(``test_grade_cells_in_process.py``).
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from autograder import batchnorm_training, covariate_shift, forbidden, reproducing_batch_norm, weight_decay
from autograder.probe import ForbiddenReference
from tests.grading.notebook_code import learner_namespace, solution_notebook

REFUSED = r"course's own implementation \(autograder\."


def test_marked_helpers_are_registered_and_what_they_return_is_marked():
    for helper in (weight_decay._sgd_like, weight_decay._adam_like, batchnorm_training.variant,
                   reproducing_batch_norm.reference_run, reproducing_batch_norm.reference_network,
                   covariate_shift.explicit_forward):
        assert helper.__wrapped__.__code__ in forbidden.VERDICT_ONLY, helper.__name__
    step = weight_decay._adam_like()
    assert step.__wrapped__.__code__ in forbidden.VERDICT_ONLY   # the step it returns
    assert weight_decay._sgd_inputs.__code__ not in forbidden.VERDICT_ONLY  # what a probe hands over is not marked


def test_adam_from_the_checks_own_helper_is_refused():
    adam_step = weight_decay._adam_like()  # with every mistake off: torch.optim.Adam's step
    with pytest.raises(ForbiddenReference, match=REFUSED):
        weight_decay.check_adam_step(adam_step)


def test_sgd_wrapped_in_the_learners_own_function_is_refused():
    def sgd_step(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        helper = weight_decay_module._sgd_like()
        return helper(param, grad, state, lr, momentum=momentum, weight_decay=weight_decay)

    weight_decay_module = weight_decay
    with pytest.raises(ForbiddenReference, match=REFUSED):
        weight_decay.check_sgd_step(sgd_step, momentum=0.9, weight_decay=0.1)


def test_batchnorm_forward_from_the_variant_helper_is_refused():
    def batchnorm_forward(x, gamma, beta, eps=1e-5):
        dout = np.zeros_like(x)
        return batchnorm_training.variant(x, gamma, beta, dout, eps).out, None

    with pytest.raises(ForbiddenReference, match=REFUSED):
        batchnorm_training.check_batchnorm_forward(batchnorm_forward)


def test_paper_network_from_the_reference_network_is_refused():
    BatchNorm1d = learner_namespace(solution_notebook("08_reproducing_batch_norm"))["BatchNorm1d"]

    def paper_network(BatchNorm, batchnorm, in_features, std, seed, hidden=100, classes=10):
        return reproducing_batch_norm.reference_network(batchnorm, in_features, std, seed, hidden=hidden,
                                                        classes=classes, BatchNorm=BatchNorm)

    with pytest.raises(ForbiddenReference, match=REFUSED):
        reproducing_batch_norm.check_paper_network(paper_network, BatchNorm1d)


def test_preactivations_from_the_explicit_forward_are_refused():
    def record_preactivations(model, x, layer_types=(nn.Linear,)):
        return covariate_shift.explicit_forward(model, x, layer_types)["outputs"]

    with pytest.raises(ForbiddenReference, match=REFUSED):
        covariate_shift.check_record_preactivations(record_preactivations)


def test_a_correct_answer_next_to_the_helpers_passes():
    """The watch refuses running the helpers, not importing the module: the grade cells import it."""
    def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        t = state.get("step", 0) + 1
        g = grad + weight_decay * param
        m = betas[0] * state.get("m", np.zeros_like(param)) + (1 - betas[0]) * g
        v = betas[1] * state.get("v", np.zeros_like(param)) + (1 - betas[1]) * g * g
        state.update(step=t, m=m, v=v)
        return param - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)

    weight_decay.check_adam_step(adam_step)
    torch.manual_seed(0)
