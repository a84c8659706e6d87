"""Checks for chapter 4, batch normalization at inference (exercise ``04_batchnorm_inference``).

The learner writes:

- ``class BatchNorm1d(torch.nn.Module)`` with ``__init__(num_features, eps=1e-5,
  momentum=0.1)``, parameters ``weight``/``bias`` and buffers ``running_mean``,
  ``running_var``, ``num_batches_tracked``, for inputs (N, C) and (N, C, L). It is
  run side by side with ``torch.nn.BatchNorm1d`` (both in float64 unless a
  check says otherwise) and compared step by step: outputs and gradients in
  training mode, running statistics after every training step, eval-mode
  outputs, the error for a training batch of one, ``load_state_dict``. While
  the learner's module runs, PyTorch's own batch norm is replaced by a
  tripwire, so calling it fails the check.
- ``population_statistics(batch_means, batch_vars, batch_size) -> (mean, var)``,
  the paper's inference estimate, compared with the mean of the data and
  m/(m-1) times the average biased batch variance.
- ``fold_batchnorm(linear, bn) -> torch.nn.Linear``, compared with
  ``bn(linear(x))`` in eval mode.

Each check builds its inputs from ``seed``, shapes and hyperparameters, so
hidden tests vary the inputs, not the logic.
"""
from __future__ import annotations

import contextlib
import copy

import numpy as np
import torch
from torch import nn

from autograder.compare import CheckFailed, assert_close, call_learner

_DEFAULT = object()  # "call without this argument", to check the learner's defaults

TOLERANCE = {  # (rtol, atol) by the dtype the modules run in
    torch.float64: (1e-6, 1e-8),
    torch.float32: (1e-4, 1e-5),
}

BATCH_OF_ONE_MESSAGE = "Expected more than 1 value per channel when training"


# ---------------------------------------------------------------- helpers

def _raise_tripwire(*args, **kwargs):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    raise CheckFailed(
        "your module called PyTorch's batch norm (torch.nn.functional.batch_norm, torch.batch_norm or "
        "nn.BatchNorm1d): the exercise is to compute the batch statistics, the normalization and the "
        "running averages yourself with tensor operations (mean, var, sqrt, ...)"
    )


_TRIPWIRE_TARGETS = [(torch.nn.functional, "batch_norm"), (torch, "batch_norm"), (torch, "native_batch_norm"),
                     (torch, "_native_batch_norm_legit"), (torch, "_batch_norm_impl_index"),
                     (torch, "_native_batch_norm_legit_no_training")]


@contextlib.contextmanager
def tripwire():
    """Replace PyTorch's batch norm functions while the learner's code runs; restore them after."""
    saved = [(owner, name, getattr(owner, name)) for owner, name in _TRIPWIRE_TARGETS if hasattr(owner, name)]
    try:
        for owner, name, _ in saved:
            setattr(owner, name, _raise_tripwire)
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def _numpy(value, what: str) -> np.ndarray:
    """A learner's tensor (or array) as float64 NumPy, or a CheckFailed saying why not."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to `return` it?")
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    if type(value) in (int, float):
        return np.asarray(value, dtype=np.float64)
    raise CheckFailed(f"{what} should be a torch.Tensor, but it is a {type(value).__name__}")


def _make_module(BatchNorm1d, num_features, eps=_DEFAULT, momentum=_DEFAULT, dtype=torch.float64):
    """The learner's module, built with these arguments and converted to ``dtype``."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    kwargs = {}
    if eps is not _DEFAULT:
        kwargs["eps"] = eps
    if momentum is not _DEFAULT:
        kwargs["momentum"] = momentum
    module = call_learner(BatchNorm1d, num_features, name="BatchNorm1d", **kwargs)
    if not isinstance(module, nn.Module):
        raise CheckFailed(f"BatchNorm1d({num_features}) should be a torch.nn.Module, but it is a {type(module).__name__}: "
                          "declare it as `class BatchNorm1d(torch.nn.Module)` and call super().__init__()")
    _require_state(module)
    return module.to(dtype)


