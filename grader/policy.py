"""Reading the learner's cells before they run: hidden code, and forbidden references.

The class grader reads the syntax tree of every cell the learner wrote (the
solution cells, cells they added, course cells they changed). The reading
**fails closed**: what it cannot read, it cannot clear. It finds

- **hidden code**, anywhere, and then every test of the notebook scores zero
  with the reason as its message and a ``hidden code: ...`` status (the class
  report lists the row under "work that needs a look"):

  - a cell that does not parse as Python (IPython's help syntax ``x?``
    included, and a cell nested deeper than Python's own parser takes), and
    any magic or shell escape (``y = !ls``) but ``%matplotlib``,
    ``%%capture``, ``%config InlineBackend.NAME = VALUE`` and
    ``%time``/``%timeit`` (line or cell), whose code is read like any other.
    What is a magic is what IPython's own input transformer finds (``_python``):
    an escape at the start of a *logical* line outside strings, so ``!=`` or
    ``% (args)`` starting a continuation line, or a ``%`` line in a docstring,
    are Python; the grading shell runs a one-line cell without automagic, so
    ``run (x)`` is a call, as it is read;
  - ``exec``, ``eval``, ``compile``, ``__import__``, ``globals``, ``vars``,
    ``breakpoint``... called, and those and ``getattr``/``setattr``/``open``
    taken **as a value** anywhere (``e = exec``, ``map(exec, ...)``,
    ``f = getattr``, ``partial(open)``); ``getattr`` with a computed name, or
    a constant one that an attribute of that name would be refused for;
    ``open`` for writing a computed or outside path;
    ``allow_pickle=True`` / ``weights_only=False``. A name spelled like one of
    these builtins that the learner binds is theirs where Python's scoping
    says so (a parameter ``input``, a local ``vars``, a module-level name bound
    unconditionally earlier in the same cell, never deleted or declared
    ``global``): only the
    builtin itself taken as a value hides code;
  - **an attribute named by a string or a pattern**, which is judged like the
    attribute itself, wherever the standard library reads one: ``getattr``,
    ``hasattr``, ``setattr``, ``delattr`` with a constant name; ``case
    C(name=x)`` (a class pattern's keyword attributes); the fields of a
    constant ``"{0.name}".format(...)``/``format_map`` template. The routes
    that hand over the object read by a name the reading cannot see are
    refused by name wherever they appear (``BY_NAME``: ``string.Formatter``'s
    ``get_field``/``vformat`` and the ``format_field``/``convert_field`` hooks
    a subclass overrides, ``operator.attrgetter``/``methodcaller``,
    ``functools.update_wrapper``, ``inspect.getattr_static``), and so are
    positional class patterns (``case C(x)`` reads what ``C.__match_args__``
    names, and an ABC can claim any subject) but for the builtins that match
    themselves (``case int(n)``), and ``functools.wraps`` with
    ``assigned``/``updated``. Routes that only make a **string** read clean:
    ``str.format`` with a computed template, f-strings (their attributes are
    syntax, read as such), ``logging``'s ``{``-style, ``string.Template``,
    ``pprint``, ``help(obj)`` (in the sandbox ``help`` prints an object's
    documentation and nothing else);
  - IPython's shell and history (``get_ipython``, ``In``, ``Out``, ``_ih``,
    ``_i3``, ``_3``...) unless the learner bound that name themselves (by any
    binding form, ``bound_names``: ``class Out``, ``def In``, ``import m as _i``,
    ``except E as _oh``...; ``get_ipython`` and the grader's own
    ``__grader_own__``/``__grader_plain__`` may not be bound by any), and of
    the ``IPython`` package every name but ``IPython.display`` (it also hands
    out the shell, ``IPython.InteractiveShell.instance().ex(text)``, and any
    caller's frame locals, ``IPython.extract_module_locals``);
  - interpreter internals: any ``__dunder__`` attribute but ``ALLOWED_DUNDERS``
    (``__init__``, ``__name__``, ``__len__``...), frames and code objects,
    private attributes (``torch._C``) but the learner's own read through the
    ``self``/``cls`` of a method (a name the notebook gives its objects:
    ``self._n = n``, ``def _norm``; the runner also checks, as the cell runs,
    that such a ``self`` is an object of one of the notebook's classes, so a
    method handed a module, ``Peek.get(collections)``, is refused), and the
    documented public ones, namedtuple's ``_asdict``/``_replace``/``_fields``/
    ``_make`` and Enum's ``_value_``..., read on the learner's objects
    (``PUBLIC_UNDERSCORE``); modules reached as attributes (``warnings.sys``) or
    imported by name (``from torch import sys``), but for the names that honest
    objects also carry (``MODULE_NAMED_ATTRIBUTES``: ``np.select``,
    ``Tensor.select``, a learner's ``rung.resource``, ``error.code``), which are
    read as attributes and checked as the cell runs (the runner refuses a module
    a notebook may not import reached through them,
    ``torch.optim.lr_scheduler.types``); imports outside
    ``ALLOWED_IMPORTS`` (``inspect``, ``gc``, ``ctypes``, ``importlib``,
    ``builtins``, ``threading``, ``multiprocessing``, ``subprocess``,
    ``signal``...), and of ``os``, ``sys`` and ``types`` every name but the
    short lists of ``GUARDED_MODULES`` (``os.path``, ``os.environ``,
    ``sys.stdout``, ``types.SimpleNamespace``...), nor the module itself
    passed around as a value;
  - the grader's checks (``autograder``), but for a visible check run again:
    ``from autograder.<exercise> import check_x [as y]`` of a check the
    course's own cells import, where every use of the name is a direct call
    ``check_x(...)`` made where its cell runs (not inside a function, lambda,
    class or generator, which a learner's function could run while a grade
    cell's probe checks it; the check itself also refuses a call made while a
    probe runs, ``probe._PROBING``). Such a call runs the check on the
    learner's own parameters in the sandbox and shows its message in that
    cell; it sends nothing: a grade cell's record is made by the runner's own
    probe of that cell, with the grader's seeds, and nothing of the check but
    the call is reachable (not as a value, not its attributes or module).

- **forbidden references** (``forbidden.RULES[assignment]``): the library
  implementation the exercise asks the learner to write. A test scores zero
  when the code it calls (the learner's functions it is given, and every
  top-level definition they use, transitively) contains one. A reference in a
  cell the tests do not reach (comparing with the library in a scratch cell)
  costs nothing. Naming a class to check a type is not using it
  (``isinstance(bn, nn.BatchNorm1d)``, annotations, ``type(bn) is
  nn.BatchNorm1d``: ``is`` cannot be overloaded, while ``==`` would hand the
  class to the other operand's ``__eq__``). On a chain that does not start at
  an imported module (a learner's variable), only a *call* whose name is
  forbidden counts (``fns[0].dropout(x)``): the learner's own values whose
  names hold a forbidden word (``ctx.dropout_mask``) are theirs, and the
  refused kernels stop whatever library code runs through a variable.

Ordinary code reads clean: ``os.path``/``os.environ``/``os.makedirs``,
``logging``, ``json.load(open(path))``, ``faulthandler``, ``math``,
``itertools``, ``functools``, ``collections``, ``time``, ``typing``,
``dataclasses``, ``random``, ``statistics``, ``copy``, ``warnings``,
``operator`` (``itemgetter``...), ``types.SimpleNamespace``, ``help(obj)``, a
deep expression (a sum of a thousand terms) and all of NumPy's API
(``np.memmap``, ``np.load``, ``np.save``). The reading is linear in the
notebook's size.

What it cannot see: the attributes that library functions read by names of
their own choosing (``torch.nn.Module.get_submodule("a.b")``, NumPy's and
torch's wider APIs were not audited name by name); a private attribute read
through a method's ``self`` is left to the runner's check of ``self``.

What the reading cannot see is not left to it: inside the sandbox the
forbidden torch kernels refuse by every route (``forbidden.refuse_kernels``),
and the probes still record the torch operators that ran (``probe.learner_code``).
"""
from __future__ import annotations

