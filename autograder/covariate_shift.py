"""Checks for chapter 2, internal covariate shift (exercise ``02_covariate_shift``).

The learner writes, in PyTorch:

- ``record_preactivations(model, x, layer_types=(nn.Linear,)) -> list[Tensor]``:
  the outputs of every module of ``layer_types`` in one forward pass, captured
  with forward hooks. Compared with an explicit layer-by-layer forward pass of a
  copy of the model; the hooks must be gone afterwards, the model's train/eval
  mode untouched, and the recorded tensors detached from the autograd graph.
- ``activation_percentiles(values, q=(15, 50, 85)) -> Tensor``: per-unit
  percentiles over the examples, (N, D) -> (len(q), D), compared with
  ``numpy.percentile(values, q, axis=0)`` (linear interpolation) in float64.
- ``percentile_drift(history) -> Tensor``: (T, Q, D) -> (Q, D), the width of
  the band each percentile moved through (max over time minus min over time).

Each check builds its own model and data from ``seed`` and a few size and
type arguments, so hidden tests vary the inputs, not the logic. Each is a probe
(calls the learner's function, records what it returned and what it left
behind, as data) and a verdict (the reference on the verdict's own copy of the
inputs, compared); see ``autograder/probe.py``.
"""
from __future__ import annotations

from autograder.i18n import _

import copy

import numpy as np
import torch
from torch import nn
from torch.nn.modules import module as _module_globals

from autograder.forbidden import verdict_only
from autograder.compare import CheckFailed, assert_close, likely_mistake
from autograder.compare import call_learner as _call_learner
from autograder.probe import TensorData, check, type_name
from autograder.mistakes import recognised

ACTIVATIONS = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
TOLERANCE = {torch.float64: (1e-10, 1e-10), torch.float32: (1e-5, 1e-5)}  # (rtol, atol) by dtype


# ---------------------------------------------------------------- models and explicit forward passes

def make_probe_model(seed: int = 0, widths=(12, 9, 5), *, activation: str = "sigmoid", batchnorm: bool = False,
                     inplace: bool = False, nested: bool = False, dtype=torch.float32) -> nn.Sequential:
    """A chain [Linear -> (BatchNorm1d) -> activation] * hidden -> Linear, seeded.

    ``widths`` lists the input size, the hidden sizes and the output size. With
    ``nested`` each hidden block is its own ``nn.Sequential`` (so a solution that
    only looks at ``model.children()`` misses layers). Weights are N(0, 1) / sqrt(fan_in)
    scaled by 2 and biases N(0, 0.5^2), so pre-activations spread over both signs.
    """
    generator = torch.Generator().manual_seed(seed)
    blocks = []
    for fan_in, fan_out in zip(widths[:-2], widths[1:-1]):
        block = [nn.Linear(fan_in, fan_out)]
        if batchnorm:
            block.append(nn.BatchNorm1d(fan_out))
        make_activation = ACTIVATIONS[activation]
        block.append(make_activation(inplace=True) if inplace and activation == "relu" else make_activation())
        blocks.append(nn.Sequential(*block) if nested else block)
    layers = [b for b in blocks] if nested else [layer for block in blocks for layer in block]
    layers.append(nn.Linear(widths[-2], widths[-1]))
    model = nn.Sequential(*layers).to(dtype)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Linear):
                m.weight.copy_(2 * torch.randn(m.weight.shape, generator=generator, dtype=dtype) / m.in_features**0.5)
                m.bias.copy_(0.5 * torch.randn(m.bias.shape, generator=generator, dtype=dtype))
            if isinstance(m, nn.BatchNorm1d):
                # Non-trivial state, so train-mode (batch statistics) and eval-mode (running statistics) outputs differ.
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=generator, dtype=dtype))
                m.bias.copy_(0.3 * torch.randn(m.bias.shape, generator=generator, dtype=dtype))
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=generator, dtype=dtype))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=generator, dtype=dtype))
    return model


def _leaves(model: nn.Module) -> list[nn.Module]:
    """The modules that do the work, in the order a chain of Sequentials calls them."""
    children = list(model.children())
    if not children:
        return [model]
    return [leaf for child in children for leaf in _leaves(child)]