def _require_state(module) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    parameters = dict(module.named_parameters(recurse=False))
    buffers = dict(module.named_buffers(recurse=False))
    for name in ("weight", "bias"):
        if name not in parameters:
            kind = "a plain attribute" if hasattr(module, name) else "missing"
            raise CheckFailed(f"`{name}` should be a learned parameter (torch.nn.Parameter) of BatchNorm1d, but it is "
                              f"{kind}: write self.{name} = torch.nn.Parameter(...)")
    for name in ("running_mean", "running_var", "num_batches_tracked"):
        if name not in buffers:
            kind = "a plain attribute (or a Parameter)" if hasattr(module, name) else "missing"
            raise CheckFailed(f"`{name}` should be a buffer of BatchNorm1d, but it is {kind}: use "
                              f"self.register_buffer({name!r}, ...) so that it is saved in state_dict() "
                              f"and moved by .to()/.double(), but not trained")


def _reference(num_features, eps, momentum, dtype=torch.float64) -> nn.BatchNorm1d:
    kwargs = {}
    if eps is not _DEFAULT:
        kwargs["eps"] = eps
    if momentum is not _DEFAULT:
        kwargs["momentum"] = momentum
    return nn.BatchNorm1d(num_features, **kwargs).to(dtype)


def _copy_affine(seed, *modules):
    """Give every module the same random weight and bias (so that gamma and beta matter)."""
    generator = torch.Generator().manual_seed(seed + 1000)
    c = modules[0].weight.shape[0]
    weight = 0.5 + torch.rand(c, generator=generator, dtype=torch.float64) * 1.5
    weight = weight * torch.where(torch.rand(c, generator=generator) < 0.2, -1.0, 1.0).to(torch.float64)
    bias = torch.randn(c, generator=generator, dtype=torch.float64)
    with torch.no_grad():
        for module in modules:
            module.weight.copy_(weight)
            module.bias.copy_(bias)


def _batch(seed, shape, step=0, dtype=torch.float64):
    """A batch whose features have different means and scales, drifting with ``step``."""
    rng = np.random.default_rng([seed, step])
    c = shape[1]
    base = np.random.default_rng(seed)
    loc = base.uniform(-3, 3, c) + 0.2 * step * base.uniform(-1, 1, c)
    scale = 10 ** base.uniform(-0.7, 0.7, c) * (1 + 0.05 * step)
    view = (1, c) if len(shape) == 2 else (1, c, 1)
    x = loc.reshape(view) + scale.reshape(view) * rng.standard_normal(shape)
    return torch.tensor(x, dtype=dtype)


def _forward(module, x, what="BatchNorm1d.forward"):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    with tripwire():
        out = call_learner(module, x, name=what)
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"{what} should return a torch.Tensor, but it returned {type(out).__name__}")
    return out


def _describe(shape, eps, momentum, dtype):
    parts = [f"input of shape {tuple(shape)}"]
    if eps is not _DEFAULT:
        parts.append(f"eps={eps:g}")
    if momentum is not _DEFAULT:
        parts.append(f"momentum={momentum}")
    parts.append(str(dtype).replace("torch.", ""))
    return ", ".join(parts)


def _dims(ndim):
    return (0,) if ndim == 2 else (0, 2)


def _view(ndim, c):
    return (1, c) if ndim == 2 else (1, c, 1)


# ---------------------------------------------------------------- __init__

