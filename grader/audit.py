"""The job's last line of defence: no new code in the learner's process, enforced by the interpreter itself.

``grader/policy.py`` reads the learner's cells and refuses what hides the code it runs. A reading is
syntactic, and a reading that is bypassed (a string annotation that ``typing`` evaluates, a pickle
loaded through ``**options``...) would give a notebook arbitrary code in its job, and with it the
power to undo whatever the job does in-process (the refused kernels, the operator record). So, just
before the first learner cell runs, the runner installs this audit hook (PEP 578). An audit hook
cannot be removed or bypassed from Python once added, and every way to turn data into code passes
through an audited event:

- ``exec`` (``exec``/``eval`` of a code object) is allowed only where the interpreter's own
  machinery runs code the grader gave it: IPython running a cell for the grader (``InteractiveShell.run_code``,
  with no learner frame above it: the shell called from a cell is refused) or
  a ``%time``/``%timeit`` line of it (the magic called by a cell's own top-level code, through IPython's
  frames only; and the empty ``timeit.Timer`` template that ``%timeit`` makes), the import system running a
  module from the environment (not from the job's own writable folders) and a library's own module-level code
  while it is imported (torch generates a class when ``torch.distributed.nn`` is first imported; SciPy and
  NumPy generate functions), and the standard library's code generators, once the names
  they paste into code are checked to be identifiers (``collections.namedtuple`` checks its own;
  ``dataclasses`` does not, so the hook checks every field name of the class being made). ``eval`` or
  ``exec`` of anything else, ``typing.get_type_hints`` of a string annotation included, is refused.
  "A library's own module-level code" is decided from the whole stack, not from the caller alone: every
  frame from the ``exec`` up to the import system must belong to the package whose module is being
  imported (its ``<module>`` frame is the last of them), and none may be a cell's. So learner code that
  runs *while* a library is imported (a ``logging.Handler`` or filter, a warnings hook, ``__init_subclass__``,
  a descriptor, a ``weakref`` callback, a ``functools.partial`` of a library function set as one of these)
  cannot borrow the import to evaluate text: ``typing``, ``logging`` or ``weakref`` frames between the
  import and the ``exec`` are not the imported package's own (attack 7: a handler called by matplotlib's
  import-time logging evaluated string annotations and undid the refused kernels);
- ``compile`` called from the learner's own cells is refused (IPython compiling a cell is not). A compile
  reached through a library is not: it makes a code object but runs nothing (every run passes ``exec``),
  and honest notebooks reach it all the time (IPython's tracebacks parse the cell, ``typing`` compiles a
  forward reference, ``inspect.signature`` parses a builtin's text signature);
- unpickling a global (``pickle.find_class``: ``np.load(allow_pickle=True)``, ``torch.load`` of a
  pickle), ``marshal`` outside the import system's reading of ``.pyc`` files, new code objects (``code.__new__``), ``ctypes`` and ``gc``'s object walks
  are refused outright: nothing the course asks for uses them; ``sys.setprofile`` and ``sys.settrace``
  are the probe's own (its watch of the functions learner code runs), refused to anyone else.

A refusal raises ``PermissionError`` in the learner's code, where the cell or the check shows it,
and the test that needed it fails: whatever the reading missed still earns nothing.
"""
from __future__ import annotations

import sys
from typing import Callable

REFUSED = frozenset({"pickle.find_class", "code.__new__", "gc.get_objects",
                     "gc.get_referrers", "gc.get_referents", "sys._current_frames", "sys.addaudithook"})
PROFILERS = frozenset({"sys.setprofile", "sys.settrace"})  # the probe's own watch only (autograder/probe.py)
MARSHAL = frozenset({"marshal.loads", "marshal.load"})  # the import system's own (.pyc files) only
_WATCHED = REFUSED | PROFILERS | MARSHAL | {"exec", "compile"}
IMPORT_TIME = frozenset({"exec", "code.__new__"})  # what a library may do in its own module-level code
LEARNER_FILES = ("<ipython-input-", "<string>")  # code the learner's cells made (IPython's name for a cell)
WRITABLE = ("/tmp/submission", "/tmp/home")  # the job's own writable folders (runner.WORKDIR): no modules from there


