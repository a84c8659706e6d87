"""Wrong answers for exercise 07_hyperparameter_search (splits, log-uniform sampling, random and
grid search, narrowing the space)."""
from tests.grading.mutants import Mutant

A = "07_hyperparameter_search"
SPLIT = "def train_val_test_split(n, val_fraction, test_fraction, rng):\n"
SAMPLE = "def sample_log_uniform(low, high, size, rng):\n"
GRID = "def grid_search(objective, grid):\n"
NARROW = "def narrow_space(results, space, top_k):\n"


def _random_search(log_line="float(sample_log_uniform(spec[1], spec[2], None, rng))",
                   choice_line="values[rng.integers(len(values))]", config_outside=False, rng_line=""):
    """random_search with one line swapped for a wrong one."""
    new_dict = "    config = {}\n" if config_outside else ""
    inner_dict = "" if config_outside else "        config = {}\n"
    return (
        "def random_search(objective, space, n_trials, rng):\n"
        + rng_line
        + "    results = []\n"
        + new_dict
        + "    for _ in range(n_trials):\n"
        + inner_dict
        + "        for name, spec in space.items():\n"
        + "            if spec[0] == 'log':\n"
        + f"                config[name] = {log_line}\n"
        + "            elif spec[0] == 'uniform':\n"
        + "                config[name] = float(rng.uniform(spec[1], spec[2]))\n"
        + "            else:\n"
        + "                values = spec[1]\n"
        + f"                config[name] = {choice_line}\n"
        + "        results.append((config, objective(config)))\n"
        + "    return results\n"
    )


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
    # ---- sample_log_uniform
    Mutant("log_uniform_is_uniform", A,
           {"sample_log_uniform": SAMPLE + "    return rng.uniform(low, high, size)\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "uniform on [low, high], not log-uniform",
           "uniform instead of log-uniform"),
    Mutant("log_uniform_no_exp", A,
           {"sample_log_uniform": SAMPLE + "    return rng.uniform(np.log(low), np.log(high), size)\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "exp() was not applied",
           "the uniform exponents returned without exp()"),
    Mutant("log_uniform_mixed_bases", A,
           {"sample_log_uniform": SAMPLE + "    return 10.0 ** rng.uniform(np.log(low), np.log(high), size)\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "bases are mixed up",
           "natural-log exponent, base-10 power"),
    Mutant("log_uniform_exponent_to_high", A,
           {"sample_log_uniform": SAMPLE + "    return np.exp(rng.uniform(np.log(low), high, size))\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "[log(low), high]",
           "the exponent drawn on [log(low), high]"),
    Mutant("log_uniform_bounds_as_exponents", A,
           {"sample_log_uniform": SAMPLE + "    return 10.0 ** rng.uniform(low, high, size)\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "used as exponents",
           "10**uniform(low, high)"),
    Mutant("log_uniform_ignores_rng", A,
           {"sample_log_uniform": SAMPLE + "    return np.exp(np.random.uniform(np.log(low), np.log(high), size))\n"},
           ("test_sample_log_uniform", "test_sample_log_uniform_hidden"), "rng argument was ignored",
           "np.random.uniform instead of rng"),
    # ---- random_search
    Mutant("random_search_ignores_rng", A,
           {"random_search": _random_search(rng_line="    rng = np.random.default_rng()\n")},
           ("test_random_search", "test_random_search_hidden"), "not reproducible",
           "a new unseeded generator instead of the rng passed in"),
    Mutant("random_search_last_choice_never", A,
           {"random_search": _random_search(choice_line="values[rng.integers(0, len(values) - 1)]")},
           ("test_random_search", "test_random_search_hidden"), "last choice is never drawn",
           "rng.integers(0, len - 1) excludes the last choice"),
    Mutant("random_search_choice_index", A,
           {"random_search": _random_search(choice_line="int(rng.integers(len(values)))")},
           ("test_random_search", "test_random_search_hidden"), "INDEX of the choice",
           "the index of the choice instead of its value"),
    Mutant("random_search_log_as_uniform", A,
           {"random_search": _random_search(log_line="float(rng.uniform(spec[1], spec[2]))")},
           ("test_random_search", "test_random_search_hidden"), "not log-uniform",
           "a 'log' dimension sampled uniformly"),
    Mutant("random_search_shared_dict", A,
           {"random_search": _random_search(config_outside=True)},
           ("test_random_search", "test_random_search_hidden"), "SAME dict object",
           "one dict reused for every trial"),
    Mutant("random_search_objective_gets_items", A,
           {"random_search": _random_search().replace("objective(config)", "objective(list(config.items()))")},
           ("test_random_search", "test_random_search_hidden"), "must be called with one configuration",
           "the objective called with a list of (name, value) pairs instead of the dict"),
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
    # ---- narrow_space
    Mutant("narrow_keeps_worst", A,
           {"narrow_space": NARROW
            + "    best = sorted(results, key=lambda pair: pair[1])[:top_k]\n"
              "    new = {}\n"
              "    for name, spec in space.items():\n"
              "        used = [config[name] for config, _ in best]\n"
              "        new[name] = (spec[0], min(used), max(used)) if spec[0] != 'choice' else ('choice', [v for v in spec[1] if v in used])\n"
              "    return new\n"},
           ("test_narrow_space", "test_narrow_space_hidden"), "LOWEST scores",
           "ascending sort keeps the worst results"),
    Mutant("narrow_ignores_top_k", A,
           {"narrow_space": NARROW
            + "    new = {}\n"
              "    for name, spec in space.items():\n"
              "        used = [config[name] for config, _ in results]\n"
              "        new[name] = (spec[0], min(used), max(used)) if spec[0] != 'choice' else ('choice', [v for v in spec[1] if v in used])\n"
              "    return new\n"},
           ("test_narrow_space", "test_narrow_space_hidden"), "top_k was ignored",
           "bounds over all results"),
    Mutant("narrow_changes_space", A,
           {"narrow_space": NARROW
            + "    best = sorted(results, key=lambda pair: pair[1], reverse=True)[:top_k]\n"
              "    for name, spec in space.items():\n"
              "        used = [config[name] for config, _ in best]\n"
              "        space[name] = (spec[0], min(used), max(used)) if spec[0] != 'choice' else ('choice', [v for v in spec[1] if v in used])\n"
              "    return space\n"},
           ("test_narrow_space", "test_narrow_space_hidden"), "changed the `space` dict",
           "the caller's space narrowed in place and returned"),
    Mutant("narrow_sorts_in_place", A,
           {"narrow_space": NARROW
            + "    results.sort(key=lambda pair: pair[1], reverse=True)\n"
              "    new = {}\n"
              "    for name, spec in space.items():\n"
              "        used = [config[name] for config, _ in results[:top_k]]\n"
              "        new[name] = (spec[0], min(used), max(used)) if spec[0] != 'choice' else ('choice', [v for v in spec[1] if v in used])\n"
              "    return new\n"},
           ("test_narrow_space", "test_narrow_space_hidden"), "sorted it in place",
           "results.sort() reorders the caller's list"),
]
