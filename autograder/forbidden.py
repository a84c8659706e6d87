"""What each exercise asks learners to write themselves: the one list of forbidden references.

For every assignment:

- ``checks``: the module of its checks (what its grade cells import);
- ``libraries``: the third-party libraries its grading sandbox holds (the
  others, scikit-learn, SciPy and torch where not listed, are absent there);
- ``names``: qualified names the learner's code may not use (a prefix matches
  everything under it: ``"sklearn"`` is all of scikit-learn);
- ``words``: parts of a name that are forbidden at the end of any chain that
  starts at an imported module (``torch._VF.batch_norm``,
  ``torch.ops.aten.native_batch_norm``);
- ``ops``: parts of the names of torch functions that the learner's code may
  not run while it is checked (recorded by the probe with a torch function
  mode, whatever name the code used: ``torch._VF``, ``torch.ops.aten``...);
- ``code``: modules and packages whose Python functions the learner's code may
  not run while it is checked (recorded by the probe with a profiler that looks
  at the source file of every function called, so aliases, wrappers and copied
  functions are seen too): the course's own helpers that answer an exercise,
  and library helpers that are not torch operators (``torch.nn.utils.fusion``).

The class grader reads the learner's cells (``grading/policy.py``) with
``names`` and ``words``; every grading path (a learner's Jupyter, plain
nbgrader, the class grader) refuses ``ops`` and ``code`` (``probe.Check``).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Rules:
    checks: str
    libraries: tuple[str, ...]
    names: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()
    code: tuple[str, ...] = ()


_SCALERS = ("sklearn", "scipy", "torch")
_BATCH_NORM = ("torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d", "torch.nn.SyncBatchNorm",
               "torch.nn.LazyBatchNorm1d", "torch.nn.LazyBatchNorm2d", "torch.nn.LazyBatchNorm3d",
               "torch.nn.modules.batchnorm", "torch.nn.functional.batch_norm", "torch.batch_norm",
               "torch.native_batch_norm", "torch.nn.utils.fusion", "torch.ao", "torch.quantization",
               "torch.fx", "torch.func.functional_call")
# Every other normalization layer of torch is batch norm on a rearranged input: group_norm with one group per
# channel over (1, C, N), layer_norm or instance_norm or rms_norm (after centring) over the transposed batch.
_OTHER_NORMS = ("torch.nn.GroupNorm", "torch.nn.LayerNorm", "torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d",
                "torch.nn.InstanceNorm3d", "torch.nn.LazyInstanceNorm1d", "torch.nn.LazyInstanceNorm2d",
                "torch.nn.LazyInstanceNorm3d", "torch.nn.RMSNorm", "torch.nn.modules.normalization",
                "torch.nn.modules.instancenorm", "torch.nn.functional.group_norm", "torch.nn.functional.layer_norm",
                "torch.nn.functional.instance_norm", "torch.nn.functional.rms_norm", "torch.group_norm",
                "torch.layer_norm", "torch.instance_norm", "torch.rms_norm", "torch.native_group_norm",
                "torch.native_layer_norm")
_NORM_OPS = ("batch_norm", "group_norm", "layer_norm", "instance_norm", "rms_norm")
_NORM_WORDS = ("batch_norm", "BatchNorm", "group_norm", "GroupNorm", "layer_norm", "LayerNorm", "instance_norm",
               "InstanceNorm", "rms_norm", "RMSNorm")
_DROPOUT = ("torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d",
            "torch.nn.AlphaDropout", "torch.nn.FeatureAlphaDropout", "torch.nn.modules.dropout",
            "torch.nn.functional.dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
            "torch.nn.functional.dropout3d", "torch.nn.functional.alpha_dropout",
            "torch.nn.functional.feature_alpha_dropout", "torch.dropout", "torch.alpha_dropout",
            "torch.feature_dropout", "torch.native_dropout")

RULES: dict[str, Rules] = {
    # min-max scaling and z-scores with NumPy: scikit-learn's scalers, scipy.stats.zscore
    "01_normalization": Rules("autograder.normalization", ("numpy",), names=_SCALERS),
    # forward hooks and percentiles: the course's own recording helpers answer the exercise
    "02_covariate_shift": Rules("autograder.covariate_shift", ("numpy", "torch"),
                                names=("normreg.monitoring", "sklearn", "scipy"), code=("normreg.monitoring",)),
    # batch norm forward and backward in NumPy: PyTorch's batch norm and autograd are the reference
    "03_batchnorm_training": Rules("autograder.batchnorm_training", ("numpy",), names=_SCALERS,
                                   ops=_NORM_OPS),
    # a BatchNorm1d module, population statistics, folding: PyTorch's batch norm and fusion helpers
    "04_batchnorm_inference": Rules("autograder.batchnorm_inference", ("numpy", "torch"),
                                    names=_BATCH_NORM + _OTHER_NORMS + ("sklearn", "scipy"),
                                    words=_NORM_WORDS + ("fuse",), ops=_NORM_OPS,
                                    code=("torch.nn.utils.fusion", "torch.nn.modules.batchnorm", "torch.ao",
                                          "torch.fx", "torch.quantization", "torch.nn.modules.normalization",
                                          "torch.nn.modules.instancenorm")),
    # optimizer steps in NumPy: torch.optim is the reference
    "05_weight_decay": Rules("autograder.weight_decay", ("numpy",), names=_SCALERS),
    # dropout forward, backward and module: PyTorch's dropout
    "06_dropout": Rules("autograder.dropout", ("numpy", "torch"), names=_DROPOUT + ("sklearn", "scipy"),
                        words=("dropout", "Dropout"), ops=("dropout",)),
    # splits, sampling a search space, grid search, successive halving: scikit-learn's ParameterSampler,
    # ParameterGrid and HalvingGridSearchCV, scipy.stats' distributions, the course's own split_indices
    "07_hyperparameter_search": Rules("autograder.hyperparameter_search", ("numpy",),
                                      names=_SCALERS + ("normreg.data.split_indices",), code=("normreg.data",)),
    # the paper's experiment with the learner's own BatchNorm1d: PyTorch's batch norm (as in exercise 4), the
    # course's recording and training helpers (normreg.monitoring measures percentiles, normreg.training trains)
    "08_reproducing_batch_norm": Rules("autograder.reproducing_batch_norm", ("numpy", "torch"),
                                       names=_BATCH_NORM + _OTHER_NORMS + ("normreg.monitoring", "normreg.training",
                                                                           "sklearn", "scipy"),
                                       words=_NORM_WORDS, ops=_NORM_OPS,
                                       code=("normreg.monitoring", "normreg.training", "torch.nn.modules.batchnorm",
                                             "torch.nn.modules.normalization", "torch.nn.modules.instancenorm")),
}

_BY_MODULE = {rules.checks: rules for rules in RULES.values()}


def watches_torch(check_module: str) -> bool:
    """Whether this check's probes record the torch functions the learner's code runs.

    torch is imported first where it is installed (a learner's Jupyter; not the NumPy-only
    sandboxes, where it is absent), so code that imports torch itself is seen too.
    """
    rules = _BY_MODULE.get(check_module)
    if rules is None or not rules.ops:
        return False
    try:
        import torch  # noqa: F401
    except ImportError:
        pass
    return True


# ---------------------------------------------------------------- the checks' own reference-like helpers

VERDICT_ONLY: set = set()  # the helpers marked below, by their (unwrapped) code objects


def verdict_only(function):
    """Mark a check module's helper that a verdict compares with and that, with its mistakes switched off, answers
    the exercise (a NumPy SGD step, the paper's recipe run with torch's BatchNorm1d...): no learner's code may run
    it, in any exercise and on every grading path.

    Called while a probe watches the learner's code (``probe.learner_code``), the helper notes itself in the
    probe's record like a forbidden function of the ``code`` rule, and the verdict refuses the answer. A function
    it returns (``_adam_like()`` returns the step) is marked the same way. Outside the learner's code (a verdict)
    it costs one list lookup: no profiler runs for it.
    """
    import functools

    VERDICT_ONLY.add(function.__code__)
    name = f"python:{function.__module__}.{function.__name__}"

    @functools.wraps(function)
    def marked(*args, **kwargs):
        from autograder.probe import note_verdict_only

        note_verdict_only(name)
        result = function(*args, **kwargs)
        if callable(result) and getattr(result, "__module__", None) == function.__module__:
            result = verdict_only(result)
        return result

    return marked


def watched_code(check_module: str) -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    """This check's ``code`` rule as ({source file: module name}, ((package folder, package name), ...)).

    Found without importing the modules themselves (a parent package may be imported, as
    ``importlib.util.find_spec`` does); a module that is absent here (the class grader's
    sandbox holds no ``normreg``) cannot be run either, so it is simply left out.
    """
    import importlib.util
    import os

    rules = _BY_MODULE.get(check_module)
    files: dict[str, str] = {}
    folders: list[tuple[str, str]] = []
    for name in () if rules is None else rules.code:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        if spec.submodule_search_locations:
            folders.extend((os.path.join(os.path.realpath(folder), ""), name)
                           for folder in spec.submodule_search_locations)
            folders.extend((os.path.join(folder, ""), name) for folder in spec.submodule_search_locations)
        elif spec.origin:
            files.update({spec.origin: name, os.path.realpath(spec.origin): name})
    return files, tuple(dict.fromkeys(folders))


def sandbox_code(check_module: str) -> tuple[str, ...]:
    """The modules of this check's ``code`` rule that its grading sandbox holds (the libraries it provides:
    torch's, never the course's own ``normreg``): a probe anywhere watches at least these."""
    rules = _BY_MODULE.get(check_module)
    if rules is None:
        return ()
    files, folders = watched_code(check_module)  # those installed here (the same environment as the sandbox's)
    found = set(files.values()) | {name for _folder, name in folders}
    return tuple(name for name in rules.code if name.split(".")[0] in rules.libraries and name in found)


def forbidden_ops(check_module: str, ops: list[str]) -> list[str]:
    """The recorded torch functions (``"torch:dropout"``, ``"torch:native_batch_norm"``) this check's exercise forbids."""
    rules = _BY_MODULE.get(check_module)
    if rules is None:
        return []
    # "python:..." entries are only ever noted for the ``code`` rule's files (see probe.learner_code)
    return [op for op in ops if op.startswith("python:")
            or (op.startswith("torch:") and any(word in op.split(":", 1)[-1] for word in rules.ops))]


