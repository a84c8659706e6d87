"""The chapter-7 checks called directly on the solution's functions and on the mutants (fast, no kernel).

Hypothesis varies sizes, fractions, spaces, budgets and seeds: the solution must pass every one,
so the statistical checks never fail a correct answer on the inputs the notebook could use.
Other correct ways of writing the functions (other bases, other draws from the rng, other loops)
must pass the notebook's own test cells too.
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
from tests.grading.notebook_code import learner_namespace, nbgrader_meta, run_grade_cells, solution_notebook

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


def _sample_config_other(space, rng):
    """Base-10 logs, inverse cdfs, rng.choice (NumPy scalars), integers(endpoint=True), and a draw for
    every name even when its condition is off (then dropped): another stream of random numbers."""
    config = {}
    for name, spec in space.items():
        condition = None
        if spec[0] == "if":
            condition, spec = (spec[1], spec[2]), spec[3]
        kind = spec[0]
        if kind == "uniform":
            value = spec[1] + (spec[2] - spec[1]) * rng.random()
        elif kind == "log":
            value = 10 ** rng.uniform(np.log10(spec[1]), np.log10(spec[2]))
        elif kind == "int":
            value = rng.integers(spec[1], spec[2], endpoint=True)
        elif kind == "int_log":
            value = min(int(np.floor(spec[1] * ((spec[2] + 1) / spec[1]) ** rng.random())), spec[2])
        else:
            value = rng.choice(spec[1])
        if condition is None or (condition[0] in config and config[condition[0]] == condition[1]):
            config[name] = value
    return config


def _successive_halving_other(objective, configs, min_resource, max_resource, factor):
    """Counts the rungs with integer powers from the top down, and ranks by negated score."""
    n_rungs = 0
    while factor ** n_rungs <= len(configs) and min_resource * factor ** n_rungs <= max_resource:
        n_rungs += 1
    alive, rungs = list(range(len(configs))), []
    for rung in range(n_rungs):
        resource = min_resource * factor ** rung
        scores = {i: objective(configs[i], resource) for i in alive}
        rungs.append((resource, [(configs[i], scores[i]) for i in alive]))
        alive = sorted(alive, key=lambda i: -scores[i])[: -(-len(alive) // factor)]
    return rungs


def _split_sorted(n, val_fraction, test_fraction, rng):
    """Sorts each part: two seeds give the same split with probability 1 / multinomial(n; sizes)."""
    n_val, n_test = round(n * val_fraction), round(n * test_fraction)
    order = rng.permutation(n)
    return np.sort(order[n_val + n_test:]), np.sort(order[:n_val]), np.sort(order[n_val:n_val + n_test])


def _failing_cells(namespace, function: str | None = None) -> dict[str, str]:
    """{grade_id: message} of the notebook's grade cells (those of ``function``, or all) that fail
    with these implementations."""
    notebook = copy.deepcopy(NOTEBOOK)
    if function is not None:
        notebook.cells = [cell for cell in notebook.cells
                          if not nbgrader_meta(cell).get("grade") or function in nbgrader_meta(cell)["grade_id"]]
    return {cell: message for cell, message in run_grade_cells(notebook, namespace).items() if message}


@pytest.mark.parametrize("split", [_split_other, _split_shuffle_in_place])
def test_other_correct_splits_pass(split):
    assert not _failing_cells(dict(SOLUTION, train_val_test_split=split), "train_val_test_split")


def test_another_correct_sampler_passes():
    assert not _failing_cells(dict(SOLUTION, sample_config=_sample_config_other), "sample_config")


def test_another_correct_successive_halving_passes():
    assert not _failing_cells(dict(SOLUTION, successive_halving=_successive_halving_other), "successive_halving")


def test_the_solution_passes_every_grade_cell():
    assert not _failing_cells(SOLUTION)


# ---------------------------------------------------------------- property-based: the solution always passes
# The statistical checks reject a correct sampler with probability at most ALPHA (1e-6) per call,
# whatever the seed; these runs are also derandomized: the same examples every run, never a flaky failure.

@settings(max_examples=60, deadline=None, derandomize=True)
@given(case=strategies.split_cases())
def test_solution_passes_split_check(case):
    hs.check_train_val_test_split(SOLUTION["train_val_test_split"], **case)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=strategies.config_space_cases())
def test_solution_passes_sample_config_check(case):
    hs.check_sample_config(SOLUTION["sample_config"], **case)


@settings(max_examples=40, deadline=None)
@given(case=strategies.grid_cases())
def test_solution_passes_grid_search_check(case):
    hs.check_grid_search(SOLUTION["grid_search"], **case)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(case=strategies.halving_cases())
def test_solution_passes_successive_halving_check(case):
    hs.check_successive_halving(SOLUTION["successive_halving"], **case)


# ---------------------------------------------------------------- the checks are decisive, and the references right

@pytest.mark.parametrize("low, high", [(1e-4, 1.0), (0.5, 5.0), (1e-3, 1e3)])
def test_uniform_sampler_fails_decisively(low, high):
    """A uniform sampler for a 'log' float is rejected with a p-value far below ALPHA, not by luck."""
    samples = np.random.default_rng(0).uniform(low, high, 1000)
    assert stats.kstest(samples, stats.loguniform(low, high).cdf).pvalue < 1e-10

    def uniform(space, rng):
        return {"lr": float(rng.uniform(low, high))}

    with pytest.raises(CheckFailed, match="uniform on \\[low, high\\], not log-uniform"):
        hs.check_sample_config(uniform, space={"lr": ("log", low, high)}, n_draws=1000)


def test_int_log_reference_is_the_integer_part_of_scipys_loguniform():
    low, high = 4, 32
    pmf = hs._reference_pmf("int_log", low, high)
    k = np.arange(low, high + 1)
    assert np.allclose(pmf, np.log((k + 1) / k) / np.log((high + 1) / low), rtol=1e-12)
    assert np.allclose(hs._integer_pmf("int_log", low, high), pmf, rtol=1e-12)   # the inputs' NumPy copy
    assert np.allclose(hs._reference_pmf("int", 1, 4), 0.25)
    draws = np.floor(stats.loguniform(low, high + 1).rvs(size=200_000, random_state=1)).astype(int)
    assert np.abs(np.bincount(draws - low, minlength=pmf.size) / draws.size - pmf).max() < 0.005


@pytest.mark.parametrize("pmf", [np.full(4, 0.25), np.array([0.5, 0.3, 0.2]), np.array([0.7, 0.1, 0.1, 0.1])])
def test_discrete_ks_rejects_a_correct_sampler_at_most_at_its_level(pmf):
    """Exact probability, over every count vector, that the discrete KS test rejects a correct sampler."""
    k = pmf.size
    for n, level in [(5, 0.05), (12, 0.01), (20, 0.01), (30, 1e-3)]:
        head = np.array([c for c in itertools.product(range(n + 1), repeat=k - 1) if sum(c) <= n])
        counts = np.column_stack([head, n - head.sum(axis=1)])
        # _discrete_ks_pvalue for every count vector at once: the largest gap between the step functions.
        p = stats.kstwo.sf(np.abs(np.cumsum(counts, axis=1) / n - np.cumsum(pmf)).max(axis=1), n)
        for i in np.random.default_rng(n).choice(len(counts), 5):
            assert np.isclose(hs._discrete_ks_pvalue(np.repeat(np.arange(k), counts[i]), 0, pmf), p[i], rtol=1e-9)
        rejected = p < level
        chance = np.exp(stats.multinomial.logpmf(counts[rejected], n, pmf)).sum() if rejected.any() else 0.0
        assert chance <= level, (n, level, chance)


def test_the_notebooks_example_schedule():
    rungs = SOLUTION["successive_halving"](lambda config, resource: config["i"] * resource,
                                           [{"i": i} for i in range(20)], 1, 27, 3)
    assert [(resource, len(results)) for resource, results in rungs] == [(1, 20), (3, 7), (9, 3)]
    assert [config["i"] for config, _ in rungs[-1][1]] == [19, 18, 17]


@settings(max_examples=30, deadline=None, derandomize=True)
@given(case=strategies.halving_cases())
def test_scikit_learns_schedule_is_the_documented_rule(case):
    """HalvingGridSearchCV (the reference) and the rule the notebook states, in plain Python, agree."""
    inputs = hs._halving_inputs(**case)
    assert hs._sklearn_schedule(inputs) == hs._simulate(inputs)


def test_halving_follows_the_integer_rule_where_the_floating_point_log_is_short():
    """math.log(243, 3) = 4.999...: scikit-learn's schedule has one rung fewer than the documented rule there, and
    the check follows the rule (six rungs, the last of one); a count by a floating-point log is told so."""
    inputs = hs._halving_inputs(n_configs=243, max_resource=243)
    assert inputs["float_log_short"]
    resources, rungs = hs._simulate(inputs)
    assert resources == [1, 3, 9, 27, 81, 243] and [len(r) for r in rungs] == [243, 81, 27, 9, 3, 1]
    hs.check_successive_halving(SOLUTION["successive_halving"], n_configs=243, max_resource=243)
    assert not hs._halving_inputs(n_configs=27, max_resource=81)["float_log_short"]   # math.log(27, 3) = 3.0000...4


def test_not_implemented_is_reported_as_such():
    def stub(*args):
        raise NotImplementedError()

    for check in (hs.check_train_val_test_split, hs.check_sample_config, hs.check_grid_search,
                  hs.check_successive_halving):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


def test_ties_for_round_are_pythons_round():
    """26 * 0.25 = 6.5: Python's round() gives 6 (half to even), the documented rule; int(x + 0.5) gives 7."""
    hs.check_train_val_test_split(SOLUTION["train_val_test_split"], n=26, val_fraction=0.25, test_fraction=0.2)
    hs.check_train_val_test_split(SOLUTION["train_val_test_split"], n=10, val_fraction=0.25, test_fraction=0.05)


