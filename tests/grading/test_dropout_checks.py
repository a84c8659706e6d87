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
from autograder.probe import ForbiddenReference, TensorData, decode, encode
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, solution_notebook

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
    assert "Binomial(10000, 0.2)" in message and "probability 1 - 5e-07" in message and "torch.nn.functional.dropout dropped" in message


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


# ---------------------------------------------------------------- PyTorch's own dropout is refused, by any name

LIBRARY_DROPOUT = {
    "F.dropout": lambda t, p, training: torch.nn.functional.dropout(t, p, training=training),
    "torch._VF.dropout": lambda t, p, training: torch._VF.dropout(t, p, training),
    "torch.dropout": lambda t, p, training: torch.dropout(t, p, training),
    "torch.ops.aten.dropout": lambda t, p, training: torch.ops.aten.dropout(t, p, training),
    "torch.ops.aten.native_dropout": lambda t, p, training: torch.ops.aten.native_dropout(t, p, training)[0],
}


@pytest.mark.parametrize("via", sorted(LIBRARY_DROPOUT))
def test_dropout_forward_calling_torch_dropout_is_refused(via):
    library = LIBRARY_DROPOUT[via]

    def dropout_forward(x, p, train=True, rng=None):
        out = library(torch.from_numpy(np.asarray(x, dtype=np.float64)), p, train).numpy().astype(np.asarray(x).dtype)
        return out, (out != 0) if train else None

    for check in (dropout.check_dropout_forward, dropout.check_dropout_eval, dropout.check_dropout_edge_cases):
        with pytest.raises(ForbiddenReference, match="library's own implementation"):
            check(dropout_forward)


@pytest.mark.parametrize("via", sorted(LIBRARY_DROPOUT))
def test_dropout_module_calling_torch_dropout_is_refused(via):
    library = LIBRARY_DROPOUT[via]

    class Dropout(torch.nn.Module):
        def __init__(self, p=0.5):
            super().__init__()
            self.p = p

        def forward(self, x):
            return library(x, self.p, self.training)

    for check in (dropout.check_dropout_module, dropout.check_dropout_module_edge_cases):
        with pytest.raises(ForbiddenReference, match="library's own implementation"):
            check(Dropout)


def _late(library_call, after: int):
    """A dropout_forward that is honest for its first ``after`` calls and then does something else."""
    calls = []

    def dropout_forward(x, p, train=True, rng=None):
        calls.append(1)
        if len(calls) > after:
            library_call()
        rng = rng if rng is not None else np.random.default_rng()
        mask = rng.random(np.shape(x)) >= p if train else None
        return (np.where(mask, np.asarray(x) / (1 - p), 0.0) if train else np.asarray(x)), mask

    return dropout_forward


def test_expectation_check_sees_torch_dropout_in_any_of_its_calls():
    """The 2000 calls share one watch: a library call in the last ones is seen as in the first."""
    forward = _late(lambda: torch.nn.functional.dropout(torch.ones(3), 0.5), after=1500)
    with pytest.raises(ForbiddenReference, match="library's own implementation"):
        dropout.check_dropout_expectation(forward)


def test_expectation_check_sees_the_watch_switched_off_in_any_of_its_calls():
    def switch_off():
        from torch.overrides import _pop_mode

        try:
            _pop_mode()
        except Exception:  # noqa: BLE001 - popped already
            pass

    with pytest.raises(ForbiddenReference, match="switched off the grader's watch"):
        dropout.check_dropout_expectation(_late(switch_off, after=1200))
    check_honest = _late(lambda: None, after=0)
    dropout.check_dropout_expectation(check_honest)  # and the watch is whole again afterwards


def test_subclass_of_torch_dropout_is_refused():
    class Dropout(torch.nn.Dropout):
        pass

    with pytest.raises(ForbiddenReference, match="library's own implementation"):
        dropout.check_dropout_module(Dropout)


# ---------------------------------------------------------------- probe and verdict apart, as the class grader runs them

