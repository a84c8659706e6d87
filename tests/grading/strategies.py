"""Hypothesis strategies for the checks' inputs, kept in one place."""
from __future__ import annotations

import numpy as np
from hypothesis import assume, strategies as st

DTYPES = st.sampled_from([np.float64, np.float32, np.int64])


@st.composite
def scaling_cases(draw, with_range: bool = True):
    """Keyword arguments for check_min_max_scale / check_z_score_fit."""
    n = draw(st.integers(1, 60))
    d = draw(st.integers(1, 12))
    assume(n != d or n == 1)
    case = {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "shape": (n, d),
        "dtype": draw(DTYPES),
        "constant_features": tuple(sorted(draw(st.sets(st.integers(0, d - 1), max_size=d)))),
    }
    if with_range:
        low = draw(st.floats(-100, 100, allow_nan=False))
        width = draw(st.floats(0.01, 200, allow_nan=False))
        case["feature_range"] = draw(st.sampled_from([None, (low, low + width)]))
    return case


@st.composite
def pipeline_cases(draw):
    """Keyword arguments for check_z_score_pipeline."""
    d = draw(st.integers(1, 10))
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "n_train": draw(st.integers(1, 80)),
        "n_test": draw(st.integers(1, 20)),
        "n_features": d,
        "dtype": draw(DTYPES),
        "constant_features": tuple(sorted(draw(st.sets(st.integers(0, d - 1), max_size=d)))),
    }


# ---------------------------------------------------------------- chapter 7: hyperparameter search

def _round_tie(n: int, fraction: float) -> bool:
    return abs(n * fraction - int(n * fraction) - 0.5) < 1e-9


@st.composite
def split_cases(draw):
    """Keyword arguments for check_train_val_test_split (no ties for round())."""
    n = draw(st.integers(1, 3000))
    val_fraction = draw(st.floats(0.0, 0.45, allow_nan=False))
    test_fraction = draw(st.floats(0.0, 0.45, allow_nan=False))
    assume(not _round_tie(n, val_fraction) and not _round_tie(n, test_fraction))
    return {"seed": draw(st.integers(0, 2**31 - 2)), "n": n,
            "val_fraction": val_fraction, "test_fraction": test_fraction}


@st.composite
def _sampling_spec(draw):
    kind = draw(st.sampled_from(["log", "uniform", "int", "int_log", "choice"]))
    if kind == "log":
        low = 10.0 ** draw(st.floats(-8, 1, allow_nan=False))
        return ("log", low, low * 10.0 ** draw(st.floats(0.2, 8, allow_nan=False)))
    if kind == "uniform":
        low = draw(st.floats(-10, 10, allow_nan=False))
        return ("uniform", low, low + draw(st.floats(0.01, 100, allow_nan=False)))
    if kind == "int":
        low = draw(st.integers(-5, 20))
        return ("int", low, low + draw(st.integers(0, 12)))
    if kind == "int_log":
        low = draw(st.integers(1, 64))
        return ("int_log", low, low + draw(st.integers(0, 300)))
    return ("choice", draw(st.lists(st.one_of(st.integers(-5, 5), st.sampled_from(["a", "b", "c", "d"])),
                                    min_size=1, max_size=5, unique_by=repr)))


@st.composite
def config_space_cases(draw):
    """Keyword arguments for check_sample_config: one to five names of every kind, some conditional
    on an earlier choice (possibly itself conditional)."""
    space = {}
    for i in range(draw(st.integers(1, 5))):
        spec = draw(_sampling_spec())
        parents = [name for name, s in space.items() if (s[3] if s[0] == "if" else s)[0] == "choice"]
        if parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            parent_spec = space[parent][3] if space[parent][0] == "if" else space[parent]
            spec = ("if", parent, draw(st.sampled_from(parent_spec[1])), spec)
        space[f"h{i}"] = spec
    return {"seed": draw(st.integers(0, 2**31 - 2)), "n_draws": draw(st.integers(300, 1500)), "space": space}


@st.composite
def grid_cases(draw):
    """Keyword arguments for check_grid_search: up to four names, up to four values each."""
    grid = {}
    for i in range(draw(st.integers(1, 4))):
        grid[f"h{i}"] = draw(st.lists(st.one_of(st.integers(-100, 100), st.floats(-10, 10, allow_nan=False),
                                                st.sampled_from(["a", "b", "c"])),
                                      min_size=1, max_size=4, unique_by=repr))
    return {"seed": draw(st.integers(0, 2**31 - 2)), "grid": grid}


def _log_is_exact(n: int, factor: int) -> bool:
    import math

    i = 0
    while factor ** (i + 1) <= n:
        i += 1
    return math.floor(math.log(n, factor)) == i


