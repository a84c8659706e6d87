"""Checks for chapter 7, hyperparameter search (exercise ``07_hyperparameter_search``).

The learner writes, in NumPy, what the chapter's page does not show:

- ``train_val_test_split(n, val_fraction, test_fraction, rng) -> (train_idx, val_idx, test_idx)``:
  a shuffled partition of ``range(n)`` with ``round(n * val_fraction)`` validation and
  ``round(n * test_fraction)`` test indices, the rest for training;
- ``sample_config(space, rng) -> dict``: one configuration from a search space whose entries
  are ``("uniform", low, high)``, ``("log", low, high)``, ``("int", low, high)`` (integers,
  both ends included), ``("int_log", low, high)`` (the integer part of a log-uniform sample on
  ``[low, high + 1)``), ``("choice", values)`` and conditional ``("if", parent, value, spec)``
  (present only when ``config[parent] == value``), compared with ``scipy.stats.uniform``,
  ``loguniform`` and ``randint`` by statistical tests;
- ``grid_search(objective, grid) -> [(config, score), ...]``: every combination once,
  in ``itertools.product`` order over the grid's names (the last name varies fastest);
- ``successive_halving(objective, configs, min_resource, max_resource, factor)``: a budgeted
  search whose rungs (resources and candidates) must equal those of scikit-learn's
  ``HalvingGridSearchCV`` on the same scores.

Each check is a probe (calls the learner's functions, records what they returned and, for
the searches, the configurations the course's objective was called with) and a verdict
(decides from that record); see ``autograder/probe.py``. SciPy and scikit-learn are imported
by the verdicts only: the grading sandbox of this chapter holds NumPy alone.

Randomness is tested with statistics whose false-failure chance is bounded for ANY seed:
a correct answer fails one call of a check with probability at most ``ALPHA`` (each check
shares ``ALPHA`` among its statistical tests, Bonferroni, and skips a test that a correct
answer could fail by chance more often than its share). Reproducibility is tested by
calling twice with generators made from the same seed. Every check builds its own inputs
from its arguments, so hidden tests vary inputs, not logic.
"""
from __future__ import annotations

from autograder.i18n import _

import copy
import itertools
import math

import numpy as np

from autograder.forbidden import verdict_only
from autograder.compare import CheckFailed, call_learner
from autograder.probe import ObjectData, capture, check, type_name
from autograder.mistakes import mistakes_in, recognised

# The chance that a correct answer fails one call of a check, whatever the seed. Each check
# divides it among its statistical tests: split 5 (one-block test, three Kolmogorov-Smirnov
# tests, other seed); sample_config one per continuous name, two per discrete name (its
# distribution, a value never drawn) and one for the other seed.
ALPHA = 1e-6
# The level at which a WRONG answer's samples are matched to a known mistake, to name it in
# the message. It never decides whether an answer passes.
HINT_ALPHA = 1e-3
SPLIT_TESTS = 5

# ---------------------------------------------------------------- helpers

def _show(value, limit: int = 200) -> str:
    text = _("<{value_type_name} object>").format(value_type_name=value.type_name) if isinstance(value, ObjectData) else repr(value)
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
        raise CheckFailed(recognised("forgot-return", _("{what} is None: did you forget to `return` it?").format(what=what)))
    if isinstance(value, ObjectData):
        raise CheckFailed(_("{what} should be a 1-D array of indices, but it is a {value_type_name}").format(what=what, value_type_name=value.type_name))
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise CheckFailed(_("{what} should be a 1-D array of indices, but it is {show_value_100}").format(what=what, show_value_100=_show(value, 100))) from None
    if array.ndim != 1:
        raise CheckFailed(_("{what} should be a 1-D array of indices, but it has shape {array_shape}").format(what=what, array_shape=array.shape))
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise CheckFailed(_("{what} has dtype {array_dtype}; indices must be integers (e.g. from rng.permutation(n))").format(what=what, array_dtype=array.dtype))
    return array.astype(np.int64)




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
    # Python's round() (the documented rule) rounds an exact half to the even integer: 26 * 0.25 = 6.5 gives 6.
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    sizes = (n - n_val - n_test, n_val, n_test)
    share = ALPHA / SPLIT_TESTS
    # Two correct splits from independent generators coincide with probability 1 / (ways to split):
    # compare with another seed only when that is below this test's share.
    other_seed = min(sizes) >= 0 and _log_splits(n, sizes) > -math.log(share)
    return {"n": n, "val_fraction": val_fraction, "test_fraction": test_fraction, "seed": seed,
            "sizes": sizes, "share": share, "other_seed": other_seed,
            "call": _("train_val_test_split({n}, {val_fraction}, {test_fraction}, rng=np.random.default_rng({seed}))").format(n=n, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed)}


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