def test_grid_order_is_itertools_product():
    grid = {"a": [1, 2], "b": ["x", "y", "z"]}
    seen = []
    SOLUTION["grid_search"](lambda c: seen.append(dict(c)) or 0.0, grid)
    assert seen == [dict(zip("ab", v)) for v in itertools.product([1, 2], ["x", "y", "z"])]


# ---------------------------------------------------------------- probe and verdict, apart

CASES = [  # (check, solution function, parameters) as the notebook's grade cells use them
    (hs.check_train_val_test_split, "train_val_test_split", {}),
    (hs.check_train_val_test_split, "train_val_test_split", {"n": 37, "val_fraction": 0.3, "test_fraction": 0.2}),
    (hs.check_train_val_test_split, "train_val_test_split", {"n": 3, "val_fraction": 0.34, "test_fraction": 0.34}),
    (hs.check_sample_config, "sample_config", {}),
    (hs.check_sample_config, "sample_config",
     {"n_draws": 500, "space": {"a": ("choice", ["x", "y"]), "b": ("if", "a", "y", ("int_log", 1, 9))}}),
    (hs.check_grid_search, "grid_search", {"grid": {"a": [1, 2], "b": [3, 4, 5], "c": ["x", "y"]}}),
    (hs.check_successive_halving, "successive_halving", {}),
    (hs.check_successive_halving, "successive_halving", {"n_configs": 50, "max_resource": 16, "factor": 2}),
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


def test_searches_record_the_calls_the_objective_got():
    params = {"grid": {"a": [1, 2], "b": ["x", "y", "z"]}, "seed": 3}
    record = hs.check_grid_search.run_probe([SOLUTION["grid_search"]], params)
    assert record["calls"] == [dict(zip("ab", v)) for v in itertools.product([1, 2], ["x", "y", "z"])]
    record = hs.check_successive_halving.run_probe([SOLUTION["successive_halving"]], {"n_configs": 10, "seed": 1})
    keys = hs._halving_inputs(n_configs=10, seed=1)["keys"]
    in_rungs = sorted((keys.index(hs._config_key(config, list(config))), resource)
                      for resource, results in record["rungs"] for config, _ in results)
    assert len(in_rungs) == 10 + 4 + 2 and sorted(map(tuple, record["calls"])) == in_rungs
    record = hs.check_sample_config.run_probe([_sample_config_other], {"n_draws": 50, "seed": 1})
    assert all(type(config["optimizer"]) is str for config in record["configs"])  # np.str_ arrives as str


def test_objective_error_is_reported_even_if_the_learner_catches_it():
    def swallowing_halving(objective, configs, min_resource, max_resource, factor):
        results = []
        for config in configs:
            try:
                score = objective(list(config.items()), min_resource)
            except Exception:  # noqa: BLE001 - the mistake under test
                score = objective(config, min_resource)
            results.append((config, score))
        return [(min_resource, results)]

    with pytest.raises(CheckFailed, match="config a dict"):
        hs.check_successive_halving(swallowing_halving, n_configs=5)


def test_module_imports_numpy_only():
    """The probes run in a sandbox that holds NumPy alone: SciPy and scikit-learn are imported by the verdicts."""
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


def test_sample_config_gates_the_tests_a_correct_answer_could_fail_by_chance():
    inputs = hs._config_space_inputs()
    assert inputs["share"] == hs.ALPHA / 13   # 3 floats and 3 discrete names (two tests each), the other seed
    assert inputs["other_seed"]
    few = hs._config_space_inputs(space={"c": ("choice", [1, 2])}, n_draws=15)
    assert not few["other_seed"]              # two seeds give the same 15 draws with probability 2**-15
    # A correct sampler misses one of 5 values in 20 draws 6% of the time: not a failure.
    for seed in range(40):
        hs.check_sample_config(SOLUTION["sample_config"], space={"c": ("choice", [1, 2, 3, 4, 5]),
                                                                  "k": ("int", 1, 5)}, n_draws=20, seed=seed)


def test_sample_config_refuses_a_condition_on_a_later_name():
    with pytest.raises(ValueError, match="earlier"):
        hs._config_space_inputs(space={"m": ("if", "opt", "sgd", ("uniform", 0, 1)), "opt": ("choice", ["sgd"])})


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


def test_the_course_split_helper_is_refused_in_every_grading_path():
    """normreg.data.split_indices (the book's split) answers train_val_test_split when seeded from the rng:
    the probe sees its code run (the exercise's ``code`` rule) and the check refuses it, by any name."""
    from autograder.probe import ForbiddenReference
    from normreg import data as course_data

    def train_val_test_split(n, val_fraction, test_fraction, rng):
        val, test, train = course_data.split_indices(n, (val_fraction, test_fraction, 1.0),
                                                     seed=int(rng.integers(2 ** 31)))
        return train, val, test

    with pytest.raises(ForbiddenReference, match=r"course's own implementation \(normreg\.data\.split_indices"):
        hs.check_train_val_test_split(train_val_test_split)


# ---------------------------------------------------------------- the objective's record is not the learner's to rewrite

@pytest.mark.parametrize("make", [
    lambda: hs._RecordingObjective({"lr": 1.0}, {}, "objective_error"),
    lambda: hs._HalvingObjective({"seed": 0, "keys": [], "configs": [{"lr": 0.1}]}, {}),
])
def test_the_objective_handed_to_a_search_keeps_no_public_state(make):
    """Attack 5: a search that emptied ``objective.calls`` and wrote the expected calls into it scored 22/22. The
    record is private now, and the class grader's reading refuses a private attribute of an object the notebook did
    not define (``objective._calls``)."""
    objective = make()
    assert [name for name in vars(objective) if not name.startswith("_")] == []


@pytest.mark.parametrize("code", [
    "def grid_search(objective, grid):\n    objective._calls.clear()\n    return []",
    "def successive_halving(objective, configs, min_resource, max_resource, factor):\n"
    "    objective._calls[:] = [[0, 1]]\n    return []",
])
def test_rewriting_the_objectives_record_is_hidden_code(code):
    from autograder.forbidden import RULES
    from grader.policy import review

    result = review([(1, code)], [], RULES["07_hyperparameter_search"])
    assert any("private" in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_consecutive_draws_that_depend_on_each_other_fail():
    """Attack 6: a sampler whose every second draw mirrors the one before (low + high - v, antithetic pairs) has
    exact marginal distributions and scored 22/22; consecutive draws on the same side of the median say so."""
    def antithetic(space, rng, _last={}):
        key = id(rng)
        if key in _last:
            previous = _last.pop(key)
            return {name: (spec[1] + spec[2] - previous[name]) if spec[0] == "uniform" else
                    (spec[1] * spec[2] / previous[name]) if spec[0] == "log" else previous[name]
                    for name, spec in space.items()}
        config = {name: float(rng.uniform(spec[1], spec[2])) if spec[0] == "uniform" else
                  float(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2])))) for name, spec in space.items()}
        _last[key] = config
        return config

    with pytest.raises(CheckFailed, match="same side of its median"):
        hs.check_sample_config(antithetic, space={"lr": ("log", 1e-4, 1.0), "m": ("uniform", 0.0, 1.0)}, seed=3)
    for seed in range(30):  # independent draws pass (a false failure has probability below ALPHA per call)
        hs.check_sample_config(SOLUTION["sample_config"], space={"lr": ("log", 1e-4, 1.0), "m": ("uniform", 0.0, 1.0)},
                               seed=seed)