def check_batchnorm_init(BatchNorm1d, *, num_features: int = 4, eps=_DEFAULT, momentum=_DEFAULT) -> None:
    """A new BatchNorm1d holds the four per-feature quantities at PyTorch's initial values.

    weight = 1 and bias = 0 (parameters), running_mean = 0 and running_var = 1
    (buffers), num_batches_tracked = 0; state_dict() has the same keys as
    torch.nn.BatchNorm1d's, so either can load the other's state.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    module = _make_module(BatchNorm1d, num_features, eps, momentum, dtype=torch.float32)
    reference = _reference(num_features, eps, momentum, dtype=torch.float32)
    for name, expected in [("weight", reference.weight), ("bias", reference.bias),
                           ("running_mean", reference.running_mean)]:
        assert_close(_numpy(getattr(module, name), name), expected.detach().numpy(),
                     what=f"{name} of a new BatchNorm1d({num_features})", rtol=0, atol=0)
    running_var = _numpy(module.running_var, "running_var")
    if running_var.shape == (num_features,) and np.all(running_var == 0):
        raise CheckFailed("running_var of a new BatchNorm1d is all zeros: running_var must start at ones "
                          "(running_var initialised to zeros would make eval mode divide by sqrt(0 + eps) "
                          "before enough batches have been seen)")
    assert_close(running_var, reference.running_var.numpy(), what=f"running_var of a new BatchNorm1d({num_features})",
                 rtol=0, atol=0)
    tracked = module.num_batches_tracked
    if tracked.dtype != torch.long or tracked.dim() != 0 or int(tracked) != 0:
        raise CheckFailed(f"num_batches_tracked should start as torch.tensor(0, dtype=torch.long) (a 0-d integer tensor, "
                          f"as in PyTorch), but it is {tracked!r}")
    keys, expected_keys = set(module.state_dict()), set(reference.state_dict())
    if keys != expected_keys:
        raise CheckFailed(f"state_dict() of your BatchNorm1d has keys {sorted(keys)}, torch.nn.BatchNorm1d's has "
                          f"{sorted(expected_keys)}: keep exactly these names (and no other buffers or parameters)")


# ---------------------------------------------------------------- training mode

def _forward_mistakes(x, weight, bias, eps) -> dict[str, np.ndarray]:
    """Known wrong training-mode outputs, computed in float64 NumPy."""
    ndim, c = x.ndim, x.shape[1]
    dims, view = _dims(ndim), _view(ndim, c)
    w, b = weight.reshape(view), bias.reshape(view)
    n = x.size // c

    def normalize(axes, ddof=0, eps_outside=False):
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True, ddof=ddof)
        denominator = np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps)
        return (x - mean) / denominator

    mistakes = {
        "the forward pass used the unbiased batch variance (dividing by n - 1, torch's default x.var()): "
        "batch norm normalizes with the biased variance, x.var(..., unbiased=False) / correction=0":
            normalize(dims, ddof=1) * w + b if n > 1 else None,
        "eps was added outside the square root: use (x - mean) / sqrt(var + eps), not / (sqrt(var) + eps)":
            normalize(dims, eps_outside=True) * w + b,
        "weight (gamma) and bias (beta) were not applied: return x_hat * weight + bias": normalize(dims),
        "weight and bias were swapped: gamma (weight) multiplies, beta (bias) is added": normalize(dims) * b + w,
    }
    if ndim == 2:
        mistakes["the statistics were taken per example, over the features (dim 1): that is layer normalization; "
                 "batch norm takes one mean and variance per feature, over the batch (dim 0)"] = normalize((1,)) * w + b
        mistakes["one mean and variance over the whole batch (all dims): batch norm takes one per feature (dim 0)"] = \
            normalize((0, 1)) * w + b
    else:
        mistakes["for (N, C, L) input the statistics were taken over dim 0 only, giving one per (channel, position): "
                 "batch norm takes one per channel, over dims 0 and 2 (the batch and the length)"] = normalize((0,)) * w + b
        mistakes["for (N, C, L) input the statistics were taken over dim 2 only, per example and channel (that is "
                 "instance normalization): batch norm takes one per channel, over dims 0 and 2"] = normalize((2,)) * w + b
        mistakes["for (N, C, L) input the statistics were taken per example over dims 1 and 2 (layer normalization): "
                 "batch norm takes one per channel, over dims 0 and 2"] = normalize((1, 2)) * w + b
    return mistakes


def check_batchnorm_training(BatchNorm1d, *, seed: int = 0, shape=(8, 4), eps=_DEFAULT, momentum=_DEFAULT,
                             dtype=torch.float64) -> None:
    """Training-mode output and gradients (input, weight, bias) equal torch.nn.BatchNorm1d's.

    Both modules get the same random weight and bias; the upstream gradient is random.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    c = shape[1]
    module = _make_module(BatchNorm1d, c, eps, momentum, dtype).train()
    reference = _reference(c, eps, momentum, dtype).train()
    _copy_affine(seed, module, reference)
    x = _batch(seed, shape, dtype=dtype)
    upstream = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)
    where = _describe(shape, eps, momentum, dtype)
    rtol, atol = TOLERANCE[dtype]

    x_ref = x.clone().requires_grad_(True)
    expected = reference(x_ref)
    (expected * upstream).sum().backward()

    x_mine = x.clone().requires_grad_(True)
    out = _forward(module, x_mine)
    eps_value = reference.eps
    x64 = x.to(torch.float64).numpy()
    w64, b64 = reference.weight.detach().to(torch.float64).numpy(), reference.bias.detach().to(torch.float64).numpy()
    assert_close(_numpy(out, "the output of BatchNorm1d"), expected.detach().to(torch.float64).numpy(),
                 what=f"the training-mode output of BatchNorm1d for {where}", rtol=rtol, atol=atol,
                 mistakes=_forward_mistakes(x64, w64, b64, eps_value))

    if not out.requires_grad:
        raise CheckFailed("the output of BatchNorm1d does not require grad: it must be computed from x and the "
                          "parameters with torch operations (no .detach(), .data, .numpy() or torch.no_grad() around "
                          "the normalization), so that backpropagation reaches x, weight and bias")
    with tripwire():
        call_learner(lambda: (out * upstream).sum().backward(), name="backward through BatchNorm1d")
    for name, actual, wanted in [("weight", module.weight.grad, reference.weight.grad),
                                 ("bias", module.bias.grad, reference.bias.grad)]:
        if actual is None:
            raise CheckFailed(f"{name} received no gradient: it must be an nn.Parameter used in the forward pass")
        assert_close(_numpy(actual, f"{name}.grad"), wanted.to(torch.float64).numpy(),
                     what=f"the gradient of the loss with respect to {name} for {where}", rtol=rtol, atol=atol)
    if x_mine.grad is None:
        raise CheckFailed("no gradient reached the input x: the output must be computed from x with torch operations")
    dims, view = _dims(len(shape)), _view(len(shape), c)
    var = x64.var(axis=dims, keepdims=True)
    detached = upstream.to(torch.float64).numpy() * w64.reshape(view) / np.sqrt(var + eps_value)
    assert_close(_numpy(x_mine.grad, "x.grad"), x_ref.grad.to(torch.float64).numpy(),
                 what=f"the gradient of the loss with respect to the input x for {where}", rtol=rtol, atol=atol,
                 mistakes={"the batch mean and variance were detached from the graph (or computed without grad): the "
                           "gradient must also flow through the batch statistics, which depend on x": detached})