# ---------------------------------------------------------------- the forbidden kernels, refusing (class grader)

class KernelRefused(RuntimeError):
    """Raised by a forbidden torch kernel, or a forbidden library helper, inside the class grader's sandbox."""


# whether the refusing kernels are registered ("library": True once they are), and what was registered
_REFUSED: dict = {"library": None, "impls": []}
TRIED: set = set()  # the refused kernels and helpers called since the probe began (``probe.Check.run_probe``)


def _register() -> None:
    """Register the refusing kernels for good: no Python object the job can reach undoes them.

    ``torch.library.Library`` keeps its registration in a handle that its ``_destroy()`` (or the
    finalizer ``weakref.finalize`` keeps for it) resets, putting torch's own kernels back: a notebook that
    reached that object would have them (attack 7 did, through code run while a library was imported).
    So the registration is made with the dispatcher's own handle, and that handle is leaked: its reference
    count is raised once more through the C API and the grader keeps no reference to it. Nothing in Python
    points to it (only ``gc``'s object walks could find it, and the audit hook refuses them), and it is
    never freed, so the kernels stay registered until the job ends.
    """
    import ctypes
    import warnings

    import torch

    handle = torch._C._dispatch_library("IMPL", "aten", "", __file__, 0)
    with warnings.catch_warnings():  # "overriding a previously registered kernel": that is the point
        warnings.simplefilter("ignore")
        for name, kernel, key in _REFUSED["impls"]:
            handle.impl(name, key, kernel, False)
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(handle))  # never freed: its registrations last as long as the job
    del handle
    _REFUSED["library"] = True


