"""Checks for chapter 3, batch normalization in training (exercise ``03_batchnorm_training``).

The learner writes, in NumPy:

- ``batchnorm_forward(x, gamma, beta, eps=1e-5) -> (out, cache)`` for x of shape (N, D);
- ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``;
- ``spatial_batchnorm_forward`` / ``spatial_batchnorm_backward``, the same for
  x of shape (N, C, H, W) with one mean and variance per channel.

Every result is compared in float64 with ``torch.nn.functional.batch_norm(...,
training=True)`` and the gradients PyTorch's autograd computes through it. A
second, independent check compares the learner's backward with central finite
differences of the learner's own forward. An implementation that runs
PyTorch's batch norm (by any name: the probe notes the torch functions and ATen
operators the learner's code runs) fails with a message that says so.

Each check builds its own inputs from ``seed`` and ``shape``: features (or
channels) with scales from 10**-2 to 10**2 and offsets far from 0, so hidden
tests vary the inputs, not the logic. Known wrong answers (unbiased variance,
wrong axes, eps outside the square root, a backward pass that treats the batch
statistics as constants, ...) are computed by differentiable PyTorch variants of
the layer and named in the failure message when the learner's result matches one.

Each check is a probe (calls the learner's functions, records what they
returned, as data) and a verdict (PyTorch's answer, compared); see
``autograder/probe.py``. The exercise is NumPy only: torch is imported by the
verdicts, never at module level.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from autograder.compare import CheckFailed, assert_close, assert_unchanged, call_learner, to_array
from autograder.probe import ObjectData, TensorData, check

DEFAULT_EPS = 1e-5
FORWARD_TOL = (1e-7, 1e-9)    # (rtol, atol) for outputs of order 1, float64
GRADIENT_RTOL = 1e-6          # gradients: rtol, plus an atol scaled to the gradient's size (see _gradient_atol)
NUMERIC_RTOL = 1e-5           # finite differences vs the learner's backward, relative to the gradient's scale

# Captured at import time so that a notebook replacing it cannot change the checks.
_sqrt = np.sqrt


# ---------------------------------------------------------------- inputs

def _layout(shape) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(axes the statistics run over, shape that broadcasts a per-feature vector) for (N, D) or (N, C, H, W)."""
    if len(shape) == 2:
        return (0,), (1, shape[1])
    if len(shape) == 4:
        return (0, 2, 3), (1, shape[1], 1, 1)
    raise ValueError(f"shape must be (N, D) or (N, C, H, W), got {shape}")


def make_inputs(seed: int, shape, spread: float = 4.0):
    """x, gamma, beta, dout for a batch norm layer, all float64.

    Feature (or channel) j of x is ``offset_j + scale_j * noise`` with scales
    spread evenly (in log) over ``10**-spread/2 .. 10**spread/2`` in a random
    order and offsets up to 10 scales away from 0. gamma is in [0.5, 2] with a
    random sign, beta and dout are standard normal.
    """
    rng = np.random.default_rng(seed)
    d = shape[1]
    _, vector_shape = _layout(shape)
    scales = rng.permutation(10.0 ** np.linspace(-spread / 2, spread / 2, d)) if d > 1 else np.ones(1)
    offsets = scales * rng.uniform(-10, 10, size=d)
    x = offsets.reshape(vector_shape) + scales.reshape(vector_shape) * rng.standard_normal(shape)
    gamma = rng.uniform(0.5, 2.0, size=d) * rng.choice([-1.0, 1.0], size=d)
    beta = rng.standard_normal(d)
    dout = rng.standard_normal(shape)
    return x, gamma, beta, dout


# ---------------------------------------------------------------- the reference and known wrong answers

@dataclass
class Result:
    out: np.ndarray
    dx: np.ndarray
    dgamma: np.ndarray
    dbeta: np.ndarray


def reference(x, gamma, beta, dout, eps: float = DEFAULT_EPS) -> Result:
    """PyTorch's batch norm in training mode, float64, and its autograd gradients for upstream ``dout``."""
    import torch
    import torch.nn.functional as F

    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    out = F.batch_norm(xt, None, None, weight=g, bias=b, training=True, eps=eps)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return Result(out.detach().numpy(), xt.grad.numpy(), g.grad.numpy(), b.grad.numpy())


