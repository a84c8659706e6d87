"""Checks for chapter 7, hyperparameter search (exercise ``07_hyperparameter_search``).

The learner writes, in NumPy:

- ``train_val_test_split(n, val_fraction, test_fraction, rng) -> (train_idx, val_idx, test_idx)``:
  a shuffled partition of ``range(n)`` with ``round(n * val_fraction)`` validation and
  ``round(n * test_fraction)`` test indices, the rest for training;
- ``sample_log_uniform(low, high, size, rng)``: samples whose logarithm is uniform,
  compared with ``scipy.stats.loguniform(low, high)`` by a Kolmogorov-Smirnov test;
- ``random_search(objective, space, n_trials, rng) -> [(config, score), ...]`` where
  ``space`` maps a name to ``("log", low, high)``, ``("uniform", low, high)`` or
  ``("choice", values)``;
- ``grid_search(objective, grid) -> [(config, score), ...]``: every combination once,
  in ``itertools.product`` order over the grid's names (the last name varies fastest);
- ``narrow_space(results, space, top_k) -> space``: the coarse-to-fine step. Higher
  score is better; numeric bounds become the min and max of the ``top_k`` best
  configurations' values, choices the values those configurations used.

Each check is a probe (calls the learner's functions, records what they returned and, for
the searches, the configurations the course's objective was called with) and a verdict
(decides from that record); see ``autograder/probe.py``. SciPy is imported by the verdicts
only: the grading sandbox of this chapter holds NumPy alone.

Randomness is tested with statistics whose false-failure chance is bounded for ANY seed:
a correct answer fails one call of a check with probability at most ``ALPHA`` (each check
shares ``ALPHA`` among its statistical tests, Bonferroni, and skips a test that a correct
answer could fail by chance more often than its share). Reproducibility is tested by
calling twice with generators made from the same seed. Every check builds its own inputs
from its arguments, so hidden tests vary inputs, not logic.
"""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np

from autograder.compare import CheckFailed, call_learner
from autograder.probe import ObjectData, capture, check, type_name
from autograder.mistakes import recognised

# The chance that a correct answer fails one call of a check, whatever the seed. Each check
# divides it among its statistical tests: split 5 (one-block test, three Kolmogorov-Smirnov
# tests, other seed), sample_log_uniform 1, random_search one per numeric dimension, two per
# choice (a choice never drawn, chi-square) and one for the other seed.
ALPHA = 1e-6
# The level at which a WRONG answer's samples are matched to a known mistake, to name it in
# the message. It never decides whether an answer passes.
HINT_ALPHA = 1e-3
SPLIT_TESTS = 5


# ---------------------------------------------------------------- helpers



def _show(value, limit: int = 200) -> str:
    text = f"<{value.type_name} object>" if isinstance(value, ObjectData) else repr(value)
    return text[:limit]