import ast
import contextlib
import re
import string
import symtable
import sys
from dataclasses import dataclass, field

from autograder.forbidden import Rules

ALLOWED_IMPORTS = frozenset({
    "numpy", "torch", "math", "cmath", "random", "itertools", "functools", "collections", "dataclasses",
    "typing", "statistics", "time", "warnings", "copy", "numbers", "enum", "abc", "fractions", "decimal",
    "heapq", "bisect", "string", "re", "textwrap", "pprint", "json", "matplotlib", "tqdm", "IPython",
    "scipy", "sklearn", "normreg", "contextlib", "atexit", "os", "sys", "logging", "faulthandler",
    "__future__", "csv", "datetime", "pathlib", "operator", "types",
})
# Standard modules that honest code uses through a few names, and that otherwise reach files, processes
# or the interpreter: only the names listed may follow them (``os.path.join``, ``sys.stdout``), and the
# module itself may not be passed around as a value (``o = os; o.system(...)``).
GUARDED_MODULES = {
    "os": frozenset({"path", "environ", "getenv", "getcwd", "listdir", "makedirs", "mkdir", "cpu_count", "sep",
                     "linesep", "curdir", "pardir", "extsep", "devnull", "getpid", "scandir", "walk", "remove",
                     "unlink", "rename", "replace", "fspath", "name", "stat", "PathLike", "rmdir"}),
    "sys": frozenset({"stdout", "stderr", "version", "version_info", "float_info", "int_info", "maxsize",
                      "platform", "byteorder", "getrecursionlimit", "setrecursionlimit", "float_repr_style",
                      "argv"}),
    # types: the plain containers and the names isinstance checks use; not the constructors of code, functions,
    # frames, cells or modules (FunctionType(code, globals), CodeType, new_class...)
    "types": frozenset({"SimpleNamespace", "MappingProxyType", "GeneratorType", "NoneType", "GenericAlias",
                        "UnionType", "EllipsisType", "NotImplementedType"}),
    # IPython: its display functions only. The package also hands out the shell itself
    # (``IPython.InteractiveShell.instance().ex(code)``, ``.run_cell``, ``.ev``) and any caller's frame locals
    # (``IPython.extract_module_locals``): code and objects the reading cannot see.
    "IPython": frozenset({"display"}),
}
# Attribute names of the form __name__ that honest code writes; any other (``__class__``, ``__globals__``,
# ``__subclasses__``, ``__dict__``, ``__code__``...) reaches the interpreter's machinery and is refused.
ALLOWED_DUNDERS = frozenset({
    "__init__", "__name__", "__qualname__", "__doc__", "__module__", "__version__", "__file__", "__len__",
    "__call__", "__repr__", "__str__", "__iter__", "__next__", "__getitem__", "__setitem__", "__contains__",
    "__enter__", "__exit__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__bool__",
    "__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__", "__matmul__", "__neg__",
    "__pos__", "__abs__", "__radd__", "__rsub__", "__rmul__", "__rtruediv__", "__array__", "__post_init__",
    "__annotations__", "__float__", "__int__", "__index__", "__format__", "__copy__", "__deepcopy__",
    "__class__",  # read: type(x) by another name (``self.__class__.__name__`` in a __repr__); written: refused below
    # the other operators' methods, which a learner's class calls on super() or itself (``super().__delitem__(i)``)
    "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__", "__ipow__", "__imatmul__",
    "__rfloordiv__", "__rmod__", "__rpow__", "__rmatmul__", "__divmod__", "__invert__", "__and__", "__or__",
    "__xor__", "__rand__", "__ror__", "__rxor__", "__lshift__", "__rshift__", "__round__", "__floor__", "__ceil__",
    "__trunc__", "__complex__", "__reversed__", "__delitem__", "__missing__",
})
# IPython's shell and its history: code reached through them is code the reading cannot see.
SHELL_NAMES = frozenset({"get_ipython", "In", "Out", "_ih", "_oh", "_dh", "_i", "_ii", "_iii", "__", "___",
                         "exit", "quit"})
# Magics that run the code they are given as it is (judged as code) or only set a backend.
ALLOWED_MAGICS = frozenset({"matplotlib", "time", "timeit", "capture", "config"})
# ``%config`` runs its line as code in IPython; only a display setting is read (the grader's shell ignores it)
CONFIG_LINE = re.compile(r"InlineBackend\.[A-Za-z_][A-Za-z0-9_]* ?= ?(?:'[A-Za-z0-9_ .-]*'|\"[A-Za-z0-9_ .-]*\"|[0-9.]+|True|False|None|\{'[a-z_]+' ?: ?[0-9.]+\})")
CODE_MAGICS = frozenset({"time", "timeit"})
DENIED_SUBMODULES = ("torch.overrides", "torch.library", "torch.utils.cpp_extension", "torch.multiprocessing",
                     "torch.jit", "torch.compiler", "torch.package", "torch.hub", "torch.ops", "torch.fx",
                     "numpy.ctypeslib", "IPython.core", "IPython.utils", "IPython.kernel", "logging.config",
                     "os.path.os", "IPython.get_ipython")
HIDDEN_CALLS = frozenset({"exec", "eval", "compile", "__import__", "globals", "locals", "vars", "breakpoint",
                          "input", "exit", "quit", "memoryview"})
# Builtins that may be called (``open(path)``, ``getattr(obj, "name")``, judged by their arguments) but never
# taken as a value: ``e = exec``, ``map(exec, ...)``, ``f = getattr``, ``partial(open, ...)``.
NOT_VALUES = HIDDEN_CALLS | frozenset({"getattr", "setattr", "delattr", "hasattr", "open"})
NAMED_ACCESS = frozenset({"getattr", "setattr", "delattr", "hasattr"})
HIDDEN_NAMES = frozenset({"__builtins__", "__loader__", "__spec__", "__import__", "get_ipython", "__grader_own__",
                          "__grader_plain__"})
