"""Checks for chapter 6, dropout (exercise ``06_dropout``).

The learner writes

- ``dropout_forward(x, p, train=True, rng=None) -> (out, mask)``: inverted dropout,
  as ``torch.nn.functional.dropout`` computes it;
- ``dropout_backward(dout, mask, p) -> dx``;
- ``vanilla_dropout_forward(x, p, train=True, rng=None) -> (out, mask)``: no scaling
  in training, multiplied by the keep probability ``1 - p`` at test time;
- ``class Dropout(torch.nn.Module)``, which must behave like ``torch.nn.Dropout``.

Dropout is random, so the forward checks cannot compare with PyTorch's random
numbers. They compare with PyTorch by what must hold for every mask:

- the number of dropped units is Binomial(n, p): it must lie in the two-sided
  interval that holds with probability ``1 - ALPHA`` (``ALPHA = 1e-6``, from
  ``scipy.stats.binom.interval``), so a correct answer fails with probability
  below one in a million per check;
- every kept unit is multiplied by exactly the factor PyTorch uses (measured on
  ``torch.nn.functional.dropout`` itself), every dropped unit is 0;
- outputs averaged over many calls converge to the input (expectation preserved);
- every call draws a new mask; eval mode / ``train=False`` is the identity;
  ``p = 0`` is the identity and ``p = 1`` gives zeros (not NaN);
- gradients equal ``mask * scale * dout``, as autograd computes through PyTorch's dropout.

Each check builds its own inputs from ``seed``, ``shape``, ``p`` and ``dtype``;
input values are bounded away from 0, so a zero in the output means a dropped unit.

Each check is a probe and a verdict (see ``autograder/probe.py``): the probe calls
the learner's functions with NumPy generators it makes from the inputs' seed, or
builds and drives the learner's module (train/eval, forward, backward), and
records every output, mask and gradient; the verdict computes the statistics,
PyTorch's reference and the comparison. SciPy is imported by the verdicts only.
PyTorch's own dropout, whatever name the learner's code reaches it by, is refused
by ``forbidden.py`` (the probe records the operators the learner's code ran).
"""
from __future__ import annotations

from autograder.i18n import _

import contextlib
import functools

import numpy as np
import torch

from autograder.compare import CheckFailed, assert_close, assert_unchanged, call_learner, to_array
from autograder.probe import ObjectData, TensorData, capture, check, learner_code, type_name
from autograder.mistakes import recognised

ALPHA = 1e-6  # probability that a statistical check fails a correct answer

TOLERANCE = {  # (rtol, atol) by the dtype the learner is given; kept values are "exactly" scaled up to round-off
    np.dtype(np.float64): (1e-7, 1e-9),
    np.dtype(np.float32): (1e-5, 1e-6),
}

def NAN_AT_P1() -> str:
    return (recognised("do-nan-at-p1", _('with p = 1 the keep probability 1 - p = 0, and dividing by it gives NaN (0 / 0) or inf; when p == 1 every unit is dropped: return zeros, as torch.nn.functional.dropout does')))
def SAME_MASK() -> str:
    return (recognised("do-same-mask", _('two calls returned the same mask: dropout must draw a new random mask on every call (do not create a generator with a fixed seed, reseed, or cache a mask between calls)')))
def UNITS_DEPENDENT() -> str:
    return (recognised("do-units-dependent", _('the units were not dropped independently of each other (a fixed number of units kept, or a block of neighbouring units): draw one independent keep decision per unit, rng.random(x.shape) >= p')))
def KEEP_WITH_P() -> str:
    return (recognised("do-keep-with-p", _('units were KEPT with probability p, but p is the probability of DROPPING (zeroing) a unit, as in torch: keep a unit where rng.random(x.shape) >= p')))


def make_input(seed: int, shape, dtype=np.float64) -> np.ndarray:
    """Values of ``shape`` with random signs and magnitudes in [0.5, 2]: never 0, so zeros in the output are drops."""
    rng = np.random.default_rng(seed)
    shape = tuple(shape)
    return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)).astype(dtype)


def _tolerance(dtype) -> tuple[float, float]:
    return TOLERANCE.get(np.dtype(dtype), (1e-7, 1e-9))


def _seed_torch(seed: int) -> None:
    """Seed torch's global CPU generator, as ``torch.manual_seed`` does for the CPU (all the course uses).

    ``torch.manual_seed`` also queues the seed for CUDA, XPU and MTIA, formatting a stack trace for
    each (about 2.5 ms a call): the checks seed dozens of times per notebook.
    """
    torch.default_generator.manual_seed(int(seed))


@contextlib.contextmanager
def _torch_seeded(seed: int):
    """Inside: torch's global CPU generator seeded with ``seed``; after: as it was (``torch.random.fork_rng``)."""
    with torch.random.fork_rng(devices=[]):
        _seed_torch(seed)
        yield


@functools.lru_cache(maxsize=64)
def torch_keep_scale(p: float) -> float:
    """The factor ``torch.nn.functional.dropout`` multiplies kept units by in training (measured, not assumed)."""
    import torch.nn.functional as F

    if p >= 1:
        return 0.0
    with _torch_seeded(0):
        out = F.dropout(torch.ones(4096, dtype=torch.float64), p, training=True)
    kept = out[out != 0]
    return float(kept[0]) if len(kept) else 1.0 / (1.0 - p)


def torch_dropped_count(shape, p: float, seed: int) -> int:
    """How many of ``prod(shape)`` units ``torch.nn.functional.dropout`` drops with this seed (for messages)."""
    import torch.nn.functional as F

    with _torch_seeded(seed):
        out = F.dropout(torch.ones(tuple(shape), dtype=torch.float64), p, training=True)
    return int((out == 0).sum())


def dropped_interval(n: int, p: float, alpha: float = ALPHA) -> tuple[int, int]:
    """Two-sided interval for the number of dropped units among ``n``: Binomial(n, p) lies in it w.p. >= 1 - alpha."""
    if p <= 0:
        return 0, 0
    if p >= 1:
        return n, n
    from scipy.stats import binom

    lo, hi = binom.interval(1 - alpha, n, p)
    return int(lo), int(hi)


