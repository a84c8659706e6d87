"""The chapter-4 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies shapes, seeds, eps and momentum: the solution must pass every
one, so the checks never fail a correct BatchNorm1d on some input. Each mutant
must fail the grade cells it names, with its hint in the message.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from autograder import CheckFailed, batchnorm_inference as bi
from autograder.probe import ForbiddenReference, ObjectData, TensorData, capture, decode, encode
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

ASSIGNMENT = "04_batchnorm_inference"
SOLUTION_NOTEBOOK = solution_notebook(ASSIGNMENT)
SOLUTION = learner_namespace(SOLUTION_NOTEBOOK)


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/grading/conftest.py


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


def _calling(how):
    """The solution's BatchNorm1d with a forward that reaches PyTorch's batch norm through ``how``."""
    class Calling(SOLUTION["BatchNorm1d"]):
        def forward(self, x):
            momentum = 0.1 if self.momentum is None else self.momentum
            return how(x, self.running_mean, self.running_var, self.weight, self.bias, self.training, momentum,
                       self.eps)

    return Calling


LIBRARY_BATCH_NORM = {
    "F.batch_norm": lambda x, rm, rv, w, b, training, momentum, eps:
        torch.nn.functional.batch_norm(x, rm, rv, w, b, training, momentum, eps),
    "torch.batch_norm": lambda x, rm, rv, w, b, training, momentum, eps:
        torch.batch_norm(x, w, b, rm, rv, training, momentum, eps, False),
    "torch._VF.batch_norm": lambda x, rm, rv, w, b, training, momentum, eps:
        torch._VF.batch_norm(x, w, b, rm, rv, training, momentum, eps, False),
    "torch.ops.aten.native_batch_norm": lambda x, rm, rv, w, b, training, momentum, eps:
        torch.ops.aten.native_batch_norm(x, w, b, rm, rv, training, momentum, eps)[0],
    "getattr(torch.nn.functional, ...)": lambda x, rm, rv, w, b, training, momentum, eps:
        getattr(torch.nn.functional, "batch" + "_norm")(x, rm, rv, w, b, training, momentum, eps),
}


@pytest.mark.parametrize("how", sorted(LIBRARY_BATCH_NORM))
@pytest.mark.parametrize("run", [
    lambda module: bi.check_batchnorm_training(module, seed=3, shape=(6, 3, 2)),
    lambda module: bi.check_running_statistics(module, seed=4, steps=3),
    lambda module: bi.check_eval_mode(module, seed=5, train_steps=2),
    lambda module: bi.check_load_state_dict(module, seed=6),
], ids=["training", "running_statistics", "eval_mode", "load_state_dict"])
def test_library_batch_norm_is_refused_whatever_its_name(how, run):
    """Computing the right numbers with PyTorch's own batch norm fails, by any entry point (the probe's operators)."""
    with pytest.raises(ForbiddenReference, match="library's own implementation"):
        run(_calling(LIBRARY_BATCH_NORM[how]))


def test_wrapping_torch_batchnorm_is_refused():
    """A "solution" that returns torch.nn.BatchNorm1d has the right state but is refused, even by the init check.

    The init check runs no batch norm operator: the module's own Python code (torch.nn.modules.batchnorm,
    the exercise's ``code`` rule) is what gives it away.
    """
    def TorchBatchNorm1d(num_features, eps=1e-5, momentum=0.1):
        return torch.nn.BatchNorm1d(num_features, eps=eps, momentum=momentum)

    class Subclass(torch.nn.BatchNorm1d):
        pass

    for module in (TorchBatchNorm1d, Subclass):
        with pytest.raises(ForbiddenReference, match=r"library's own implementation \(torch\.nn\.modules\.batchnorm"):
            bi.check_batchnorm_init(module)
        with pytest.raises(ForbiddenReference, match="library's own implementation"):
            bi.check_batchnorm_training(module)
        with pytest.raises(ForbiddenReference, match="library's own implementation"):
            bi.check_batch_of_one(module)  # PyTorch raises the right ValueError for the batch of one: still refused


def test_fold_through_the_batchnorm_forward_is_refused():
    """Folding by running bn on a basis gives the right layer but runs PyTorch's batch norm."""
    def fold_by_forward(linear, bn):
        with torch.no_grad():
            eye = torch.eye(linear.in_features, dtype=linear.weight.dtype)
            shift = bn(linear(torch.zeros(1, linear.in_features, dtype=linear.weight.dtype)))
            folded = torch.nn.Linear(linear.in_features, linear.out_features, dtype=linear.weight.dtype)
            folded.weight.copy_((bn(linear(eye)) - shift).T)
            folded.bias.copy_(shift[0])
        return folded

    with pytest.raises(ForbiddenReference, match="library's own implementation"):
        bi.check_fold_batchnorm(fold_by_forward, seed=2)