CHECKS = [
    (dropout.check_dropout_forward, "dropout_forward", {"shape": (30, 20), "p": 0.3}),
    (dropout.check_dropout_fresh_mask, "dropout_forward", {}),
    (dropout.check_dropout_expectation, "dropout_forward", {"calls": 500}),
    (dropout.check_dropout_expectation, "vanilla_dropout_forward", {"calls": 500, "vanilla": True}),
    (dropout.check_dropout_eval, "dropout_forward", {"dtype": np.float32}),
    (dropout.check_dropout_edge_cases, "dropout_forward", {}),
    (dropout.check_dropout_backward, "dropout_backward", {"p": 0.6}),
    (dropout.check_vanilla_dropout, "vanilla_dropout_forward", {"p": 0.4}),
    (dropout.check_dropout_module, "Dropout", {"shape": (40, 30)}),
    (dropout.check_dropout_module_edge_cases, "Dropout", {}),
]


@pytest.mark.parametrize("check, learner, params", CHECKS, ids=lambda v: getattr(v, "name", None))
@pytest.mark.parametrize("seed", [3, 1234567])
def test_probe_and_verdict_apart_pass_the_solution(check, learner, params, seed):
    params = {**params, "seed": seed}
    record = check.run_probe([SOLUTION[learner]], params)
    assert record.failure is None
    check.run_verdict(decode(encode(record)), params)


def test_module_probe_records_data_only():
    record = dropout.check_dropout_module.run_probe([SOLUTION["Dropout"]], {"shape": (10, 10), "p": 0.5})
    assert record["module"] == {"is_module": True, "type": "Dropout"} and record["training"] is True
    assert isinstance(record["train"], TensorData) and record["train"].requires_grad
    assert isinstance(record["train_grad"], TensorData) and record["train_grad"].shape == (10, 10)


def test_probe_does_not_touch_torch_global_generator_in_inputs():
    state = torch.get_rng_state()
    dropout.check_dropout_backward.inputs(seed=5, shape=(4, 4), p=0.5)
    assert torch.equal(state, torch.get_rng_state())


# ---------------------------------------------------------------- the expectation check's stacked record

def _nth_call_does(n: int, action):
    """The solution's dropout_forward, except that its call number ``n`` (from 0) does ``action(x, out, mask)``."""
    calls = [0]

    def dropout_forward(x, p, train=True, rng=None):
        out, mask = SOLUTION["dropout_forward"](x, p, train=train, rng=rng)
        calls[0] += 1
        return action(x, out, mask) if calls[0] - 1 == n else (out, mask)
    return dropout_forward


def test_expectation_record_crosses_as_two_stacked_arrays():
    record = dropout.check_dropout_expectation.run_probe([SOLUTION["dropout_forward"]], {"calls": 300})
    assert record["outs"].shape == record["xs"].shape == (300, 4, 5)
    assert len(encode(record)["$record"]) < 10  # a handful of entries, not one per call


def test_expectation_finds_an_input_changed_by_a_late_call():
    def scale_in_place(x, out, mask):
        x *= 2
        return out, mask
    with pytest.raises(CheckFailed, match="changed its input array in place") as failure:
        dropout.check_dropout_expectation(_nth_call_does(137, scale_in_place), calls=300)
    assert "changed-input-in-place" in failure.value.mistakes


@pytest.mark.parametrize("returned, message", [
    (lambda x, out, mask: None, "should return a tuple"),
    (lambda x, out, mask: (out[:1], mask), "has shape"),
    (lambda x, out, mask: (out.astype(complex), mask), r"output .*complex numbers \(complex128"),
    (lambda x, out, mask: (torch.from_numpy(out), mask), "torch.Tensor"),
])
@pytest.mark.parametrize("call", [0, 200])
def test_expectation_reports_a_call_that_returns_something_else(returned, message, call):
    with pytest.raises(CheckFailed, match=message):
        dropout.check_dropout_expectation(_nth_call_does(call, returned), calls=300)


def test_expectation_reads_plain_lists_as_to_array_does():
    def as_lists(x, p, train=True, rng=None):
        out, mask = SOLUTION["dropout_forward"](x, p, train=train, rng=rng)
        return out.tolist(), mask.tolist()
    dropout.check_dropout_expectation(as_lists, calls=300)


