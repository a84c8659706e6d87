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
    ("import sys\nf = sys._getframe(1)", "private"),
    ("import gc\ngc.get_objects()", "import of gc"),
    ("import ctypes", "import of ctypes"),
    ("import os\nos.write(3, b'{}')", "os.write (not among the names of os"),
    ("from os import write", "import of os.write"),
    ("import inspect", "import of inspect"),
    ("def f(x):\n    return getattr(np, 'me' + 'an')(x)", "computed name"),
    ("setattr(np, name, None)", "computed name"),
    ("def f(g):\n    return g.__closure__[0].cell_contents", ".__closure__"),
    ("def f(e):\n    return e.__traceback__.tb_frame.f_back.f_globals", ".__traceback__"),
    ("t = ().__class__.__base__.__subclasses__()", ".__base__"),
    ("x.__class__ = Other", "changing an object's .__class__"),
    ("setattr(x, '__class__', Other)", "setattr(..., '__class__')"),
    ("g = globals()", "globals()"),
    ("v = vars(np)", "vars()"),
    ("k = torch._C", "private attribute"),
    ("k = np.core._multiarray_umath", "private attribute"),
    ("k = torch.ops.aten.add", "torch.ops"),
    ("from torch.overrides import TorchFunctionMode", "torch.overrides"),
    ("np.allclose = lambda *a, **k: True", "replacing numpy.allclose"),
    ("with open('/proc/self/mem', 'r+b') as f:\n    pass", "open() for writing an outside path"),
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


# ---------------------------------------------------------------- fail closed: what the reading cannot see is refused