@verdict_only
def explicit_forward(model: nn.Module, x: torch.Tensor, layer_types, *, train: bool | None = None) -> dict[str, list]:
    """Run a copy of ``model`` layer by layer on ``x``; return what each kind of recording would hold.

    Keys: ``outputs`` (the right answer: outputs of the modules of ``layer_types``),
    ``inputs`` (their inputs), ``after_activation`` (outputs of the activation
    modules), ``modified_in_place`` (the outputs as an in-place activation right
    after them leaves them when they are stored without a copy).
    """
    model = copy.deepcopy(model)
    if train is not None:
        model.train(train)
    leaves = _leaves(model)
    found = {"outputs": [], "inputs": [], "after_activation": [], "modified_in_place": []}
    h = x.clone()
    with torch.no_grad():
        for i, leaf in enumerate(leaves):
            out = leaf(h.clone())
            if isinstance(leaf, layer_types):
                found["inputs"].append(h.clone())
                found["outputs"].append(out.clone())
                following = leaves[i + 1] if i + 1 < len(leaves) else None
                changed = following(out.clone()) if getattr(following, "inplace", False) else out.clone()
                found["modified_in_place"].append(changed)
            if isinstance(leaf, tuple(ACTIVATIONS.values())):
                found["after_activation"].append(out.clone())
            h = out
    return found


# ---------------------------------------------------------------- helpers

class _Shown:
    """Stands in for a tensor or model in the "called as ..." line of a failure message."""

    def __init__(self, value):
        if isinstance(value, torch.Tensor):
            self.text = f"<tensor shape={tuple(value.shape)} dtype={str(value.dtype).replace('torch.', '')}>"
        else:
            self.text = f"<{type(value).__name__}>"

    def __repr__(self):
        return self.text


def call_learner(fn, *args, **kwargs):
    """``compare.call_learner``, with tensors and models shown by shape and type rather than printed in full."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    try:
        return _call_learner(fn, *args, **kwargs)
    except CheckFailed as failure:
        message = str(failure)
        for value in args:
            if isinstance(value, (torch.Tensor, nn.Module)):
                message = message.replace(repr(value), repr(_Shown(value)))
        raise CheckFailed(message) from failure.__cause__


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().to(torch.float64).cpu().numpy()


def _hooks_left(model: nn.Module) -> list[str]:
    left = []
    for name, m in model.named_modules():
        count = len(m._forward_hooks) + len(m._forward_pre_hooks)
        if count:
            left.append(f"{name or 'model'} ({type(m).__name__}): {count}")
    return left


def _global_hooks() -> set[int]:
    return set(_module_globals._global_forward_hooks) | set(_module_globals._global_forward_pre_hooks)


def _modes(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _list_matches(actual: list[np.ndarray], candidate: list, rtol: float, atol: float) -> bool:
    if len(actual) != len(candidate) or not actual:
        return False
    return all(likely_mistake(a, {"x": _numpy(c)}, rtol, atol) for a, c in zip(actual, candidate))


def _type_names(layer_types) -> str:
    return ", ".join(f"nn.{t.__name__}" for t in layer_types)


# ---------------------------------------------------------------- record_preactivations



def _record_inputs(*, seed: int = 0, widths=(12, 9, 7, 5), batch: int = 16, activation: str = "sigmoid",
                   batchnorm: bool = False, mode: str = "train", layer_types=None, inplace: bool = False,
                   nested: bool = False, dtype=torch.float32) -> dict:
    """The model (in ``mode``) and the batch x; built afresh on each side, so the verdict's copy is untouched."""
    if batch in widths:
        raise ValueError("use a batch size different from every width, so that transposed results show up")
    model = make_probe_model(seed, widths, activation=activation, batchnorm=batchnorm, inplace=inplace,
                             nested=nested, dtype=dtype)
    model.train(mode == "train")
    generator = torch.Generator().manual_seed(seed + 1)
    x = (torch.randn(batch, widths[0], generator=generator, dtype=dtype) * 1.5 + 0.3).requires_grad_(False)
    return {"model": model, "x": x, "layer_types": layer_types,
            "types": (nn.Linear,) if layer_types is None else tuple(layer_types),
            "batchnorm": batchnorm, "mode": mode, "nested": nested, "dtype": dtype}


