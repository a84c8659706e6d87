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

Randomness is tested with statistics at a fixed significance level (``ALPHA``) on
fixed seeds, so a correct answer passes deterministically; reproducibility is
tested by calling twice with generators made from the same seed. Every check
builds its own inputs from its arguments, so hidden tests vary inputs, not logic.
"""
from __future__ import annotations

import copy
import itertools
import math

import numpy as np
from scipy import stats

from autograder.compare import CheckFailed, call_learner

# Significance level of every statistical test here. A correct sampler fails one
# test with probability ALPHA; the seeds used in the notebook are fixed and were
# verified with several correct implementations, so the outcome is deterministic.
ALPHA = 1e-3


# ---------------------------------------------------------------- helpers

def _index_array(value, what: str) -> np.ndarray:
    """The learner's indices as a 1-D integer array, or a CheckFailed saying why not."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to `return` it?")
    array = np.asarray(value)
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
    """Whether two lists of (config, score) hold the same configurations and scores."""
    if len(first) != len(second):
        return False
    for (config_a, score_a), (config_b, score_b) in zip(first, second):
        if config_a.keys() != config_b.keys() or float(score_a) != float(score_b):
            return False
        if any(not _equal_values(config_a[k], config_b[k]) for k in config_a):
            return False
    return True


def _equal_values(a, b) -> bool:
    try:
        return bool(np.all(a == b))
    except Exception:  # noqa: BLE001 -- incomparable values are different values
        return False


def _ks_pvalue(samples: np.ndarray, cdf) -> float:
    return float(stats.kstest(samples, cdf).pvalue)


# ---------------------------------------------------------------- train / validation / test split

