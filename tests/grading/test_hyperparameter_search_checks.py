"""The chapter-7 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies sizes, fractions, ranges, spaces and seeds: the solution must pass every one,
so the statistical checks never fail a correct answer on the inputs the notebook could use.
Other correct ways of writing the functions (other bases, other draws from the rng) must pass
the notebook's own test cells too.
"""
from __future__ import annotations

import copy
import itertools
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats

from autograder import CheckFailed, hyperparameter_search as hs
from autograder.probe import ObjectData, decode, encode
from tests.grading import strategies
from tests.grading.notebook_code import learner_namespace, run_grade_cells, solution_notebook

ASSIGNMENT = "07_hyperparameter_search"
NOTEBOOK = solution_notebook(ASSIGNMENT)
SOLUTION = learner_namespace(NOTEBOOK)


# ---------------------------------------------------------------- other correct answers pass too

def _split_other(n, val_fraction, test_fraction, rng):
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    order = rng.permutation(n)
    return np.sort(order[n_test + n_val:]), np.sort(order[n_test:n_test + n_val]), list(order[:n_test])


def _split_shuffle_in_place(n, val_fraction, test_fraction, rng):
    order = np.arange(n)
    rng.shuffle(order)
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    return order[: n - n_val - n_test], order[n - n_val - n_test: n - n_test], order[n - n_test:]


CORRECT_SAMPLERS = {
    "base 10": lambda low, high, size, rng: 10 ** rng.uniform(np.log10(low), np.log10(high), size),
    "base 2": lambda low, high, size, rng: 2 ** rng.uniform(np.log2(low), np.log2(high), size),
    "inverse cdf": lambda low, high, size, rng: low * (high / low) ** rng.random(size),
    "scipy": lambda low, high, size, rng: stats.loguniform(low, high).rvs(size=size, random_state=rng),
}


def _random_search_other(objective, space, n_trials, rng):
    """Draws each dimension with rng.choice and scipy, in another order than the solution."""
    results = []
    for _ in range(n_trials):
        config = {}
        for name, spec in reversed(list(space.items())):
            if spec[0] == "log":
                config[name] = float(stats.loguniform(spec[1], spec[2]).rvs(random_state=rng))
            elif spec[0] == "uniform":
                config[name] = spec[1] + (spec[2] - spec[1]) * rng.random()
            else:
                config[name] = spec[1][rng.choice(len(spec[1]))]
        results.append((config, objective(config)))
    return results


def _random_search_rng_choice(objective, space, n_trials, rng):
    """Draws choices with rng.choice(values): NumPy scalars (np.str_, np.int64), not the values themselves."""
    results = []
    for _ in range(n_trials):
        config = {}
        for name, spec in space.items():
            if spec[0] == "log":
                config[name] = np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2])))
            elif spec[0] == "uniform":
                config[name] = rng.uniform(spec[1], spec[2])
            else:
                config[name] = rng.choice(spec[1])
        results.append((config, objective(config)))
    return results


def _split_sorted(n, val_fraction, test_fraction, rng):
    """Sorts each part: two seeds give the same split with probability 1 / multinomial(n; sizes)."""
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    order = rng.permutation(n)
    return np.sort(order[n_val + n_test:]), np.sort(order[:n_val]), np.sort(order[n_val:n_val + n_test])


def _failing_cells(namespace) -> dict[str, str]:
    """{grade_id: message} of the notebook's grade cells that fail with these implementations."""
    return {cell: message for cell, message in run_grade_cells(NOTEBOOK, namespace).items() if message}


@pytest.mark.parametrize("split", [_split_other, _split_shuffle_in_place])
def test_other_correct_splits_pass(split):
    namespace = dict(SOLUTION, train_val_test_split=split)
    failures = _failing_cells(namespace)
    assert not {k: v for k, v in failures.items() if "train_val_test_split" in k}


@pytest.mark.parametrize("name", sorted(CORRECT_SAMPLERS))
def test_other_correct_samplers_pass(name):
    namespace = dict(SOLUTION, sample_log_uniform=CORRECT_SAMPLERS[name])
    failures = _failing_cells(namespace)
    assert not {k: v for k, v in failures.items() if "sample_log_uniform" in k or "random_search" in k}


@pytest.mark.parametrize("search", [_random_search_other, _random_search_rng_choice])
def test_other_correct_random_search_passes(search):
    failures = _failing_cells(dict(SOLUTION, random_search=search))
    assert not {k: v for k, v in failures.items() if "random_search" in k}


