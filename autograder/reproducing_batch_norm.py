"""Checks for chapter 8, reproducing the batch-normalization paper (exercise ``08_reproducing_batch_norm``).

The learner assembles the paper's MNIST experiment (Ioffe & Szegedy, 2015, section 4.1 and Figure 1)
with their own ``BatchNorm1d`` from exercise 4 and writes the measurements:

- ``sigmoid_input_percentiles(model, x, q=(15, 50, 85)) -> Tensor (len(q), H)``: the percentiles,
  over the examples of ``x``, of the input of the model's LAST ``nn.Sigmoid`` (one column per unit),
  in the mode the model is in. Compared with ``numpy.percentile(..., axis=0)`` of the sigmoid's input
  computed layer by layer on the verdict's own copy of the model.
- ``steps_to_accuracy(steps, accuracy, target) -> int | None``: the first recorded step whose accuracy
  reaches ``target``; None if none does.
- ``paper_network(BatchNorm, batchnorm, in_features, std, seed, hidden=100, classes=10)``: 3 x
  [Linear -> (BatchNorm) -> Sigmoid] -> Linear in float64, every Linear weight drawn from N(0, std^2)
  with one ``torch.Generator`` seeded with ``seed`` (in order, input to output), biases 0.
- ``run_experiment(BatchNorm, X_train, y_train, X_test, y_test, *, steps, record_every, lr, std,
  batch_size=60, seed=0)``: trains ``paper_network`` without and with BatchNorm (same initial
  weights, same mini-batches drawn with ``torch.randint`` from a generator seeded with ``seed + 1``)
  and returns the recorded steps and, for each network, the test accuracy and the percentiles of the
  last sigmoid's input on the test set, measured in eval mode every ``record_every`` steps.

The data of every check is synthetic (``make_data``: noisy binary prototypes of ten classes), built by
NumPy from ``seed`` on both sides of the sandbox, which holds only NumPy and torch.

``check_run_experiment`` compares with a reference run of the same recipe with ``torch.nn.BatchNorm1d``
(float64: the two implementations agree to round-off, so the curves agree to a tight tolerance) and
recognises four mistakes by reruns of the reference that make them: BN left in eval mode during
training, accuracy measured on the training batch, test data in the running statistics (the test set
passed in training mode, or a BatchNorm1d that updates its running statistics in eval mode).
``check_experiment_outcome`` checks the paper's two findings over several seeds, with the bound stated
there. A module that runs PyTorch's own batch norm, by whatever name, is refused (``forbidden.py``).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from autograder.mistakes import recognised
from autograder.compare import CheckFailed, assert_close, call_learner
from autograder.probe import TensorData, check, type_name

PERCENTS = (15.0, 50.0, 85.0)
TOLERANCE = (1e-7, 1e-9)   # (rtol, atol): float64 runs of the same recipe agree to round-off

# The mistakes the checks name (each has a mutant in tests/grading/mutants/m08_reproducing_batch_norm.py).
EVAL_MODE_HINT = ("the BN layers were left in eval mode during training: after measuring in eval mode, "
                  "call model.train() before the next training step (in eval mode BatchNorm normalizes with "
                  "its running statistics and stops updating them)")
WRONG_AXIS_HINT = ("the percentiles were taken over the wrong axis (over the units of each example, dim=1): "
                   "take them over the examples, dim=0, one set of percentiles per unit")
AFTER_SIGMOID_HINT = ("the pre-activation was read after the sigmoid (its output, between 0 and 1): the "
                      "sigmoid's input is the first argument the forward pre-hook (or forward hook) receives")
TRAINING_BATCH_HINT = ("the accuracy was measured on the training batch: measure it on the held-out test data "
                       "(X_test, y_test), in eval mode")
TEST_STATISTICS_HINT = ("test data entered the running statistics: {how}; the running statistics must come from "
                        "training batches only, and the test set must be passed in eval mode, which neither "
                        "updates them nor normalizes with the test set's own statistics")


# ---------------------------------------------------------------- data and the reference recipe

def make_data(seed: int, n_train: int = 600, n_test: int = 300, features: int = 64, classes: int = 10):
    """Noisy binary images: ``classes`` random prototypes, each pixel flipped with probability 0.2.

    Returns X_train (n_train, features) float64, y_train (n_train,) int64, X_test, y_test as tensors.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((classes, features)) < 0.35

    def draw(n):
        labels = rng.integers(0, classes, n)
        flips = rng.random((n, features)) < 0.2
        return (torch.tensor(np.logical_xor(prototypes[labels], flips), dtype=torch.float64),
                torch.tensor(labels, dtype=torch.int64))

    X_train, y_train = draw(n_train)
    X_test, y_test = draw(n_test)
    return X_train, y_train, X_test, y_test