def _record_probe(record, record_preactivations, inputs) -> None:
    model, x_given, layer_types = inputs["model"], inputs["x"].clone(), inputs["layer_types"]
    global_before = _global_hooks()
    kwargs = {} if layer_types is None else {"layer_types": layer_types}
    try:
        result = call_learner(record_preactivations, model, x_given, **kwargs)
        record["out"] = result
    finally:
        leaked_global = _global_hooks() - global_before
        for key in leaked_global:  # do not let them break every later cell of the notebook
            _module_globals._global_forward_hooks.pop(key, None)
            _module_globals._global_forward_pre_hooks.pop(key, None)
    record["global_hooks_left"] = len(leaked_global)
    record["hooks_left"] = _hooks_left(model)
    record["modes_after"] = _modes(model)
    record["x_after"] = x_given


@check(inputs=_record_inputs, probe=_record_probe)
def check_record_preactivations(record, inputs) -> None:
    """``record_preactivations(model, x, layer_types)`` equals an explicit layer-by-layer forward pass.

    ``layer_types=None`` calls the learner's function without the argument, checking
    its default ``(nn.Linear,)``. ``mode`` is the mode the model is in ("train" or
    "eval"); the function must record in that mode and leave it unchanged. Also
    checked: no hook is left on any module, and the tensors carry no autograd graph.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    model, x, types, layer_types = inputs["model"], inputs["x"], inputs["types"], inputs["layer_types"]
    mode, nested, dtype = inputs["mode"], inputs["nested"], inputs["dtype"]
    reference = explicit_forward(model, x, types)
    other_mode = explicit_forward(model, x, types, train=(mode != "train")) if inputs["batchnorm"] else None
    modes_before = _modes(model)

    description = (_('record_preactivations(model, x{detail}) for a {detail2}model {modules} in {mode} mode, x of shape {x_shape}, {dtype}').format(detail=', layer_types=(' + _type_names(types) + ',)' if layer_types is not None else '', detail2=_('nested ') if nested else '', modules=' -> '.join(type(m).__name__ for m in _leaves(model)), mode=mode, x_shape=tuple(x.shape), dtype=str(dtype).replace('torch.', '')))
    result = record["out"]
    if result is None:
        raise CheckFailed(recognised("forgot-return", _('{description} returned None: did you forget to `return` the list?').format(description=description)))
    if type(result) not in (list, tuple):
        raise CheckFailed(_('{description} should return a list of tensors, but it returned a {type_name_result}').format(description=description, type_name_result=type_name(result)))
    for i, value in enumerate(result):
        if not isinstance(value, TensorData):
            raise CheckFailed(_('{description}: element {i} of the list is a {type_name_value}, expected a torch.Tensor').format(description=description, i=i, type_name_value=type_name(value)))
    actual = [_as_float(v.array) for v in result]
    rtol, atol = TOLERANCE[dtype]

    known = {
        recognised("cs-record-after-activation", _('you recorded the output of the activation function (after the non-linearity); the pre-activation is the output of the Linear layer (or of the chosen layer type), before the activation')): reference["after_activation"],
        recognised("cs-record-module-input", _("you recorded the module's input (`args[0]` in the hook) instead of its output: the hook's third argument is the output")): reference["inputs"],
        recognised("cs-record-inplace-overwritten", _("the stored tensors were changed afterwards by an in-place activation (nn.ReLU(inplace=True)) that overwrote the Linear layer's output: store a copy, `output.detach().clone()`")): reference["modified_in_place"],
    }
    if other_mode is not None:
        known[recognised("cs-record-other-mode", _('the values were computed in {detail} mode, but the model was in {mode} mode: do not call model.eval() or model.train(); record in the mode the model is in (BatchNorm uses {detail2} statistics in {mode} mode)').format(detail='eval' if mode == 'train' else 'train', mode=mode, detail2=_('batch') if mode == 'train' else _('running')))] = other_mode["outputs"]
    for text, candidate in known.items():
        if candidate is not reference["outputs"] and _list_matches(actual, candidate, rtol, atol) \
                and not _list_matches(actual, reference["outputs"], rtol, atol):
            raise CheckFailed(_('{description} does not hold the pre-activations.\n  Likely mistake: {text}').format(description=description, text=text))

    expected = reference["outputs"]
    if len(actual) != len(expected):
        raise CheckFailed(
            recognised("cs-record-wrong-count", _('{description} returned {len_actual} tensors, expected {len_expected}: one per module of type {type_names_types}, in the order the forward pass runs them (use model.modules(), which also finds modules nested inside others)').format(description=description, len_actual=len(actual), len_expected=len(expected), type_names_types=_type_names(types))))
    for i, (a, e) in enumerate(zip(actual, expected)):
        per_element = {text: _numpy(c[i]) for text, c in known.items() if len(c) == len(expected)}
        per_element[recognised("cs-record-transposed", _("the result is transposed: keep the module's output as it is, shape (N, units)"))] = _numpy(e).T
        assert_close(a, _numpy(e), what=_('element {i} of {description} (output of {type_names_types} number {i})').format(i=i, description=description, type_names_types=_type_names(types)),
                     rtol=rtol, atol=atol, mistakes=per_element)

    tracked = [i for i, v in enumerate(result) if v.requires_grad]  # a tensor with a grad_fn requires grad too
    if tracked:
        raise CheckFailed(
            recognised("cs-record-not-detached", _('{description}: the tensors {tracked} are still attached to the autograd graph (requires_grad=True): store `output.detach()` (or run the forward pass under torch.no_grad()), otherwise every recording keeps the whole graph of the forward pass in memory').format(description=description, tracked=tracked)))
    left, leaked_global = record["hooks_left"], record["global_hooks_left"]
    if type(left) is not list or not all(type(item) is str for item in left) or type(leaked_global) is not int:
        raise CheckFailed(_("the grader received a malformed record of the hooks left on the model"))
    if left or leaked_global:
        where = "; ".join(left) if left else _('{leaked_global} global module hook(s)').format(leaked_global=leaked_global)
        raise CheckFailed(
            recognised("cs-record-hooks-left", _('{description} left hooks registered ({where}). The hooks are still registered after your function returns, so every later forward pass appends more tensors: keep the handles that register_forward_hook returns and call handle.remove() (in a `finally:` block)').format(description=description, where=where)))
    modes_after = record["modes_after"]
    if modes_after != modes_before:
        now = "train" if (type(modes_after) is list and modes_after and modes_after[0] is True) else "eval"
        raise CheckFailed(
            recognised("cs-record-changed-mode", _("{description} changed the model's mode: it was in {mode} mode and is now in {now} mode (or some submodules changed). Record in the mode the caller chose, without calling model.eval() or model.train()").format(description=description, mode=mode, now=now)))
    if not _same_tensor(record["x_after"], x):
        raise CheckFailed(recognised("changed-input-in-place", _('{description} changed its input x in place').format(description=description)))


def _as_float(array: np.ndarray) -> np.ndarray:
    return (array.real if np.iscomplexobj(array) else array).astype(np.float64)


def _same_tensor(recorded, tensor: torch.Tensor) -> bool:
    """Whether the recorded tensor holds exactly ``tensor``'s values (and shape and dtype)."""
    return (isinstance(recorded, TensorData) and recorded.dtype == str(tensor.dtype).replace("torch.", "")
            and np.array_equal(recorded.array, _numpy(tensor)))


