"""What the runner does, inside the sandbox, so that student code cannot fake a pass.

Everything here runs in the same process as the student's code, so it raises
the bar rather than making cheating impossible; the sandbox is what confines a
student who gets past it to their own grade. The defences:

- ``Snapshot``: taken after the libraries are imported and before any student
  cell runs; ``restore()`` runs right before every grade cell and puts back
  ``builtins``, the attributes of numpy / scipy / sklearn / torch modules and
  of the classes they define (``np.allclose = ...``, ``MinMaxScaler.transform =
  ...``), the library entries of ``sys.modules``, ``sys.path`` and the import
  machinery, the exception, display and trace hooks; and it purges the
  ``autograder`` check modules so that the grade cell imports them afresh from
  their files (a trusted finder resolves ``autograder`` before ``sys.path``, so
  a student's own ``autograder/`` folder is never imported).
- ``install_audit_hook``: an audit hook (it cannot be removed) that refuses,
  when the nearest non-library caller is student code, the ways in-process
  code reaches into the checks' frames or the runner's memory: frame access
  (``sys._getframe``, ``tb_frame``, ``gi_frame``...), ``gc`` referrer walks,
  ``ctypes``, trace/profile hooks, replacing a library function's
  ``__code__``, compiling code that pretends to live in a library file,
  opening ``/proc/*/mem``, starting threads. It also carries the switch of the
  reference guard, reachable only with a token the runner holds.
- ``guard_references``: while a grade cell runs, a call to a reference
  implementation (``references.REFERENCES``, e.g. ``MinMaxScaler``,
  ``torch.nn.functional.batch_norm``) whose nearest non-library caller is
  student code raises ``ReferenceUsed``, so a from-scratch exercise answered
  by calling the library loses the points; the checks themselves call the
  references freely.
"""
from __future__ import annotations

import builtins
import importlib.abc
import importlib.machinery
import importlib.util
import os
import secrets
import sys
import sysconfig
import threading

PROTECTED_ROOTS = ("numpy", "scipy", "sklearn", "torch", "autograder", "normreg", "pandas", "matplotlib")
AUTOGRADER_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRADING_DIR = os.path.dirname(os.path.abspath(__file__))

# Audit events refused to student code.
_DENIED_EVENTS = frozenset({
    "sys._getframe", "sys._current_frames", "sys.settrace", "sys.setprofile",
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "_thread.start_new_thread", "sys.addaudithook", "sys.set_asyncgen_hooks_firstiter",
    "cpython.PyInterpreterState_New", "cpython.run_command", "cpython.run_file",
})
_IGNORED = frozenset({"builtins.id", "exec", "import", "marshal.loads", "os.listdir", "os.scandir"})
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})


class ReferenceUsed(AssertionError):
    """Student code called the reference implementation the check compares with."""