@pytest.mark.parametrize("how", ["imported", "aliased", "wrapped in a class", "copied code object"])
def test_folding_with_pytorchs_fusion_helper_is_refused(how):
    """The book's fusion helper (torch.nn.utils.fusion) answers fold_batchnorm: refused by any name (``code`` rule)."""
    import types

    from torch.nn.utils import fusion

    helper = {"imported": fusion.fuse_linear_bn_eval, "aliased": getattr(fusion, "fuse_linear_bn_eval"),
              "wrapped in a class": type("Folder", (), {"__call__": lambda self, l, b: fusion.fuse_linear_bn_eval(l, b)})(),
              "copied code object": types.FunctionType(fusion.fuse_linear_bn_eval.__code__, vars(fusion).copy())}[how]
    with pytest.raises(ForbiddenReference, match=r"torch\.nn\.utils\.fusion"):
        bi.check_fold_batchnorm(lambda linear, bn: helper(linear.eval(), bn.eval()), seed=3)


def test_switching_off_the_watch_is_refused():
    """Code that replaces the probe's profiler (to hide what it calls) loses the check, whatever it computed."""
    import sys

    def fold(linear, bn):
        sys.setprofile(None)
        return SOLUTION["fold_batchnorm"](linear, bn)

    with pytest.raises(ForbiddenReference, match="sys.setprofile"):
        bi.check_fold_batchnorm(fold, seed=4)
    assert sys.getprofile() is None  # the watch is gone again after the check


def test_checks_leave_pytorch_alone():
    """No monkeypatching: PyTorch's batch norm is the same object, and works, during and after a refused check."""
    original = torch.nn.functional.batch_norm, torch.batch_norm, torch.nn.BatchNorm1d.forward
    seen = []

    class Looking(SOLUTION["BatchNorm1d"]):
        def forward(self, x):
            seen.append((torch.nn.functional.batch_norm, torch.batch_norm, torch.nn.BatchNorm1d.forward))
            return torch.nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                                  self.training, 0.1 if self.momentum is None else self.momentum,
                                                  self.eps)

    with pytest.raises(ForbiddenReference):
        bi.check_batchnorm_training(Looking)
    assert seen and all(found == original for found in seen)
    assert (torch.nn.functional.batch_norm, torch.batch_norm, torch.nn.BatchNorm1d.forward) == original
    torch.nn.BatchNorm1d(2)(torch.randn(4, 2))  # works


def test_probes_never_run_the_reference(monkeypatch):
    """PyTorch's batch norm runs only in the verdicts: the solution's probes succeed with it disabled."""
    def refuse(*args, **kwargs):
        raise AssertionError("the probe ran PyTorch's batch norm")

    monkeypatch.setattr(torch.nn.functional, "batch_norm", refuse)
    for chk, fn, params in SANITY_CASES:
        record = chk.run_probe([SOLUTION[name] for name in fn], params)
        assert record.failure is None, (chk.name, record.failure)
        assert not [op for op in record.ops() if "batch_norm" in op], (chk.name, record.ops())