def check_drop_count(kept: np.ndarray, p: float, *, what: str, seed: int = 0, alpha: float = ALPHA) -> None:
    """The number of zeros in ``kept`` (a boolean array) must be a plausible draw of Binomial(n, p).

    Fails a correct answer with probability below ``alpha`` (two-sided binomial interval).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    n = kept.size
    dropped = int(n - kept.sum())
    lo, hi = dropped_interval(n, p, alpha)
    if lo <= dropped <= hi:
        return
    message = (_('{what} dropped {dropped} of {n} units ({dropped_n:.3f}); with p = {p:g} the number of dropped units is Binomial({n}, {p:g}), which lies in [{lo}, {hi}] with probability 1 - {alpha:g}. (torch.nn.functional.dropout dropped {torch_dropped} of the same number.)').format(what=what, dropped=dropped, n=n, dropped_n=dropped / n, p=p, lo=lo, hi=hi, alpha=alpha, torch_dropped=torch_dropped_count(kept.shape, p, seed)))
    flipped_lo, flipped_hi = dropped_interval(n, 1 - p)
    if flipped_lo <= dropped <= flipped_hi:
        message += _('\n  Likely mistake: {keep_with_p}').format(keep_with_p=KEEP_WITH_P())
    elif dropped == 0:
        message += recognised("do-nothing-dropped", _("\n  Likely mistake: nothing was dropped: in training, zero each unit with probability p"))
    raise CheckFailed(message)


def check_neighbours_independent(kept: np.ndarray, p: float, *, what: str, alpha: float = ALPHA) -> None:
    """One mask: units 0 and 1, 2 and 3, ... (in C order) differ independently, each pair with probability 2 q (1 - q).

    Disjoint pairs of independent units are independent, so the number of differing pairs is exactly
    Binomial(n // 2, 2 q (1 - q)), q = 1 - p: a block of neighbouring units kept together has almost none. Fails
    a correct answer with probability below ``alpha`` (two-sided binomial interval).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not 0 < p < 1 or kept.size < 2:
        return
    from scipy.stats import binom

    flat = np.asarray(kept, dtype=bool).reshape(-1)
    pairs = flat.size // 2
    differing = int((flat[0:2 * pairs:2] != flat[1:2 * pairs:2]).sum())
    chance = 2 * p * (1 - p)
    lo, hi = binom.interval(1 - alpha, pairs, chance)
    if not lo <= differing <= hi:
        raise CheckFailed(_('{what}: of the {pairs} pairs of neighbouring units (0 and 1, 2 and 3, ...), {differing} had one unit kept and the other dropped; units dropped independently with p = {p:g} give Binomial({pairs}, {chance:.3f}), within [{lo}, {hi}] with probability 1 - {alpha:g}\n  Likely mistake: {units_dependent}').format(
            what=what, pairs=pairs, differing=differing, p=p, chance=chance, lo=int(lo), hi=int(hi), alpha=alpha,
            units_dependent=UNITS_DEPENDENT()))


def check_units_independent(kept: np.ndarray, p: float, *, what: str, alpha: float = ALPHA) -> None:
    """Many masks of the same n units, (calls, n): each mask's count of kept units and each pair of units.

    With every unit kept independently with probability q = 1 - p, each call's count is Binomial(n, q), so the
    number of calls with count c is exactly Binomial(calls, pmf(c)) for each c; and two units i < j are kept
    together in exactly Binomial(calls, q^2) of the calls. A fixed number of kept units (a random subset of a
    fixed size, or a rounded one) fails the first; units tied to each other (a block at a random offset) the
    second. Bonferroni over all the intervals: a correct answer fails with probability below ``alpha``.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not 0 < p < 1:
        return
    from scipy.stats import binom

    kept = np.asarray(kept, dtype=bool).reshape(len(kept), -1)
    calls, n = kept.shape
    q = 1 - p
    if calls > 1 and (kept == kept[0]).all() and (p * p + q * q) ** n <= alpha:
        raise CheckFailed(_('{what}: every call kept the same units: {same_mask}').format(what=what, same_mask=SAME_MASK()))
    counts = kept.sum(axis=1)
    tests = (n + 1) + n * (n - 1) // 2
    share = alpha / tests
    per_count = np.bincount(counts, minlength=n + 1)
    los, his = binom.interval(1 - share, calls, binom.pmf(np.arange(n + 1), n, q))
    for c in range(n + 1):
        lo, hi = los[c], his[c]
        if not lo <= per_count[c] <= hi:
            common = np.bincount(counts).argmax()
            raise CheckFailed(_('{what}: {per_count_c} of {calls} calls kept exactly {c} of the {n} units (the most common count, {common}, in {per_common} calls); with each unit kept independently with probability {q:g}, the count is Binomial({n}, {q:g}), so {c} units come in Binomial({calls}, {pmf:.4f}) calls, within [{lo}, {hi}] with probability 1 - {share:.2g}\n  Likely mistake: {units_dependent}').format(
                what=what, per_count_c=int(per_count[c]), calls=calls, c=c, n=n, common=int(common),
                per_common=int(per_count[common]), q=q, pmf=binom.pmf(c, n, q), lo=int(lo), hi=int(hi), share=share,
                units_dependent=UNITS_DEPENDENT()))
    together = kept.T.astype(np.int64) @ kept.astype(np.int64)
    lo, hi = binom.interval(1 - share, calls, q * q)
    i, j = np.triu_indices(n, k=1)
    outside = (together[i, j] < lo) | (together[i, j] > hi)
    if outside.any():
        k = int(np.argmax(np.abs(together[i, j] - calls * q * q)))
        raise CheckFailed(_('{what}: units {a} and {b} were kept together in {both} of {calls} calls; units kept independently with probability {q:g} are kept together Binomial({calls}, {q2:.4f}) times, within [{lo}, {hi}] with probability 1 - {share:.2g}\n  Likely mistake: {units_dependent}').format(
            what=what, a=int(i[k]), b=int(j[k]), both=int(together[i[k], j[k]]), calls=calls, q=q, q2=q * q,
            lo=int(lo), hi=int(hi), share=share, units_dependent=UNITS_DEPENDENT()))


# ---------------------------------------------------------------- shared pieces: probe side

def _call_forward(record, key: str, fn, name: str, x: np.ndarray, p: float, train: bool, rng, *, pass_rng=True) -> None:
    """Probe: call the learner's forward function on a copy of ``x``; record its result and the copy afterwards."""
    given = x.copy()
    kwargs = {"train": train}
    if pass_rng:
        kwargs["rng"] = rng
    with np.errstate(all="ignore"):
        record[key] = call_learner(fn, given, p, name=name, **kwargs)
    record[key + "_x"] = given


# ---------------------------------------------------------------- shared pieces: verdict side

def _read(record, key: str, p: float):
    """Verdict: a recorded value; if the learner's code raised before it, that error (with the p = 1 hint)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    try:
        return record[key]
    except CheckFailed as failure:
        if p == 1 and "ZeroDivisionError" in str(failure):
            raise CheckFailed(_('{failure}\n  Likely mistake: {nan_at_p1}').format(failure=failure, nan_at_p1=NAN_AT_P1())) from None
        raise


def _forward_call(record, key: str, name: str, x: np.ndarray, p: float):
    """Verdict: the result of one recorded forward call; fails if the call changed its input."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    result = _read(record, key, p)
    after = record[key + "_x"]
    assert_unchanged(x, after if isinstance(after, np.ndarray) else np.array([]), name)
    return result


def _forward_result(result, name: str, shape) -> tuple[np.ndarray, np.ndarray | None]:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailed(_('`{name}` should return a tuple (out, mask), but it returned {type_name_result}').format(name=name, type_name_result=type_name(result))
                          + (_(' of length {len_result}').format(len_result=len(result)) if type(result) in (tuple, list) else ""))
    out = to_array(result[0], _('the output returned by {name}').format(name=name))
    if out.shape != tuple(shape):
        raise CheckFailed(_("the output returned by {name} has shape {out_shape}, expected the input's shape {shape}").format(name=name, out_shape=out.shape, shape=tuple(shape)))
    mask = None if result[1] is None else to_array(result[1], _('the mask returned by {name}').format(name=name))
    return out, mask


def _keep_mask(mask: np.ndarray | None, name: str, shape, p: float) -> np.ndarray:
    """The learner's mask as a boolean 'kept' array, or CheckFailed if it is not a 0/1 mask of the input's shape."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if mask is None:
        raise CheckFailed(_('the mask returned by {name} in training is None: return the 0/1 (or boolean) keep mask').format(name=name))
    if mask.shape != tuple(shape):
        raise CheckFailed(_("the mask returned by {name} has shape {mask_shape}, expected the input's shape {shape}").format(name=name, mask_shape=mask.shape, shape=tuple(shape)))
    values = np.unique(mask)
    if not np.isin(values, [0.0, 1.0]).all():
        scale_hint = ""
        if 0 < p < 1 and np.isin(values, [0.0, 1.0 / (1.0 - p)]).all():
            scale_hint = _(" (it holds 1/(1-p) for kept units: return the plain 0/1 mask; dropout_backward is given p)")
        raise CheckFailed(_('the mask returned by {name} should hold only 0 and 1 (or False and True), but it holds {values_5_tolist}{scale_hint}').format(name=name, values_5_tolist=values[:5].tolist(), scale_hint=scale_hint))
    return mask == 1


def check_mask_matches_output(out: np.ndarray, kept: np.ndarray, *, what: str) -> None:
    """The output is 0 exactly where the returned mask says the unit was dropped (inputs are never 0)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    zero = out == 0
    if np.array_equal(zero, ~kept):
        return
    if np.array_equal(zero, kept) and kept.size:
        raise CheckFailed(recognised("do-mask-marks-dropped", _('{what} returned a mask that is 1 exactly where the output is 0.\n  Likely mistake: the mask marks the DROPPED units: return a mask that is 1 (True) where the unit is kept').format(what=what)))
    disagree = int((zero == kept).sum())
    raise CheckFailed(_('{what} returned a mask that disagrees with the output in {disagree} of {kept_size} units: the output must be 0 where the mask is 0 and nonzero (x scaled) where it is 1; return the mask you multiplied by').format(what=what, disagree=disagree, kept_size=kept.size))


def _scaling_mistakes(x: np.ndarray, kept: np.ndarray, p: float) -> dict[str, np.ndarray]:
    x = x.astype(np.float64)
    mistakes = {
        recognised("do-not-scaled", _('kept units were not scaled: inverted dropout multiplies them by 1/(1 - p) in training (so that the expected output equals the input)')): x * kept,
        recognised("do-scale-one-over-p", _("kept units were scaled by 1/p: the keep probability is 1 - p, so scale by 1/(1 - p)")): x * kept / p if p > 0 else None,
        recognised("do-scale-by-p", _("kept units were multiplied by p: scale by 1/(1 - p)")): x * kept * p,
        recognised("do-scale-by-keep-in-training", _("kept units were multiplied by 1 - p (vanilla dropout's test-time rule): inverted dropout scales by 1/(1 - p) in training")): x * kept * (1 - p),
        recognised("do-mask-marks-dropped", _("the mask marks the DROPPED units: return a mask that is 1 (True) where the unit is kept")): x * ~kept / (1 - p) if p < 1 else None,
    }
    return {k: v for k, v in mistakes.items() if v is not None}


def mistakes_match(actual, mistakes, rtol, atol) -> bool:
    from autograder.compare import likely_mistake

    return likely_mistake(np.asarray(actual, dtype=np.float64), mistakes, rtol, atol) is not None


# ---------------------------------------------------------------- dropout_forward in training

def _forward_inputs(*, seed: int = 0, shape=(200, 50), p: float = 0.2, dtype=np.float64) -> dict:
    return {"x": make_input(seed, shape, dtype), "seed": seed, "shape": tuple(shape), "p": p, "dtype": np.dtype(dtype)}


def _forward_probe(record, dropout_forward, inputs) -> None:
    _call_forward(record, "out", dropout_forward, "dropout_forward", inputs["x"], inputs["p"], True,
                  np.random.default_rng(inputs["seed"] + 1))


@check(inputs=_forward_inputs, probe=_forward_probe)
def check_dropout_forward(record, inputs) -> None:
    """Training mode: ``dropout_forward(x, p, train=True, rng)`` drops about a fraction p and scales the rest.

    The number of zeros must lie in the two-sided Binomial(n, p) interval of
    confidence 1 - 5e-7, and neighbouring units must be dropped independently
    (``check_neighbours_independent``, 5e-7): a correct answer fails with probability
    < 1e-6; kept units must equal ``x`` times the factor torch.nn.functional.dropout
    uses (1/(1-p)), within rtol 1e-7 (float64) or 1e-5 (float32); the mask must match
    the output.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, seed, shape, p, dtype = inputs["x"], inputs["seed"], inputs["shape"], inputs["p"], inputs["dtype"]
    name = "dropout_forward"
    result = _forward_call(record, "out", name, x, p)
    out, mask = _forward_result(result, name, x.shape)
    kept = _keep_mask(mask, name, x.shape, p)
    what = _('dropout_forward(x, p={p:g}, train=True) for x of shape {shape}, dtype {dtype_name},').format(p=p, shape=shape, dtype_name=dtype.name)
    check_mask_matches_output(out, kept, what=what)
    check_drop_count(kept, p, what=what, seed=seed, alpha=ALPHA / 2)
    check_neighbours_independent(kept, p, what=what, alpha=ALPHA / 2)
    expected = x.astype(np.float64) * kept * torch_keep_scale(p)
    rtol, atol = _tolerance(dtype)
    assert_close(out, expected, what=_("{what} compared with x * mask * (torch's scale {torch_keep_scale_p:.6g}),").format(what=what, torch_keep_scale_p=torch_keep_scale(p)),
                 rtol=rtol, atol=atol, mistakes=_scaling_mistakes(x, kept, p), hint_for_nonfinite=None)


# ---------------------------------------------------------------- a new mask on every call

_FRESH_CALLS = ("same_rng_1", "same_rng_2", "no_rng_1", "no_rng_2", "seeded_1", "seeded_2")


def _fresh_inputs(*, seed: int = 0, shape=(40, 25), p: float = 0.5, name: str = "dropout_forward") -> dict:
    x = make_input(seed, shape)
    n = x.size
    if not 0 < p < 1 or (p**2 + (1 - p) ** 2) ** n > ALPHA:
        raise ValueError("use 0 < p < 1 and a shape large enough that equal masks are improbable")
    return {"x": x, "seed": seed, "p": p, "name": name}


def _fresh_probe(record, forward, inputs) -> None:
    x, seed, p, name = inputs["x"], inputs["seed"], inputs["p"], inputs["name"]
    rng = np.random.default_rng(seed + 1)
    _call_forward(record, "same_rng_1", forward, name, x, p, True, rng)
    _call_forward(record, "same_rng_2", forward, name, x, p, True, rng)
    _call_forward(record, "no_rng_1", forward, name, x, p, True, None, pass_rng=False)
    _call_forward(record, "no_rng_2", forward, name, x, p, True, None, pass_rng=False)
    _call_forward(record, "seeded_1", forward, name, x, p, True, np.random.default_rng(seed + 7))
    _call_forward(record, "seeded_2", forward, name, x, p, True, np.random.default_rng(seed + 7))


@check(inputs=_fresh_inputs, probe=_fresh_probe)
def check_dropout_fresh_mask(record, inputs) -> None:
    """Every call draws a new mask, from the ``rng`` given (or a fresh generator when ``rng`` is None).

    - two calls with the same generator must give different masks (for n units they are
      equal by chance with probability (p**2 + (1-p)**2)**n, below 1e-6 for the shapes used);
    - two calls without ``rng`` must give different masks too;
    - two generators seeded alike must give the same mask (the function uses the rng it is given).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, seed, p, name = inputs["x"], inputs["seed"], inputs["p"], inputs["name"]

    def mask(key):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        return _forward_result(_forward_call(record, key, name, x, p), name, x.shape)[1]

    first = _keep_mask(mask("same_rng_1"), name, x.shape, p)
    second = _keep_mask(mask("same_rng_2"), name, x.shape, p)
    if np.array_equal(first, second):
        raise CheckFailed(_('{name}(x, p={p:g}, train=True, rng=rng) called twice with the same generator: {same_mask}; draw it from the generator passed as `rng`').format(name=name, p=p, same_mask=SAME_MASK()))
    first = _keep_mask(mask("no_rng_1"), name, x.shape, p)
    second = _keep_mask(mask("no_rng_2"), name, x.shape, p)
    if np.array_equal(first, second):
        raise CheckFailed(_('{name}(x, p={p:g}, train=True) called twice without rng: {same_mask}; with rng=None use a fresh np.random.default_rng()').format(name=name, p=p, same_mask=SAME_MASK()))
    a, b = mask("seeded_1"), mask("seeded_2")
    if not np.array_equal(a, b):
        raise CheckFailed(recognised("do-same-mask", _('{name} called with two generators made by np.random.default_rng({seed_7}) returned different masks: draw the mask from the `rng` argument (e.g. rng.random(x.shape) >= p), not from np.random or torch, so that results can be reproduced').format(name=name, seed_7=seed + 7)))


# ---------------------------------------------------------------- the expectation over many calls

def _expectation_inputs(*, seed: int = 0, shape=(4, 5), p: float = 0.5, calls: int = 2000, vanilla: bool = False) -> dict:
    return {"x": make_input(seed, shape), "seed": seed, "shape": tuple(shape), "p": p, "calls": calls,
            "vanilla": vanilla, "name": "vanilla_dropout_forward" if vanilla else "dropout_forward"}


def _expectation_probe(record, forward, inputs) -> None:
    """Call the function ``calls`` times with one generator.

    What comes back is stacked, so that thousands of calls cross the sandbox as two arrays
    rather than thousands of small ones: ``outs`` (calls x shape, every output) and ``xs`` (the
    copy of ``x`` each call was given, as it was after the call). The first result is recorded
    whole (``first``); a result that is not an ``(out, mask)`` pair with a real-valued ``out``
    of the input's shape is recorded whole too (``bad``, with ``bad_index``) and ends the calls.
    """
    x, p, name = inputs["x"], inputs["p"], inputs["name"]
    rng = np.random.default_rng(inputs["seed"] + 1)
    outs, xs = [], []
    # One watch around all the calls rather than one per call (a third of the chapter's grading time):
    # whatever the code switches off in any call is still found when the block ends.
    with np.errstate(all="ignore"), learner_code():
        for i in range(inputs["calls"]):
            given = x.copy()
            result = call_learner(forward, given, p, name=name, train=True, rng=rng)
            if i == 0:
                record["first"] = result
            # only the output is needed: of a true pair, capture it alone (the mask costs as much again)
            pair = type(result) in (tuple, list) and len(result) == 2
            out = _real_output((capture(result[0]), None) if pair else capture(result), x.shape)
            if out is None:
                record["bad"], record["bad_x"], record["bad_index"] = result, given, i
                break
            outs.append(out)
            xs.append(given)
    record["outs"] = np.stack(outs) if outs else np.zeros((0, *x.shape))
    record["xs"] = np.stack(xs) if xs else np.zeros((0, *x.shape))


def _real_output(plain, shape) -> np.ndarray | None:
    """``out`` of a captured ``(out, mask)`` result as a real-valued array of ``shape``, or None if it is not one."""
    if type(plain) not in (tuple, list) or len(plain) != 2:
        return None
    out = plain[0]
    if type(out) in (list, tuple):  # plain numbers by now (captured): as ``to_array`` reads them
        try:
            out = np.array(out, dtype=np.float64)
        except (TypeError, ValueError):
            return None
    if not isinstance(out, np.ndarray) or out.shape != tuple(shape) or out.dtype.kind not in "biuf":
        return None
    return out


def _stacked(record, key: str, calls: int, shape) -> np.ndarray:
    """Verdict: a stacked array of the probe's as float64, (k, *shape) with k <= calls, or CheckFailed."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    value = record[key]
    if (not isinstance(value, np.ndarray) or value.ndim != len(shape) + 1 or value.shape[1:] != tuple(shape)
            or value.shape[0] > calls or value.dtype.kind not in "biuf"):
        raise CheckFailed(_('the grader could not read the outputs your code returned ({key!r} is not a stack of arrays of shape {shape})').format(key=key, shape=tuple(shape)))
    return value.astype(np.float64)


@check(inputs=_expectation_inputs, probe=_expectation_probe)
def check_dropout_expectation(record, inputs) -> None:
    """Averaged over ``calls`` training-mode calls, the output's expectation is the test-time output.

    Inverted dropout: E[out] = x (= the output with train=False). Vanilla dropout:
    E[out] = (1 - p) * x (= its output with train=False). Each unit is kept
    Binomial(calls, 1 - p) times; the count must lie in its two-sided interval of
    confidence 1 - 5e-7 / n (Bonferroni over the n units); the units must be dropped
    independently of each other (``check_units_independent``, 5e-7 in all); and the average
    output must equal x * scale * count / calls within rtol 1e-7.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from scipy.stats import binom

    x, shape, p, calls, vanilla, name = (inputs["x"], inputs["shape"], inputs["p"], inputs["calls"], inputs["vanilla"],
                                         inputs["name"])
    _forward_result(_read(record, "first", p), name, x.shape)  # a first result that is not (out, mask) says why
    outs, xs = _stacked(record, "outs", calls, x.shape), _stacked(record, "xs", calls, x.shape)
    same = (xs == x) | (np.isnan(xs) & np.isnan(x))
    changed = np.flatnonzero(~same.all(axis=tuple(range(1, xs.ndim))))
    if len(changed):
        assert_unchanged(x, xs[changed[0]], name)
    if len(outs) < calls:
        if dict.get(record, "bad_index") != len(outs):
            raise CheckFailed(_('the grader received {len_outs} of the {calls} outputs of {name} and no reason why').format(len_outs=len(outs), calls=calls, name=name))
        _forward_result(_forward_call(record, "bad", name, x, p), name, x.shape)
        out = record["bad"][0]
        raise CheckFailed(_('call {len_outs_1} of {calls} of {name}(x, p={p:g}, train=True, rng=rng) returned an output of dtype {getattr_out_dtype_type_n}: return an array of real numbers').format(len_outs_1=len(outs) + 1, calls=calls, name=name, p=p, getattr_out_dtype_type_n=getattr(out, 'dtype', type_name(out))))
    average = outs.sum(axis=0) / calls
    kept_count = (outs != 0).sum(axis=0).astype(np.float64)
    test_time = (1 - p) * x if vanilla else x
    n = x.size
    lo, hi = binom.interval(1 - ALPHA / 2 / n, calls, 1 - p)
    if ((kept_count < lo) | (kept_count > hi)).any():
        worst = np.unravel_index(int(np.argmax(np.abs(kept_count - calls * (1 - p)))), x.shape)
        same = bool(((kept_count == 0) | (kept_count == calls)).all())
        raise CheckFailed(
            _('over {calls} calls of {name}(x, p={p:g}, train=True, rng=rng) unit {worst} was kept {kept_count_worst} times; each unit should be kept Binomial({calls}, {v_1_p:g}) times, within [{lo}, {hi}] with probability 1 - {alpha_n:.2g}').format(calls=calls, name=name, p=p, worst=tuple(int(i) for i in worst), kept_count_worst=int(kept_count[worst]), v_1_p=1 - p, lo=int(lo), hi=int(hi), alpha_n=ALPHA / 2 / n)
            + (_('\n  Likely mistake: {same_mask}').format(same_mask=SAME_MASK()) if same else ""))
    check_units_independent(outs != 0, p, alpha=ALPHA / 2, what=_('over {calls} calls of {name}(x, p={p:g}, train=True, rng=rng) for x of shape {shape}').format(calls=calls, name=name, p=p, shape=shape))
    ratio = np.divide(average, test_time)
    scale = 1.0 if vanilla else torch_keep_scale(p)
    what = (_('the average of {calls} training-mode outputs of {name}(x, p={p:g}) for x of shape {shape} (expected x * {scale:g} * (times kept) / {calls}, whose expectation is the test-time output {detail}; average / test-time output ranges over {ratio_min:.3f} .. {ratio_max:.3f})').format(calls=calls, name=name, p=p, shape=shape, scale=scale, detail='(1 - p) * x' if vanilla else 'x', ratio_min=ratio.min(), ratio_max=ratio.max()))
    mistakes = {}
    if vanilla:
        mistakes[recognised("do-vanilla-is-inverted", _('kept units were scaled by 1/(1 - p): that is inverted dropout; vanilla dropout leaves them unchanged in training and multiplies by 1 - p at test time'))] = x * kept_count / calls / (1 - p)
    else:
        mistakes[recognised("do-not-scaled", _('kept units were not scaled: the expectation is (1 - p) * x instead of x; inverted dropout multiplies them by 1/(1 - p)'))] = x * kept_count / calls
    assert_close(average, x * scale * kept_count / calls, what=what, rtol=1e-7, atol=1e-9, mistakes=mistakes)


# ---------------------------------------------------------------- test time

def _eval_inputs(*, seed: int = 0, shape=(30, 8), p: float = 0.3, dtype=np.float64) -> dict:
    return {"x": make_input(seed, shape, dtype), "seed": seed, "shape": tuple(shape), "p": p, "dtype": np.dtype(dtype)}


def _eval_probe(record, dropout_forward, inputs) -> None:
    _call_forward(record, "out", dropout_forward, "dropout_forward", inputs["x"], inputs["p"], False,
                  np.random.default_rng(inputs["seed"]))


@check(inputs=_eval_inputs, probe=_eval_probe)
def check_dropout_eval(record, inputs) -> None:
    """``dropout_forward(x, p, train=False)`` is the identity, as torch.nn.functional.dropout(x, p, training=False).

    Compared within rtol 1e-7 (float64) or 1e-5 (float32).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    import torch.nn.functional as F

    x, shape, p, dtype = inputs["x"], inputs["shape"], inputs["p"], inputs["dtype"]
    name = "dropout_forward"
    out, _mask = _forward_result(_forward_call(record, "out", name, x, p), name, x.shape)
    expected = F.dropout(torch.from_numpy(x.astype(np.float64)), p, training=False).numpy()
    rtol, atol = _tolerance(dtype)
    x64 = x.astype(np.float64)
    mistakes = {
        recognised("do-scaled-at-test", _("the output was multiplied by (1 - p) at test time: that is vanilla dropout's rule; inverted dropout already scaled in training, so with train=False it returns x unchanged")): x64 * (1 - p),
        recognised("do-scaled-at-test", _("the output was multiplied by p at test time: with train=False inverted dropout returns x unchanged")): x64 * p,
    }
    is_dropped = out == 0
    if is_dropped.any() and not mistakes_match(out, mistakes, rtol, atol):
        mistakes[recognised("do-applied-at-test", _("dropout was still applied with train=False: at test time no unit is dropped and the output is x"))] = out
    assert_close(out, expected, what=_('dropout_forward(x, p={p:g}, train=False) for x of shape {shape}').format(p=p, shape=shape),
                 rtol=rtol, atol=atol, mistakes=mistakes)


# ---------------------------------------------------------------- p = 0 and p = 1

def _edge_inputs(*, seed: int = 0, shape=(50, 20)) -> dict:
    return {"x": make_input(seed, shape), "seed": seed, "shape": tuple(shape)}


def _edge_probe(record, dropout_forward, inputs) -> None:
    for p in (0.0, 1.0):
        _call_forward(record, f"p{p:g}", dropout_forward, "dropout_forward", inputs["x"], p, True,
                      np.random.default_rng(inputs["seed"]))


@check(inputs=_edge_inputs, probe=_edge_probe)
def check_dropout_edge_cases(record, inputs) -> None:
    """p = 0 keeps everything (output = x), p = 1 drops everything (output = zeros, no NaN), as torch does.

    Compared exactly up to rtol 1e-7 with torch.nn.functional.dropout, which returns
    ``x`` for p = 0 and zeros for p = 1.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    import torch.nn.functional as F

    x, shape = inputs["x"], inputs["shape"]
    name = "dropout_forward"
    for p in (0.0, 1.0):
        out, mask = _forward_result(_forward_call(record, f"p{p:g}", name, x, p), name, x.shape)
        expected = F.dropout(torch.from_numpy(x), p, training=True).numpy()
        assert_close(out, expected, what=_('dropout_forward(x, p={p:g}, train=True) for x of shape {shape}').format(p=p, shape=shape),
                     hint_for_nonfinite=_('Likely mistake: {nan_at_p1}').format(nan_at_p1=NAN_AT_P1()) if p == 1 else None,
                     mistakes={recognised("do-p0-not-identity", _("with p = 0 nothing is dropped and the output must be x")): np.zeros_like(x)} if p == 0 else None)
        kept = _keep_mask(mask, name, x.shape, 0.5)
        if kept.all() != (p == 0) or kept.any() != (p == 0):
            raise CheckFailed(_('with p = {p:g} the mask returned by {name} should be all {detail}, but it keeps {kept_sum} of {kept_size} units').format(p=p, name=name, detail='ones' if p == 0 else 'zeros', kept_sum=int(kept.sum()), kept_size=kept.size))


# ---------------------------------------------------------------- backward

def _torch_dropout_backward(dout: np.ndarray, mask: np.ndarray, p: float) -> np.ndarray:
    """PyTorch's own backward of dropout (``aten::native_dropout_backward``, what autograd runs for F.dropout):
    the gradient for ``dout`` through the keep ``mask``, in float64. At p = 1 nothing is kept and the gradient is 0."""
    scale = 0.0 if p >= 1 else 1.0 / (1.0 - p)
    grad = torch.ops.aten.native_dropout_backward(torch.from_numpy(dout.astype(np.float64)),
                                                   torch.from_numpy(np.asarray(mask, dtype=bool)), scale)
    return grad.numpy().copy()


def _backward_inputs(*, seed: int = 0, shape=(60, 30), p: float = 0.2, dtype=np.float64) -> dict:
    shape = tuple(shape)
    # a mask of independent keeps, each with probability 1 - p, made with NumPy: built in the sandbox too,
    # where torch's own dropout refuses to run (autograder/forbidden.py)
    mask = np.random.default_rng([seed, 1]).random(shape) >= p
    return {"dout": np.random.default_rng(seed).standard_normal(shape).astype(dtype), "mask": mask, "seed": seed,
            "shape": shape, "p": p, "dtype": np.dtype(dtype)}


def _backward_probe(record, dropout_backward, inputs) -> None:
    given_dout, given_mask = inputs["dout"].copy(), inputs["mask"].copy()
    with np.errstate(all="ignore"):
        record["dx"] = call_learner(dropout_backward, given_dout, given_mask, inputs["p"])
    record["dout_after"] = given_dout


@check(inputs=_backward_inputs, probe=_backward_probe)
def check_dropout_backward(record, inputs) -> None:
    """``dropout_backward(dout, mask, p)`` equals the gradient autograd computes through torch.nn.functional.dropout.

    The mask keeps each unit with probability 1 - p (NumPy, seeded: the inputs are built in the
    sandbox too, where torch's dropout refuses to run); the reference is PyTorch's own backward of
    dropout for that mask (``aten::native_dropout_backward``, in float64). Compared within rtol 1e-7
    (float64) or 1e-5 (float32).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    dout, mask, seed, shape, p, dtype = (inputs["dout"], inputs["mask"], inputs["seed"], inputs["shape"], inputs["p"],
                                         inputs["dtype"])
    expected = _torch_dropout_backward(dout, mask, p)
    dx = _read(record, "dx", p)
    after = record["dout_after"]
    assert_unchanged(dout, after if isinstance(after, np.ndarray) else np.array([]), "dropout_backward")
    d64 = dout.astype(np.float64)
    mistakes = {
        recognised("do-backward-mask-ignored", _('the mask was not used: the gradient flows only through the units kept in the forward pass; multiply dout by the mask')): d64 / (1 - p) if p < 1 else None,
        recognised("do-backward-not-scaled", _('the gradient was not scaled: the forward pass multiplied kept units by 1/(1 - p), so the backward pass must too (dx = dout * mask / (1 - p))')): d64 * mask,
        recognised("do-backward-mask-ignored", _("dout was returned unchanged: the mask was not used, and the 1/(1 - p) scale is missing")): d64,
        recognised("do-backward-wrong-scale", _("the gradient was scaled by 1/p: scale by 1/(1 - p), as in the forward pass")): d64 * mask / p if p > 0 else None,
        recognised("do-backward-wrong-scale", _("the gradient was multiplied by 1 - p: scale by 1/(1 - p), as in the forward pass")): d64 * mask * (1 - p),
        recognised("do-backward-mask-ignored", _("the mask was inverted: the gradient flows through the KEPT units (mask == 1)")): d64 * ~mask / (1 - p) if p < 1 else None,
    }
    rtol, atol = _tolerance(dtype)
    assert_close(dx, expected, what=_('dropout_backward(dout, mask, p={p:g}) for dout of shape {shape}, dtype {dtype_name}').format(p=p, shape=shape, dtype_name=dtype.name),
                 rtol=rtol, atol=atol, mistakes={k: v for k, v in mistakes.items() if v is not None},
                 hint_for_nonfinite=_('Likely mistake: {nan_at_p1}').format(nan_at_p1=NAN_AT_P1()) if p == 1 else None)


# ---------------------------------------------------------------- vanilla dropout

def _vanilla_inputs(*, seed: int = 0, shape=(200, 50), p: float = 0.2, dtype=np.float64) -> dict:
    return {"x": make_input(seed, shape, dtype), "seed": seed, "shape": tuple(shape), "p": p, "dtype": np.dtype(dtype)}


def _vanilla_probe(record, vanilla_dropout_forward, inputs) -> None:
    x, seed, p, name = inputs["x"], inputs["seed"], inputs["p"], "vanilla_dropout_forward"
    _call_forward(record, "train", vanilla_dropout_forward, name, x, p, True, np.random.default_rng(seed + 1))
    _call_forward(record, "eval", vanilla_dropout_forward, name, x, p, False, np.random.default_rng(seed))


@check(inputs=_vanilla_inputs, probe=_vanilla_probe)
def check_vanilla_dropout(record, inputs) -> None:
    """Vanilla dropout: in training zero a fraction ~p and leave the rest unchanged; at test time return (1 - p) * x.

    The number of zeros must lie in the Binomial(n, p) interval of confidence 1 - 1e-6;
    values are compared within rtol 1e-7 (float64) or 1e-5 (float32). The test-time
    reference is ``(1 - p) * torch.nn.functional.dropout(x, p, training=False)``.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    import torch.nn.functional as F

    x, seed, shape, p, dtype = inputs["x"], inputs["seed"], inputs["shape"], inputs["p"], inputs["dtype"]
    x64 = x.astype(np.float64)
    name = "vanilla_dropout_forward"
    rtol, atol = _tolerance(dtype)
    out, mask = _forward_result(_forward_call(record, "train", name, x, p), name, x.shape)
    kept = _keep_mask(mask, name, x.shape, p)
    what = _('vanilla_dropout_forward(x, p={p:g}, train=True) for x of shape {shape}, dtype {dtype_name},').format(p=p, shape=shape, dtype_name=dtype.name)
    check_mask_matches_output(out, kept, what=what)
    check_drop_count(kept, p, what=what, seed=seed, alpha=ALPHA / 2)
    check_neighbours_independent(kept, p, what=what, alpha=ALPHA / 2)
    assert_close(out, x64 * kept, what=what + _(" compared with x * mask,"), rtol=rtol, atol=atol, mistakes={
        recognised("do-vanilla-is-inverted", _('kept units were scaled by 1/(1 - p): that is inverted dropout; vanilla dropout leaves kept units unchanged in training and scales at test time instead')): x64 * kept / (1 - p) if p < 1 else None,
        recognised("do-scale-by-keep-in-training", _('kept units were multiplied by (1 - p) in training: vanilla dropout leaves them unchanged and multiplies by (1 - p) only at test time')): x64 * kept * (1 - p),
    })
    out, _mask = _forward_result(_forward_call(record, "eval", name, x, p), name, x.shape)
    expected = (1 - p) * F.dropout(torch.from_numpy(x64), p, training=False).numpy()
    mistakes = {
        recognised("do-vanilla-test-not-scaled", _('the output is x at test time: vanilla dropout did not scale in training, so at test time it multiplies by the keep probability 1 - p to match the training-time expectation')): x64,
        recognised("do-vanilla-test-times-p", _('the output was multiplied by the dropout rate p at test time: multiply by the KEEP probability 1 - p (a unit is present with probability 1 - p in training)')): x64 * p,
    }
    if (out == 0).any() and not mistakes_match(out, mistakes, rtol, atol):
        mistakes[recognised("do-applied-at-test", _("dropout was still applied with train=False: at test time no unit is dropped"))] = out
    assert_close(out, expected, what=_('vanilla_dropout_forward(x, p={p:g}, train=False) for x of shape {shape}').format(p=p, shape=shape),
                 rtol=rtol, atol=atol, mistakes=mistakes)


# ---------------------------------------------------------------- the module: probe side

def _make_module(record, prefix: str, Dropout, p):
    """Probe: construct the learner's module; record whether it is an nn.Module and whether it starts in training mode."""
    module = call_learner(Dropout, name="Dropout") if p is None else call_learner(Dropout, p=p, name="Dropout")
    is_module = isinstance(module, torch.nn.Module)
    record[prefix + "module"] = {"is_module": is_module, "type": type(module).__name__}
    if not is_module:
        return None
    record[prefix + "training"] = call_learner(lambda: bool(module.training), name="Dropout.training")
    return module


def _module_call(module, x, what):
    """Probe: ``module(x)``, the learner's forward, with the course's messages for its errors."""
    try:
        return call_learner(module, x, name="Dropout.forward")
    except CheckFailed as failure:
        cause = failure.__cause__
        if isinstance(cause, ZeroDivisionError):
            raise CheckFailed(_('{what} raised ZeroDivisionError: {cause}\n  Likely mistake: {nan_at_p1}').format(what=what, cause=cause, nan_at_p1=NAN_AT_P1())) from None
        if isinstance(cause, Exception):
            raise CheckFailed(_('{what} raised {cause_type}: {cause}').format(what=what, cause_type=type(cause).__name__, cause=cause)) from None
        raise  # not implemented yet


def _forward_backward(record, key: str, module, x_np: np.ndarray, dout_np: np.ndarray, what: str) -> bool:
    """Probe: run the module on a leaf tensor and back-propagate dout; record the output and x.grad.

    Returns False (and records no gradient) when the output cannot be back-propagated as asked.
    """
    x = torch.from_numpy(x_np.copy()).requires_grad_(True)
    out = _module_call(module, x, what)
    record[key] = out
    captured = dict.__getitem__(record, key)  # read the recorded data, not the learner's object
    if not isinstance(captured, TensorData) or captured.shape != x_np.shape or not captured.requires_grad:
        return False
    try:
        call_learner(out.backward, torch.from_numpy(dout_np.copy()), name="backward")
    except CheckFailed as failure:
        cause = failure.__cause__
        if isinstance(cause, Exception):
            raise CheckFailed(_('backward() through {what} raised {cause_type}: {cause}').format(what=what, cause_type=type(cause).__name__, cause=cause)) from None
        raise
    record[key + "_grad"] = x.grad
    return True


def _forward_only(record, key: str, module, x_np: np.ndarray, what: str) -> None:
    record[key] = _module_call(module, torch.from_numpy(x_np.copy()), what)


# ---------------------------------------------------------------- the module: verdict side

def _check_module(record, prefix: str) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    made = record[prefix + "module"]
    if not made["is_module"]:
        raise CheckFailed(_('Dropout(...) should be a torch.nn.Module (class Dropout(torch.nn.Module)), but it is {type}').format(type=made['type']))
    if not record[prefix + "training"]:
        raise CheckFailed(_("a new Dropout module should be in training mode (module.training is True), like every torch.nn.Module"))


def _module_output(record, key: str, shape, what: str) -> np.ndarray:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    out = record[key]
    if not isinstance(out, TensorData):
        raise CheckFailed(_('{what} should return a torch.Tensor, but it returned {type_name_out}').format(what=what, type_name_out=type_name(out)))
    if tuple(out.shape) != tuple(shape):
        raise CheckFailed(_("{what} has shape {out_shape}, expected the input's shape {shape}").format(what=what, out_shape=tuple(out.shape), shape=tuple(shape)))
    return out.array.astype(np.float64)


def _module_forward_backward(record, key: str, shape, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Verdict: the recorded output and x.grad of one forward/backward through the module, as float64 arrays."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    out = _module_output(record, key, shape, what)
    if not record[key].requires_grad:
        raise CheckFailed(recognised("do-module-detached", _('the output of {what} is not connected to x in the autograd graph (out.requires_grad is False): compute it with torch operations on x (e.g. x * mask / (1 - p)), not through NumPy or .detach()').format(what=what)))
    grad = record[key + "_grad"]
    if not isinstance(grad, TensorData):
        raise CheckFailed(_('after backward() through {what}, x.grad is None: the output must be computed from x with torch operations').format(what=what))
    return out, grad.array.astype(np.float64)


# ---------------------------------------------------------------- the module in training, eval and training again

def _module_inputs(*, seed: int = 0, shape=(200, 50), p: float | None = 0.2, dtype=np.float32) -> dict:
    shape = tuple(shape)
    rate = 0.5 if p is None else p
    label = "Dropout()" if p is None else f"Dropout(p={p:g})"
    where = _('for x of shape {shape}, dtype {dtype_name}').format(shape=shape, dtype_name=np.dtype(dtype).name)
    n = int(np.prod(shape))
    return {
        "x": make_input(seed, shape, dtype),
        "dout": np.random.default_rng(seed + 3).standard_normal(shape).astype(dtype),
        "seed": seed, "shape": shape, "p": p, "rate": rate, "dtype": np.dtype(dtype), "label": label,
        "train_what": _('{label} in training mode {where}').format(label=label, where=where),
        "eval_what": _('{label} after .eval() {where}').format(label=label, where=where),
        "again_what": _('{label} after .eval() and then .train() {where}').format(label=label, where=where),
        # a second call must draw a new mask: checked when two masks are equal by chance with probability <= ALPHA
        "fresh": bool(0 < rate < 1 and (rate**2 + (1 - rate) ** 2) ** n <= ALPHA),
        # MANY_CALLS calls on a small input: the units are dropped independently (check_units_independent)
        "small": make_input(seed + 5, MANY_SHAPE, dtype),
    }


MANY_CALLS, MANY_SHAPE = 200, (4, 5)


def _module_probe(record, Dropout, inputs) -> None:
    x, dout = inputs["x"], inputs["dout"]
    module = _make_module(record, "", Dropout, inputs["p"])
    if module is None:
        return
    _seed_torch(inputs["seed"])
    if not _forward_backward(record, "train", module, x, dout, inputs["train_what"]):
        return
    if inputs["fresh"]:
        _forward_only(record, "train_second", module, x, inputs["train_what"])
    small = torch.from_numpy(inputs["small"])
    with learner_code():  # one watch around all the calls (as the expectation check's probe)
        outs = [_module_call(module, small, inputs["train_what"]) for _ in range(MANY_CALLS)]
    # Every output as plain data, whatever its class: ``capture`` reads a tensor subclass's values with its own
    # code switched off. The kept units cross the sandbox as one boolean array; an output that is not a real
    # tensor of the input's shape is recorded instead (``many_bad``), and the verdict fails the test on it:
    # the independence test is never skipped (attack 7: a tensor subclass returned for this input alone did).
    kept = []
    for index, out in enumerate(outs):
        data = capture(out)
        if not (isinstance(data, TensorData) and data.shape == MANY_SHAPE and data.array.dtype.kind in "biuf"):
            got = (ObjectData(f"a tensor of shape {tuple(data.shape)} and dtype {data.dtype}")
                   if isinstance(data, TensorData) else ObjectData(type_name(data)))
            record["many_bad"] = {"index": index, "got": got}  # type names only: checked as such on arrival
            break
        kept.append(data.array != 0)
    else:
        record["many"] = np.stack(kept)
    call_learner(module.eval, name="Dropout.eval")
    if not _forward_backward(record, "eval", module, x, dout, inputs["eval_what"]):
        return
    call_learner(module.train, name="Dropout.train")
    _forward_only(record, "train_again", module, x, inputs["again_what"])


def _many_kept(record, label: str) -> np.ndarray:
    """Verdict: the kept units of the ``MANY_CALLS`` training-mode calls on one small x, or CheckFailed.

    Fails closed: a record without them (an output that was not a real tensor of the input's shape, or
    none at all) fails the test that needs them, with a message; it never skips it.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    bad = dict.get(record, "many_bad")
    if isinstance(bad, dict):
        index = bad.get("index")
        raise CheckFailed(_('call {number} of {calls} of {label} in training mode on one x of shape {shape} returned {got}, not a torch.Tensor of real numbers of the input\'s shape: return x * mask / (1 - p), a plain tensor, on every call').format(
            number=index + 1 if type(index) is int else "?", calls=MANY_CALLS, label=label, shape=MANY_SHAPE,
            got=type_name(bad.get("got"))))
    many = record["many"]  # the learner's error where the calls stopped, or "received no value"
    if not (isinstance(many, np.ndarray) and many.dtype == bool and many.shape == (MANY_CALLS, *MANY_SHAPE)):
        raise CheckFailed(_('the grader could not read the outputs of {calls} calls of {label} in training mode on one x of shape {shape}').format(
            calls=MANY_CALLS, label=label, shape=MANY_SHAPE))
    return many


@check(inputs=_module_inputs, probe=_module_probe)
def check_dropout_module(record, inputs) -> None:
    """``Dropout(p)`` behaves like torch.nn.Dropout(p): in training, after train(), in eval() and for gradients.

    - training mode: the number of zeros lies in the Binomial(n, p) interval of
      confidence 1 - 1e-6 / 3, neighbouring units are dropped independently, and over
      200 calls on a (4, 5) input the units are dropped independently of each other
      (``check_neighbours_independent``, ``check_units_independent``: 1e-6 / 3 each); kept units are x times torch's scale 1/(1-p); gradients via
      autograd equal dout * mask * scale (rtol 1e-5 for float32, 1e-7 for float64);
      a second call draws a new mask (checked when two masks of this size are equal by
      chance with probability below 1e-6);
    - eval(): output and gradient equal torch.nn.Dropout's in eval mode (x and dout);
    - train() again: dropout is applied again.

    ``p=None`` constructs ``Dropout()`` and checks the default p = 0.5.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, dout, seed, shape, rate, dtype, label = (inputs["x"], inputs["dout"], inputs["seed"], inputs["shape"],
                                                inputs["rate"], inputs["dtype"], inputs["label"])
    _check_module(record, "")
    x64, d64 = x.astype(np.float64), dout.astype(np.float64)
    rtol, atol = _tolerance(dtype)

    what = inputs["train_what"]
    out, grad = _module_forward_backward(record, "train", shape, what)
    kept = out != 0
    if not np.isfinite(out).all():
        raise CheckFailed(_('{what} returned NaN or inf\n  Likely mistake: {nan_at_p1}').format(what=what, nan_at_p1=NAN_AT_P1()))
    check_drop_count(kept, rate, what=what, seed=seed, alpha=ALPHA / 3)
    check_neighbours_independent(kept, rate, what=what, alpha=ALPHA / 3)
    scale = torch_keep_scale(rate)
    assert_close(out, x64 * kept * scale, what=_("{what}, compared with x * mask * (torch's scale {scale:.6g}),").format(what=what, scale=scale),
                 rtol=rtol, atol=atol, mistakes=_scaling_mistakes(x, kept, rate))
    assert_close(grad, d64 * kept * scale, what=_('the gradient x.grad through {what}, compared with dout * mask * {scale:.6g},').format(what=what, scale=scale),
                 rtol=rtol, atol=atol, mistakes={
                     recognised("do-backward-mask-ignored", _("the gradient ignores the mask: it must be zero where the unit was dropped")): d64 * scale,
                     recognised("do-backward-not-scaled", _("the gradient was not scaled by 1/(1 - p)")): d64 * kept})
    if inputs["fresh"]:
        again = _module_output(record, "train_second", shape, what)
        if np.array_equal(again != 0, kept):
            raise CheckFailed(_('{label} in training mode called twice on the same input: {same_mask}').format(label=label, same_mask=SAME_MASK()))
    check_units_independent(_many_kept(record, label), rate, alpha=ALPHA / 3, what=_('{label} in training mode called {calls} times on one x of shape {shape}').format(label=label, calls=MANY_CALLS, shape=MANY_SHAPE))

    what = inputs["eval_what"]
    reference = torch.nn.Dropout(rate).eval()
    expected = reference(torch.from_numpy(x64)).numpy()
    out, grad = _module_forward_backward(record, "eval", shape, what)
    mistakes = {
        recognised("do-scaled-at-test", _('the output was multiplied by (1 - p) in eval mode: inverted dropout scaled in training, so in eval mode it returns x unchanged')): x64 * (1 - rate),
    }
    if (out == 0).any():
        mistakes[recognised("do-applied-at-test", _('dropout is still applied in eval mode: check self.training (set by .train() / .eval()) in forward and return x unchanged when it is False'))] = out
    assert_close(out, expected, what=what + _(" compared with torch.nn.Dropout in eval mode,"), rtol=rtol, atol=atol, mistakes=mistakes)
    assert_close(grad, d64, what=_('the gradient x.grad through {what}').format(what=what), rtol=rtol, atol=atol)

    what = inputs["again_what"]
    out = _module_output(record, "train_again", shape, what)
    check_drop_count(out != 0, rate, what=what, seed=seed)


# ---------------------------------------------------------------- the module at p = 0 and p = 1

def _module_edge_inputs(*, seed: int = 0, shape=(4, 3, 5, 6)) -> dict:
    shape = tuple(shape)
    return {"x": make_input(seed, shape, np.float32),
            "dout": np.random.default_rng(seed + 3).standard_normal(shape).astype(np.float32),
            "seed": seed, "shape": shape}


def _module_edge_probe(record, Dropout, inputs) -> None:
    for p in (0.0, 1.0):
        prefix = f"p{p:g}_"
        module = _make_module(record, prefix, Dropout, p)
        if module is None:
            return
        _seed_torch(inputs["seed"])
        what = _('Dropout(p={p:g}) in training mode for x of shape {shape}').format(p=p, shape=inputs['shape'])
        if not _forward_backward(record, prefix + "out", module, inputs["x"], inputs["dout"], what):
            return


@check(inputs=_module_edge_inputs, probe=_module_edge_probe)
def check_dropout_module_edge_cases(record, inputs) -> None:
    """Any shape works; p = 0 is the identity and p = 1 gives zeros and zero gradients (no NaN), in training mode.

    Compared with torch.nn.Dropout(p) in training mode, which is deterministic for
    p = 0 and p = 1, within rtol 1e-5 (float32 inputs).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    x, dout, shape = inputs["x"], inputs["dout"], inputs["shape"]
    for p in (0.0, 1.0):
        prefix = f"p{p:g}_"
        _check_module(record, prefix)
        what = _('Dropout(p={p:g}) in training mode for x of shape {shape}').format(p=p, shape=shape)
        out, grad = _module_forward_backward(record, prefix + "out", shape, what)
        reference_x = torch.from_numpy(x.copy()).requires_grad_(True)
        reference_out = torch.nn.Dropout(p)(reference_x)
        reference_out.backward(torch.from_numpy(dout))
        nan_hint = _('Likely mistake: {nan_at_p1}').format(nan_at_p1=NAN_AT_P1()) if p == 1 else None
        assert_close(out, reference_out.detach().numpy(), what=what, rtol=1e-5, atol=1e-6, hint_for_nonfinite=nan_hint)
        assert_close(grad, reference_x.grad.numpy(), what=_('the gradient x.grad through {what}').format(what=what), rtol=1e-5, atol=1e-6,
                     hint_for_nonfinite=nan_hint)