@pytest.mark.parametrize("code, what", [
    # a cell that does not parse is not skipped: the grader cannot clear what it cannot read
    ("def f(x):\n    return x +", "cannot read as Python"),
    ("np.mean?", "cannot read as Python"),
    ("files = !ls", "magic !ls"),  # IPython's SystemAssign: a shell escape
    ("x = 1\x00", "cannot read as Python"),
    # magics: %time / %timeit run their code, which is read like any other
    ("%time exec('x = 1')", "exec()"),
    ("%timeit -n 1 -r 1 exec(code)", "exec()"),
    ("%%time\nexec('x = 1')", "exec()"),
    ("%%timeit -n 1 e = eval\nx = 1", "eval used as a value"),
    ("%%capture\nexec('x = 1')", "exec()"),
    ("%load other.py", "magic %load"),
    ("    %run -i other.py", "magic %run"),
    ("%%script python\nprint(1)", "cell magic %%script"),
    # dangerous builtins taken as values, in any position
    ("e = exec\ne('x = 1')", "exec used as a value"),
    ("list(map(exec, ['x = 1']))", "exec used as a value"),
    ("f = getattr\nf(np, 'mean')", "getattr used as a value"),
    ("import functools\nrun = functools.partial(eval, '1')", "eval used as a value"),
    ("table = {'run': compile}", "compile used as a value"),
    ("o = open", "open used as a value"),
    ("def f(g=setattr):\n    return g", "setattr used as a value"),
    ("x = [vars, globals][0]()", "used as a value"),
    ("b = __builtins__", "__builtins__"),
    ("import builtins", "import of builtins"),
    ("getattr(np, '__dict__')", "'__dict__'"),
    ("getattr(np, name)", "computed name"),
    # IPython's shell API and history
    ("ip = get_ipython()", "get_ipython"),
    ("code = In[3]", "In (IPython"),
    ("last = Out[2]", "Out (IPython"),
    ("src = _ih[-1]", "_ih"),
    ("old = _i3", "_i3"),
    ("value = _12", "_12"),
    ("r = _oh", "_oh"),
    # interpreter internals: any dunder attribute but a short list, frames, modules reached by attribute
    ("k = np.ones.__class__.__mro__", ".__mro__"),
    ("def f(x):\n    return f.__globals__", ".__globals__"),
    ("c = (lambda: 0).__code__", ".__code__"),
    ("s = object.__subclasses__()", ".__subclasses__"),
    ("d = np.__dict__", ".__dict__"),
    ("t = np.__spec__", ".__spec__"),
    ("x = f.__wrapped__", ".__wrapped__"),
    ("x = type(np).__getattribute__", ".__getattribute__"),
    ("x = object.__reduce_ex__", ".__reduce_ex__"),
    ("x = int.__init_subclass__", ".__init_subclass__"),
    ("def f(e):\n    return e.__traceback__.tb_frame.f_globals", ".__traceback__"),
    ("def f(t):\n    return t.tb_frame", ".tb_frame"),
    ("import sys\nm = sys.modules", "sys.modules (not among the names of sys"),
    ("import sys\nsys.settrace(None)", "sys.settrace"),
    ("from sys import modules", "import of sys.modules"),
    ("import inspect", "import of inspect"),
    ("import gc", "import of gc"),
    ("import ctypes", "import of ctypes"),
    ("import warnings\nm = warnings.sys", ".sys (the sys module"),
    # threads and processes
    ("import threading", "import of threading"),
    ("from concurrent.futures import ThreadPoolExecutor", "import of concurrent.futures"),
    ("import multiprocessing", "import of multiprocessing"),
    ("import _thread", "import of _thread"),
    ("import os\npid = os.fork()", "os.fork"),
    ("import os\nos.system('ls')", "os.system"),
    ("import os\nos.kill(1, 9)", "os.kill"),
    ("import os as o\no.execv('/bin/sh', [])", "os.execv"),
    ("import os\nmod = os\nmod.system('ls')", "module os used as a value"),
    ("import os\nrun = [os][0]", "module os used as a value"),
    ("import subprocess", "import of subprocess"),
    ("import signal", "import of signal"),
    ("from torch import multiprocessing", "torch.multiprocessing"),
    ("import logging.config", "logging.config"),
    ("import logging\nlogging.config.listen(9999)", "logging.config"),
    # reading code with the data
    ("d = np.load('x.npy', allow_pickle=True)", "allow_pickle=True"),
    ("d = np.load('x.npy', allow_pickle=flag)", "allow_pickle=flag"),
    ("m = torch.load('m.pt', weights_only=False)", "weights_only=False"),
    # writing a computed or outside path
    ("with open(path, 'wb') as f:\n    f.write(b'x')", "open() for writing a computed path"),
    ("open('/proc/self/mem', 'r+b')", "outside path"),
    ("open('../../x', 'w')", "outside path"),
    ("open(p, mode)", "computed mode"),
    ("open(*args)", "unpacked arguments"),
    ("setattr(np, 'allclose', lambda *a, **k: True)", "replacing numpy.allclose"),
    ("delattr(torch.nn.functional, 'relu')", "replacing torch.nn.functional.relu"),
])
def test_what_the_reading_cannot_see_is_refused(code, what):
    result = review([(3, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


HONEST = [
    "import os\npath = os.path.join(os.getcwd(), 'data.json')\nhome = os.environ.get('HOME', '')\nn = os.cpu_count()",
    "import os\nos.makedirs('out', exist_ok=True)\nfiles = sorted(os.listdir('.'))",
    "from os import path\nfrom os.path import join, exists\nok = exists(join('a', 'b'))",
    "import logging\nlogging.basicConfig(level=logging.INFO)\nlog = logging.getLogger(__name__)\nlog.info('start')",
    "import json\nwith open('params.json', 'w') as f:\n    json.dump({'a': 1}, f)\nparams = json.load(open('params.json'))",
    "import json\ncfg = json.loads('{}')\nwith open(name) as handle:\n    text = handle.read()",
    "import math, itertools, functools, collections, time, typing, dataclasses, random, statistics, copy, warnings",
    "import faulthandler\nfaulthandler.enable()",
    "t0 = time.perf_counter()\ntime.sleep(0)\nelapsed = time.time() - t0",
    "from functools import reduce, partial, lru_cache\nfrom itertools import product\nfrom collections import defaultdict",
    "from dataclasses import dataclass, field\nfrom typing import Optional, List\nimport copy\nb = copy.deepcopy([1])",
    "import random, statistics\nrandom.seed(0)\nm = statistics.mean([1, 2])",
    "import warnings\nwarnings.filterwarnings('ignore')\nwith warnings.catch_warnings():\n    pass",
    "m = np.memmap('data.bin', dtype=np.float32, mode='w+', shape=(4,))\nx = np.load('a.npy')\nnp.save('b.npy', x)",
    "np.savetxt('c.txt', np.ones(3))\ny = np.loadtxt('c.txt')\nz = np.fromfile('data.bin', dtype=np.float32)",
    "import sys\nprint('note', file=sys.stderr)\nsys.stdout.flush()\nbig = sys.maxsize",
    "class A:\n    def __init__(self):\n        super().__init__()\n        self.name = type(self).__name__\n"
    "    def __repr__(self):\n        return f'{type(self).__name__}()'",
    "%time y = np.ones(3)\n%timeit -n 1 -r 1 np.zeros(2)",
    "%%time\nz = np.arange(4)",
    "%matplotlib inline",
    "for _ in range(3):\n    pass\nx, _ = 1, 2",
    "s = getattr(np, 'float64')\nok = hasattr(x, 'shape')\nsetattr(self_like, 'weight', 1)",
    "def evaluate(model):\n    return model.eval()\nr = re.compile('a')",
    "print(np.__version__, __name__)\ndef f():\n    '''doc'''\nd = f.__doc__",
    # what the adversarial review found honest code writing (and the reading refused)
    "from __future__ import annotations\nimport csv, datetime\nfrom pathlib import Path\n"
    "rows = list(csv.reader(open('a.csv')))\nstamp = datetime.datetime.now().isoformat()\nPath('out').mkdir()",
    "import sys\nif __name__ == '__main__' and len(sys.argv) > 1:\n    pass",
    # attack 5: a __repr__ as PyTorch's own modules write it
    "class Dropout:\n    def __repr__(self):\n        return f'{self.__class__.__name__}(p={self.p})'",
]


# %time / %timeit lines that IPython would split otherwise than a reading that drops words beginning with "-":
# %time takes no option (``%time -1;code`` runs ``-1;code``), tabs are not spaces to a reader of words
MAGICS_READ_OTHERWISE = [
    "%time -1;import\tautograder.forbidden\tas\tF",
    "%time -q x = 1",
    "%timeit -1;y=2",
    "%timeit -n\t1 x = 1",
    "%timeit -n x = 1",
    "%%time -1;z=3\nx = 1",
]


@pytest.mark.parametrize("code", MAGICS_READ_OTHERWISE)
def test_a_magic_whose_options_the_reading_cannot_split_is_hidden_code(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any("cannot read" in str(f) for f in result.hidden), [str(f) for f in result.hidden]


@pytest.mark.parametrize("code", HONEST)
def test_ordinary_code_is_not_refused(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []


def test_a_name_the_learner_binds_is_theirs_not_ipythons_history():
    assert not review([(1, "for _i in range(3):\n    print(_i)\nIn = 3\nprint(In)")], TORCH,
                      RULES["04_batchnorm_inference"]).hidden
    # but get_ipython stays the shell's, whatever the notebook binds
    assert review([(1, "get_ipython = 1\nget_ipython")], TORCH, RULES["04_batchnorm_inference"]).hidden


# ---------------------------------------------------------------- Hypothesis: a dangerous builtin, wrapped any way

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from grader.policy import NOT_VALUES  # noqa: E402

WRAPPERS = ["[{}]", "({},)", "{{'k': {}}}", "print({})", "(lambda: {})", "({} if flag else None)", "list(map({}, []))",
            "sorted([], key={})", "functools.partial({})", "{}.__call__", "(yield_ := {})", "[x for x in [{}]]",
            "dict(run={})", "setattr(obj, 'f', {})", "(*[{}],)"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(sorted(NOT_VALUES)), st.lists(st.sampled_from(WRAPPERS), min_size=1, max_size=4),
       st.sampled_from(["x = {}", "def f():\n    return {}", "class A:\n    run = {}", "f({})"]))
def test_a_dangerous_builtin_as_a_value_is_found_however_wrapped(name, wrappers, statement):
    expression = name
    for wrapper in wrappers:
        expression = wrapper.format(expression)
    code = "import functools\n" + statement.format(expression)
    result = review([(2, code)], TORCH, RULES["06_dropout"])
    assert result.hidden, code


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(HONEST), min_size=1, max_size=4))
def test_honest_cells_together_read_clean(sources):
    result = review(list(enumerate(sources)), TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []


# ---------------------------------------------------------------- attributes named by strings or patterns (attack 3)

# Every route of the standard library that reads an attribute named by a string or a pattern: refused where the
# name is not one the reading clears (private, dunder, a module, a name that itself reads by name).
ATTRIBUTE_BY_NAME = [
    ("import string, logging\nsys_ = string.Formatter().get_field('0.sys', [logging], {})[0]", ".get_field"),
    ("import string\nfmt = string.Formatter()\ng = fmt.get_field", ".get_field"),
    ("import string\nout = string.Formatter().vformat('{0._REFUSED}', [m], {})", ".vformat"),
    ("import string\nclass Grab(string.Formatter):\n    def format_field(self, value, spec):\n        return ''",
     "a method named format_field"),
    ("import string\nclass Grab(string.Formatter):\n    def get_field(self, name, args, kwargs):\n        return 1",
     "a method named get_field"),
    ("import logging\nmatch logging:\n    case object(sys=found):\n        pass", "case ...(sys=...)"),
    ("match module:\n    case object(_sgd_like=sgd, _adam_like=adam):\n        pass", "case ...(_sgd_like=...)"),
    ("match f:\n    case object(__globals__=g):\n        pass", "case ...(__globals__=...)"),
    ("import abc\nclass Any(abc.ABC):\n    __match_args__ = ('sys',)\nAny.register(object)\n"
     "match logging:\n    case Any(found):\n        pass", "positional sub-patterns"),
    ("import operator, logging\nsys_ = operator.attrgetter('sys')(logging)", ".attrgetter"),
    ("from operator import attrgetter", "import of operator.attrgetter"),
    ("from operator import methodcaller as call\ncall('_destroy')(lib)", "import of operator.methodcaller"),
    ("import operator\nrun = operator.methodcaller('_destroy')", ".methodcaller"),
    ("import logging\nsys_ = getattr(logging, 'sys')", "getattr(..., 'sys')"),
    ("ok = hasattr(m, '_REFUSED')", "hasattr(..., '_REFUSED')"),
    ("import functools, logging\nfunctools.update_wrapper(box, logging)", ".update_wrapper"),
    ("from functools import update_wrapper", "import of functools.update_wrapper"),
    ("import functools, logging\nfunctools.wraps(logging, assigned=('sys',))(box)", "functools.wraps with assigned="),
    ("text = '{0.__globals__}'.format(f)", "a format field reading .__globals__"),
    ("text = '{m._REFUSED}'.format_map({'m': m})", "a format field reading ._REFUSED"),
    ("text = '{0:{1.__dict__}}'.format(1, x)", "a format field reading .__dict__"),
    ("import types\nmake = types.FunctionType(code, {})", "types.FunctionType"),
    ("from types import CodeType", "import of types.CodeType"),
    ("import types\nt = types", "the module types used as a value"),
    ("import inspect\nx = inspect.getattr_static(m, '_x')", "import of inspect"),
    ("import dataclasses\nx = dataclasses.inspect", ".inspect"),
    # private attributes through `self`: only the learner's own names, in a method
    ("import collections\nclass Peek:\n    def get(self):\n        return self._sys\ns = Peek.get(collections)",
     "._sys (a private attribute)"),
    ("import collections\nself = collections\nfound = self._sys", "._sys (a private attribute)"),
    ("import collections\nclass Peek:\n    @staticmethod\n    def get(self):\n        self._sys = 1\n"
     "        return self._sys", "._sys (a private attribute)"),
    ("C.__module__ = '__main__'", "changing a class's .__module__"),
    ("setattr(C, '__module__', '__main__')", "'__module__'"),
    ("f = __grader_own__", "__grader_own__"),
]


@pytest.mark.parametrize("code, what", ATTRIBUTE_BY_NAME)
def test_attributes_named_by_strings_or_patterns_are_judged(code, what):
    result = review([(3, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


# Routes that yield only a string (str.format with a computed template, f-strings, logging's "{" style,
# string.Template, pprint, repr) or that read only names the reading sees: they read clean.
HONEST_BY_NAME = [
    "import string\ntext = string.Template('$a').substitute(a=1)\nwords = string.ascii_letters",
    "template = 'loss {0:.3f} at {1}'\nline = template.format(0.5, 3)\nmsg = '{x.shape}'.format(x=np.ones(2))",
    "import logging\nh = logging.Formatter('{levelname}: {message}', style='{')",
    "import operator\nranked = sorted([('a', 2), ('b', 1)], key=operator.itemgetter(1))\nt = operator.add(1, 2)",
    "from operator import itemgetter, mul\nfrom functools import reduce\nn = reduce(mul, [1, 2, 3])",
    "from types import SimpleNamespace\ncfg = SimpleNamespace(lr=0.1, momentum=0.9)\nlr = cfg.lr",
    "import types\nok = isinstance(x, types.SimpleNamespace)",
    "import functools\ndef logged(f):\n    @functools.wraps(f)\n    def inner(*a, **k):\n        return f(*a, **k)\n"
    "    return inner",
    "match shape:\n    case (n, d):\n        pass\n    case int(n):\n        pass\n    case {'rows': r}:\n        pass\n"
    "    case Point(x=0, y=y):\n        pass\n    case str() | None:\n        pass",
    "class Cache:\n    _shared = {}\n    def __init__(self):\n        self._seen = []\n"
    "    def add(self, x):\n        self._seen.append(x)\n        return sorted(self._seen, key=lambda k: self._shared.get(k, 0))\n"
    "    @classmethod\n    def reset(cls):\n        cls._shared = {}",
    "%config InlineBackend.figure_format = 'retina'",
    "%matplotlib\n%matplotlib inline",
    "help(np.mean)",
    "help(len)\nprint(help)",
]


@pytest.mark.parametrize("code", HONEST_BY_NAME)
def test_honest_routes_by_name_read_clean(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code", [
    "%config InteractiveShell.ast_node_interactivity = 'all'",
    "%config InlineBackend.figure_format = __import__('os').getcwd()",
    "%load_ext autoreload",
])
def test_other_config_and_extension_magics_stay_refused(code):
    assert review([(1, code)], TORCH, RULES["04_batchnorm_inference"]).hidden


# ---------------------------------------------------------------- a builtin's name the learner binds is theirs

@pytest.mark.parametrize("code", [
    "class Net(nn.Module):\n    def forward(self, input):\n        return torch.relu(input) + input.mean()",
    "def population_statistics(x):\n    means, vars = x.mean(0), x.var(0)\n    return means, vars",
    "means, vars = np.zeros(3), np.ones(3)\nprint(vars)\ndef spread():\n    return vars.sum()",
    "def f(input):\n    return [v * 2 for v in input]",
    "def f(open):\n    return open + 1",
    "def f(help):\n    return help()",
    "def f(vars):\n    return [vars[i] for i in range(2)] + [input for input in vars]",
])
def test_a_builtins_name_bound_by_the_learner_is_theirs(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code", [
    "if flag:\n    vars = 1\nv = vars",             # conditional: at module level, vars may still be the builtin
    "v = vars\nvars = 1",                           # before the binding
    "vars = 1\ndel vars\nv = vars",                 # deleted: the builtin again
    "def f(x, input=input):\n    return input",     # a default value is read outside the function
    "def f():\n    return vars\nvars = 1",          # a function defined before the binding
    "def f():\n    global vars\n    vars = 1\nv = vars",
    "class A:\n    vars = 1\n    v = vars",         # class bodies are not followed
    "def f():\n    e = exec\n    return e",
    "def f():\n    return [vars for _ in (1,)]",   # a comprehension's free name: the builtin here
    "g = [vars for vars in [vars]]",                 # the first iterable is read in the enclosing scope
])
def test_a_builtin_taken_as_a_value_is_still_found(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any("used as a value" in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_a_module_level_binding_counts_only_in_its_own_cell():
    """``vars = 1 / 0`` raises and stops its cell, but the next cell still runs, where vars is the builtin."""
    result = review([(1, "vars = 1 / 0"), (2, "v = vars")], TORCH, RULES["04_batchnorm_inference"])
    assert any("used as a value" in str(f) for f in result.hidden), [str(f) for f in result.hidden]


# ---------------------------------------------------------------- deep code, big notebooks

@pytest.mark.parametrize("terms", [330, 1000])
def test_a_deep_but_legal_expression_reads_clean(terms):
    code = "total = " + " + ".join(f"a{i}" for i in range(terms)) + "\nflag = " + "not " * 600 + "True"
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []
    assert {"a0", f"a{terms - 1}"} <= result.statements[0].uses


def test_a_cell_deeper_than_python_parses_is_hidden_code_not_a_grader_failure():
    code = "total = " + " + ".join("1" for _ in range(5000))
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any("nested too deeply" in str(f) for f in result.hidden)


def test_forbidden_for_is_linear_in_the_notebooks_size():
    import time

    def timed(n):
        chain = "h0 = torch.nn.functional.batch_norm\n" + "\n".join(f"h{i} = h{i - 1}" for i in range(1, n))
        cells = [(1, chain), (2, f"class BatchNorm1d(nn.Module):\n    def forward(self, x):\n        return h{n - 1}(x)")]
        result = review(cells, TORCH, RULES["04_batchnorm_inference"])
        assert any("batch_norm" in str(f) for f in result.forbidden_for(["BatchNorm1d"]))
        times = []
        for _ in range(5):
            started = time.perf_counter()
            result.forbidden_for(["BatchNorm1d"])
            times.append(time.perf_counter() - started)
        return min(times)

    small, large = timed(4000), timed(16000)
    assert large < 10 * max(small, 1e-3), (small, large)  # 4 times the statements: quadratic would be 16 times


# ---------------------------------------------------------------- attack 4: IPython's shell; honest names and checks

@pytest.mark.parametrize("code, what", [
    ("import IPython\nIPython.InteractiveShell.instance().ex('x = 1')", "IPython.InteractiveShell"),
    ("from IPython import InteractiveShell\nInteractiveShell.instance().run_cell('x = 1')", "IPython.InteractiveShell"),
    ("import IPython\nmodule, found = IPython.extract_module_locals(3)", "IPython.extract_module_locals"),
    ("from IPython import extract_module_locals", "IPython.extract_module_locals"),
    ("import IPython\nip = IPython", "the module IPython used as a value"),
    ("import IPython.terminal.embed", "import of IPython.terminal"),
    ("from IPython.core.interactiveshell import InteractiveShell", "IPython.core"),
])
def test_ipython_gives_its_display_functions_only(code, what):
    result = review([(1, code)], TORCH, RULES["05_weight_decay"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


@pytest.mark.parametrize("code", [
    "from IPython.display import display, HTML, Markdown, clear_output\ndisplay(HTML('<b>x</b>'))\nclear_output()",
    "import IPython.display\nIPython.display.display(Markdown('**x**'))",
    "import IPython\nIPython.display.display(1)",
    "from IPython import display\ndisplay.display(2)",
])
def test_ipython_display_reads_clean(code):
    result = review([(1, code)], TORCH, RULES["05_weight_decay"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("assignment, code", [
    # a custom autograd Function keeping its mask on ctx: the learner's own attribute, not torch's dropout
    ("06_dropout", "class _Fn(torch.autograd.Function):\n    @staticmethod\n    def forward(ctx, x, p):\n"
                   "        ctx.dropout_mask = (torch.rand_like(x) >= p) / (1 - p)\n        return x * ctx.dropout_mask\n"
                   "    @staticmethod\n    def backward(ctx, g):\n        return g * ctx.dropout_mask, None\n"
                   "def dropout_forward(x, p, train=True, rng=None):\n    settings = {'dropout_p': p}\n"
                   "    return _Fn.apply(x, settings['dropout_p'])"),
    ("06_dropout", "def dropout_forward(x, p, train=True, rng=None):\n    config = make_config()\n"
                   "    return x * (rng.random(x.shape) >= config.dropout_rate)"),
    # naming a class to check an argument's type: ``is`` reaches no code of the class
    ("04_batchnorm_inference", "def fold_batchnorm(linear, bn):\n"
                               "    if type(bn) is not torch.nn.BatchNorm1d and not isinstance(bn, BatchNorm1d):\n"
                               "        raise TypeError('bn must be a BatchNorm1d')\n    return linear"),
])
def test_the_learners_own_names_and_type_checks_are_not_forbidden(assignment, code):
    name = code.split("\ndef ")[-1].split("(")[0] if "\ndef " in code else code.split("def ")[1].split("(")[0]
    result = review([(1, code)], TORCH, RULES[assignment])
    assert not result.hidden and not result.forbidden_for([name]), \
        [str(f) for f in result.hidden + result.forbidden_for([name])]


@pytest.mark.parametrize("assignment, code", [
    ("06_dropout", "import torch.nn.functional as F\nkeep = [F]\n"
                   "def dropout_forward(x, p, train=True, rng=None):\n    return keep[0].dropout(x, p)"),
    ("04_batchnorm_inference", "def fold_batchnorm(linear, bn):\n"
                               "    if (y := torch.nn.functional.batch_norm(linear, None, None)) is None:\n        pass\n"
                               "    return y"),
    ("04_batchnorm_inference", "def fold_batchnorm(linear, bn):\n"
                               "    if type(bn) == torch.nn.BatchNorm1d:\n        pass\n    return linear"),
    ("04_batchnorm_inference", "def fold_batchnorm(linear, bn):\n"
                               "    return [torch.nn.BatchNorm1d][0] is None or torch.nn.BatchNorm1d(3)"),
])
def test_a_forbidden_reference_stays_found_beside_those_exemptions(assignment, code):
    name = code.split("def ")[1].split("(")[0]
    result = review([(1, code)], TORCH, RULES[assignment])
    assert result.forbidden_for([name]), f"{assignment}: nothing found in\n{code}"


# ---------------------------------------------------------------- honest7: magics are what IPython's transformer finds

# an escape starts a magic only at the start of a logical line outside strings (IPython's own rule): these are Python
MAGIC_LOOKALIKES = [
    "x_max, x_min = np.ones(3), np.zeros(3)\nvaries = (x_max\n          != x_min)",
    "lr, momentum = 0.1, 0.9\nprint('sgd_step: lr=%g momentum=%g'\n      % (lr, momentum))",
    "x = 7 + \\\n    2 \\\n    % 3",
    'def spatial(x):\n    """Batch norm per channel.\n    % reshape to (N*H*W, C), normalize, reshape back\n'
    '    !important: C is the last axis\n    """\n    return x',
    "s = '''\n%run evil.py\n!ls\n'''",
    "\n\n  y = np.ones(3)\n  z = y * 2",            # IPython drops leading blank lines and the common indent
    "y = %time np.ones(3)",                          # MagicAssign: the value of the timed expression
    "for k in range(2):\n    %time np.ones(k)",
    "%%capture out\nz = np.arange(4)\n%time y = np.ones(3)",
]


@pytest.mark.parametrize("code", MAGIC_LOOKALIKES)
def test_what_only_looks_like_a_magic_reads_clean(code):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code, what", [
    ("%time f(1\n%run)", "magic %run"),             # %time's own code is not a bracket the next line continues
    ("%time %time %run x", "magic %run"),            # %time transforms its code again
    ("if True:\n    !ls", "magic !ls"),
    ("x = 1\n%load_ext autoreload", "magic %load_ext"),
    ("%%capture\nx = 1\n!ls", "magic !ls"),          # %%capture runs its body as a cell
    ("  %%bash\n  ls", "cell magic %%bash"),         # IPython dedents the cell first
    ("\n%%bash\nls", "cell magic %%bash"),           # and drops leading blank lines
    ("/exec 'x = 1'", "exec()"),                    # IPython's /f a b is f(a, b)
    (",exec x", "exec()"),
    ("y = %time eval('1')", "eval()"),
    ("get_ipython().run_line_magic('time', 'x = 1')", "get_ipython"),  # written by the learner: refused
    ("x = 5 \\\n%run x", None),                     # a backslash continues the line: Python, no magic
])
def test_magics_are_found_as_ipython_finds_them(code, what):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    found = [str(f) for f in result.hidden]
    if what is None:
        assert not any("magic" in f for f in found), found
    else:
        assert any(what in f for f in found), found


def test_the_grading_shell_runs_a_one_line_cell_as_written():
    """No automagic, no autocall: ``run (x)`` is a call of ``run``, as the reading reads it, not ``%run (x)``."""
    from grader.runner import OutputSink, make_shell

    shell = make_shell(OutputSink())
    for line in ("run (x)", "load_ext (x)", "pwd", "prun (x)"):
        assert shell.transform_cell(line) == line + "\n"


# ---------------------------------------------------------------- honest7: names that are also modules' names

MODULE_NAMED_HONEST = [
    "y = np.select([x > 0, x < 0], [x, -x], default=0.0)",
    "from numpy import select\ny = select([x > 0], [x])",
    "v = torch.ones(3, 4).select(1, 0)\nw = torch.select(v, 0, 1)\nu = torch.Tensor.select(v, 0, 0)",
    "from dataclasses import dataclass\n@dataclass\nclass Rung:\n    resource: int\n    configs: list\n"
    "rung = Rung(3, [])\nbudget = rung.resource * 2\nrung.resource += 1",
    "try:\n    pass\nexcept SystemExit as error:\n    status = error.code",
    "class Net:\n    def __init__(self):\n        self.signal = None\n        self.io = []\n        self.types = ('a',)\n"
    "    def report(self):\n        return self.signal, self.io, self.types",
    "from scipy import signal\nfrom scipy import io as sio",
    "import scipy.signal\nw = scipy.signal.windows",
]


@pytest.mark.parametrize("code", MODULE_NAMED_HONEST)
def test_attributes_named_like_modules_read_clean(code):
    result = review([(1, code)], TORCH, RULES["07_hyperparameter_search"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code, what", [
    ("from torch import sys\nm = sys.modules", "import of torch.sys"),     # the module by a from-import
    ("from warnings import sys as s", "import of warnings.sys"),
    ("from torch import os", "import of torch.os"),
    ("from numpy import io", "import of numpy.io"),                     # a name the library does not have
    ("m = warnings.sys.modules", ".sys"),                               # not a name honest objects carry
    ("m = np.os", ".os"),
    ("t = x.importlib", ".importlib"),
    ("g = getattr(x, 'select')", "getattr(..., 'select')"),            # by a string: still refused
    ("match x:\n    case C(io=f):\n        pass", "case ...(io=...)"),
    ("s = '{0.code}'.format(f)", "a format field"),
])
def test_routes_to_modules_by_their_names_stay_refused(code, what):
    result = review([(1, code)], TORCH, RULES["04_batchnorm_inference"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_an_attribute_named_like_a_module_is_checked_as_the_cell_runs():
    """``x.select`` runs as ``__grader_plain__(x.select, 'select')``: a function passes, the select module raises."""
    import ast
    import os
    import selectors
    import sys
    import types

    import numpy as np
    import scipy.signal

    from grader.runner import ModuleNamedAttributes, _grader_plain

    tree = ModuleNamedAttributes().visit(ast.parse("a = np.select([c], [v])\nb = lib.signal\nc = [lib][0].select\n"))
    assert ast.unparse(tree).count("__grader_plain__(") == 3
    namespace = {"__grader_plain__": _grader_plain, "np": np, "c": np.array([True]), "v": np.array([2]),
                 "lib": type("Lib", (), {"signal": scipy.signal, "select": selectors.select})}
    with pytest.raises(PermissionError, match="the module select"):
        exec(compile(tree, "<cell>", "exec"), namespace)
    assert namespace["a"].tolist() == [2] and namespace["b"] is scipy.signal
    assert _grader_plain(scipy.signal, "signal") is scipy.signal and _grader_plain(3, "code") == 3
    for module in (selectors, sys, os, types):  # modules a notebook may not hold, whatever name reached them
        with pytest.raises(PermissionError):
            _grader_plain(module, "io")


# ---------------------------------------------------------------- honest7: public names with an underscore

@pytest.mark.parametrize("code", [
    "from collections import namedtuple\nConfig = namedtuple('Config', 'lr wd')\nc = Config(0.1, 0.0)\n"
    "d = c._asdict()\ne = c._replace(lr=0.2)\nnames = Config._fields\nf = Config._make([1, 2])\n"
    "g = Config._field_defaults",
    "from typing import NamedTuple\nclass Trial(NamedTuple):\n    lr: float\n    score: float\n"
    "best = max([Trial(0.1, 0.9)], key=lambda t: t.score)._asdict()",
    "import enum\nclass Mode(enum.Enum):\n    TRAIN = 1\nv = Mode.TRAIN._value_",
])
def test_documented_public_underscore_names_read_clean(code):
    result = review([(1, code)], TORCH, RULES["07_hyperparameter_search"])
    assert [str(f) for f in result.hidden] == []


def test_operator_methods_of_a_learners_class_read_clean():
    code = ("class Stats(list):\n    def __iadd__(self, other):\n        self.extend(other)\n        return self\n"
            "    def __delitem__(self, i):\n        super().__delitem__(i)\n    def __rmatmul__(self, other):\n"
            "        return other\ns = Stats()\ns.__iadd__([1])\nr = (1).__round__()\nu = int.__or__(1, 2)")
    assert [str(f) for f in review([(1, code)], TORCH, RULES["04_batchnorm_inference"]).hidden] == []


@pytest.mark.parametrize("code", ["k = torch._C", "x = np._asdict", "v = t._version", "m = self_like._modules",
                                  "f = collections._sys"])
def test_other_private_names_stay_refused(code):
    assert any("private" in str(f) for f in review([(1, code)], TORCH, RULES["04_batchnorm_inference"]).hidden)


# ---------------------------------------------------------------- honest7: every way a learner binds a name

@pytest.mark.parametrize("code", [
    "class Out(torch.Tensor):\n    pass\nt = torch.ones(2).as_subclass(Out)",
    "def In(x):\n    return x\ny = In(3)",
    "import math as _i\nr = _i.pi",
    "from math import pi as _ii\nr = _ii",
    "try:\n    pass\nexcept ValueError as _oh:\n    print(_oh)",
    "with open('a.txt') as _i3:\n    print(_i3)",
    "if (__ := 3) > 2:\n    print(__)",
    "squares = [_i for _i in range(3)]",
    "match (1, 2):\n    case (_i, *___):\n        print(_i, ___)",
    "for _1 in range(2):\n    print(_1)",
])
def test_shell_names_the_learner_binds_are_theirs(code):
    result = review([(1, code)], TORCH, RULES["06_dropout"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code", [
    "h = Out[3]", "print(In[-1])", "x = _i", "y = _oh", "z = __", "get_ipython()",
    "def get_ipython():\n    return 1\nget_ipython()",        # the shell's own name: refused whoever binds it
])
def test_shell_names_the_learner_does_not_bind_stay_refused(code):
    assert review([(1, code)], TORCH, RULES["06_dropout"]).hidden


@pytest.mark.parametrize("code", [
    "def __grader_own__(x):\n    return x",                    # would undo the runner's check of a method's self
    "class __grader_plain__:\n    pass",
    "from math import floor as __grader_own__",
    "try:\n    pass\nexcept ValueError as __grader_own__:\n    pass",
    "match 1:\n    case __grader_plain__:\n        pass",
    "import math as get_ipython",
])
def test_the_graders_own_names_cannot_be_bound_by_any_form(code):
    assert any("bound by the notebook" in str(f) for f in review([(1, code)], TORCH, RULES["06_dropout"]).hidden)


# ---------------------------------------------------------------- honest7: a visible check run again

DROPOUT_COURSE = TORCH + ["from autograder.dropout import (check_dropout_forward, check_dropout_fresh_mask)\n"
                          "check_dropout_forward(dropout_forward, p=0.2)",
                          "from autograder.dropout import check_dropout_module\ncheck_dropout_module(Dropout)"]


@pytest.mark.parametrize("code", [
    "from autograder.dropout import check_dropout_forward\ncheck_dropout_forward(dropout_forward, p=0.5)",
    "from autograder.dropout import check_dropout_forward as again, check_dropout_module\n"
    "for p in (0.1, 0.5):\n    again(dropout_forward, p=p)\ncheck_dropout_module(Dropout)",
    "%time from autograder.dropout import check_dropout_forward\n%time check_dropout_forward(dropout_forward)",
])
def test_a_visible_check_may_be_called_again_in_a_cell(code):
    result = review([(1, code)], DROPOUT_COURSE, RULES["06_dropout"])
    assert [str(f) for f in result.hidden] == []


@pytest.mark.parametrize("code, what", [
    ("from autograder.dropout import check_dropout_forward\nc = check_dropout_forward\nc.probe = None",
     "used as a value"),
    ("from autograder.dropout import check_dropout_forward\nf = getattr(check_dropout_forward, 'probe')",
     "used as a value"),
    ("from autograder.dropout import check_dropout_forward\nl = [check_dropout_forward]", "used as a value"),
    ("from autograder.dropout import check_dropout_forward\ndef dropout_forward(x, p):\n"
     "    check_dropout_forward(lambda x, p: x, p=0.5)\n    return x", "inside a function"),
    ("from autograder.dropout import check_dropout_forward\nrun = lambda: check_dropout_forward(f)",
     "inside a function"),
    ("from autograder.dropout import check_dropout_forward\nlater = (check_dropout_forward(f) for _ in 'ab')",
     "inside a function, a class or a generator"),
    ("from autograder.dropout import TOLERANCE", "the grader's checks"),
    ("from autograder.dropout import check_dropout_forward, TOLERANCE", "the grader's checks"),
    ("from autograder.dropout import check_units_independent", "the grader's checks"),  # not a course import
    ("import autograder.dropout", "the grader's checks"),
    ("from autograder.normalization import check_min_max_scale", "the grader's checks"),  # another exercise's
    ("from autograder.probe import Check", "the grader's checks"),
])
def test_anything_else_of_the_checks_stays_refused(code, what):
    result = review([(1, code)], DROPOUT_COURSE, RULES["06_dropout"])
    assert any(what in str(f) for f in result.hidden), [str(f) for f in result.hidden]


def test_a_check_called_by_code_under_check_is_refused():
    """A learner's function calling a check while a probe runs it would run code outside the probe's watch."""
    from autograder.normalization import check_min_max_scale

    def min_max_scale(x, feature_range=(0.0, 1.0)):
        check_min_max_scale(lambda x, feature_range=(0, 1): x)
        return x

    record = check_min_max_scale.run_probe([min_max_scale], {})
    assert "called by code that a check is running" in (record.failure or ""), record.failure


def test_a_cell_with_more_magics_than_the_reading_transforms_is_not_read():
    """IPython tokenizes the cell again after each magic: the reading stops at MAX_MAGICS_PER_CELL (linear)."""
    import time

    from grader.policy import MAX_MAGICS_PER_CELL

    few = "\n".join("%time x = 1" for _ in range(MAX_MAGICS_PER_CELL))
    assert not review([(1, few)], TORCH, RULES["04_batchnorm_inference"]).hidden
    started = time.perf_counter()
    many = review([(1, "\n".join("%time x = 1" for _ in range(2000)))], TORCH, RULES["04_batchnorm_inference"])
    assert time.perf_counter() - started < 20
    assert any("more than" in str(f) and "magics" in str(f) for f in many.hidden), [str(f) for f in many.hidden]