SANITY_CASES = [
    (bi.check_batchnorm_init, ["BatchNorm1d"], {"num_features": 5, "eps": 1e-3, "momentum": None}),
    (bi.check_batchnorm_training, ["BatchNorm1d"], {"seed": 1, "shape": (5, 3, 4), "momentum": 0.3}),
    (bi.check_batchnorm_training, ["BatchNorm1d"], {"seed": 2, "shape": (16, 8), "dtype": torch.float32}),
    (bi.check_batch_of_one, ["BatchNorm1d"], {"num_features": 4, "length": 3}),
    (bi.check_running_statistics, ["BatchNorm1d"], {"shape": (4, 5, 3), "steps": 5, "momentum": None}),
    (bi.check_eval_mode, ["BatchNorm1d"], {"shape": (4, 2, 7), "train_steps": 3, "eps": 1e-2}),
    (bi.check_load_state_dict, ["BatchNorm1d"], {"num_features": 3, "length": 6, "momentum": None}),
    (bi.check_population_statistics, ["population_statistics"], {"n_batches": 7, "batch_size": 16,
                                                                 "dtype": torch.float32}),
    (bi.check_fold_batchnorm, ["fold_batchnorm"], {"in_features": 4, "out_features": 4, "linear_bias": False}),
]


@pytest.mark.parametrize("seed", [0, 7, 123456789, 2**31 + 5])
@pytest.mark.parametrize("case", SANITY_CASES, ids=lambda case: case[0].name + "-" + str(sorted(case[2])))
def test_solution_passes_through_the_record_encoding(case, seed):
    """Probe, encode, decode, verdict (the class grader's path) passes the solution for any seed."""
    chk, fn, params = case
    params = dict(params, **({"seed": seed} if "seed" in chk.parameters else {}))
    record = chk.run_probe([SOLUTION[name] for name in fn], params)
    assert record.failure is None, record.failure
    chk.run_verdict(decode(encode(record)), params)


def test_numpy_reads_recorded_tensors():
    data = capture(torch.arange(6, dtype=torch.float32).reshape(2, 3))
    assert isinstance(data, TensorData)
    assert bi._numpy(data, "x").dtype == np.float64 and bi._numpy(data, "x").tolist() == [[0, 1, 2], [3, 4, 5]]
    assert bi._numpy(decode(encode(data)), "x").shape == (2, 3)
    with pytest.raises(CheckFailed, match="should be a torch.Tensor, but it is a dict"):
        bi._numpy({}, "x")
    with pytest.raises(CheckFailed, match="should be a torch.Tensor, but it is a Thing"):
        bi._numpy(ObjectData("Thing"), "x")
    with pytest.raises(CheckFailed, match="is None"):
        bi._numpy(None, "x")


@pytest.mark.parametrize("momentum, length", [(bi._DEFAULT, None), (None, 6), (0.2, None), (0.7, 3)])
def test_load_state_dict_input_is_a_trained_torch_module_state(momentum, length):
    """The state the learner's module loads equals that of a torch.nn.BatchNorm1d trained on the same batches."""
    params = {"seed": 9, "num_features": 4, "length": length, "train_steps": 5, "momentum": momentum}
    state = bi._load_inputs(**params)["state_dict"]
    reference = bi._reference(4, bi._DEFAULT, momentum).train()
    weight, bias = bi._affine(9, 4)
    bi._set_affine(reference, weight, bias)
    with torch.no_grad():
        for step in range(5):
            reference(bi._batch(9, bi._load_inputs(**params)["shape"], step))
    trained = reference.state_dict()
    assert list(state) == list(trained)
    for key, value in trained.items():
        assert value.dtype == state[key].dtype and value.shape == state[key].shape
        torch.testing.assert_close(state[key], value, rtol=1e-12, atol=1e-12)


def test_fold_inputs_leave_the_global_generator_alone():
    torch.manual_seed(5)
    expected = torch.rand(3)
    torch.manual_seed(5)
    bi._fold_inputs(seed=11)
    assert torch.equal(torch.rand(3), expected)


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


def test_a_profiler_running_before_the_check_is_kept_or_named():
    """A profiler in Python that runs before the check keeps receiving its events and is put back; one in C
    (cProfile) cannot be chained, so the check says so instead of running the learner's code unwatched."""
    import cProfile
    import sys

    events = []
    sys.setprofile(lambda frame, event, arg: events.append(event))
    try:
        bi.check_fold_batchnorm(SOLUTION["fold_batchnorm"], seed=5)
        still_there = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert events and still_there is not None

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        with pytest.raises(ForbiddenReference, match="a profiler"):
            bi.check_fold_batchnorm(SOLUTION["fold_batchnorm"], seed=5)
    finally:
        profiler.disable()
