"""Checks for chapter 1, data normalization (exercise ``01_normalization``).

The learner writes, for x of shape (N, D) with per-feature statistics:

- ``min_max_scale(x, feature_range=(0.0, 1.0))``, compared with
  ``sklearn.preprocessing.MinMaxScaler(feature_range).fit_transform(x)``;
- ``z_score_fit(x) -> (mean, std)`` and ``z_score_transform(x, mean, std)``,
  together compared with ``StandardScaler().fit(x_train).transform(x_test)``.

Each check builds its own data from ``seed`` and ``shape`` (features on very
different scales and offsets, optional constant features), so hidden tests
vary the inputs, not the logic. Each is a probe (calls the learner's function,
records what it returned) and a verdict (scikit-learn's answer, compared);
see ``autograder/probe.py``. scikit-learn is imported by the verdicts only.
"""
from __future__ import annotations

from autograder.i18n import _

import numpy as np

from autograder.compare import CheckFailed, assert_close, assert_unchanged, call_learner, to_array
from autograder.probe import check, type_name
from autograder.mistakes import recognised

TOLERANCE = {  # (rtol, atol) by the dtype the learner is given
    np.dtype(np.float64): (1e-7, 1e-9),
    np.dtype(np.float32): (1e-4, 1e-4),
    np.dtype(np.int64): (1e-7, 1e-9),
}


def make_features(seed: int, shape: tuple[int, int], dtype=np.float64, constant_features=(), spread: float = 3.0) -> np.ndarray:
    """Data of ``shape`` (N, D) whose features differ in scale and offset.

    Feature j is ``offset_j + scale_j * noise`` with scales spread over
    ``10**-spread/2 .. 10**spread/2`` and offsets up to 10 scales away from 0;
    features listed in ``constant_features`` hold one value. Integer dtypes get
    rounded values. Smaller ``spread`` keeps float32 arithmetic accurate.
    """
    rng = np.random.default_rng(seed)
    n, d = shape
    scales = 10.0 ** rng.uniform(-spread / 2, spread / 2, size=d)
    offsets = scales * rng.uniform(-10, 10, size=d)
    x = offsets + scales * rng.standard_normal((n, d))
    for j in constant_features:
        x[:, j] = round(float(offsets[j]))
    if np.issubdtype(np.dtype(dtype), np.integer):
        x = np.round(x * 10)
    return x.astype(dtype)


def _tolerance(x: np.ndarray) -> tuple[float, float]:
    return TOLERANCE.get(x.dtype, (1e-7, 1e-9))


def _check_shapes_distinct(shape):
    # With N == D a wrong-axis mistake would keep the shape and be harder to name.
    if shape[0] == shape[1] and shape[0] > 1:
        raise ValueError("use N != D so that wrong-axis mistakes show up in the shape")


# ---------------------------------------------------------------- min-max scaling

def _min_max_mistakes(x: np.ndarray, feature_range) -> dict[str, np.ndarray]:
    from sklearn.preprocessing import MinMaxScaler

    lo, hi = feature_range
    x = x.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = MinMaxScaler().fit_transform(x)
        whole = (x - x.min()) / (x.max() - x.min())
        rows = (x - x.min(axis=1, keepdims=True)) / (x.max(axis=1, keepdims=True) - x.min(axis=1, keepdims=True))
        by_max = x / x.max(axis=0)
    return {
        recognised("norm-minmax-whole-array", _("the statistics were taken over the whole array (no axis): use axis=0, one min and max per feature")): lo + whole * (hi - lo),
        recognised("norm-minmax-per-example", _("the statistics were taken over axis=1 (per example): use axis=0, one min and max per feature")): lo + rows * (hi - lo),
        recognised("norm-minmax-range-ignored", _("feature_range was ignored: the result is in [0, 1]; scale by (high - low) and add low")): unit,
        recognised("norm-minmax-low-not-added", _("the result is scaled by (high - low) but `low` was not added back")): unit * (hi - lo),
        recognised("norm-minmax-divide-by-max", _("each feature was divided by its maximum instead of (x - min) / (max - min)")): by_max,
    }


