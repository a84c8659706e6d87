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

from autograder.i18n import _

from dataclasses import dataclass

import numpy as np

from autograder.forbidden import verdict_only
from autograder.compare import CheckFailed, assert_close, assert_unchanged, call_learner, to_array
from autograder.probe import TensorData, check, type_name
from autograder.mistakes import recognised

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
    _unused, vector_shape = _layout(shape)
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


@verdict_only
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


@verdict_only
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
        found[recognised("bn-unbiased-variance", _("the variance is the unbiased one (dividing by N - 1, as np.var(ddof=1) or torch's x.var(dim=0) / x.std(dim=0) compute it): batch norm normalizes with the biased variance, dividing by N"))] = \
            variant(x, gamma, beta, dout, eps, correction=1)
    found[recognised("bn-eps-outside-sqrt", _('eps was added outside the square root, (x - mean) / (sqrt(var) + eps): it belongs inside, (x - mean) / sqrt(var + eps)'))] = variant(x, gamma, beta, dout, eps, eps_outside=True)
    found[recognised("bn-eps-missing", _("eps was left out: divide by sqrt(var + eps), not sqrt(var)"))] = variant(x, gamma, beta, dout, 0.0)
    if x.ndim == 2:
        found[recognised("bn-stats-per-example", _('the statistics were taken over axis=1 (one mean and variance per example): batch norm takes them over the batch, axis=0, one per feature'))] = variant(x, gamma, beta, dout, eps, axes=(1,))
        found[recognised("bn-stats-whole-array", _("one mean and variance over the whole array: batch norm takes one per feature, over axis=0"))] = \
            variant(x, gamma, beta, dout, eps, axes=(0, 1))
    else:
        found[recognised("bn-spatial-per-position", _('the statistics were taken per (C, H, W) position (over axis 0 only): spatial batch norm takes one mean and variance per channel, over axes (0, 2, 3)'))] = variant(x, gamma, beta, dout, eps, axes=(0,))
        found[recognised("bn-spatial-per-sample", _('the statistics were taken per sample (over axes (1, 2, 3)), as layer norm does: spatial batch norm takes one mean and variance per channel, over axes (0, 2, 3)'))] = variant(x, gamma, beta, dout, eps, axes=(1, 2, 3))
        found[recognised("bn-spatial-per-sample", _('the statistics were taken per sample and channel (over axes (2, 3)), as instance norm does: spatial batch norm takes one mean and variance per channel, over the batch too: axes (0, 2, 3)'))] = \
            variant(x, gamma, beta, dout, eps, axes=(2, 3))
        found[recognised("bn-stats-whole-array", _("one mean and variance over the whole array: spatial batch norm takes one per channel, over axes (0, 2, 3)"))] = \
            variant(x, gamma, beta, dout, eps, axes=(0, 1, 2, 3))
        found[recognised("bn-spatial-reshape-mixes-channels", _('x was reshaped to (-1, C) without moving the channel axis last first, so each column mixes channels: use x.transpose(0, 2, 3, 1).reshape(-1, C) (and the inverse on the way back)'))] = \
            variant(x, gamma, beta, dout, eps, channel_reshape_bug=True)
    return found


# ---------------------------------------------------------------- calling the learner's code (probe side)

def _call(fn, *args, name: str, **kwargs):
    """``call_learner`` (the probe imports torch first where it is installed, so torch the code imports is seen)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    return call_learner(fn, *args, name=name, **kwargs)


def _store_forward(record, key: str, result) -> tuple[bool, object]:
    """Record the ``out`` of a forward's ``(out, cache)`` (the cache stays here); (well formed?, cache)."""
    if type(result) not in (tuple, list) or len(result) != 2:
        record[key + ".returned"] = result  # the verdict says what is wrong with it
        return False, None
    record[key] = result[0]
    return True, result[1]


