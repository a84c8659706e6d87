"""Checks for chapter 5, weight decay (exercise ``05_weight_decay``).

The learner writes, in NumPy:

- ``l2_penalty(params, weight_decay)``: ``weight_decay / 2`` times the sum of the
  squared entries of every array in the list ``params``; compared with the same
  sum computed by PyTorch in float64;
- ``sgd_step(param, grad, state, lr, momentum=0.0, weight_decay=0.0)``,
  ``adam_step(param, grad, state, lr, betas, eps, weight_decay)`` and
  ``adamw_step(param, grad, state, lr, betas, eps, weight_decay)``: one update of
  one parameter array, returning the new parameter and keeping whatever the
  optimizer needs between calls in the dict ``state`` (empty before the first
  call). They are compared with ``torch.optim.SGD``, ``torch.optim.Adam`` and
  ``torch.optim.AdamW`` in float64 after every one of many steps.

The reference calls PyTorch's functional optimizer API (``torch.optim.sgd.sgd``,
``torch.optim.adam.adam``, ``torch.optim.adamw.adamw``), the very functions that
the optimizer classes' ``step()`` runs; constructing an optimizer object would
import ``torch._dynamo``, which costs seconds per graded notebook. The course's
tests check that this reference equals the classes step for step.

The optimizer checks run ``steps`` updates on a noisy quadratic: at each step the
gradient is ``scale * (param - target + noise / 2)``, evaluated at the parameter
the learner's function returned at the previous step (NumPy, in the probe), so
it depends on the parameter as a real loss's gradient does. Per-entry scales
spread over several orders of magnitude (for Adam down to 1e-5, where ``eps``
matters). The verdict replays the torch optimizer on exactly the gradients the
learner's function received; the first step at which the parameters differ is
reported, and the learner's parameter at that step is compared with what each
known mistake would have produced from the same gradients.

Every check builds its own inputs from ``seed``, ``shape``, ``dtype`` and the
hyperparameters, so hidden tests vary the inputs, not the logic. Each is a probe
(runs the learner's function, records what it returned after every step) and a
verdict (the torch reference, compared); see ``autograder/probe.py``. This
chapter's sandbox holds NumPy only: torch is imported by the verdicts alone.
"""
from __future__ import annotations

from autograder.i18n import _

from typing import Callable

import numpy as np

from autograder.forbidden import verdict_only
from autograder.compare import CheckFailed, assert_close, assert_unchanged, call_learner, to_array
from autograder.probe import check
from autograder.mistakes import recognised

TOLERANCE = {  # (rtol, atol) of the parameter after each step, by the dtype the learner is given
    np.dtype(np.float64): (1e-9, 1e-12),
    np.dtype(np.float32): (1e-4, 1e-5),
}


def _tolerance(dtype) -> tuple[float, float]:
    return TOLERANCE.get(np.dtype(dtype), (1e-9, 1e-12))


# ---------------------------------------------------------------- the L2 penalty

def make_params(seed: int, shapes, dtype=np.float64) -> list[np.ndarray]:
    """A list of arrays of the given shapes, entries of different sizes (as a network's weights and biases)."""
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal(shape) * 10.0 ** rng.uniform(-1, 0.5)).astype(dtype) for shape in shapes]


def _l2_mistakes(params: list[np.ndarray], weight_decay: float) -> dict[str, object]:
    squares = [float(np.sum(p.astype(np.float64) ** 2)) for p in params]
    total = sum(squares)
    return {
        recognised("wd-l2-no-half", _('the 1/2 is missing: the penalty is (weight_decay / 2) * sum of squares, whose gradient is weight_decay * w (without the 1/2 the gradient would be 2 * weight_decay * w)')): weight_decay * total,
        recognised("wd-l2-norm-not-squared", _('this is the L2 norm, not its square: the penalty uses the squared norm ||w||^2 = sum of squares, without a square root')): weight_decay / 2 * np.sqrt(total),
        recognised("wd-l2-norm-not-squared", _('this is a sum of L2 norms (one square root per array), not the squared norm: the penalty uses ||w||^2 = sum of squares, without a square root')): weight_decay / 2 * sum(np.sqrt(s) for s in squares),
        recognised("wd-l2-norm-not-squared", _("this is the L2 norm without the 1/2: the penalty is (weight_decay / 2) * ||w||^2, the squared norm")): weight_decay * np.sqrt(total),
        recognised("wd-l2-mean", _("the squares were averaged (mean) instead of summed")): weight_decay / 2 * sum(float(np.mean(p.astype(np.float64) ** 2)) for p in params),
        recognised("wd-l2-first-array-only", _("only the first array of `params` was used: sum over every array in the list")): weight_decay / 2 * squares[0],
        recognised("wd-decay-ignored", _("weight_decay was ignored (the result is 1/2 * sum of squares)")): 0.5 * total,
        recognised("wd-l2-sum-then-square", _("the entries were summed before squaring (sum(w)**2): square every entry, then sum")): weight_decay / 2 * sum(
            float(np.sum(p.astype(np.float64))) ** 2 for p in params),
    }