def _min_max_inputs(*, seed: int = 0, shape=(12, 5), feature_range=None, dtype=np.float64,
                    constant_features=()) -> dict:
    _check_shapes_distinct(shape)
    spread = 1.0 if np.dtype(dtype) == np.float32 else 3.0
    x = make_features(seed, shape, dtype, constant_features, spread=spread)
    return {"x": x, "shape": shape, "feature_range": feature_range, "dtype": np.dtype(dtype),
            "constant_features": tuple(constant_features)}


def _min_max_probe(record, min_max_scale, inputs) -> None:
    given = inputs["x"].copy()
    kwargs = {} if inputs["feature_range"] is None else {"feature_range": inputs["feature_range"]}
    record["out"] = call_learner(min_max_scale, given, **kwargs)
    record["x_after"] = given


@check(inputs=_min_max_inputs, probe=_min_max_probe)
def check_min_max_scale(record, inputs) -> None:
    """``min_max_scale(x, feature_range)`` must equal MinMaxScaler(feature_range).fit_transform(x).

    ``feature_range=None`` calls the learner's function without the argument,
    checking its default of (0.0, 1.0).
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from sklearn.preprocessing import MinMaxScaler

    x, shape, feature_range, dtype = inputs["x"], inputs["shape"], inputs["feature_range"], inputs["dtype"]
    constant_features = inputs["constant_features"]
    bounds = (0.0, 1.0) if feature_range is None else feature_range
    expected = MinMaxScaler(feature_range=bounds).fit_transform(x.astype(np.float64))
    actual = record["out"]
    assert_unchanged(x, record["x_after"], "min_max_scale")
    rtol, atol = _tolerance(x)
    atol *= max(1.0, abs(bounds[0]), abs(bounds[1]))
    what = _('min_max_scale(x{detail}) for x of shape {shape}, dtype {dtype_name}').format(detail=', feature_range=' + repr(feature_range) if feature_range is not None else '', shape=shape, dtype_name=dtype.name)
    constant_hint = None
    if constant_features:
        constant_hint = (recognised("norm-constant-feature", _('features {constant_features} are constant (max == min), so (x - min) / (max - min) is 0 / 0; scikit-learn maps a constant feature to the low end of feature_range').format(constant_features=list(constant_features))))
    assert_close(actual, expected, what=what, rtol=rtol, atol=atol,
                 mistakes=_min_max_mistakes(x, bounds), hint_for_nonfinite=constant_hint)


# ---------------------------------------------------------------- z-score standardization

def _fit_result(result, name="z_score_fit"):
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    if type(result) not in (tuple, list) or len(result) != 2:
        raise CheckFailed(_('`{name}` should return a tuple (mean, std), but it returned {type_name_result}').format(name=name, type_name_result=type_name(result))
                          + (_(' of length {len_result}').format(len_result=len(result)) if type(result) in (tuple, list) else ""))
    return to_array(result[0], _('the mean returned by {name}').format(name=name)), to_array(result[1], _('the std returned by {name}').format(name=name))




def _std_mistakes(x: np.ndarray) -> dict[str, np.ndarray]:
    x = x.astype(np.float64)
    mistakes = {
        recognised("norm-std-ddof1", _("ddof=1 (the sample std, dividing by N - 1): StandardScaler uses the population std, ddof=0")): x.std(axis=0, ddof=1) if len(x) > 1 else None,
        recognised("norm-variance-for-std", _("this is the variance, not the standard deviation: take the square root")): x.var(axis=0),
        recognised("norm-stats-per-example", _("the std was taken over axis=1 (per example): use axis=0, one value per feature")): x.std(axis=1),
        recognised("norm-stats-whole-array", _("one std over the whole array (no axis): use axis=0, one value per feature")): x.std(),
    }
    return mistakes


def _fit_inputs(*, seed: int = 0, shape=(15, 4), dtype=np.float64, constant_features=()) -> dict:
    _check_shapes_distinct(shape)
    spread = 1.0 if np.dtype(dtype) == np.float32 else 3.0
    x = make_features(seed, shape, dtype, constant_features, spread=spread)
    return {"x": x, "shape": shape, "dtype": np.dtype(dtype)}


def _fit_probe(record, z_score_fit, inputs) -> None:
    given = inputs["x"].copy()
    record["out"] = call_learner(z_score_fit, given)
    record["x_after"] = given


@check(inputs=_fit_inputs, probe=_fit_probe)
def check_z_score_fit(record, inputs) -> None:
    """``z_score_fit(x)`` returns per-feature mean and population std, as StandardScaler fits them.

    For constant features the std may be 0 (the true value) or 1 (what
    StandardScaler stores in ``scale_``); either is accepted here, and
    ``check_z_score_pipeline`` checks that the pair of functions handles them.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from sklearn.preprocessing import StandardScaler

    x, shape, dtype = inputs["x"], inputs["shape"], inputs["dtype"]
    scaler = StandardScaler().fit(x.astype(np.float64))
    mean, std = _fit_result(record["out"])
    assert_unchanged(x, record["x_after"], "z_score_fit")
    rtol, atol = _tolerance(x)
    where = _('for x of shape {shape}, dtype {dtype_name}').format(shape=shape, dtype_name=dtype.name)
    x64 = x.astype(np.float64)
    assert_close(mean, scaler.mean_, what=_('the mean from z_score_fit(x) {where}').format(where=where), rtol=rtol, atol=atol,
                 mistakes={recognised("norm-stats-per-example", _("the mean was taken over axis=1 (per example): use axis=0, one value per feature")): x64.mean(axis=1),
                           recognised("norm-stats-whole-array", _("one mean over the whole array (no axis): use axis=0, one value per feature")): x64.mean()})
    expected_std = np.sqrt(scaler.var_)
    if std.shape == expected_std.shape:
        # Either convention for constant features (std 0 or 1); the pipeline check decides if it works.
        constant = np.ptp(x64, axis=0) == 0
        expected_std = np.where(constant & (std == 1.0), 1.0, expected_std)
    assert_close(std, expected_std, what=_('the std from z_score_fit(x) {where}').format(where=where), rtol=rtol, atol=atol,
                 mistakes=_std_mistakes(x))