HIDDEN_ATTRIBUTES = frozenset({
    "__dict__", "__bases__", "__base__", "__mro__", "__subclasses__", "__globals__", "__closure__",
    "__code__", "__func__", "__self__", "__builtins__", "__getattribute__", "__reduce__", "__reduce_ex__",
    "__loader__", "__spec__", "__wrapped__", "__defaults__", "__kwdefaults__", "__traceback__", "__import__",
    "__objclass__", "__getattr__", "__setattr__", "__delattr__", "__set_name__", "__init_subclass__",
    "f_back", "f_globals", "f_locals", "f_builtins", "f_code", "tb_frame", "tb_next", "gi_frame", "cr_frame",
    "ag_frame", "gi_code", "cr_code", "co_code", "co_consts", "user_ns", "user_global_ns",
})
# Modules that reach into the interpreter, files or processes: not importable, and not reachable as an
# attribute of another module either (``warnings.sys``, ``dataclasses.inspect``, ``np.os``).
INTERPRETER_MODULES = frozenset({
    "sys", "os", "inspect", "gc", "ctypes", "importlib", "builtins", "types", "traceback", "threading", "_thread",
    "subprocess", "socket", "io", "pathlib", "shutil", "pickle", "marshal", "code", "codeop", "dis", "signal",
    "mmap", "multiprocessing", "concurrent", "tempfile", "glob", "posix", "resource", "fcntl", "pty", "select",
    "asyncio", "runpy", "pkgutil", "zipimport", "linecache", "weakref", "operator", "copyreg",
})
# Of those, the names that honest objects also carry as ordinary attributes (``np.select``, ``Tensor.select``, a
# learner's dataclass field ``rung.resource``, ``error.code``, ``self.signal``): written as an attribute, they are
# read, and checked as the cell runs instead (grader/runner.py ``ModuleNamedAttributes``: the value read must not
# be a module outside the libraries a notebook may import, ``library_module_allowed``). By a string or a pattern
# (``getattr(x, "io")``, ``case C(io=v)``, ``"{0.io}"``), and imported by name (``from x import io``, unless the
# grader finds ``x.io`` is not such a module), they stay refused.
MODULE_NAMED_ATTRIBUTES = frozenset({"select", "resource", "code", "signal", "types", "io", "operator", "traceback",
                                     "glob"})
# Names with a leading underscore that are documented public API: namedtuple's methods and fields
# (``p._asdict()``, ``p._replace(lr=0.1)``, ``Point._fields``, ``Point._make(row)``, ``Point._field_defaults``)
# and Enum's ``_sunder_`` names. Read on a learner's object (a chain that does not start at an imported module).
PUBLIC_UNDERSCORE = frozenset({"_asdict", "_replace", "_fields", "_make", "_field_defaults",
                               "_value_", "_name_", "_missing_", "_generate_next_value_", "_ignore_", "_order_"})
SELF_NAMES = frozenset({"self", "cls"})
# Every way the standard library reads (or hands over) an attribute *named by a string* gives what an attribute
# chain gives, without the chain in the syntax tree: these names are refused wherever they appear (an attribute,
# an imported name, a method defined in a class: a ``string.Formatter`` subclass's hook receives the objects).
# The other routes are judged where they are written: ``getattr``/``hasattr``/``setattr`` with a constant name,
# ``case C(name=x)`` keyword patterns, the fields of a constant ``"{0.name}".format(...)`` template, and
# ``functools.wraps``/``update_wrapper`` without ``assigned``/``updated``. See the module docstring.
BY_NAME = frozenset({
    "get_field", "vformat", "format_field", "convert_field",   # string.Formatter: get_field returns the object
    "attrgetter", "methodcaller",                                # operator
    "getattr_static", "getmembers", "getmembers_static",         # inspect (refused as a module too)
    "update_wrapper",                                            # functools: copies named attributes, and __dict__
})
# Class patterns whose positional sub-pattern is the subject itself (``case int(n)``): no attribute is read.
SELF_MATCHING = frozenset({"bool", "bytearray", "bytes", "dict", "float", "frozenset", "int", "list", "set", "str",
                           "tuple"})
# Keyword arguments that turn a file reader into a code runner (pickle): refused wherever they are written.
UNSAFE_KEYWORDS = {"allow_pickle": True, "weights_only": False}


@dataclass
class Finding:
    cell: int          # index of the notebook cell
    line: int
    what: str          # e.g. "exec()", "sklearn.preprocessing.MinMaxScaler"

    def __str__(self) -> str:
        return f"{self.what} (cell {self.cell + 1}, line {self.line})"


@dataclass
class _Statement:
    cell: int
    defines: set[str]
    uses: set[str]
    forbidden: list[Finding] = field(default_factory=list)


@dataclass
class Review:
    hidden: list[Finding] = field(default_factory=list)
    statements: list[_Statement] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)     # learner cells that are not Python

    def forbidden_for(self, names: list[str]) -> list[Finding]:
        """Forbidden references in the code that the learner's ``names`` reach (linear in the notebook's size:
        each statement is indexed by the names it defines, and visited once)."""
        by_name: dict[str, list[_Statement]] = {}
        for statement in self.statements:
            for name in statement.defines:
                by_name.setdefault(name, []).append(statement)
        wanted, done, visited, found, seen = list(names), set(), set(), [], set()
        while wanted:
            name = wanted.pop()
            if name in done:
                continue
            done.add(name)
            for statement in by_name.get(name, ()):
                if id(statement) in visited:
                    continue
                visited.add(id(statement))
                for finding in statement.forbidden:
                    key = (finding.cell, finding.line, finding.what)
                    if key not in seen:
                        seen.add(key)
                        found.append(finding)
                wanted += [n for n in statement.uses if n not in done]
        return found


def review(cells: list[tuple[int, str]], course_sources: list[str], rules: Rules) -> Review:
    """Read the learner's cells (``(index, source)``); ``course_sources`` are the course's cells (for import aliases)."""
    aliases: dict[str, str] = {}
    for source in course_sources:
        try:
            _collect_aliases(ast.parse(source), aliases)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    parsed = []
    result = Review()
    for index, source in cells:
        try:
            tree = ast.parse(_python(source, index, result.hidden))
        except (SyntaxError, ValueError) as error:  # ValueError: a null byte
            # fail closed: what the grader cannot read, it cannot clear (IPython's own syntax included: ``x?``)
            result.unreadable.append(index)
            line = getattr(error, "lineno", None) or 1
            result.hidden.append(Finding(index, line, "a cell the grader cannot read as Python "
                                                      f"({type(error).__name__}: {getattr(error, 'msg', error)})"))
            continue
        except (RecursionError, MemoryError):
            # deeper than Python's own parser takes at its default limit (IPython could not compile it either)
            result.unreadable.append(index)
            result.hidden.append(Finding(index, 1, "a cell the grader cannot read as Python (nested too deeply)"))
            continue
        _collect_aliases(tree, aliases)
        parsed.append((index, tree))
    # names the learner binds (``for _i in ...``) are theirs, not IPython's history of the same spelling
    # (every binding form: ``class Out``, ``def In``, ``import x as _i``, ``except E as _``, a match capture...)
    bound = {name for _, tree in parsed for name in bound_names(tree)}
    # private attribute names the notebook itself gives its objects (``self._n = n``, ``_cache = {}`` or
    # ``def _norm`` in a class body, a dataclass field ``_x: int``): only those may be read through ``self``
    private = _own_private_names(tree for _, tree in parsed)
    # a builtin's name the notebook rebinds (``def forward(self, input)``, ``means, vars = ...``) is the
    # learner's value where Python's scoping says so; ``del`` or ``global`` of such a name keeps it the builtin's
    # (module level: only after an unconditional binding earlier in the same cell)
    undone = {n for _, tree in parsed for n in _deleted_or_global(tree)}
    # the visible checks a learner may run again in a cell of their own: those the course's cells import
    checks = _allowed_checks(course_sources, rules)
    checks = (checks, {name for _, tree in parsed for name in _check_names(tree, checks)})
    for index, tree in parsed:
        # within one cell only: a binding that raises stops the rest of its cell, but not the next cells,
        # where the name would still be the builtin
        shadowed: set[str] = set()
        for node in tree.body:
            statement = _Statement(index, _defines(node), _uses(node))
            for finding_kind, finding in _inspect(node, index, aliases, rules, bound, private, frozenset(shadowed),
                                                  checks):
                if finding_kind == "hidden":
                    result.hidden.append(finding)
                elif finding_kind == "forbidden":
                    statement.forbidden.append(finding)
            result.statements.append(statement)
            shadowed |= (_unconditional_bindings(node) & NOT_VALUES) - undone
    return result