def _probe_forward(record, forward, inputs, name: str, key: str = "forward") -> tuple[bool, object]:
    """Call the learner's forward on copies of the inputs; record its out and the arguments afterwards."""
    given = (inputs["x"].copy(), inputs["gamma"].copy(), inputs["beta"].copy())
    kwargs = {} if inputs["eps"] is None else {"eps": inputs["eps"]}
    result = _call(forward, *given, name=name, **kwargs)
    for what, value in zip(("x", "gamma", "beta"), given):
        record[f"{key}.{what}_after"] = value
    return _store_forward(record, key, result)


# ---------------------------------------------------------------- reading the record (verdict side)





def _array(value, what: str) -> np.ndarray:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if isinstance(value, TensorData):
        raise CheckFailed(recognised("bn-returns-tensor", _('{what} is a torch Tensor: return a NumPy array (compute it with NumPy, not PyTorch)').format(what=what)))
    return to_array(value, what)


def _tuple(result, length: int, name: str, returns: str):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if type(result) not in (tuple, list) or len(result) != length:
        got = type_name(result) + (_(' of length {len_result}').format(len_result=len(result)) if type(result) in (tuple, list) else "")
        raise CheckFailed(_('`{name}` should return a tuple {returns}, but it returned {got}').format(name=name, returns=returns, got=got))
    return result


def _recorded_out(record, key: str, name: str):
    """The ``out`` the learner's forward returned (raises if it did not return a pair)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if key + ".returned" in record:
        _tuple(record[key + ".returned"], 2, name, _("(out, cache)"))
    return record[key]


def _forward_out(record, inputs, name: str, key: str = "forward") -> np.ndarray:
    """The learner's ``out`` after checking that the forward left its arguments alone and returned (out, cache)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    for what in ("x", "gamma", "beta"):
        assert_unchanged(inputs[what], record[f"{key}.{what}_after"], f"{name} (argument {what})")
    return _array(_recorded_out(record, key, name), _('the `out` returned by {name}').format(name=name))


# ---------------------------------------------------------------- forward

def _forward_inputs(seed: int, shape, eps, names: tuple[str, str]) -> dict:
    shape = tuple(shape)
    x, gamma, beta, dout = make_inputs(seed, shape)
    return {"x": x, "gamma": gamma, "beta": beta, "dout": dout, "shape": shape, "eps": eps, "names": names}


def _forward_probe(record, forward, inputs) -> None:
    _probe_forward(record, forward, inputs, inputs["names"][0])


def _check_forward(record, inputs):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, gamma, beta, dout, shape, eps = (inputs[k] for k in ("x", "gamma", "beta", "dout", "shape", "eps"))
    name = inputs["names"][0]
    used_eps = DEFAULT_EPS if eps is None else eps
    expected = reference(x, gamma, beta, dout, used_eps)

    def mistakes():  # the wrong forwards cost an autograd pass each: computed only when the check fails
        found = {text: r.out for text, r in _forward_variants(x, gamma, beta, dout, used_eps).items()}
        found[recognised("bn-gamma-beta-missing", _("gamma and beta were not applied: return gamma * x_hat + beta, not x_hat"))] = \
            variant(x, np.ones_like(gamma), np.zeros_like(beta), dout, used_eps).out
        return found

    out = _forward_out(record, inputs, name)
    rtol, atol = FORWARD_TOL
    atol = atol * max(1.0, float(np.abs(beta).max()))
    call = _('{name}(x, gamma, beta{detail})').format(name=name, detail='' if eps is None else f', eps={eps:g}')
    assert_close(out, expected.out, what=_('the `out` of {call} for x of shape {shape}').format(call=call, shape=shape), rtol=rtol, atol=atol,
                 mistakes=mistakes)


def _plain_forward_inputs(*, seed: int = 0, shape=(8, 5), eps: float | None = None) -> dict:
    if len(shape) != 2:
        raise ValueError("batchnorm_forward takes x of shape (N, D)")
    return _forward_inputs(seed, shape, eps, ("batchnorm_forward", "batchnorm_backward"))