def _require_rng_used(what: str, same_seed_agrees: bool, next_seed_agrees: bool, seed: int,
                      results: tuple[str, str], global_call: str) -> None:
    """Random results come from the ``rng`` passed in: the same seed gives the same results, ``seed + 1``
    other ones. ``results``: what they are (singular, plural). The caller asks for the second only where
    two honest draws coincide with negligible chance."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if not same_seed_agrees:
        raise CheckFailed(recognised("hp-rng-ignored", (
            _("{what} is not reproducible: two generators made from the same seed gave different {results_1}."
            "\n  Likely mistake: the rng argument was ignored ({global_call} or a new default_rng() without a "
            "seed); draw every random number from `rng`").format(what=what, results_1=results[1], global_call=global_call))))
    if next_seed_agrees:
        raise CheckFailed(recognised("hp-rng-ignored", (
            _("{what}: generators made from seeds {seed} and {seed_1} gave the same {results_0}."
            "\n  Likely mistake: the rng argument was ignored (a fixed seed inside the function?); draw every "
            "random number from `rng`").format(what=what, seed=seed, seed_1=seed + 1, results_0=results[0]))))


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
        raise CheckFailed(_("{call} should return a tuple (train_idx, val_idx, test_idx), "
                          "but it returned {type_name_result}").format(call=call, type_name_result=type_name(result))
                          + (_(" of length {len_result}").format(len_result=len(result)) if type(result) in (tuple, list) else ""))
    names = ("train_idx", "val_idx", "test_idx")
    parts = [_index_array(part, _("{name} from {call}").format(name=name, call=call)) for name, part in zip(names, result)]
    train, val, test = parts

    # Drawn without replacement (before disjointness: a split drawn with replacement also overlaps).
    for name, part in zip(names, parts):
        values, counts = np.unique(part, return_counts=True)
        if (counts > 1).any():
            raise CheckFailed(_("{call}: {name} holds index {values_counts_1_0} more than once; "
                              "each index belongs to exactly one part, once\n  Likely mistake: ").format(call=call, name=name, values_counts_1_0=int(values[counts > 1][0]))
                              + recognised("hp-split-with-replacement", _("the indices were drawn WITH replacement "
                                           "(rng.choice(n, size) or rng.integers): cut one permutation, "
                                           "rng.permutation(n), into three slices")))

    # Disjoint.
    for (name_a, a), (name_b, b) in itertools.combinations(zip(names, parts), 2):
        shared = np.intersect1d(a, b)
        if shared.size:
            hint = ""
            if {name_a, name_b} == {"val_idx", "test_idx"} or "train_idx" in (name_a, name_b):
                hint = (recognised("hp-split-independent-draws", _("\n  Likely mistake: the parts were drawn independently (e.g. two calls of rng.choice), so "
                        "they can share indices; draw ONE permutation, rng.permutation(n), and cut it into three slices")))
            raise CheckFailed(_("{call}: {name_a} and {name_b} share {shared_size} indices "
                              "(e.g. {shared_5_tolist}); the three parts must be disjoint{hint}").format(call=call, name_a=name_a, name_b=name_b, shared_size=shared.size, shared_5_tolist=shared[:5].tolist(), hint=hint))
    for name, part in zip(names, parts):
        values, counts = np.unique(part, return_counts=True)
        if (counts > 1).any():
            raise CheckFailed(_("{call}: {name} holds index {values_counts_1_0} more than once; "
                              "each index belongs to exactly one part, once").format(call=call, name=name, values_counts_1_0=int(values[counts > 1][0])))

    # Sizes.
    got = (len(train), len(val), len(test))
    want = (n_train, n_val, n_test)
    if got != want:
        hint = ""
        half_up = (math.floor(n * val_fraction + 0.5), math.floor(n * test_fraction + 0.5))
        if (len(val), len(test)) == (int(n * val_fraction), int(n * test_fraction)) != (n_val, n_test):
            hint = (recognised("hp-split-truncates", _("\n  Likely mistake: int() truncates n * fraction; the documented rule is round(n * fraction)")))
        elif (len(val), len(test)) == (math.ceil(n * val_fraction), math.ceil(n * test_fraction)) != (n_val, n_test) \
                and (len(val), len(test)) != half_up:
            hint = _("\n  Likely mistake: ") + recognised("hp-split-rounds-up", _("math.ceil rounds n * fraction up; the "
                                                        "documented rule is round(n * fraction)"))
        elif (len(val), len(test)) == half_up != (n_val, n_test) \
                and half_up != (math.ceil(n * val_fraction), math.ceil(n * test_fraction)):
            hint = _("\n  Likely mistake: ") + recognised("hp-split-rounds-half-up", _(
                "a size of exactly .5 was rounded up (int(x + 0.5) or math.floor(x + 0.5)): the documented rule is "
                "Python's round(n * fraction), which rounds an exact half to the even integer (round(6.5) == 6)"))
        elif got == (n_train, n_test, n_val):
            hint = _("\n  Likely mistake: ") + recognised("hp-split-parts-swapped", _("the validation and test parts are "
                                                        "swapped: return (train_idx, val_idx, test_idx) in this order, "
                                                        "with round(n * val_fraction) validation indices"))
        elif len(train) == round(n * (1 - val_fraction - test_fraction)) != n_train:
            hint = (recognised("hp-split-train-rounded", _("\n  Likely mistake: the training size was rounded on its own; it must take the rest, "
                    "n - n_val - n_test, so that the three parts cover range(n)")))
        raise CheckFailed(_("{call} returned parts of sizes (train, val, test) = {got}, expected {want}: "
                          "n_val = round(n * val_fraction), n_test = round(n * test_fraction), "
                          "and the training part gets the rest{hint}").format(call=call, got=got, want=want, hint=hint))

    # Covering.
    everything = np.concatenate(parts)
    if everything.size and (everything.min() < 0 or everything.max() >= n):
        raise CheckFailed(_("{call}: indices must lie in 0 .. {n_1}, got values from "
                          "{everything_min} to {everything_max}").format(call=call, n_1=n - 1, everything_min=int(everything.min()), everything_max=int(everything.max())))
    missing = np.setdiff1d(np.arange(n), everything)
    if missing.size:
        raise CheckFailed(_("{call}: {missing_size} indices of range({n}) are in no part (e.g. {missing_5_tolist}); "
                          "together the parts must cover every example exactly once").format(call=call, missing_size=missing.size, n=n, missing_5_tolist=missing[:5].tolist()))

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
                recognised("hp-split-not-shuffled", _("{call}: each part is one block of consecutive indices ({ranges})."
                "\n  Likely mistake: the indices were not shuffled (slices of np.arange(n)); data sets are often "
                "sorted (by class, by time), so cut rng.permutation(n) instead").format(call=call, ranges=ranges)))
        for name, part in zip(names, parts):
            if len(part) >= 20:
                p = _ks_pvalue((part + 0.5) / n, _uniform_cdf(0.0, 1.0))
                if p < share:
                    raise CheckFailed(
                        _("{call}: the positions in {name} are not spread over range({n}) as a random shuffle would "
                        "spread them (Kolmogorov-Smirnov p = {p:.2g} < {share:g}); shuffle with rng.permutation(n)").format(call=call, name=name, n=n, p=p, share=share))

    # Reproducible and driven by the rng passed in.
    _require_rng_used(call, _same_split(parts, record["again"]),
                      inputs["other_seed"] and _same_split(parts, record["other"]), seed, ("split", "splits"),
                      "np.random.permutation")


# ---------------------------------------------------------------- known mistakes of log-scale samplers (for hints)

def _log_uniform_mistakes(low: float, high: float):
    """(description, inverse transform g, a, b): the mistake's samples x have g(x) ~ U(a, b)."""
    ln, log10 = np.log, np.log10
    return [
        (recognised("hp-log-uniform-is-uniform", _("the samples are uniform on [low, high], not log-uniform: draw the EXPONENT uniformly, "
         "exp(rng.uniform(log(low), log(high), size))")), lambda x: x, low, high),
        (recognised("hp-log-uniform-no-exp", _("exp() was not applied: the samples are the uniform exponents log(low) .. log(high) themselves")),
         lambda x: x, ln(low), ln(high)),
        (recognised("hp-log-uniform-mixed-bases", _("the bases are mixed up: the exponent was drawn between natural logs ln(low) .. ln(high) "
         "but 10 was raised to it (use the same base for both)")), log10, ln(low), ln(high)),
        (recognised("hp-log-uniform-mixed-bases", _("the bases are mixed up: the exponent was drawn between log10(low) .. log10(high) "
         "but exp() was applied (use the same base for both)")), ln, log10(low), log10(high)),
        (recognised("hp-log-uniform-high-not-logged", _("the exponent was drawn on [log(low), high] instead of [log(low), log(high)]: take the log of both bounds")),
         ln, ln(low), high),
        (recognised("hp-log-uniform-high-not-logged", _("the exponent was drawn on [log10(low), high] instead of [log10(low), log10(high)]: take the log of both bounds")),
         log10, log10(low), high),
        (recognised("hp-log-uniform-bounds-as-exponents", _("low and high were used as exponents: 10**uniform(low, high) samples between 10**low and 10**high; "
         "use log10(low) and log10(high) as the exponent's range")), log10, low, high),
        (recognised("hp-log-uniform-bounds-as-exponents", _("low and high were used as exponents: exp(uniform(low, high)) samples between e**low and e**high; "
         "use log(low) and log(high) as the exponent's range")), ln, low, high),
    ]


def _name_log_uniform_mistake(samples: np.ndarray, low: float, high: float) -> str:
    """The known mistake whose distribution the samples follow (a test at HINT_ALPHA), for the message."""
    fits = []
    with np.errstate(all="ignore"):
        for description, g, a, b in _log_uniform_mistakes(low, high):
            if not a < b:
                continue
            transformed = g(samples)
            if not np.all(np.isfinite(transformed)):
                continue
            if _ks_pvalue(transformed, _uniform_cdf(a, b)) >= HINT_ALPHA:
                fits.append(description)
    return _("\n  Likely mistake: {fits_0}").format(fits_0=fits[0]) if len(fits) == 1 else ""


# ---------------------------------------------------------------- sampling a configuration from a search space

DEFAULT_CONFIG_SPACE = {
    "optimizer": ("choice", ["sgd", "adam"]),
    "lr": ("log", 1e-4, 1.0),
    "momentum": ("if", "optimizer", "sgd", ("uniform", 0.5, 0.99)),
    "width": ("int_log", 4, 32),
    "layers": ("int", 1, 4),
    "dropout": ("uniform", 0.0, 0.5),
}
KINDS = ("uniform", "log", "int", "int_log", "choice")
REPEAT_DRAWS = 200


def _inner(spec):
    """(condition or None, the sampling spec): ("if", parent, value, spec) -> ((parent, value), spec)."""
    if spec[0] == "if":
        return (spec[1], spec[2]), spec[3]
    return None, spec


def _integer_pmf(kind: str, low: int, high: int) -> np.ndarray:
    """P(value = k) for k = low .. high, in NumPy (the inputs run where SciPy is absent)."""
    k = np.arange(low, high + 1, dtype=np.float64)
    if kind == "int":
        return np.full(k.size, 1.0 / k.size)
    return np.log((k + 1) / k) / np.log((high + 1) / low)


def _fresh(value):
    """``value`` with every string of two or more characters a NEW object (containers rebuilt).

    So that every path gives the learner's code the same objects: under plain nbgrader the strings of a grade
    cell's space are shared constants (a choice and a condition's value can be one object), under the class
    command they arrive decoded. With every string a fresh object, a condition tested with ``is`` instead of
    ``==`` fails the same way on every path. (One-character strings and small integers are shared by Python
    itself, whatever the path.)
    """
    if isinstance(value, str) and len(value) >= 2:
        return "".join(list(value))
    if isinstance(value, dict):
        return {_fresh(key): _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, tuple):
        return tuple(_fresh(item) for item in value)
    return value


def _config_space_inputs(*, space: dict | None = None, n_draws: int = 2000, seed: int = 0) -> dict:
    space = copy.deepcopy(DEFAULT_CONFIG_SPACE if space is None else space)
    collision = 0.0   # log P(two correct draws give the same configuration), unconditional discrete names only
    continuous = False
    tests = 0
    for position, (name, spec) in enumerate(space.items()):
        condition, inner = _inner(spec)
        if condition is not None and condition[0] not in list(space)[:position]:
            raise ValueError(f"the condition of {name!r} names {condition[0]!r}, which must come earlier in the space")
        if inner[0] not in KINDS:
            raise ValueError(f"unknown kind {inner[0]!r} in the check's space")
        if inner[0] in ("uniform", "log"):
            if not inner[1] < inner[2] or (inner[0] == "log" and inner[1] <= 0):
                raise ValueError(f"bad range for {name!r}")
            continuous |= condition is None
            tests += 2   # the distribution, and consecutive draws independent (_check_consecutive_draws)
        else:
            if inner[0] == "choice":
                pmf = np.full(len(inner[1]), 1.0 / len(inner[1]))
            else:
                low, high = inner[1], inner[2]
                if type(low) is not int or type(high) is not int or low > high or (inner[0] == "int_log" and low < 1):
                    raise ValueError(f"bad integer range for {name!r}: need integers low <= high (low >= 1 for int_log)")
                pmf = _integer_pmf(inner[0], inner[1], inner[2])
            if condition is None:
                collision += math.log(float(np.sum(pmf ** 2)))
            tests += 2 if pmf.size > 1 else 0   # the distribution, and "a value never drawn"
    log_same = -math.inf if continuous else min(n_draws, REPEAT_DRAWS) * collision
    share = ALPHA / (tests + 1)
    return {"space": space, "n_draws": n_draws, "seed": seed, "share": share,
            "other_seed": log_same < math.log(share),
            "all_same_impossible": continuous or (n_draws - 1) * collision < math.log(share),
            "what": _("sample_config(space, rng) called {n_draws} times with one rng = np.random.default_rng({seed}), "
                    "space = {space}").format(n_draws=n_draws, seed=seed, space=space)}


