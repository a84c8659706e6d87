"""Wrong answers for exercise 07_hyperparameter_search (splits, sampling a configuration from a
search space, grid search, successive halving)."""
import dataclasses

from tests.grading.mutants import Mutant

A = "07_hyperparameter_search"
SPLIT = "def train_val_test_split(n, val_fraction, test_fraction, rng):\n"
GRID = "def grid_search(objective, grid):\n"
SAMPLE_CELLS = ("test_sample_config", "test_sample_config_hidden")
HALVING_CELLS = ("test_successive_halving", "test_successive_halving_hidden")

_SAMPLE_LINES = {
    "condition": ("        if spec[0] == 'if':\n"
                  "            _, parent, value, spec = spec\n"
                  "            if parent not in config or config[parent] != value:\n"
                  "                continue\n"),
    "uniform": "            config[name] = float(rng.uniform(spec[1], spec[2]))\n",
    "log": "            config[name] = float(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))\n",
    "int": "            config[name] = int(rng.integers(spec[1], spec[2] + 1))\n",
    "int_log": ("            x = np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2] + 1)))\n"
                "            config[name] = min(int(x), spec[2])\n"),
    "choice": "            config[name] = spec[1][rng.integers(len(spec[1]))]\n",
}


def _sample_config(rng_line="", **wrong):
    """sample_config with the lines of some kinds swapped for wrong ones."""
    lines = dict(_SAMPLE_LINES, **wrong)
    return ("def sample_config(space, rng):\n"
            + rng_line
            + "    config = {}\n"
            + "    for name, spec in space.items():\n"
            + lines["condition"]
            + "        kind = spec[0]\n"
            + "".join(f"        {'if' if i == 0 else 'elif'} kind == {kind!r}:\n" + lines[kind]
                      for i, kind in enumerate(("uniform", "log", "int", "int_log", "choice")))
            + "    return config\n")


_HALVING_LINES = {
    "rungs": ("    n_rungs = 1\n"
              "    while factor ** n_rungs <= len(configs) and min_resource * factor ** n_rungs <= max_resource:\n"
              "        n_rungs += 1\n"
              "    for rung in range(n_rungs):\n"),
    "resource": "        resource = min_resource * factor ** rung\n",
    "order": "reverse=True",
    "keep": "math.ceil(len(results) / factor)",
}


def _successive_halving(**wrong):
    """successive_halving with some lines swapped for wrong ones."""
    lines = dict(_HALVING_LINES, **wrong)
    return ("def successive_halving(objective, configs, min_resource, max_resource, factor):\n"
            "    survivors, rungs = list(configs), []\n"
            + lines["rungs"]
            + lines["resource"]
            + "        results = [(config, objective(config, resource)) for config in survivors]\n"
              "        rungs.append((resource, results))\n"
            + f"        ranked = sorted(results, key=lambda pair: pair[1], {lines['order']})\n"
            + f"        survivors = [config for config, _ in ranked[:{lines['keep']}]]\n"
              "    return rungs\n")