def reference_network(batchnorm: bool, in_features: int, std: float, seed: int, hidden: int = 100,
                      classes: int = 10, BatchNorm=nn.BatchNorm1d) -> nn.Sequential:
    """The paper's network, as ``paper_network`` must build it (with ``BatchNorm``, torch's by default)."""
    layers, width = [], in_features
    for _ in range(3):
        layers.append(nn.Linear(width, hidden))
        if batchnorm:
            layers.append(BatchNorm(hidden))
        layers.append(nn.Sigmoid())
        width = hidden
    layers.append(nn.Linear(width, classes))
    model = nn.Sequential(*layers).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model:
            if isinstance(layer, nn.Linear):
                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64) * std)
                layer.bias.zero_()
    return model


def sigmoid_input(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the last nn.Sigmoid of ``model`` (a Sequential) on ``x``, computed layer by layer."""
    layers = list(model)
    last = max(i for i, layer in enumerate(layers) if isinstance(layer, nn.Sigmoid))
    h = x
    with torch.no_grad():
        for layer in layers[:last]:
            h = layer(h)
    return h


def _percentiles(values: torch.Tensor, q=PERCENTS) -> torch.Tensor:
    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=0)


def _eval_updates_running_statistics(model: nn.Module) -> list:
    """Make every BatchNorm of ``model`` update its running statistics in eval mode too, then normalize
    with them (what a BatchNorm1d that updates in every mode does); returns the hook handles."""
    def update(module, args):
        if module.training:
            return
        x = args[0]
        n = x.shape[0]
        with torch.no_grad():
            module.num_batches_tracked += 1
            m = module.momentum
            module.running_mean.mul_(1 - m).add_(m * x.mean(0))
            module.running_var.mul_(1 - m).add_(m * x.var(0, unbiased=False) * n / (n - 1))

    return [layer.register_forward_pre_hook(update) for layer in model if isinstance(layer, nn.BatchNorm1d)]


def reference_run(X_train, y_train, X_test, y_test, *, steps: int, record_every: int, lr: float, std: float,
                  batch_size: int = 60, seed: int = 0, hidden: int = 100, mistake: str | None = None) -> dict:
    """``run_experiment``'s recipe with torch.nn.BatchNorm1d; ``mistake`` makes one of the named mistakes:
    ``"eval_in_training"``, ``"training_batch"``, ``"training_batch_eval"``, ``"test_in_train_mode"``,
    ``"eval_updates_stats"``."""
    import torch.nn.functional as F

    result = {"steps": torch.arange(record_every, steps + 1, record_every)}
    for name, batchnorm in (("baseline", False), ("batchnorm", True)):
        model = reference_network(batchnorm, X_train.shape[1], std, seed, hidden=hidden)
        hooks = _eval_updates_running_statistics(model) if mistake == "eval_updates_stats" else []
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        generator = torch.Generator().manual_seed(seed + 1)
        accuracy, percentiles = [], []
        model.train()
        for step in range(1, steps + 1):
            if mistake != "eval_in_training":
                model.train()
            batch = torch.randint(len(X_train), (batch_size,), generator=generator)
            logits = model(X_train[batch])
            loss = F.cross_entropy(logits, y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % record_every:
                continue
            if mistake == "training_batch":
                accuracy.append((logits.detach().argmax(1) == y_train[batch]).double().mean())
            if mistake != "test_in_train_mode":
                model.eval()
            with torch.no_grad():
                if mistake == "training_batch_eval":
                    accuracy.append((model(X_train[batch]).argmax(1) == y_train[batch]).double().mean())
                elif mistake != "training_batch":
                    accuracy.append((model(X_test).argmax(1) == y_test).double().mean())
                percentiles.append(_percentiles(sigmoid_input(model, X_test)))
        for handle in hooks:
            handle.remove()
        result[name] = {"accuracy": torch.stack(accuracy), "percentiles": torch.stack(percentiles)}
    return result


def band_drift(percentiles: np.ndarray) -> float:
    """The width of the band each percentile moved through (max - min over time), averaged: (T, Q, H) -> float."""
    return float((percentiles.max(axis=0) - percentiles.min(axis=0)).mean())


def first_step(steps: np.ndarray, accuracy: np.ndarray, target: float) -> int | None:
    reached = np.flatnonzero(accuracy >= target)
    return int(steps[reached[0]]) if len(reached) else None


# ---------------------------------------------------------------- helpers

def _array(value, what: str) -> np.ndarray:
    """A recorded tensor as float64 NumPy, or a CheckFailed saying what it was."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to `return` it?")
    if isinstance(value, TensorData):
        return value.array.astype(np.float64) if value.array.dtype.kind != "c" else value.array.real
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    if type(value) in (list, tuple) and all(type(v) in (int, float) for v in value):
        return np.asarray(value, dtype=np.float64)
    raise CheckFailed(f"{what} should be a torch.Tensor, but it is a {type_name(value)}")


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).numpy()


