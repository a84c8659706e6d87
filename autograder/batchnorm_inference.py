"""Checks for chapter 4, batch normalization at inference (exercise ``04_batchnorm_inference``).

The learner writes:

- ``class BatchNorm1d(torch.nn.Module)`` with ``__init__(num_features, eps=1e-5,
  momentum=0.1)``, parameters ``weight``/``bias`` and buffers ``running_mean``,
  ``running_var``, ``num_batches_tracked``, for inputs (N, C) and (N, C, L). Its
  results are compared step by step with ``torch.nn.BatchNorm1d`` run on the
  same inputs (both in float64 unless a check says otherwise): outputs and
  gradients in training mode, running statistics after every training step,
  eval-mode outputs, the error for a training batch of one, ``load_state_dict``.
- ``population_statistics(batch_means, batch_vars, batch_size) -> (mean, var)``,
  the paper's inference estimate, compared with the mean of the data and
  m/(m-1) times the average biased batch variance.
- ``fold_batchnorm(linear, bn) -> torch.nn.Linear``, compared with
  ``bn(linear(x))`` in eval mode.

Each check builds its inputs from ``seed``, shapes and hyperparameters, so
hidden tests vary the inputs, not the logic. Each is a probe (builds, trains,
evaluates and backpropagates through the learner's module, and records every
value and fact as plain data) and a verdict (runs ``torch.nn.BatchNorm1d`` on
the same inputs and compares); see ``autograder/probe.py``. The reference runs
in the verdicts only. A module that runs PyTorch's own batch norm, by whatever
name, is refused by ``probe.Check`` (``forbidden.py``: the recorded operators).
"""
from __future__ import annotations

from autograder.i18n import _

import numpy as np
import torch
from torch import nn

from autograder.forbidden import verdict_only
from autograder.compare import CheckFailed, assert_close, call_learner
from autograder.probe import ObjectData, TensorData, check, learner_code, type_name
from autograder.mistakes import recognised

_DEFAULT = object()  # "call without this argument", to check the learner's defaults

# (rtol, atol) by the dtype the modules run in. float32's atol is for entries near 0 of a sum over the batch
# (a gradient, a mean): their round-off follows the terms summed (up to ~20 here), not the entry, about
# N * 6e-8 * 20 = 2e-5 for N = 16. At 1e-5 the solution failed the hidden float32 call for 6 seeds in 12,000
# (e.g. 9364: x's gradient 4.5e-5 off; the same on every CPU kernel); graded seeds are drawn fresh, so it happened.
TOLERANCE = {
    torch.float64: (1e-6, 1e-8),
    torch.float32: (1e-4, 1e-4),
}

BATCH_OF_ONE_MESSAGE = "Expected more than 1 value per channel when training"

_STATE_NAMES = ("running_mean", "running_var", "num_batches_tracked")


# ---------------------------------------------------------------- helpers: values from the record



def _numpy(value, what: str) -> np.ndarray:
    """A recorded tensor (``probe.TensorData``), a reference tensor or an array as float64 NumPy, or a CheckFailed."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(recognised("forgot-return", recognised("forgot-return", _('{what} is None: did you forget to `return` it?').format(what=what))))
    if isinstance(value, TensorData):
        value = value.array
    elif isinstance(value, torch.Tensor):
        return value.detach().cpu().to(torch.float64).numpy()
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "c":
            raise CheckFailed(_('{what} holds complex numbers; expected real ones').format(what=what))
        return np.asarray(value, dtype=np.float64)
    if type(value) in (int, float, bool) or isinstance(value, np.generic):
        return np.asarray(value, dtype=np.float64)
    raise CheckFailed(_('{what} should be a torch.Tensor, but it is a {type_name_value}').format(what=what, type_name_value=type_name(value)))


def _show(value, dim: int | None = None) -> str:
    """A recorded value for a message, in the style of torch's repr (``tensor(3)``); ``dim``: its recorded dim()."""
    if isinstance(value, TensorData):
        array = value.array.reshape(()) if dim == 0 and value.array.size == 1 else value.array
        body = repr(array.item()) if array.ndim == 0 else np.array2string(array, separator=", ", threshold=12)
        dtype = "" if value.dtype in ("int64", "float32") else f", dtype=torch.{value.dtype}"
        grad = _(", requires_grad=True") if value.requires_grad else ""
        return f"tensor({body}{dtype}{grad})"
    if isinstance(value, ObjectData):
        return f"a {value.type_name}"
    return repr(value)


def _count(value) -> int | None:
    """A recorded one-element integer-valued tensor (or int) as an int, else None."""
    if isinstance(value, TensorData) and value.array.size == 1 and value.array.dtype.kind in "biuf":
        number = value.array.reshape(-1)[0]
        if np.isfinite(number) and number == int(number):
            return int(number)
    if type(value) is int:
        return value
    return None


def _same(recorded, tensor: torch.Tensor) -> bool:
    """Whether a recorded tensor equals ``tensor``: same dtype, shape and values (as torch.equal)."""
    if not isinstance(recorded, TensorData) or recorded.dtype != str(tensor.dtype).replace("torch.", "") \
            or recorded.array.shape != tuple(tensor.shape):
        return False
    plain = tensor.detach().to(torch.float64 if tensor.dtype.is_floating_point else torch.int64).numpy()
    return bool(np.array_equal(recorded.array.reshape(plain.shape), plain))


def _unchanged(before, after) -> bool:
    """Whether two recorded values are equal (tensors: same dtype, shape and values)."""
    if isinstance(before, TensorData) and isinstance(after, TensorData):
        return (before.dtype == after.dtype and before.array.shape == after.array.shape
                and np.array_equal(before.array, after.array))
    if isinstance(before, TensorData) or isinstance(after, TensorData):
        return False
    return before == after