def _transform_inputs(*, seed: int = 0, shape=(15, 4), dtype=np.float64) -> dict:
    """x: a shifted "test set"; mean and std: the statistics of another ("training") set, as StandardScaler stores them."""
    _check_shapes_distinct(shape)
    spread = 1.0 if np.dtype(dtype) == np.float32 else 3.0
    x_train = make_features(seed, shape, np.float64, spread=spread)
    x = (make_features(seed, shape, np.float64, spread=spread) * 1.5 + 1.0).astype(dtype)
    std = x_train.std(axis=0)
    std = np.where(std == 0, 1.0, std)  # StandardScaler's scale_
    return {"x": x, "mean": x_train.mean(axis=0).astype(dtype), "std": std.astype(dtype), "shape": shape,
            "dtype": np.dtype(dtype)}


def _transform_probe(record, z_score_transform, inputs) -> None:
    given = inputs["x"].copy()
    record["out"] = call_learner(z_score_transform, given, inputs["mean"].copy(), inputs["std"].copy())
    record["x_after"] = given


@check(inputs=_transform_inputs, probe=_transform_probe)
def check_z_score_transform(record, inputs) -> None:
    """``z_score_transform(x, mean, std)`` equals ``(x - mean) / std`` for given statistics.

    The statistics come from other data than ``x`` (as a test set is transformed
    with training statistics), so a function that recomputes them from ``x`` fails.
    """
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from sklearn.preprocessing import StandardScaler

    x, mean, std, shape, dtype = inputs["x"], inputs["mean"], inputs["std"], inputs["shape"], inputs["dtype"]
    actual = record["out"]
    assert_unchanged(x, record["x_after"], "z_score_transform")
    expected = (x.astype(np.float64) - mean.astype(np.float64)) / std.astype(np.float64)
    rtol, atol = _tolerance(x)
    x64 = x.astype(np.float64)
    assert_close(
        actual, expected,
        what=_('z_score_transform(x, mean, std) for x of shape {shape}, dtype {dtype_name}').format(shape=shape, dtype_name=dtype.name),
        rtol=rtol, atol=max(atol, 1e-6 if dtype == np.float32 else atol),
        mistakes={
            recognised("norm-test-statistics-leak", _("z_score_transform ignored the mean and std it was given and standardized x with its own statistics: that uses the test set's statistics (leakage); use the training statistics passed in")): StandardScaler().fit_transform(x64),
            recognised("norm-mean-not-subtracted", _("the mean was not subtracted: compute (x - mean) / std")): x64 / std,
            recognised("norm-variance-for-std", _("x was divided by the variance (std**2) instead of the std")): (x64 - mean) / std.astype(np.float64) ** 2,
            recognised("norm-mean-std-swapped", _("the std was subtracted and the mean divided: compute (x - mean) / std")): (x64 - std) / mean,
        },
    )