def check_train_val_test_split(train_val_test_split, *, n: int = 100, val_fraction: float = 0.2,
                               test_fraction: float = 0.1, seed: int = 0) -> None:
    """The three index arrays partition ``range(n)``, have the documented sizes, are shuffled
    and come from the ``rng`` passed in.

    Sizes: ``n_val = round(n * val_fraction)``, ``n_test = round(n * test_fraction)``,
    ``n_train = n - n_val - n_test``. Shuffled: for ``n >= 20`` the indices of each part
    must not be one run of consecutive numbers, and a test against the uniform
    distribution of positions (Kolmogorov-Smirnov, level ``ALPHA``) must not reject.
    Reproducible: two generators made from ``seed`` give the same split; a generator
    made from another seed gives a different one.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    _check_no_tie(n, val_fraction)
    _check_no_tie(n, test_fraction)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    n_train = n - n_val - n_test
    call = f"train_val_test_split({n}, {val_fraction}, {test_fraction}, rng=np.random.default_rng({seed}))"
    result = call_learner(train_val_test_split, n, val_fraction, test_fraction, np.random.default_rng(seed))
    if type(result) not in (tuple, list) or len(result) != 3:
        raise CheckFailed(f"{call} should return a tuple (train_idx, val_idx, test_idx), "
                          f"but it returned {type(result).__name__}"
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
                hint = ("\n  Likely mistake: the parts were drawn independently (e.g. two calls of rng.choice), so "
                        "they can share indices; draw ONE permutation, rng.permutation(n), and cut it into three slices")
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
            hint = ("\n  Likely mistake: int() truncates n * fraction; the documented rule is round(n * fraction)")
        elif len(train) == round(n * (1 - val_fraction - test_fraction)) != n_train:
            hint = ("\n  Likely mistake: the training size was rounded on its own; it must take the rest, "
                    "n - n_val - n_test, so that the three parts cover range(n)")
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
        # (orderings of the blocks) / multinomial(n; sizes); flag it only when that is far below ALPHA.
        nonempty = [(name, part) for name, part in zip(names, parts) if len(part)]
        blocks = all(np.all(np.diff(np.sort(part)) == 1) for _, part in nonempty)
        log_chance = (math.lgamma(len(nonempty) + 1) - math.lgamma(n + 1)
                      + sum(math.lgamma(len(part) + 1) for _, part in nonempty))
        if len(nonempty) > 1 and blocks and log_chance < math.log(ALPHA / 100):
            ranges = ", ".join(f"{name} = {int(part.min())} .. {int(part.max())}" for name, part in nonempty)
            raise CheckFailed(
                f"{call}: each part is one block of consecutive indices ({ranges})."
                f"\n  Likely mistake: the indices were not shuffled (slices of np.arange(n)); data sets are often "
                f"sorted (by class, by time), so cut rng.permutation(n) instead")
        for name, part in zip(names, parts):
            if len(part) >= 20:
                p = _ks_pvalue((part + 0.5) / n, stats.uniform(0, 1).cdf)
                if p < ALPHA:
                    raise CheckFailed(
                        f"{call}: the positions in {name} are not spread over range({n}) as a random shuffle would "
                        f"spread them (Kolmogorov-Smirnov p = {p:.2g} < {ALPHA:g}); shuffle with rng.permutation(n)")

    # Reproducible and driven by the rng passed in.
    again = call_learner(train_val_test_split, n, val_fraction, test_fraction, np.random.default_rng(seed))
    again = [np.asarray(part) for part in again]
    if not all(np.array_equal(a, b) for a, b in zip(parts, again)):
        raise CheckFailed(f"{call} is not reproducible: two calls with generators made from the same seed returned "
                          f"different splits.\n  Likely mistake: the rng argument was ignored (np.random.permutation "
                          f"or a new default_rng() without a seed); draw every random number from `rng`")
    if n >= 10:
        other = call_learner(train_val_test_split, n, val_fraction, test_fraction, np.random.default_rng(seed + 1))
        other = [np.asarray(part) for part in other]
        if all(np.array_equal(a, b) for a, b in zip(parts, other)):
            raise CheckFailed(f"{call}: generators made from seeds {seed} and {seed + 1} gave the same split."
                              f"\n  Likely mistake: the rng argument was ignored (a fixed seed inside the "
                              f"function?); draw every random number from `rng`")


# ---------------------------------------------------------------- log-uniform sampling

def _log_uniform_mistakes(low: float, high: float):
    """(description, inverse transform g, a, b): the mistake's samples x have g(x) ~ U(a, b)."""
    ln, log10 = np.log, np.log10
    return [
        ("the samples are uniform on [low, high], not log-uniform: draw the EXPONENT uniformly, "
         "exp(rng.uniform(log(low), log(high), size))", lambda x: x, low, high),
        ("exp() was not applied: the samples are the uniform exponents log(low) .. log(high) themselves",
         lambda x: x, ln(low), ln(high)),
        ("the bases are mixed up: the exponent was drawn between natural logs ln(low) .. ln(high) "
         "but 10 was raised to it (use the same base for both)", log10, ln(low), ln(high)),
        ("the bases are mixed up: the exponent was drawn between log10(low) .. log10(high) "
         "but exp() was applied (use the same base for both)", ln, log10(low), log10(high)),
        ("the exponent was drawn on [log(low), high] instead of [log(low), log(high)]: take the log of both bounds",
         ln, ln(low), high),
        ("the exponent was drawn on [log10(low), high] instead of [log10(low), log10(high)]: take the log of both bounds",
         log10, log10(low), high),
        ("low and high were used as exponents: 10**uniform(low, high) samples between 10**low and 10**high; "
         "use log10(low) and log10(high) as the exponent's range", log10, low, high),
        ("low and high were used as exponents: exp(uniform(low, high)) samples between e**low and e**high; "
         "use log(low) and log(high) as the exponent's range", ln, low, high),
    ]


def _name_log_uniform_mistake(samples: np.ndarray, low: float, high: float) -> str:
    with np.errstate(all="ignore"):
        for description, g, a, b in _log_uniform_mistakes(low, high):
            if not a < b:
                continue
            transformed = g(samples)
            if not np.all(np.isfinite(transformed)):
                continue
            if _ks_pvalue(transformed, stats.uniform(a, b - a).cdf) >= ALPHA:
                return f"\n  Likely mistake: {description}"
    return ""