def _output(record, key: str, what: str) -> TensorData:
    """The recorded return value of ``what``; it must be a tensor."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    out = record[key]
    if not isinstance(out, TensorData):
        raise CheckFailed(_('{what} should return a torch.Tensor, but it returned {type_name_out}').format(what=what, type_name_out=type_name(out)))
    return out


def _error_text(error: BaseException) -> str:
    try:
        return str(error)[:2000]
    except Exception:  # noqa: BLE001 - an exception with a broken __str__
        return _("<no message>")


# ---------------------------------------------------------------- helpers: the learner's module (probe side)

def _make_module(record, key: str, BatchNorm1d, num_features, eps=_DEFAULT, momentum=_DEFAULT, dtype=torch.float64):
    """Probe: the learner's module, built with these arguments and converted to ``dtype``, or None.

    Records under ``key`` whether it is an nn.Module and which parameters and
    buffers it has (``_state_problem`` reads them); None when they are wrong.
    """
    kwargs = {}
    if eps is not _DEFAULT:
        kwargs["eps"] = eps
    if momentum is not _DEFAULT:
        kwargs["momentum"] = momentum
    module = call_learner(BatchNorm1d, num_features, name="BatchNorm1d", **kwargs)

    def facts():
        found = {"is_module": isinstance(module, nn.Module), "type": type(module).__name__}
        if found["is_module"]:
            found["parameters"] = [name for name, _unused in module.named_parameters(recurse=False)]
            found["buffers"] = [name for name, _unused in module.named_buffers(recurse=False)]
            found["attributes"] = [name for name in ("weight", "bias") + _STATE_NAMES if hasattr(module, name)]
        return found

    found = call_learner(facts, name="BatchNorm1d")
    record[key] = found
    if _state_problem(found, num_features) is not None:
        return None
    return call_learner(module.to, dtype, name="BatchNorm1d.to")


def _state_problem(facts, num_features) -> str | None:
    """What is wrong with the recorded kind, parameters and buffers of the learner's module, if anything."""
    facts = facts if isinstance(facts, dict) else {"type": type_name(facts)}
    if facts.get("is_module") is not True:
        return (_('BatchNorm1d({num_features}) should be a torch.nn.Module, but it is a {facts_get_type}: declare it as `class BatchNorm1d(torch.nn.Module)` and call super().__init__()').format(num_features=num_features, facts_get_type=facts.get('type')))
    for name in ("weight", "bias"):
        if name not in facts.get("parameters", ()):
            kind = _("a plain attribute") if name in facts.get("attributes", ()) else "missing"
            return (recognised("bninf-plain-attributes", _('`{name}` should be a learned parameter (torch.nn.Parameter) of BatchNorm1d, but it is {kind}: write self.{name} = torch.nn.Parameter(...)').format(name=name, kind=kind)))
    for name in _STATE_NAMES:
        if name not in facts.get("buffers", ()):
            kind = _("a plain attribute (or a Parameter)") if name in facts.get("attributes", ()) else "missing"
            return (recognised("bninf-plain-attributes", _('`{name}` should be a buffer of BatchNorm1d, but it is {kind}: use self.register_buffer({name!r}, ...) so that it is saved in state_dict() and moved by .to()/.double(), but not trained').format(name=name, kind=kind)))
    return None