class Standardize(nn.Module):
    """A fixed per-unit normalization written with plain tensor operations (not PyTorch's batch norm),
    so that a model holding it can be given to the learner's code while batch norm is refused."""

    def __init__(self, mean: torch.Tensor, scale: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("scale", scale)

    def forward(self, x):
        return (x - self.mean) / self.scale


# ---------------------------------------------------------------- sigmoid_input_percentiles

def _percentile_model(seed: int, in_features: int, hidden: int, normalized: bool) -> nn.Sequential:
    """Three sigmoid layers (with a fixed normalization before each sigmoid if ``normalized``) and an output,
    weights large enough that the sigmoid inputs spread over both signs."""
    generator = torch.Generator().manual_seed(seed)
    layers, width = [], in_features
    for _ in range(3):
        linear = nn.Linear(width, hidden).double()
        with torch.no_grad():
            linear.weight.copy_(torch.randn(hidden, width, generator=generator, dtype=torch.float64) * 2 / width ** 0.5)
            linear.bias.copy_(torch.randn(hidden, generator=generator, dtype=torch.float64))
        layers.append(linear)
        if normalized:
            layers.append(Standardize(torch.randn(hidden, generator=generator, dtype=torch.float64),
                                      0.5 + torch.rand(hidden, generator=generator, dtype=torch.float64)))
        layers.append(nn.Sigmoid())
        width = hidden
    layers.append(nn.Linear(width, 10).double())
    return nn.Sequential(*layers)


def _sip_inputs(*, seed: int = 0, n: int = 50, in_features: int = 12, hidden: int = 20, normalized: bool = False,
                mode: str = "eval", q=None) -> dict:
    if n == hidden:
        raise ValueError("use n != hidden, so that percentiles over the wrong axis show up in the shape")
    model = _percentile_model(seed, in_features, hidden, normalized)
    model.train(mode == "train")
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.rand(n, in_features, generator=generator, dtype=torch.float64)
    return {"model": model, "x": x, "q": q, "n": n, "hidden": hidden, "normalized": normalized, "mode": mode}


def _sip_probe(record, sigmoid_input_percentiles, inputs) -> None:
    model, x = inputs["model"], inputs["x"].clone()
    kwargs = {} if inputs["q"] is None else {"q": inputs["q"]}
    record["out"] = call_learner(sigmoid_input_percentiles, model, x, **kwargs)
    record["hooks_left"] = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    record["modes_after"] = [m.training for m in model.modules()]
    record["x_changed"] = not torch.equal(x, inputs["x"])


@check(inputs=_sip_inputs, probe=_sip_probe)
def check_sigmoid_input_percentiles(record, inputs) -> None:
    """``sigmoid_input_percentiles(model, x, q)`` equals ``np.percentile(s, q, axis=0)`` with ``s`` the input of
    the model's last sigmoid on ``x``: shape (len(q), H). ``q=None`` checks the default (15, 50, 85).
    The model's mode and hooks must be as they were, and ``x`` unchanged."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    model, x, q, mode = inputs["model"], inputs["x"], inputs["q"], inputs["mode"]
    percents = PERCENTS if q is None else tuple(float(p) for p in q)
    layers = " -> ".join(type(layer).__name__ for layer in model)
    what = (f"sigmoid_input_percentiles(model, x{', q=' + repr(q) if q is not None else ''}) for the model "
            f"{layers} in {mode} mode and x of shape {tuple(x.shape)}")
    actual = _array(record["out"], what)
    s = _numpy(sigmoid_input(model, x))
    with torch.no_grad():
        after = _numpy(torch.sigmoid(sigmoid_input(model, x)))
    expected = np.percentile(s, percents, axis=0)
    mistakes = {
        recognised("cap-percentiles-wrong-axis", WRONG_AXIS_HINT): np.percentile(s, percents, axis=1),
        recognised("cap-read-after-sigmoid", AFTER_SIGMOID_HINT): np.percentile(after, percents, axis=0),
    }
    rtol, atol = TOLERANCE
    assert_close(actual, expected, what=what, rtol=rtol, atol=atol, mistakes=mistakes)
    if record["x_changed"] is not False:
        raise CheckFailed(f"{what} changed x in place")
    if record["hooks_left"] != 0:
        raise CheckFailed(f"{what} left {record['hooks_left']} hook(s) registered on the model: keep the handle "
                          f"that register_forward_pre_hook returns and call handle.remove() (in a `finally:` block)")
    if record["modes_after"] != [m.training for m in model.modules()]:
        raise CheckFailed(f"{what} changed the model's mode: it was in {mode} mode. Measure in the mode the "
                          f"caller chose, without calling model.eval() or model.train()")


# ---------------------------------------------------------------- steps_to_accuracy

def _sta_inputs(*, seed: int = 0, records: int = 10, every: int = 20, target=None, plateau: bool = False) -> dict:
    """A noisy rising accuracy curve recorded at every-th steps; ``target`` None: one of its own values
    (reached exactly somewhere); ``plateau``: the curve stays below the target (None expected)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(1, records + 1) * every
    accuracy = np.round(np.clip(1 - 0.9 * np.exp(-steps / (every * records / 3)) + rng.normal(0, 0.03, records),
                                0, 1), 3)
    if target is None:
        target = float(accuracy[rng.integers(0, records)])
    if plateau:
        target = float(accuracy.max()) + 0.01
    return {"steps": torch.tensor(steps), "accuracy": torch.tensor(accuracy, dtype=torch.float64),
            "target": float(target)}


def _sta_probe(record, steps_to_accuracy, inputs) -> None:
    steps, accuracy = inputs["steps"].clone(), inputs["accuracy"].clone()
    record["out"] = call_learner(steps_to_accuracy, steps, accuracy, inputs["target"])


@check(inputs=_sta_inputs, probe=_sta_probe)
def check_steps_to_accuracy(record, inputs) -> None:
    """``steps_to_accuracy(steps, accuracy, target)`` is the first recorded step whose accuracy is >= target
    (a Python int, or a 0-d integer tensor), or None when no recorded accuracy reaches it."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    steps, accuracy, target = inputs["steps"].numpy(), inputs["accuracy"].numpy(), inputs["target"]
    expected = first_step(steps, accuracy, target)
    out = record["out"]
    if isinstance(out, TensorData) and out.array.size == 1 and out.array.dtype.kind in "iu":
        out = int(out.array.reshape(-1)[0])
    what = (f"steps_to_accuracy(steps, accuracy, target={target:g}) for steps {steps.tolist()} and accuracy "
            f"{accuracy.tolist()}")
    if out is None and expected is None:
        return
    if expected is None:
        raise CheckFailed(f"{what} returned {out!r}, expected None: no recorded accuracy reaches the target")
    if type(out) is not int:
        raise CheckFailed(f"{what} returned {out!r} (a {type_name(out)}), expected the step {expected} as an int")
    if out != expected:
        raise CheckFailed(f"{what} returned {out}, expected {expected}: the first recorded step whose accuracy "
                          f"is at least the target (>=)")


# ---------------------------------------------------------------- paper_network

def _net_inputs(*, seed: int = 0, in_features: int = 16, std: float = 0.1, hidden: int = 100) -> dict:
    generator = torch.Generator().manual_seed(seed + 7)
    return {"seed": seed, "in_features": in_features, "std": std, "hidden": hidden,
            "x": torch.rand(30, in_features, generator=generator, dtype=torch.float64)}


def _net_probe(record, paper_network, BatchNorm, inputs) -> None:
    for batchnorm in (False, True):
        key = "bn" if batchnorm else "plain"
        model = call_learner(paper_network, BatchNorm, batchnorm, inputs["in_features"], inputs["std"],
                             inputs["seed"], hidden=inputs["hidden"], name="paper_network")
        record[f"{key}_is_sequential"] = isinstance(model, nn.Sequential)
        if not isinstance(model, nn.Sequential):
            record[f"{key}_type"] = type(model).__name__
            return
        record[f"{key}_layers"] = ["BatchNorm" if isinstance(layer, BatchNorm) else type(layer).__name__
                                   for layer in model]
        record[f"{key}_weights"] = [[layer.weight, layer.bias] for layer in model if isinstance(layer, nn.Linear)]
        model.train()
        with torch.no_grad():
            record[f"{key}_out"] = call_learner(model, inputs["x"].clone(), name="the network")


@check(inputs=_net_inputs, probe=_net_probe, learners=2)
def check_paper_network(record, inputs) -> None:
    """``paper_network(BatchNorm, batchnorm, in_features, std, seed, hidden=...)``: the layers in the paper's
    order, float64, the Linear weights drawn from N(0, std^2) in order with one generator seeded with ``seed``,
    zero biases, and (in train mode) the output of torch's reference network built the same way."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    in_features, std, seed, hidden, x = (inputs["in_features"], inputs["std"], inputs["seed"], inputs["hidden"],
                                         inputs["x"])
    for batchnorm, key in ((False, "plain"), (True, "bn")):
        call = f"paper_network(BatchNorm1d, {batchnorm}, {in_features}, {std:g}, {seed}, hidden={hidden})"
        if record[f"{key}_is_sequential"] is not True:
            raise CheckFailed(f"{call} should return a torch.nn.Sequential, but it returned a {record[f'{key}_type']}")
        reference = reference_network(batchnorm, in_features, std, seed, hidden=hidden)
        expected_layers = ["BatchNorm" if isinstance(layer, nn.BatchNorm1d) else type(layer).__name__
                           for layer in reference]
        layers = record[f"{key}_layers"]
        if layers != expected_layers:
            raise CheckFailed(f"{call} has the layers {layers}, expected {expected_layers} (BatchNorm: the class "
                              f"passed as BatchNorm, your BatchNorm1d)")
        weights = record[f"{key}_weights"]
        linears = [layer for layer in reference if isinstance(layer, nn.Linear)]
        for i, (pair, layer) in enumerate(zip(weights, linears)):
            for name, value, expected in (("weight", pair[0], layer.weight), ("bias", pair[1], layer.bias)):
                if not isinstance(value, TensorData) or value.dtype != "float64":
                    raise CheckFailed(f"{call}: the {name} of Linear layer {i} should be a float64 tensor, but it is "
                                      f"{value.dtype if isinstance(value, TensorData) else type_name(value)}: "
                                      f"convert the model with .double()")
                assert_close(value.array, _numpy(expected), what=f"the {name} of Linear layer {i} of {call}",
                             rtol=0, atol=0)
        reference.train()
        with torch.no_grad():
            expected_out = _numpy(reference(x))
        assert_close(_array(record[f"{key}_out"], "the output"), expected_out,
                     what=f"the output of {call} in train mode for x of shape {tuple(x.shape)}",
                     rtol=1e-9, atol=1e-10)


