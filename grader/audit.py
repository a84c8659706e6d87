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
  a ``%time``/``%timeit`` line of it (and the empty ``timeit.Timer`` template that ``%timeit`` makes), the import system running a module from the environment (not
  from the job's own writable folders) and a library's own module-level code while it is imported
  (torch generates a class when ``torch.distributed.nn`` is first imported), and the standard library's code generators, once the names
  they paste into code are checked to be identifiers (``collections.namedtuple`` checks its own;
  ``dataclasses`` does not, so the hook checks every field name of the class being made). ``eval`` or
  ``exec`` of anything else, ``typing.get_type_hints`` of a string annotation included, is refused;
- ``compile`` called from the learner's own cells is refused (IPython compiling a cell is not);
- unpickling a global (``pickle.find_class``: ``np.load(allow_pickle=True)``, ``torch.load`` of a
  pickle), ``marshal`` outside the import system's reading of ``.pyc`` files, new code objects (``code.__new__``), ``ctypes`` and ``gc``'s object walks
  are refused outright: nothing the course asks for uses them; ``sys.setprofile`` and ``sys.settrace``
  are the probe's own (its watch of the functions learner code runs), refused to anyone else.

A refusal raises ``PermissionError`` in the learner's code, where the cell or the check shows it,
and the test that needed it fails: whatever the reading missed still earns nothing.
"""
from __future__ import annotations

import sys

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


def _library_importing(caller: str, frame) -> bool:
    """Is a library file (not a cell, not the job's own folders) running while a module is being imported?

    Some libraries generate code when first imported (torch imports ``torch.distributed.nn`` lazily, for a
    ``copy.deepcopy`` of a module, and that ``exec``s a generated class): module-level code the learner does
    not write and whose text it does not choose.
    """
    if caller.startswith(LEARNER_FILES) or caller.startswith(WRITABLE) or caller.startswith("<"):
        return False
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
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

    runners, probe = _trusted_runner_files(), autograder.probe.__file__
    cell_runner = runners[0]
    dataclass_file, namedtuple_file = _generator_files()
    timeit_file = _timeit_file()
    getframe = sys._getframe

    def hook(event: str, args: tuple) -> None:
        if event not in _WATCHED:
            if event.startswith("ctypes."):
                raise PermissionError(f"refused by the grader: {event}")
            return
        caller = getframe(1).f_code.co_filename
        if event in IMPORT_TIME and caller != dataclass_file and _library_importing(caller, getframe(1)):
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
        if caller in runners:
            return  # a cell, or a %time / %timeit line of it: code the policy has read
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