def check_batch_of_one(BatchNorm1d, *, num_features: int = 3, length: int = 4, seed: int = 0) -> None:
    """A training batch with one value per channel raises ValueError as PyTorch does; (1, C, L>1) works.

    Inputs of shape (1, C) and (1, C, 1) must raise ValueError("Expected more than 1
    value per channel when training, ..."); (1, C, L) with L > 1 has L values per
    channel and must give PyTorch's output.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    for shape in [(1, num_features), (1, num_features, 1)]:
        module = _make_module(BatchNorm1d, num_features).train()
        x = _batch(seed, shape)
        try:
            with tripwire():
                out = module(x)
        except NotImplementedError:
            raise CheckFailed("`BatchNorm1d` is not implemented yet: replace `raise NotImplementedError()` with your code") from None
        except CheckFailed:
            raise
        except ValueError as error:
            if "more than 1 value per channel" not in str(error):
                raise CheckFailed(f"a training batch of shape {shape} raised ValueError({str(error)!r}); PyTorch's "
                                  f"message starts with {BATCH_OF_ONE_MESSAGE!r}") from None
            continue
        except Exception as error:
            raise CheckFailed(f"a training batch of shape {shape} raised {type(error).__name__}: {error}; PyTorch raises "
                              f"ValueError({BATCH_OF_ONE_MESSAGE!r}, ...), raise the same exception type") from None
        raise CheckFailed(
            f"BatchNorm1d in training mode returned a result for a batch of shape {shape}; it must raise "
            f"ValueError({BATCH_OF_ONE_MESSAGE!r}, ...) as PyTorch does: with one value per channel the biased "
            f"variance is 0 (the unbiased one is undefined), so the output would be just bias and the running "
            f"variance would be polluted. Check the number of values per channel, N * L, before normalizing"
            + (" (your output held NaN)" if isinstance(out, torch.Tensor) and torch.isnan(out).any() else ""))
    check_batchnorm_training(BatchNorm1d, seed=seed, shape=(1, num_features, length))


# ---------------------------------------------------------------- running statistics

def _simulate(batches, momentum, *, biased=False, reversed_momentum=False, var_start=1.0, fixed_for_none=None,
              frozen=False):
    """Running (mean, var) after each batch under one update rule, in float64 NumPy."""
    c = batches[0].shape[1]
    mean, var = np.zeros(c), np.full(c, var_start)
    history = []
    for t, x in enumerate(batches, start=1):
        dims = _dims(x.ndim)
        batch_mean = x.mean(axis=dims)
        batch_var = x.var(axis=dims, ddof=0 if biased else 1)
        factor = (1.0 / t if fixed_for_none is None else fixed_for_none) if momentum is None else momentum
        if reversed_momentum:
            factor = 1 - factor
        if not frozen:
            mean = (1 - factor) * mean + factor * batch_mean
            var = (1 - factor) * var + factor * batch_var
        history.append((mean.copy(), var.copy()))
    return history


def check_running_statistics(BatchNorm1d, *, seed: int = 0, shape=(16, 4), steps: int = 20, eps=_DEFAULT,
                             momentum=_DEFAULT, dtype=torch.float64) -> None:
    """running_mean, running_var and num_batches_tracked equal PyTorch's after every training step.

    The batches drift from step to step, so the momentum convention matters.
    ``momentum=None`` selects PyTorch's cumulative (simple) average.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    c = shape[1]
    module = _make_module(BatchNorm1d, c, eps, momentum, dtype).train()
    reference = _reference(c, eps, momentum, dtype).train()
    m = reference.momentum
    batches = [_batch(seed, shape, step, dtype) for step in range(steps)]
    numpy_batches = [b.to(torch.float64).numpy() for b in batches]
    wrong = {
        "running_var holds the biased batch variance (dividing by n): PyTorch normalizes with the biased variance "
        "but stores the unbiased one (dividing by n - 1, n = N * L values per channel) in running_var":
            _simulate(numpy_batches, m, biased=True),
        "the momentum convention is reversed: PyTorch's momentum weights the NEW batch, running = (1 - momentum) * "
        "running + momentum * batch_statistic (momentum=0.1 keeps 90% of the old value); the paper/Keras-style "
        "alpha=0.99 is the weight of the OLD value":
            _simulate(numpy_batches, m, reversed_momentum=True) if m is not None else None,
        "running_var must start at ones (yours looks initialised to zeros)": _simulate(numpy_batches, m, var_start=0.0),
        "momentum=None must give the cumulative (simple) average of all batches so far: use the factor "
        "1 / num_batches_tracked instead of a fixed momentum":
            _simulate(numpy_batches, m, fixed_for_none=0.1) if m is None else None,
        "the running statistics were not updated in training mode: after each training batch, "
        "running = (1 - momentum) * running + momentum * batch_statistic": _simulate(numpy_batches, m, frozen=True),
    }
    where = _describe(shape, eps, momentum, dtype)
    rtol, atol = TOLERANCE[dtype]
    for step, x in enumerate(batches, start=1):
        with torch.no_grad():
            reference(x)
            _forward(module, x.clone())
        for index, name in enumerate(("running_mean", "running_var")):
            mistakes = {hint: (history[step - 1][index] if history is not None else None) for hint, history in wrong.items()}
            assert_close(_numpy(getattr(module, name), name), getattr(reference, name).to(torch.float64).numpy(),
                         what=f"{name} after training step {step} of {steps} ({where})", rtol=rtol, atol=atol,
                         mistakes=mistakes)
        tracked = getattr(module, "num_batches_tracked", None)
        if not isinstance(tracked, torch.Tensor) or int(tracked) != step:
            raise CheckFailed(f"num_batches_tracked is {tracked!r} after {step} training step(s), expected {step}: add 1 "
                              "to it at every training-mode forward pass (PyTorch counts the batches; momentum=None "
                              "needs the count)")