def _config_space_probe(record, sample_config, inputs) -> None:
    space, n, seed = inputs["space"], inputs["n_draws"], inputs["seed"]
    given = _fresh(space)
    rng = np.random.default_rng(seed)
    returned = [call_learner(sample_config, given, rng) for _ in range(n)]
    record["one_dict"] = n > 1 and all(isinstance(c, dict) for c in returned) and len({id(c) for c in returned}) == 1
    record["configs"] = [_plain(config) for config in returned]
    record["space_after"] = given
    # Reproducibility is judged on the first REPEAT_DRAWS draws.
    for key, other_seed in (("again", seed), ("other", seed + 1)):
        if key == "other" and not inputs["other_seed"]:
            continue
        given, rng = _fresh(space), np.random.default_rng(other_seed)
        record[key] = [_plain(call_learner(sample_config, given, rng)) for _ in range(min(n, REPEAT_DRAWS))]
    record["identity"] = _identity_control(sample_config, seed)


def _identity_control(sample_config, seed: int):
    """Whether a condition holds for the learner's code when its value is the SAME object as the parent's value,
    and when it is an equal but other object: [[present?] * 3 (same object), [present?] * 3 (equal object)].
    ``==`` gives all True; ``is`` gives True, then False. None if the code failed on these spaces."""
    value = _fresh("sgd")
    spaces = [{"optimizer": ("choice", [value]), "momentum": ("if", "optimizer", value, ("uniform", 0.0, 1.0))},
              {"optimizer": ("choice", [value]), "momentum": ("if", "optimizer", _fresh(value), ("uniform", 0.0, 1.0))}]
    try:
        found = []
        for space in spaces:
            rng = np.random.default_rng(seed + 2)
            found.append([isinstance(c, dict) and "momentum" in c
                          for c in (call_learner(sample_config, space, rng) for _ in range(3))])
        return found
    except Exception:  # noqa: BLE001 -- the main draws already tell what fails
        return None