def _l2_inputs(*, seed: int = 0, shapes=((5, 3), (5,)), weight_decay: float = 0.1, dtype=np.float64) -> dict:
    return {"params": make_params(seed, shapes, dtype), "shapes": [tuple(s) for s in shapes],
            "weight_decay": weight_decay, "dtype": np.dtype(dtype)}


def _l2_probe(record, l2_penalty, inputs) -> None:
    given = [p.copy() for p in inputs["params"]]
    record["out"] = call_learner(l2_penalty, given, inputs["weight_decay"])
    record["params_after"] = given


@check(inputs=_l2_inputs, probe=_l2_probe)
def check_l2_penalty(record, inputs) -> None:
    """``l2_penalty(params, weight_decay)`` equals ``weight_decay / 2 * sum(p.pow(2).sum() for p in params)``.

    ``params`` is a list of arrays of ``shapes`` built from ``seed``; the
    reference is computed by PyTorch in float64; tolerance rtol=1e-9 (float64)
    or 1e-5 (float32), atol=1e-12.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    import torch

    params, shapes, weight_decay, dtype = inputs["params"], inputs["shapes"], inputs["weight_decay"], inputs["dtype"]
    expected = weight_decay / 2 * sum(torch.as_tensor(p, dtype=torch.float64).pow(2).sum() for p in params)
    actual = record["out"]
    after = record["params_after"]
    for before, changed in zip(params, after if type(after) is list else []):
        assert_unchanged(before, changed if isinstance(changed, np.ndarray) else np.array([]), "l2_penalty")
    rtol = 1e-9 if dtype == np.float64 else 1e-5
    shown = ", ".join(str(tuple(s)) for s in shapes)
    assert_close(actual, float(expected),
                 what=_('l2_penalty(params, weight_decay={weight_decay:g}) for arrays of shapes [{shown}], dtype {dtype_name}').format(weight_decay=weight_decay, shown=shown, dtype_name=dtype.name),
                 rtol=rtol, atol=1e-12, mistakes=_l2_mistakes(params, weight_decay))


# ---------------------------------------------------------------- optimizer steps: the reference

class TorchReference:
    """One float64 parameter updated by torch.optim's functional SGD / Adam / AdamW.

    ``kind`` is ``"sgd"``, ``"adam"`` or ``"adamw"``; ``hyperparameters`` are the
    optimizer's (lr, momentum, weight_decay or lr, betas, eps, weight_decay), with
    the classes' defaults for those left out.
    ``step(grad)`` applies one update and returns the new parameter as a NumPy array.
    """

    def __init__(self, kind: str, start: np.ndarray, **hyperparameters):
        import torch
        from torch.optim.adam import adam
        from torch.optim.adamw import adamw
        from torch.optim.sgd import sgd

        self.kind, self.hyperparameters, self._torch = kind, hyperparameters, torch
        self.param = torch.tensor(np.asarray(start, dtype=np.float64), dtype=torch.float64)
        self._functions = {"sgd": sgd, "adam": adam, "adamw": adamw}
        self._buffer = [None]  # SGD's momentum buffer, created by torch on the first step
        self._exp_avg = torch.zeros_like(self.param)
        self._exp_avg_sq = torch.zeros_like(self.param)
        self._step = torch.tensor(0.0, dtype=torch.float32)  # as torch.optim.Adam stores it; adam() adds 1 per step

    def step(self, grad: np.ndarray) -> np.ndarray:
        torch = self._torch
        grad = torch.tensor(np.asarray(grad, dtype=np.float64), dtype=torch.float64)
        h = self.hyperparameters
        if self.kind == "sgd":
            self._functions["sgd"]([self.param], [grad], self._buffer, foreach=False, weight_decay=h.get("weight_decay", 0.0),
                                   momentum=h.get("momentum", 0.0), lr=h["lr"], dampening=0.0, nesterov=False,
                                   maximize=False)
        else:
            beta1, beta2 = h.get("betas", (0.9, 0.999))
            self._functions[self.kind]([self.param], [grad], [self._exp_avg], [self._exp_avg_sq], [], [self._step],
                                       foreach=False, amsgrad=False, beta1=beta1, beta2=beta2, lr=h["lr"],
                                       weight_decay=h.get("weight_decay", 1e-2 if self.kind == "adamw" else 0.0),
                                       eps=h.get("eps", 1e-8), maximize=False)
        return self.param.numpy().copy()


# ---------------------------------------------------------------- optimizer steps: the shared probe and verdict

def make_problem(seed: int, shape, steps: int, scale_exponents=(-2.0, 0.0)):
    """Start, target, per-entry gradient scales and noise of a noisy quadratic, all float64."""
    rng = np.random.default_rng(seed)
    start = rng.standard_normal(shape)
    target = rng.standard_normal(shape)
    scales = 10.0 ** rng.uniform(*scale_exponents, size=shape)
    noise = rng.standard_normal((steps, *shape))
    return start, target, scales, noise


def _describe(hyperparameters: dict) -> str:
    def one(value):
        return f"({', '.join(f'{v:g}' for v in value)})" if isinstance(value, tuple) else f"{value:g}"

    return ", ".join(f"{k}={one(v)}" for k, v in hyperparameters.items())


def _problem_inputs(name: str, *, seed: int, shape, steps: int, dtype, hyperparameters: dict, scale_exponents) -> dict:
    """The inputs of an optimizer check: the quadratic, and the keyword arguments the learner's function gets."""
    shape = tuple(shape)
    dtype = np.dtype(dtype)
    start, target, scales, noise = make_problem(seed, shape, steps, scale_exponents)
    start = start.astype(dtype).astype(np.float64)  # the learner and the reference start from the same values
    return {"name": name, "shape": shape, "steps": steps, "dtype": dtype, "start": start, "target": target,
            "scales": scales, "noise": noise, "hyperparameters": hyperparameters}