# ---------------------------------------------------------------- activation_percentiles

def PERCENT_HINT() -> str:
    return (recognised("cs-percentiles-percent-as-fraction", _('q is given in percent (15 means the 15th percentile); torch.quantile takes fractions, so pass torch.tensor(q) / 100 (np.percentile takes percent as they are)')))


def make_values(seed: int, shape=(40, 7), dtype=torch.float32, ties: bool = False) -> torch.Tensor:
    """Pre-activation-like values (N, D): each unit with its own offset and spread; ``ties`` rounds them."""
    rng = np.random.default_rng(seed)
    n, d = shape
    values = rng.uniform(-3, 3, size=d) + rng.uniform(0.2, 3, size=d) * rng.standard_normal((n, d))
    if ties:
        values = np.round(values)
    return torch.as_tensor(values, dtype=dtype)


def _result_array(result, what: str) -> np.ndarray:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if result is None:
        raise CheckFailed(recognised("forgot-return", _('{what} is None: did you forget to `return` it?').format(what=what)))
    if isinstance(result, TensorData):
        return _as_float(result.array)
    if isinstance(result, np.ndarray) and np.issubdtype(result.dtype, np.number):
        return _as_float(result)
    raise CheckFailed(_('{what} should be a torch.Tensor, but it is a {type_name_result}').format(what=what, type_name_result=type_name(result)))