MUTANTS = [
    # ---- train_val_test_split
    Mutant("split_val_test_independent", A,
           {"train_val_test_split": SPLIT
            + "    val = rng.choice(n, round(n * val_fraction), replace=False)\n"
              "    test = rng.choice(n, round(n * test_fraction), replace=False)\n"
              "    train = np.setdiff1d(np.arange(n), np.concatenate([val, test]))\n"
              "    return train, val, test\n"},
           ("test_train_val_test_split", "test_train_val_test_split_hidden"), "drawn independently",
           "validation and test drawn independently, so they overlap"),
    Mutant("split_truncates", A,
           {"train_val_test_split": SPLIT
            + "    n_val, n_test = int(n * val_fraction), int(n * test_fraction)\n"
              "    order = rng.permutation(n)\n"
              "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n"},
           ("test_train_val_test_split", "test_train_val_test_split_hidden"), "int() truncates",
           "int() instead of round() for the sizes"),
    Mutant("split_train_rounded_separately", A,
           {"train_val_test_split": SPLIT
            + "    n_train = round(n * (1 - val_fraction - test_fraction))\n"
              "    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
              "    order = rng.permutation(n)\n"
              "    train = order[:n_train]\n"
              "    val = order[n_train:n_train + n_val]\n"
              "    test = order[n_train + n_val:n_train + n_val + n_test]\n"
              "    return train, val, test\n"},
           ("test_train_val_test_split",), "rounded on its own",
           "the training size rounded separately: the parts do not cover range(n)"),
    Mutant("split_not_shuffled", A,
           {"train_val_test_split": SPLIT
            + "    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
              "    order = np.arange(n)\n"
              "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n"},
           ("test_train_val_test_split", "test_train_val_test_split_hidden"), "not shuffled",
           "slices of np.arange(n)"),
    Mutant("split_ignores_rng", A,
           {"train_val_test_split": SPLIT
            + "    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
              "    order = np.random.permutation(n)\n"
              "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n"},
           ("test_train_val_test_split", "test_train_val_test_split_hidden"), "rng argument was ignored",
           "np.random.permutation instead of rng"),
    Mutant("split_fixed_seed", A,
           {"train_val_test_split": SPLIT
            + "    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
              "    order = np.random.default_rng(0).permutation(n)\n"
              "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n"},
           ("test_train_val_test_split", "test_train_val_test_split_hidden"), "gave the same split",
           "a generator with a fixed seed inside the function"),
    # ---- sample_config
    Mutant("config_log_as_uniform", A,
           {"sample_config": _sample_config(log="            config[name] = float(rng.uniform(spec[1], spec[2]))\n")},
           SAMPLE_CELLS, "uniform on [low, high], not log-uniform", "a 'log' float sampled uniformly"),
    Mutant("config_int_excludes_high", A,
           {"sample_config": _sample_config(int="            config[name] = int(rng.integers(spec[1], spec[2]))\n")},
           SAMPLE_CELLS, "rng.integers(low, high) excludes its upper end", "off by one: rng.integers(low, high)"),
    Mutant("config_int_log_uniform_integers", A,
           {"sample_config": _sample_config(int_log="            config[name] = int(rng.integers(spec[1], spec[2] + 1))\n")},
           SAMPLE_CELLS, "the integers are uniform, not log-uniform", "an 'int_log' integer drawn uniformly"),
    Mutant("config_int_log_excludes_high", A,
           {"sample_config": _sample_config(int_log="            config[name] = int(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))\n")},
           SAMPLE_CELLS, "on [low, high) never reaches high", "off by one: the integer part of loguniform(low, high)"),
    Mutant("config_int_log_float", A,
           {"sample_config": _sample_config(int_log="            config[name] = np.floor(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2] + 1))))\n")},
           SAMPLE_CELLS, "np.floor and np.round return floats", "np.floor's float kept as the integer"),
    Mutant("config_condition_ignored", A,
           {"sample_config": _sample_config(condition="        if spec[0] == 'if':\n            spec = spec[3]\n")},
           SAMPLE_CELLS, "sampled when its condition is off", "a conditional parameter sampled for every configuration"),
    Mutant("config_condition_none", A,
           {"sample_config": _sample_config(condition=(
               "        if spec[0] == 'if':\n"
               "            _, parent, value, spec = spec\n"
               "            if config.get(parent) != value:\n"
               "                config[name] = None\n"
               "                continue\n"))},
           SAMPLE_CELLS, "None was stored for the inactive parameter", "None stored instead of leaving the name out"),
    Mutant("config_choice_index", A,
           {"sample_config": _sample_config(choice="            config[name] = int(rng.integers(len(spec[1])))\n")},
           SAMPLE_CELLS, "INDEX of the choice", "the index of the choice instead of its value"),
    Mutant("config_last_choice_never", A,
           {"sample_config": _sample_config(choice="            config[name] = spec[1][rng.integers(0, len(spec[1]) - 1)]\n")},
           SAMPLE_CELLS, "last choice is never drawn", "rng.integers(0, len - 1) excludes the last choice"),
    Mutant("config_ignores_rng", A,
           {"sample_config": _sample_config(rng_line="    rng = np.random.default_rng()\n")},
           SAMPLE_CELLS, "not reproducible", "a new unseeded generator instead of the rng passed in"),
    # ---- grid_search
    Mutant("grid_zip", A,
           {"grid_search": GRID
            + "    names = list(grid)\n"
              "    configs = [dict(zip(names, values)) for values in zip(*grid.values())]\n"
              "    return [(config, objective(config)) for config in configs]\n"},
           ("test_grid_search", "test_grid_search_hidden"), "zip() pairs",
           "zip instead of itertools.product: combinations missing"),
    Mutant("grid_one_name_at_a_time", A,
           {"grid_search": GRID
            + "    base = {name: values[0] for name, values in grid.items()}\n"
              "    results = []\n"
              "    for name, values in grid.items():\n"
              "        for value in values:\n"
              "            config = dict(base, **{name: value})\n"
              "            results.append((config, objective(config)))\n"
              "    return results\n"},
           ("test_grid_search", "test_grid_search_hidden"), "varied on its own",
           "one name varied at a time: combinations missing"),
    Mutant("grid_first_name_fastest", A,
           {"grid_search": GRID
            + "    names = list(grid)[::-1]\n"
              "    configs = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]\n"
              "    return [(config, objective(config)) for config in configs]\n"},
           ("test_grid_search", "test_grid_search_hidden"), "in another order",
           "every combination, but not in the documented order"),
    Mutant("grid_shared_dict", A,
           {"grid_search": GRID
            + "    names = list(grid)\n"
              "    config, results = {}, []\n"
              "    for values in itertools.product(*grid.values()):\n"
              "        config.update(zip(names, values))\n"
              "        results.append((config, objective(config)))\n"
              "    return results\n"},
           ("test_grid_search", "test_grid_search_hidden"), "SAME dict object",
           "one dict updated for every combination"),
    Mutant("grid_objective_twice", A,
           {"grid_search": GRID
            + "    names = list(grid)\n"
              "    results = []\n"
              "    for values in itertools.product(*grid.values()):\n"
              "        config = dict(zip(names, values))\n"
              "        objective(config)  # a trial run\n"
              "        results.append((config, objective(config)))\n"
              "    return results\n"},
           ("test_grid_search", "test_grid_search_hidden"), "expected once per configuration",
           "the objective evaluated twice per combination"),
    # ---- successive_halving
    Mutant("halving_rounds_down", A,
           {"successive_halving": _successive_halving(keep="len(results) // factor")},
           HALVING_CELLS, "rounded down (n // factor)", "n // factor survivors instead of ceil(n / factor)"),
    Mutant("halving_keeps_worst", A,
           {"successive_halving": _successive_halving(order="reverse=False")},
           HALVING_CELLS, "LOWEST scores were kept", "ascending sort keeps the worst configurations"),
    Mutant("halving_until_one_left", A,
           {"successive_halving": _successive_halving(rungs=(
               "    rung = -1\n"
               "    while rung < 0 or len(survivors) > 1:\n"
               "        rung += 1\n"),
               resource="        resource = min(min_resource * factor ** rung, max_resource)\n")},
           HALVING_CELLS, "went on while more than one candidate survived",
           "rungs until one configuration is left, instead of the fixed number of rungs"),
    Mutant("halving_first_rung_times_factor", A,
           {"successive_halving": _successive_halving(resource="        resource = min_resource * factor ** (rung + 1)\n")},
           HALVING_CELLS, "the first rung already had min_resource * factor", "rung i trains with min_resource * factor**(i + 1)"),
]