def _plain(value, depth: int = 0):
    """The learner's value with NumPy strings as ``str`` and dict (list) subclasses as dict (list).

    Runs in the probe, before ``record[...] = ...``: the record keeps only plain data, and a
    ``np.str_`` (what ``rng.choice(["relu", "tanh"])`` returns) would arrive as an object of
    unknown value.
    """
    if depth > 8:
        return value
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, dict):
        return {(str(key) if isinstance(key, np.str_) else key): _plain(item, depth + 1)
                for key, item in dict.items(value)}
    if type(value) in (list, tuple) or (depth == 0 and isinstance(value, list)):
        items = [_plain(item, depth + 1) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _is_number(value) -> bool:
    """A single real number (Python or NumPy scalar, or a 0-d array)."""
    if type(value) in (int, float, bool):
        return True
    return (isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0
            and value.dtype.kind in "biuf")


def _same_data(a, b) -> bool:
    """Whether two recorded values are equal (as ``==`` on the original objects would say)."""
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same_data(a[key], b[key]) for key in a))
    if type(a) in (list, tuple) or type(b) in (list, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(_same_data(x, y) for x, y in zip(a, b))
    if isinstance(a, ObjectData) or isinstance(b, ObjectData):
        return False
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.array_equal(a, b)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 -- incomparable values are different values
        return False


def _index_array(value, what: str) -> np.ndarray:
    """The learner's indices as a 1-D integer array, or a CheckFailed saying why not."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(recognised("forgot-return", f"{what} is None: did you forget to `return` it?"))
    if isinstance(value, ObjectData):
        raise CheckFailed(f"{what} should be a 1-D array of indices, but it is a {value.type_name}")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what} should be a 1-D array of indices, but it is {_show(value, 100)}") from None
    if array.ndim != 1:
        raise CheckFailed(f"{what} should be a 1-D array of indices, but it has shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise CheckFailed(f"{what} has dtype {array.dtype}; indices must be integers (e.g. from rng.permutation(n))")
    return array.astype(np.int64)


def _check_no_tie(n: int, fraction: float) -> None:
    # round() of an exact half depends on the rounding rule; the checks avoid such sizes.
    if abs(n * fraction - math.floor(n * fraction) - 0.5) < 1e-9:
        raise ValueError(f"n * fraction = {n * fraction} is a tie for round(); choose other values")


def _same_results(first, second) -> bool:
    """Whether two recorded lists of (config, score) hold the same configurations and scores."""
    try:
        if type(first) is not list or type(second) is not list or len(first) != len(second):
            return False
        for (config_a, score_a), (config_b, score_b) in zip(first, second):
            if config_a.keys() != config_b.keys() or float(score_a) != float(score_b):
                return False
            if any(not _equal_values(config_a[k], config_b[k]) for k in config_a):
                return False
        return True
    except Exception:  # noqa: BLE001 -- a malformed result is not the same result
        return False


def _equal_values(a, b) -> bool:
    if isinstance(a, ObjectData) or isinstance(b, ObjectData):
        return False
    try:
        return bool(np.all(a == b))
    except Exception:  # noqa: BLE001 -- incomparable values are different values
        return False


def _ks_pvalue(samples: np.ndarray, cdf) -> float:
    from scipy import stats

    return float(stats.kstest(samples, cdf).pvalue)


def _uniform_cdf(low: float, high: float):
    from scipy import stats

    return stats.uniform(low, high - low).cdf


def _log_uniform_cdf(low: float, high: float):
    from scipy import stats

    return stats.loguniform(low, high).cdf


def _choice_pvalue(counts: np.ndarray) -> tuple[float, float]:
    """(chi-square p, a bound that holds exactly) for equal frequencies of the counted choices.

    The chi-square p-value is an approximation, a little optimistic far in the tail (at 1e-7
    up to ~1.5 times for three choices and ~50 draws). The second is exact: the smallest
    two-sided binomial p-value over the choices times their number (Bonferroni). A check
    rejects only when both are below its level, so the exact one bounds the false failures.
    """
    from scipy import stats

    n, k = int(counts.sum()), len(counts)
    chi = float(stats.chisquare(counts).pvalue)
    exact = min(1.0, k * min(float(stats.binomtest(int(c), n, 1.0 / k).pvalue) for c in counts))
    return chi, exact


# ---------------------------------------------------------------- train / validation / test split

def _log_splits(n: int, sizes) -> float:
    """log of the number of ways to cut range(n) into labelled parts of these sizes (a multinomial)."""
    return math.lgamma(n + 1) - sum(math.lgamma(size + 1) for size in sizes)


def _split_inputs(*, n: int = 100, val_fraction: float = 0.2, test_fraction: float = 0.1, seed: int = 0) -> dict:
    _check_no_tie(n, val_fraction)
    _check_no_tie(n, test_fraction)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    sizes = (n - n_val - n_test, n_val, n_test)
    share = ALPHA / SPLIT_TESTS
    # Two correct splits from independent generators coincide with probability 1 / (ways to split):
    # compare with another seed only when that is below this test's share.
    other_seed = min(sizes) >= 0 and _log_splits(n, sizes) > -math.log(share)
    return {"n": n, "val_fraction": val_fraction, "test_fraction": test_fraction, "seed": seed,
            "sizes": sizes, "share": share, "other_seed": other_seed,
            "call": f"train_val_test_split({n}, {val_fraction}, {test_fraction}, rng=np.random.default_rng({seed}))"}


def _split_probe(record, train_val_test_split, inputs) -> None:
    args = (inputs["n"], inputs["val_fraction"], inputs["test_fraction"])
    record["result"] = call_learner(train_val_test_split, *args, np.random.default_rng(inputs["seed"]))
    record["again"] = call_learner(train_val_test_split, *args, np.random.default_rng(inputs["seed"]))
    if inputs["other_seed"]:
        record["other"] = call_learner(train_val_test_split, *args, np.random.default_rng(inputs["seed"] + 1))


def _same_split(parts, other) -> bool:
    if type(other) not in (tuple, list) or len(other) != len(parts):
        return False
    try:
        return all(not isinstance(b, ObjectData) and np.array_equal(a, np.asarray(b)) for a, b in zip(parts, other))
    except Exception:  # noqa: BLE001 -- a malformed split is another split
        return False


@check(inputs=_split_inputs, probe=_split_probe)
def check_train_val_test_split(record, inputs) -> None:
    """The three index arrays partition ``range(n)``, have the documented sizes, are shuffled
    and come from the ``rng`` passed in.

    Sizes: ``n_val = round(n * val_fraction)``, ``n_test = round(n * test_fraction)``,
    ``n_train = n - n_val - n_test``. Shuffled: for ``n >= 20`` the indices of the parts
    must not all be runs of consecutive numbers (flagged only where a shuffle does that with
    probability below ``ALPHA / 5``), and for each part of at least 20 indices a
    Kolmogorov-Smirnov test of their positions against the uniform distribution must not
    reject at level ``ALPHA / 5`` (positions drawn without replacement are less spread than
    independent ones, so the test is conservative). Reproducible: two generators made from
    ``seed`` give the same split; a generator made from ``seed + 1`` gives a different one
    (tested where two random splits coincide with probability below ``ALPHA / 5``).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    n, seed, share, call = inputs["n"], inputs["seed"], inputs["share"], inputs["call"]
    val_fraction, test_fraction = inputs["val_fraction"], inputs["test_fraction"]
    n_train, n_val, n_test = inputs["sizes"]
    result = record["result"]
    if type(result) not in (tuple, list) or len(result) != 3:
        raise CheckFailed(f"{call} should return a tuple (train_idx, val_idx, test_idx), "
                          f"but it returned {type_name(result)}"
                          + (f" of length {len(result)}" if type(result) in (tuple, list) else ""))
    names = ("train_idx", "val_idx", "test_idx")
    parts = [_index_array(part, f"{name} from {call}") for name, part in zip(names, result)]
    train, val, test = parts

    # Disjoint.
    for (name_a, a), (name_b, b) in itertools.combinations(zip(names, parts), 2):
        shared = np.intersect1d(a, b)
        if shared.size:
            hint = ""
            if {name_a, name_b} == {"val_idx", "test_idx"} or "train_idx" in (name_a, name_b):
                hint = (recognised("hp-split-independent-draws", "\n  Likely mistake: the parts were drawn independently (e.g. two calls of rng.choice), so "
                        "they can share indices; draw ONE permutation, rng.permutation(n), and cut it into three slices"))
            raise CheckFailed(f"{call}: {name_a} and {name_b} share {shared.size} indices "
                              f"(e.g. {shared[:5].tolist()}); the three parts must be disjoint{hint}")
    for name, part in zip(names, parts):
        values, counts = np.unique(part, return_counts=True)
        if (counts > 1).any():
            raise CheckFailed(f"{call}: {name} holds index {int(values[counts > 1][0])} more than once; "
                              f"each index belongs to exactly one part, once")

    # Sizes.
    got = (len(train), len(val), len(test))
    want = (n_train, n_val, n_test)
    if got != want:
        hint = ""
        if (len(val), len(test)) == (int(n * val_fraction), int(n * test_fraction)) != (n_val, n_test):
            hint = (recognised("hp-split-truncates", "\n  Likely mistake: int() truncates n * fraction; the documented rule is round(n * fraction)"))
        elif len(train) == round(n * (1 - val_fraction - test_fraction)) != n_train:
            hint = (recognised("hp-split-train-rounded", "\n  Likely mistake: the training size was rounded on its own; it must take the rest, "
                    "n - n_val - n_test, so that the three parts cover range(n)"))
        raise CheckFailed(f"{call} returned parts of sizes (train, val, test) = {got}, expected {want}: "
                          f"n_val = round(n * val_fraction), n_test = round(n * test_fraction), "
                          f"and the training part gets the rest{hint}")

    # Covering.
    everything = np.concatenate(parts)
    if everything.size and (everything.min() < 0 or everything.max() >= n):
        raise CheckFailed(f"{call}: indices must lie in 0 .. {n - 1}, got values from "
                          f"{int(everything.min())} to {int(everything.max())}")
    missing = np.setdiff1d(np.arange(n), everything)
    if missing.size:
        raise CheckFailed(f"{call}: {missing.size} indices of range({n}) are in no part (e.g. {missing[:5].tolist()}); "
                          f"together the parts must cover every example exactly once")

    # Shuffled.
    if n >= 20:
        # Every non-empty part a block of consecutive indices: a shuffle does that with probability
        # (orderings of the blocks) / multinomial(n; sizes); flag it only when that is below this test's share.
        nonempty = [(name, part) for name, part in zip(names, parts) if len(part)]
        blocks = all(np.all(np.diff(np.sort(part)) == 1) for _, part in nonempty)
        log_chance = math.lgamma(len(nonempty) + 1) - _log_splits(n, [len(part) for _, part in nonempty])
        if len(nonempty) > 1 and blocks and log_chance < math.log(share):
            ranges = ", ".join(f"{name} = {int(part.min())} .. {int(part.max())}" for name, part in nonempty)
            raise CheckFailed(
                recognised("hp-split-not-shuffled", f"{call}: each part is one block of consecutive indices ({ranges})."
                f"\n  Likely mistake: the indices were not shuffled (slices of np.arange(n)); data sets are often "
                f"sorted (by class, by time), so cut rng.permutation(n) instead"))
        for name, part in zip(names, parts):
            if len(part) >= 20:
                p = _ks_pvalue((part + 0.5) / n, _uniform_cdf(0.0, 1.0))
                if p < share:
                    raise CheckFailed(
                        f"{call}: the positions in {name} are not spread over range({n}) as a random shuffle would "
                        f"spread them (Kolmogorov-Smirnov p = {p:.2g} < {share:g}); shuffle with rng.permutation(n)")

    # Reproducible and driven by the rng passed in.
    if not _same_split(parts, record["again"]):
        raise CheckFailed(recognised("hp-rng-ignored", f"{call} is not reproducible: two calls with generators made from the same seed returned "
                          f"different splits.\n  Likely mistake: the rng argument was ignored (np.random.permutation "
                          f"or a new default_rng() without a seed); draw every random number from `rng`"))
    if inputs["other_seed"] and _same_split(parts, record["other"]):
        raise CheckFailed(recognised("hp-rng-ignored", f"{call}: generators made from seeds {seed} and {seed + 1} gave the same split."
                          f"\n  Likely mistake: the rng argument was ignored (a fixed seed inside the "
                          f"function?); draw every random number from `rng`"))


# ---------------------------------------------------------------- log-uniform sampling

def _log_uniform_mistakes(low: float, high: float):
    """(description, inverse transform g, a, b): the mistake's samples x have g(x) ~ U(a, b)."""
    ln, log10 = np.log, np.log10
    return [
        (recognised("hp-log-uniform-is-uniform", "the samples are uniform on [low, high], not log-uniform: draw the EXPONENT uniformly, "
         "exp(rng.uniform(log(low), log(high), size))"), lambda x: x, low, high),
        (recognised("hp-log-uniform-no-exp", "exp() was not applied: the samples are the uniform exponents log(low) .. log(high) themselves"),
         lambda x: x, ln(low), ln(high)),
        (recognised("hp-log-uniform-mixed-bases", "the bases are mixed up: the exponent was drawn between natural logs ln(low) .. ln(high) "
         "but 10 was raised to it (use the same base for both)"), log10, ln(low), ln(high)),
        (recognised("hp-log-uniform-mixed-bases", "the bases are mixed up: the exponent was drawn between log10(low) .. log10(high) "
         "but exp() was applied (use the same base for both)"), ln, log10(low), log10(high)),
        (recognised("hp-log-uniform-high-not-logged", "the exponent was drawn on [log(low), high] instead of [log(low), log(high)]: take the log of both bounds"),
         ln, ln(low), high),
        (recognised("hp-log-uniform-high-not-logged", "the exponent was drawn on [log10(low), high] instead of [log10(low), log10(high)]: take the log of both bounds"),
         log10, log10(low), high),
        (recognised("hp-log-uniform-bounds-as-exponents", "low and high were used as exponents: 10**uniform(low, high) samples between 10**low and 10**high; "
         "use log10(low) and log10(high) as the exponent's range"), log10, low, high),
        (recognised("hp-log-uniform-bounds-as-exponents", "low and high were used as exponents: exp(uniform(low, high)) samples between e**low and e**high; "
         "use log(low) and log(high) as the exponent's range"), ln, low, high),
    ]


def _name_log_uniform_mistake(samples: np.ndarray, low: float, high: float) -> str:
    """The known mistake whose distribution the samples follow (a test at HINT_ALPHA), for the message."""
    with np.errstate(all="ignore"):
        for description, g, a, b in _log_uniform_mistakes(low, high):
            if not a < b:
                continue
            transformed = g(samples)
            if not np.all(np.isfinite(transformed)):
                continue
            if _ks_pvalue(transformed, _uniform_cdf(a, b)) >= HINT_ALPHA:
                return f"\n  Likely mistake: {description}"
    return ""


def _sample_inputs(*, low: float = 1e-4, high: float = 1.0, size=2000, seed: int = 0) -> dict:
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")
    shape = (size,) if isinstance(size, int) else tuple(size)
    return {"low": low, "high": high, "size": size, "seed": seed, "shape": shape,
            "call": f"sample_log_uniform({low:g}, {high:g}, size={size!r}, rng=np.random.default_rng({seed}))"}


def _sample_probe(record, sample_log_uniform, inputs) -> None:
    args = (inputs["low"], inputs["high"], inputs["size"])
    record["out"] = call_learner(sample_log_uniform, *args, np.random.default_rng(inputs["seed"]))
    record["again"] = call_learner(sample_log_uniform, *args, np.random.default_rng(inputs["seed"]))


@check(inputs=_sample_inputs, probe=_sample_probe)
def check_sample_log_uniform(record, inputs) -> None:
    """``sample_log_uniform(low, high, size, rng)`` has shape ``size``, lies in [low, high] and
    passes a Kolmogorov-Smirnov test against ``scipy.stats.loguniform(low, high)`` at level
    ``ALPHA`` = 1e-6 (with at least 1,000 samples a uniform sampler over a range of at least a
    factor 10 fails it with p far below 1e-10). Two generators made from ``seed`` must give
    the same samples.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    low, high, shape, call = inputs["low"], inputs["high"], inputs["shape"], inputs["call"]
    raw = record["out"]
    if raw is None:
        raise CheckFailed(recognised("forgot-return", f"{call} returned None: did you forget to `return` the samples?"))
    if isinstance(raw, ObjectData):
        raise CheckFailed(f"{call} returned a {raw.type_name}; expected a NumPy array of shape {shape}")
    try:
        samples = np.asarray(raw)
    except (TypeError, ValueError):
        raise CheckFailed(f"{call} returned {_show(raw, 100)}, which is not an array of numbers") from None
    if samples.shape != shape:
        raise CheckFailed(f"{call} returned shape {samples.shape}, expected {shape} (the `size` argument, "
                          f"as in NumPy's rng.uniform(..., size=size))")
    if not np.issubdtype(samples.dtype, np.floating):
        raise CheckFailed(f"{call} returned dtype {samples.dtype}; expected floating-point numbers")
    flat = samples.astype(np.float64).ravel()
    hint = _name_log_uniform_mistake(flat, low, high)
    tolerance = 1e-9 * high
    if not np.all(np.isfinite(flat)):
        raise CheckFailed(f"{call} returned NaN or inf ({int((~np.isfinite(flat)).sum())} samples){hint}")
    if flat.min() < low * (1 - 1e-9) or flat.max() > high + tolerance:
        raise CheckFailed(f"{call}: samples must lie in [{low:g}, {high:g}], but they range from "
                          f"{flat.min():.4g} to {flat.max():.4g}{hint}")
    p = _ks_pvalue(flat, _log_uniform_cdf(low, high))
    if p < ALPHA:
        median = float(np.median(flat))
        raise CheckFailed(
            f"{call}: the samples do not follow the log-uniform distribution on [{low:g}, {high:g}] "
            f"(Kolmogorov-Smirnov test against scipy.stats.loguniform: p = {p:.2g} < {ALPHA:g}). "
            f"Their median is {median:.4g}; a log-uniform sample's median is sqrt(low * high) = "
            f"{math.sqrt(low * high):.4g}{hint}")
    again = record["again"]
    try:
        same = not isinstance(again, ObjectData) and np.array_equal(np.asarray(again), samples)
    except Exception:  # noqa: BLE001 -- a malformed answer is another answer
        same = False
    if not same:
        raise CheckFailed(recognised("hp-rng-ignored", f"{call} is not reproducible: two generators made from the same seed gave different "
                          f"samples.\n  Likely mistake: the rng argument was ignored (np.random.uniform or a new "
                          f"default_rng()); draw the samples with `rng`"))


# ---------------------------------------------------------------- the objective the searches are given

DEFAULT_SPACE = {
    "lr": ("log", 1e-4, 1.0),
    "dropout": ("uniform", 0.0, 0.5),
    "activation": ("choice", ["relu", "tanh", "sigmoid"]),
}


def _objective_weights(space_or_grid: dict, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    names = list(space_or_grid)
    return {name: float(w) for name, w in zip(names, rng.uniform(0.5, 2.0, len(names)))}


def _objective_value(weights: dict, config: dict) -> float:
    """The deterministic score of a configuration: a weighted sum of sign(v) log(1 + |v|) over
    its values (a string counts as the sum of its characters' codes / 100)."""
    total = 0.0
    for name, weight in weights.items():
        value = config[name]
        if isinstance(value, (str, np.str_)):
            number = sum(ord(c) for c in str(value)) / 100.0
        else:
            number = float(value)
        total += weight * math.log1p(abs(number)) * (1 if number >= 0 else -1)
    return round(total, 12)


class _RecordingObjective:
    """The objective the probe gives the learner's search (course code, called by the learner's).

    It scores each configuration with ``_objective_value`` and keeps a copy of every
    configuration it is called with, in order (``calls``, plain data). A malformed call
    raises CheckFailed and also writes the message into the record under ``error_key``,
    so that the verdict reports it even if the learner's code caught the exception.
    """

    def __init__(self, weights: dict, record, error_key: str):
        self.weights = weights
        self.names = list(weights)
        self.calls: list[dict] = []
        self._record, self._error_key = record, error_key

    def __call__(self, config):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if not isinstance(config, dict):
            self._fail(f"the objective must be called with one configuration, a dict mapping each name to "
                       f"a value, but it was called with a {type(config).__name__}: {config!r:.200}")
        if set(config) != set(self.names):
            self._fail(f"the objective was called with a configuration whose names are {sorted(map(str, config))}; "
                       f"expected exactly {sorted(self.names)}")
        self.calls.append(capture(_plain(dict(config))))
        return _objective_value(self.weights, config)

    def _fail(self, message: str):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if self._error_key not in self._record:
            self._record[self._error_key] = message
        raise CheckFailed(message)


def _distinct_configs(results) -> int | None:
    """How many distinct dict OBJECTS the learner's (config, score) pairs hold (probe side)."""
    if not isinstance(results, list):
        return None
    return len({id(item[0]) for item in results if type(item) in (tuple, list) and len(item) == 2})


def _raise_objective_error(record, key: str) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    message = dict.get(record, key)
    if message is not None:
        # the probe noted how the learner's code called the objective; the words say which mistake it was
        wrong_argument = "the objective must be called with one configuration" in str(message)
        raise CheckFailed(str(message), mistake="hp-objective-wrong-argument" if wrong_argument else None)


def _results_list(results, distinct, what: str, n_expected: int | None = None) -> list:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if results is None:
        raise CheckFailed(recognised("forgot-return", f"{what} returned None: did you forget to `return` the list of (config, score)?"))
    if not isinstance(results, list):
        raise CheckFailed(f"{what} should return a list of (config, score) pairs, but it returned "
                          f"a {type_name(results)}")
    for i, item in enumerate(results):
        if type(item) not in (tuple, list) or len(item) != 2 or not isinstance(item[0], dict):
            raise CheckFailed(f"{what}: entry {i} of the result is {_show(item)}; each entry must be a pair "
                              f"(config, score) with config a dict")
        if not _is_number(item[1]):
            raise CheckFailed(f"{what}: the score of entry {i} is not a single number: {_show(item[1])}")
    if n_expected is not None and len(results) != n_expected:
        raise CheckFailed(f"{what} returned {len(results)} results, expected {n_expected}")
    if len(results) > 1 and distinct == 1:
        raise CheckFailed(recognised("hp-shared-config-dict", f"{what}: every result holds the SAME dict object, so they all show the last "
                          f"configuration.\n  Likely mistake: one dict was updated in the loop; make a new dict "
                          f"for every configuration"))
    return results


def _score(weights: dict, config: dict, what: str, i: int) -> float:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    for name in weights:
        if name not in config:
            raise CheckFailed(f"{what}: some configurations have no value for {name!r}")
    try:
        return _objective_value(weights, config)
    except (TypeError, ValueError, OverflowError):
        raise CheckFailed(f"{what}: entry {i} holds config {_show(config)}, which the objective cannot score: "
                          f"each value must be a number or a string") from None


def _check_scores(results, calls, weights: dict, what: str, n_expected: int) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    n_calls = len(calls) if type(calls) is list else 0
    if n_calls != n_expected:
        raise CheckFailed(recognised("hp-objective-wrong-calls", f"{what} called the objective {n_calls} times; expected once per "
                          f"configuration, {n_expected} times (training a network is expensive)"))
    for i, (config, score) in enumerate(results):
        expected = _score(weights, config, what, i)
        if not np.isclose(float(score), expected, rtol=1e-9, atol=1e-12):
            raise CheckFailed(f"{what}: entry {i} pairs config {config} with score {float(score):.6g}, but the "
                              f"objective gives {expected:.6g} for that config; store objective(config) with the "
                              f"config it was computed for")


# ---------------------------------------------------------------- random search

def _search_inputs(*, space: dict | None = None, n_trials: int = 300, seed: int = 0) -> dict:
    space = copy.deepcopy(DEFAULT_SPACE if space is None else space)
    for name, spec in space.items():
        if spec[0] not in ("log", "uniform", "choice"):
            raise ValueError(f"unknown kind {spec[0]!r} in the check's space")
    numeric = [name for name, spec in space.items() if spec[0] != "choice" and spec[1] != spec[2]]
    choices = {name: len(spec[1]) for name, spec in space.items() if spec[0] == "choice"}
    share = ALPHA / (len(numeric) + 2 * sum(k > 1 for k in choices.values()) + 1)
    # A correct sampler leaves one of k choices out of n_trials draws with probability at most
    # k (1 - 1/k)^n_trials: "a choice never drawn" is a failure only where that is below the share.
    never_checked = {name for name, k in choices.items()
                     if k <= 1 or math.log(k) + n_trials * math.log1p(-1 / k) < math.log(share)}
    # Two correct searches from independent generators coincide with probability 0 when a numeric
    # dimension is random, else (prod over the choices of 1/k)^n_trials.
    log_same = -math.inf if numeric else -n_trials * sum(math.log(k) for k in choices.values() if k > 1)
    return {"space": space, "n_trials": n_trials, "seed": seed, "weights": _objective_weights(space, seed),
            "share": share, "never_checked": never_checked, "other_seed": log_same < math.log(share),
            "what": f"random_search(objective, space, n_trials={n_trials}, rng=np.random.default_rng({seed})) "
                    f"with space = {space}"}


def _search_probe(record, random_search, inputs) -> None:
    space, n_trials, seed, weights = inputs["space"], inputs["n_trials"], inputs["seed"], inputs["weights"]
    objective = _RecordingObjective(weights, record, "objective_error")
    given_space = copy.deepcopy(space)
    results = call_learner(random_search, objective, given_space, n_trials, np.random.default_rng(seed))
    record["distinct_configs"] = _distinct_configs(results)
    record["results"] = _plain(results)
    record["space_after"] = given_space
    record["calls"] = objective.calls
    again = _RecordingObjective(weights, record, "again_objective_error")
    record["again"] = _plain(call_learner(random_search, again, copy.deepcopy(space), n_trials,
                                          np.random.default_rng(seed)))
    if inputs["other_seed"]:
        other = _RecordingObjective(weights, record, "other_objective_error")
        record["other"] = _plain(call_learner(random_search, other, copy.deepcopy(space), n_trials,
                                              np.random.default_rng(seed + 1)))


@check(inputs=_search_inputs, probe=_search_probe)
def check_random_search(record, inputs) -> None:
    """``random_search(objective, space, n_trials, rng)`` evaluates ``n_trials`` configurations
    sampled independently from ``space`` and returns ``[(config, objective(config)), ...]``.

    Each "log" dimension must pass a Kolmogorov-Smirnov test against
    ``scipy.stats.loguniform(low, high)``, each "uniform" one against
    ``scipy.stats.uniform(low, high - low)``, and each "choice" one a chi-square test of
    equal frequencies (confirmed by exact binomial tests), each at its share of ``ALPHA``.
    Every choice must occur (where a correct sampler misses one with probability below its
    share: in the default space from 41 trials on; 5 choices alone from 75). Two generators
    made from ``seed`` must give the same results and ``seed + 1`` different ones (tested
    where two correct searches coincide with probability below the share).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    space, n_trials, share, what = inputs["space"], inputs["n_trials"], inputs["share"], inputs["what"]
    weights, seed = inputs["weights"], inputs["seed"]
    _raise_objective_error(record, "objective_error")
    results = _results_list(record["results"], record["distinct_configs"], what, n_trials)
    if not _same_data(record["space_after"], space):
        raise CheckFailed(recognised("changed-input-in-place", f"{what} changed the `space` dict it was given; leave the caller's space as it is"))
    _check_scores(results, record["calls"], weights, what, n_trials)

    for name, spec in space.items():
        kind = spec[0]
        if any(name not in config for config, _ in results):
            raise CheckFailed(f"{what}: some configurations have no value for {name!r}")
        values = [config[name] for config, _ in results]
        if kind in ("log", "uniform"):
            low, high = spec[1], spec[2]
            wrong = [v for v in values if not _is_number(v)]
            if wrong:
                bad = wrong[0]
                raise CheckFailed(f"{what}: config[{name!r}] should be a single number, got {_show(bad, 100)}"
                                  + (" (use float(...) or size=None to get a scalar)"
                                     if isinstance(bad, (np.ndarray, list, tuple)) and np.ndim(bad) else ""))
            x = np.asarray([float(v) for v in values], dtype=np.float64)
            if x.min() < low - 1e-12 * abs(high) or x.max() > high * (1 + 1e-12) + 1e-15:
                raise CheckFailed(f"{what}: values of {name!r} must lie in [{low:g}, {high:g}] ({kind!r}), but they "
                                  f"range from {x.min():.4g} to {x.max():.4g}"
                                  + (_name_log_uniform_mistake(x, low, high) if kind == "log" else ""))
            if low == high:
                continue
            reference = _log_uniform_cdf(low, high) if kind == "log" else _uniform_cdf(low, high)
            p = _ks_pvalue(x, reference)
            if p < share:
                if kind == "log":
                    hint = _name_log_uniform_mistake(x, low, high)
                else:
                    hint = ""
                    if low > 0 and _ks_pvalue(x, _log_uniform_cdf(low, high)) >= HINT_ALPHA:
                        hint = recognised("hp-uniform-sampled-log", "\n  Likely mistake: a 'uniform' dimension was sampled on a log scale")
                raise CheckFailed(f"{what}: the values of {name!r} do not follow the {kind} distribution on "
                                  f"[{low:g}, {high:g}] (Kolmogorov-Smirnov p = {p:.2g} < {share:.2g}){hint}")
        else:
            options = list(spec[1])
            positions = []
            for v in values:
                matches = [i for i, option in enumerate(options) if _equal_values(v, option)]
                if not matches:
                    hint = ""
                    if isinstance(v, (int, np.integer)) and 0 <= int(v) < len(options):
                        hint = (recognised("hp-choice-index-stored", "\n  Likely mistake: the INDEX of the choice was stored; store the value itself, "
                                "values[rng.integers(len(values))]"))
                    raise CheckFailed(f"{what}: config[{name!r}] = {_show(v, 100)} is not one of the choices "
                                      f"{options}{hint}")
                positions.append(matches[0])
            counts = np.bincount(positions, minlength=len(options))
            never = [options[i] for i in np.flatnonzero(counts == 0)]
            if never and name in inputs["never_checked"]:
                hint = ""
                if never == [options[-1]]:
                    hint = (recognised("hp-choice-last-never", "\n  Likely mistake: the last choice is never drawn: rng.integers(low, high) excludes "
                            "`high`, so use rng.integers(len(values)), or rng.choice(values)"))
                elif never == [options[0]]:
                    hint = recognised("hp-choice-first-never", "\n  Likely mistake: the first choice is never drawn (an index that starts at 1?)")
                raise CheckFailed(f"{what}: in {n_trials} trials, {name!r} never took the value(s) {never} "
                                  f"(counts {dict(zip(map(str, options), counts.tolist()))}); every choice must be "
                                  f"equally likely{hint}")
            if len(options) > 1:
                p, exact = _choice_pvalue(counts)
                if max(p, exact) < share:
                    raise CheckFailed(f"{what}: the choices of {name!r} are not equally likely: counts "
                                      f"{dict(zip(map(str, options), counts.tolist()))} (chi-square p = {p:.2g} "
                                      f"< {share:.2g})")

    _raise_objective_error(record, "again_objective_error")
    if not _same_results(results, record["again"]):
        raise CheckFailed(recognised("hp-rng-ignored", f"{what} is not reproducible: two generators made from the same seed gave different "
                          f"configurations.\n  Likely mistake: the rng argument was ignored (np.random.* or a new "
                          f"default_rng()); draw every random number from `rng`"))
    if inputs["other_seed"]:
        _raise_objective_error(record, "other_objective_error")
        if _same_results(results, record["other"]):
            raise CheckFailed(recognised("hp-rng-ignored", f"{what}: generators made from seeds {seed} and {seed + 1} gave the same "
                              f"configurations.\n  Likely mistake: the rng argument was ignored (a fixed seed "
                              f"inside the function?); draw every random number from `rng`"))


# ---------------------------------------------------------------- grid search

DEFAULT_GRID = {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4], "activation": ["relu", "tanh"]}


def _canonical(value) -> str:
    """repr of a value, NumPy scalars as the Python value they hold (np.float64(0.1) as 0.1)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _config_key(config: dict, names) -> tuple:
    return tuple(_canonical(config.get(name)) for name in names)


def _grid_inputs(*, grid: dict | None = None, seed: int = 0) -> dict:
    grid = copy.deepcopy(DEFAULT_GRID if grid is None else grid)
    names = list(grid)
    return {"grid": grid, "names": names, "weights": _objective_weights(grid, seed),
            "expected": [dict(zip(names, values)) for values in itertools.product(*grid.values())],
            "what": f"grid_search(objective, grid) with grid = {grid}"}


def _grid_probe(record, grid_search, inputs) -> None:
    objective = _RecordingObjective(inputs["weights"], record, "objective_error")
    given = copy.deepcopy(inputs["grid"])
    results = call_learner(grid_search, objective, given)
    record["distinct_configs"] = _distinct_configs(results)
    record["results"] = _plain(results)
    record["grid_after"] = given
    record["calls"] = objective.calls


@check(inputs=_grid_inputs, probe=_grid_probe)
def check_grid_search(record, inputs) -> None:
    """``grid_search(objective, grid)`` evaluates every combination of the grid's values once,
    in ``itertools.product`` order over the names in the grid's order (the last name varies
    fastest, like nested for loops), and returns ``[(config, objective(config)), ...]``.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    grid, names, expected, what = inputs["grid"], inputs["names"], inputs["expected"], inputs["what"]
    _raise_objective_error(record, "objective_error")
    results = _results_list(record["results"], record["distinct_configs"], what)
    if not _same_data(record["grid_after"], grid):
        raise CheckFailed(recognised("changed-input-in-place", f"{what} changed the `grid` dict it was given; leave the caller's grid as it is"))
    for i, (config, _) in enumerate(results):
        if set(config) != set(names):
            raise CheckFailed(f"{what}: configuration {i} has names {sorted(config)}, expected {sorted(names)}")
    got_keys = [_config_key(c, names) for c, _ in results]
    want_keys = [_config_key(c, names) for c in expected]
    missing = [c for c, k in zip(expected, want_keys) if k not in set(got_keys)]
    if missing:
        hint = ""
        sizes = [len(v) for v in grid.values()]
        if len(results) == min(sizes):
            hint = (recognised("hp-grid-zip", "\n  Likely mistake: zip() pairs the i-th values of every name; itertools.product(*grid.values()) "
                    "gives every combination"))
        elif len(results) == sum(sizes):
            hint = (recognised("hp-grid-one-name-at-a-time", "\n  Likely mistake: each name was varied on its own (one loop per name); "
                    "itertools.product(*grid.values()) gives every combination"))
        raise CheckFailed(f"{what}: {len(missing)} of the {len(expected)} combinations are missing "
                          f"(e.g. {missing[0]}); got {len(results)} results{hint}")
    if len(results) != len(expected) or len(set(got_keys)) != len(got_keys):
        raise CheckFailed(f"{what} returned {len(results)} results for {len(expected)} combinations: "
                          f"some combinations were evaluated more than once; evaluate each exactly once")
    _check_scores(results, record["calls"], inputs["weights"], what, len(expected))
    if got_keys != want_keys:
        first = next(i for i, (a, b) in enumerate(zip(got_keys, want_keys)) if a != b)
        raise CheckFailed(recognised("hp-grid-order", f"{what}: every combination is there, but in another order: result {first} is "
                          f"{results[first][0]}, expected {expected[first]}. The documented order is "
                          f"itertools.product over the names in the grid's order, the last name varying fastest"))


# ---------------------------------------------------------------- coarse-to-fine: narrowing the space

DEFAULT_NARROW_SPACE = {
    "lr": ("log", 1e-4, 1.0),
    "weight_decay": ("log", 1e-6, 1e-2),
    "dropout": ("uniform", 0.0, 0.5),
    "activation": ("choice", ["relu", "tanh", "sigmoid"]),
}


def _make_results(space: dict, n_results: int, seed: int) -> list:
    """Configurations drawn from ``space`` with distinct scores (higher is better)."""
    rng = np.random.default_rng(seed)
    results = []
    scores = rng.permutation(n_results) / n_results + rng.uniform(0, 1e-3)
    for i in range(n_results):
        config = {}
        for name, spec in space.items():
            if spec[0] == "log":
                config[name] = float(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))
            elif spec[0] == "uniform":
                config[name] = float(rng.uniform(spec[1], spec[2]))
            else:
                config[name] = spec[1][int(rng.integers(len(spec[1])))]
        results.append((config, float(scores[i])))
    return results


def _reference_narrow(results, space, top_k, *, best_first=True):
    ranked = sorted(results, key=lambda r: r[1], reverse=best_first)[:top_k]
    new = {}
    for name, spec in space.items():
        values = [config[name] for config, _ in ranked]
        if spec[0] in ("log", "uniform"):
            new[name] = (spec[0], min(values), max(values))
        else:
            new[name] = ("choice", [v for v in spec[1] if v in values])
    return new


def _bounds_match(got: dict, want: dict) -> bool:
    try:
        return _bounds_equal(got, want)
    except Exception:  # noqa: BLE001 -- a malformed answer matches no known mistake
        return False


def _bounds_equal(got: dict, want: dict) -> bool:
    for name, spec in want.items():
        g = got.get(name)
        if g is None or g[0] != spec[0]:
            return False
        if spec[0] == "choice":
            if sorted(map(_canonical, g[1])) != sorted(map(_canonical, spec[1])):
                return False
        elif not (np.isclose(float(g[1]), spec[1], rtol=1e-12) and np.isclose(float(g[2]), spec[2], rtol=1e-12)):
            return False
    return True


def _narrow_inputs(*, space: dict | None = None, n_results: int = 30, top_k: int = 5, seed: int = 0) -> dict:
    space = copy.deepcopy(DEFAULT_NARROW_SPACE if space is None else space)
    return {"space": space, "results": _make_results(space, n_results, seed), "top_k": top_k,
            "what": f"narrow_space(results, space, top_k={top_k}) for {n_results} results (seed {seed}) "
                    f"and space = {space}"}


def _narrow_probe(record, narrow_space, inputs) -> None:
    given_results, given_space = copy.deepcopy(inputs["results"]), copy.deepcopy(inputs["space"])
    record["new"] = _plain(call_learner(narrow_space, given_results, given_space, inputs["top_k"]))
    record["results_after"] = given_results
    record["space_after"] = given_space


@check(inputs=_narrow_inputs, probe=_narrow_probe)
def check_narrow_space(record, inputs) -> None:
    """``narrow_space(results, space, top_k)`` keeps the ``top_k`` results with the HIGHEST
    scores and returns a space of the same names and kinds: numeric bounds are the min and
    max of those configurations' values (compared within rtol=1e-12), a choice keeps the
    values they used (any order, no repeats). The inputs must not be changed.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    space, results, top_k, what = inputs["space"], inputs["results"], inputs["top_k"], inputs["what"]
    new = record["new"]
    if not _same_data(record["results_after"], results):
        raise CheckFailed(recognised("changed-input-in-place", f"{what} changed the `results` list it was given (sorted it in place?); "
                          f"use sorted(results, ...) to leave the caller's list as it is"))
    if not _same_data(record["space_after"], space):
        raise CheckFailed(recognised("changed-input-in-place", f"{what} changed the `space` dict it was given; build and return a new dict"))
    if new is None:
        raise CheckFailed(recognised("forgot-return", f"{what} returned None: did you forget to `return` the new space?"))
    if not isinstance(new, dict) or set(new) != set(space):
        raise CheckFailed(f"{what} should return a dict with the same names as `space` ({sorted(space)}), got "
                          f"{sorted(new) if isinstance(new, dict) else type_name(new)}")
    expected = _reference_narrow(results, space, top_k)
    mistakes = {
        recognised("hp-narrow-keeps-worst", f"the {top_k} LOWEST scores were kept: higher score is better (validation accuracy), so sort in "
        f"descending order (reverse=True)"): _reference_narrow(results, space, top_k, best_first=False),
        recognised("hp-narrow-top-k-ignored", "top_k was ignored: the bounds span all the results"): _reference_narrow(results, space, len(results)),
        recognised("hp-narrow-off-by-one", f"off by one: the {top_k + 1} best results were kept"): _reference_narrow(results, space, top_k + 1),
        recognised("hp-narrow-off-by-one", f"off by one: the {top_k - 1} best results were kept"): _reference_narrow(results, space, top_k - 1)
        if top_k > 1 else None,
    }
    hint = ""
    for description, candidate in mistakes.items():
        if candidate is not None and _bounds_match(new, candidate):
            hint = f"\n  Likely mistake: {description}"
            break
    for name, spec in expected.items():
        got = new[name]
        if type(got) not in (tuple, list) or not got or not isinstance(got[0], str) or got[0] != spec[0]:
            raise CheckFailed(f"{what}: the new space's {name!r} is {_show(got)}; expected a {spec[0]!r} entry like "
                              f"{spec!r:.200} (keep each dimension's kind){hint}")
        if spec[0] == "choice":
            if len(got) != 2 or type(got[1]) not in (list, tuple):
                raise CheckFailed(f"{what}: the new space's {name!r} should be ('choice', values), got {_show(got)}")
            values = list(got[1])
            if len(set(map(_canonical, values))) != len(values):
                raise CheckFailed(f"{what}: the choices kept for {name!r} repeat values: {values}; keep each once"
                                  f"{hint}")
            if sorted(map(_canonical, values)) != sorted(map(_canonical, spec[1])):
                raise CheckFailed(f"{what}: the choices kept for {name!r} are {values}, expected {spec[1]} (the "
                                  f"values used by the {top_k} best configurations){hint}")
        else:
            if len(got) != 3:
                raise CheckFailed(f"{what}: the new space's {name!r} should be ({spec[0]!r}, low, high), got {_show(got)}")
            try:
                bounds = (float(got[1]), float(got[2]))
            except (TypeError, ValueError):
                raise CheckFailed(f"{what}: the new bounds of {name!r} should be two numbers, got {_show(got)}") from None
            if not np.allclose(bounds, spec[1:], rtol=1e-12, atol=0.0):
                raise CheckFailed(f"{what}: the new ({spec[0]!r}, low, high) of {name!r} is {bounds}, expected "
                                  f"{spec[1:]} (the min and max of the {top_k} best configurations' values; "
                                  f"tolerance rtol=1e-12){hint}")