def _require_module(record, key: str, num_features) -> None:
    """Verdict: the learner's module was an nn.Module with the right parameters and buffers."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    problem = _state_problem(record[key], num_features)
    if problem is not None:
        raise CheckFailed(problem)


def _forward(record, key: str, module, x, what="BatchNorm1d.forward"):
    """Probe: call the module, record what it returned under ``key``; the output if it is a tensor, else None."""
    out = call_learner(module, x, name=what)
    record[key] = out
    return out if isinstance(out, torch.Tensor) else None


def _mode(module, training: bool) -> None:
    """Probe: module.train() or module.eval() (learner code: they may be overridden)."""
    if training:
        call_learner(module.train, name="BatchNorm1d.train")
    else:
        call_learner(module.eval, name="BatchNorm1d.eval")


def _buffers(module) -> dict:
    return {name: getattr(module, name, None) for name in _STATE_NAMES}


# ---------------------------------------------------------------- helpers: inputs and reference

@verdict_only
def _reference(num_features, eps, momentum, dtype=torch.float64) -> nn.BatchNorm1d:
    kwargs = {}
    if eps is not _DEFAULT:
        kwargs["eps"] = eps
    if momentum is not _DEFAULT:
        kwargs["momentum"] = momentum
    return nn.BatchNorm1d(num_features, **kwargs).to(dtype)


def _affine(seed, c):
    """A random weight (some negative) and bias, float64, so that gamma and beta matter."""
    generator = torch.Generator().manual_seed(seed + 1000)
    weight = 0.5 + torch.rand(c, generator=generator, dtype=torch.float64) * 1.5
    weight = weight * torch.where(torch.rand(c, generator=generator) < 0.2, -1.0, 1.0).to(torch.float64)
    bias = torch.randn(c, generator=generator, dtype=torch.float64)
    return weight, bias


def _set_affine(module, weight, bias) -> None:
    """Give a module (the learner's in the probe, the reference in the verdict) this weight and bias."""
    with torch.no_grad():
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


def _describe(shape, eps, momentum, dtype):
    parts = [_('input of shape {shape}').format(shape=tuple(shape))]
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

def _init_inputs(*, num_features: int = 4, eps=_DEFAULT, momentum=_DEFAULT) -> dict:
    return {"num_features": num_features, "eps": eps, "momentum": momentum}


def _init_probe(record, BatchNorm1d, inputs) -> None:
    module = _make_module(record, "module", BatchNorm1d, inputs["num_features"], inputs["eps"], inputs["momentum"],
                          dtype=torch.float32)
    if module is None:
        return
    for name in ("weight", "bias") + _STATE_NAMES:
        record[name] = getattr(module, name, None)
    tracked = getattr(module, "num_batches_tracked", None)
    record["num_batches_tracked_dim"] = call_learner(tracked.dim, name="num_batches_tracked.dim") \
        if isinstance(tracked, torch.Tensor) else None
    record["state_dict_keys"] = call_learner(lambda: [str(key) for key in module.state_dict()],
                                             name="BatchNorm1d.state_dict")


@check(inputs=_init_inputs, probe=_init_probe)
def check_batchnorm_init(record, inputs) -> None:
    """A new BatchNorm1d holds the four per-feature quantities at PyTorch's initial values.

    weight = 1 and bias = 0 (parameters), running_mean = 0 and running_var = 1
    (buffers), num_batches_tracked = 0; state_dict() has the same keys as
    torch.nn.BatchNorm1d's, so either can load the other's state.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    num_features, eps, momentum = inputs["num_features"], inputs["eps"], inputs["momentum"]
    _require_module(record, "module", num_features)
    reference = _reference(num_features, eps, momentum, dtype=torch.float32)
    for name, expected in [("weight", reference.weight), ("bias", reference.bias),
                           ("running_mean", reference.running_mean)]:
        assert_close(_numpy(record[name], name), expected.detach().numpy(),
                     what=_('{name} of a new BatchNorm1d({num_features})').format(name=name, num_features=num_features), rtol=0, atol=0)
    running_var = _numpy(record["running_var"], "running_var")
    if running_var.shape == (num_features,) and np.all(running_var == 0):
        raise CheckFailed(recognised("bninf-running-var-zeros", recognised("bninf-running-var-zeros", _('running_var of a new BatchNorm1d is all zeros: running_var must start at ones (running_var initialised to zeros would make eval mode divide by sqrt(0 + eps) before enough batches have been seen)'))))
    assert_close(running_var, reference.running_var.numpy(), what=_('running_var of a new BatchNorm1d({num_features})').format(num_features=num_features),
                 rtol=0, atol=0)
    tracked = record["num_batches_tracked"]
    dim = record["num_batches_tracked_dim"]
    if not isinstance(tracked, TensorData) or tracked.dtype != "int64" or dim != 0 or _count(tracked) != 0:
        raise CheckFailed(_('num_batches_tracked should start as torch.tensor(0, dtype=torch.long) (a 0-d integer tensor, as in PyTorch), but it is {show_tracked_dim}').format(show_tracked_dim=_show(tracked, dim)))
    recorded_keys = record["state_dict_keys"]
    keys = set(recorded_keys) if isinstance(recorded_keys, list) else set()
    expected_keys = set(reference.state_dict())
    if keys != expected_keys:
        raise CheckFailed(_("state_dict() of your BatchNorm1d has keys {keys}, torch.nn.BatchNorm1d's has {expected_keys}: keep exactly these names (and no other buffers or parameters)").format(keys=sorted(keys), expected_keys=sorted(expected_keys)))


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
        recognised("bn-unbiased-variance", recognised("bn-unbiased-variance", _("the forward pass used the unbiased batch variance (dividing by n - 1, torch's default x.var()): batch norm normalizes with the biased variance, x.var(..., unbiased=False) / correction=0"))):
            normalize(dims, ddof=1) * w + b if n > 1 else None,
        recognised("bn-eps-outside-sqrt", recognised("bn-eps-outside-sqrt", _("eps was added outside the square root: use (x - mean) / sqrt(var + eps), not / (sqrt(var) + eps)"))):
            normalize(dims, eps_outside=True) * w + b,
        recognised("bn-gamma-beta-missing", recognised("bn-gamma-beta-missing", _("weight (gamma) and bias (beta) were not applied: return x_hat * weight + bias"))): normalize(dims),
        recognised("bninf-gamma-beta-swapped", recognised("bninf-gamma-beta-swapped", _("weight and bias were swapped: gamma (weight) multiplies, beta (bias) is added"))): normalize(dims) * b + w,
    }
    if ndim == 2:
        mistakes[recognised("bninf-layer-norm-axes", recognised("bninf-layer-norm-axes", _('the statistics were taken per example, over the features (dim 1): that is layer normalization; batch norm takes one mean and variance per feature, over the batch (dim 0)')))] = normalize((1,)) * w + b
        mistakes[recognised("bn-stats-whole-array", recognised("bn-stats-whole-array", _("one mean and variance over the whole batch (all dims): batch norm takes one per feature (dim 0)")))] = \
            normalize((0, 1)) * w + b
    else:
        mistakes[recognised("bninf-3d-wrong-dims", recognised("bninf-3d-wrong-dims", _('for (N, C, L) input the statistics were taken over dim 0 only, giving one per (channel, position): batch norm takes one per channel, over dims 0 and 2 (the batch and the length)')))] = normalize((0,)) * w + b
        mistakes[recognised("bninf-3d-wrong-dims", recognised("bninf-3d-wrong-dims", _('for (N, C, L) input the statistics were taken over dim 2 only, per example and channel (that is instance normalization): batch norm takes one per channel, over dims 0 and 2')))] = normalize((2,)) * w + b
        mistakes[recognised("bninf-layer-norm-axes", recognised("bninf-layer-norm-axes", _('for (N, C, L) input the statistics were taken per example over dims 1 and 2 (layer normalization): batch norm takes one per channel, over dims 0 and 2')))] = normalize((1, 2)) * w + b
    return mistakes


def _training_inputs(*, seed: int = 0, shape=(8, 4), eps=_DEFAULT, momentum=_DEFAULT, dtype=torch.float64) -> dict:
    shape = tuple(shape)
    weight, bias = _affine(seed, shape[1])
    upstream = torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)
    return {"shape": shape, "eps": eps, "momentum": momentum, "dtype": dtype, "weight": weight, "bias": bias,
            "x": _batch(seed, shape, dtype=dtype), "upstream": upstream}


def _training_probe(record, BatchNorm1d, inputs, prefix: str = "") -> None:
    """Forward in training mode, then the learner's backward of (out * upstream).sum(); records out and the gradients."""
    c = inputs["shape"][1]
    module = _make_module(record, prefix + "module", BatchNorm1d, c, inputs["eps"], inputs["momentum"], inputs["dtype"])
    if module is None:
        return
    _mode(module, True)
    _set_affine(module, inputs["weight"], inputs["bias"])
    x = inputs["x"].clone().requires_grad_(True)
    out = _forward(record, prefix + "out", module, x)
    if out is None or not out.requires_grad:
        return  # the verdict says what is wrong with it
    upstream = inputs["upstream"]
    call_learner(lambda: (out * upstream).sum().backward(), name=_("backward through BatchNorm1d"))
    record[prefix + "weight_grad"] = module.weight.grad
    record[prefix + "bias_grad"] = module.bias.grad
    record[prefix + "x_grad"] = x.grad


def _training_verdict(record, inputs, prefix: str = "") -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape, eps, momentum, dtype = inputs["shape"], inputs["eps"], inputs["momentum"], inputs["dtype"]
    c = shape[1]
    _require_module(record, prefix + "module", c)
    reference = _reference(c, eps, momentum, dtype).train()
    _set_affine(reference, inputs["weight"], inputs["bias"])
    x, upstream = inputs["x"], inputs["upstream"]
    where = _describe(shape, eps, momentum, dtype)
    rtol, atol = TOLERANCE[dtype]

    x_ref = x.clone().requires_grad_(True)
    expected = reference(x_ref)
    (expected * upstream).sum().backward()

    out = _output(record, prefix + "out", "BatchNorm1d.forward")
    eps_value = reference.eps
    x64 = x.to(torch.float64).numpy()
    w64, b64 = reference.weight.detach().to(torch.float64).numpy(), reference.bias.detach().to(torch.float64).numpy()
    assert_close(_numpy(out, _("the output of BatchNorm1d")), expected.detach().to(torch.float64).numpy(),
                 what=_('the training-mode output of BatchNorm1d for {where}').format(where=where), rtol=rtol, atol=atol,
                 mistakes=_forward_mistakes(x64, w64, b64, eps_value))

    if not out.requires_grad:
        raise CheckFailed(_('the output of BatchNorm1d does not require grad: it must be computed from x and the parameters with torch operations (no .detach(), .data, .numpy() or torch.no_grad() around the normalization), so that backpropagation reaches x, weight and bias'))
    for name, wanted in [("weight", reference.weight.grad), ("bias", reference.bias.grad)]:
        actual = record[f"{prefix}{name}_grad"]
        if actual is None:
            raise CheckFailed(_('{name} received no gradient: it must be an nn.Parameter used in the forward pass').format(name=name))
        assert_close(_numpy(actual, f"{name}.grad"), wanted.to(torch.float64).numpy(),
                     what=_('the gradient of the loss with respect to {name} for {where}').format(name=name, where=where), rtol=rtol, atol=atol)
    x_grad = record[prefix + "x_grad"]
    if x_grad is None:
        raise CheckFailed(_("no gradient reached the input x: the output must be computed from x with torch operations"))
    dims, view = _dims(len(shape)), _view(len(shape), c)
    var = x64.var(axis=dims, keepdims=True)
    detached = upstream.to(torch.float64).numpy() * w64.reshape(view) / np.sqrt(var + eps_value)
    assert_close(_numpy(x_grad, "x.grad"), x_ref.grad.to(torch.float64).numpy(),
                 what=_('the gradient of the loss with respect to the input x for {where}').format(where=where), rtol=rtol, atol=atol,
                 mistakes={recognised("bninf-detached-statistics", recognised("bninf-detached-statistics", _('the batch mean and variance were detached from the graph (or computed without grad): the gradient must also flow through the batch statistics, which depend on x'))): detached})


@check(inputs=_training_inputs, probe=_training_probe)
def check_batchnorm_training(record, inputs) -> None:
    """Training-mode output and gradients (input, weight, bias) equal torch.nn.BatchNorm1d's.

    Both modules get the same random weight and bias; the upstream gradient is random.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _training_verdict(record, inputs)


def _one_inputs(*, num_features: int = 3, length: int = 4, seed: int = 0) -> dict:
    shapes = [(1, num_features), (1, num_features, 1)]
    return {"num_features": num_features, "shapes": shapes, "batches": [_batch(seed, shape) for shape in shapes],
            "training": _training_inputs(seed=seed, shape=(1, num_features, length))}


def _one_probe(record, BatchNorm1d, inputs) -> None:
    """Training batches with one value per channel: records the exception (type, message) or the output."""
    for index, x in enumerate(inputs["batches"]):
        module = _make_module(record, f"one{index}_module", BatchNorm1d, inputs["num_features"])
        if module is None:
            return
        _mode(module, True)
        try:
            with learner_code():
                out = module(x.clone())
        except CheckFailed:
            raise
        except Exception as error:  # noqa: BLE001 - which exception the learner's module raised is the point
            record[f"one{index}_error"] = {"type": type(error).__name__, "message": _error_text(error),
                                           "value_error": isinstance(error, ValueError),
                                           "not_implemented": isinstance(error, NotImplementedError)}
            if not isinstance(error, ValueError):
                return
            continue
        record[f"one{index}_error"] = None
        record[f"one{index}_out"] = out
        return
    _training_probe(record, BatchNorm1d, inputs["training"], prefix="train_")


@check(inputs=_one_inputs, probe=_one_probe)
def check_batch_of_one(record, inputs) -> None:
    """A training batch with one value per channel raises ValueError as PyTorch does; (1, C, L>1) works.

    Inputs of shape (1, C) and (1, C, 1) must raise ValueError("Expected more than 1
    value per channel when training, ..."); (1, C, L) with L > 1 has L values per
    channel and must give PyTorch's output.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    for index, shape in enumerate(inputs["shapes"]):
        _require_module(record, f"one{index}_module", inputs["num_features"])
        error = record[f"one{index}_error"]
        if error is None:
            out = record[f"one{index}_out"]
            raise CheckFailed(
                recognised("bninf-no-error-for-batch-of-one", _('BatchNorm1d in training mode returned a result for a batch of shape {shape}; it must raise ValueError({batch_of_one_message!r}, ...) as PyTorch does: with one value per channel the biased variance is 0 (the unbiased one is undefined), so the output would be just bias and the running variance would be polluted. Check the number of values per channel, N * L, before normalizing').format(shape=shape, batch_of_one_message=BATCH_OF_ONE_MESSAGE))
                + (_(" (your output held NaN)") if isinstance(out, TensorData) and np.isnan(out.array).any() else ""))
        if not isinstance(error, dict):
            error = {"type": type_name(error), "message": ""}
        message = str(error.get("message", ""))
        if error.get("not_implemented") is True:
            raise CheckFailed(_("`BatchNorm1d` is not implemented yet: replace `raise NotImplementedError()` with your code"))
        if error.get("value_error") is True:
            if "more than 1 value per channel" not in message:
                raise CheckFailed(_("a training batch of shape {shape} raised ValueError({message!r}); PyTorch's message starts with {batch_of_one_message!r}").format(shape=shape, message=message, batch_of_one_message=BATCH_OF_ONE_MESSAGE))
            continue
        raise CheckFailed(recognised("bninf-no-error-for-batch-of-one", recognised("bninf-no-error-for-batch-of-one", _('a training batch of shape {shape} raised {error_get_type}: {message}; PyTorch raises ValueError({batch_of_one_message!r}, ...), raise the same exception type').format(shape=shape, error_get_type=error.get('type'), message=message, batch_of_one_message=BATCH_OF_ONE_MESSAGE))))
    _training_verdict(record, inputs["training"], prefix="train_")


# ---------------------------------------------------------------- running statistics

@verdict_only
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


def _running_inputs(*, seed: int = 0, shape=(16, 4), steps: int = 20, eps=_DEFAULT, momentum=_DEFAULT,
                    dtype=torch.float64) -> dict:
    shape = tuple(shape)
    return {"shape": shape, "steps": steps, "eps": eps, "momentum": momentum, "dtype": dtype,
            "batches": [_batch(seed, shape, step, dtype) for step in range(steps)]}


def _running_probe(record, BatchNorm1d, inputs) -> None:
    """Training steps under no_grad; records the buffers after every step."""
    module = _make_module(record, "module", BatchNorm1d, inputs["shape"][1], inputs["eps"], inputs["momentum"],
                          inputs["dtype"])
    if module is None:
        return
    _mode(module, True)
    for step, x in enumerate(inputs["batches"], start=1):
        with torch.no_grad():
            out = _forward(record, f"step{step}_out", module, x.clone())
        if out is None:
            return
        for name, value in _buffers(module).items():
            record[f"step{step}_{name}"] = value


@check(inputs=_running_inputs, probe=_running_probe)
def check_running_statistics(record, inputs) -> None:
    """running_mean, running_var and num_batches_tracked equal PyTorch's after every training step.

    The batches drift from step to step, so the momentum convention matters.
    ``momentum=None`` selects PyTorch's cumulative (simple) average.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape, steps, eps, momentum, dtype = (inputs["shape"], inputs["steps"], inputs["eps"], inputs["momentum"],
                                          inputs["dtype"])
    c = shape[1]
    _require_module(record, "module", c)
    reference = _reference(c, eps, momentum, dtype).train()
    m = reference.momentum
    batches = inputs["batches"]
    numpy_batches = [b.to(torch.float64).numpy() for b in batches]
    wrong = {
        recognised("bninf-stores-biased-var", recognised("bninf-stores-biased-var", _('running_var holds the biased batch variance (dividing by n): PyTorch normalizes with the biased variance but stores the unbiased one (dividing by n - 1, n = N * L values per channel) in running_var'))):
            _simulate(numpy_batches, m, biased=True),
        recognised("bninf-momentum-reversed", recognised("bninf-momentum-reversed", _("the momentum convention is reversed: PyTorch's momentum weights the NEW batch, running = (1 - momentum) * running + momentum * batch_statistic (momentum=0.1 keeps 90% of the old value); the paper/Keras-style alpha=0.99 is the weight of the OLD value"))):
            _simulate(numpy_batches, m, reversed_momentum=True) if m is not None else None,
        recognised("bninf-running-var-zeros", recognised("bninf-running-var-zeros", _("running_var must start at ones (yours looks initialised to zeros)"))): _simulate(numpy_batches, m, var_start=0.0),
        recognised("bninf-momentum-none", recognised("bninf-momentum-none", _('momentum=None must give the cumulative (simple) average of all batches so far: use the factor 1 / num_batches_tracked instead of a fixed momentum'))):
            _simulate(numpy_batches, m, fixed_for_none=0.1) if m is None else None,
        recognised("bninf-running-not-updated", recognised("bninf-running-not-updated", _('the running statistics were not updated in training mode: after each training batch, running = (1 - momentum) * running + momentum * batch_statistic'))): _simulate(numpy_batches, m, frozen=True),
    }
    where = _describe(shape, eps, momentum, dtype)
    rtol, atol = TOLERANCE[dtype]
    for step, x in enumerate(batches, start=1):
        with torch.no_grad():
            reference(x)
        _output(record, f"step{step}_out", "BatchNorm1d.forward")
        for index, name in enumerate(("running_mean", "running_var")):
            mistakes = {hint: (history[step - 1][index] if history is not None else None) for hint, history in wrong.items()}
            assert_close(_numpy(record[f"step{step}_{name}"], name), getattr(reference, name).to(torch.float64).numpy(),
                         what=_('{name} after training step {step} of {steps} ({where})').format(name=name, step=step, steps=steps, where=where), rtol=rtol, atol=atol,
                         mistakes=mistakes)
        tracked = record[f"step{step}_num_batches_tracked"]
        if _count(tracked) != step:
            raise CheckFailed(recognised("bninf-num-batches-not-tracked", recognised("bninf-num-batches-not-tracked", _('num_batches_tracked is {show_tracked} after {step} training step(s), expected {step}: add 1 to it at every training-mode forward pass (PyTorch counts the batches; momentum=None needs the count)').format(show_tracked=_show(tracked), step=step))))


# ---------------------------------------------------------------- eval mode

def _eval_inputs(*, seed: int = 0, shape=(12, 4), train_steps: int = 5, eps=_DEFAULT, momentum=_DEFAULT,
                 dtype=torch.float64) -> dict:
    shape = tuple(shape)
    weight, bias = _affine(seed, shape[1])
    return {"shape": shape, "eps": eps, "momentum": momentum, "dtype": dtype, "weight": weight, "bias": bias,
            "batches": [_batch(seed, shape, step, dtype) for step in range(train_steps)],
            "x": _batch(seed + 7, shape, step=3, dtype=dtype) * 2 + 1}  # not the training distribution


def _eval_probe(record, BatchNorm1d, inputs) -> None:
    """Training steps, then eval(): records the buffers before and after an eval batch, its output, one example's."""
    module = _make_module(record, "module", BatchNorm1d, inputs["shape"][1], inputs["eps"], inputs["momentum"],
                          inputs["dtype"])
    if module is None:
        return
    _mode(module, True)
    _set_affine(module, inputs["weight"], inputs["bias"])
    for step, x in enumerate(inputs["batches"], start=1):
        with torch.no_grad():
            if _forward(record, f"train{step}_out", module, x.clone()) is None:
                return
    _mode(module, False)
    record["before"] = _buffers(module)
    with torch.no_grad():
        out = _forward(record, "out", module, inputs["x"].clone())
    record["after"] = _buffers(module)
    if out is None:
        return
    with torch.no_grad():
        _forward(record, "one_out", module, inputs["x"][:1].clone(),
                 what=_("BatchNorm1d.forward (eval mode, a batch of one example)"))


@check(inputs=_eval_inputs, probe=_eval_probe)
def check_eval_mode(record, inputs) -> None:
    """After some training steps, eval() normalizes with the running statistics and updates nothing.

    The eval batch comes from another distribution than the training batches, so
    batch statistics and running statistics give clearly different outputs. A
    single example in eval mode must work and give the same row as in the batch.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape, eps, momentum, dtype = inputs["shape"], inputs["eps"], inputs["momentum"], inputs["dtype"]
    c = shape[1]
    _require_module(record, "module", c)
    reference = _reference(c, eps, momentum, dtype).train()
    _set_affine(reference, inputs["weight"], inputs["bias"])
    with torch.no_grad():
        for step, x in enumerate(inputs["batches"], start=1):
            reference(x)
            _output(record, f"train{step}_out", "BatchNorm1d.forward")
    reference.eval()
    x = inputs["x"]
    with torch.no_grad():
        expected = reference(x).to(torch.float64).numpy()
    actual = _numpy(_output(record, "out", "BatchNorm1d.forward"), _("the eval-mode output of BatchNorm1d"))
    before, after = record["before"], record["after"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        raise CheckFailed(_("the grader received no running statistics from your module"))
    changed = [name for name in _STATE_NAMES if not _unchanged(before.get(name), after.get(name))]

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
            recognised("bninf-eval-batch-statistics", recognised("bninf-eval-batch-statistics", _("in eval mode your BatchNorm1d used the batch statistics ({where}): after module.eval() (self.training is False) it must normalize with running_mean and running_var, so that an example's output does not depend on the other examples in its batch").format(where=where)))
            + (_('; it also changed {changed} in eval mode').format(changed=changed) if changed else ""))
    if changed:
        raise CheckFailed(
            recognised("bninf-eval-updates-running", recognised("bninf-eval-updates-running", _('{join_changed} changed in eval mode ({where}): after module.eval() (self.training is False) the running statistics are fixed; update them only in training mode').format(join_changed=', '.join(changed), where=where))))
    running_mean = reference.running_mean.to(torch.float64).numpy().reshape(view)
    running_var = reference.running_var.to(torch.float64).numpy().reshape(view)
    assert_close(actual, expected, what=_('the eval-mode output of BatchNorm1d for {where}').format(where=where), rtol=rtol, atol=atol,
                 mistakes={
                     recognised("bn-eps-outside-sqrt", recognised("bn-eps-outside-sqrt", _("eval mode normalized with the running statistics but eps was added outside the square root"))):
                         (x64 - running_mean) / (np.sqrt(running_var) + reference.eps) * w64 + b64,
                     recognised("bn-gamma-beta-missing", recognised("bn-gamma-beta-missing", _("eval mode ignored weight and bias: return x_hat * weight + bias"))):
                         (x64 - running_mean) / np.sqrt(running_var + reference.eps),
                 })
    one = _output(record, "one_out", _("BatchNorm1d.forward (eval mode, a batch of one example)"))
    assert_close(_numpy(one, _("the eval-mode output for one example")), expected[:1],
                 what=_("the eval-mode output for a batch of ONE example (the first row of the batch above)"),
                 rtol=rtol, atol=atol)


def _load_inputs(*, seed: int = 0, num_features: int = 5, length=None, train_steps: int = 4, eps=_DEFAULT,
                 momentum=_DEFAULT) -> dict:
    """The state_dict of a torch.nn.BatchNorm1d after ``train_steps`` training batches, computed in NumPy.

    (PyTorch's update rule: unbiased batch variance, momentum on the new batch,
    the cumulative average for momentum=None; ``_simulate``.) The reference
    module loads the same state in the verdict.
    """
    shape = (10, num_features) if length is None else (6, num_features, length)
    weight, bias = _affine(seed, num_features)
    history = _simulate([_batch(seed, shape, step).numpy() for step in range(train_steps)],
                        0.1 if momentum is _DEFAULT else momentum)
    mean, var = history[-1] if history else (np.zeros(num_features), np.ones(num_features))
    state = {"weight": weight, "bias": bias, "running_mean": torch.tensor(mean, dtype=torch.float64),
             "running_var": torch.tensor(var, dtype=torch.float64),
             "num_batches_tracked": torch.tensor(train_steps, dtype=torch.long)}
    return {"shape": shape, "num_features": num_features, "train_steps": train_steps, "eps": eps,
            "momentum": momentum, "state_dict": state, "x": _batch(seed + 3, shape, step=2),
            "x_train": _batch(seed + 4, shape, step=train_steps)}


def _load_probe(record, BatchNorm1d, inputs) -> None:
    """load_state_dict, an eval batch (its output), a training batch (the buffers after it)."""
    module = _make_module(record, "module", BatchNorm1d, inputs["num_features"], inputs["eps"], inputs["momentum"])
    if module is None:
        return
    call_learner(module.load_state_dict, inputs["state_dict"], name="load_state_dict")
    _mode(module, False)
    with torch.no_grad():
        if _forward(record, "eval_out", module, inputs["x"].clone()) is None:
            return
    _mode(module, True)
    with torch.no_grad():
        if _forward(record, "train_out", module, inputs["x_train"].clone()) is None:
            return
    for name, value in _buffers(module).items():
        record[f"after_{name}"] = value


@check(inputs=_load_inputs, probe=_load_probe)
def check_load_state_dict(record, inputs) -> None:
    """Your module loads a trained torch.nn.BatchNorm1d's state_dict and then behaves like it.

    Checks eval-mode outputs after loading and, since num_batches_tracked is loaded
    too, the running statistics after one more training step.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    shape, num_features, eps, momentum = inputs["shape"], inputs["num_features"], inputs["eps"], inputs["momentum"]
    _require_module(record, "module", num_features)
    reference = _reference(num_features, eps, momentum)
    reference.load_state_dict(inputs["state_dict"])
    reference.eval()
    where = _describe(shape, eps, momentum, torch.float64)
    rtol, atol = TOLERANCE[torch.float64]
    with torch.no_grad():
        expected = reference(inputs["x"]).numpy()
    assert_close(_numpy(_output(record, "eval_out", "BatchNorm1d.forward"), _("the output")), expected,
                 what=_('the eval-mode output after load_state_dict of a trained torch.nn.BatchNorm1d ({where})').format(where=where),
                 rtol=rtol, atol=atol)
    reference.train()
    with torch.no_grad():
        reference(inputs["x_train"])
    _output(record, "train_out", "BatchNorm1d.forward")
    for name in ("running_mean", "running_var"):
        assert_close(_numpy(record[f"after_{name}"], name), getattr(reference, name).numpy(),
                     what=_('{name} after load_state_dict and one more training step ({where})').format(name=name, where=where), rtol=rtol, atol=atol)
    tracked, expected_count = record["after_num_batches_tracked"], int(reference.num_batches_tracked)
    if _count(tracked) != expected_count:
        shown = _count(tracked) if _count(tracked) is not None else _show(tracked)
        raise CheckFailed(_('num_batches_tracked is {shown} after load_state_dict and one training step, expected {expected_count}').format(shown=shown, expected_count=expected_count))


# ---------------------------------------------------------------- population statistics

def _population_inputs(*, seed: int = 0, n_batches: int = 10, batch_size: int = 8, n_features: int = 4,
                       dtype=torch.float64) -> dict:
    """B batches of m examples (features on different scales); their means and BIASED variances as (B, C) tensors."""
    rng = np.random.default_rng(seed)
    loc, scale = rng.uniform(-5, 5, n_features), 10 ** rng.uniform(-1, 1, n_features)
    data = loc + scale * rng.standard_normal((n_batches, batch_size, n_features))
    means, variances = data.mean(axis=1), data.var(axis=1)
    return {"n_batches": n_batches, "batch_size": batch_size, "n_features": n_features, "dtype": dtype,
            "data": data, "means": means, "variances": variances,
            "batch_means": torch.tensor(means, dtype=dtype), "batch_vars": torch.tensor(variances, dtype=dtype)}


def _population_probe(record, population_statistics, inputs) -> None:
    given_means, given_vars = inputs["batch_means"].clone(), inputs["batch_vars"].clone()
    record["result"] = call_learner(population_statistics, given_means, given_vars, inputs["batch_size"])
    record["means_after"] = given_means
    record["vars_after"] = given_vars


@check(inputs=_population_inputs, probe=_population_probe)
def check_population_statistics(record, inputs) -> None:
    """``population_statistics(batch_means, batch_vars, m)`` gives the paper's inference estimate.

    batch_means, batch_vars: (B, C) tensors of the means and BIASED variances of
    B batches of m examples. Expected: mean = average of the batch means,
    var = m / (m - 1) * average of the batch variances.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    n_batches, n_features, dtype = inputs["n_batches"], inputs["n_features"], inputs["dtype"]
    data, means, variances = inputs["data"], inputs["means"], inputs["variances"]
    result = record["result"]
    if not _same(record["means_after"], inputs["batch_means"]) or not _same(record["vars_after"], inputs["batch_vars"]):
        raise CheckFailed(recognised("changed-input-in-place", recognised("changed-input-in-place", _("population_statistics changed its input tensors in place; compute new tensors instead"))))
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailed(_('population_statistics should return a tuple (mean, var), but it returned {type_name_result}').format(type_name_result=type_name(result)))
    m = inputs["batch_size"]
    rtol, atol = TOLERANCE[dtype]
    where = _('{n_batches} batches of m={m} examples, {n_features} features, {dtype}').format(n_batches=n_batches, m=m, n_features=n_features, dtype=str(dtype).replace('torch.', ''))
    expected_mean = data.reshape(-1, n_features).mean(axis=0)
    assert_close(_numpy(result[0], _("the mean")), expected_mean, what=_('the population mean ({where})').format(where=where), rtol=rtol, atol=atol,
                 mistakes={recognised("bninf-pop-wrong-dim", recognised("bninf-pop-wrong-dim", _("the mean was taken over dim 1 (per batch): average the batch means over dim 0"))):
                           means.mean(axis=1)})
    expected_var = m / (m - 1) * variances.mean(axis=0)
    assert_close(_numpy(result[1], _("the variance")), expected_var, what=_('the population variance ({where})').format(where=where),
                 rtol=rtol, atol=atol, mistakes={
                     recognised("bninf-pop-no-correction", recognised("bninf-pop-no-correction", _('the m/(m-1) correction is missing: the average of biased batch variances underestimates the population variance; multiply by m / (m - 1) (m = batch_size) to make it unbiased'))):
                         variances.mean(axis=0),
                     recognised("bninf-pop-correction-upside-down", recognised("bninf-pop-correction-upside-down", _("the correction is upside down: multiply by m / (m - 1), not (m - 1) / m"))):
                         (m - 1) / m * variances.mean(axis=0),
                     recognised("bninf-pop-variance-of-means", recognised("bninf-pop-variance-of-means", _("this is the variance of the batch MEANS, not the average of the batch variances"))):
                         means.var(axis=0, ddof=1) if n_batches > 1 else None,
                     recognised("bninf-pop-wrong-count", recognised("bninf-pop-wrong-count", _("the correction used the number of batches B instead of the batch size m"))):
                         n_batches / (n_batches - 1) * variances.mean(axis=0) if n_batches > 1 else None,
                 })


# ---------------------------------------------------------------- folding

def _fold_inputs(*, seed: int = 0, in_features: int = 6, out_features: int = 4, eps: float = 1e-5,
                 linear_bias: bool = True, dtype=torch.float64) -> dict:
    """linear: nn.Linear with PyTorch's initialisation under ``seed``, in eval mode; bn: an nn.BatchNorm1d in eval mode with
    random weight (some negative), bias, running_mean and running_var (between 0.01 and 2, so that eps matters)."""
    with torch.random.fork_rng(devices=[]):  # the learner's global generator is left as it was
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
    linear.eval(), bn.eval()  # as the instructions say, and as PyTorch's own fusion requires of both
    x = torch.randn(9, in_features, generator=generator).to(dtype)
    return {"in_features": in_features, "out_features": out_features, "eps": eps, "linear_bias": linear_bias,
            "dtype": dtype, "linear": linear, "bn": bn, "x": x}


def _module_state(module) -> dict:
    """Probe: the state_dict of one of the course's layers (after the learner's function had it)."""
    return dict(nn.Module.state_dict(module))


def _fold_probe(record, fold_batchnorm, inputs) -> None:
    """fold_batchnorm(linear, bn): what it returned, whether linear and bn changed, the folded layer's weight and bias.

    The verdict computes the folded layer's output itself, x @ weight.T + bias: what is judged is the fold (the new
    parameters), never code of the returned object (a subclass's forward, or a hook computing bn(linear(x)) on top
    of unfolded weights, passed when the layer was called: attack 6)."""
    linear, bn = inputs["linear"], inputs["bn"]
    folded = call_learner(fold_batchnorm, linear, bn)
    record["is_linear"] = isinstance(folded, nn.Linear)
    record["type"] = type(folded).__name__
    record["linear_after"] = _module_state(linear)
    record["bn_after"] = _module_state(bn)
    if not isinstance(folded, nn.Linear):
        return
    record["features"] = (folded.in_features, folded.out_features)
    record["has_bias"] = folded.bias is not None
    if folded.bias is None:
        return
    with learner_code(), torch.no_grad():  # attribute reads may run the learner's code (a property)
        weight, bias = folded.weight, folded.bias
        record["weight"] = weight.detach().clone() if isinstance(weight, torch.Tensor) else weight
        record["bias"] = bias.detach().clone() if isinstance(bias, torch.Tensor) else bias
    try:  # only to name the mistake when the parameters are not the fold but the output is
        with torch.no_grad():
            record["out"] = call_learner(folded, inputs["x"].to(inputs["dtype"]), name=_("the folded layer"))
    except CheckFailed:
        record["out"] = None  # the verdict judges the parameters; a layer whose own code fails is not judged by it


@check(inputs=_fold_inputs, probe=_fold_probe)
def check_fold_batchnorm(record, inputs) -> None:
    """``fold_batchnorm(linear, bn)`` returns one new nn.Linear equal to ``bn(linear(x))`` in eval mode.

    bn has random weight (some negative), bias, running_mean and running_var
    (between 0.01 and 2, so that eps matters); linear and bn must not change.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    in_features, out_features, eps, linear_bias, dtype = (inputs["in_features"], inputs["out_features"], inputs["eps"],
                                                          inputs["linear_bias"], inputs["dtype"])
    linear, bn, x = inputs["linear"], inputs["bn"], inputs["x"]
    with torch.no_grad():
        expected = bn(linear(x)).to(torch.float64).numpy()
    if record["is_linear"] is not True:
        raise CheckFailed(_('fold_batchnorm should return a torch.nn.Linear, but it returned {type}').format(type=record['type']))
    for module, name in [(linear, "linear"), (bn, "bn")]:
        before, after = module.state_dict(), record[f"{name}_after"]
        if not isinstance(after, dict) or set(after) != set(before) \
                or any(not _same(after[key], value) for key, value in before.items()):
            raise CheckFailed(recognised("changed-input-in-place", recognised("changed-input-in-place", _('fold_batchnorm changed `{name}` in place: build and return a new nn.Linear and leave the layers it was given as they were').format(name=name))))
    features = record["features"]
    if features != (in_features, out_features):
        shown = features if isinstance(features, tuple) and len(features) == 2 else ("?", "?")
        raise CheckFailed(_('the folded layer maps {shown_0} -> {shown_1} features, expected {in_features} -> {out_features}').format(shown_0=shown[0], shown_1=shown[1], in_features=in_features, out_features=out_features))
    if record["has_bias"] is not True:
        raise CheckFailed(recognised("bninf-fold-no-bias", recognised("bninf-fold-no-bias", _("the folded layer has no bias: batch norm's shift (bias - running_mean * scale) needs one, even when `linear` had none: create nn.Linear(..., bias=True)"))))
    weight, bias = _numpy(record["weight"], _("the folded layer's weight")), _numpy(record["bias"], _("the folded layer's bias"))
    if weight.shape != (out_features, in_features) or bias.shape != (out_features,):
        raise CheckFailed(_("the folded layer's weight has shape {weight_shape} and its bias {bias_shape}; nn.Linear({in_features}, {out_features}) has ({out_features}, {in_features}) and ({out_features},)").format(
            weight_shape=tuple(weight.shape), bias_shape=tuple(bias.shape), in_features=in_features, out_features=out_features))
    actual = x.to(torch.float64).numpy() @ weight.T + bias   # the fold itself: its parameters, not its code
    rtol, atol = TOLERANCE[dtype]
    called = record["out"]
    if not np.allclose(actual, expected, rtol=rtol, atol=atol) and isinstance(called, TensorData) \
            and called.shape == expected.shape and np.allclose(called.array.astype(np.float64), expected, rtol=rtol, atol=atol):
        raise CheckFailed(_("the folded layer's output is bn(linear(x)), but its weight and bias are not the fold: x @ weight.T + bias differs from it").format() + _("\n  Likely mistake: ") + recognised(
            "bninf-fold-not-folded", _("the returned layer's own code (a forward hook, or a subclass's forward) computes bn(linear(x)) from the layers it kept: fold them into a new nn.Linear's weight and bias, W' = W * scale[:, None], b' = (b - running_mean) * scale + beta, scale = gamma / sqrt(running_var + eps)")))

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
        recognised("bninf-fold-linear-bias-missing", recognised("bninf-fold-linear-bias-missing", _("the linear layer's own bias was left out of the folded bias: b' = gamma * (b - running_mean) / sqrt(running_var + eps) + beta"))): folded_output(s, beta - s * mu) if linear_bias else None,
        recognised("bninf-fold-beta-missing", recognised("bninf-fold-beta-missing", _("batch norm's bias (beta) was left out of the folded bias: b' = gamma * (b - running_mean) / sqrt(running_var + eps) + beta"))): folded_output(s, s * (b - mu)),
        recognised("bn-eps-missing", recognised("bn-eps-missing", _("eps was left out: the scale is gamma / sqrt(running_var + eps), not gamma / sqrt(running_var)"))):
            folded_output(s_no_eps, s_no_eps * (b - mu) + beta),
        recognised("bninf-fold-bias-not-scaled", recognised("bninf-fold-bias-not-scaled", _("the folded bias was not scaled: b' = gamma * (b - running_mean) / sqrt(running_var + eps) + beta"))):
            folded_output(s, b - s * mu + beta),
        recognised("bninf-fold-variance-for-std", recognised("bninf-fold-variance-for-std", _("the variance was used where its square root belongs: scale = gamma / sqrt(running_var + eps)"))):
            folded_output(gamma / (var + eps), gamma / (var + eps) * (b - mu) + beta),
    }
    assert_close(actual, expected,
                 what=(_('x @ weight.T + bias of fold_batchnorm(linear, bn) vs bn(linear(x)) in eval mode (Linear({in_features}, {out_features}, bias={linear_bias}), eps={eps:g}, {dtype})').format(in_features=in_features, out_features=out_features, linear_bias=linear_bias, eps=eps, dtype=str(dtype).replace('torch.', ''))),
                 rtol=rtol, atol=atol, mistakes=mistakes)