def check_sample_log_uniform(sample_log_uniform, *, low: float = 1e-4, high: float = 1.0, size=2000,
                             seed: int = 0) -> None:
    """``sample_log_uniform(low, high, size, rng)`` has shape ``size``, lies in [low, high] and
    passes a Kolmogorov-Smirnov test against ``scipy.stats.loguniform(low, high)`` at level
    ``ALPHA`` (with at least 1,000 samples a uniform sampler over a range of at least a
    factor 10 fails it with p far below 1e-10). Two generators made from ``seed`` must give
    the same samples.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")
    shape = (size,) if isinstance(size, int) else tuple(size)
    call = f"sample_log_uniform({low:g}, {high:g}, size={size!r}, rng=np.random.default_rng({seed}))"
    raw = call_learner(sample_log_uniform, low, high, size, np.random.default_rng(seed))
    if raw is None:
        raise CheckFailed(f"{call} returned None: did you forget to `return` the samples?")
    samples = np.asarray(raw)
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
    reference = stats.loguniform(low, high)
    p = _ks_pvalue(flat, reference.cdf)
    if p < ALPHA:
        median = float(np.median(flat))
        raise CheckFailed(
            f"{call}: the samples do not follow the log-uniform distribution on [{low:g}, {high:g}] "
            f"(Kolmogorov-Smirnov test against scipy.stats.loguniform: p = {p:.2g} < {ALPHA:g}). "
            f"Their median is {median:.4g}; a log-uniform sample's median is sqrt(low * high) = "
            f"{math.sqrt(low * high):.4g}{hint}")
    again = np.asarray(call_learner(sample_log_uniform, low, high, size, np.random.default_rng(seed)))
    if not np.array_equal(again, samples):
        raise CheckFailed(f"{call} is not reproducible: two generators made from the same seed gave different "
                          f"samples.\n  Likely mistake: the rng argument was ignored (np.random.uniform or a new "
                          f"default_rng()); draw the samples with `rng`")


# ---------------------------------------------------------------- random search

DEFAULT_SPACE = {
    "lr": ("log", 1e-4, 1.0),
    "dropout": ("uniform", 0.0, 0.5),
    "activation": ("choice", ["relu", "tanh", "sigmoid"]),
}


class _RecordingObjective:
    """A deterministic objective that records the configurations it is called with."""

    def __init__(self, space_or_grid: dict, seed: int):
        rng = np.random.default_rng(seed)
        self.names = list(space_or_grid)
        self.weights = {name: float(w) for name, w in zip(self.names, rng.uniform(0.5, 2.0, len(self.names)))}
        self.calls: list[dict] = []

    def value(self, config: dict) -> float:
        total = 0.0
        for name in self.names:
            value = config[name]
            if isinstance(value, (str, np.str_)):
                number = sum(ord(c) for c in str(value)) / 100.0
            else:
                number = float(value)
            total += self.weights[name] * math.log1p(abs(number)) * (1 if number >= 0 else -1)
        return round(total, 12)

    def __call__(self, config):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if not isinstance(config, dict):
            raise CheckFailed(f"the objective must be called with one configuration, a dict mapping each name to "
                              f"a value, but it was called with a {type(config).__name__}: {config!r:.200}")
        if set(config) != set(self.names):
            raise CheckFailed(f"the objective was called with a configuration whose names are {sorted(config)}; "
                              f"expected exactly {sorted(self.names)}")
        self.calls.append(dict(config))
        return self.value(config)


def _results_list(results, what: str, n_expected: int | None = None) -> list:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if results is None:
        raise CheckFailed(f"{what} returned None: did you forget to `return` the list of (config, score)?")
    if not isinstance(results, list):
        raise CheckFailed(f"{what} should return a list of (config, score) pairs, but it returned "
                          f"a {type(results).__name__}")
    for i, item in enumerate(results):
        if type(item) not in (tuple, list) or len(item) != 2 or not isinstance(item[0], dict):
            raise CheckFailed(f"{what}: entry {i} of the result is {item!r:.200}; each entry must be a pair "
                              f"(config, score) with config a dict")
        if np.ndim(item[1]) != 0:
            raise CheckFailed(f"{what}: the score of entry {i} is not a single number: {item[1]!r:.200}")
    if n_expected is not None and len(results) != n_expected:
        raise CheckFailed(f"{what} returned {len(results)} results, expected {n_expected}")
    ids = {id(config) for config, _ in results}
    if len(results) > 1 and len(ids) == 1:
        raise CheckFailed(f"{what}: every result holds the SAME dict object, so they all show the last "
                          f"configuration.\n  Likely mistake: one dict was updated in the loop; make a new dict "
                          f"for every configuration")
    return results


def _check_scores(results, objective: _RecordingObjective, what: str, n_expected: int) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if len(objective.calls) != n_expected:
        raise CheckFailed(f"{what} called the objective {len(objective.calls)} times; expected once per "
                          f"configuration, {n_expected} times (training a network is expensive)")
    for i, (config, score) in enumerate(results):
        expected = objective.value(config)
        if not np.isclose(float(score), expected, rtol=1e-9, atol=1e-12):
            raise CheckFailed(f"{what}: entry {i} pairs config {config} with score {float(score):.6g}, but the "
                              f"objective gives {expected:.6g} for that config; store objective(config) with the "
                              f"config it was computed for")


def check_random_search(random_search, *, space: dict | None = None, n_trials: int = 300, seed: int = 0) -> None:
    """``random_search(objective, space, n_trials, rng)`` evaluates ``n_trials`` configurations
    sampled independently from ``space`` and returns ``[(config, objective(config)), ...]``.

    Each "log" dimension must pass a Kolmogorov-Smirnov test against
    ``scipy.stats.loguniform(low, high)``, each "uniform" one against
    ``scipy.stats.uniform(low, high - low)``, and each "choice" one a chi-square test of
    equal frequencies (all at level ``ALPHA``; with ``n_trials`` >= 200 and the seeds used
    here, a correct answer passes). Every choice must occur. Two generators made from
    ``seed`` must give the same results and another seed different ones.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    space = copy.deepcopy(DEFAULT_SPACE if space is None else space)
    given_space = copy.deepcopy(space)
    objective = _RecordingObjective(space, seed)
    what = f"random_search(objective, space, n_trials={n_trials}, rng=np.random.default_rng({seed})) with space = {space}"
    results = call_learner(random_search, objective, given_space, n_trials, np.random.default_rng(seed))
    results = _results_list(results, what, n_trials)
    if given_space != space:
        raise CheckFailed(f"{what} changed the `space` dict it was given; leave the caller's space as it is")
    _check_scores(results, objective, what, n_trials)

    for name, spec in space.items():
        kind = spec[0]
        values = [config.get(name, None) for config, _ in results]
        if any(name not in config for config, _ in results):
            raise CheckFailed(f"{what}: some configurations have no value for {name!r}")
        if kind in ("log", "uniform"):
            low, high = spec[1], spec[2]
            if any(np.ndim(v) != 0 or isinstance(v, (str, np.str_)) for v in values):
                bad = next(v for v in values if np.ndim(v) != 0 or isinstance(v, (str, np.str_)))
                raise CheckFailed(f"{what}: config[{name!r}] should be a single number, got {bad!r:.100}"
                                  + (" (use float(...) or size=None to get a scalar)" if np.ndim(bad) else ""))
            x = np.asarray(values, dtype=np.float64)
            if x.min() < low - 1e-12 * abs(high) or x.max() > high * (1 + 1e-12) + 1e-15:
                raise CheckFailed(f"{what}: values of {name!r} must lie in [{low:g}, {high:g}] ({kind!r}), but they "
                                  f"range from {x.min():.4g} to {x.max():.4g}"
                                  + (_name_log_uniform_mistake(x, low, high) if kind == "log" else ""))
            reference = stats.loguniform(low, high) if kind == "log" else stats.uniform(low, high - low)
            p = _ks_pvalue(x, reference.cdf)
            if p < ALPHA:
                if kind == "log":
                    hint = _name_log_uniform_mistake(x, low, high)
                else:
                    hint = ""
                    if low > 0 and _ks_pvalue(x, stats.loguniform(low, high).cdf) >= ALPHA:
                        hint = "\n  Likely mistake: a 'uniform' dimension was sampled on a log scale"
                raise CheckFailed(f"{what}: the values of {name!r} do not follow the {kind} distribution on "
                                  f"[{low:g}, {high:g}] (Kolmogorov-Smirnov p = {p:.2g} < {ALPHA:g}){hint}")
        elif kind == "choice":
            options = list(spec[1])
            positions = []
            for v in values:
                matches = [i for i, option in enumerate(options) if _equal_values(v, option)]
                if not matches:
                    hint = ""
                    if isinstance(v, (int, np.integer)) and 0 <= int(v) < len(options) and v not in options:
                        hint = ("\n  Likely mistake: the INDEX of the choice was stored; store the value itself, "
                                "values[rng.integers(len(values))]")
                    raise CheckFailed(f"{what}: config[{name!r}] = {v!r} is not one of the choices {options}{hint}")
                positions.append(matches[0])
            counts = np.bincount(positions, minlength=len(options))
            never = [options[i] for i in np.flatnonzero(counts == 0)]
            if never:
                hint = ""
                if never == [options[-1]]:
                    hint = ("\n  Likely mistake: the last choice is never drawn: rng.integers(low, high) excludes "
                            "`high`, so use rng.integers(len(values)), or rng.choice(values)")
                elif never == [options[0]]:
                    hint = "\n  Likely mistake: the first choice is never drawn (an index that starts at 1?)"
                raise CheckFailed(f"{what}: in {n_trials} trials, {name!r} never took the value(s) {never} "
                                  f"(counts {dict(zip(map(str, options), counts.tolist()))}); every choice must be "
                                  f"equally likely{hint}")
            if len(options) > 1:
                p = float(stats.chisquare(counts).pvalue)
                if p < ALPHA:
                    raise CheckFailed(f"{what}: the choices of {name!r} are not equally likely: counts "
                                      f"{dict(zip(map(str, options), counts.tolist()))} (chi-square p = {p:.2g} "
                                      f"< {ALPHA:g})")
        else:
            raise ValueError(f"unknown kind {kind!r} in the check's space")

    again = call_learner(random_search, _RecordingObjective(space, seed), copy.deepcopy(space), n_trials,
                         np.random.default_rng(seed))
    if not isinstance(again, list) or not _same_results(results, again):
        raise CheckFailed(f"{what} is not reproducible: two generators made from the same seed gave different "
                          f"configurations.\n  Likely mistake: the rng argument was ignored (np.random.* or a new "
                          f"default_rng()); draw every random number from `rng`")
    # Only a space with something random in it can tell two seeds apart.
    random_dimensions = [spec for spec in space.values()
                         if (spec[0] == "choice" and len(spec[1]) > 1) or (spec[0] != "choice" and spec[1] != spec[2])]
    other = call_learner(random_search, _RecordingObjective(space, seed), copy.deepcopy(space), n_trials,
                         np.random.default_rng(seed + 1)) if random_dimensions else None
    if isinstance(other, list) and _same_results(results, other):
        raise CheckFailed(f"{what}: generators made from seeds {seed} and {seed + 1} gave the same configurations."
                          f"\n  Likely mistake: the rng argument was ignored (a fixed seed inside the function?); "
                          f"draw every random number from `rng`")