def _own_private_names(trees) -> set[str]:
    names: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and not isinstance(node.ctx, ast.Load) and node.attr.startswith("_"):
                names.add(node.attr)
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        names.add(item.name)
                    elif isinstance(item, (ast.Assign, ast.AnnAssign)):
                        for target in (item.targets if isinstance(item, ast.Assign) else [item.target]):
                            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


def _deleted_or_global(tree) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            names |= set(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Del):
            names.add(node.id)
    return names


def _unconditional_bindings(node: ast.stmt) -> set[str]:
    """Module-level names a top-level statement always binds (an assignment, a def, an import): after it, a
    read of the name at module level, or from a function defined later, is the learner's value."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
        node, ast.AnnAssign) and node.value is not None else []
    names = set()
    for target in targets:
        stack = [target]
        while stack:
            current = stack.pop()
            if isinstance(current, ast.Name):
                names.add(current.id)
            elif isinstance(current, (ast.Tuple, ast.List)):
                stack += current.elts
            elif isinstance(current, ast.Starred):
                stack.append(current.value)
    return names


def _function_locals(function) -> set[str]:
    """Names local to a function (its parameters, what its body binds, minus ``global``/``nonlocal``): there the
    name can never be the builtin of the same spelling. Nested functions, classes and comprehensions are not
    looked into (under-counting only refuses more)."""
    arguments = function.args
    names = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    names |= {a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None}
    if isinstance(function, ast.Lambda):
        return names
    declared: set[str] = set()
    stack = list(function.body)
    while stack:
        current = stack.pop()
        if isinstance(current, (ast.Global, ast.Nonlocal)):
            declared |= set(current.names)
        elif isinstance(current, ast.Name) and not isinstance(current.ctx, ast.Load):
            names.add(current.id)
        elif isinstance(current, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in current.names}
        elif isinstance(current, ast.ExceptHandler) and current.name:
            names.add(current.name)
        if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(current.name)
            continue
        if isinstance(current, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        stack.extend(ast.iter_child_nodes(current))
    return names - declared


def _is_learners(node: ast.Name, tree: ast.AST, shadowed) -> bool:
    """Is this name, spelled like a dangerous builtin, the learner's own binding (a parameter, a local, a
    module-level name bound unconditionally before), not the builtin?"""
    parents = _parents(tree)
    child, parent = node, parents.get(id(node))
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside = child in parent.body if isinstance(parent.body, list) else child is parent.body
            if inside:
                if node.id in _function_locals(parent):
                    return True
        elif isinstance(parent, ast.ClassDef) and child in parent.body:
            return False  # a class body reads its own names, then the module's: not followed
        elif isinstance(parent, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            targets = {n.id for g in parent.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
            first_iterable = {id(n) for n in ast.walk(parent.generators[0].iter)}
            if node.id in targets and id(node) not in first_iterable:  # the first iterable is the outer scope's
                return True  # the comprehension's own variable; any other name is the enclosing scope's
        child, parent = parent, parents.get(id(parent))
    # module level, or a function's global read (the module-level binding preceded the function's definition)
    return node.id in shadowed


# What IPython's input transformers make of the escapes (``%magic``, ``!cmd``, ``x?``): calls on the shell, which the
# reading replaces by what they run (``_python``)
_SHELL_CALLS = frozenset({"run_line_magic", "run_cell_magic", "system", "getoutput", "show_usage"})
_HELP_MAGICS = frozenset({"pinfo", "pinfo2", "psearch"})
MAX_MAGIC_NESTING = 20  # ``%time %time ... code``: each level is read again
# IPython tokenizes the whole cell again after each magic it transforms (up to 500): the reading stops earlier, so
# that it stays linear in the cell's size; a cell with more magics than this is not read (hidden code)
MAX_MAGICS_PER_CELL = 20


def _transform_cell(source: str) -> str:
    """IPython's ``TransformerManager().transform_cell``, with at most ``MAX_MAGICS_PER_CELL`` transforms."""
    from IPython.core.inputtransformer2 import TransformerManager

    class Bounded(TransformerManager):
        def do_token_transforms(self, lines):
            for _ in range(MAX_MAGICS_PER_CELL + 1):
                changed, lines = self.do_one_token_transform(lines)
                if not changed:
                    return lines
            raise SyntaxError(f"more than {MAX_MAGICS_PER_CELL} magics or shell escapes in one cell")

    return Bounded().transform_cell(source)


def _python(source: str, cell: int, hidden: list[Finding], first_line: int = 1, depth: int = 0) -> str:
    """The cell as plain Python, as IPython would run it, for the reading.

    The cell goes through IPython's own input transformer (``TransformerManager.transform_cell``, what the
    grading shell's ``run_cell`` applies: the grading shell has no automagic and no autocall, so the transform
    of a one-line cell is the same). So a magic, a ``!`` shell escape or help syntax is exactly what IPython
    finds: an escape at the start of a *logical* line, outside strings and brackets (``!=`` or ``% (args)``
    starting a continuation line, or a ``%`` line in a docstring, are Python). The shell calls IPython wrote
    for them are then replaced by what they run: ``%time``/``%timeit`` (line or cell) and ``%%capture`` by
    their code, transformed again the way those magics do and read like any other; ``%matplotlib`` and
    ``%config InlineBackend.NAME = VALUE`` by nothing; any other magic, shell escape or help request (``%run``,
    ``%%bash``, ``x = !ls``, ``x?``) is hidden code. A cell IPython cannot transform raises SyntaxError (it
    would not run), and so does one with more than ``MAX_MAGICS_PER_CELL`` magics (IPython tokenizes the cell
    again after each: the reading stays linear). Line numbers are the cell's, but after a backslash-continued magic (IPython joins its
    lines)."""
    if depth > MAX_MAGIC_NESTING:
        raise SyntaxError("magics nested too deeply")
    lines = (source if source.endswith("\n") else source + "\n").splitlines(keepends=True)
    leading = next((i for i, line in enumerate(lines) if line and not line.isspace()), 0)
    try:
        text = _transform_cell(source)
    except (SyntaxError, ValueError):
        raise
    except Exception as error:  # noqa: BLE001 - e.g. RuntimeError (too many transforms): IPython would not run it
        raise SyntaxError(f"IPython could not transform it ({type(error).__name__})") from None
    text = "\n" * leading + text  # the blank lines IPython dropped: the reading keeps the cell's line numbers
    if "get_ipython" in source:
        return text  # calls the learner wrote are read as written (and refused): only IPython's own are replaced
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return text  # the caller's parse fails the same way
    parents = _parents(tree)
    calls = [node for node in ast.walk(tree) if _shell_call(node)]
    if not calls:
        return text
    lines = text.splitlines(keepends=True)
    replaced = []
    for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):  # in order: the findings come in order
        number = first_line + node.lineno - 1
        method, arguments = node.func.attr, [a.value for a in node.args]
        if method == "run_cell_magic" and node.lineno == leading + 1:
            # the whole cell (IPython's ``cell_magic`` makes it this one call): its first line and its body
            return "\n" * leading + _cell_magic(*arguments, cell, hidden, first_line + leading, depth)
        code = _line_code(method, arguments, cell, hidden, number, depth)
        replaced.append((node, code if isinstance(parents.get(id(node)), ast.Expr) else f"({code})"))
    for node, code in reversed(replaced):  # from the end: the offsets of what comes before stay right
        raw = lines[node.lineno - 1].encode()
        lines[node.lineno - 1] = (raw[:node.col_offset] + code.encode() + raw[node.end_col_offset:]).decode()
    return "".join(lines)


