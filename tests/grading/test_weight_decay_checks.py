"""The chapter-5 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies seeds, shapes, dtypes, step counts and hyperparameters: the
solution must pass every one, so the checks never fail a correct answer. Each
mutant is run through the notebook's own grade cells (visible and hidden) and
must fail the cells its entry lists, with its hint in the message.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings

from autograder import CheckFailed, weight_decay
from autograder.probe import decode, encode
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

ASSIGNMENT = "05_weight_decay"
SOLUTION = learner_namespace(solution_notebook(ASSIGNMENT))


# ---------------------------------------------------------------- the reference is torch.optim

@pytest.mark.parametrize("kind, optimizer_class, hyperparameters", [
    ("sgd", torch.optim.SGD, {"lr": 0.1}),
    ("sgd", torch.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}),
    ("adam", torch.optim.Adam, {"lr": 0.01}),
    ("adam", torch.optim.Adam, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("adamw", torch.optim.AdamW, {"lr": 0.01}),
    ("adamw", torch.optim.AdamW, {"lr": 0.02, "betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.3}),
])
def test_reference_equals_the_torch_optimizer_classes(kind, optimizer_class, hyperparameters):
    rng = np.random.default_rng(0)
    start = rng.standard_normal((3, 4))
    reference = weight_decay.TorchReference(kind, start, **hyperparameters)
    param = torch.tensor(start, requires_grad=True)
    optimizer = optimizer_class([param], **hyperparameters)
    for _ in range(40):
        grad = rng.standard_normal((3, 4)) * 10.0 ** rng.uniform(-5, 0, size=(3, 4))
        ours = reference.step(grad)
        param.grad = torch.tensor(grad)
        optimizer.step()
        np.testing.assert_array_equal(ours, param.detach().numpy())


# ---------------------------------------------------------------- the solution passes on any input

@settings(max_examples=40, deadline=None)
@given(case=strategies.l2_penalty_cases())
def test_solution_passes_l2_penalty_check(case):
    weight_decay.check_l2_penalty(SOLUTION["l2_penalty"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.optimizer_cases("sgd"))
def test_solution_passes_sgd_check(case):
    weight_decay.check_sgd_step(SOLUTION["sgd_step"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.optimizer_cases("adam"))
def test_solution_passes_adam_check(case):
    weight_decay.check_adam_step(SOLUTION["adam_step"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.optimizer_cases("adam"))
def test_solution_passes_adamw_check(case):
    weight_decay.check_adamw_step(SOLUTION["adamw_step"], **case)


# ---------------------------------------------------------------- the notebook's grade cells, run directly


# ---------------------------------------------------------------- the messages

def test_failure_message_names_the_step_the_entry_and_the_error():
    def off_from_step_7(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        state["calls"] = state.get("calls", 0) + 1
        new = SOLUTION["sgd_step"](param, grad, state, lr, momentum, weight_decay)
        if state["calls"] == 7:
            new = new.copy()
            new[1, 2] += 0.25
        return new

    with pytest.raises(CheckFailed) as failure:
        weight_decay.check_sgd_step(off_from_step_7, shape=(4, 3), momentum=0.9)
    message = str(failure.value)
    assert "the parameter after step 7 of 50" in message and "steps 1 to 6 matched" in message
    assert "shape (4, 3)" in message and "row 1, feature 2" in message and "max error 0.25" in message


def test_rebinding_state_is_explained():
    def rebinds_state(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        state = {"step": 0}  # noqa: F841 -- the mistake under test
        return param - lr * np.sign(grad) * 0.5

    with pytest.raises(CheckFailed, match="`state` is still empty"):
        weight_decay.check_adam_step(rebinds_state)


def test_not_implemented_is_reported_as_such():
    def stub(*args, **kwargs):
        raise NotImplementedError()

    for check in (weight_decay.check_l2_penalty, weight_decay.check_sgd_step,
                  weight_decay.check_adam_step, weight_decay.check_adamw_step):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


@pytest.mark.parametrize("returned", [None, "text", {"a": 1}, np.zeros(2)])
def test_wrong_results_are_rejected(returned):
    with pytest.raises(CheckFailed):
        weight_decay.check_sgd_step(lambda param, grad, state, lr, **kw: returned)
    with pytest.raises(CheckFailed):
        weight_decay.check_l2_penalty(lambda params, wd: returned)


def test_float32_result_for_float64_parameter_is_explained():
    def rounds_to_float32(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        return SOLUTION["sgd_step"](param, grad, state, lr, momentum, weight_decay).astype(np.float32)

    with pytest.raises(CheckFailed, match="returned float32 for a float64 parameter"):
        weight_decay.check_sgd_step(rounds_to_float32)


# ---------------------------------------------------------------- probe and verdict apart, as the class grader runs them

@pytest.mark.parametrize("check, learner, params", [
    (weight_decay.check_l2_penalty, "l2_penalty", {"shapes": [(3, 4), (2,)], "dtype": np.float32}),
    (weight_decay.check_sgd_step, "sgd_step", {"momentum": 0.9, "weight_decay": 0.05}),
    (weight_decay.check_sgd_step, "sgd_step", {"dtype": np.float32, "momentum": 0.5}),
    (weight_decay.check_adam_step, "adam_step", {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    (weight_decay.check_adamw_step, "adamw_step", {"steps": 80, "dtype": np.float32}),
], ids=lambda v: getattr(v, "name", None))
@pytest.mark.parametrize("seed", [5, 987654321])
def test_probe_and_verdict_apart_pass_the_solution(check, learner, params, seed):
    params = {**params, "seed": seed}
    record = check.run_probe([SOLUTION[learner]], params)
    assert record.failure is None
    check.run_verdict(decode(encode(record)), params)


def test_probe_records_every_step_and_follows_the_learners_parameter():
    record = weight_decay.check_sgd_step.run_probe([SOLUTION["sgd_step"]], {"steps": 5, "momentum": 0.9})
    assert [k for k in record if k.startswith("param_") and "changed" not in k] == [f"param_{i}" for i in range(1, 6)]
    assert [record[f"param_changed_{i}"] for i in range(1, 6)] == [False] * 5
    assert all(record[f"state_size_{i}"] == 1 for i in range(1, 6))

    seen = []

    def stuck(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        seen.append(grad.copy())
        return param  # never moves: the gradient is evaluated at the same point every step

    inputs = weight_decay.check_sgd_step.inputs(steps=3)
    weight_decay.check_sgd_step.run_probe([stuck], {"steps": 3})
    for step, grad in enumerate(seen, start=1):
        np.testing.assert_array_equal(grad, weight_decay._gradient(inputs, inputs["start"], step))


def test_probe_stops_at_a_result_that_cannot_be_the_next_parameter():
    record = weight_decay.check_sgd_step.run_probe([lambda param, grad, state, lr, **kw: np.zeros(2)], {})
    assert "param_1" in record and "param_2" not in record
    with pytest.raises(CheckFailed, match="returned an array of shape"):
        weight_decay.check_sgd_step.run_verdict(decode(encode(record)), {})


def test_a_step_that_changes_the_callers_parameter_is_told_so():
    """The notebook asks for the new parameter as a new array: param -= lr * g gives the right values but changes
    the caller's array (b0503/wd_sgd_inplace_param had full marks)."""
    def sgd_in_place(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        d = grad + weight_decay * param
        if momentum:
            buf = d.copy() if "buf" not in state else momentum * state["buf"] + d
            state["buf"] = buf
            d = buf
        param -= lr * d
        return param

    with pytest.raises(CheckFailed, match="changed the `param` array it was given") as caught:
        weight_decay.check_sgd_step(sgd_in_place, momentum=0.9, weight_decay=1e-2)
    assert caught.value.mistakes == ("changed-input-in-place",)