def refuse_kernels(check_modules) -> list[str]:
    """Make the torch operators and library helpers the exercises of ``check_modules`` forbid refuse to run.

    Called in the sandbox's job, before any learner code runs. Every aten operator whose name holds
    an ``ops`` word (``dropout``, ``batch_norm``) gets a kernel that raises ``KernelRefused`` for
    every dispatch key it has a kernel for (CompositeImplicitAutograd, CompositeExplicitAutograd,
    CPU, CUDA, Meta), so every route to it refuses: ``F.dropout``, ``torch.dropout``,
    ``torch._VF.dropout``, ``torch.ops.aten.native_dropout``, ``nn.Dropout``, ``F.batch_norm``,
    ``nn.BatchNorm1d``, ``torch.ops.aten._native_batch_norm_legit``... whatever thread, torch
    function mode or ``DisableTorchFunction`` the learner's code runs them under. The Python
    functions of the ``code`` rule's modules that are loaded (``torch.nn.utils.fusion``) are
    replaced by functions that raise, in that module and where ``torch.nn.utils`` re-exports them.
    Returns the operators refused (for tests). Nothing to do where torch is absent.
    """
    rules = [_BY_MODULE[m] for m in check_modules if m in _BY_MODULE]
    words = tuple(word for rule in rules for word in rule.ops)
    code = tuple(name for rule in rules for name in rule.code)
    if not words and not code:
        return []
    import importlib

    try:
        import torch
    except ImportError:  # a sandbox without torch (03): nothing to refuse, nothing can run it
        return []
    if getattr(type(torch), "__grader_absent__", False):
        return []

    refused: list[str] = []
    if words and _REFUSED["library"] is None:
        for qualified in torch._C._dispatch_get_all_op_names():
            if not qualified.startswith("aten::") or not any(word in qualified for word in words):
                continue
            kernel = _refusing_kernel(qualified)
            for key in ("CompositeImplicitAutograd", "CompositeExplicitAutograd", "CPU", "CUDA", "Meta"):
                if torch._C._dispatch_has_kernel_for_dispatch_key(qualified, key):
                    _REFUSED["impls"].append((qualified[len("aten::"):], kernel, key))
                    refused.append(qualified)
        _register()
    for module_name in code:
        if not module_name.startswith("torch.nn.utils."):  # the course's helpers are absent from the sandbox
            continue
        module = importlib.import_module(module_name)
        for attribute, value in list(vars(module).items()):
            if getattr(value, "__module__", None) == module_name and getattr(value, "__code__", None) is not None:
                refusing = _refusing_function(f"{module_name}.{attribute}", value)
                setattr(module, attribute, refusing)
                for other in (torch.nn.utils,):
                    if getattr(other, attribute, None) is value:
                        setattr(other, attribute, refusing)
                refused.append(f"{module_name}.{attribute}")
    return sorted(set(refused))