# ---------------------------------------------------------------- property-based: the solution always passes
# The statistical checks reject a correct sampler with probability at most ALPHA (1e-6) per call,
# whatever the seed; these runs are also derandomized: the same examples every run, never a flaky failure.

@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=strategies.split_cases())
def test_solution_passes_split_check(case):
    hs.check_train_val_test_split(SOLUTION["train_val_test_split"], **case)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(case=strategies.log_uniform_cases())
def test_solution_passes_log_uniform_check(case):
    hs.check_sample_log_uniform(SOLUTION["sample_log_uniform"], **case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=strategies.search_space_cases())
def test_solution_passes_random_search_check(case):
    hs.check_random_search(SOLUTION["random_search"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.grid_cases())
def test_solution_passes_grid_search_check(case):
    hs.check_grid_search(SOLUTION["grid_search"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.narrow_cases())
def test_solution_passes_narrow_space_check(case):
    hs.check_narrow_space(SOLUTION["narrow_space"], **case)


# ---------------------------------------------------------------- the checks are decisive

@pytest.mark.parametrize("low, high", [(1e-4, 1.0), (0.5, 5.0), (1e-3, 1e3)])
def test_uniform_sampler_fails_decisively(low, high):
    """A uniform sampler is rejected with a p-value far below ALPHA, not by luck."""
    samples = np.random.default_rng(0).uniform(low, high, 1000)
    assert stats.kstest(samples, stats.loguniform(low, high).cdf).pvalue < 1e-10
    with pytest.raises(CheckFailed, match="uniform on \\[low, high\\], not log-uniform"):
        hs.check_sample_log_uniform(lambda lo, hi, size, rng: rng.uniform(lo, hi, size), low=low, high=high, size=1000)


def test_grid_order_is_itertools_product():
    grid = {"a": [1, 2], "b": ["x", "y", "z"]}
    seen = []
    SOLUTION["grid_search"](lambda c: seen.append(dict(c)) or 0.0, grid)
    assert seen == [dict(zip("ab", v)) for v in itertools.product([1, 2], ["x", "y", "z"])]


def test_narrow_space_reference_keeps_the_best():
    results = [({"lr": 0.1}, 0.5), ({"lr": 0.01}, 0.9), ({"lr": 0.001}, 0.7), ({"lr": 1.0}, 0.1)]
    space = {"lr": ("log", 1e-4, 10.0)}
    before = copy.deepcopy(results)
    assert SOLUTION["narrow_space"](results, space, 2) == {"lr": ("log", 0.001, 0.01)}
    assert results == before


def test_not_implemented_is_reported_as_such():
    def stub(*args):
        raise NotImplementedError()

    for check in (hs.check_train_val_test_split, hs.check_sample_log_uniform, hs.check_random_search,
                  hs.check_grid_search, hs.check_narrow_space):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


def test_ties_for_round_are_refused():
    with pytest.raises(ValueError):
        hs.check_train_val_test_split(SOLUTION["train_val_test_split"], n=10, val_fraction=0.25)


# ---------------------------------------------------------------- every known mistake loses points with its hint


# ---------------------------------------------------------------- probe and verdict, apart

CASES = [  # (check, solution function, parameters) as the notebook's grade cells use them
    (hs.check_train_val_test_split, "train_val_test_split", {}),
    (hs.check_train_val_test_split, "train_val_test_split", {"n": 37, "val_fraction": 0.3, "test_fraction": 0.2}),
    (hs.check_train_val_test_split, "train_val_test_split", {"n": 3, "val_fraction": 0.34, "test_fraction": 0.34}),
    (hs.check_sample_log_uniform, "sample_log_uniform", {"low": 1e-3, "high": 1e3, "size": (40, 50)}),
    (hs.check_random_search, "random_search", {}),
    (hs.check_random_search, "random_search",
     {"n_trials": 400, "space": {"weight_decay": ("log", 1e-6, 1e-1), "batch_size": ("choice", [16, 32, 64, 128])}}),
    (hs.check_grid_search, "grid_search", {"grid": {"a": [1, 2], "b": [3, 4, 5], "c": ["x", "y"]}}),
    (hs.check_narrow_space, "narrow_space", {"n_results": 25, "top_k": 3}),
]


def _objects(value) -> list:
    """The ObjectData (values that are not data) anywhere in a record."""
    if isinstance(value, ObjectData):
        return [value]
    if isinstance(value, dict):
        return [o for item in value.values() for o in _objects(item)]
    if isinstance(value, (list, tuple)):
        return [o for item in value for o in _objects(item)]
    return []


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 3])
@pytest.mark.parametrize("chk, name, params", CASES, ids=lambda v: getattr(v, "name", None) or str(v)[:30])
def test_verdict_decides_from_the_encoded_record_alone(chk, name, params, seed):
    params = dict(params, seed=seed)
    record = chk.run_probe([SOLUTION[name]], params)
    assert record.failure is None and not _objects(dict(record)), record
    chk.run_verdict(decode(encode(record)), params)