def _trusted_runner_files() -> tuple[str, ...]:
    """Files whose ``exec`` runs code the grader handed over: IPython's cell runner and timing magics."""
    import IPython.core.interactiveshell as shell
    import IPython.core.magics.execution as execution

    return shell.__file__, execution.__file__


def _inside_learner_code(frame, magics_file: str) -> bool:
    """Is a frame of the learner's cells (or of code they made) on the stack above ``frame``?

    The shell runs a cell from the grader's own code (``runner.run_job`` -> ``run_cell`` -> ``run_code``), with
    no learner frame above it. The same shell called from a cell (``InteractiveShell.instance().ex(text)``,
    ``.run_cell(text)``: text the reading never saw) has the cell's frame above it. One exception: a
    ``%%capture`` cell's body, which IPython's ``capture`` magic runs with ``run_cell`` and the reading read as
    the cell's code (the magic is reached from a cell only through that syntax: the shell is refused to it).
    """
    while frame is not None:
        code = frame.f_code
        if code.co_filename == magics_file and code.co_name == "capture":
            return False
        if code.co_filename.startswith(LEARNER_FILES):
            return True
        frame = frame.f_back
    return False


def _timeit_file() -> str:
    import timeit

    return timeit.__file__


def _generator_files() -> tuple[str, ...]:
    """Standard-library code generators that ``exec`` text made only of checked identifiers."""
    import collections
    import dataclasses

    return dataclasses.__file__, collections.__file__


def _package_finder(paths) -> "Callable[[str], str | None]":
    """``package_of(file)``: the top-level package or module a source file belongs to (``torch``, ``typing``).

    Found from the import roots (``sys.path``) as they were when the hook was added, longest first (so
    ``site-packages`` wins over the standard library folder that holds it); None for a file under none of them.
    """
    import os

    roots = sorted({os.path.join(path, "") for path in paths if isinstance(path, str) and path and os.path.isdir(path)},
                   key=len, reverse=True)

    def package_of(filename: str) -> str | None:
        for root in roots:
            if filename.startswith(root):
                top = filename[len(root):].split("/", 1)[0]
                return top[:-3] if top.endswith(".py") else top
        return None

    return package_of


def _library_importing(frame, package_of) -> bool:
    """Is this ``exec`` (``frame``: its caller's) a library's own module-level code while the library is imported?

    Some libraries generate code when first imported (torch imports ``torch.distributed.nn`` lazily, for a
    ``copy.deepcopy`` of a module, and that ``exec``s a generated class; SciPy's distributions and NumPy's
    f2py generate functions): module-level code the learner does not write and whose text it does not choose.

    Decided from the whole stack: walking up from the caller to the import system (``<frozen importlib``),
    every frame must be a file of the package whose module is being imported (the last of them is that
    module's ``<module>`` frame), and none a cell's, code made from text (``<string>``) or the job's own
    folders. Learner code called back while a library is imported (a ``logging.Handler``, a warnings hook,
    ``__init_subclass__``, a ``functools.partial`` of ``typing.get_type_hints`` set as a logging filter) puts
    its own frames, or the standard library's (``logging``, ``typing``, ``weakref``), between the two.
    """
    chain = []
    while frame is not None:
        filename = frame.f_code.co_filename
        if filename.startswith("<frozen importlib"):
            break
        if filename.startswith(LEARNER_FILES) or filename.startswith(WRITABLE) or filename.startswith("<"):
            return False
        chain.append(frame)
        frame = frame.f_back
    if frame is None or not chain or chain[-1].f_code.co_name != "<module>":
        return False
    package = package_of(chain[-1].f_code.co_filename)
    return package is not None and all(package_of(f.f_code.co_filename) == package for f in chain)


def _magic_called_by_a_cell(frame, ipython_folder: str) -> bool:
    """A ``%time``/``%timeit`` magic's ``exec``: from its caller up, IPython's frames only, then a cell's top level.

    The reading read the magic's statement as code where the cell's own top-level code calls the magic
    (``get_ipython().run_line_magic(...)`` is how IPython writes ``%time x``). Learner functions cannot
    name the shell (the reading refuses it), and a callback of theirs would put its frame first.
    """
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(LEARNER_FILES):
            return code.co_name == "<module>"
        if not code.co_filename.startswith(ipython_folder):
            return False
        frame = frame.f_back
    return False