# ---------------------------------------------------------------- eval mode

def check_eval_mode(BatchNorm1d, *, seed: int = 0, shape=(12, 4), train_steps: int = 5, eps=_DEFAULT,
                    momentum=_DEFAULT, dtype=torch.float64) -> None:
    """After some training steps, eval() normalizes with the running statistics and updates nothing.

    The eval batch comes from another distribution than the training batches, so
    batch statistics and running statistics give clearly different outputs. A
    single example in eval mode must work and give the same row as in the batch.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    c = shape[1]
    module = _make_module(BatchNorm1d, c, eps, momentum, dtype).train()
    reference = _reference(c, eps, momentum, dtype).train()
    _copy_affine(seed, module, reference)
    with torch.no_grad():
        for step in range(train_steps):
            x = _batch(seed, shape, step, dtype)
            reference(x)
            _forward(module, x.clone())
    module.eval()
    reference.eval()
    before = {name: getattr(module, name).detach().clone() for name in ("running_mean", "running_var", "num_batches_tracked")}
    x = _batch(seed + 7, shape, step=3, dtype=dtype) * 2 + 1  # not the training distribution
    with torch.no_grad():
        expected = reference(x).to(torch.float64).numpy()
        actual = _numpy(_forward(module, x.clone()), "the eval-mode output of BatchNorm1d")
    changed = [name for name, value in before.items() if not torch.equal(getattr(module, name), value)]

    x64, dims, view = x.to(torch.float64).numpy(), _dims(len(shape)), _view(len(shape), c)
    w64 = reference.weight.detach().to(torch.float64).numpy().reshape(view)
    b64 = reference.bias.detach().to(torch.float64).numpy().reshape(view)
    batch_stats = (x64 - x64.mean(axis=dims, keepdims=True)) / np.sqrt(x64.var(axis=dims, keepdims=True) + reference.eps)
    batch_stats = batch_stats * w64 + b64
    rtol, atol = TOLERANCE[dtype]
    where = _describe(shape, eps, momentum, dtype)
    if actual.shape == expected.shape and np.allclose(actual, batch_stats, rtol=rtol, atol=atol) \
            and not np.allclose(actual, expected, rtol=rtol, atol=atol):
        raise CheckFailed(
            f"in eval mode your BatchNorm1d used the batch statistics ({where}): after module.eval() "
            "(self.training is False) it must normalize with running_mean and running_var, so that an example's "
            "output does not depend on the other examples in its batch"
            + (f"; it also changed {changed} in eval mode" if changed else ""))
    if changed:
        raise CheckFailed(
            f"{', '.join(changed)} changed in eval mode ({where}): after module.eval() (self.training is False) the "
            "running statistics are fixed; update them only in training mode")
    running_mean = reference.running_mean.to(torch.float64).numpy().reshape(view)
    running_var = reference.running_var.to(torch.float64).numpy().reshape(view)
    assert_close(actual, expected, what=f"the eval-mode output of BatchNorm1d for {where}", rtol=rtol, atol=atol,
                 mistakes={
                     "eval mode normalized with the running statistics but eps was added outside the square root":
                         (x64 - running_mean) / (np.sqrt(running_var) + reference.eps) * w64 + b64,
                     "eval mode ignored weight and bias: return x_hat * weight + bias":
                         (x64 - running_mean) / np.sqrt(running_var + reference.eps),
                 })
    with torch.no_grad():
        one = _forward(module, x[:1].clone(), what="BatchNorm1d.forward (eval mode, a batch of one example)")
    assert_close(_numpy(one, "the eval-mode output for one example"), expected[:1],
                 what=f"the eval-mode output for a batch of ONE example (the first row of the batch above)",
                 rtol=rtol, atol=atol)


def check_load_state_dict(BatchNorm1d, *, seed: int = 0, num_features: int = 5, length=None, train_steps: int = 4,
                          eps=_DEFAULT, momentum=_DEFAULT) -> None:
    """Your module loads a trained torch.nn.BatchNorm1d's state_dict and then behaves like it.

    Checks eval-mode outputs after loading and, since num_batches_tracked is loaded
    too, the running statistics after one more training step.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape = (10, num_features) if length is None else (6, num_features, length)
    reference = _reference(num_features, eps, momentum).train()
    _copy_affine(seed, reference)
    with torch.no_grad():
        for step in range(train_steps):
            reference(_batch(seed, shape, step))
    module = _make_module(BatchNorm1d, num_features, eps, momentum)
    call_learner(module.load_state_dict, reference.state_dict(), name="load_state_dict")
    module.eval()
    reference.eval()
    x = _batch(seed + 3, shape, step=2)
    where = _describe(shape, eps, momentum, torch.float64)
    rtol, atol = TOLERANCE[torch.float64]
    with torch.no_grad():
        assert_close(_numpy(_forward(module, x.clone()), "the output"), reference(x).numpy(),
                     what=f"the eval-mode output after load_state_dict of a trained torch.nn.BatchNorm1d ({where})",
                     rtol=rtol, atol=atol)
    module.train()
    reference.train()
    x = _batch(seed + 4, shape, step=train_steps)
    with torch.no_grad():
        reference(x)
        _forward(module, x.clone())
    for name in ("running_mean", "running_var"):
        assert_close(_numpy(getattr(module, name), name), getattr(reference, name).numpy(),
                     what=f"{name} after load_state_dict and one more training step ({where})", rtol=rtol, atol=atol)
    if int(module.num_batches_tracked) != int(reference.num_batches_tracked):
        raise CheckFailed(f"num_batches_tracked is {int(module.num_batches_tracked)} after load_state_dict and one "
                          f"training step, expected {int(reference.num_batches_tracked)}")


