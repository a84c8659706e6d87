"""The chapter-4 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes, seeds, eps and momentum: the solution must pass every
one, so the checks never fail a correct BatchNorm1d on some input. Each mutant
must fail the grade cells it names, with its hint in the message.
"""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from autograder import CheckFailed, batchnorm_inference as bi
from autograder.tests import strategies
from autograder.tests.notebook_code import learner_namespace, solution_notebook

ASSIGNMENT = "04_batchnorm_inference"
SOLUTION_NOTEBOOK = solution_notebook(ASSIGNMENT)
SOLUTION = learner_namespace(SOLUTION_NOTEBOOK)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # Tiny tensors: one thread avoids contention with other processes on shared cores.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@settings(max_examples=40, deadline=None)
@given(case=strategies.bn_module_cases())
def test_solution_passes_training_check(case):
    bi.check_batchnorm_training(SOLUTION["BatchNorm1d"], **case)


@settings(max_examples=30, deadline=None)
@given(case=strategies.bn_module_cases())
def test_solution_passes_running_statistics_check(case):
    bi.check_running_statistics(SOLUTION["BatchNorm1d"], steps=6, **case)


@settings(max_examples=30, deadline=None)
@given(case=strategies.bn_module_cases())
def test_solution_passes_eval_check(case):
    bi.check_eval_mode(SOLUTION["BatchNorm1d"], train_steps=3, **case)


@settings(max_examples=30, deadline=None)
@given(case=strategies.population_statistics_cases())
def test_solution_passes_population_statistics_check(case):
    bi.check_population_statistics(SOLUTION["population_statistics"], **case)


@settings(max_examples=30, deadline=None)
@given(case=strategies.fold_cases())
def test_solution_passes_fold_check(case):
    bi.check_fold_batchnorm(SOLUTION["fold_batchnorm"], **case)


def test_wrapping_torch_batchnorm_is_caught_by_the_tripwire():
    """A "solution" that returns torch.nn.BatchNorm1d has the right state (init check passes) but is caught."""
    def TorchBatchNorm1d(num_features, eps=1e-5, momentum=0.1):
        return torch.nn.BatchNorm1d(num_features, eps=eps, momentum=momentum)

    bi.check_batchnorm_init(TorchBatchNorm1d)
    with pytest.raises(CheckFailed, match="called PyTorch's batch norm"):
        bi.check_batchnorm_training(TorchBatchNorm1d)


def test_tripwire_restores_pytorch():
    original = torch.nn.functional.batch_norm, torch.batch_norm
    with pytest.raises(CheckFailed):
        with bi.tripwire():
            torch.nn.functional.batch_norm(torch.randn(4, 2), None, None, training=True)
    assert (torch.nn.functional.batch_norm, torch.batch_norm) == original
    torch.nn.BatchNorm1d(2)(torch.randn(4, 2))  # works again


def test_stub_is_reported_as_not_implemented():
    class Stub(torch.nn.Module):
        def __init__(self, num_features, eps=1e-5, momentum=0.1):
            super().__init__()
            raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        bi.check_batchnorm_training(Stub)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        bi.check_population_statistics(lambda *args: (_ for _ in ()).throw(NotImplementedError()))


def test_failure_message_names_step_feature_and_error():
    class OffByOneStep(SOLUTION["BatchNorm1d"]):
        def forward(self, x):
            out = super().forward(x)
            if self.training and int(self.num_batches_tracked) == 3:
                with torch.no_grad():
                    self.running_mean[2] += 0.5
            return out

    with pytest.raises(CheckFailed) as failure:
        bi.check_running_statistics(OffByOneStep, shape=(16, 4), steps=5)
    message = str(failure.value)
    assert "running_mean after training step 3 of 5" in message and "feature 2" in message and "max error 0.5" in message