@pytest.mark.parametrize("forge", [
    lambda record: record.update(outs=record["outs"][:, :2]),                       # wrong shape
    lambda record: record.update(outs=np.zeros((301, 4, 5))),                       # more calls than made
    lambda record: record.update(xs="not an array"),
    lambda record: record.update(outs=record["outs"][:100], xs=record["xs"][:100]),  # calls missing, no reason
])
def test_expectation_verdict_refuses_a_forged_stack(forge):
    params = {"calls": 300}
    record = dropout.check_dropout_expectation.run_probe([SOLUTION["dropout_forward"]], params)
    record = decode(encode(record))
    forge(record)
    with pytest.raises(CheckFailed, match="could not read|no reason why"):
        dropout.check_dropout_expectation.run_verdict(decode(encode(record)), params)


# ---------------------------------------------------------------- units dropped independently (attack 5)

def test_independent_masks_pass_the_independence_checks_on_many_seeds():
    """A correct mask fails each check with probability below its alpha (1e-6): 200 seeds, none fails."""
    for seed in range(200):
        rng = np.random.default_rng(seed)
        for p in (0.1, 0.3, 0.5, 0.8):
            dropout.check_units_independent(rng.random((300, 20)) >= p, p, what="x")
            dropout.check_neighbours_independent(rng.random((200, 50)) >= p, p, what="x")


@pytest.mark.parametrize("p", [0.2, 0.5, 0.7])
def test_masks_of_a_fixed_size_or_a_block_are_named(p):
    rng = np.random.default_rng(1)
    n, calls = 20, 300
    fixed = np.zeros((calls, n), dtype=bool)
    for row in fixed:
        row[rng.permutation(n)[:round(n * (1 - p))]] = True
    block = np.array([((np.arange(n) + rng.integers(n)) % n) < int(n * (1 - p) + rng.random()) for _ in range(calls)])
    for masks in (fixed, block):
        with pytest.raises(CheckFailed, match="not dropped independently"):
            dropout.check_units_independent(masks, p, what="x")
    one_block = ((np.arange(10000) + 1234) % 10000) < int(10000 * (1 - p))
    with pytest.raises(CheckFailed, match="not dropped independently"):
        dropout.check_neighbours_independent(one_block, p, what="x")


# ---------------------------------------------------------------- attack 7: the module's independence test