def _shell_call(node: ast.AST) -> bool:
    """``get_ipython().run_line_magic('name', 'args')`` and the like, as IPython's transformer writes them."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _SHELL_CALLS \
        and isinstance(node.func.value, ast.Call) and isinstance(node.func.value.func, ast.Name) \
        and node.func.value.func.id == "get_ipython" and not node.func.value.args and not node.keywords \
        and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in node.args) \
        and node.lineno == node.end_lineno


def _line_code(method: str, arguments: list[str], cell: int, hidden: list[Finding], number: int, depth: int) -> str:
    """What a line magic, shell escape or help request runs, as one line of Python for the reading."""
    if method in ("system", "getoutput"):
        hidden.append(Finding(cell, number, f"the magic !{arguments[0].split(' ')[0][:40]}"))
        return "None"
    if method == "show_usage" or (method == "run_line_magic" and arguments[0] in _HELP_MAGICS):
        hidden.append(Finding(cell, number, "a cell the grader cannot read as Python (IPython's help syntax: "
                                            f"{(arguments[1] if len(arguments) > 1 else '')[:40]}?)"))
        return "None"
    if method != "run_line_magic" or len(arguments) != 2:
        hidden.append(Finding(cell, number, "a cell magic inside a cell"))
        return "None"
    magic, rest = arguments
    if magic not in ALLOWED_MAGICS or magic == "capture":
        hidden.append(Finding(cell, number, f"the magic %{magic[:40]}"))
        return "None"
    if magic == "config" and not CONFIG_LINE.fullmatch(rest.strip()):
        hidden.append(Finding(cell, number, "the magic %config other than InlineBackend.NAME = VALUE"))
        return "None"
    if magic not in CODE_MAGICS:
        return "None"
    statement = _magic_code(magic, rest)
    if statement is None:
        hidden.append(Finding(cell, number, f"the magic %{magic} with options the reading cannot read"))
        return "None"
    # %time and %timeit transform their code again (``shell.transform_cell``): a magic in it is a magic
    code = _python(statement, cell, hidden, number, depth + 1).strip("\n")
    if "\n" in code:
        raise SyntaxError(f"the code of %{magic} over several lines")
    return code


def _cell_magic(magic: str, line: str, body: str, cell: int, hidden: list[Finding], first_line: int,
                depth: int) -> str:
    """A ``%%magic line`` cell: ``%%capture`` and ``%%time``/``%%timeit`` run their body (and %%timeit its first
    line, the setup), transformed again as those magics do; any other cell magic is hidden code."""
    if magic not in ALLOWED_MAGICS or magic == "config" or magic == "matplotlib":
        hidden.append(Finding(cell, first_line, f"the cell magic %%{magic[:40]}"))
        return "None"
    statement = _magic_code(magic, line) if magic in CODE_MAGICS else "pass"  # %%capture's line: its options
    if statement is None:
        hidden.append(Finding(cell, first_line, f"the cell magic %%{magic} with options the reading cannot read"))
        return "None"
    first = _python(statement, cell, hidden, first_line, depth + 1).strip("\n")
    if "\n" in first:
        raise SyntaxError(f"the first line of %%{magic} over several lines")
    return first + "\n" + _python(body, cell, hidden, first_line + 1, depth + 1)


TIMEIT_OPTION = re.compile(r"-(?:[nrp]\d*|[tcqo])")  # IPython's %timeit options: -n N -r N -p N -t -c -q -o


def _magic_code(magic: str, rest: str) -> str | None:
    """The statement of ``%time STATEMENT`` / ``%timeit -n 10 -r 3 STATEMENT`` (its options dropped), or None
    where the line could be split otherwise by IPython than here: a tab or other whitespace than a space, an
    option ``%time`` does not take (it takes none: ``%time -1;code`` runs ``-1;code``) or ``%timeit`` does not."""
    if any(character.isspace() and character != " " for character in rest):
        return None
    words = [word for word in rest.split(" ") if word]
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if magic != "timeit" or not TIMEIT_OPTION.fullmatch(option):
            return None
        if option in ("-n", "-r", "-p"):  # the value in the next word
            if not words or not words[0].isdigit():
                return None
            words.pop(0)
    return " ".join(words).strip() or "pass"


def _collect_aliases(tree: ast.AST, aliases: dict[str, str]) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    aliases[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"


def _defines(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    names = set()
    for child in _walk_top(node):
        if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Load):
            names.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in child.names}
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
    return names


def _walk_top(node: ast.AST):
    """Like ast.walk, but not into function or class bodies (their names are not top-level)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if current is not node and isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                        ast.Lambda)):
            continue
        stack.extend(ast.iter_child_nodes(current))


def _uses(node: ast.stmt) -> set[str]:
    """The module-level names a statement reads. A name bound inside one of its functions (a parameter, a
    local variable) is not the module-level name of the same spelling: a method's local ``var`` must not
    reach a scratch cell's ``mean, var = ...``. ``symtable`` applies Python's own scoping rules."""
    try:
        with _deep_recursion():  # ast.unparse recurses in Python once per level of a deep expression (a long sum)
            text = ast.unparse(node)
        table = symtable.symtable(text, "<cell>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        # not expected of a parsed statement: fall back to every name read (more uses: refuses more, never less)
        return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}
    names: set[str] = set()
    pending = [(table, True)]
    while pending:
        scope, top = pending.pop()
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and (top or symbol.is_global()):
                names.add(symbol.get_name())
        pending += [(child, False) for child in scope.get_children()]
    return names