def _refusing_kernel(qualified: str):
    short = qualified.split("::", 1)[1].split(".", 1)[0]

    def refuse(*args, **kwargs):
        TRIED.add(f"torch:{short}")
        raise KernelRefused(f"torch's {short} is not available while this exercise is graded: "
                            "this exercise asks you to write it yourself")
    return refuse


def _refusing_function(qualified: str, original):
    def refuse(*args, **kwargs):
        TRIED.add(f"python:{qualified}")
        raise KernelRefused(f"{qualified} is not available while this exercise is graded: "
                            "this exercise asks you to write it yourself")
    refuse.__name__ = refuse.__qualname__ = original.__name__
    return refuse


# ---------------------------------------------------------------- libraries an exercise's grading does not provide

HIDEABLE = ("torch", "sklearn", "scipy", "torchvision", "pandas")  # as grader/sandbox.py hides them
_SPELLED = {"numpy": "NumPy", "torch": "PyTorch", "sklearn": "scikit-learn", "scipy": "SciPy",
            "torchvision": "torchvision", "pandas": "pandas"}


def absent_libraries(check_module: str) -> tuple[str, ...]:
    """The libraries (of ``HIDEABLE``) that this check's exercise is graded without."""
    rules = _BY_MODULE.get(check_module)
    return () if rules is None else tuple(name for name in HIDEABLE if name not in rules.libraries)


