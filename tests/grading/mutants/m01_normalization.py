"""Wrong answers for exercise 01_normalization (min_max_scale, z_score_fit, z_score_transform)."""
from tests.grading.mutants import Mutant

MIN_MAX_HEADER = "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    low, high = feature_range\n    x = np.asarray(x, dtype=float)\n"
FIT_HEADER = "def z_score_fit(x):\n    x = np.asarray(x, dtype=float)\n"
TRANSFORM_HEADER = "def z_score_transform(x, mean, std):\n    x = np.asarray(x, dtype=float)\n"

MUTANTS = [
    Mutant("minmax_whole_array", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    return low + (x - x.min()) / (x.max() - x.min()) * (high - low)\n"},
           ("test_min_max_scale",), "whole array"),
    Mutant("minmax_axis1", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)\n"
                                              "    return low + (x - lo) / (hi - lo) * (high - low)\n"},
           ("test_min_max_scale",), "axis=1"),
    Mutant("minmax_ignores_range", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n    return (x - x.min(0)) / r\n"},
           ("test_min_max_scale",), "feature_range was ignored"),
    Mutant("minmax_forgets_low", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n    return (x - x.min(0)) / r * (high - low)\n"},
           ("test_min_max_scale",), "`low` was not added back"),
    Mutant("minmax_constant_nan", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    return low + (x - x.min(0)) / (x.max(0) - x.min(0)) * (high - low)\n"},
           ("test_min_max_scale", "test_min_max_scale_hidden"), "constant"),
    Mutant("minmax_in_place", "01_normalization",
           {"min_max_scale": "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    low, high = feature_range\n"
                             "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n    x -= x.min(0)\n    x /= r\n"
                             "    return low + x * (high - low)\n"},
           ("test_min_max_scale",), "in place"),
    Mutant("minmax_divide_by_max", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    return x / x.max(axis=0)\n"},
           ("test_min_max_scale",), "divided by its maximum"),
    Mutant("minmax_no_return", "01_normalization",
           {"min_max_scale": MIN_MAX_HEADER + "    y = (x - x.min(0)) / (x.max(0) - x.min(0))\n"},
           ("test_min_max_scale",), "forget to `return`"),
    Mutant("minmax_float32_only_visible", "01_normalization",
           # passes the visible float64 tests, fails the hidden int/float32 ones: hidden tests matter
           {"min_max_scale": "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    low, high = feature_range\n"
                             "    if x.dtype != np.float64:\n        return x\n"
                             "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n    return low + (x - x.min(0)) / r * (high - low)\n"},
           ("test_min_max_scale_hidden",), "differs from the reference"),
    Mutant("fit_ddof1", "01_normalization",
           {"z_score_fit": FIT_HEADER + "    s = x.std(axis=0, ddof=1)\n    return x.mean(axis=0), np.where(s == 0, 1, s)\n"},
           ("test_z_score_fit", "test_z_score_transform"), "ddof=1"),
    Mutant("fit_variance", "01_normalization",
           {"z_score_fit": FIT_HEADER + "    v = x.var(axis=0)\n    return x.mean(axis=0), np.where(v == 0, 1, v)\n"},
           ("test_z_score_fit",), "variance, not the standard deviation"),
    Mutant("fit_axis1", "01_normalization",
           {"z_score_fit": FIT_HEADER + "    return x.mean(axis=1), x.std(axis=1)\n"},
           ("test_z_score_fit",), "axis=1"),
    Mutant("fit_whole_array", "01_normalization",
           {"z_score_fit": FIT_HEADER + "    return x.mean(), x.std()\n"},
           ("test_z_score_fit",), "whole array"),
    Mutant("transform_own_statistics", "01_normalization",
           {"z_score_transform": TRANSFORM_HEADER + "    s = x.std(axis=0)\n    return (x - x.mean(axis=0)) / np.where(s == 0, 1, s)\n"},
           ("test_z_score_transform",), "leakage"),
    Mutant("transform_no_centering", "01_normalization",
           {"z_score_transform": TRANSFORM_HEADER + "    return x / np.where(std == 0, 1, std)\n"},
           ("test_z_score_transform",), "mean was not subtracted"),
    Mutant("transform_divides_by_variance", "01_normalization",
           {"z_score_transform": TRANSFORM_HEADER + "    return (x - mean) / np.where(std == 0, 1, std) ** 2\n"},
           ("test_z_score_transform",), "variance"),
    Mutant("zscore_constant_nan", "01_normalization",
           {"z_score_fit": FIT_HEADER + "    return x.mean(axis=0), x.std(axis=0)\n",
            "z_score_transform": TRANSFORM_HEADER + "    return (x - mean) / std\n"},
           ("test_z_score_transform",), "constant in x_train"),
    # One rule for every path: torch is absent from this exercise's grading sandbox; in the learner's Jupyter, under
    # plain nbgrader and under the command alike, every test says so (and the scores agree), instead of the
    # command alone stopping the cell at the import. The functions themselves are right.
    Mutant("imports_torch", "01_normalization",
           {"min_max_scale": "import torch\n" + MIN_MAX_HEADER
                             + "    r = x.max(0) - x.min(0)\n    r = np.where(r == 0, 1, r)\n"
                               "    return low + (x - x.min(0)) / r * (high - low)\n"},
           ("test_min_max_scale", "test_z_score_fit", "test_z_score_transform"),
           "grading provides only NumPy: remove `import torch`"),
]