def _dir_prefixes() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(library prefixes, standard-library prefixes) as absolute paths ending in os.sep."""
    paths = sysconfig.get_paths()
    stdlib = {os.path.realpath(paths["stdlib"]), os.path.realpath(paths["platstdlib"])}
    library = {os.path.realpath(paths["purelib"]), os.path.realpath(paths["platlib"])}
    for entry in sys.path:
        if entry and ("site-packages" in entry or "dist-packages" in entry):
            library.add(os.path.realpath(entry))
    library.add(GRADING_DIR)
    normreg = os.path.join(os.path.dirname(AUTOGRADER_DIR), "normreg")
    library.add(normreg)
    stdlib -= library
    fix = lambda items: tuple(sorted({p.rstrip(os.sep) + os.sep for p in items}, key=len, reverse=True))  # noqa: E731
    return fix(library), fix(stdlib)


def make_classifier():
    """A function: code filename -> 'skip' (stdlib, libraries, this runner), 'check' or 'student'."""
    library, stdlib = _dir_prefixes()
    checks = AUTOGRADER_DIR.rstrip(os.sep) + os.sep
    grading = GRADING_DIR.rstrip(os.sep) + os.sep
    cache: dict[str, str] = {}

    def classify(filename: str) -> str:
        kind = cache.get(filename)
        if kind is not None:
            return kind
        if filename.startswith("<frozen "):
            kind = "skip"
        elif filename.startswith("<"):
            kind = "student"  # cells, exec'd strings
        else:
            path = os.path.realpath(filename)
            if path.startswith(grading):
                kind = "skip"
            elif path.startswith(checks):
                kind = "check"
            elif path.startswith(library) or path.startswith(stdlib):
                kind = "skip"
            else:
                kind = "student"
        cache[filename] = kind
        return kind

    return classify


def _is_trusted_path(filename: str, classify) -> bool:
    return isinstance(filename, str) and not filename.startswith("<") and classify(filename) != "student"


def install_audit_hook() -> str:
    """Install the hook; return the token that switches the reference guard on and off."""
    classify = make_classifier()
    token = secrets.token_hex(16)
    state = {"grading": False}
    busy = threading.local()
    getframe = sys._getframe

    stdlib = _dir_prefixes()[1]
    helpers = tuple(prefix + name for prefix in stdlib for name in (
        "inspect.py", "traceback.py", "threading.py", "ctypes" + os.sep, "concurrent" + os.sep, "pathlib.py",
        "linecache.py", "runpy.py", "code.py", "codeop.py", "types.py", "functools.py", "operator.py"))
    helper_cache: dict[str, bool] = {}

    def is_helper(filename: str) -> bool:
        """Standard-library modules that hand frames, threads or raw memory to whoever calls them."""
        known = helper_cache.get(filename)
        if known is None:
            known = helper_cache[filename] = os.path.realpath(filename).startswith(helpers)
        return known

    def nearest(frame) -> str:
        while frame is not None:
            kind = classify(frame.f_code.co_filename)
            if kind != "skip":
                return kind
            frame = frame.f_back
        return "skip"

    def hook(event, args):
        if event == "object.__getattr__":  # by far the most frequent event: leave at once
            if args[1] not in _FRAME_ATTRIBUTES:
                return
        elif event in _IGNORED:
            return
        elif event.startswith("autograder."):
            if event == "autograder.state":
                if args and args[0] == token:
                    state["grading"] = bool(args[1])
                return
            if event == "autograder.reference" and not state["grading"]:
                return
        elif event in _DENIED_EVENTS or event.startswith("ctypes."):
            pass
        elif event == "object.__setattr__":
            if len(args) < 2 or args[1] != "__code__":
                return
            code = getattr(args[0], "__code__", None)
            if code is None or not _is_trusted_path(code.co_filename, classify):
                return
        elif event == "compile":
            if len(args) < 2 or not _is_trusted_path(args[1] if isinstance(args[1], str) else "<", classify):
                return
        elif event == "code.__new__":
            if len(args) < 2 or not _is_trusted_path(args[1] if isinstance(args[1], str) else "<", classify):
                return
        elif event == "open":
            path = args[0] if args else None
            if not isinstance(path, str) or not path.startswith("/proc/") or not (
                    path.endswith("/mem") or "/map_files" in path or path.endswith("/environ")):
                return
        else:
            return
        if getattr(busy, "on", False):
            return
        busy.on = True
        try:
            frame = getframe(1)
            if event in ("open", "autograder.reference") or is_helper(frame.f_code.co_filename):
                # who asked for it: the nearest frame that is not the standard library or a library
                caller = nearest(frame)
            else:
                # libraries use frames, gc, ctypes or compile for their own purposes (namedtuple,
                # the import system, dataclasses...): only a direct call from student code is refused
                caller = classify(frame.f_code.co_filename)
        finally:
            busy.on = False
        if caller != "student":
            return
        if event == "autograder.reference":
            raise ReferenceUsed(
                f"your code calls {args[0]}, the reference this exercise compares with: "
                "write it from scratch with NumPy / PyTorch tensor operations"
            )
        raise RuntimeError(f"not allowed while grading: {event}")

    sys.addaudithook(hook)
    return token


# ----------------------------------------------------------------- reference guard

def _resolve(dotted: str):
    """(owner, attribute name, object) for 'pkg.mod.Name' or 'pkg.mod.Class.method', or None."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        owner = module
        try:
            for name in parts[split:-1]:
                owner = getattr(owner, name)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _guarded(function, label: str):
    audit = sys.audit

    def guarded(*args, **kwargs):
        audit("autograder.reference", label)
        return function(*args, **kwargs)

    guarded.__name__ = getattr(function, "__name__", "guarded")
    guarded.__qualname__ = getattr(function, "__qualname__", guarded.__name__)
    guarded.__doc__ = getattr(function, "__doc__", None)
    guarded.__module__ = getattr(function, "__module__", None)
    return guarded


SKLEARN_METHODS = ("fit", "transform", "fit_transform", "partial_fit", "inverse_transform")