def _spatial_forward_inputs(*, seed: int = 0, shape=(4, 3, 5, 2), eps: float | None = None) -> dict:
    if len(shape) != 4:
        raise ValueError("spatial_batchnorm_forward takes x of shape (N, C, H, W)")
    return _forward_inputs(seed, shape, eps, ("spatial_batchnorm_forward", "spatial_batchnorm_backward"))


@check(inputs=_plain_forward_inputs, probe=_forward_probe)
def check_batchnorm_forward(record, inputs) -> None:
    """``batchnorm_forward(x, gamma, beta[, eps])[0]`` equals F.batch_norm(x, None, None, gamma, beta, training=True).

    x: (N, D) float64 with features on scales 10**-2 .. 10**2; ``eps=None``
    calls the learner's function without eps, checking its default of 1e-5.
    Tolerance: rtol 1e-7, atol 1e-9 (times max(1, |beta|)).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _check_forward(record, inputs)


@check(inputs=_spatial_forward_inputs, probe=_forward_probe)
def check_spatial_batchnorm_forward(record, inputs) -> None:
    """``spatial_batchnorm_forward(x, gamma, beta[, eps])[0]`` equals F.batch_norm on x of shape (N, C, H, W).

    One mean and variance per channel, over axes (0, 2, 3). Tolerance as for
    check_batchnorm_forward.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _check_forward(record, inputs)


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
    found[recognised("bn-backward-constant-statistics", _('the mean and the variance were treated as constants: dx = dout * gamma / sqrt(var + eps) leaves out the gradient that flows through the batch mean and the batch variance (both depend on every x)'))] = \
        variant(x, gamma, beta, dout, eps, constant_mean=True, constant_var=True)
    found[recognised("bn-backward-no-variance-path", _('the gradient through the variance is missing: var depends on x too, so dx needs the term -x_hat * mean(dx_hat * x_hat) (over the batch)'))] = variant(x, gamma, beta, dout, eps, constant_var=True)
    found[recognised("bn-backward-no-mean-path", _('the gradient through the mean is missing: the mean depends on x too, so dx needs the term -mean(dx_hat) (over the batch)'))] = variant(x, gamma, beta, dout, eps, constant_mean=True)
    return found


def _param_mistakes(x, dout, eps, which: str) -> dict[str, np.ndarray]:
    """Known wrong dgamma (``which='dgamma'``) or dbeta: summed over the wrong axes or of the wrong product."""
    axes, vector_shape = _layout(x.shape)
    mean = x.mean(axis=axes, keepdims=True)
    x_hat = (x - mean) / _sqrt(x.var(axis=axes, keepdims=True) + eps)
    term = dout * x_hat if which == "dgamma" else dout
    formula = _("sum(dout * x_hat)") if which == "dgamma" else "sum(dout)"
    right = "axis=0" if x.ndim == 2 else "axes (0, 2, 3)"
    wrong_axes = [(1,), None] if x.ndim == 2 else [(0,), (2, 3), (1, 2, 3), (0, 2), (0, 3), None]
    found = {}
    for wrong in wrong_axes:
        label = _("the whole array") if wrong is None else (f"axis={wrong[0]}" if len(wrong) == 1 else f"axes {wrong}")
        found[recognised("bn-backward-param-grad-wrong-axes", _('{which} was summed over {label}: {which} = {formula} over {right}, one value per {detail}').format(which=which, label=label, formula=formula, right=right, detail=_('feature') if x.ndim == 2 else _('channel')))] = term.sum(axis=wrong)
    if which == "dgamma":
        found[recognised("bn-backward-dgamma-uses-x", _("dgamma = sum(dout * x) uses the input x: it is sum(dout * x_hat), with the normalized x_hat"))] = \
            (dout * x).sum(axis=axes)
        found[recognised("bn-backward-dgamma-uses-x", _("dgamma = sum(dout) forgot the factor x_hat: out = gamma * x_hat + beta, so dgamma = sum(dout * x_hat)"))] = \
            dout.sum(axis=axes)
    return found