def imports_of_absent(check_module: str, namespace) -> str | None:
    """The message for a notebook whose namespace holds a module of a library its grading does not provide.

    The same rule on every path: in the learner's Jupyter and under plain nbgrader the module is the
    library itself, in the class grader's sandbox a stand-in (``AbsentLibrary``), so a notebook with
    ``import torch`` in exercise 01 gets the same message and the same score everywhere.
    """
    absent = absent_libraries(check_module)
    # a notebook's namespace (IPython's, in Jupyter, nbgrader and the sandbox alike), not a module's that
    # defines functions and is imported (a test suite, a helper file)
    if not absent or not isinstance(namespace, dict) or namespace.get("__name__") != "__main__":
        return None
    found: dict[str, str] = {}
    for name, value in list(namespace.items()):
        if name.startswith("_"):
            continue
        origin = _origin(value)
        if origin and origin.split(".")[0] in absent:
            found[name] = origin
    if not found:
        return None
    rules = _BY_MODULE[check_module]
    exercise = next(key for key, value in RULES.items() if value is rules)
    provided = " and ".join(_SPELLED.get(name, name) for name in rules.libraries)
    libraries = ", ".join(f"`import {library}`" for library in sorted({o.split(".")[0] for o in found.values()}))
    names = ", ".join(f"`{name}`" for name in sorted(found)[:4])
    return (f"exercise {exercise.split('_')[0]}'s grading provides only {provided}: remove {libraries} "
            f"(the notebook's {names}) and any use of it, then run the notebook again")


def _origin(value) -> str | None:
    """The library a value of the notebook's namespace comes from: a module's name, a stand-in's, or the
    ``__module__`` of a class, function or object (``from torch import tensor``)."""
    import types

    if isinstance(value, (AbsentLibrary, AbsentName)):
        return value.__name__ if isinstance(value, AbsentLibrary) else value._qualified
    if isinstance(value, types.ModuleType):
        return str(getattr(value, "__name__", ""))
    try:
        origin = getattr(value, "__module__", None)
    except Exception:  # noqa: BLE001 - a learner's object with a strange __getattr__
        return None
    return origin if isinstance(origin, str) else None


class AbsentLibrary(__import__("types").ModuleType):
    """Stands in for a library the sandbox does not hold, so ``import torch`` does not stop the cell there
    (it does not in the learner's Jupyter either); using it raises, and the tests say why
    (``imports_of_absent``)."""

    __grader_absent__ = True
    __path__: list = []

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        qualified = f"{self.__name__}.{name}"
        value = AbsentLibrary(qualified) if _is_submodule(qualified) else AbsentName(qualified)
        setattr(self, name, value)
        return value


class AbsentName:
    """A name of a library the sandbox does not hold (``from torch import tensor``): raises when used."""

    def __init__(self, qualified: str):
        self._qualified = qualified

    def __call__(self, *args, **kwargs):
        library = self._qualified.split(".")[0]
        raise ImportError(f"{library} is not available while this exercise is graded "
                          f"({self._qualified} was called)")

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        return AbsentName(f"{self._qualified}.{name}")

    def __repr__(self) -> str:
        return f"<{self._qualified}: not available while this exercise is graded>"


def _is_submodule(qualified: str) -> bool:
    """Whether ``a.b`` is a module of the installed package (its folder is still there in the sandbox)."""
    import importlib.util
    import os

    parts = qualified.split(".")
    try:
        spec = importlib.util.find_spec(parts[0]) if parts[0] not in sys.modules else None
    except (ImportError, ValueError):
        spec = None
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    if not folders:
        return False
    base = os.path.join(folders[0], *parts[1:])
    return os.path.isdir(base) or os.path.isfile(base + ".py")


class _AbsentFinder:
    """Finds the stand-in for the absent libraries and everything under them."""

    def __init__(self, names):
        self.names = tuple(names)

    def find_spec(self, fullname, path=None, target=None):
        import importlib.machinery
        if fullname.split(".")[0] not in self.names:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec):
        return AbsentLibrary(spec.name)

    def exec_module(self, module):
        pass


def stand_in_for_absent(check_modules) -> tuple[str, ...]:
    """In the sandbox, before learner code: the libraries the exercise is graded without import as stand-ins."""
    names = sorted({name for module in check_modules for name in absent_libraries(module)})
    if names:
        for name in names:
            sys.modules.pop(name, None)
        sys.meta_path.insert(0, _AbsentFinder(names))
    return tuple(names)


def real_module(name: str):
    """``sys.modules[name]`` unless it is absent or a stand-in (the grader's own code uses this)."""
    module = sys.modules.get(name)
    return None if module is None or getattr(type(module), "__grader_absent__", False) else module