# ---------------------------------------------------------------- run_experiment

def _run_inputs(*, seed: int = 0, steps: int = 40, record_every: int = 10, lr: float = 0.5, std: float = 0.1,
                batch_size: int = 60, features: int = 64, n_train: int = 300, n_test: int = 120,
                hidden: int = 100) -> dict:
    X_train, y_train, X_test, y_test = make_data(seed, n_train, n_test, features)
    return {"data": (X_train, y_train, X_test, y_test), "steps": steps, "record_every": record_every, "lr": lr,
            "std": std, "batch_size": batch_size, "seed": seed, "hidden": hidden}


def _call_run(run_experiment, BatchNorm, inputs, seed=None):
    X_train, y_train, X_test, y_test = (t.clone() for t in inputs["data"])
    kwargs = dict(steps=inputs["steps"], record_every=inputs["record_every"], lr=inputs["lr"], std=inputs["std"],
                  batch_size=inputs["batch_size"], seed=inputs["seed"] if seed is None else seed)
    if inputs["hidden"] != 100:
        kwargs["hidden"] = inputs["hidden"]
    return call_learner(run_experiment, BatchNorm, X_train, y_train, X_test, y_test, name="run_experiment", **kwargs)


def _run_probe(record, run_experiment, BatchNorm, inputs) -> None:
    record["out"] = _call_run(run_experiment, BatchNorm, inputs)