# The id each graded mutant's message must name (tests/grading/test_hints.py).
_IDS = {
    "split_val_test_independent": "hp-split-independent-draws", "split_truncates": "hp-split-truncates",
    "split_train_rounded_separately": "hp-split-train-rounded", "split_not_shuffled": "hp-split-not-shuffled",
    "split_ignores_rng": "hp-rng-ignored", "split_fixed_seed": "hp-rng-ignored",
    "config_log_as_uniform": "hp-log-uniform-is-uniform", "config_int_excludes_high": "hp-config-int-excludes-high",
    "config_int_log_uniform_integers": "hp-config-int-log-uniform",
    "config_int_log_excludes_high": "hp-config-int-log-excludes-high", "config_int_log_float": "hp-config-int-float",
    "config_condition_ignored": "hp-config-condition-ignored", "config_condition_none": "hp-config-condition-none",
    "config_choice_index": "hp-choice-index-stored", "config_last_choice_never": "hp-choice-last-never",
    "config_ignores_rng": "hp-rng-ignored", "grid_zip": "hp-grid-zip", "grid_one_name_at_a_time": "hp-grid-one-name-at-a-time",
    "grid_first_name_fastest": "hp-grid-order", "grid_shared_dict": "hp-shared-config-dict",
    "grid_objective_twice": "hp-objective-wrong-calls", "halving_rounds_down": "hp-halving-rounds-down",
    "halving_keeps_worst": "hp-halving-keeps-worst", "halving_until_one_left": "hp-halving-until-one-left",
    "halving_first_rung_times_factor": "hp-halving-first-rung-too-large",
}
MUTANTS = [dataclasses.replace(m, mistake=_IDS[m.name]) for m in MUTANTS]