def _check_consecutive_draws(configs: list, name: str, median: float, share: float, what: str) -> None:
    """Draws 0 and 1, 2 and 3, ... of a continuous name are independent: each pair falls on one side of the
    distribution's median with probability exactly 1/2, so the pairs that do are Binomial(pairs, 1/2) (two-sided
    interval of confidence 1 - share). A sampler whose draws depend on the one before passes every test of each
    name's distribution: a mirrored second draw (low + high - v, antithetic pairs: attack 6) never falls on the
    same side, a repeated one always does."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from scipy.stats import binom

    same, pairs = 0, 0
    for first, second in zip(configs[0::2], configs[1::2]):
        if name in first and name in second:
            a, b = float(first[name]) - median, float(second[name]) - median
            if a != 0 and b != 0:
                pairs += 1
                same += (a > 0) == (b > 0)
    if pairs < 20:
        return
    lo, hi = binom.interval(1 - share, pairs, 0.5)
    if not lo <= same <= hi:
        raise CheckFailed(_("{what}: of {pairs} pairs of consecutive draws (0 and 1, 2 and 3, ...), {same} had both values "
                          "of {name!r} on the same side of its median {median:.4g}; independent draws do so in half of "
                          "the pairs, Binomial({pairs}, 0.5), within [{lo}, {hi}] with probability 1 - {share:.2g}: each "
                          "call must draw afresh from rng, whatever the call before drew").format(
                              what=what, pairs=pairs, same=same, name=name, median=median, lo=int(lo), hi=int(hi), share=share))


def _discrete_ks_pvalue(values: np.ndarray, low: int, pmf: np.ndarray) -> float:
    """Kolmogorov-Smirnov p-value of integer samples against the distribution pmf on low, low + 1, ...

    D is the largest gap between the two step functions (at the support points). For a
    discrete distribution D is stochastically smaller than for a continuous one (Conover
    1972), so the continuous null distribution (scipy.stats.kstwo) gives a conservative
    p-value: a correct sampler gets p <= a with probability at most a.
    """
    from scipy import stats

    counts = np.bincount(values - low, minlength=pmf.size)[: pmf.size]
    outside = values.size - counts.sum()
    gap = np.abs(np.cumsum(counts) / values.size - np.cumsum(pmf))
    if outside:
        return 0.0
    return float(stats.kstwo.sf(float(gap.max()), values.size))


def _reference_pmf(kind: str, low: int, high: int) -> np.ndarray:
    """The reference distribution from SciPy: randint(low, high + 1), or loguniform(low, high + 1) cut at integers."""
    from scipy import stats

    k = np.arange(low, high + 1)
    if kind == "int":
        return stats.randint(low, high + 1).pmf(k)
    cdf = stats.loguniform(low, high + 1).cdf
    return cdf(k + 1) - cdf(k)


def _integer_mistakes(kind: str, low: int, high: int) -> list:
    """(description, pmf on low .. high) of the known mistakes for an integer dimension."""
    from scipy import stats

    k = np.arange(low, high + 1)
    mistakes = []
    if high > low:
        below = np.append(np.full(high - low, 1.0 / (high - low)), 0.0)
        if kind == "int":
            mistakes.append((recognised("hp-config-int-excludes-high", _("`high` is never drawn: rng.integers(low, high) excludes its upper end; the range is "
                             "inclusive, so use rng.integers(low, high + 1)")), below))
        else:
            cdf = stats.loguniform(low, high).cdf
            mistakes.append((recognised("hp-config-int-log-excludes-high", _("`high` is never drawn: the integer part of a log-uniform sample on [low, high) never "
                             "reaches high; sample on [low, high + 1)")), np.append(cdf(k[:-1] + 1) - cdf(k[:-1]), 0.0)))
    if kind == "int_log":
        mistakes.append((recognised("hp-config-int-log-uniform", _("the integers are uniform, not log-uniform: every integer is equally likely, but "
                         "'int_log' gives small values more weight (take the integer part of a log-uniform "
                         "sample on [low, high + 1))")), stats.randint(low, high + 1).pmf(k)))
        if high > low:
            cdf = stats.loguniform(low, high).cdf
            mistakes.append((recognised("hp-config-int-log-rounded", _("the log-uniform sample on [low, high] was "
                             "ROUNDED: round() gives low and high half the weight they should have; take the integer "
                             "part, int(x), of a log-uniform sample on [low, high + 1)")),
                             cdf(np.minimum(k + 0.5, high)) - cdf(np.maximum(k - 0.5, low))))
            mistakes.append((recognised("hp-config-int-log-rounded", _("the log-uniform sample on [low, high] was "
                             "rounded UP (ceil), so low never comes: take the integer part, int(x), of a log-uniform "
                             "sample on [low, high + 1)")),
                             np.append(0.0, cdf(k[1:]) - cdf(k[1:] - 1))))
    elif high > low:
        mistakes.append((recognised("hp-config-int-rounded", _("a uniform float on [low, high] was ROUNDED: round() "
                         "gives low and high half the weight of the others; use rng.integers(low, high + 1)")),
                         np.concatenate([[0.5], np.ones(high - low - 1), [0.5]]) / (high - low)))
    return mistakes


def _overflow_mistakes(kind: str, low: int, high: int) -> list:
    """(description, pmf on low .. high + 1) of the known mistakes whose values reach high + 1."""
    from scipy import stats

    k = np.arange(low, high + 2)
    if kind == "int_log":
        cdf = stats.loguniform(low, high + 1).cdf
        rounded = cdf(np.minimum(k + 0.5, high + 1)) - cdf(np.maximum(k - 0.5, low))
        ceiled = np.append(0.0, cdf(k[1:]) - cdf(k[1:] - 1))
        return [(recognised("hp-config-int-log-rounded", _("the log-uniform sample on [low, high + 1) was ROUNDED, so "
                            "high + 1 comes too: take its integer part, int(x) (or np.floor), not round()")), rounded),
                (recognised("hp-config-int-log-rounded", _("the log-uniform sample on [low, high + 1) was rounded UP "
                            "(ceil), so high + 1 comes and low never: take its integer part, int(x)")), ceiled)]
    return [(recognised("hp-config-int-rounded", _("a uniform float on [low, high + 1] was ROUNDED, so high + 1 comes "
                        "too: use rng.integers(low, high + 1)")),
             np.concatenate([[0.5], np.ones(high - low + 1 - 1), [0.5]]) / (high - low + 1))]


def _is_integer(value) -> bool:
    return (type(value) is int or isinstance(value, np.integer)
            or isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iu")


def _condition_holds(config: dict, condition) -> bool:
    parent, value = condition
    return parent in config and _equal_values(config[parent], value)


def _check_same_draws(first, second) -> bool:
    """Whether ``second`` repeats the first draws of ``first``."""
    return (isinstance(second, list) and len(second) == min(len(first), REPEAT_DRAWS)
            and all(_same_data(a, b) for a, b in zip(first, second)))


@check(inputs=_config_space_inputs, probe=_config_space_probe)
def check_sample_config(record, inputs) -> None:
    """``sample_config(space, rng)`` returns one configuration, a new dict, drawn from ``space``.

    Called ``n_draws`` times with one generator. A name with a condition ``("if", parent,
    value, spec)`` must appear exactly in the configurations whose ``parent`` is present
    and equal to ``value`` (checked on every draw, no tolerance). The values of each name,
    where present, are compared with SciPy: "uniform" with ``scipy.stats.uniform(low, high
    - low)`` and "log" with ``scipy.stats.loguniform(low, high)`` by Kolmogorov-Smirnov
    tests; "int" with ``scipy.stats.randint(low, high + 1)`` and "int_log" with the integer
    part of ``scipy.stats.loguniform(low, high + 1)`` by a discrete Kolmogorov-Smirnov test
    (the continuous null distribution, conservative for discrete samples); "choice" by a
    chi-square test of equal frequencies confirmed by exact binomial tests. A discrete value
    that never occurs fails where a correct sampler misses one with probability below the
    test's share. The chance that a correct sampler fails one call is at most ``ALPHA``
    (1e-6), whatever the seed: every test gets an equal share. Two generators made from
    ``seed`` must give the same configurations, and ``seed + 1`` other ones (where two
    correct runs coincide with probability below the share).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    space, n, share, what, seed = (inputs[key] for key in ("space", "n_draws", "share", "what", "seed"))
    failure = record.failure or ""
    if "configs" not in record and "raised KeyError: " in failure:
        key = failure.split("raised KeyError: ", 1)[1].split("\n", 1)[0].strip("'\" ")
        parents = {_inner(spec)[0][0] for spec in space.values() if _inner(spec)[0] is not None}
        conditional = {name for name, spec in space.items() if _inner(spec)[0] is not None}
        if key in parents & conditional:
            raise CheckFailed(_("{what}: sample_config raised KeyError: {key!r}\n  Likely mistake: ").format(what=what, key=key) + recognised(
                "hp-config-parent-absent", _("the condition read config[{key!r}] while {key!r} was left out (its own "
                "condition was off): test `parent in config` first, and leave the child out too").format(key=key)))
    configs = record["configs"]
    if record["one_dict"] is True:
        raise CheckFailed(_("{what}: every call returned the SAME dict object.\n  Likely mistake: ").format(what=what) + recognised(
            "hp-config-dict-reused", _("one dict is kept between calls (a global, or a mutable default argument "
            "config={{}}): make a new dict, config = {{}}, inside the function, on every call").format()))
    if not _same_data(record["space_after"], space):
        raise CheckFailed(recognised("changed-input-in-place", _("{what}: sample_config changed the `space` dict it was given; leave it as it is").format(what=what)))
    for i, config in enumerate(configs):
        if config is None:
            raise CheckFailed(recognised("forgot-return", _("{what}: draw {i} returned None: did you forget to `return` the configuration?").format(what=what, i=i)))
        if not isinstance(config, dict):
            raise CheckFailed(_("{what}: draw {i} returned a {type_name_config}; expected a dict name -> value").format(what=what, i=i, type_name_config=type_name(config)))
        unknown = sorted(set(map(str, config)) - set(space))
        if unknown:
            raise CheckFailed(_("{what}: draw {i} has names that are not in the space: {unknown}").format(what=what, i=i, unknown=unknown))

    if n > 1 and inputs["all_same_impossible"] and all(_same_data(c, configs[0]) for c in configs[1:]):
        raise CheckFailed(_("{what}: all {n} draws returned the same configuration, {show_configs_0}.\n  Likely "
                          "mistake: ").format(what=what, n=n, show_configs_0=_show(configs[0])) + recognised("hp-rng-recreated", _("a generator with a fixed seed is created on "
                          "every call (np.random.default_rng(0) inside the function), so every call draws the same "
                          "numbers: draw from the `rng` passed in, which moves on from call to call")))
    identity = record["identity"]
    uses_is = (isinstance(identity, list) and len(identity) == 2 and all(identity[0])
               and not any(identity[1]))

    for name, spec in space.items():
        condition, inner = _inner(spec)
        kind = inner[0]
        present = [name in config for config in configs]
        if condition is None:
            missing = present.index(False) if not all(present) else None
            if missing is not None:
                raise CheckFailed(_("{what}: draw {missing} has no value for {name!r}: {show_configs_missing}").format(what=what, missing=missing, name=name, show_configs_missing=_show(configs[missing])))
        else:
            parent, value = condition
            for i, config in enumerate(configs):
                wanted = _condition_holds(config, condition)
                if present[i] and not wanted:
                    shown = f"{parent}={config[parent]!r}" if parent in config else f"no {parent!r}"
                    hint = ""
                    if config[name] is None:
                        hint = (recognised("hp-config-condition-none", _("\n  Likely mistake: None was stored for the inactive parameter; leave the name out "
                                "of the configuration when its condition is off")))
                    else:
                        hint = (recognised("hp-config-condition-ignored", _("\n  Likely mistake: the conditional parameter was sampled when its condition is "
                                "off: {name!r} belongs in a configuration only when {parent!r} == {value!r}").format(name=name, parent=parent, value=value)))
                    raise CheckFailed(_("{what}: draw {i} holds {name!r} = {show_config_name_60} with {shown}; "
                                      "{name!r} is conditional on {parent} == {value!r}{hint}").format(what=what, i=i, name=name, show_config_name_60=_show(config[name], 60), shown=shown, parent=parent, value=value, hint=hint))
                if wanted and not present[i]:
                    hint = ""
                    if uses_is and not any(present) and not (isinstance(value, (bool, type(None))) or
                                                             (type(value) is int and -5 <= value <= 256)):
                        hint = _("\n  Likely mistake: ") + recognised("hp-config-condition-is", (
                            _("the condition was tested with `is` (identity) instead of `==` (equality): "
                            "config[{parent!r}] is an equal value but another object than {value!r} in the spec; "
                            "use config[parent] == value").format(parent=parent, value=value)))
                    raise CheckFailed(_("{what}: draw {i} has {parent}={config_parent!r} but no value for {name!r}; "
                                      "a conditional parameter is sampled whenever its condition holds{hint}").format(what=what, i=i, parent=parent, config_parent=config[parent], name=name, hint=hint))
        values = [config[name] for config in configs if name in config]
        if not values:
            continue
        m = len(values)
        if kind in ("uniform", "log"):
            low, high = inner[1], inner[2]
            wrong = [v for v in values if not _is_number(v)]
            if wrong:
                raise CheckFailed(_("{what}: {name!r} should be a single number, got {show_wrong_0_100}").format(what=what, name=name, show_wrong_0_100=_show(wrong[0], 100))
                                  + (_(" (use float(...) or size=None to get a scalar)")
                                     if isinstance(wrong[0], (np.ndarray, list, tuple)) and np.ndim(wrong[0]) else ""))
            x = np.asarray([float(v) for v in values], dtype=np.float64)
            hint = _name_log_uniform_mistake(x, low, high) if kind == "log" else ""
            if not np.all(np.isfinite(x)) or x.min() < low - 1e-12 * abs(high) or x.max() > high + 1e-12 * abs(high) + 1e-300:
                raise CheckFailed(_("{what}: values of {name!r} must lie in [{low:g}, {high:g}] ({kind!r}), but they "
                                  "range from {x_min:.4g} to {x_max:.4g}{hint}").format(what=what, name=name, low=low, high=high, kind=kind, x_min=x.min(), x_max=x.max(), hint=hint))
            reference = _log_uniform_cdf(low, high) if kind == "log" else _uniform_cdf(low, high)
            p = _ks_pvalue(x, reference)
            if p < share:
                if kind == "uniform" and low > 0 and _ks_pvalue(x, _log_uniform_cdf(low, high)) >= HINT_ALPHA:
                    hint = recognised("hp-uniform-sampled-log", _("\n  Likely mistake: a 'uniform' parameter was sampled on a log scale"))
                scipy_name = f"loguniform({low:g}, {high:g})" if kind == "log" else f"uniform({low:g}, {high - low:g})"
                raise CheckFailed(_("{what}: the {m} values of {name!r} do not follow scipy.stats.{scipy_name} "
                                  "(Kolmogorov-Smirnov p = {p:.2g} < {share:.2g}){hint}").format(what=what, m=m, name=name, scipy_name=scipy_name, p=p, share=share, hint=hint))
            _check_consecutive_draws(configs, name, math.sqrt(low * high) if kind == "log" else (low + high) / 2,
                                     share, what)
        elif kind in ("int", "int_log"):
            low, high = inner[1], inner[2]
            floats = [v for v in values if not _is_integer(v)]
            if floats:
                bad = floats[0]
                hint = ""
                if _is_number(bad) and float(bad) == math.floor(float(bad)):
                    hint = (recognised("hp-config-int-float", _("\n  Likely mistake: {show_bad_40} is a float with an integer value (np.floor and "
                            "np.round return floats); convert it with int(...)").format(show_bad_40=_show(bad, 40))))
                raise CheckFailed(_("{what}: {name!r} ({kind!r}) must be an integer, got {show_bad_60}"
                                  " of type {type_name_bad}{hint}").format(what=what, name=name, kind=kind, show_bad_60=_show(bad, 60), type_name_bad=type_name(bad), hint=hint))
            x = np.asarray([int(v) for v in values], dtype=np.int64)
            mistakes = _integer_mistakes(kind, low, high)
            if x.min() < low or x.max() > high:
                hint = ""
                if x.min() >= low and x.max() == high + 1:
                    counts = np.bincount(x - low, minlength=high - low + 2)
                    fits = [description for description, wrong_pmf in _overflow_mistakes(kind, low, high)
                            if np.all(wrong_pmf[counts > 0] > 0)
                            and _discrete_ks_pvalue(x, low, wrong_pmf) >= HINT_ALPHA
                            and (1.0 - float(wrong_pmf[counts == 0].sum())) ** m >= HINT_ALPHA]
                    hint = _("\n  Likely mistake: {fits_0}").format(fits_0=fits[0]) if len({mistakes_in(d) for d in fits}) == 1 else ""
                raise CheckFailed(_("{what}: values of {name!r} must be integers from {low} to {high} inclusive "
                                  "({kind!r}), but they range from {x_min} to {x_max}{hint}").format(what=what, name=name, low=low, high=high, kind=kind, x_min=x.min(), x_max=x.max(), hint=hint))
            pmf = _reference_pmf(kind, low, high)
            p = _discrete_ks_pvalue(x, low, pmf)
            counts = np.bincount(x - low, minlength=pmf.size)
            fits = [description for description, wrong_pmf in mistakes
                    if np.all(wrong_pmf[counts > 0] > 0) and _discrete_ks_pvalue(x, low, wrong_pmf) >= HINT_ALPHA
                    and (1.0 - float(wrong_pmf[counts == 0].sum())) ** m >= HINT_ALPHA]   # its values all came
            hint = _("\n  Likely mistake: {fits_0}").format(fits_0=fits[0]) if len(fits) == 1 else ""
            never = np.flatnonzero(counts == 0)
            chance_of_a_gap = float(np.sum((1.0 - pmf) ** m))
            if never.size and pmf.size > 1 and chance_of_a_gap < share:
                shown = [int(low + i) for i in never[:5]]
                raise CheckFailed(_("{what}: in {m} draws {name!r} never took the value(s) {shown}"
                                  "{detail}; a correct sampler misses one with "
                                  "probability {chance_of_a_gap:.2g}{hint}").format(what=what, m=m, name=name, shown=shown, detail=' ...' if never.size > 5 else '', chance_of_a_gap=chance_of_a_gap, hint=hint))
            if pmf.size > 1 and p < share:
                scipy_name = (f"randint({low}, {high + 1})" if kind == "int"
                              else _("the integer part of loguniform({low}, {high_1})").format(low=low, high_1=high + 1))
                raise CheckFailed(_("{what}: the {m} values of {name!r} do not follow scipy.stats.{scipy_name} "
                                  "(discrete Kolmogorov-Smirnov p = {p:.2g} < {share:.2g}; mean {x_mean:.4g}, "
                                  "expected {np_dot_np_arange_low_hig:.4g}){hint}").format(what=what, m=m, name=name, scipy_name=scipy_name, p=p, share=share, x_mean=x.mean(), np_dot_np_arange_low_hig=float(np.dot(np.arange(low, high + 1), pmf)), hint=hint))
        else:
            options = list(inner[1])
            positions = []
            for v in values:
                matches = [i for i, option in enumerate(options) if _equal_values(v, option)]
                if not matches:
                    hint = ""
                    if _is_integer(v) and 0 <= int(v) < len(options):
                        hint = (recognised("hp-choice-index-stored", _("\n  Likely mistake: the INDEX of the choice was stored; store the value itself, "
                                "values[rng.integers(len(values))]")))
                    raise CheckFailed(_("{what}: {name!r} = {show_v_100} is not one of the choices {options}{hint}").format(what=what, name=name, show_v_100=_show(v, 100), options=options, hint=hint))
                positions.append(matches[0])
            counts = np.bincount(positions, minlength=len(options))
            never = [options[i] for i in np.flatnonzero(counts == 0)]
            k = len(options)
            if never and k > 1 and math.log(k) + m * math.log1p(-1 / k) < math.log(share):
                hint = ""
                if never == [options[-1]]:
                    hint = (recognised("hp-choice-last-never", _("\n  Likely mistake: the last choice is never drawn: rng.integers(low, high) excludes "
                            "`high`, so use rng.integers(len(values)), or rng.choice(values)")))
                elif never == [options[0]]:
                    hint = _("\n  Likely mistake: ") + recognised("hp-choice-first-never", (
                        _("the first choice is never drawn: indices start at 0, so use rng.integers(len(values)) "
                        "(0 .. len - 1), not rng.integers(1, len(values))")))
                raise CheckFailed(_("{what}: in {m} draws, {name!r} never took the value(s) {never} "
                                  "(counts {dict_zip_map_str_options}); every choice must be "
                                  "equally likely{hint}").format(what=what, m=m, name=name, never=never, dict_zip_map_str_options=dict(zip(map(str, options), counts.tolist())), hint=hint))
            if k > 1:
                p, exact = _choice_pvalue(counts)
                if max(p, exact) < share:
                    raise CheckFailed(_("{what}: the choices of {name!r} are not equally likely: counts "
                                      "{dict_zip_map_str_options} (chi-square p = {p:.2g} "
                                      "< {share:.2g})").format(what=what, name=name, dict_zip_map_str_options=dict(zip(map(str, options), counts.tolist())), p=p, share=share))

    _require_rng_used(what, _check_same_draws(configs, record["again"]),
                      inputs["other_seed"] and _check_same_draws(configs, record["other"]), seed,
                      ("configurations", "configurations"),
                      "np.random.*")