def _gradient(inputs: dict, param: np.ndarray, step: int) -> np.ndarray:
    """The gradient given at ``step`` (1-based): the quadratic's, at ``param`` (float64), in the learner's dtype."""
    return (inputs["scales"] * (param - inputs["target"] + 0.5 * inputs["noise"][step - 1])).astype(inputs["dtype"])


def _parameter(value, inputs: dict) -> np.ndarray | None:
    """The parameter the learner returned (as recorded) in its dtype, as it is passed back next step; None if unusable."""
    try:
        array = to_array(value, _("the parameter"))
    except CheckFailed:
        return None
    if array.shape != inputs["shape"]:
        return None
    return array.astype(inputs["dtype"])


def _steps_probe(record, learner_step, inputs) -> None:
    """Call the learner's step function ``steps`` times; record the parameter it returns and the state's size after each.

    The gradient of each step is computed (NumPy) at the parameter the function
    returned at the previous step; the verdict computes the same gradients from
    the record and replays torch.optim on them. Stops early at a result that
    cannot be the next parameter (the verdict says what is wrong with it).
    """
    name, dtype = inputs["name"], inputs["dtype"]
    param = inputs["start"].astype(dtype)
    state: dict = {}
    for step in range(1, inputs["steps"] + 1):
        grad = _gradient(inputs, param.astype(np.float64), step)
        given = param.copy()
        result = call_learner(learner_step, given, grad, state, name=name, **inputs["hyperparameters"])
        record[f"param_{step}"] = result
        # the spec asks for a new array: the caller's parameter must be as it was (param -= ... changes it)
        record[f"param_changed_{step}"] = not np.array_equal(given, param, equal_nan=True)
        record[f"state_size_{step}"] = dict.__len__(state)
        param = _parameter(dict.__getitem__(record, f"param_{step}"), inputs)
        if param is None:
            return


