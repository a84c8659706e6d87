"""Reading the learner's cells: honest solutions pass, hidden code and forbidden references are found."""
from __future__ import annotations

import pytest

from autograder.course import assignments
from autograder.forbidden import RULES
from tests.grading.notebook_code import nbgrader_meta, solution_notebook
from grader.policy import review

TORCH = ["import numpy as np\nimport torch\nfrom torch import nn"]


@pytest.mark.parametrize("assignment", assignments())
def test_every_solution_reads_clean(assignment):
    nb = solution_notebook(assignment)
    cells = [(i, c.source) for i, c in enumerate(nb.cells) if c.cell_type == "code" and nbgrader_meta(c).get("solution")]
    course = [c.source for c in nb.cells if c.cell_type == "code" and not nbgrader_meta(c).get("solution")]
    result = review(cells, course, RULES[assignment])
    assert cells and not result.hidden and not [f for s in result.statements for f in s.forbidden]


@pytest.mark.parametrize("code, what", [
    ("exec('x = 1')", "exec()"),
    ("y = eval('1')", "eval()"),
    ("f = compile('1', 'a', 'eval')", "compile()"),
    ("m = __import__('os')", "__import__"),
    ("import importlib\nimportlib.reload(np)", "import of importlib"),
    ("import sys\nf = sys._getframe(1)", "import of sys"),
    ("import gc\ngc.get_objects()", "import of gc"),
    ("import ctypes", "import of ctypes"),
    ("import os\nos.write(3, b'{}')", "import of os"),
    ("from os import write", "import of os"),
    ("import inspect", "import of inspect"),
    ("import logging", "import of logging"),
    ("def f(x):\n    return getattr(np, 'me' + 'an')(x)", "computed name"),
    ("setattr(np, name, None)", "computed name"),
    ("def f(g):\n    return g.__closure__[0].cell_contents", ".__closure__"),
    ("def f(e):\n    return e.__traceback__.tb_frame.f_back.f_globals", ".__traceback__"),
    ("t = ().__class__.__base__.__subclasses__()", ".__class__"),
    ("g = globals()", "globals()"),
    ("v = vars(np)", "vars()"),
    ("k = torch._C", "private attribute"),
    ("k = np.core._multiarray_umath", "private attribute"),
    ("k = torch.ops.aten.add", "torch.ops"),
    ("from torch.overrides import TorchFunctionMode", "torch.overrides"),
    ("np.allclose = lambda *a, **k: True", "replacing numpy.allclose"),
    ("data = np.fromfile('/proc/self/mem')", "reads or writes files"),
    ("with open('/proc/self/mem', 'rb') as f:\n    pass", "open()"),
    ("from autograder.normalization import check_min_max_scale", "the grader's checks"),
    ("from numpy import *", "import *"),
    ("!ls /", "magic !ls"),
    ("%%bash\nls /", "cell magic %%bash"),
    ("%run other.py", "magic %run"),
])
def test_hidden_code_is_found(code, what):
    result = review([(3, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_allowed_magics_and_plain_code_are_not_hidden():
    code = "%matplotlib inline\n%time y = np.ones(3)\nimport math, itertools, warnings\nwarnings.warn('x')"
    assert not review([(1, code)], TORCH, RULES["04_batchnorm_inference"]).hidden


def test_forbidden_references_count_only_where_the_tests_reach():
    cells = [
        (1, "import torch.nn.functional as F\nfrom torch.nn.functional import batch_norm as bn\nfns = [F]"),
        (2, "def helper(x):\n    return bn(x, None, None, training=True)\n"
            "class BatchNorm1d(nn.Module):\n    def forward(self, x):\n        return helper(x)"),
        (3, "def fold_batchnorm(linear: nn.Linear, bn_layer: nn.BatchNorm1d) -> nn.Linear:\n"
            "    assert isinstance(bn_layer, nn.BatchNorm1d)\n    return linear"),
        (4, "print(F.batch_norm(torch.ones(4, 3), None, None, training=True))  # comparing, in a scratch cell"),
    ]
    result = review(cells, TORCH, RULES["04_batchnorm_inference"])
    assert not result.hidden
    reached = [str(f) for f in result.forbidden_for(["BatchNorm1d"])]
    assert reached and all("batch_norm" in f for f in reached)
    assert result.forbidden_for(["fold_batchnorm"]) == []  # naming a type in isinstance is not using it


def test_a_functions_own_local_names_do_not_reach_module_level_code():
    """A scratch cell's ``mean, var = ...`` computed with a forbidden scaler is not reached through a tested
    function's local ``var`` or parameter ``mean`` (a learner who edits a demo cell keeps their points), while
    a real global read inside a method, a default value or a class body still is."""
    cells = [
        (1, "def population_statistics(mean, variances, batch_size):\n    var = variances.mean(0)\n"
            "    return mean.mean(0), var * batch_size / (batch_size - 1)"),
        (2, "from sklearn.preprocessing import StandardScaler\nscaler = StandardScaler()\n"
            "X = scaler.fit_transform(data)\nmean, var = population_statistics(X, X, 4)"),
        (3, "def fold_batchnorm(linear, bn):\n    return [v for v in (var,)]"),          # a global, in a comprehension
        (4, "class BatchNorm1d(nn.Module):\n    scale = scaler\n"),                       # a class body reads scaler
        (5, "def helper(x, s=scaler):\n    return x"),                                      # a default value
    ]
    result = review(cells, TORCH, RULES["04_batchnorm_inference"])
    assert result.forbidden_for(["population_statistics"]) == []
    for name in ("fold_batchnorm", "BatchNorm1d", "helper"):
        assert any("StandardScaler" in str(f) for f in result.forbidden_for([name])), name


@pytest.mark.parametrize("assignment, code", [
    ("01_normalization", "from sklearn.preprocessing import MinMaxScaler\n"
                         "def min_max_scale(x, feature_range=(0, 1)):\n    return MinMaxScaler(feature_range).fit_transform(x)"),
    ("01_normalization", "import scipy.stats\ndef z_score_fit(x):\n    return scipy.stats.zscore(x)"),
    ("05_weight_decay", "def sgd_step(p, g, state, lr=0.1):\n    import torch\n    return torch.optim.SGD"),
    ("07_hyperparameter_search", "from scipy.stats import loguniform\n"
                                 "def sample_config(space, rng):\n    return {'lr': loguniform(1e-4, 1).rvs()}"),
    ("07_hyperparameter_search", "from sklearn.experimental import enable_halving_search_cv\n"
                                 "def successive_halving(objective, configs, min_resource, max_resource, factor):\n"
                                 "    return enable_halving_search_cv"),
    ("07_hyperparameter_search", "from normreg.data import split_indices\n"
                                 "def train_val_test_split(n, val_fraction, test_fraction, rng):\n"
                                 "    return split_indices(n, (val_fraction, test_fraction, 1.0))"),
    ("06_dropout", "def dropout_forward(x, p, train=True, rng=None):\n    return torch.nn.functional.dropout(x, p)"),
    ("04_batchnorm_inference", "def fold_batchnorm(linear, bn):\n"
                               "    return torch.nn.utils.fusion.fuse_linear_bn_eval(linear, bn)"),
    ("02_covariate_shift", "from normreg.monitoring import record_outputs\n"
                           "def record_preactivations(model, x, layer_types=None):\n    return record_outputs(model, x)"),
])
def test_each_chapters_references_are_forbidden(assignment, code):
    name = code.split("def ")[1].split("(")[0]
    result = review([(1, code)], TORCH, RULES[assignment])
    assert result.forbidden_for([name]), f"{assignment}: nothing found in\n{code}"


@pytest.mark.parametrize("code, what", [
    ("import warnings\npm = warnings.sys.modules['autograder.probe']", ".sys"),
    ("import dataclasses\nframes = dataclasses.inspect.stack()", ".inspect"),
    ("t = torch\nwith t._C.DisableTorchFunction():\n    pass", "._C"),
    ("holder = [torch]\nk = holder[0]._VF", "._VF"),
    ("def f(pm):\n    pm._RUNNING = []", "._RUNNING"),
    ("def f(m):\n    return m.__self__", ".__self__"),
    ("n = np.os.getpid()", ".os"),
])
def test_hidden_code_is_found_whatever_the_chain_starts_at(code, what):
    result = review([(3, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_forbidden_names_are_found_through_aliases_in_containers():
    code = ("keep = {'u': torch.nn.utils}\n"
            "def fold_batchnorm(linear, bn):\n    return keep['u'].fusion.fuse_linear_bn_eval(linear, bn)")
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any("fuse_linear_bn_eval" in str(f) for f in result.forbidden_for(["fold_batchnorm"]))


def test_the_learners_own_private_attributes_and_methods_are_fine():
    code = ("class BatchNorm1d(nn.Module):\n    def __init__(self, n):\n        super().__init__()\n"
            "        self._n = n\n    def _norm(self, x):\n        return x - x.mean(0)\n"
            "    def forward(self, x):\n        return self._norm(x) * type(self).__name__.count('B')\n"
            "def f(model):\n    return [m for m in model.modules()] + list(model.named_modules())")
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert not result.hidden and not result.forbidden_for(["BatchNorm1d", "f"])
