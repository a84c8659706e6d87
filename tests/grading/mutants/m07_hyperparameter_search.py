"""Wrong answers for exercise 07_hyperparameter_search (splits, sampling a configuration from a
search space, grid search, successive halving)."""
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