def _curves(result, what: str) -> dict:
    """The learner's returned curves as arrays: {"steps", "baseline": {...}, "batchnorm": {...}}."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not isinstance(result, dict):
        raise CheckFailed(f"{what} should return a dict with keys 'steps', 'baseline' and 'batchnorm', but it "
                          f"returned a {type_name(result)}")
    missing = {"steps", "baseline", "batchnorm"} - set(result)
    if missing:
        raise CheckFailed(f"{what} returned a dict without the key(s) {sorted(missing)}")
    curves = {"steps": _array(result["steps"], "result['steps']")}
    for name in ("baseline", "batchnorm"):
        part = result[name]
        if not isinstance(part, dict) or not {"accuracy", "percentiles"} <= set(part):
            raise CheckFailed(f"result[{name!r}] should be a dict with keys 'accuracy' and 'percentiles'")
        curves[name] = {key: _array(part[key], f"result[{name!r}][{key!r}]") for key in ("accuracy", "percentiles")}
    return curves


@check(inputs=_run_inputs, probe=_run_probe, learners=2)
def check_run_experiment(record, inputs) -> None:
    """``run_experiment(BatchNorm1d, ...)`` returns the curves of the reference recipe run with
    torch.nn.BatchNorm1d: recorded steps, test accuracy and last-sigmoid input percentiles (T, 3, hidden)
    of both networks, to float64 round-off (rtol 1e-7)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    X_train, y_train, X_test, y_test = inputs["data"]
    settings = dict(steps=inputs["steps"], record_every=inputs["record_every"], lr=inputs["lr"], std=inputs["std"],
                    batch_size=inputs["batch_size"], seed=inputs["seed"], hidden=inputs["hidden"])
    what = (f"run_experiment(BatchNorm1d, X_train {tuple(X_train.shape)}, y_train, X_test {tuple(X_test.shape)}, "
            f"y_test, " + ", ".join(f"{k}={v}" for k, v in settings.items() if k != "hidden")
            + (f", hidden={inputs['hidden']}" if inputs["hidden"] != 100 else "") + ")")
    curves = _curves(record["out"], what)
    expected = reference_run(X_train, y_train, X_test, y_test, **settings)
    rtol, atol = TOLERANCE
    assert_close(curves["steps"], _numpy(expected["steps"]), what=f"result['steps'] of {what}", rtol=0, atol=0)
    pairs = [(name, key) for name in ("baseline", "batchnorm") for key in ("accuracy", "percentiles")]
    if all(_matches(curves[name][key], expected[name][key], rtol, atol) for name, key in pairs):
        return
    hint = None
    for text, mistake in MISTAKE_RUNS:  # only now: each is one more run of the reference
        run = reference_run(X_train, y_train, X_test, y_test, mistake=mistake, **settings)
        if all(_matches(curves[name][key], run[name][key], rtol, atol) for name, key in pairs):
            hint = _named(text)
            break
    for name, key in pairs:
        actual = curves[name][key]
        assert_close(actual, _numpy(expected[name][key]), what=f"result[{name!r}][{key!r}] of {what}",
                     rtol=rtol, atol=atol, mistakes={hint: actual} if hint else None)