# ---------------------------------------------------------------- grid search

DEFAULT_GRID = {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4], "activation": ["relu", "tanh"]}


def _config_key(config: dict, names) -> tuple:
    return tuple(repr(config.get(name)) for name in names)


def check_grid_search(grid_search, *, grid: dict | None = None, seed: int = 0) -> None:
    """``grid_search(objective, grid)`` evaluates every combination of the grid's values once,
    in ``itertools.product`` order over the names in the grid's order (the last name varies
    fastest, like nested for loops), and returns ``[(config, objective(config)), ...]``.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    grid = copy.deepcopy(DEFAULT_GRID if grid is None else grid)
    names = list(grid)
    objective = _RecordingObjective(grid, seed)
    given = copy.deepcopy(grid)
    what = f"grid_search(objective, grid) with grid = {grid}"
    expected = [dict(zip(names, values)) for values in itertools.product(*grid.values())]
    results = call_learner(grid_search, objective, given)
    results = _results_list(results, what)
    if given != grid:
        raise CheckFailed(f"{what} changed the `grid` dict it was given; leave the caller's grid as it is")
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
            hint = ("\n  Likely mistake: zip() pairs the i-th values of every name; itertools.product(*grid.values()) "
                    "gives every combination")
        elif len(results) == sum(sizes):
            hint = ("\n  Likely mistake: each name was varied on its own (one loop per name); "
                    "itertools.product(*grid.values()) gives every combination")
        raise CheckFailed(f"{what}: {len(missing)} of the {len(expected)} combinations are missing "
                          f"(e.g. {missing[0]}); got {len(results)} results{hint}")
    if len(results) != len(expected) or len(set(got_keys)) != len(got_keys):
        raise CheckFailed(f"{what} returned {len(results)} results for {len(expected)} combinations: "
                          f"some combinations were evaluated more than once; evaluate each exactly once")
    _check_scores(results, objective, what, len(expected))
    if got_keys != want_keys:
        first = next(i for i, (a, b) in enumerate(zip(got_keys, want_keys)) if a != b)
        raise CheckFailed(f"{what}: every combination is there, but in another order: result {first} is "
                          f"{results[first][0]}, expected {expected[first]}. The documented order is "
                          f"itertools.product over the names in the grid's order, the last name varying fastest")


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
            if sorted(map(repr, g[1])) != sorted(map(repr, spec[1])):
                return False
        elif not (np.isclose(float(g[1]), spec[1], rtol=1e-12) and np.isclose(float(g[2]), spec[2], rtol=1e-12)):
            return False
    return True


def check_narrow_space(narrow_space, *, space: dict | None = None, n_results: int = 30, top_k: int = 5,
                       seed: int = 0) -> None:
    """``narrow_space(results, space, top_k)`` keeps the ``top_k`` results with the HIGHEST
    scores and returns a space of the same names and kinds: numeric bounds are the min and
    max of those configurations' values (compared within rtol=1e-12), a choice keeps the
    values they used (any order, no repeats). The inputs must not be changed.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    space = copy.deepcopy(DEFAULT_NARROW_SPACE if space is None else space)
    results = _make_results(space, n_results, seed)
    given_results, given_space = copy.deepcopy(results), copy.deepcopy(space)
    what = f"narrow_space(results, space, top_k={top_k}) for {n_results} results (seed {seed}) and space = {space}"
    new = call_learner(narrow_space, given_results, given_space, top_k)
    if given_results != results:
        raise CheckFailed(f"{what} changed the `results` list it was given (sorted it in place?); "
                          f"use sorted(results, ...) to leave the caller's list as it is")
    if given_space != space:
        raise CheckFailed(f"{what} changed the `space` dict it was given; build and return a new dict")
    if new is None:
        raise CheckFailed(f"{what} returned None: did you forget to `return` the new space?")
    if not isinstance(new, dict) or set(new) != set(space):
        raise CheckFailed(f"{what} should return a dict with the same names as `space` ({sorted(space)}), got "
                          f"{sorted(new) if isinstance(new, dict) else type(new).__name__}")
    expected = _reference_narrow(results, space, top_k)
    mistakes = {
        f"the {top_k} LOWEST scores were kept: higher score is better (validation accuracy), so sort in "
        f"descending order (reverse=True)": _reference_narrow(results, space, top_k, best_first=False),
        "top_k was ignored: the bounds span all the results": _reference_narrow(results, space, len(results)),
        f"off by one: the {top_k + 1} best results were kept": _reference_narrow(results, space, top_k + 1),
        f"off by one: the {top_k - 1} best results were kept": _reference_narrow(results, space, top_k - 1)
        if top_k > 1 else None,
    }
    hint = ""
    for description, candidate in mistakes.items():
        if candidate is not None and _bounds_match(new, candidate):
            hint = f"\n  Likely mistake: {description}"
            break
    for name, spec in expected.items():
        got = new[name]
        if type(got) not in (tuple, list) or not got or got[0] != spec[0]:
            raise CheckFailed(f"{what}: the new space's {name!r} is {got!r:.200}; expected a {spec[0]!r} entry like "
                              f"{spec!r:.200} (keep each dimension's kind){hint}")
        if spec[0] == "choice":
            if len(got) != 2 or type(got[1]) not in (list, tuple):
                raise CheckFailed(f"{what}: the new space's {name!r} should be ('choice', values), got {got!r:.200}")
            values = list(got[1])
            if len(set(map(repr, values))) != len(values):
                raise CheckFailed(f"{what}: the choices kept for {name!r} repeat values: {values}; keep each once"
                                  f"{hint}")
            if sorted(map(repr, values)) != sorted(map(repr, spec[1])):
                raise CheckFailed(f"{what}: the choices kept for {name!r} are {values}, expected {spec[1]} (the "
                                  f"values used by the {top_k} best configurations){hint}")
        else:
            if len(got) != 3:
                raise CheckFailed(f"{what}: the new space's {name!r} should be ({spec[0]!r}, low, high), got {got!r:.200}")
            try:
                bounds = (float(got[1]), float(got[2]))
            except (TypeError, ValueError):
                raise CheckFailed(f"{what}: the new bounds of {name!r} should be two numbers, got {got!r:.200}") from None
            if not np.allclose(bounds, spec[1:], rtol=1e-12, atol=0.0):
                raise CheckFailed(f"{what}: the new ({spec[0]!r}, low, high) of {name!r} is {bounds}, expected "
                                  f"{spec[1:]} (the min and max of the {top_k} best configurations' values; "
                                  f"tolerance rtol=1e-12){hint}")