SPLIT_CELLS = ("test_train_val_test_split", "test_train_val_test_split_hidden")
GRID_CELLS = ("test_grid_search", "test_grid_search_hidden")


def _split(body, *, name, hint, mistake):
    return Mutant(name, A, {"train_val_test_split": SPLIT + body}, SPLIT_CELLS, hint, mistake=mistake)


def _config(name, hint, mistake, **wrong):
    return Mutant(name, A, {"sample_config": _sample_config(**wrong)}, SAMPLE_CELLS, hint, mistake=mistake)


def _grid(body, *, name, hint, mistake):
    return Mutant(name, A, {"grid_search": GRID + body}, GRID_CELLS, hint, mistake=mistake)


def _halving(name, hint, mistake, **wrong):
    return Mutant(name, A, {"successive_halving": _successive_halving(**wrong)}, HALVING_CELLS, hint, mistake=mistake)


_LOG = "            config[name] = float({})\n"
_INT_LOG = "            config[name] = int({})\n"

HINTS = [
    # ---- train_val_test_split
    _split("    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
           "    order = rng.choice(n, n)\n"
           "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n",
           name="split_with_replacement", hint="WITH replacement", mistake="hp-split-with-replacement"),
    _split("    n_val, n_test = math.ceil(n * val_fraction), math.ceil(n * test_fraction)\n"
           "    order = rng.permutation(n)\n"
           "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n",
           name="split_ceil", hint="math.ceil rounds", mistake="hp-split-rounds-up"),
    _split("    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
           "    order = rng.permutation(n)\n"
           "    return order[n_val + n_test:], order[n_val:n_val + n_test], order[:n_val]\n",
           name="split_val_test_swapped", hint="parts are swapped", mistake="hp-split-parts-swapped"),
    Mutant("split_round_half_up", A, {"train_val_test_split": SPLIT
           + "    n_val, n_test = int(n * val_fraction + 0.5), int(n * test_fraction + 0.5)\n"
             "    order = rng.permutation(n)\n"
             "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n"},
           ("test_train_val_test_split",), "exact half to the even integer", mistake="hp-split-rounds-half-up"),
    _split("    n_val, n_test = round(n * val_fraction), round(n * test_fraction)\n"
           "    order = np.random.default_rng(42).permutation(n)\n"
           "    return order[n_val + n_test:], order[:n_val], order[n_val:n_val + n_test]\n",
           name="split_fixed_seed_42", hint="gave the same split", mistake="hp-rng-ignored"),
    # ---- sample_config: log-scale floats
    _config("config_log_no_exp", "exp() was not applied", "hp-log-uniform-no-exp",
            log=_LOG.format("rng.uniform(np.log(spec[1]), np.log(spec[2]))")),
    _config("config_log_ten_to_natural", "the bases are mixed up", "hp-log-uniform-mixed-bases",
            log=_LOG.format("10 ** rng.uniform(np.log(spec[1]), np.log(spec[2]))")),
    _config("config_log_exp_of_log10", "the bases are mixed up", "hp-log-uniform-mixed-bases",
            log=_LOG.format("np.exp(rng.uniform(np.log10(spec[1]), np.log10(spec[2])))")),
    _config("config_log_bounds_as_exponents", "low and high were used as exponents", "hp-log-uniform-bounds-as-exponents",
            log=_LOG.format("10 ** rng.uniform(spec[1], spec[2])")),
    _config("config_log_high_not_logged", "instead of [log(low), log(high)]", "hp-log-uniform-high-not-logged",
            log=_LOG.format("np.exp(rng.uniform(np.log(spec[1]), spec[2]))")),
    # ---- sample_config: integers
    _config("config_int_log_round", "was ROUNDED", "hp-config-int-log-rounded",
            int_log=_INT_LOG.format("round(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))")),
    _config("config_int_log_round_high_plus_one", "was ROUNDED", "hp-config-int-log-rounded",
            int_log=_INT_LOG.format("round(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2] + 1))))")),
    _config("config_int_log_ceil", "rounded UP", "hp-config-int-log-rounded",
            int_log=_INT_LOG.format("math.ceil(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2] + 1))))")),
    _config("config_int_log_ceil_no_plus_one", "rounded UP (ceil), so low never comes", "hp-config-int-log-rounded",
            int_log=_INT_LOG.format("math.ceil(np.exp(rng.uniform(np.log(spec[1]), np.log(spec[2]))))")),
    _config("config_int_round", "was ROUNDED", "hp-config-int-rounded",
            int="            config[name] = int(round(rng.uniform(spec[1], spec[2])))\n"),
    _config("config_int_truncated_float", "`high` is never drawn", "hp-config-int-excludes-high",
            int="            config[name] = int(rng.uniform(spec[1], spec[2]))\n"),
    # ---- sample_config: choices, conditions, the generator, the dict
    _config("config_first_choice_never", "first choice is never drawn", "hp-choice-first-never",
            choice="            config[name] = spec[1][rng.integers(1, len(spec[1]))]\n"),
    _config("config_condition_is", "with `is`", "hp-config-condition-is",
            condition=("        if spec[0] == 'if':\n"
                       "            _, parent, value, spec = spec\n"
                       "            if parent not in config or config[parent] is not value:\n"
                       "                continue\n")),
    _config("config_condition_parent_not_checked", "was left out", "hp-config-parent-absent",
            condition=("        if spec[0] == 'if':\n"
                       "            _, parent, value, spec = spec\n"
                       "            if config[parent] != value:\n"
                       "                continue\n")),
    _config("config_fixed_seed_each_call", "created on every call", "hp-rng-recreated",
            rng_line="    rng = np.random.default_rng(0)\n"),
    Mutant("config_mutable_default", A,
           {"sample_config": _sample_config().replace("def sample_config(space, rng):\n    config = {}\n",
                                                      "def sample_config(space, rng, config={}):\n")},
           SAMPLE_CELLS, "SAME dict object", mistake="hp-config-dict-reused"),
    # ---- grid_search
    _grid("    names = sorted(grid)\n"
          "    configs = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]\n"
          "    return [(config, objective(config)) for config in configs]\n",
          name="grid_sorted_names", hint="names were sorted", mistake="hp-grid-names-sorted"),
    _grid("    names = list(grid)\n"
          "    configs = [dict(zip(names, values)) for values in itertools.product(*(sorted(grid[n]) for n in names))]\n"
          "    return [(config, objective(config)) for config in configs]\n",
          name="grid_sorted_values", hint="values were sorted", mistake="hp-grid-values-sorted"),
    _grid("    names = list(grid)\n"
          "    configs = [dict(zip(names, values)) for values in itertools.product(*grid.values())]\n"
          "    return [(objective(config), config) for config in configs]\n",
          name="grid_score_first", hint="(score, config)", mistake="hp-result-pair-swapped"),
    _grid("    names = list(grid)\n"
          "    configs = [dict(zip(names, values)) for values in itertools.product(*grid.values())]\n"
          "    return [(config, objective(**config)) for config in configs]\n",
          name="grid_objective_keywords", hint="objective(**config)", mistake="hp-objective-wrong-argument"),
    _grid("    names = list(grid)\n"
          "    results = []\n"
          "    for values in itertools.product(*grid.values()):\n"
          "        config = dict(zip(names, values))\n"
          "        results.append((config, objective(config)))\n",
          name="grid_no_return", hint="did you forget to `return`", mistake="forgot-return"),
    _grid("    names = list(grid)\n"
          "    configs = [dict(zip(names, values)) for values in itertools.product(*grid.values())]\n"
          "    return sorted([(config, objective(config)) for config in configs], key=lambda pair: pair[1], reverse=True)\n",
          name="grid_sorted_by_score", hint="sorted by score (best first)", mistake="hp-grid-sorted-by-score"),
    # ---- successive_halving
    _halving("halving_rungs_strict", "the last rung is missing", "hp-halving-last-rung-missing",
             rungs=("    n_rungs = 1\n"
                    "    while factor ** n_rungs < len(configs) and min_resource * factor ** n_rungs <= max_resource:\n"
                    "        n_rungs += 1\n"
                    "    for rung in range(n_rungs):\n")),
    _halving("halving_float_log", "the last rung is missing", "hp-halving-last-rung-missing",
             rungs=("    n_rungs = 1 + int(min(math.log(len(configs), factor), math.log(max_resource / min_resource, factor)))\n"
                    "    for rung in range(n_rungs):\n")),
    _halving("halving_until_one_within_budget", "the last rung is missing", "hp-halving-last-rung-missing",
             rungs=("    rung = -1\n"
                    "    while rung < 0 or (len(survivors) > 1 and min_resource * factor ** (rung + 1) <= max_resource):\n"
                    "        rung += 1\n")),
    _halving("halving_clip_to_max_resource", "clipped to max_resource", "hp-halving-resource-clipped",
             rungs=("    n_rungs = 1\n"
                    "    while factor ** n_rungs <= len(configs):\n"
                    "        n_rungs += 1\n"
                    "    for rung in range(n_rungs):\n"),
             resource="        resource = min(min_resource * factor ** rung, max_resource)\n"),
    _halving("halving_resource_linear", "grew linearly", "hp-halving-resource-growth",
             resource="        resource = min_resource * factor * rung if rung else min_resource\n"),
    Mutant("halving_rung_lists_survivors", A,
           {"successive_halving": _successive_halving().replace(
               "        rungs.append((resource, results))\n"
               "        ranked = sorted(results, key=lambda pair: pair[1], reverse=True)\n"
               "        survivors = [config for config, _ in ranked[:math.ceil(len(results) / factor)]]\n",
               "        ranked = sorted(results, key=lambda pair: pair[1], reverse=True)\n"
               "        rungs.append((resource, ranked[:math.ceil(len(results) / factor)]))\n"
               "        survivors = [config for config, _ in ranked[:math.ceil(len(results) / factor)]]\n")},
           HALVING_CELLS, "lists only the candidates it kept", mistake="hp-halving-rung-lists-survivors"),
    _halving("halving_resource_doubled", "doubled from rung to rung", "hp-halving-resource-growth",
             resource="        resource = min_resource * 2 ** rung\n"),
    _halving("halving_resource_additive", "grew by min_resource per rung", "hp-halving-resource-growth",
             resource="        resource = min_resource * (rung + 1)\n"),
    _halving("halving_keep_rounded", "round(n / factor)", "hp-halving-keep-rounded",
             keep="round(len(results) / factor)"),
    _halving("halving_ignores_max_resource", "ignored max_resource", "hp-halving-ignores-max-resource",
             rungs=("    n_rungs = 1\n"
                    "    while factor ** n_rungs <= len(configs):\n"
                    "        n_rungs += 1\n"
                    "    for rung in range(n_rungs):\n")),
    _halving("halving_ignores_candidates", "ignored how many configurations", "hp-halving-ignores-candidates",
             rungs=("    n_rungs = 1\n"
                    "    while min_resource * factor ** n_rungs <= max_resource:\n"
                    "        n_rungs += 1\n"
                    "    for rung in range(n_rungs):\n")),
    Mutant("halving_score_first", A,
           {"successive_halving": _successive_halving().replace(
               "        results = [(config, objective(config, resource)) for config in survivors]\n"
               "        rungs.append((resource, results))\n",
               "        results = [(config, objective(config, resource)) for config in survivors]\n"
               "        rungs.append((resource, [(score, config) for config, score in results]))\n")},
           HALVING_CELLS, "(score, config)", mistake="hp-result-pair-swapped"),
]