def _percentiles_inputs(*, seed: int = 0, shape=(40, 7), q=None, dtype=torch.float32, ties: bool = False) -> dict:
    if shape[0] == shape[1] and shape[0] > 1:
        raise ValueError("use N != D so that wrong-axis mistakes show up in the shape")
    return {"values": make_values(seed, shape, dtype, ties), "shape": shape, "q": q, "dtype": dtype, "ties": ties}


def _percentiles_probe(record, activation_percentiles, inputs) -> None:
    given = inputs["values"].clone()
    kwargs = {} if inputs["q"] is None else {"q": inputs["q"]}
    record["out"] = call_learner(activation_percentiles, given, **kwargs)
    record["values_after"] = given


@check(inputs=_percentiles_inputs, probe=_percentiles_probe)
def check_activation_percentiles(record, inputs) -> None:
    """``activation_percentiles(values, q)`` equals ``np.percentile(values, q, axis=0)``: shape (len(q), D).

    ``q=None`` calls the learner's function without it, checking the default (15, 50, 85).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    values, shape, q, dtype, ties = inputs["values"], inputs["shape"], inputs["q"], inputs["dtype"], inputs["ties"]
    percents = (15.0, 50.0, 85.0) if q is None else tuple(float(p) for p in q)
    v64 = _numpy(values)
    expected = np.percentile(v64, percents, axis=0)
    what = (_('activation_percentiles(values{detail}) for values of shape {shape}, {dtype}{detail2}').format(detail=', q=' + repr(q) if q is not None else '', shape=tuple(shape), dtype=str(dtype).replace('torch.', ''), detail2=' with ties' if ties else ''))
    try:
        result = record["out"]
    except CheckFailed as failure:
        # torch.quantile refuses q outside [0, 1]; while the probe notes the operators the learner's code runs
        # (a TorchDispatchMode), PyTorch skips that test and the gather inside quantile fails instead.
        if "range [0, 1]" in str(failure) or (
                "out of bounds" in str(failure) and max(percents, default=0.0) > 1 and "raised" in str(failure)):
            raise CheckFailed(_('{failure}\n  Likely mistake: {percent_hint}').format(failure=failure, percent_hint=PERCENT_HINT())) from None
        raise
    actual = _result_array(result, what)
    if not _same_tensor(record["values_after"], values):
        raise CheckFailed(recognised("changed-input-in-place", _('{what} changed its input in place (torch.sort(values) returns a new tensor; values.sort_() or an in-place op does not)').format(what=what)))
    rtol, atol = TOLERANCE[dtype]
    atol *= float(np.abs(v64).max())
    mistakes = {
        recognised("cs-percentiles-wrong-dim", _('the percentiles were taken over the units of each example (dim=1): take them over the examples, dim=0, one set per unit')): np.percentile(v64, percents, axis=1),
        recognised("cs-percentiles-all-entries", _("one set of percentiles over all entries (no dim): take them over the examples, dim=0, one set per unit")):
            np.percentile(v64, percents),
        recognised("cs-percentiles-divided-twice", _('q was divided by 100 twice (or fractions were passed to np.percentile, which expects percent): these are the 0.15th, 0.5th and 0.85th percentiles')): np.percentile(v64, np.array(percents) / 100, axis=0),
        recognised("cs-percentiles-transposed", _("the result is transposed: return shape (len(q), D), one row per percentile")): expected.T,
    }
    for method in ("nearest", "lower", "higher", "midpoint"):
        mistakes[recognised("cs-percentiles-interpolation", _('interpolation={method!r}: use linear interpolation between the two nearest order statistics (the default of torch.quantile and np.percentile)').format(method=method))] = np.percentile(v64, percents, axis=0, method=method)
    assert_close(actual, expected, what=what, rtol=rtol, atol=atol, mistakes=mistakes)


# ---------------------------------------------------------------- percentile_drift

def make_history(seed: int, steps: int = 12, n_q: int = 3, units: int = 5, dtype=torch.float32) -> torch.Tensor:
    """A (T, Q, D) history of percentiles that wander (random walks) and come part of the way back."""
    rng = np.random.default_rng(seed)
    start = np.sort(rng.normal(0, 2, size=(n_q, units)), axis=0)
    walk = np.cumsum(rng.normal(0, 0.5, size=(steps, n_q, units)), axis=0)
    walk[0] = 0
    walk[steps // 2:] -= 0.5 * walk[steps // 2]  # partly back again: last - first differs from the band width
    return torch.as_tensor(start[None] + walk, dtype=dtype)


def _drift_inputs(*, seed: int = 0, steps: int = 12, n_q: int = 3, units: int = 5, dtype=torch.float32) -> dict:
    return {"history": make_history(seed, steps, n_q, units, dtype), "steps": steps, "dtype": dtype}


def _drift_probe(record, percentile_drift, inputs) -> None:
    given = inputs["history"].clone()
    record["out"] = call_learner(percentile_drift, given)
    record["history_after"] = given


@check(inputs=_drift_inputs, probe=_drift_probe)
def check_percentile_drift(record, inputs) -> None:
    """``percentile_drift(history)`` equals ``history.amax(0) - history.amin(0)``: (T, Q, D) -> (Q, D)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    history, steps, dtype = inputs["history"], inputs["steps"], inputs["dtype"]
    h64 = _numpy(history)
    expected = h64.max(axis=0) - h64.min(axis=0)
    what = _('percentile_drift(history) for history of shape {history_shape} (T, Q, D), {dtype}').format(history_shape=tuple(history.shape), dtype=str(dtype).replace('torch.', ''))
    actual = _result_array(record["out"], what)
    if not _same_tensor(record["history_after"], history):
        raise CheckFailed(recognised("changed-input-in-place", _('{what} changed its input in place').format(what=what)))
    rtol, atol = TOLERANCE[dtype]
    atol *= float(np.abs(h64).max())
    mistakes = {
        recognised("cs-drift-last-minus-first", _('this is the last value minus the first: a percentile that moves away and comes back has drifted too; take max over time minus min over time')): h64[-1] - h64[0],
        recognised("cs-drift-last-minus-first", _('this is |last - first|: a percentile that moves away and comes back has drifted too; take max over time minus min over time')): np.abs(h64[-1] - h64[0]),
        recognised("cs-drift-std", _("this is the standard deviation over time, not the width of the band (max - min over time)")): h64.std(axis=0),
        recognised("cs-drift-std", _("this is the (unbiased) standard deviation over time, not the width of the band (max - min over time)")):
            h64.std(axis=0, ddof=1) if steps > 1 else None,
        recognised("cs-drift-path-length", _("this is the total path length (sum of |steps|), not the width of the band (max - min over time)")):
            np.abs(np.diff(h64, axis=0)).sum(axis=0),
        recognised("cs-drift-wrong-dim", _("max - min was taken over the percentiles (dim=1), not over time (dim=0)")): h64.max(axis=1) - h64.min(axis=1),
        recognised("cs-drift-wrong-dim", _("max - min was taken over the units (dim=2), not over time (dim=0)")): h64.max(axis=2) - h64.min(axis=2),
    }
    assert_close(actual, expected, what=what, rtol=rtol, atol=atol, mistakes=mistakes)