@contextlib.contextmanager
def _deep_recursion(limit: int = 50_000):
    """A higher recursion limit for the reading's own Python recursion: Python 3.11 does not use the C stack
    for Python-to-Python calls, and the depth is bounded by what ``ast.parse`` accepted at the normal limit."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _chain(node: ast.AST) -> tuple[str | None, list[str]]:
    """(root name, attributes) of ``a.b.c``; root None when the chain does not start at a name."""
    attributes = []
    while isinstance(node, ast.Attribute):
        attributes.append(node.attr)
        node = node.value
    return (node.id if isinstance(node, ast.Name) else None), attributes[::-1]


def _matches(qualified: str, names: tuple[str, ...]) -> bool:
    return any(qualified == name or qualified.startswith(name + ".") for name in names)


def _type_only(tree: ast.AST) -> set[int]:
    """Nodes that only name a type (``isinstance(bn, nn.BatchNorm1d)``, annotations): naming is not using."""
    exempt: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("isinstance",
                                                                                              "issubclass"):
            parts = node.args[1:2]
        elif isinstance(node, (ast.arg, ast.AnnAssign)):
            parts = [node.annotation] if node.annotation is not None else []
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts = [node.returns] if node.returns is not None else []
        elif isinstance(node, ast.Compare) and all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            # ``type(bn) is nn.BatchNorm1d``: ``is`` cannot be overloaded, so the class reaches no code. Only a
            # plain name or attribute chain is exempt (``(y := F.batch_norm(x)) is None`` calls it); ``==`` and
            # ``in`` are not (the other operand's __eq__ would receive the class).
            parts = [part for part in [node.left, *node.comparators]
                     if all(isinstance(child, (ast.Attribute, ast.Name, ast.Load)) for child in ast.walk(part))]
        else:
            continue
        for part in parts:
            exempt |= {id(child) for child in ast.walk(part)}
    return exempt


def _attribute_finding(name: str, own_private: bool = False, as_attribute: bool = False,
                       public_underscore: bool = False) -> str | None:
    """What reading the attribute ``name`` reaches, however it is named (``x.name``, ``getattr(x, "name")``,
    ``case C(name=v)``, ``"{0.name}".format(x)``), or None where it is ordinary: interpreter internals, a module
    reached through another one, a private attribute (unless the learner's own, through ``self``, or a documented
    public one, ``PUBLIC_UNDERSCORE``, on a learner's object), or a name that reads attributes named by strings.
    ``as_attribute``: written as ``x.name``, where the runner checks what a ``MODULE_NAMED_ATTRIBUTES`` name
    gives as the cell runs."""
    if name in HIDDEN_ATTRIBUTES or (name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS):
        return f".{name}"
    if name in INTERPRETER_MODULES and not (as_attribute and name in MODULE_NAMED_ATTRIBUTES):
        return f".{name} (the {name} module through another name)"
    if public_underscore and name in PUBLIC_UNDERSCORE:
        return None
    if name.startswith("_") and not name.startswith("__") and not own_private:
        return f".{name} (a private attribute)"  # torch._C, probe._RUNNING, t._VF
    if name in BY_NAME:
        return f".{name} (reads attributes named by a string, which the reading cannot see)"
    return None


def library_module_allowed(name: str) -> bool:
    """A module a notebook may hold (``scipy.signal``, ``torch.types``): under a package it may import, not an
    interpreter module, a guarded one, a private or a denied part (``select``, ``io``, ``types``, ``torch._C``)."""
    parts = name.split(".")
    return parts[0] in ALLOWED_IMPORTS and parts[0] not in INTERPRETER_MODULES and parts[0] not in GUARDED_MODULES \
        and not any(part.startswith("_") or not part for part in parts) and not _matches(name, DENIED_SUBMODULES)


def _imports_no_module(module: str | None, name: str) -> bool:
    """``from module import name`` of a ``MODULE_NAMED_ATTRIBUTES`` name gives no module a notebook may not hold:
    the grader's own import of the library says what it is (``from numpy import select``: a function;
    ``from scipy import signal``: scipy's own submodule), read from the module's namespace without running a
    ``__getattr__``; a library the grader cannot import, or a name it does not find, is refused."""
    import importlib
    import types

    if not module or name not in MODULE_NAMED_ATTRIBUTES or not library_module_allowed(module):
        return False
    try:
        library = importlib.import_module(module)  # a library a notebook may import: only its own code runs
        value = library.__dict__.get(name, _ABSENT)
        if value is _ABSENT:  # Python's import then looks for the submodule module.name
            value = importlib.import_module(f"{module}.{name}") if library_module_allowed(f"{module}.{name}") \
                else _ABSENT
    except Exception:  # noqa: BLE001 - not importable here: not read
        return False
    if value is _ABSENT:
        return False
    if isinstance(value, types.ModuleType):
        return isinstance(value.__dict__.get("__name__"), str) and library_module_allowed(value.__dict__["__name__"])
    return True


_ABSENT = object()


def _bound_here(node: ast.AST) -> set[str]:
    """The names one node binds (not a plain ``ast.Name``, which carries its own context): a def or class, an
    import, an ``except ... as``, a parameter, a match capture, a ``global``/``nonlocal`` declaration."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(a.asname or a.name).split(".")[0] for a in node.names if a.name != "*"}
    if isinstance(node, ast.ExceptHandler):
        return {node.name} if node.name else set()
    if isinstance(node, ast.arg):
        return {node.arg}
    if isinstance(node, (ast.MatchAs, ast.MatchStar)):
        return {node.name} if node.name else set()
    if isinstance(node, ast.MatchMapping):
        return {node.rest} if node.rest else set()
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        return set(node.names)
    if type(node).__name__ in ("TypeVar", "ParamSpec", "TypeVarTuple"):  # ``def f[T]()`` (Python 3.12)
        return {node.name}
    return set()


def bound_names(tree: ast.AST) -> set[str]:
    """Every name a tree binds, by any binding form: assignment, augmented and annotated assignment, ``for``,
    ``with ... as``, the walrus, comprehension targets and ``del`` (a plain name in a store or delete context), and
    ``_bound_here``'s (def, class, import, except, parameters, match captures, global/nonlocal)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                names.add(node.id)
        else:
            names |= _bound_here(node)
    return names


def _is_method_self(node: ast.Name, tree: ast.AST) -> bool:
    """``self``/``cls`` as the first parameter of a function defined in a class body (not any variable so named)."""
    parents = _parents(tree)
    parent = parents.get(id(node))
    while parent is not None:  # the function that binds the name (a lambda or nested def inside may not)
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                and node.id in _function_locals(parent):
            break
        parent = parents.get(id(parent))
    if parent is None or isinstance(parent, ast.Lambda):
        return False
    arguments = parent.args.posonlyargs + parent.args.args
    return bool(arguments) and arguments[0].arg == node.id and isinstance(parents.get(id(parent)), ast.ClassDef) \
        and not any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in parent.decorator_list)


def _format_fields(template: str):
    """The attribute names a ``str.format`` template reads (``"{0.a.b[k]}"`` gives a, b), nested specs too."""
    import _string

    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:  # str.format raises the same
        return
    for _, field_name, spec, _ in parsed:
        if field_name:
            try:
                _, rest = _string.formatter_field_name_split(field_name)
                for is_attribute, name in rest:
                    if is_attribute:
                        yield name
            except ValueError:
                pass
        if spec and "{" in spec:
            yield from _format_fields(spec)


def _allowed_checks(course_sources: list[str], rules: Rules) -> frozenset:
    """``(module, name)`` of the checks the course's own cells import from the exercise's check module
    (``from autograder.dropout import check_dropout_forward``): the ones a learner may call again themselves."""
    found = set()
    for source in course_sources:
        try:
            tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module == rules.checks:
                found |= {(node.module, a.name) for a in node.names if a.name.startswith("check_")}
    return frozenset(found)


def _is_check_import(node: ast.AST, allowed) -> bool:
    return isinstance(node, ast.ImportFrom) and not node.level and bool(node.names) \
        and all((node.module, a.name) in allowed for a in node.names)


def _check_names(tree: ast.AST, allowed) -> set[str]:
    """The names a learner's ``from autograder.<exercise> import check_x [as y]`` binds."""
    return {a.asname or a.name for node in ast.walk(tree) if _is_check_import(node, allowed) for a in node.names}


def _in_deferred_code(node: ast.AST, tree: ast.AST) -> bool:
    """Inside code that may run later than its cell: a function, a lambda, a class body, a generator expression
    (a learner's function could run it while a grade cell's probe runs it)."""
    parents = _parents(tree)
    parent = parents.get(id(node))
    while parent is not None:
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.GeneratorExp)):
            return True
        parent = parents.get(id(parent))
    return False