def _named(hint: str) -> str:
    """The hint of a mistake run, marked with its id (autograder/mistakes.py) for the class report."""
    if hint == EVAL_MODE_HINT:
        return recognised("cap-bn-eval-in-training", hint)
    if hint == TRAINING_BATCH_HINT:
        return recognised("cap-accuracy-on-training-batch", hint)
    return recognised("cap-test-data-in-running-stats", hint)


MISTAKE_RUNS = [  # (hint, the reference run that makes the mistake)
    (EVAL_MODE_HINT, "eval_in_training"),
    (TRAINING_BATCH_HINT, "training_batch"),
    (TRAINING_BATCH_HINT, "training_batch_eval"),
    (TEST_STATISTICS_HINT.format(how="the test set was passed in training mode (model.eval() was not called "
                                     "before measuring), so it was normalized with its own batch statistics and "
                                     "updated the running statistics"), "test_in_train_mode"),
    (TEST_STATISTICS_HINT.format(how="your BatchNorm1d updates running_mean and running_var in eval mode too, so "
                                     "every measurement on the test set changed them"), "eval_updates_stats"),
]


def _matches(actual: np.ndarray, expected: torch.Tensor, rtol: float, atol: float) -> bool:
    from autograder.compare import likely_mistake

    return likely_mistake(actual, {"same": _numpy(expected)}, rtol, atol) is not None