def _backward_probe(record, forward, backward, inputs) -> None:
    forward_name, backward_name = inputs["names"]
    well_formed, cache = _probe_forward(record, forward, inputs, forward_name)
    if not well_formed:
        return
    given = inputs["dout"].copy()
    grads = _call(backward, given, cache, name=backward_name)
    record["dout_after"] = given
    record["grads"] = grads


def _backward_grads(record, inputs, expected_out):
    """The learner's (dx, dgamma, dbeta) for the cache of the learner's forward, after checking that forward."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, beta, dout = inputs["x"], inputs["beta"], inputs["dout"]
    forward_name, backward_name = inputs["names"]
    out = _forward_out(record, inputs, forward_name)
    rtol, atol = FORWARD_TOL
    try:
        assert_close(out, expected_out, what=_('the `out` of {forward_name}').format(forward_name=forward_name), rtol=rtol,
                     atol=atol * max(1.0, float(np.abs(beta).max())))
    except CheckFailed:
        raise CheckFailed(
            _('`{backward_name}` is checked with the cache of your `{forward_name}`, but `{forward_name}` gives a wrong `out` for x of shape {x_shape}: make its tests pass first').format(backward_name=backward_name, forward_name=forward_name, x_shape=x.shape)) from None
    assert_unchanged(dout, record["dout_after"], _('{backward_name} (argument dout)').format(backward_name=backward_name))
    dx, dgamma, dbeta = _tuple(record["grads"], 3, backward_name, _("(dx, dgamma, dbeta)"))
    return (_array(dx, _('dx from {backward_name}').format(backward_name=backward_name)), _array(dgamma, _('dgamma from {backward_name}').format(backward_name=backward_name)),
            _array(dbeta, _('dbeta from {backward_name}').format(backward_name=backward_name)))


def _check_backward(record, inputs):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, gamma, beta, dout, shape, eps = (inputs[k] for k in ("x", "gamma", "beta", "dout", "shape", "eps"))
    names = inputs["names"]
    used_eps = DEFAULT_EPS if eps is None else eps
    expected = reference(x, gamma, beta, dout, used_eps)
    dx, dgamma, dbeta = _backward_grads(record, inputs, expected.out)
    atol_dx, atol_param = _gradient_atol(x, gamma, dout, used_eps)
    where = _('for x of shape {shape}{detail} (reference: PyTorch autograd, float64)').format(shape=shape, detail='' if eps is None else f', eps={eps:g}')
    # the wrong gradients cost an autograd pass each: computed only when a comparison fails
    assert_close(dx, expected.dx, what=_('dx from {names_1} {where}').format(names_1=names[1], where=where), rtol=GRADIENT_RTOL, atol=atol_dx,
                 mistakes=lambda: {text: r.dx for text, r in _backward_mistakes(x, gamma, beta, dout, used_eps).items()})
    assert_close(dgamma, expected.dgamma, what=_('dgamma from {names_1} {where}').format(names_1=names[1], where=where), rtol=GRADIENT_RTOL, atol=atol_param,
                 mistakes=lambda: _param_mistakes(x, dout, used_eps, "dgamma"))
    assert_close(dbeta, expected.dbeta, what=_('dbeta from {names_1} {where}').format(names_1=names[1], where=where), rtol=GRADIENT_RTOL, atol=atol_param,
                 mistakes=lambda: _param_mistakes(x, dout, used_eps, "dbeta"))


def _plain_backward_inputs(*, seed: int = 0, shape=(8, 5), eps: float | None = None) -> dict:
    if len(shape) != 2:
        raise ValueError("batchnorm_backward takes x of shape (N, D)")
    return _forward_inputs(seed, shape, eps, ("batchnorm_forward", "batchnorm_backward"))


def _spatial_backward_inputs(*, seed: int = 0, shape=(4, 3, 5, 2), eps: float | None = None) -> dict:
    if len(shape) != 4:
        raise ValueError("spatial_batchnorm_backward takes x of shape (N, C, H, W)")
    return _forward_inputs(seed, shape, eps, ("spatial_batchnorm_forward", "spatial_batchnorm_backward"))


@check(inputs=_plain_backward_inputs, probe=_backward_probe, learners=2)
def check_batchnorm_backward(record, inputs) -> None:
    """``batchnorm_backward(dout, cache)`` equals PyTorch's autograd gradients of F.batch_norm (training=True).

    The cache comes from the learner's ``batchnorm_forward`` on the same x,
    whose output is checked first. Tolerance: rtol 1e-6 plus an atol of 1e-10
    times the gradient's natural size (see ``_gradient_atol``).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _check_backward(record, inputs)