@st.composite
def halving_cases(draw):
    """Keyword arguments for check_successive_halving (sizes where math.log is exact, as scikit-learn needs)."""
    factor = draw(st.integers(2, 5))
    n_configs = draw(st.integers(1, 120))
    min_resource = draw(st.integers(1, 10))
    max_resource = min_resource * draw(st.integers(1, 200)) + draw(st.integers(0, min_resource - 1))
    assume(_log_is_exact(n_configs, factor) and _log_is_exact(max_resource // min_resource, factor))
    return {"seed": draw(st.integers(0, 2**31 - 2)), "n_configs": n_configs, "min_resource": min_resource,
            "max_resource": max_resource, "factor": factor}


@st.composite
def batchnorm_cases(draw):
    """Keyword arguments for check_batchnorm_forward / check_batchnorm_backward: x of shape (N, D), N >= 2."""
    return {"seed": draw(st.integers(0, 2**31 - 2)),
            "shape": (draw(st.integers(2, 40)), draw(st.integers(1, 10))),
            "eps": draw(st.sampled_from([None, 1e-5, 1e-3, 0.1]))}


@st.composite
def spatial_batchnorm_cases(draw):
    """Keyword arguments for the spatial batch norm checks: x of shape (N, C, H, W) with N*H*W >= 2."""
    n, c, h, w = (draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    assume(n * h * w >= 2)
    return {"seed": draw(st.integers(0, 2**31 - 2)), "shape": (n, c, h, w),
            "eps": draw(st.sampled_from([None, 1e-5, 1e-3, 0.1]))}


@st.composite
def dropout_cases(draw, with_edges: bool = True):
    """Keyword arguments for the dropout checks: seed, shape (1 to 4 dimensions), p and dtype."""
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(1, 12), min_size=ndim, max_size=ndim)))
    rates = st.floats(0.01, 0.99, allow_nan=False)
    if with_edges:
        rates = st.one_of(rates, st.sampled_from([0.0, 0.5, 1.0]))
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "shape": shape,
        "p": draw(rates),
        "dtype": draw(st.sampled_from([np.float64, np.float32])),
    }


@st.composite
def bn_module_cases(draw, with_momentum: bool = True):
    """Keyword arguments for the chapter-4 BatchNorm1d module checks: (N, C) or (N, C, L) with N*L >= 2."""
    n, c = draw(st.integers(1, 12)), draw(st.integers(1, 6))
    length = draw(st.one_of(st.none(), st.integers(1, 6)))
    assume(n * (length or 1) >= 2)
    case = {"seed": draw(st.integers(0, 2**31 - 2000)),
            "shape": (n, c) if length is None else (n, c, length),
            "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1]))}
    if with_momentum:
        case["momentum"] = draw(st.one_of(st.none(), st.sampled_from([0.1, 0.5, 0.01]), st.floats(0.001, 0.999)))
    return case


@st.composite
def population_statistics_cases(draw):
    """Keyword arguments for check_population_statistics (batch_size >= 2)."""
    return {"seed": draw(st.integers(0, 2**31 - 1)), "n_batches": draw(st.integers(1, 30)),
            "batch_size": draw(st.integers(2, 64)), "n_features": draw(st.integers(1, 8))}


@st.composite
def fold_cases(draw):
    """Keyword arguments for check_fold_batchnorm."""
    return {"seed": draw(st.integers(0, 2**31 - 1)), "in_features": draw(st.integers(1, 12)),
            "out_features": draw(st.integers(1, 12)), "eps": draw(st.sampled_from([1e-5, 1e-3, 0.1])),
            "linear_bias": draw(st.booleans())}


# ---------------------------------------------------------------- chapter 2: covariate shift

@st.composite
def preactivation_cases(draw):
    """Keyword arguments for covariate_shift.check_record_preactivations."""
    import torch
    from torch import nn

    widths = tuple(draw(st.lists(st.integers(1, 9), min_size=3, max_size=5)))
    batchnorm = draw(st.booleans())
    batch = draw(st.integers(2 if batchnorm else 1, 12).filter(lambda n: n not in widths))
    layer_choices = [None, (nn.Linear,)] + ([(nn.BatchNorm1d,), (nn.Linear, nn.BatchNorm1d)] if batchnorm else [])
    activation = draw(st.sampled_from(["sigmoid", "relu", "tanh"]))
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "widths": widths,
        "batch": batch,
        "activation": activation,
        "batchnorm": batchnorm,
        "mode": draw(st.sampled_from(["train", "eval"])),
        "layer_types": draw(st.sampled_from(layer_choices)),
        "inplace": activation == "relu" and draw(st.booleans()),
        "nested": draw(st.booleans()),
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
    }