def _pipeline_inputs(*, seed: int = 0, n_train: int = 40, n_test: int = 9, n_features: int = 5, dtype=np.float64,
                     constant_features=()) -> dict:
    """Features in ``constant_features`` are constant in the training split only
    (as a pixel that is always 0 in training may not be in a test image)."""
    spread = 1.0 if np.dtype(dtype) == np.float32 else 3.0
    x_all = make_features(seed, (n_train + n_test, n_features), dtype, spread=spread)
    x_train, x_test = x_all[:n_train].copy(), x_all[n_train:].copy()
    for j in constant_features:
        # An exactly representable constant: its mean is exact and its std exactly 0
        # (for other values round-off leaves a std of ~1e-16; scikit-learn uses a tolerance).
        x_train[:, j] = np.round(x_train[0, j])
    return {"x_train": x_train, "x_test": x_test, "dtype": np.dtype(dtype), "constant_features": tuple(constant_features)}


def _pipeline_probe(record, z_score_fit, z_score_transform, inputs) -> None:
    stats = call_learner(z_score_fit, inputs["x_train"].copy())
    record["stats"] = stats
    if type(stats) not in (tuple, list) or len(stats) != 2:
        return  # the verdict says what is wrong with it
    record["out"] = call_learner(z_score_transform, inputs["x_test"].copy(), stats[0], stats[1])


@check(inputs=_pipeline_inputs, probe=_pipeline_probe, learners=2)
def check_z_score_pipeline(record, inputs) -> None:
    """``z_score_transform(x_test, *z_score_fit(x_train))`` equals StandardScaler().fit(x_train).transform(x_test)."""
    __tracebackhide__ = True  # IPython shows the learner's cell, not this frame
    from sklearn.preprocessing import StandardScaler

    x_train, x_test, dtype, constant_features = (inputs["x_train"], inputs["x_test"], inputs["dtype"],
                                                 inputs["constant_features"])
    n_train = len(x_train)
    expected = StandardScaler().fit(x_train.astype(np.float64)).transform(x_test.astype(np.float64))
    _fit_result(record["stats"])
    actual = record["out"]
    rtol, atol = _tolerance(x_test)
    if dtype == np.float32:
        atol = 1e-3
    xt64, xs64 = x_train.astype(np.float64), x_test.astype(np.float64)
    constant_hint = None
    if constant_features:
        constant_hint = (recognised("norm-constant-feature", _('features {constant_features} are constant in x_train, so their std is 0 and (x - mean) / std divides by zero; StandardScaler divides by 1 there instead').format(constant_features=list(constant_features))))
    assert_close(
        actual, expected,
        what=(_('z_score_transform(x_test, *z_score_fit(x_train)) for x_train of shape {x_train_shape}, x_test of shape {x_test_shape}, dtype {dtype_name}').format(x_train_shape=x_train.shape, x_test_shape=x_test.shape, dtype_name=dtype.name)),
        rtol=rtol, atol=atol, hint_for_nonfinite=constant_hint,
        mistakes={
            recognised("norm-test-statistics-leak", _("the test set was standardized with its own statistics instead of the training set's (leakage)")): StandardScaler().fit_transform(xs64),
            recognised("norm-std-ddof1", _("ddof=1 (the sample std) in z_score_fit: StandardScaler uses the population std, ddof=0")):
                (xs64 - xt64.mean(axis=0)) / np.where(xt64.std(axis=0, ddof=1) == 0, 1.0, xt64.std(axis=0, ddof=1))
                if n_train > 1 else None,
        },
    )