def test_searches_record_the_configurations_the_objective_was_called_with():
    params = {"grid": {"a": [1, 2], "b": ["x", "y", "z"]}, "seed": 3}
    record = hs.check_grid_search.run_probe([SOLUTION["grid_search"]], params)
    assert record["calls"] == [dict(zip("ab", v)) for v in itertools.product([1, 2], ["x", "y", "z"])]
    record = hs.check_random_search.run_probe([_random_search_rng_choice], {"n_trials": 50, "seed": 1})
    assert [config for config, _ in record["results"]] == record["calls"]
    assert all(type(config["activation"]) is str for config in record["calls"])  # np.str_ arrives as str


def test_objective_error_is_reported_even_if_the_learner_catches_it():
    def swallowing_search(objective, space, n_trials, rng):
        results = []
        for _ in range(n_trials):
            config = {name: spec[1] for name, spec in space.items()}
            try:
                score = objective(list(config.items()))
            except Exception:  # noqa: BLE001 - the mistake under test
                score = objective(config)
            results.append((config, score))
        return results

    with pytest.raises(CheckFailed, match="must be called with one configuration"):
        hs.check_random_search(swallowing_search, n_trials=10)


def test_module_imports_numpy_only():
    """The probes run in a sandbox that holds NumPy alone: SciPy is imported by the verdicts."""
    code = "import sys, autograder.hyperparameter_search; print(sorted({'sklearn', 'scipy', 'torch'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- no false failure, whatever the seed

def test_split_compares_seeds_only_where_two_shuffles_rarely_coincide():
    assert not hs._split_inputs(n=10, val_fraction=0.0, test_fraction=0.3)["other_seed"]  # 1 in 120
    assert hs._split_inputs(n=100)["other_seed"]
    # Seeds 71 and 72 give the same sorted split of 10 indices: correct, and not a failure.
    first = _split_sorted(10, 0.0, 0.3, np.random.default_rng(71))
    second = _split_sorted(10, 0.0, 0.3, np.random.default_rng(72))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    hs.check_train_val_test_split(_split_sorted, n=10, val_fraction=0.0, test_fraction=0.3, seed=71)


def test_random_search_gates_the_tests_a_correct_answer_could_fail_by_chance():
    few = hs._search_inputs(space={"c": ("choice", [1, 2, 3, 4, 5])}, n_trials=20)
    assert few["never_checked"] == set()  # a correct sampler misses one of 5 in 20 draws 6% of the time
    assert few["other_seed"]              # but two seeds coincide with probability 5**-20 only
    assert not hs._search_inputs(space={"c": ("choice", [1, 2])}, n_trials=15)["other_seed"]  # 2**-15 > share
    many = hs._search_inputs()
    assert many["never_checked"] == {"activation"} and many["other_seed"]
    assert many["share"] == hs.ALPHA / 5  # two numeric dimensions, one choice (two tests), the other seed
    for seed in range(40):
        hs.check_random_search(SOLUTION["random_search"], space={"c": ("choice", [1, 2, 3, 4, 5])}, n_trials=20,
                               seed=seed)


@pytest.mark.parametrize("k", [2, 3])
def test_choice_test_rejects_a_fair_sampler_at_most_at_its_level(k):
    """Exact probability, over every count vector, that the equal-frequency test rejects a fair sampler."""
    level = 1e-4
    for n in [5, 10, 20, 30, 45, 60, 100, 200]:
        head = np.array([c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n])
        counts = np.column_stack([head, n - head.sum(axis=1)])
        # _choice_pvalue for every count vector at once: chi-square p, and k times the smallest binomial p.
        chi = stats.chi2.sf(((counts - n / k) ** 2).sum(axis=1) / (n / k), k - 1)
        binomial = np.array([stats.binomtest(c, n, 1 / k).pvalue for c in range(n + 1)])
        exact = np.minimum(1.0, k * binomial[counts].min(axis=1))
        for i in np.random.default_rng(n).choice(len(counts), 5):
            assert np.allclose(hs._choice_pvalue(counts[i]), (chi[i], exact[i]), rtol=1e-9, atol=0)
        rejected = np.maximum(chi, exact) < level
        chance = np.exp(stats.multinomial.logpmf(counts[rejected], n, [1 / k] * k)).sum()
        assert chance <= level, (n, chance)