# ---------------------------------------------------------------- the objective the searches are given

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
    configuration it is called with, in order (``_calls``, plain data: private, so that the
    learner's code, to which the object is handed, cannot rewrite the record the verdict reads). A malformed call
    raises CheckFailed and also writes the message into the record under ``error_key``,
    so that the verdict reports it even if the learner's code caught the exception.
    """

    def __init__(self, weights: dict, record, error_key: str):
        self._weights = weights
        self._names = list(weights)
        self._calls: list[dict] = []
        self._record, self._error_key = record, error_key

    def __call__(self, config=None, *more, **keywords):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if more or keywords or config is None:
            self._fail(_("the objective must be called with one configuration, a dict mapping each name to a value, "
                       "objective(config), but it was called with {len_more_config_is_not_n} positional and "
                       "{len_keywords} keyword argument(s) (objective(**config) passes the values one by one)").format(len_more_config_is_not_n=len(more) + (config is not None), len_keywords=len(keywords)))
        if not isinstance(config, dict):
            self._fail(_("the objective must be called with one configuration, a dict mapping each name to "
                       "a value, but it was called with a {type_config___name}: {config!r:.200}").format(type_config___name=type(config).__name__, config=config))
        if set(config) != set(self._names):
            self._fail(_("the objective was called with a configuration whose names are {map_str_config}; "
                       "expected exactly {names}").format(map_str_config=sorted(map(str, config)), names=sorted(self._names)))
        self._calls.append(capture(_plain(dict(config))))
        return _objective_value(self._weights, config)

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
        raise CheckFailed(recognised("forgot-return", _("{what} returned None: did you forget to `return` the list of (config, score)?").format(what=what)))
    if not isinstance(results, list):
        raise CheckFailed(_("{what} should return a list of (config, score) pairs, but it returned "
                          "a {type_name_results}").format(what=what, type_name_results=type_name(results)))
    for i, item in enumerate(results):
        if type(item) in (tuple, list) and len(item) == 2 and isinstance(item[1], dict) and _is_number(item[0]):
            raise CheckFailed(_("{what}: entry {i} of the result is {show_item}.\n  Likely mistake: ").format(what=what, i=i, show_item=_show(item)) + recognised(
                "hp-result-pair-swapped", _("the pairs are (score, config): return (config, score), the configuration "
                "first")))
        if type(item) not in (tuple, list) or len(item) != 2 or not isinstance(item[0], dict):
            raise CheckFailed(_("{what}: entry {i} of the result is {show_item}; each entry must be a pair "
                              "(config, score) with config a dict").format(what=what, i=i, show_item=_show(item)))
        if not _is_number(item[1]):
            raise CheckFailed(_("{what}: the score of entry {i} is not a single number: {show_item_1}").format(what=what, i=i, show_item_1=_show(item[1])))
    if n_expected is not None and len(results) != n_expected:
        raise CheckFailed(_("{what} returned {len_results} results, expected {n_expected}").format(what=what, len_results=len(results), n_expected=n_expected))
    if len(results) > 1 and distinct == 1:
        raise CheckFailed(recognised("hp-shared-config-dict", _("{what}: every result holds the SAME dict object, so they all show the last "
                          "configuration.\n  Likely mistake: one dict was updated in the loop; make a new dict "
                          "for every configuration").format(what=what)))
    return results


def _score(weights: dict, config: dict, what: str, i: int) -> float:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    for name in weights:
        if name not in config:
            raise CheckFailed(_("{what}: some configurations have no value for {name!r}").format(what=what, name=name))
    try:
        return _objective_value(weights, config)
    except (TypeError, ValueError, OverflowError):
        raise CheckFailed(_("{what}: entry {i} holds config {show_config}, which the objective cannot score: "
                          "each value must be a number or a string").format(what=what, i=i, show_config=_show(config))) from None


def _check_scores(results, calls, weights: dict, what: str, n_expected: int) -> None:
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    n_calls = len(calls) if type(calls) is list else 0
    if n_calls != n_expected:
        raise CheckFailed(recognised("hp-objective-wrong-calls", _("{what} called the objective {n_calls} times; expected once per "
                          "configuration, {n_expected} times (training a network is expensive)").format(what=what, n_calls=n_calls, n_expected=n_expected)))
    for i, (config, score) in enumerate(results):
        expected = _score(weights, config, what, i)
        if not np.isclose(float(score), expected, rtol=1e-9, atol=1e-12):
            raise CheckFailed(_("{what}: entry {i} pairs config {config} with score {score:.6g}, but the "
                              "objective gives {expected:.6g} for that config; store objective(config) with the "
                              "config it was computed for").format(what=what, i=i, config=config, score=float(score), expected=expected))


# ---------------------------------------------------------------- grid search

DEFAULT_GRID = {"lr": [1e-3, 1e-2, 1e-1], "weight_decay": [0.0, 1e-4], "activation": ["tanh", "relu"]}


def _canonical(value) -> str:
    """repr of a value, NumPy scalars as the Python value they hold (np.float64(0.1) as 0.1)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _sorted_or_none(values: list) -> list:
    """The values sorted as Python sorts them (numbers by value), or as they are when they cannot be compared."""
    try:
        return sorted(values)
    except TypeError:
        return list(values)


def _config_key(config: dict, names) -> tuple:
    return tuple(_canonical(config.get(name)) for name in names)


def _grid_inputs(*, grid: dict | None = None, seed: int = 0) -> dict:
    grid = copy.deepcopy(DEFAULT_GRID if grid is None else grid)
    names = list(grid)
    return {"grid": grid, "names": names, "weights": _objective_weights(grid, seed),
            "expected": [dict(zip(names, values)) for values in itertools.product(*grid.values())],
            "what": _("grid_search(objective, grid) with grid = {grid}").format(grid=grid)}


def _grid_probe(record, grid_search, inputs) -> None:
    objective = _RecordingObjective(inputs["weights"], record, "objective_error")
    given = copy.deepcopy(inputs["grid"])
    results = call_learner(grid_search, objective, given)
    record["distinct_configs"] = _distinct_configs(results)
    record["results"] = _plain(results)
    record["grid_after"] = given
    record["calls"] = objective._calls


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
        raise CheckFailed(recognised("changed-input-in-place", _("{what} changed the `grid` dict it was given; leave the caller's grid as it is").format(what=what)))
    for i, (config, _unused) in enumerate(results):
        if set(config) != set(names):
            raise CheckFailed(_("{what}: configuration {i} has names {config}, expected {names}").format(what=what, i=i, config=sorted(config), names=sorted(names)))
    got_keys = [_config_key(c, names) for c, _ in results]
    want_keys = [_config_key(c, names) for c in expected]
    missing = [c for c, k in zip(expected, want_keys) if k not in set(got_keys)]
    if missing:
        hint = ""
        sizes = [len(v) for v in grid.values()]
        if len(results) == min(sizes):
            hint = (recognised("hp-grid-zip", _("\n  Likely mistake: zip() pairs the i-th values of every name; itertools.product(*grid.values()) "
                    "gives every combination")))
        elif len(results) == sum(sizes):
            hint = (recognised("hp-grid-one-name-at-a-time", _("\n  Likely mistake: each name was varied on its own (one loop per name); "
                    "itertools.product(*grid.values()) gives every combination")))
        raise CheckFailed(_("{what}: {len_missing} of the {len_expected} combinations are missing "
                          "(e.g. {missing_0}); got {len_results} results{hint}").format(what=what, len_missing=len(missing), len_expected=len(expected), missing_0=missing[0], len_results=len(results), hint=hint))
    if len(results) != len(expected) or len(set(got_keys)) != len(got_keys):
        raise CheckFailed(_("{what} returned {len_results} results for {len_expected} combinations: "
                          "some combinations were evaluated more than once; evaluate each exactly once").format(what=what, len_results=len(results), len_expected=len(expected)))
    _check_scores(results, record["calls"], inputs["weights"], what, len(expected))
    if got_keys != want_keys:
        first = next(i for i, (a, b) in enumerate(zip(got_keys, want_keys)) if a != b)
        orders = [
            ("hp-grid-names-sorted", _("the names were sorted (sorted(grid)) before the product: keep the grid's own "
             "order of names, list(grid)"), [dict(zip(sorted(names), v)) for v in
                                            itertools.product(*(grid[k] for k in sorted(names)))]),
            ("hp-grid-values-sorted", _("each name's values were sorted: keep them in the order the grid lists them"),
             [dict(zip(names, v)) for v in itertools.product(*(sorted(grid[k], key=_canonical) for k in names))]),
            ("hp-grid-values-sorted", _("each name's values were sorted: keep them in the order the grid lists them"),
             [dict(zip(names, v)) for v in itertools.product(*(_sorted_or_none(grid[k]) for k in names))]),
            ("hp-grid-order", _("the FIRST name varies fastest: itertools.product(*grid.values()) makes the LAST name "
             "vary fastest, as nested for loops over the names in order"),
             [dict(zip(names[::-1], v)) for v in itertools.product(*(grid[k] for k in names[::-1]))]),
            ("hp-grid-sorted-by-score", _("the results were sorted by score (best first): return them in the "
             "grid's order, itertools.product over the names; whoever uses the results picks the best with max()"),
             sorted(expected, key=lambda c: _objective_value(inputs["weights"], c), reverse=True)),
            ("hp-grid-sorted-by-score", _("the results were sorted by score (lowest first): return them in the "
             "grid's order, itertools.product over the names; whoever uses the results picks the best with max()"),
             sorted(expected, key=lambda c: _objective_value(inputs["weights"], c))),
        ]
        hits = {(m, t) for m, t, order in orders if [_config_key(c, names) for c in order] == got_keys}
        hint = _("\n  Likely mistake: {recognised_next_iter_hit}").format(recognised_next_iter_hit=recognised(*next(iter(hits)))) if len({m for m, _ in hits}) == 1 else ""
        message = (_("{what}: every combination is there, but in another order: result {first} is "
                   "{results_first_0}, expected {expected_first}. The documented order is "
                   "itertools.product over the names in the grid's order, the last name varying fastest").format(what=what, first=first, results_first_0=results[first][0], expected_first=expected[first]))
        raise CheckFailed(message + hint if hint else recognised("hp-grid-order", message))



# ---------------------------------------------------------------- a budget: successive halving

def _halving_configs(n_configs: int, seed: int) -> list:
    """n_configs distinct configurations (the learning rate is continuous, so no two are equal)."""
    rng = np.random.default_rng([seed, 7])
    configs = []
    for _ in range(n_configs):
        configs.append({"lr": float(np.exp(rng.uniform(np.log(1e-4), np.log(1.0)))),
                        "width": int(rng.choice([16, 32, 64, 128])),
                        "optimizer": str(rng.choice(["sgd", "adam"]))})
    return configs


def _halving_score(seed: int, index: int, resource: int) -> float:
    """The validation accuracy of configuration ``index`` trained with ``resource`` (e.g. epochs):
    a fixed pseudo-random number per (configuration, resource), so the ranking changes from rung
    to rung, as it does when longer training reorders configurations."""
    return round(0.5 + 0.5 * float(np.random.default_rng([seed, index, resource]).random()), 12)


def _integer_log(n: int, factor: int) -> int:
    """The largest i with factor**i <= n, in integers."""
    i = 0
    while factor ** (i + 1) <= n:
        i += 1
    return i


def _halving_inputs(*, n_configs: int = 20, min_resource: int = 1, max_resource: int = 27, factor: int = 3,
                    seed: int = 0) -> dict:
    if not (n_configs >= 1 and factor >= 2 and 1 <= min_resource <= max_resource):
        raise ValueError("need n_configs >= 1, factor >= 2 and 1 <= min_resource <= max_resource")
    # scikit-learn counts the rungs with a floating-point log (1 + floor(log(n, factor))), which is one
    # short at some exact powers (math.log(243, 3) = 4.999...): there the reference is the documented rule,
    # counted in integers (_simulate), and not scikit-learn's schedule.
    float_log_short = any(math.floor(math.log(n, factor)) != _integer_log(n, factor)
                          for n in (n_configs, max_resource // min_resource))
    configs = _halving_configs(n_configs, seed)
    return {"configs": configs, "n_configs": n_configs, "min_resource": min_resource, "max_resource": max_resource,
            "factor": factor, "seed": seed, "keys": [_config_key(c, list(c)) for c in configs],
            "float_log_short": float_log_short,
            "what": _("successive_halving(objective, configs, min_resource={min_resource}, max_resource={max_resource}, "
                    "factor={factor}) with {n_configs} configs (seed {seed})").format(min_resource=min_resource, max_resource=max_resource, factor=factor, n_configs=n_configs, seed=seed)}


class _HalvingObjective:
    """The objective the probe gives the learner's search: objective(config, resource) -> score.

    It finds the configuration among ``configs``, scores it with ``_halving_score`` and records
    every call as [index, resource] (private: the learner's code holds the object). A malformed call raises CheckFailed and writes the message
    into the record, so that the verdict reports it even if the learner's code caught it.
    """

    def __init__(self, inputs: dict, record):
        self._seed, self._keys = inputs["seed"], inputs["keys"]
        self._names = list(inputs["configs"][0])
        self._calls: list[list[int]] = []
        self._record = record

    def __call__(self, config, resource):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if not isinstance(config, dict):
            self._fail(_("the objective must be called as objective(config, resource) with config a dict, but "
                       "config was a {type_config___name}: {config!r:.200}").format(type_config___name=type(config).__name__, config=config))
        try:
            index = self._keys.index(_config_key(config, self._names))
        except ValueError:
            self._fail(_("the objective was called with {config!r:.200}, which is not one of the `configs` given").format(config=config))
        if (not _is_integer(resource) and not (type(resource) is float and resource.is_integer())) or resource < 1:
            self._fail(_("the objective was called with resource = {resource!r:.60}; the resource of a rung is a "
                       "positive integer, min_resource * factor**rung").format(resource=resource))
        resource = int(resource)
        self._calls.append([index, resource])
        return _halving_score(self._seed, index, resource)

    def _fail(self, message: str):
        __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
        if "objective_error" not in self._record:
            self._record["objective_error"] = message
        raise CheckFailed(message)


def _halving_probe(record, successive_halving, inputs) -> None:
    objective = _HalvingObjective(inputs, record)
    given = copy.deepcopy(inputs["configs"])
    rungs = call_learner(successive_halving, objective, given, inputs["min_resource"], inputs["max_resource"],
                         inputs["factor"])
    record["rungs"] = _plain(rungs)
    record["configs_after"] = given
    record["calls"] = objective._calls


@verdict_only
def _sklearn_schedule(inputs: dict) -> tuple[list, list]:
    """(resources, [set of config indices] per rung) of scikit-learn's HalvingGridSearchCV on the same scores."""
    import warnings

    from sklearn.base import BaseEstimator
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401 -- the estimator is experimental
    from sklearn.model_selection import HalvingGridSearchCV

    class Candidate(BaseEstimator):
        def __init__(self, index=0, resource=1, seed=0):
            self.index, self.resource, self.seed = index, resource, seed

        def fit(self, X, y=None):  # noqa: N803 -- scikit-learn's name
            return self

        def score(self, X, y=None):  # noqa: N803
            return _halving_score(self.seed, self.index, self.resource)

    search = HalvingGridSearchCV(Candidate(seed=inputs["seed"]), {"index": list(range(inputs["n_configs"]))},
                                 factor=inputs["factor"], resource="resource", min_resources=inputs["min_resource"],
                                 max_resources=inputs["max_resource"], cv=[(np.array([0]), np.array([1]))],
                                 refit=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(np.zeros((2, 1)))
    results = search.cv_results_
    rungs = [{int(p["index"]) for p, itr in zip(results["params"], results["iter"]) if itr == i}
             for i in range(len(search.n_candidates_))]
    assert [len(s) for s in rungs] == list(search.n_candidates_)
    return [int(r) for r in search.n_resources_], rungs


@verdict_only
def _simulate(inputs: dict, *, keep=None, best_first=True, until_one=False, first_power=0, growth=None,
              rungs_by=("configs", "budget"), fewer_rungs=0, clip=False, lists_kept=False):
    """A schedule computed in plain Python (the documented rule), with one rule changed (to name the learner's
    mistake): ``fewer_rungs`` rungs left out at the end, ``clip`` the resource clipped to max_resource,
    ``lists_kept`` each rung listing only the candidates it kept."""
    n, f = inputs["n_configs"], inputs["factor"]
    low, high, seed = inputs["min_resource"], inputs["max_resource"], inputs["seed"]
    keep = keep or (lambda k: math.ceil(k / f))
    limits = {"configs": _integer_log(n, f), "budget": _integer_log(high // low, f)}
    n_rungs = 1 + min(limits[rule] for rule in rungs_by) - fewer_rungs
    alive, resources, rungs = list(range(n)), [], []
    for i in range(10 * n + 10):
        if (i >= n_rungs and not until_one) or (until_one and i > 0 and len(alive) <= 1):
            break
        resource = low * f ** (i + first_power) if growth is None else growth(i)
        resource = min(resource, high) if until_one or clip else resource
        resources.append(resource)
        ranked = sorted(alive, key=lambda j: _halving_score(seed, j, resource), reverse=best_first)
        kept = ranked[:keep(len(alive))]
        rungs.append(set(kept) if lists_kept else set(alive))
        alive = kept
    return resources, rungs


def _last_rung_at_a_power(inputs: dict) -> bool:
    """Whether the number of rungs is set by an exact power: len(configs), or max_resource // min_resource where
    it binds, equals factor**(rungs - 1) (a strict comparison or a floating-point log leaves that rung out)."""
    n, f = inputs["n_configs"], inputs["factor"]
    budget = inputs["max_resource"] // inputs["min_resource"]
    last = min(_integer_log(n, f), _integer_log(budget, f))
    return last >= 1 and (n == f ** last or budget == f ** last)


def _halving_mistakes(inputs: dict) -> list:
    f = inputs["factor"]
    return [
        (recognised("hp-halving-rounds-down", _("the number kept was rounded down (n // factor); scikit-learn keeps ceil(n / factor), so that a rung "
         "of fewer than `factor` candidates still passes one on")), _simulate(inputs, keep=lambda k: k // f)),
        (recognised("hp-halving-keeps-worst", _("the LOWEST scores were kept: higher score is better (validation accuracy), so keep the best")),
         _simulate(inputs, best_first=False)),
        (recognised("hp-halving-until-one-left", _("the rungs went on while more than one candidate survived; their number is fixed in advance: the most "
         "rungs with factor**rung <= len(configs) and min_resource * factor**rung <= max_resource")),
         _simulate(inputs, until_one=True)),
        (recognised("hp-halving-first-rung-too-large", _("the first rung already had min_resource * factor: rung i trains with min_resource * factor**i, "
         "starting at factor**0 = 1")), _simulate(inputs, first_power=1)),
        (recognised("hp-halving-resource-growth", _("the resource was doubled from rung to rung: it grows by `factor`, "
         "min_resource * factor**rung")), _simulate(inputs, growth=lambda i: inputs["min_resource"] * 2 ** i)),
        (recognised("hp-halving-resource-growth", _("the resource grew by min_resource per rung (min_resource * (rung "
         "+ 1)): it grows by a factor, min_resource * factor**rung")),
         _simulate(inputs, growth=lambda i: inputs["min_resource"] * (i + 1))),
        (recognised("hp-halving-keep-rounded", _("the number kept was round(n / factor): scikit-learn keeps "
         "ceil(n / factor), rounded up")), _simulate(inputs, keep=lambda k: max(round(k / f), 0))),
        (recognised("hp-halving-ignores-max-resource", _("the number of rungs ignored max_resource: stop before "
         "min_resource * factor**rung exceeds max_resource")), _simulate(inputs, rungs_by=("configs",))),
        (recognised("hp-halving-ignores-candidates", _("the number of rungs ignored how many configurations there "
         "are: stop before factor**rung exceeds len(configs)")), _simulate(inputs, rungs_by=("budget",))),
        (recognised("hp-halving-resource-growth", _("the resource grew linearly (min_resource * factor * rung): it "
         "is multiplied by factor at every rung, min_resource * factor**rung")),
         _simulate(inputs, growth=lambda i: inputs["min_resource"] * f * i if i else inputs["min_resource"])),
        (recognised("hp-halving-resource-clipped", _("the resource was clipped to max_resource (min(min_resource * "
         "factor**rung, max_resource)) and the rungs went on at max_resource: the budget limits the number of rungs "
         "too, so stop before min_resource * factor**rung exceeds max_resource")),
         _simulate(inputs, rungs_by=("configs",), clip=True)),
        (recognised("hp-halving-rung-lists-survivors", _("each rung lists only the candidates it kept: a rung holds "
         "every configuration it trained, (config, score) for all of them, and the best ceil(n / factor) of them go "
         "on to the next rung")), _simulate(inputs, lists_kept=True)),
    ] + ([
        (recognised("hp-halving-last-rung-missing", _("the last rung is missing: {what_is_a_power} is an exact power "
         "of factor, so the rung after the last of yours still has factor**rung <= len(configs) and min_resource * "
         "factor**rung <= max_resource (one of them with equality). Compare with <= (not <), in integers: a floating-point log is one short at some exact "
         "powers (math.log(243, 3) = 4.999..., so int(math.log(243, 3)) is 4); and do not stop early when one "
         "candidate is left: the last rung may hold a single configuration").format(
             what_is_a_power=_power_words(inputs))),
         _simulate(inputs, fewer_rungs=1)),
    ] if _last_rung_at_a_power(inputs) else [])


def _power_words(inputs: dict) -> str:
    n, f = inputs["n_configs"], inputs["factor"]
    budget = inputs["max_resource"] // inputs["min_resource"]
    last = min(_integer_log(n, f), _integer_log(budget, f))
    if n == f ** last:
        return _("len(configs) = {n} = {f}**{last}").format(n=n, f=f, last=last)
    return _("max_resource // min_resource = {budget} = {f}**{last}").format(budget=budget, f=f, last=last)


@check(inputs=_halving_inputs, probe=_halving_probe)
def check_successive_halving(record, inputs) -> None:
    """``successive_halving(objective, configs, min_resource, max_resource, factor)`` returns its
    rungs ``[(resource, [(config, score), ...]), ...]``, and its schedule is exactly that of
    scikit-learn's ``HalvingGridSearchCV`` (``aggressive_elimination=False``) given the same
    scores: the same number of rungs, the same resource per rung (``n_resources_``), the
    same number of candidates (``n_candidates_``) and the same candidates in each rung. The
    objective must be called once per candidate and rung, and each score stored with its
    config. The schedule is deterministic: no tolerance.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    what, configs, keys = inputs["what"], inputs["configs"], inputs["keys"]
    _raise_objective_error(record, "objective_error")
    rungs = record["rungs"]
    if rungs is None:
        raise CheckFailed(_("{what} returned None: did you forget to `return` the list of rungs?").format(what=what))
    if not _same_data(record["configs_after"], configs):
        raise CheckFailed(_("{what} changed the `configs` list it was given (sorted it in place?); leave it as it is").format(what=what))
    if not isinstance(rungs, list) or not rungs:
        raise CheckFailed(_("{what} should return a non-empty list of rungs (resource, [(config, score), ...]), "
                          "got {show_rungs_100}").format(what=what, show_rungs_100=_show(rungs, 100)))
    names = list(configs[0])
    got_resources, got_sets, pairs = [], [], []
    for i, rung in enumerate(rungs):
        if type(rung) not in (tuple, list) or len(rung) != 2 or not _is_number(rung[0]) \
                or not isinstance(rung[1], list):
            raise CheckFailed(_("{what}: rung {i} is {show_rung_100}; each rung must be a pair "
                              "(resource, [(config, score), ...])").format(what=what, i=i, show_rung_100=_show(rung, 100)))
        indices = []
        for item in rung[1]:
            if type(item) in (tuple, list) and len(item) == 2 and isinstance(item[1], dict) and _is_number(item[0]):
                raise CheckFailed(_("{what}: rung {i} holds {show_item_100}.\n  Likely mistake: ").format(what=what, i=i, show_item_100=_show(item, 100)) + recognised(
                    "hp-result-pair-swapped", _("the pairs are (score, config): return (config, score), the "
                    "configuration first")))
            if type(item) not in (tuple, list) or len(item) != 2 or not isinstance(item[0], dict) \
                    or not _is_number(item[1]):
                raise CheckFailed(_("{what}: rung {i} holds {show_item_100}; each entry must be a pair "
                                  "(config, score) with config a dict and score a number").format(what=what, i=i, show_item_100=_show(item, 100)))
            key = _config_key(item[0], names)
            if key not in keys:
                raise CheckFailed(_("{what}: rung {i} holds {show_item_0_100}, which is not one of the configs").format(what=what, i=i, show_item_0_100=_show(item[0], 100)))
            indices.append(keys.index(key))
            pairs.append((i, keys.index(key), float(rung[0]), float(item[1])))
        if len(set(indices)) != len(indices):
            raise CheckFailed(_("{what}: rung {i} holds the same configuration more than once").format(what=what, i=i))
        got_resources.append(float(rung[0]))
        got_sets.append(set(indices))

    # scikit-learn's schedule, or the documented rule in integers where scikit-learn's floating-point log is short
    want_resources, want_sets = _simulate(inputs) if inputs["float_log_short"] else _sklearn_schedule(inputs)
    if got_resources != want_resources or got_sets != want_sets:
        fits = [description for description, (resources, sets) in _halving_mistakes(inputs)
                if got_resources == resources and got_sets == sets]
        if any("hp-halving-last-rung-missing" in mistakes_in(d) for d in fits):
            # one rung short at an exact power: what stopping when one candidate is left also gives there; the
            # last-rung words hold for both, the until-one words only where the schedules differ
            fits = [d for d in fits if "hp-halving-until-one-left" not in mistakes_in(d)]
        hint = _("\n  Likely mistake: {fits_0}").format(fits_0=fits[0]) if len({mistakes_in(d) for d in fits}) == 1 else ""
        got_counts, want_counts = [len(s) for s in got_sets], [len(s) for s in want_sets]
        schedule = (_("scikit-learn's HalvingGridSearchCV gives n_candidates_ = {want_counts} and n_resources_ = "
                    "{want_resources}; yours: {got_counts} and [{join_f_r_g_for_r_in_got}]").format(want_counts=want_counts, want_resources=want_resources, got_counts=got_counts, join_f_r_g_for_r_in_got=', '.join(f'{r:g}' for r in got_resources)))
        if len(got_sets) != len(want_sets) or got_counts != want_counts or got_resources != want_resources:
            raise CheckFailed(_("{what}: the schedule differs: {schedule}{hint}").format(what=what, schedule=schedule, hint=hint))
        rung = next(i for i, (a, b) in enumerate(zip(got_sets, want_sets)) if a != b)
        raise CheckFailed(_("{what}: rung {rung} has the right number of candidates, but not the right ones "
                          "(configs {sorted_got_sets_rung_wan} should have been eliminated): "
                          "keep the ceil(n / factor) candidates with the HIGHEST scores of the rung before{hint}").format(what=what, rung=rung, sorted_got_sets_rung_wan=sorted(got_sets[rung] - want_sets[rung])[:5], hint=hint))

    calls = record["calls"]
    expected_calls = sorted([index, int(resource)] for _, index, resource, _ in pairs)
    if sorted(map(list, calls)) != expected_calls:
        raise CheckFailed(_("{what} called the objective {len_calls} times; expected once per candidate and rung, "
                          "{len_expected_calls} times (each call trains a network)").format(what=what, len_calls=len(calls), len_expected_calls=len(expected_calls)))
    for rung, index, resource, score in pairs:
        expected = _halving_score(inputs["seed"], index, int(resource))
        if not np.isclose(score, expected, rtol=1e-9, atol=1e-12):
            raise CheckFailed(_("{what}: rung {rung} pairs config {configs_index} with score {score:.6g}, but the "
                              "objective gives {expected:.6g} for it at resource {resource}; store "
                              "objective(config, resource) with the config it was computed for").format(what=what, rung=rung, configs_index=configs[index], score=score, expected=expected, resource=int(resource)))