class _Sub(torch.Tensor):
    """A learner's tensor subclass; its own code must never run while the probe reads its values."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        return super().__torch_function__(func, types, args, kwargs or {})


class _Lying(torch.Tensor):
    """A subclass whose own code would show other values (a fresh Bernoulli mask) than those returned."""

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in ("detach", "as_subclass", "numpy", "to", "cpu", "stack", "ne", "__ne__"):
            plain = args[0].as_subclass(torch.Tensor) if isinstance(args[0], torch.Tensor) else args[0]
            return func(plain * (torch.rand_like(plain) >= 0.5), *args[1:], **(kwargs or {}))
        return super().__torch_function__(func, types, args, kwargs or {})


def _fixed_count(wrap=lambda out, x: out):
    """A Dropout module keeping exactly round(n (1 - p)) units per call (units not independent)."""

    class Dropout(torch.nn.Module):
        def __init__(self, p=0.5):
            super().__init__()
            self.p = p

        def forward(self, x):
            if not self.training or self.p == 0:
                return x
            if self.p == 1:
                return x * 0.0
            n = x.numel()
            keep = torch.zeros(n, dtype=x.dtype)
            keep[torch.randperm(n)[: int(round(n * (1 - self.p)))]] = 1
            return wrap(x * keep.reshape(x.shape) / (1 - self.p), x)

    return Dropout


def _solution_wrapped(wrap):
    class Dropout(SOLUTION["Dropout"]):
        def forward(self, x):
            return wrap(super().forward(x), x)
    return Dropout


SMALL_ONLY = lambda cls: (lambda out, x: out.as_subclass(cls) if tuple(x.shape) == dropout.MANY_SHAPE else out)  # noqa: E731


@pytest.mark.parametrize("wrap", [lambda out, x: out, lambda out, x: out.as_subclass(_Sub),
                                  SMALL_ONLY(_Sub), SMALL_ONLY(_Lying)],
                         ids=["plain", "subclass", "subclass-small-only", "lying-subclass-small-only"])
def test_a_fixed_count_module_fails_independence_whatever_tensor_class_it_returns(wrap):
    """Attack 7 (2): a tensor subclass, even for the many-calls input alone, switched the test off (16/16)."""
    record = dropout.check_dropout_module.run_probe([_fixed_count(wrap)], {"seed": 3})
    assert isinstance(dict.get(record, "many"), np.ndarray) and record["many"].shape == (200, 4, 5)
    with pytest.raises(CheckFailed, match="independently"):
        dropout.check_dropout_module.run_verdict(decode(encode(record)), {"seed": 3})


@pytest.mark.parametrize("wrap", [lambda out, x: out.as_subclass(_Sub), SMALL_ONLY(_Sub)],
                         ids=["subclass", "subclass-small-only"])
def test_an_honest_module_returning_a_tensor_subclass_keeps_its_marks(wrap):
    for seed in (1, 2):
        record = dropout.check_dropout_module.run_probe([_solution_wrapped(wrap)], {"seed": seed})
        dropout.check_dropout_module.run_verdict(decode(encode(record)), {"seed": seed})


@pytest.mark.parametrize("bad", [lambda out, x: out.numpy(), lambda out, x: out[:, :4], lambda out, x: None,
                                 lambda out, x: out.to(torch.complex64)],
                         ids=["ndarray", "wrong-shape", "None", "complex"])
def test_many_calls_that_cannot_be_read_fail_the_test_not_skip_it(bad):
    """Fail closed: an output of the many-calls input that is not a real tensor of its shape fails with a message."""
    wrap = lambda out, x: bad(out, x) if tuple(x.shape) == dropout.MANY_SHAPE else out  # noqa: E731
    record = dropout.check_dropout_module.run_probe([_solution_wrapped(wrap)], {"seed": 4})
    assert "many" not in record and isinstance(dict.get(record, "many_bad"), dict)
    with pytest.raises(CheckFailed, match="call 1 of 200"):
        dropout.check_dropout_module.run_verdict(decode(encode(record)), {"seed": 4})


def test_a_record_without_the_many_calls_fails_the_test():
    record = dropout.check_dropout_module.run_probe([SOLUTION["Dropout"]], {"seed": 5})
    dropout.check_dropout_module.run_verdict(decode(encode(record)), {"seed": 5})
    dict.pop(record, "many")
    with pytest.raises(CheckFailed, match="no value for 'many'"):
        dropout.check_dropout_module.run_verdict(decode(encode(record)), {"seed": 5})


def test_the_watch_cannot_be_switched_off_through_the_probe_module(monkeypatch):
    """Attack 7 set ``probe.watches_torch`` to ``lambda m: False``: the probe binds what it watches, and a
    record saying it watched less than the exercise's rules ask is tampering."""
    from autograder import probe

    monkeypatch.setattr(probe, "watches_torch", lambda module: False)
    monkeypatch.setattr(probe, "watched_code", lambda module: ({}, ()))
    record = dropout.check_dropout_module.run_probe([_fixed_count(lambda out, x: torch.nn.functional.dropout(x, 0.5))],
                                                    {"seed": 6})
    assert "torch:dropout" in record.ops() or "torch:native_dropout" in record.ops()
    record = dropout.check_dropout_backward.run_probe([SOLUTION["dropout_backward"]], {})
    dropout.check_dropout_backward.run_verdict(decode(encode(record)), {})
    dict.__setitem__(record, probe.WATCH_KEY, {"torch": False, "code": []})
    with pytest.raises(ForbiddenReference, match="tampering: the grader's watch"):
        dropout.check_dropout_backward.run_verdict(decode(encode(record)), {})
    dict.pop(record, probe.WATCH_KEY)
    with pytest.raises(ForbiddenReference, match="tampering: the grader's watch"):
        dropout.check_dropout_backward.run_verdict(decode(encode(record)), {})