@check(inputs=_spatial_backward_inputs, probe=_backward_probe, learners=2)
def check_spatial_batchnorm_backward(record, inputs) -> None:
    """``spatial_batchnorm_backward(dout, cache)`` equals autograd's gradients of F.batch_norm on (N, C, H, W)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _check_backward(record, inputs)


# ---------------------------------------------------------------- backward, against finite differences

_TARGET = {"dx": 0, "dgamma": 1, "dbeta": 2}   # which argument of forward(x, gamma, beta) a gradient belongs to


def _numeric_inputs(*, seed: int = 0, shape=(6, 4), eps: float | None = None, max_entries: int = 48) -> dict:
    """The inputs, and the entries to perturb with their steps: ``perturb`` lists (gradient, index, h).

    h is 1e-5 times the feature's scale for entries of x (at most ``max_entries``
    of them, chosen at random) and 1e-5 for every entry of gamma and beta.
    """
    shape = tuple(shape)
    names = ("batchnorm_forward", "batchnorm_backward") if len(shape) == 2 else \
        ("spatial_batchnorm_forward", "spatial_batchnorm_backward")
    inputs = _forward_inputs(seed, shape, eps, names)
    x = inputs["x"]
    axes, _unused = _layout(shape)
    feature_scale = np.sqrt(x.var(axis=axes)) + 1e-3           # the step for x follows the feature's own scale
    rng = np.random.default_rng(seed + 1)
    flat = rng.permutation(x.size)[:max_entries]
    perturb = []
    for i in flat:
        index = tuple(int(k) for k in np.unravel_index(i, shape))
        perturb.append(("dx", index, float(1e-5 * feature_scale[index[1]])))
    perturb += [("dgamma", (j,), 1e-5) for j in range(inputs["gamma"].size)]
    perturb += [("dbeta", (j,), 1e-5) for j in range(inputs["beta"].size)]
    inputs["perturb"] = perturb
    return inputs


def _name_of(fn, default: str) -> str:
    name = getattr(fn, "__name__", default)
    return name if type(name) is str else default


def _numeric_probe(record, forward, backward, inputs) -> None:
    """The learner's backward at x, and the learner's forward at x +- h for every perturbed entry."""
    names = (_name_of(forward, inputs["names"][0]), _name_of(backward, inputs["names"][1]))
    record["names"] = names
    x, gamma, beta, dout = inputs["x"], inputs["gamma"], inputs["beta"], inputs["dout"]
    kwargs = {} if inputs["eps"] is None else {"eps": inputs["eps"]}
    well_formed, cache = _store_forward(
        record, "forward", _call(forward, x.copy(), gamma.copy(), beta.copy(), name=names[0], **kwargs))
    if not well_formed:
        return
    record["grads"] = _call(backward, dout.copy(), cache, name=names[1])
    for k, (which, index, h) in enumerate(inputs["perturb"]):
        for sign_name, sign in (("plus", 1.0), ("minus", -1.0)):
            args = [x.copy(), gamma.copy(), beta.copy()]
            args[_TARGET[which]][index] += sign * h
            well_formed, _unused = _store_forward(record, f"fd{k}.{sign_name}", _call(forward, *args, name=names[0], **kwargs))
            if not well_formed:
                return


@check(inputs=_numeric_inputs, probe=_numeric_probe, learners=2)
def check_gradient_numerically(record, inputs) -> None:
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
    x, gamma, dout, shape, eps = (inputs[k] for k in ("x", "gamma", "dout", "shape", "eps"))
    names = record["names"]
    if type(names) not in (tuple, list) or len(names) != 2 or not all(type(n) is str for n in names):
        names = inputs["names"]
    used_eps = DEFAULT_EPS if eps is None else eps
    axes, vector_shape = _layout(shape)

    def loss(key) -> float:
        __tracebackhide__ = True
        out = _array(_recorded_out(record, key, names[0]), _('the `out` returned by {names_0}').format(names_0=names[0]))
        if out.shape != shape:
            raise CheckFailed(_('the `out` of {names_0} has shape {out_shape}, expected {shape}').format(names_0=names[0], out_shape=out.shape, shape=shape))
        return float((out * dout).sum())

    _recorded_out(record, "forward", names[0])
    grads = _tuple(record["grads"], 3, names[1], _("(dx, dgamma, dbeta)"))
    analytic = {"dx": _array(grads[0], _('dx from {names_1}').format(names_1=names[1])),
                "dgamma": _array(grads[1], _('dgamma from {names_1}').format(names_1=names[1])),
                "dbeta": _array(grads[2], _('dbeta from {names_1}').format(names_1=names[1]))}
    for key, expected_shape in (("dx", shape), ("dgamma", gamma.shape), ("dbeta", inputs["beta"].shape)):
        if analytic[key].shape != expected_shape:
            raise CheckFailed(_('{key} from {names_1} has shape {analytic_key_shape}, expected {expected_shape}').format(key=key, names_1=names[1], analytic_key_shape=analytic[key].shape, expected_shape=expected_shape))

    std = _sqrt(x.var(axis=axes) + used_eps)
    natural_dx = np.abs(dout).max() * np.abs(gamma) / std        # per feature / channel
    natural_param = np.abs(dout).sum(axis=axes)                  # per feature / channel
    scale_of = {"dx": lambda i: natural_dx[i[1]], "dgamma": lambda i: natural_param[i[0]],
                "dbeta": lambda i: natural_param[i[0]]}

    worst = None  # (excess, name, index, analytic, numeric, error, scale)
    for k, (name, index, h) in enumerate(inputs["perturb"]):
        numeric = (loss(f"fd{k}.plus") - loss(f"fd{k}.minus")) / (2 * h)
        got = float(analytic[name][index])
        scale = float(scale_of[name](index))
        tolerance = NUMERIC_RTOL * (abs(numeric) + scale)
        excess = abs(got - numeric) / tolerance
        if excess > 1 and (worst is None or excess > worst[0]):
            worst = (excess, name, index, got, numeric, abs(got - numeric), scale)
    if worst is not None:
        _unused, name, index, got, numeric, error, scale = worst
        raise CheckFailed(
            _('gradient check failed: {name} from {names_1} is not the derivative of your {names_0} (x of shape {shape}).\n  Worst at {name}{index}: backward gives {got:.6g}, central finite differences of forward give {numeric:.6g} (error {error:.3g}, tolerance {numeric_rtol:g} * (|numeric| + {scale:.3g})).').format(name=name, names_1=names[1], names_0=names[0], shape=shape, index=tuple(int(i) for i in index), got=got, numeric=numeric, error=error, numeric_rtol=NUMERIC_RTOL, scale=scale)
            + (_('\n  If only dx is wrong: remember that the batch mean and variance depend on every x, so the gradient flows through them too.') if name == "dx" else ""))
