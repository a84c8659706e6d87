"""The job's last line of defence: no new code in the learner's process, enforced by the interpreter itself.

``grader/policy.py`` reads the learner's cells and refuses what hides the code it runs. A reading is
syntactic, and a reading that is bypassed (a string annotation that ``typing`` evaluates, a pickle
loaded through ``**options``...) would give a notebook arbitrary code in its job, and with it the
power to undo whatever the job does in-process (the refused kernels, the operator record). So, just
before the first learner cell runs, the runner installs this audit hook (PEP 578). An audit hook
cannot be removed or bypassed from Python once added, and every way to turn data into code passes
through an audited event:

- ``exec`` (``exec``/``eval`` of a code object) is allowed only where the interpreter's own
  machinery runs code the grader gave it: IPython running a cell (``InteractiveShell.run_code``) or
  a ``%time``/``%timeit`` line of it, the import system running a module from the environment (not
  from the job's own writable folders), and the standard library's code generators whose
  input is checked to be identifiers (``dataclasses``, ``collections.namedtuple``). ``eval`` or
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
LEARNER_FILES = ("<ipython-input-", "<string>")  # code the learner's cells made (IPython's name for a cell)
WRITABLE = ("/tmp/submission", "/tmp/home")  # the job's own writable folders (runner.WORKDIR): no modules from there


def _trusted_runner_files() -> tuple[str, ...]:
    """Files whose ``exec`` runs code the grader handed over: IPython's cell runner and timing magics."""
    import IPython.core.interactiveshell as shell
    import IPython.core.magics.execution as execution

    return shell.__file__, execution.__file__


def _generator_files() -> tuple[str, ...]:
    """Standard-library code generators that ``exec`` text made only of checked identifiers."""
    import collections
    import dataclasses

    return dataclasses.__file__, collections.__file__


def install() -> None:
    """Add the hook (once per process; it lasts until the process ends)."""
    import autograder.probe

    runners, generators, probe = _trusted_runner_files(), _generator_files(), autograder.probe.__file__
    getframe = sys._getframe

    def hook(event: str, args: tuple) -> None:
        if event not in _WATCHED:
            if event.startswith("ctypes."):
                raise PermissionError(f"refused by the grader: {event}")
            return
        if event in REFUSED:
            raise PermissionError(f"refused by the grader: {event} (no exercise of the course needs it)")
        caller = getframe(1).f_code.co_filename
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
            return
        # event == "exec": args[0] is the code object about to run
        code_file = getattr(args[0], "co_filename", "")
        if caller in runners:
            return  # a cell, or a %time / %timeit line of it: code the policy has read
        if caller.startswith("<frozen importlib") and not code_file.startswith(WRITABLE):
            return  # a module of the environment being imported
        if caller in generators:
            return
        raise PermissionError(f"refused by the grader: eval() or exec() of code from {caller or 'unknown'}")

    sys.addaudithook(hook)