def _inspect(tree: ast.AST, cell: int, aliases: dict[str, str], rules: Rules, bound: frozenset | set = frozenset(),
             private: frozenset | set = frozenset(), shadowed: frozenset | set = frozenset(),
             checks: tuple = (frozenset(), frozenset())):
    exempt = _type_only(tree)
    allowed_checks, check_names = checks

    def hidden(node, what):
        return "hidden", Finding(cell, getattr(node, "lineno", 0), what)

    def forbidden(node, what):
        if id(node) in exempt:
            return "exempt", None
        return "forbidden", Finding(cell, getattr(node, "lineno", 0), what)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Name) and HIDDEN_NAMES.intersection(_bound_here(node)):
            # ``def __grader_own__``, ``import x as get_ipython``, ``except E as __grader_plain__``: the grader's
            # own names (and the shell's) shadowed by a binding that is not a plain name
            yield hidden(node, f"{min(HIDDEN_NAMES.intersection(_bound_here(node)))} (bound by the notebook)")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in BY_NAME:
            # a string.Formatter subclass's hook (format_field, get_field...) receives the objects it reads
            yield hidden(node, f"a method named {node.name} (it reads attributes named by a string)")
        if isinstance(node, ast.MatchClass):
            # ``case C(name=v)`` reads the attribute ``name`` of the subject; ``case C(v)`` reads the ones
            # C.__match_args__ names, which the learner's class (or an ABC registered for any type) chooses
            for name in node.kwd_attrs:
                what = _attribute_finding(name)
                if what:
                    yield hidden(node, f"case ...({name}=...): {what}")
            if node.patterns and not (isinstance(node.cls, ast.Name) and node.cls.id in SELF_MATCHING):
                yield hidden(node, "a class pattern with positional sub-patterns (case C(x): the attributes "
                                   "C.__match_args__ names; write case C(name=x))")
            continue
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("format", "format_map") and isinstance(node.func.value, ast.Constant) \
                and isinstance(node.func.value.value, str):
            for name in _format_fields(node.func.value.value):
                what = _attribute_finding(name)
                if what:
                    yield hidden(node, f"a format field reading {what}")
        if isinstance(node, ast.Call) and (node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", None)) == "wraps" and (len(node.args) > 1 or node.keywords):
            yield hidden(node, "functools.wraps with assigned= or updated= (it copies attributes named by strings)")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if isinstance(node, ast.ImportFrom) and node.level:
                yield hidden(node, "a relative import")
                continue
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                parts = module.split(".")
                if parts[0] == "autograder" and _is_check_import(node, allowed_checks):
                    pass  # a visible check run again: only as a direct call where its cell runs (below)
                elif parts[0] == "autograder":
                    yield hidden(node, f"import of {module} (the grader's checks)")
                elif parts[0] not in ALLOWED_IMPORTS:
                    yield hidden(node, f"import of {module}")
                elif any(p.startswith("_") for p in parts if p != "__future__") or _matches(module, DENIED_SUBMODULES):
                    yield hidden(node, f"import of {module}")
                elif parts[0] in GUARDED_MODULES and len(parts) > 1 and parts[1] not in GUARDED_MODULES[parts[0]]:
                    yield hidden(node, f"import of {module}")
                elif _matches(module, rules.names):
                    yield forbidden(node, module)
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name == "*":
                        yield hidden(node, f"from {node.module} import *")
                    elif alias.name.startswith("_") or alias.name in BY_NAME:
                        yield hidden(node, f"import of {node.module}.{alias.name}")
                    elif alias.name in INTERPRETER_MODULES and not _imports_no_module(node.module, alias.name):
                        # ``from torch import sys``, ``from warnings import sys as s``: the module by another name
                        yield hidden(node, f"import of {node.module}.{alias.name} (the {alias.name} module through "
                                           "another name)")
                    elif node.module in GUARDED_MODULES and alias.name not in GUARDED_MODULES[node.module]:
                        yield hidden(node, f"import of {node.module}.{alias.name}")
                    elif _matches(f"{node.module}.{alias.name}", DENIED_SUBMODULES):
                        yield hidden(node, f"import of {node.module}.{alias.name}")
                    elif _matches(f"{node.module}.{alias.name}", rules.names) \
                            or any(w in alias.name for w in rules.words):
                        yield forbidden(node, f"{node.module}.{alias.name}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            name = node.func.id
            if name in NOT_VALUES and _is_learners(node.func, tree, shadowed):
                continue  # the learner's own function of that name (a parameter, a local), not the builtin
            if name in HIDDEN_CALLS:
                yield hidden(node, f"{name}()")
            elif name in NAMED_ACCESS:
                attribute = node.args[1] if len(node.args) > 1 else None
                if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
                    yield hidden(node, f"{name}() with a computed name")
                elif attribute.value in ("__module__", "__class__") and name in ("setattr", "delattr"):
                    yield hidden(node, f"{name}(..., {attribute.value!r}) (the grader tells the learner's classes by it)")
                elif _attribute_finding(attribute.value):
                    yield hidden(node, f"{name}(..., {attribute.value!r}): {_attribute_finding(attribute.value)}")
                elif node.args:
                    root, attributes = _chain(node.args[0])
                    if root in aliases and name in ("setattr", "delattr"):
                        qualified = ".".join([aliases[root]] + attributes + [attribute.value])
                        yield hidden(node, f"replacing {qualified} (changing a library)")
                    elif root in aliases:
                        yield from _judge_chain(node, aliases[root], attributes + [attribute.value], hidden,
                                                forbidden, rules)
            elif name == "open":
                yield from _judge_open(node, hidden)
            elif name == "type" and len(node.args) == 3:
                yield hidden(node, "type() with three arguments")
        elif isinstance(node, ast.keyword) and node.arg in UNSAFE_KEYWORDS and not (
                isinstance(node.value, ast.Constant) and node.value.value is not UNSAFE_KEYWORDS[node.arg]):
            yield hidden(node.value, f"{node.arg}={_short(node.value)} (loads code with the data)")
        elif isinstance(node, ast.Name) and node.id in HIDDEN_NAMES:
            yield hidden(node, node.id)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in check_names \
                and not _is_called(node, tree):
            yield hidden(node, f"{node.id} used as a value (a check the notebook imports may only be called: "
                               f"{node.id}(...))")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in check_names \
                and _in_deferred_code(node, tree):
            yield hidden(node, f"{node.id}(...) inside a function, a class or a generator (a check may be called "
                               "only where its cell runs it)")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and _is_shell_name(node.id) \
                and (node.id not in bound or node.id in ("get_ipython", "exit", "quit")):
            yield hidden(node, f"{node.id} (IPython's shell or its history)")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in NOT_VALUES \
                and not _is_called(node, tree) and not _is_learners(node, tree, shadowed):
            yield hidden(node, f"{node.id} used as a value (only a direct call {node.id}(...) is read)")
        elif isinstance(node, ast.Attribute):
            root, attributes = _chain(node)
            # the learner's own private attributes, through the self/cls of a method: ``self._n``
            own = root in SELF_NAMES and len(attributes) == 1 and node.attr in private \
                and _is_method_self(node.value, tree)
            what = _attribute_finding(node.attr, own_private=own, as_attribute=True,
                                      public_underscore=root not in aliases)
            if what:
                yield hidden(node, what)
                continue
            if node.attr == "__class__" and not isinstance(node.ctx, ast.Load):
                yield hidden(node, "changing an object's .__class__")
                continue
            if node.attr == "__module__" and not isinstance(node.ctx, ast.Load):
                yield hidden(node, "changing a class's .__module__ (the grader tells the learner's classes by it)")
                continue
            if root not in aliases:
                # not an imported module's name (an alias kept in a list, a local variable): a call whose name is
                # forbidden still counts (``fns[0].dropout(x)``, ``keep['u'].fusion.fuse_linear_bn_eval(l, bn)``);
                # the learner's own values whose names hold a word (``ctx.dropout_mask``) do not: the refused
                # kernels and code (autograder/forbidden.py ``ops``, ``code``) stop whatever runs through them
                if root not in SELF_NAMES and isinstance(node.ctx, ast.Load) and _is_outer(node, tree) \
                        and _is_called_attribute(node, tree) \
                        and (node.attr in _last_names(rules) or any(word in node.attr for word in rules.words)):
                    yield forbidden(node, f"...{node.attr}")
                continue
            if isinstance(node.ctx, ast.Load) and _is_outer(node, tree):
                yield from _judge_chain(node, aliases[root], attributes, hidden, forbidden, rules)
            elif isinstance(node.ctx, (ast.Store, ast.Del)) and _is_outer(node, tree):
                yield hidden(node, f"replacing {'.'.join([aliases[root]] + attributes)} (changing a library)")
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in aliases:
            qualified = aliases[node.id]
            if qualified in GUARDED_MODULES and _is_bare(node, tree):
                yield hidden(node, f"the module {qualified} used as a value (only {qualified}.NAME is read)")
                continue
            if _matches(qualified, rules.names) or any(w in qualified.rsplit(".", 1)[-1] for w in rules.words):
                if _is_bare(node, tree):
                    yield forbidden(node, qualified)


def _short(node: ast.AST) -> str:
    try:
        with _deep_recursion():
            return ast.unparse(node)[:40]
    except (RecursionError, MemoryError, ValueError):
        return "..."


def _judge_chain(node, module: str, attributes: list[str], hidden, forbidden, rules: Rules):
    """A chain of attributes that starts at an imported module: private, file access, denied or forbidden."""
    qualified = ".".join([module] + attributes)
    parts = qualified.split(".")
    if any(a.startswith("_") and not (a.startswith("__") and a.endswith("__")) for a in attributes):
        yield hidden(node, f"{qualified} (a private part of a library)")
    elif parts[0] in GUARDED_MODULES and (len(parts) < 2 or parts[1] not in GUARDED_MODULES[parts[0]]):
        yield hidden(node, f"{qualified} (not among the names of {parts[0]} that graded code may use)")
    elif _matches(qualified, DENIED_SUBMODULES):
        yield hidden(node, qualified)
    elif _matches(qualified, rules.names) or (attributes and any(w in attributes[-1] for w in rules.words)):
        yield forbidden(node, qualified)


def _last_names(rules: Rules) -> frozenset:
    """The last names of an exercise's forbidden references (``dropout``, ``BatchNorm1d``, ``batch_norm``)."""
    return frozenset(name.rsplit(".", 1)[-1] for name in rules.names)


def _is_called_attribute(node: ast.Attribute, tree: ast.AST) -> bool:
    parent = _parents(tree).get(id(node))
    return isinstance(parent, ast.Call) and parent.func is node


def _judge_open(node: ast.Call, hidden):
    """``open(path)`` reads a file of the learner's working folder: harmless. Writing (a mode with w, a, x or +)
    is read only with a constant relative path: a computed or absolute one may be the process's own memory."""
    mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
    if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        yield hidden(node, "open() with unpacked arguments")
        return
    if mode is None:
        return
    if not (isinstance(mode, ast.Constant) and isinstance(mode.value, str)):
        yield hidden(node, "open() with a computed mode")
        return
    if not set(mode.value) & set("wax+"):
        return
    path = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "file"), None)
    if not (isinstance(path, ast.Constant) and isinstance(path.value, str) and not path.value.startswith(("/", "~"))
            and ".." not in path.value.split("/")):
        yield hidden(node, f"open() for writing {'a computed' if not isinstance(path, ast.Constant) else 'an outside'} "
                           "path (write to a file named in the cell, in the working folder)")


_SHELL_PATTERN = re.compile(r"_i?\d+")


def _is_shell_name(name: str) -> bool:
    """IPython's shell and history names: get_ipython, In, Out, _ih, _oh, _i, _ii, _i3, _3, __, ___..."""
    return name in SHELL_NAMES or bool(_SHELL_PATTERN.fullmatch(name))


def _is_called(node: ast.Name, tree: ast.AST) -> bool:
    """The name is what a call calls (``open(path)``), not a value passed or bound (``map(exec, ...)``)."""
    parent = _parents(tree).get(id(node))
    return isinstance(parent, ast.Call) and parent.func is node


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    cached = getattr(tree, "_parents", None)
    if cached is None:
        cached = {id(child): parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        tree._parents = cached
    return cached


def _is_outer(node: ast.Attribute, tree: ast.AST) -> bool:
    """The whole chain ``a.b.c``, not its inner part ``a.b``."""
    return not isinstance(_parents(tree).get(id(node)), ast.Attribute)


def _is_bare(node: ast.Name, tree: ast.AST) -> bool:
    """A name used by itself, not as the root of an attribute chain (the chain is judged whole)."""
    return not isinstance(_parents(tree).get(id(node)), ast.Attribute)