def _steps_verdict(record, inputs, make_optimizer: Callable, reference_name: str, mistakes: dict[str, Callable], *,
                   state_hint: str, needs_state: bool) -> None:
    """Replay the torch optimizer on the gradients the learner's function got; fail at the first step that differs."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    name, shape, steps, dtype = inputs["name"], inputs["shape"], inputs["steps"], inputs["dtype"]
    hyperparameters = inputs["hyperparameters"]
    start = inputs["start"]
    reference = make_optimizer(start)
    given = start.astype(dtype)  # the parameter the learner's function was given at this step
    wrong_paths = {description: (start.copy(), {}) for description in mistakes}
    rtol, atol = _tolerance(dtype)
    where = _('{name}(param, grad, state, {hyperparameters}) on a parameter of shape {shape}, dtype {dtype_name}').format(name=name, hyperparameters=_describe(hyperparameters), shape=shape, dtype_name=dtype.name)

    for step in range(1, steps + 1):
        grad64 = _gradient(inputs, given.astype(np.float64), step).astype(np.float64)
        expected = reference.step(grad64)

        for description, (param, mistake_state) in wrong_paths.items():
            with np.errstate(all="ignore"):
                wrong_paths[description] = (mistakes[description](param, grad64.copy(), mistake_state, **hyperparameters),
                                            mistake_state)

        result = record[f"param_{step}"]
        actual = to_array(result, _('the value returned by {name} at step {step}').format(name=name, step=step))
        if actual.shape != shape:
            raise CheckFailed(_('{name} returned an array of shape {actual_shape} at step {step}; expected the new parameter, shape {shape}').format(name=name, actual_shape=actual.shape, step=step, shape=shape))
        try:
            assert_close(
                actual, expected,
                what=(_('{where}, run side by side with {reference_name}: ').format(where=where, reference_name=reference_name)
                      + ("" if step == 1 else _("step 1 matched; ") if step == 2 else _('steps 1 to {step_1} matched; ').format(step_1=step - 1))
                      + _('the parameter after step {step} of {steps}').format(step=step, steps=steps)),
                rtol=rtol, atol=atol,
                mistakes={description: path for description, (path, _unused) in wrong_paths.items()},
            )
        except CheckFailed as failure:
            message = str(failure)
            if needs_state and record[f"state_size_{step}"] == 0 and "not kept between calls" not in message:
                message += _('\n  `state` is still empty after {step} call(s): {state_hint}').format(step=step, state_hint=state_hint)
            if isinstance(result, np.ndarray) and result.dtype == np.float32 and dtype == np.float64:
                message += (_("\n  Your function returned float32 for a float64 parameter: rounding to float32 loses the precision the comparison needs; keep the parameter's dtype"))
            raise CheckFailed(message) from None
        if dict.get(record, f"param_changed_{step}") is True:
            raise CheckFailed(recognised("changed-input-in-place", _(
                "{name} changed the `param` array it was given, in place (param -= ... or param *= ...), at step "
                "{step}: return the new parameter as a new array (param - lr * g) and leave the caller's array as it "
                "is").format(name=name, step=step)))
        given = _parameter(result, inputs)


# ---------------------------------------------------------------- SGD

@verdict_only
def _sgd_like(*, l2_sign=1.0, decay_after_buffer=False, ema_from_zeros=False,
              dampened=False, forget_state=False, ignore_decay=False):
    """A NumPy SGD step with one mistake switched on (all off: PyTorch's SGD)."""

    def step(param, grad, state, lr, momentum=0.0, weight_decay=0.0):
        wd = 0.0 if ignore_decay else weight_decay
        if forget_state:
            state.clear()
        g = grad if decay_after_buffer else grad + l2_sign * wd * param
        if momentum:
            if ema_from_zeros:
                buf = momentum * state.get("buf", np.zeros_like(param)) + (1 - momentum) * g
            elif "buf" not in state:
                buf = g.copy()
            elif dampened:
                buf = momentum * state["buf"] + (1 - momentum) * g
            else:
                buf = momentum * state["buf"] + g
            state["buf"] = buf
            g = buf
        if decay_after_buffer:
            g = g + wd * param
        return param - lr * g

    return step


def _sgd_mistakes(momentum: float, weight_decay: float) -> dict[str, Callable]:
    mistakes = {}
    if weight_decay:
        after = (_('weight decay was applied after the momentum buffer ({detail}): PyTorch adds weight_decay * param to the gradient first, g = grad + weight_decay * param, and feeds g into the buffer'))
        if momentum:
            mistakes[recognised("wd-sgd-decay-after-buffer", after.format(detail=_("the buffer holds only grad and weight_decay * param is added to the step")))] = \
                _sgd_like(decay_after_buffer=True)
        mistakes[recognised("wd-decay-wrong-sign", _("weight decay has the wrong sign (grad - weight_decay * param): the penalty's gradient +weight_decay * param is added, so that the step shrinks the weights"))] = _sgd_like(l2_sign=-1.0)
        mistakes[recognised("wd-decay-ignored", _("weight_decay was ignored: add weight_decay * param to the gradient"))] = _sgd_like(ignore_decay=True)
    if momentum:
        mistakes[recognised("wd-sgd-dampened-buffer", _('the momentum buffer started from zeros and was updated as momentum * buf + (1 - momentum) * g (dampening, an exponential average): PyTorch sets buf = g on the first step and then buf = momentum * buf + g, without the factor (1 - momentum)'))] = _sgd_like(ema_from_zeros=True)
        mistakes[recognised("wd-sgd-dampened-buffer", _('the momentum buffer was dampened, buf = momentum * buf + (1 - momentum) * g: PyTorch (dampening=0) uses buf = momentum * buf + g'))] = _sgd_like(dampened=True)
        mistakes[recognised("wd-state-not-kept", _("the state was not kept between calls: the momentum buffer starts afresh at every call, so the result equals SGD without momentum. Store the buffer in the `state` dict you are given (state['momentum_buffer'] = buf) and read it back on the next call"))] = _sgd_like(forget_state=True)
    return mistakes


def _sgd_inputs(*, seed: int = 0, shape=(4, 3), steps: int = 50, lr: float = 0.1, momentum: float | None = None,
                weight_decay: float | None = None, dtype=np.float64) -> dict:
    hyperparameters = {"lr": lr}
    if momentum is not None:
        hyperparameters["momentum"] = momentum
    if weight_decay is not None:
        hyperparameters["weight_decay"] = weight_decay
    inputs = _problem_inputs("sgd_step", seed=seed, shape=shape, steps=steps, dtype=dtype,
                             hyperparameters=hyperparameters, scale_exponents=(-2.0, 0.0))
    inputs.update(lr=lr, momentum=momentum or 0.0, weight_decay=weight_decay or 0.0)
    return inputs


@check(inputs=_sgd_inputs, probe=_steps_probe)
def check_sgd_step(record, inputs) -> None:
    """``steps`` calls of ``sgd_step`` follow ``torch.optim.SGD(lr, momentum, weight_decay)`` in float64.

    ``momentum=None`` / ``weight_decay=None`` leave the argument out of the call,
    checking the learner's defaults (0.0). Tolerance after every step:
    rtol=1e-9, atol=1e-12 for float64 (1e-4, 1e-5 for float32).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    lr, m, wd = inputs["lr"], inputs["momentum"], inputs["weight_decay"]
    _steps_verdict(
        record, inputs, lambda start: TorchReference("sgd", start, lr=lr, momentum=m, weight_decay=wd),
        _('torch.optim.SGD(lr={lr:g}, momentum={m:g}, weight_decay={wd:g})').format(lr=lr, m=m, wd=wd), _sgd_mistakes(m, wd),
        needs_state=bool(m),
        state_hint=_("with momentum the buffer must be stored in the dict `state` (e.g. state['momentum_buffer'] = buf); assigning `state = {{...}}` inside the function makes a new dict the caller never sees").format(),
    )


# ---------------------------------------------------------------- Adam and AdamW

@verdict_only
def _adam_like(*, decoupled=False, l2=True, decay_unscaled=False, decay_after_update=False, bias_correction=True,
               eps_inside_sqrt=False, reset_step=False, forget_state=False, swap_betas=False, ignore_decay=False):
    """A NumPy Adam step with the given weight decay and one mistake switched on."""

    def step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        beta1, beta2 = (betas[1], betas[0]) if swap_betas else betas
        wd = 0.0 if ignore_decay else weight_decay
        if forget_state:
            state.clear()
        if decoupled and not decay_after_update:
            param = param * (1 - (wd if decay_unscaled else lr * wd))
        g = grad + wd * param if (l2 and not decoupled) else grad
        t = 1 if reset_step else state.get("step", 0) + 1
        m = beta1 * state.get("m", np.zeros_like(param)) + (1 - beta1) * g
        v = beta2 * state.get("v", np.zeros_like(param)) + (1 - beta2) * g * g
        state.update(step=t, m=m, v=v)
        m_hat, v_hat = (m / (1 - beta1**t), v / (1 - beta2**t)) if bias_correction else (m, v)
        denom = np.sqrt(v_hat + eps) if eps_inside_sqrt else np.sqrt(v_hat) + eps
        new = param - lr * m_hat / denom
        if decoupled and decay_after_update:
            new = new * (1 - lr * wd)
        return new

    return step


def _adam_mistakes(decoupled: bool, weight_decay: float, eps: float) -> dict[str, Callable]:
    kind = {"decoupled": decoupled}
    mistakes = {
        recognised("wd-adam-no-bias-correction", _('the bias correction is missing: divide m by (1 - beta1**t) and v by (1 - beta2**t), where t counts the calls so far (1 at the first)')): _adam_like(bias_correction=False, **kind),
        recognised("wd-adam-eps-inside-sqrt", _('eps is inside the square root, sqrt(v_hat + eps): torch.optim.Adam divides by sqrt(v_hat) + eps, with eps added after the root')): _adam_like(eps_inside_sqrt=True, **kind),
        recognised("wd-state-not-kept", _('the state was not kept between calls: the step counter restarts at 1 every call, so the bias correction is always that of step 1. Keep the step count (and m, v) in the `state` dict and increase it by 1 per call')): _adam_like(reset_step=True, **kind),
        recognised("wd-state-not-kept", _('the state was not kept between calls: m, v and the step counter start afresh at every call. Store them in the `state` dict you are given and read them back on the next call')): _adam_like(forget_state=True, **kind),
        recognised("wd-adam-betas-swapped", _('betas[0] and betas[1] are swapped: beta1 (0.9 by default) averages the gradient, beta2 (0.999) its square')): _adam_like(swap_betas=True, **kind),
    }
    if eps != 1e-8:
        mistakes[recognised("wd-adam-eps-ignored", _('the eps argument was ignored (1e-8 was used instead of eps={eps:g})').format(eps=eps))] = \
            lambda param, grad, state, **kw: _adam_like(**kind)(param, grad, state, **{**kw, "eps": 1e-8})
    if weight_decay:
        if decoupled:
            mistakes.update({
                recognised("wd-adamw-coupled-decay", _("AdamW decayed through the gradient (grad + weight_decay * param, which is Adam's L2 penalty): decoupled weight decay multiplies the parameter by (1 - lr * weight_decay) before the Adam update and leaves the gradient alone")): _adam_like(decoupled=False),
                recognised("wd-adamw-decay-not-scaled-by-lr", _("the decoupled decay was not scaled by lr: PyTorch's AdamW multiplies the parameter by (1 - lr * weight_decay), not (1 - weight_decay)")): _adam_like(decoupled=True, decay_unscaled=True),
                recognised("wd-adamw-decay-after-update", _("the decay was applied after the Adam update: PyTorch's AdamW multiplies the parameter by (1 - lr * weight_decay) first, then takes the Adam step")): _adam_like(decoupled=True, decay_after_update=True),
                recognised("wd-decay-ignored", _('weight_decay was ignored: AdamW multiplies the parameter by (1 - lr * weight_decay) before the Adam update')): _adam_like(decoupled=True, ignore_decay=True),
            })
        else:
            mistakes.update({
                recognised("wd-adam-decoupled-decay", _("adam_step applied decoupled weight decay (AdamW's param *= 1 - lr * weight_decay): torch.optim.Adam adds weight_decay * param to the gradient (the L2 penalty) before the moments")):
                    _adam_like(decoupled=True),
                recognised("wd-decay-wrong-sign", _("weight decay has the wrong sign (grad - weight_decay * param): the penalty's gradient is +weight_decay * param")): lambda param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0:
                    _adam_like()(param, grad - 2 * weight_decay * param, state, lr, betas, eps, weight_decay),
                recognised("wd-decay-ignored", _("weight_decay was ignored: torch.optim.Adam adds weight_decay * param to the gradient")):
                    _adam_like(ignore_decay=True),
            })
    return mistakes


def _adam_inputs(name: str, default_weight_decay: float, *, seed, shape, steps, lr, betas, eps, weight_decay,
                 dtype) -> dict:
    hyperparameters = {"lr": lr}
    if betas is not None:
        hyperparameters["betas"] = tuple(betas)
    if eps is not None:
        hyperparameters["eps"] = eps
    if weight_decay is not None:
        hyperparameters["weight_decay"] = weight_decay
    inputs = _problem_inputs(name, seed=seed, shape=shape, steps=steps, dtype=dtype,
                             hyperparameters=hyperparameters, scale_exponents=(-5.0, 0.0))
    inputs.update(lr=lr, betas=tuple(betas) if betas is not None else (0.9, 0.999), eps=1e-8 if eps is None else eps,
                  weight_decay=default_weight_decay if weight_decay is None else weight_decay)
    return inputs


def _adam_family_verdict(record, inputs, kind: str, decoupled: bool) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    lr, b, e, wd = inputs["lr"], inputs["betas"], inputs["eps"], inputs["weight_decay"]
    reference_name = _('torch.optim.{detail}(lr={lr:g}, betas=({b_0:g}, {b_1:g}), eps={e:g}, weight_decay={wd:g})').format(detail='AdamW' if decoupled else 'Adam', lr=lr, b_0=b[0], b_1=b[1], e=e, wd=wd)
    mistakes = _adam_mistakes(decoupled, wd, e)
    # The mistakes are written with every argument explicit; the learner's call may rely on its defaults.
    explicit = {description: (lambda f: lambda param, grad, state, **kw: f(param, grad, state, **{
        "betas": b, "eps": e, "weight_decay": wd, **kw}))(f) for description, f in mistakes.items()}
    _steps_verdict(
        record, inputs, lambda start: TorchReference(kind, start, lr=lr, betas=b, eps=e, weight_decay=wd),
        reference_name, explicit, needs_state=True,
        state_hint=_("store the step count and both moving averages in the dict `state` (state['step'], state['exp_avg'], state['exp_avg_sq']); assigning `state = {{...}}` inside the function makes a new dict the caller never sees").format(),
    )


def _adam_step_inputs(*, seed: int = 0, shape=(3, 5), steps: int = 50, lr: float = 0.01, betas=None, eps=None,
                      weight_decay=None, dtype=np.float64) -> dict:
    return _adam_inputs("adam_step", 0.0, seed=seed, shape=shape, steps=steps, lr=lr, betas=betas, eps=eps,
                        weight_decay=weight_decay, dtype=dtype)


@check(inputs=_adam_step_inputs, probe=_steps_probe)
def check_adam_step(record, inputs) -> None:
    """``steps`` calls of ``adam_step`` follow ``torch.optim.Adam(lr, betas, eps, weight_decay)`` in float64.

    Arguments left at None are left out of the call, checking the learner's
    defaults (betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0). Gradient scales
    go down to 1e-5, where ``eps`` is not negligible. Tolerance after every step:
    rtol=1e-9, atol=1e-12 for float64 (1e-4, 1e-5 for float32).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _adam_family_verdict(record, inputs, "adam", False)


def _adamw_step_inputs(*, seed: int = 0, shape=(3, 5), steps: int = 50, lr: float = 0.01, betas=None, eps=None,
                       weight_decay=None, dtype=np.float64) -> dict:
    return _adam_inputs("adamw_step", 1e-2, seed=seed, shape=shape, steps=steps, lr=lr, betas=betas, eps=eps,
                        weight_decay=weight_decay, dtype=dtype)


@check(inputs=_adamw_step_inputs, probe=_steps_probe)
def check_adamw_step(record, inputs) -> None:
    """``steps`` calls of ``adamw_step`` follow ``torch.optim.AdamW(lr, betas, eps, weight_decay)`` in float64.

    Arguments left at None are left out of the call, checking the learner's
    defaults (betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, PyTorch's AdamW
    default). Tolerance after every step: rtol=1e-9, atol=1e-12 for float64
    (1e-4, 1e-5 for float32).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _adam_family_verdict(record, inputs, "adamw", True)