def guard_references(names, allowed=()) -> list[str]:
    """Wrap the reference implementations that are imported; return the names guarded."""
    done = []
    wrappers: dict[int, object] = {}
    roots: set[str] = set()
    for dotted in names:
        if dotted in allowed:
            continue
        found = _resolve(dotted)
        if found is None:
            continue
        owner, attribute, target = found
        if isinstance(target, type):
            is_module = any(c.__name__ == "Module" and c.__module__.startswith("torch") for c in target.__mro__)
            for method in ("forward",) if is_module else SKLEARN_METHODS:
                function = getattr(target, method, None)
                if callable(function):
                    setattr(target, method, _guarded(function, f"{dotted}.{method}"))
        elif callable(target):
            wrapper = wrappers.setdefault(id(target), _guarded(target, dotted))
            setattr(owner, attribute, wrapper)
            # where it is defined and re-exported: the same package (e.g. sklearn.preprocessing._data)
            roots.add(".".join(dotted.split(".")[:2]))
        else:
            continue
        done.append(dotted)
    roots = tuple(roots)
    if wrappers:  # the same functions re-exported by other modules (e.g. a private defining module)
        for name, module in list(sys.modules.items()):
            if module is None or not name.startswith(roots):
                continue
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            for key, value in list(namespace.items()):
                wrapper = wrappers.get(id(value))
                if wrapper is not None and wrapper is not value:
                    namespace[key] = wrapper
    return done


# ----------------------------------------------------------------- snapshot and restore

class _TrustedAutograderFinder(importlib.abc.MetaPathFinder):
    """Resolves ``autograder`` and its submodules from the course's own files only."""

    def __init__(self, directory: str):
        self.directory = directory

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "autograder" and not fullname.startswith("autograder."):
            return None
        parts = fullname.split(".")[1:]
        base = os.path.join(self.directory, *parts)
        if os.path.isdir(base):
            init = os.path.join(base, "__init__.py")
            return importlib.util.spec_from_file_location(fullname, init, submodule_search_locations=[base])
        if os.path.isfile(base + ".py"):
            return importlib.util.spec_from_file_location(fullname, base + ".py")
        return None


def _is_protected(name: str) -> bool:
    root = name.split(".", 1)[0]
    return root in PROTECTED_ROOTS and not name.startswith("autograder")


