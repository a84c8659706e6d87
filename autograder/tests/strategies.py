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