@st.composite
def percentile_cases(draw):
    """Keyword arguments for covariate_shift.check_activation_percentiles."""
    import torch

    n = draw(st.integers(1, 80))
    d = draw(st.integers(1, 12))
    assume(n != d or n == 1)
    q = draw(st.one_of(st.none(), st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6).map(tuple)))
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "shape": (n, d),
        "q": q,
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
        "ties": draw(st.booleans()),
    }


@st.composite
def drift_cases(draw):
    """Keyword arguments for covariate_shift.check_percentile_drift."""
    import torch

    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "steps": draw(st.integers(1, 30)),
        "n_q": draw(st.integers(1, 5)),
        "units": draw(st.integers(1, 10)),
        "dtype": draw(st.sampled_from([torch.float32, torch.float64])),
    }


# ---- chapter 5, weight decay: keyword arguments for autograder.weight_decay's checks

@st.composite
def l2_penalty_cases(draw):
    """Keyword arguments for check_l2_penalty."""
    shapes = draw(st.lists(st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple), min_size=1, max_size=4))
    return {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "shapes": shapes,
        "weight_decay": draw(st.floats(1e-5, 10.0, allow_nan=False)),
        "dtype": draw(st.sampled_from([np.float64, np.float32])),
    }


@st.composite
def optimizer_cases(draw, kind: str):
    """Keyword arguments for check_sgd_step (kind "sgd") or check_adam_step / check_adamw_step ("adam").

    None leaves a hyperparameter out of the call, so the learner's default is used.
    """
    case = {
        "seed": draw(st.integers(0, 2**31 - 1)),
        "shape": tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))),
        "steps": draw(st.integers(1, 60)),
        "dtype": draw(st.sampled_from([np.float64, np.float32])),
    }
    if kind == "sgd":
        case["lr"] = 10 ** draw(st.floats(-3, -0.3))
        case["momentum"] = draw(st.one_of(st.none(), st.just(0.0), st.floats(0.0, 0.99)))
        case["weight_decay"] = draw(st.one_of(st.none(), st.just(0.0), st.floats(0.0, 0.5)))
    else:
        case["lr"] = 10 ** draw(st.floats(-4, -1))
        case["betas"] = draw(st.one_of(st.none(), st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999))))
        case["eps"] = draw(st.one_of(st.none(), st.floats(-10, -3).map(lambda e: 10**e)))
        case["weight_decay"] = draw(st.one_of(st.none(), st.just(0.0), st.floats(0.0, 1.0)))
    return case


# ---------------------------------------------------------------- chapter 8: reproducing the batch-norm paper

@st.composite
def sigmoid_percentile_cases(draw):
    """Keyword arguments for check_sigmoid_input_percentiles (n != hidden, so a wrong axis shows in the shape)."""
    n = draw(st.integers(1, 80))
    hidden = draw(st.integers(1, 40))
    assume(n != hidden and hidden != 11)
    q = draw(st.one_of(st.none(), st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=5).map(tuple)))
    return {"seed": draw(st.integers(0, 2**31 - 2)), "n": n, "in_features": draw(st.integers(1, 20)),
            "hidden": hidden, "normalized": draw(st.booleans()), "mode": draw(st.sampled_from(["train", "eval"])),
            "q": q}


@st.composite
def steps_to_accuracy_cases(draw):
    """Keyword arguments for check_steps_to_accuracy: targets drawn from the curve, free, or out of reach."""
    case = {"seed": draw(st.integers(0, 2**31 - 2)), "records": draw(st.integers(1, 40)),
            "every": draw(st.integers(2, 500)), "plateau": draw(st.booleans())}
    case["target"] = draw(st.one_of(st.none(), st.floats(0, 1, allow_nan=False)))
    return case


@st.composite
def paper_network_cases(draw):
    """Keyword arguments for check_paper_network."""
    return {"seed": draw(st.integers(0, 2**31 - 2)), "in_features": draw(st.integers(1, 40)),
            "std": draw(st.floats(0.01, 2.0, allow_nan=False)), "hidden": draw(st.integers(2, 30))}


@st.composite
def run_experiment_cases(draw):
    """Keyword arguments for check_run_experiment: short runs on small synthetic data."""
    record_every = draw(st.integers(1, 10))
    return {"seed": draw(st.integers(0, 2**31 - 100)), "steps": record_every * draw(st.integers(2, 4)),
            "record_every": record_every, "lr": draw(st.floats(0.01, 3.0, allow_nan=False)),
            "std": draw(st.floats(0.01, 1.5, allow_nan=False)), "batch_size": draw(st.integers(2, 60)),
            "features": draw(st.integers(2, 40)), "n_train": draw(st.integers(60, 200)),
            "n_test": draw(st.integers(2, 80)), "hidden": draw(st.integers(2, 30))}