class Snapshot:
    """The state of the interpreter that grade cells rely on, restored before each of them.

    Every write to a dict bumps its version tag (PEP 509, CPython 3.11), even a
    write that puts the old value back. ``restore`` uses the tags to find, in a
    few milliseconds, the library namespaces written to since the last grade
    cell; ``versions``/``tampered`` compare them before and after a grade cell
    to see whether the code the check called patched the checks or a library
    *during* the check (a patch that undoes itself is caught too).
    """

    def __init__(self, user_ns: dict):
        self.user_ns = user_ns
        self.finder = _TrustedAutograderFinder(AUTOGRADER_DIR)
        sys.meta_path.insert(0, self.finder)
        self.builtins = dict(builtins.__dict__)
        self.meta_path = list(sys.meta_path)
        self.path_hooks = list(sys.path_hooks)
        self.path = [p for p in sys.path if p not in ("", ".", os.getcwd())]
        self.sys_hooks = {name: getattr(sys, name) for name in
                          ("excepthook", "displayhook", "breakpointhook", "unraisablehook")}
        self.modules: dict[str, object] = {}
        # (label, live namespace dict, saved copy, the class or None)
        self.entries: list[tuple[str, dict, dict, type | None]] = []
        seen_classes: set[int] = set()
        for name, module in list(sys.modules.items()):
            if module is None or not _is_protected(name):
                continue
            self.modules[name] = module
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            self.entries.append((name, namespace, dict(namespace), None))
            for value in list(namespace.values()):
                if (isinstance(value, type) and id(value) not in seen_classes
                        and isinstance(getattr(value, "__module__", None), str)
                        and _is_protected(value.__module__)):
                    seen_classes.add(id(value))
                    underlying = _class_namespace(value)
                    if underlying is not None:
                        self.entries.append((f"{value.__module__}.{value.__qualname__}", underlying,
                                             dict(underlying), value))
        self.dicts = [entry[1] for entry in self.entries]
        if _version is not None:
            self.addresses = [id(d) + _version.offset for d in self.dicts]
            self.builtins_address = id(builtins.__dict__) + _version.offset
        self.tags = self._tags()

    def _tags(self) -> list:
        if _version is None:
            return [None] * len(self.dicts)
        at = _version_at
        return [at(a) for a in self.addresses]

    def restore(self) -> None:
        sys.settrace(None)
        sys.setprofile(None)
        threading.settrace(None)
        threading.setprofile(None)
        namespace = builtins.__dict__
        for key in [k for k in namespace if k not in self.builtins]:
            del namespace[key]
        for key, value in self.builtins.items():
            if namespace.get(key, _MISSING) is not value:
                namespace[key] = value
        self.user_ns["__builtins__"] = builtins
        for name, value in self.sys_hooks.items():
            setattr(sys, name, value)
        sys.meta_path[:] = self.meta_path
        sys.path_hooks[:] = self.path_hooks
        sys.path_importer_cache.clear()
        sys.path[:] = self.path + [os.getcwd()]  # the student's own modules still import, after the libraries
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
        for (label, current, saved, cls), tag, now in zip(self.entries, self.tags, self._tags()):
            if tag is not None and tag == now:
                continue  # not written to since the last restore
            if cls is None:
                for key, value in saved.items():
                    if current.get(key, _MISSING) is not value:
                        current[key] = value
                continue
            for key, value in saved.items():
                if current.get(key, _MISSING) is not value:
                    try:
                        setattr(cls, key, value)
                    except (AttributeError, TypeError):
                        pass
            for key in [k for k in current if k not in saved]:
                try:
                    delattr(cls, key)
                except (AttributeError, TypeError):
                    pass
        for name in [n for n in sys.modules if (n == "autograder" or n.startswith("autograder."))
                     and not n.startswith("autograder.grading")]:
            del sys.modules[name]
        importlib.invalidate_caches()
        self.tags = self._tags()

    def import_checks(self, names) -> None:
        """Import the check modules a grade cell names, from their files, before the cell runs."""
        for name in names:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the grade cell's own import will report it
                pass

    def versions(self):
        """An opaque record of the watched namespaces, for ``tampered``."""
        strict = [("builtins", builtins.__dict__)]
        for name, module in list(sys.modules.items()):
            if module is not None and (name == "autograder" or name.startswith("autograder.")) \
                    and not name.startswith("autograder.grading"):
                strict.append((name, module.__dict__))
        if _version is None:
            return strict, [dict(d) for _, d in strict], None, None
        return strict, [_version(d) for _, d in strict], self._tags(), [len(d) for d in self.dicts]


    def tampered(self, record) -> list[str]:
        """Names of the checks' or libraries' namespaces written to since ``versions()``."""
        strict, strict_tags, tags, sizes = record
        changed = []
        for (label, d), before in zip(strict, strict_tags):
            if (_version(d) != before) if _version is not None else (d != before):
                changed.append(label)
        if tags is None:
            return changed
        for (label, current, saved, _cls), tag, now, size in zip(self.entries, tags, self._tags(), sizes):
            if tag == now:
                continue
            # libraries may add attributes lazily (a submodule imported on first use);
            # rewriting an existing entry, or writing without adding anything, is tampering
            if len(current) <= size or any(current.get(k, _MISSING) is not v for k, v in saved.items()):
                changed.append(label)
        return changed


def _class_namespace(cls):
    """The dict behind ``cls.__dict__`` (a read-only proxy), or None."""
    import gc
    try:
        referents = gc.get_referents(cls.__dict__)
    except Exception:  # noqa: BLE001
        return None
    return referents[0] if len(referents) == 1 and type(referents[0]) is dict else None


_MISSING = object()


def _make_version_reader():
    """(read the version tag of a dict, read the tag at a precomputed address), or (None, None).

    One ctypes array over the address space, made once: reading through it raises no
    audit event, unlike a ``from_address`` per read (grade cells read thousands of tags).
    """
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11) or sys.maxsize < 2 ** 62:
        return None, None
    import ctypes
    offset = 3 * ctypes.sizeof(ctypes.c_ssize_t)  # ob_refcnt, ob_type, ma_used, then ma_version_tag
    memory = (ctypes.c_uint64 * (1 << 44)).from_address(0)

    def at(address: int) -> int:
        return memory[address >> 3]

    def version(d: dict) -> int:
        return memory[(id(d) + offset) >> 3]

    version.offset = offset
    return version, at


_version, _version_at = _make_version_reader()