def variant(x, gamma, beta, dout, eps: float = DEFAULT_EPS, *, axes=None, correction: int = 0,
            eps_outside: bool = False, constant_mean: bool = False, constant_var: bool = False,
            channel_reshape_bug: bool = False) -> Result:
    """A (possibly wrong) batch norm written out in PyTorch, and its autograd gradients.

    axes: the axes the statistics run over (default: the right ones);
    correction: 1 for the unbiased variance; eps_outside: divide by sqrt(var) + eps;
    constant_mean / constant_var: detach the statistic, as a backward pass that
    treats it as a constant does; channel_reshape_bug: (N, C, H, W) reshaped to
    (-1, C) without moving the channel axis last.
    """
    import torch

    shape = x.shape
    right_axes, vector_shape = _layout(shape)
    axes = right_axes if axes is None else tuple(axes)
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(gamma, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(beta, dtype=torch.float64, requires_grad=True)
    z = xt.reshape(-1, shape[1]) if channel_reshape_bug else xt
    stat_axes = (0,) if channel_reshape_bug else axes
    count = int(np.prod([z.shape[a] for a in stat_axes]))
    mean = z.mean(dim=stat_axes, keepdim=True)
    var = ((z - mean) ** 2).sum(dim=stat_axes, keepdim=True) / max(count - correction, 1)
    if constant_var:
        var = var.detach()
    if constant_mean:
        mean = mean.detach()
    scale = (var.sqrt() + eps) if eps_outside else (var + eps).sqrt()
    x_hat = (z - mean) / scale
    if channel_reshape_bug:   # gamma and beta applied per column of the mixed-up (-1, C) view, as that code does
        out = (g * x_hat + b).reshape(shape)
    else:
        out = g.reshape(vector_shape) * x_hat + b.reshape(vector_shape)
    out.backward(torch.tensor(dout, dtype=torch.float64))
    return Result(out.detach().numpy(), xt.grad.numpy(), g.grad.numpy(), b.grad.numpy())


def _forward_variants(x, gamma, beta, dout, eps) -> dict[str, Result]:
    """Wrong forward passes by description; the backward check uses their (consistent) gradients too."""
    n = x.shape[0]
    found = {}
    if n > 1:
        found["the variance is the unbiased one (dividing by N - 1, as np.var(ddof=1) or torch's x.var(dim=0) / "
              "x.std(dim=0) compute it): batch norm normalizes with the biased variance, dividing by N"] = \
            variant(x, gamma, beta, dout, eps, correction=1)
    found["eps was added outside the square root, (x - mean) / (sqrt(var) + eps): it belongs inside, "
          "(x - mean) / sqrt(var + eps)"] = variant(x, gamma, beta, dout, eps, eps_outside=True)
    found["eps was left out: divide by sqrt(var + eps), not sqrt(var)"] = variant(x, gamma, beta, dout, 0.0)
    if x.ndim == 2:
        found["the statistics were taken over axis=1 (one mean and variance per example): batch norm takes "
              "them over the batch, axis=0, one per feature"] = variant(x, gamma, beta, dout, eps, axes=(1,))
        found["one mean and variance over the whole array: batch norm takes one per feature, over axis=0"] = \
            variant(x, gamma, beta, dout, eps, axes=(0, 1))
    else:
        found["the statistics were taken per (C, H, W) position (over axis 0 only): spatial batch norm takes one "
              "mean and variance per channel, over axes (0, 2, 3)"] = variant(x, gamma, beta, dout, eps, axes=(0,))
        found["the statistics were taken per sample (over axes (1, 2, 3)), as layer norm does: spatial batch norm "
              "takes one mean and variance per channel, over axes (0, 2, 3)"] = variant(x, gamma, beta, dout, eps, axes=(1, 2, 3))
        found["the statistics were taken per sample and channel (over axes (2, 3)), as instance norm does: spatial "
              "batch norm takes one mean and variance per channel, over the batch too: axes (0, 2, 3)"] = \
            variant(x, gamma, beta, dout, eps, axes=(2, 3))
        found["one mean and variance over the whole array: spatial batch norm takes one per channel, over axes (0, 2, 3)"] = \
            variant(x, gamma, beta, dout, eps, axes=(0, 1, 2, 3))
        found["x was reshaped to (-1, C) without moving the channel axis last first, so each column mixes channels: "
              "use x.transpose(0, 2, 3, 1).reshape(-1, C) (and the inverse on the way back)"] = \
            variant(x, gamma, beta, dout, eps, channel_reshape_bug=True)
    return found


# ---------------------------------------------------------------- no PyTorch batch norm inside the learner's code

@contextlib.contextmanager
def no_torch_batchnorm(name: str):
    """Replace PyTorch's batch norm entry points with a tripwire while the learner's ``name`` runs.

    Everything replaced is restored in ``finally``, also when the learner's
    code raises. A call raises CheckFailed at once; the list of calls is also
    checked on exit, in case the learner's code swallowed the exception.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    calls: list[str] = []
    message = (f"`{name}` called PyTorch's batch norm ({{}}): the exercise is to compute the batch statistics and "
               f"the normalization yourself, with NumPy")

    def tripwire(label):
        def tripped(*args, **kwargs):
            calls.append(label)
            raise CheckFailed(message.format(label))
        return tripped

    targets = [(F, "batch_norm", "torch.nn.functional.batch_norm"),
               (torch, "batch_norm", "torch.batch_norm"),
               (torch, "native_batch_norm", "torch.native_batch_norm"),
               (_torch_batchnorm._BatchNorm, "forward", "torch.nn.BatchNorm1d/2d/3d")]
    for cls in (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.BatchNorm3d):
        if "forward" in vars(cls):
            targets.append((cls, "forward", f"torch.nn.{cls.__name__}"))
    saved = []
    try:
        for owner, attribute, label in targets:
            if hasattr(owner, attribute):
                saved.append((owner, attribute, vars(owner).get(attribute, getattr(owner, attribute))))
                setattr(owner, attribute, tripwire(label))
        yield
    finally:
        for owner, attribute, original in reversed(saved):
            setattr(owner, attribute, original)
    if calls:
        raise CheckFailed(message.format(calls[0]))


def _call(fn, *args, name: str, **kwargs):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    with no_torch_batchnorm(name):
        return call_learner(fn, *args, name=name, **kwargs)


def _array(value, what: str) -> np.ndarray:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if isinstance(value, torch.Tensor):
        raise CheckFailed(f"{what} is a torch Tensor: return a NumPy array (compute it with NumPy, not PyTorch)")
    return to_array(value, what)


def _tuple(result, length: int, name: str, returns: str):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if type(result) not in (tuple, list) or len(result) != length:
        got = type(result).__name__ + (f" of length {len(result)}" if type(result) in (tuple, list) else "")
        raise CheckFailed(f"`{name}` should return a tuple {returns}, but it returned {got}")
    return result


# ---------------------------------------------------------------- forward

def _run_forward(forward, x, gamma, beta, eps, name):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    given = (x.copy(), gamma.copy(), beta.copy())
    kwargs = {} if eps is None else {"eps": eps}
    result = _call(forward, *given, name=name, **kwargs)
    for before, after, what in zip((x, gamma, beta), given, ("x", "gamma", "beta")):
        assert_unchanged(before, after, f"{name} (argument {what})")
    out, cache = _tuple(result, 2, name, "(out, cache)")
    return _array(out, f"the `out` returned by {name}"), cache


def _check_forward(forward, name, seed, shape, eps):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape = tuple(shape)
    x, gamma, beta, dout = make_inputs(seed, shape)
    used_eps = DEFAULT_EPS if eps is None else eps
    expected = reference(x, gamma, beta, dout, used_eps)
    mistakes = {text: r.out for text, r in _forward_variants(x, gamma, beta, dout, used_eps).items()}
    mistakes["gamma and beta were not applied: return gamma * x_hat + beta, not x_hat"] = \
        variant(x, np.ones_like(gamma), np.zeros_like(beta), dout, used_eps).out
    out, _ = _run_forward(forward, x, gamma, beta, eps, name)
    rtol, atol = FORWARD_TOL
    atol = atol * max(1.0, float(np.abs(beta).max()))
    call = f"{name}(x, gamma, beta{'' if eps is None else f', eps={eps:g}'})"
    assert_close(out, expected.out, what=f"the `out` of {call} for x of shape {shape}", rtol=rtol, atol=atol,
                 mistakes=mistakes)


def check_batchnorm_forward(batchnorm_forward, *, seed: int = 0, shape=(8, 5), eps: float | None = None) -> None:
    """``batchnorm_forward(x, gamma, beta[, eps])[0]`` equals F.batch_norm(x, None, None, gamma, beta, training=True).

    x: (N, D) float64 with features on scales 10**-2 .. 10**2; ``eps=None``
    calls the learner's function without eps, checking its default of 1e-5.
    Tolerance: rtol 1e-7, atol 1e-9 (times max(1, |beta|)).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if len(shape) != 2:
        raise ValueError("batchnorm_forward takes x of shape (N, D)")
    _check_forward(batchnorm_forward, "batchnorm_forward", seed, shape, eps)


def check_spatial_batchnorm_forward(spatial_batchnorm_forward, *, seed: int = 0, shape=(4, 3, 5, 2),
                                    eps: float | None = None) -> None:
    """``spatial_batchnorm_forward(x, gamma, beta[, eps])[0]`` equals F.batch_norm on x of shape (N, C, H, W).

    One mean and variance per channel, over axes (0, 2, 3). Tolerance as for
    check_batchnorm_forward.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if len(shape) != 4:
        raise ValueError("spatial_batchnorm_forward takes x of shape (N, C, H, W)")
    _check_forward(spatial_batchnorm_forward, "spatial_batchnorm_forward", seed, shape, eps)


# ---------------------------------------------------------------- backward, against autograd

def _gradient_atol(x, gamma, dout, eps) -> tuple[float, float]:
    """Absolute tolerances for dx and for dgamma/dbeta, from the size the gradients naturally have.

    dx of feature j is of order |dout| * |gamma_j| / sqrt(var_j + eps), dgamma and
    dbeta of order sum(|dout|) over the batch; round-off in a correct float64
    implementation is many orders of magnitude below 1e-10 of that.
    """
    axes, vector_shape = _layout(x.shape)
    std = _sqrt(x.var(axis=axes) + eps)
    natural_dx = float(np.abs(dout).max() * np.max(np.abs(gamma) / std))
    natural_dparam = float(np.abs(dout).sum(axis=axes).max())
    return 1e-10 * natural_dx, 1e-10 * natural_dparam


def _backward_mistakes(x, gamma, beta, dout, eps):
    """{description: Result} of wrong gradients: wrong forwards (their own gradients) and wrong backwards."""
    found = dict(_forward_variants(x, gamma, beta, dout, eps))
    found["the mean and the variance were treated as constants: dx = dout * gamma / sqrt(var + eps) leaves out "
          "the gradient that flows through the batch mean and the batch variance (both depend on every x)"] = \
        variant(x, gamma, beta, dout, eps, constant_mean=True, constant_var=True)
    found["the gradient through the variance is missing: var depends on x too, so dx needs the term "
          "-x_hat * mean(dx_hat * x_hat) (over the batch)"] = variant(x, gamma, beta, dout, eps, constant_var=True)
    found["the gradient through the mean is missing: the mean depends on x too, so dx needs the term "
          "-mean(dx_hat) (over the batch)"] = variant(x, gamma, beta, dout, eps, constant_mean=True)
    return found


def _param_mistakes(x, dout, eps, which: str) -> dict[str, np.ndarray]:
    """Known wrong dgamma (``which='dgamma'``) or dbeta: summed over the wrong axes or of the wrong product."""
    axes, vector_shape = _layout(x.shape)
    mean = x.mean(axis=axes, keepdims=True)
    x_hat = (x - mean) / _sqrt(x.var(axis=axes, keepdims=True) + eps)
    term = dout * x_hat if which == "dgamma" else dout
    formula = "sum(dout * x_hat)" if which == "dgamma" else "sum(dout)"
    right = "axis=0" if x.ndim == 2 else "axes (0, 2, 3)"
    wrong_axes = [(1,), None] if x.ndim == 2 else [(0,), (2, 3), (1, 2, 3), (0, 2), (0, 3), None]
    found = {}
    for wrong in wrong_axes:
        label = "the whole array" if wrong is None else (f"axis={wrong[0]}" if len(wrong) == 1 else f"axes {wrong}")
        found[f"{which} was summed over {label}: {which} = {formula} over {right}, one value per "
              f"{'feature' if x.ndim == 2 else 'channel'}"] = term.sum(axis=wrong)
    if which == "dgamma":
        found["dgamma = sum(dout * x) uses the input x: it is sum(dout * x_hat), with the normalized x_hat"] = \
            (dout * x).sum(axis=axes)
        found["dgamma = sum(dout) forgot the factor x_hat: out = gamma * x_hat + beta, so dgamma = sum(dout * x_hat)"] = \
            dout.sum(axis=axes)
    return found


def _run_backward(forward, backward, x, gamma, beta, dout, eps, names, expected_out):
    """The learner's (dx, dgamma, dbeta) for the cache of the learner's forward, after checking that forward."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    forward_name, backward_name = names
    out, cache = _run_forward(forward, x, gamma, beta, eps, forward_name)
    rtol, atol = FORWARD_TOL
    try:
        assert_close(out, expected_out, what=f"the `out` of {forward_name}", rtol=rtol,
                     atol=atol * max(1.0, float(np.abs(beta).max())))
    except CheckFailed:
        raise CheckFailed(
            f"`{backward_name}` is checked with the cache of your `{forward_name}`, but `{forward_name}` gives a "
            f"wrong `out` for x of shape {x.shape}: make its tests pass first") from None
    given = dout.copy()
    grads = _call(backward, given, cache, name=backward_name)
    assert_unchanged(dout, given, f"{backward_name} (argument dout)")
    dx, dgamma, dbeta = _tuple(grads, 3, backward_name, "(dx, dgamma, dbeta)")
    return (_array(dx, f"dx from {backward_name}"), _array(dgamma, f"dgamma from {backward_name}"),
            _array(dbeta, f"dbeta from {backward_name}"))


def _check_backward(forward, backward, names, seed, shape, eps):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape = tuple(shape)
    x, gamma, beta, dout = make_inputs(seed, shape)
    used_eps = DEFAULT_EPS if eps is None else eps
    expected = reference(x, gamma, beta, dout, used_eps)
    dx, dgamma, dbeta = _run_backward(forward, backward, x, gamma, beta, dout, eps, names, expected.out)
    atol_dx, atol_param = _gradient_atol(x, gamma, dout, used_eps)
    where = f"for x of shape {shape}{'' if eps is None else f', eps={eps:g}'} (reference: PyTorch autograd, float64)"
    wrong = _backward_mistakes(x, gamma, beta, dout, used_eps)
    assert_close(dx, expected.dx, what=f"dx from {names[1]} {where}", rtol=GRADIENT_RTOL, atol=atol_dx,
                 mistakes={text: r.dx for text, r in wrong.items()})
    assert_close(dgamma, expected.dgamma, what=f"dgamma from {names[1]} {where}", rtol=GRADIENT_RTOL, atol=atol_param,
                 mistakes=_param_mistakes(x, dout, used_eps, "dgamma"))
    assert_close(dbeta, expected.dbeta, what=f"dbeta from {names[1]} {where}", rtol=GRADIENT_RTOL, atol=atol_param,
                 mistakes=_param_mistakes(x, dout, used_eps, "dbeta"))


def check_batchnorm_backward(batchnorm_forward, batchnorm_backward, *, seed: int = 0, shape=(8, 5),
                             eps: float | None = None) -> None:
    """``batchnorm_backward(dout, cache)`` equals PyTorch's autograd gradients of F.batch_norm (training=True).

    The cache comes from the learner's ``batchnorm_forward`` on the same x,
    whose output is checked first. Tolerance: rtol 1e-6 plus an atol of 1e-10
    times the gradient's natural size (see ``_gradient_atol``).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if len(shape) != 2:
        raise ValueError("batchnorm_backward takes x of shape (N, D)")
    _check_backward(batchnorm_forward, batchnorm_backward, ("batchnorm_forward", "batchnorm_backward"), seed, shape, eps)


def check_spatial_batchnorm_backward(spatial_batchnorm_forward, spatial_batchnorm_backward, *, seed: int = 0,
                                     shape=(4, 3, 5, 2), eps: float | None = None) -> None:
    """``spatial_batchnorm_backward(dout, cache)`` equals autograd's gradients of F.batch_norm on (N, C, H, W)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if len(shape) != 4:
        raise ValueError("spatial_batchnorm_backward takes x of shape (N, C, H, W)")
    _check_backward(spatial_batchnorm_forward, spatial_batchnorm_backward,
                    ("spatial_batchnorm_forward", "spatial_batchnorm_backward"), seed, shape, eps)


# ---------------------------------------------------------------- backward, against finite differences

def check_gradient_numerically(forward, backward, *, seed: int = 0, shape=(6, 4), eps: float | None = None,
                               max_entries: int = 48) -> None:
    """The learner's backward equals central finite differences of the learner's OWN forward.

    L(x, gamma, beta) = sum(forward(x, gamma, beta)[0] * dout) is evaluated at
    x +- h (h = 1e-5 times the feature's scale; at most ``max_entries`` entries
    of x, chosen at random, and every entry of gamma and beta). The learner's
    dx, dgamma, dbeta must agree within 1e-5 of the gradient's natural scale
    per entry (|numeric| + the scale). Works for (N, D) and (N, C, H, W) alike:
    pass the matching pair of functions. This checks that the backward pass is
    the derivative of the forward pass, whatever the forward computes.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape = tuple(shape)
    names = ("batchnorm_forward", "batchnorm_backward") if len(shape) == 2 else \
        ("spatial_batchnorm_forward", "spatial_batchnorm_backward")
    names = (getattr(forward, "__name__", names[0]), getattr(backward, "__name__", names[1]))
    x, gamma, beta, dout = make_inputs(seed, shape)
    used_eps = DEFAULT_EPS if eps is None else eps
    axes, vector_shape = _layout(shape)
    kwargs = {} if eps is None else {"eps": eps}

    def loss(x_, gamma_, beta_) -> float:
        __tracebackhide__ = True
        out, _ = _tuple(_call(forward, x_, gamma_, beta_, name=names[0], **kwargs), 2, names[0], "(out, cache)")
        out = _array(out, f"the `out` returned by {names[0]}")
        if out.shape != shape:
            raise CheckFailed(f"the `out` of {names[0]} has shape {out.shape}, expected {shape}")
        return float((out * dout).sum())

    _, cache = _tuple(_call(forward, x.copy(), gamma.copy(), beta.copy(), name=names[0], **kwargs),
                      2, names[0], "(out, cache)")
    grads = _tuple(_call(backward, dout.copy(), cache, name=names[1]), 3, names[1], "(dx, dgamma, dbeta)")
    analytic = {"dx": _array(grads[0], f"dx from {names[1]}"),
                "dgamma": _array(grads[1], f"dgamma from {names[1]}"),
                "dbeta": _array(grads[2], f"dbeta from {names[1]}")}
    for key, expected_shape in (("dx", shape), ("dgamma", gamma.shape), ("dbeta", beta.shape)):
        if analytic[key].shape != expected_shape:
            raise CheckFailed(f"{key} from {names[1]} has shape {analytic[key].shape}, expected {expected_shape}")

    std = _sqrt(x.var(axis=axes) + used_eps)
    feature_scale = np.sqrt(x.var(axis=axes)) + 1e-3           # the step for x follows the feature's own scale
    natural_dx = np.abs(dout).max() * np.abs(gamma) / std        # per feature / channel
    natural_param = np.abs(dout).sum(axis=axes)                  # per feature / channel
    rng = np.random.default_rng(seed + 1)
    flat = rng.permutation(x.size)[:max_entries]

    def feature_of(index):
        return index[1]

    worst = None  # (excess, name, index, analytic, numeric)
    for name, array, indices, step_of, scale_of in (
        ("dx", x, [np.unravel_index(i, shape) for i in flat], lambda i: 1e-5 * feature_scale[feature_of(i)],
         lambda i: natural_dx[feature_of(i)]),
        ("dgamma", gamma, [(j,) for j in range(gamma.size)], lambda i: 1e-5, lambda i: natural_param[i[0]]),
        ("dbeta", beta, [(j,) for j in range(beta.size)], lambda i: 1e-5, lambda i: natural_param[i[0]]),
    ):
        for index in indices:
            h = float(step_of(index))
            values = []
            for sign in (1.0, -1.0):
                args = [x.copy(), gamma.copy(), beta.copy()]
                target = {"dx": 0, "dgamma": 1, "dbeta": 2}[name]
                args[target][index] += sign * h
                values.append(loss(*args))
            numeric = (values[0] - values[1]) / (2 * h)
            got = float(analytic[name][index])
            tolerance = NUMERIC_RTOL * (abs(numeric) + float(scale_of(index)))
            excess = abs(got - numeric) / tolerance
            if excess > 1 and (worst is None or excess > worst[0]):
                worst = (excess, name, index, got, numeric, abs(got - numeric), float(scale_of(index)))
    if worst is not None:
        _, name, index, got, numeric, error, scale = worst
        raise CheckFailed(
            f"gradient check failed: {name} from {names[1]} is not the derivative of your {names[0]} "
            f"(x of shape {shape}).\n  Worst at {name}{tuple(int(i) for i in index)}: backward gives {got:.6g}, "
            f"central finite differences of forward give {numeric:.6g} (error {error:.3g}, tolerance "
            f"{NUMERIC_RTOL:g} * (|numeric| + {scale:.3g}))."
            + ("\n  If only dx is wrong: remember that the batch mean and variance depend on every x, so the "
               "gradient flows through them too." if name == "dx" else ""))