def _dataclass_names_are_identifiers(frame) -> bool:
    """In ``dataclasses``' code generation: are the names of every field of the class being made identifiers?

    ``dataclasses`` (3.11) pastes field names into the source it ``exec``s without checking them, and takes
    them from the class's ``__annotations__`` and from its bases' ``__dataclass_fields__``, which a notebook
    can fill with any string (``type("C", (), {"__annotations__": {"y=code, *z": int}})``).
    """
    import keyword

    while frame is not None and frame.f_code.co_name != "_process_class":
        frame = frame.f_back
    if frame is None:
        return False
    local = frame.f_locals
    names = list(local.get("fields") or {})
    cls = local.get("cls")
    annotations = cls.__dict__.get("__annotations__", {}) if isinstance(cls, type) else {}
    names += list(annotations) if isinstance(annotations, dict) else [None]
    return all(type(name) is str and name.isidentifier() and not keyword.iskeyword(name) for name in names)


def install() -> None:
    """Add the hook (once per process; it lasts until the process ends)."""
    import autograder.probe

    import os

    runners, probe = _trusted_runner_files(), autograder.probe.__file__
    cell_runner = runners[0]
    ipython_folder = os.path.join(os.path.dirname(os.path.dirname(runners[0])), "")
    package_of = _package_finder(list(sys.path))
    dataclass_file, namedtuple_file = _generator_files()
    timeit_file = _timeit_file()
    getframe = sys._getframe

    def hook(event: str, args: tuple) -> None:
        if event not in _WATCHED:
            if event.startswith("ctypes."):
                raise PermissionError(f"refused by the grader: {event}")
            return
        caller = getframe(1).f_code.co_filename
        if event in IMPORT_TIME and caller != dataclass_file and _library_importing(getframe(1), package_of):
            return  # a library's own module-level code generation while it is imported (torch.distributed's)
        if event in REFUSED:
            raise PermissionError(f"refused by the grader: {event} (no exercise of the course needs it)")
        if event in MARSHAL:
            if not caller.startswith("<frozen importlib"):
                raise PermissionError(f"refused by the grader: {event} outside the import system")
            return
        if event in PROFILERS:
            if caller != probe:
                raise PermissionError(f"refused by the grader: {event} (the grader's own watch uses it)")
            return
        if event == "compile":
            if caller.startswith(LEARNER_FILES):
                raise PermissionError("refused by the grader: compile(), eval() or exec() in the learner's code")
            if caller == dataclass_file and not _dataclass_names_are_identifiers(getframe(1)):
                raise PermissionError("refused by the grader: a dataclass field whose name is not an identifier")
            return
        # event == "exec": args[0] is the code object about to run
        code_file = getattr(args[0], "co_filename", "")
        if caller == cell_runner and _inside_learner_code(getframe(2), runners[1]):
            raise PermissionError("refused by the grader: IPython's shell running code for the learner's code "
                                  "(its text is not what the grader read)")
        if caller == cell_runner:
            return  # a cell: code the policy has read
        if caller == runners[1]:
            if _magic_called_by_a_cell(getframe(1), ipython_folder):
                return  # a %time / %timeit line of a cell: code the policy has read
            raise PermissionError("refused by the grader: IPython's timing magic running code for the learner's "
                                  "code (its text is not what the grader read)")
        if caller.startswith("<frozen importlib") and not code_file.startswith(WRITABLE):
            return  # a module of the environment being imported
        if caller == dataclass_file:
            if _dataclass_names_are_identifiers(getframe(1)):
                return
            raise PermissionError("refused by the grader: a dataclass field whose name is not an identifier")
        if caller == timeit_file and code_file == "<timeit-src>" and getframe(2).f_code.co_filename in runners:
            # IPython's %timeit makes a timeit.Timer() of "pass", whose __init__ execs timeit's own template;
            # the statement timed is compiled and run by the magic itself (execution.py), read by the reading
            return
        if caller == namedtuple_file:
            return  # collections.namedtuple refuses names that are not identifiers before it generates code
        raise PermissionError(f"refused by the grader: eval() or exec() of code from {caller or 'unknown'}")

    sys.addaudithook(hook)