# ---------------------------------------------------------------- the outcome over seeds

OUTCOME_SEEDS = 3          # runs per check, all of which must show both findings
OUTCOME_TOLERANCE = 0.02   # the target is the baseline's final test accuracy minus this (300 test examples:
                           # at 98% accuracy one standard deviation of the measured accuracy is 0.008)


def _outcome_inputs(*, seed: int = 0, steps: int = 160, record_every: int = 20, lr: float = 1.0,
                    std: float = 0.3) -> dict:
    X_train, y_train, X_test, y_test = make_data(seed, 600, 300, 64)
    return {"data": (X_train, y_train, X_test, y_test), "steps": steps, "record_every": record_every, "lr": lr,
            "std": std, "batch_size": 60, "seed": seed, "hidden": 100}


def _outcome_probe(record, run_experiment, BatchNorm, inputs) -> None:
    record["runs"] = [_call_run(run_experiment, BatchNorm, inputs, seed=inputs["seed"] + k)
                      for k in range(OUTCOME_SEEDS)]


@check(inputs=_outcome_inputs, probe=_outcome_probe, learners=2)
def check_experiment_outcome(record, inputs) -> None:
    """The paper's two findings, in each of 3 runs (seeds seed, seed+1, seed+2; the paper's network on 600
    synthetic training images, std 0.3, learning rate 1.0, 160 steps, records every 20): (1) the BN network
    reaches the baseline's final test accuracy, less ``OUTCOME_TOLERANCE`` (0.02), at an earlier recorded step
    than the baseline does; (2) the percentile band of the last sigmoid's input drifts less with BN (max - min
    over the records, averaged over units and percentiles). The reference recipe showed both in every one of
    the seeds 0 to 299 (tests/grading/test_reproducing_batch_norm_checks.py reruns a sample of them)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    runs = record["runs"]
    if type(runs) is not list:
        raise CheckFailed("the grader received no runs of run_experiment")
    failures = []
    for k, result in enumerate(runs):
        curves = _curves(result, f"run_experiment(..., seed={inputs['seed'] + k})")
        steps = curves["steps"]
        base, bn = curves["baseline"], curves["batchnorm"]
        target = float(base["accuracy"][-1]) - OUTCOME_TOLERANCE
        base_steps = first_step(steps, base["accuracy"], target)
        bn_steps = first_step(steps, bn["accuracy"], target)
        drift_base, drift_bn = band_drift(base["percentiles"]), band_drift(bn["percentiles"])
        problems = []
        if bn_steps is None or base_steps is None or bn_steps >= base_steps:
            problems.append(f"the BN network reached {target:.3f} (the baseline's final test accuracy less "
                            f"{OUTCOME_TOLERANCE}) at step {bn_steps}, the baseline at step {base_steps}")
        if not drift_bn < drift_base:
            problems.append(f"the percentile drift is {drift_bn:.3f} with BN and {drift_base:.3f} without")
        if problems:
            failures.append(f"seed {inputs['seed'] + k}: " + "; ".join(problems))
    if failures:
        raise CheckFailed("the experiment does not show the paper's findings in "
                          f"{len(failures)} of {len(runs)} runs:\n  " + "\n  ".join(failures))