# ---------------------------------------------------------------- population statistics

def check_population_statistics(population_statistics, *, seed: int = 0, n_batches: int = 10, batch_size: int = 8,
                                n_features: int = 4, dtype=torch.float64) -> None:
    """``population_statistics(batch_means, batch_vars, m)`` gives the paper's inference estimate.

    batch_means, batch_vars: (B, C) tensors of the means and BIASED variances of
    B batches of m examples. Expected: mean = average of the batch means,
    var = m / (m - 1) * average of the batch variances.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    rng = np.random.default_rng(seed)
    loc, scale = rng.uniform(-5, 5, n_features), 10 ** rng.uniform(-1, 1, n_features)
    data = loc + scale * rng.standard_normal((n_batches, batch_size, n_features))
    means, variances = data.mean(axis=1), data.var(axis=1)
    batch_means, batch_vars = torch.tensor(means, dtype=dtype), torch.tensor(variances, dtype=dtype)
    given_means, given_vars = batch_means.clone(), batch_vars.clone()
    result = call_learner(population_statistics, given_means, given_vars, batch_size)
    if not torch.equal(given_means, batch_means) or not torch.equal(given_vars, batch_vars):
        raise CheckFailed("population_statistics changed its input tensors in place; compute new tensors instead")
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailed(f"population_statistics should return a tuple (mean, var), but it returned {type(result).__name__}")
    m = batch_size
    rtol, atol = TOLERANCE[dtype]
    where = f"{n_batches} batches of m={m} examples, {n_features} features, {str(dtype).replace('torch.', '')}"
    expected_mean = data.reshape(-1, n_features).mean(axis=0)
    assert_close(_numpy(result[0], "the mean"), expected_mean, what=f"the population mean ({where})", rtol=rtol, atol=atol,
                 mistakes={"the mean was taken over dim 1 (per batch): average the batch means over dim 0":
                           means.mean(axis=1)})
    expected_var = m / (m - 1) * variances.mean(axis=0)
    assert_close(_numpy(result[1], "the variance"), expected_var, what=f"the population variance ({where})",
                 rtol=rtol, atol=atol, mistakes={
                     "the m/(m-1) correction is missing: the average of biased batch variances underestimates the "
                     "population variance; multiply by m / (m - 1) (m = batch_size) to make it unbiased":
                         variances.mean(axis=0),
                     "the correction is upside down: multiply by m / (m - 1), not (m - 1) / m":
                         (m - 1) / m * variances.mean(axis=0),
                     "this is the variance of the batch MEANS, not the average of the batch variances":
                         means.var(axis=0, ddof=1) if n_batches > 1 else None,
                     "the correction used the number of batches B instead of the batch size m":
                         n_batches / (n_batches - 1) * variances.mean(axis=0) if n_batches > 1 else None,
                 })


# ---------------------------------------------------------------- folding

def check_fold_batchnorm(fold_batchnorm, *, seed: int = 0, in_features: int = 6, out_features: int = 4,
                         eps: float = 1e-5, linear_bias: bool = True, dtype=torch.float64) -> None:
    """``fold_batchnorm(linear, bn)`` returns one new nn.Linear equal to ``bn(linear(x))`` in eval mode.

    bn has random weight (some negative), bias, running_mean and running_var
    (between 0.01 and 2, so that eps matters); linear and bn must not change.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    torch.manual_seed(seed)
    linear = nn.Linear(in_features, out_features, bias=linear_bias).to(dtype)
    bn = nn.BatchNorm1d(out_features, eps=eps).to(dtype)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        bn.weight.copy_((torch.rand(out_features, generator=generator) * 2 - 0.5).to(dtype))
        bn.bias.copy_(torch.randn(out_features, generator=generator).to(dtype))
        bn.running_mean.copy_(torch.randn(out_features, generator=generator).to(dtype))
        bn.running_var.copy_((0.01 + torch.rand(out_features, generator=generator) * 2).to(dtype))
        bn.num_batches_tracked.fill_(100)
    bn.eval()
    linear_state, bn_state = copy.deepcopy(linear.state_dict()), copy.deepcopy(bn.state_dict())
    x = torch.randn(9, in_features, generator=generator).to(dtype)
    with torch.no_grad():
        expected = bn(linear(x)).to(torch.float64).numpy()
    with tripwire():
        folded = call_learner(fold_batchnorm, linear, bn)
    if not isinstance(folded, nn.Linear):
        raise CheckFailed(f"fold_batchnorm should return a torch.nn.Linear, but it returned {type(folded).__name__}")
    for before, module, name in [(linear_state, linear, "linear"), (bn_state, bn, "bn")]:
        after = module.state_dict()
        if set(after) != set(before) or any(not torch.equal(after[k], before[k]) for k in before):
            raise CheckFailed(f"fold_batchnorm changed `{name}` in place: build and return a new nn.Linear and leave the "
                              "layers it was given as they were")
    if (folded.in_features, folded.out_features) != (in_features, out_features):
        raise CheckFailed(f"the folded layer maps {folded.in_features} -> {folded.out_features} features, "
                          f"expected {in_features} -> {out_features}")
    if folded.bias is None:
        raise CheckFailed("the folded layer has no bias: batch norm's shift (bias - running_mean * scale) needs one, "
                          "even when `linear` had none: create nn.Linear(..., bias=True)")
    with torch.no_grad(), tripwire():
        actual = _numpy(call_learner(folded, x.to(folded.weight.dtype), name="the folded layer"), "folded(x)")

    W = linear.weight.detach().to(torch.float64).numpy()
    b = linear.bias.detach().to(torch.float64).numpy() if linear_bias else np.zeros(out_features)
    gamma, beta = bn.weight.detach().to(torch.float64).numpy(), bn.bias.detach().to(torch.float64).numpy()
    mu, var = bn.running_mean.to(torch.float64).numpy(), bn.running_var.to(torch.float64).numpy()
    x64 = x.to(torch.float64).numpy()

    def folded_output(scale, bias):
        return x64 @ (W * scale[:, None]).T + bias

    s = gamma / np.sqrt(var + eps)
    s_no_eps = gamma / np.sqrt(var)
    mistakes = {
        "the linear layer's own bias was left out of the folded bias: b' = gamma * (b - running_mean) / "
        "sqrt(running_var + eps) + beta": folded_output(s, beta - s * mu) if linear_bias else None,
        "batch norm's bias (beta) was left out of the folded bias: b' = gamma * (b - running_mean) / "
        "sqrt(running_var + eps) + beta": folded_output(s, s * (b - mu)),
        "eps was left out: the scale is gamma / sqrt(running_var + eps), not gamma / sqrt(running_var)":
            folded_output(s_no_eps, s_no_eps * (b - mu) + beta),
        "the folded bias was not scaled: b' = gamma * (b - running_mean) / sqrt(running_var + eps) + beta":
            folded_output(s, b - s * mu + beta),
        "the variance was used where its square root belongs: scale = gamma / sqrt(running_var + eps)":
            folded_output(gamma / (var + eps), gamma / (var + eps) * (b - mu) + beta),
    }
    rtol, atol = TOLERANCE[dtype]
    assert_close(actual, expected,
                 what=(f"fold_batchnorm(linear, bn)(x) vs bn(linear(x)) in eval mode (Linear({in_features}, {out_features}, "
                       f"bias={linear_bias}), eps={eps:g}, {str(dtype).replace('torch.', '')})"),
                 rtol=rtol, atol=atol, mistakes=mistakes)
