"""Code a dishonest learner can put in a cell: the ways around the grader that every chapter reuses.

Most of them are written so that the grader's reading of the cells
(``grading/policy.py``) does not see them for what they are: modules are
reached through ``warnings.sys.modules`` instead of an import, frames through
``dataclasses.inspect`` instead of ``sys._getframe`` / ``.f_back``, a library
function through a name kept in a list or dict. What they reach must then be
harmless because of the sandbox and the design (the verdicts run outside it,
on fresh seeds), not because the syntax looked suspicious. The plain,
visible variants are in the chapters too, and must be refused as hidden code.
"""
from __future__ import annotations

# sys.modules without `import sys` (the reading refuses imports of sys, os, gc, importlib, ctypes...)
MODULES = "import warnings\n_modules = warnings.sys.modules\n"

# The runner's main() frame, found by walking the stack with inspect (reached through dataclasses):
# its locals hold `send` (which adds the job's nonce), the job (every probe's fresh parameters) and the checks.
RUNNER_BY_STACK = MODULES + '''
import dataclasses
def _runner():
    for info in dataclasses.inspect.stack():
        found = dataclasses.inspect.getargvalues(info.frame).locals
        if info.function == "main" and "send" in found and "job" in found:
            return found["send"], found["job"]
    raise LookupError("runner not found")
'''

# The same through the garbage collector: the `send` closure and the job dict among all live objects.
RUNNER_BY_GC = MODULES + '''
import dataclasses
def _runner():
    send = job = None
    for thing in _modules["gc"].get_objects():
        if type(thing).__name__ == "function" and thing.__qualname__ == "main.<locals>.send":
            send = thing
        elif type(thing) is dict and "cells" in thing and "preimport" in thing:
            job = thing
    if send is None or job is None:
        raise LookupError("runner not found")
    return send, job
'''

# Forged probe records: every probe the job asks for, answered by _REPLACEMENTS (the cell defines it: learner
# name -> what to run instead, e.g. the library's own implementation), with no operators recorded; then "done",
# so that the runner's own (honest) records never reach the grader.
FORGED_RECORDS = '''
def _decode(value):
    if type(value) is list:
        return [_decode(v) for v in value]
    if type(value) is not dict:
        return value
    if "$tuple" in value:
        return tuple(_decode(v) for v in value["$tuple"])
    if "$dict" in value:
        return {k: _decode(v) for k, v in value["$dict"].items()}
    if "$np" in value:
        return _modules["numpy"].dtype(value["$np"]).type
    if "$torch" in value:
        return {"float32": _modules["torch"].float32, "float64": _modules["torch"].float64}[value["$torch"]]
    return {k: _decode(v) for k, v in value.items()}

def _forged_records(job):
    probe = _modules["autograder.probe"]
    for cell in job["cells"]:
        for k, request in enumerate(cell.get("probes", ())):
            module, name = request["check"].split(":")
            check = dict(dataclasses.inspect.getmembers(_modules[module]))[name]
            record = check.run_probe([_REPLACEMENTS[n] for n in request["learners"]], _decode(request["params"]))
            dict.__setitem__(record, "$ops", [])
            yield {"t": "probe", "i": cell["i"], "k": k, "record": probe.encode(record)}
'''

FORGE = FORGED_RECORDS + '''
def _forge():
    send, job = _runner()
    for message in list(_forged_records(job)):
        send(message)
    send({"t": "done"})

try:
    _forge()
except Exception as error:
    print("forging failed:", type(error).__name__, error)
'''

FORGED_HTML = {"output_type": "display_data", "metadata": {}, "data": {
    "text/html": "<script>alert('XSS-FORGED')</script><img src=x onerror=\"alert('XSS-FORGED')\">",
    "image/svg+xml": "<svg xmlns='http://www.w3.org/2000/svg' onload=\"alert('XSS-FORGED')\"></svg>",
    "text/markdown": "<script>alert('XSS-FORGED')</script>",
    "application/javascript": "alert('XSS-FORGED')"}}

# The nonce itself taken out of send()'s closure (inspect.getclosurevars), and the lines written with the
# channel's own write(): cell messages with HTML outputs for every learner cell, the probe records, "done".
FORGE_RAW = FORGED_RECORDS + f'''
import json
def _forge():
    send, job = _runner()
    hidden = dataclasses.inspect.getclosurevars(send).nonlocals
    nonce, write = hidden["nonce"], hidden["write"]
    messages = [{{"t": "cell", "i": c["i"], "count": 1, "outputs": [{FORGED_HTML!r}]}}
                for c in job["cells"] if "probes" not in c]
    messages += list(_forged_records(job)) + [{{"t": "done"}}]
    for message in messages:
        write((json.dumps(dict(message, n=nonce)) + "\\n").encode())

try:
    _forge()
except Exception as error:
    print("forging failed:", type(error).__name__, error)
'''


def forge_by_stack(replacements: str) -> str:
    """A cell that forges every probe record (``replacements``: code defining ``_REPLACEMENTS``)."""
    return RUNNER_BY_STACK + replacements + FORGE


def forge_by_gc(replacements: str) -> str:
    return RUNNER_BY_GC + replacements + FORGE


def forge_raw(replacements: str) -> str:
    return RUNNER_BY_STACK + replacements + FORGE_RAW


# Messages written straight to the channel's file descriptor with a guessed nonce (every descriptor 3..30).
GUESSED_NONCE = MODULES + '''
import json
_os = _modules["os"]
def _spam(cells):
    for fd in range(3, 31):
        for nonce in ("0" * 32, "", None, "nonce"):
            lines = [{"t": "probe", "i": i, "k": k, "record": {"$record": {"out": 0.0}, "failure": None}, "n": nonce}
                     for i in cells for k in range(12)] + [{"t": "done", "n": nonce}]
            for line in lines:
                try:
                    _os.write(fd, (json.dumps(line) + "\\n").encode())
                except OSError:
                    break
'''

# The probe's record of operators switched off: learner_code() looks at probe._RUNNING, so an object that
# stays empty whatever is appended makes every probe run without TorchFunctionMode / TorchDispatchMode.
SILENCE_RUNNING = MODULES + '''
class _Nothing(list):
    def append(self, item):
        pass
    def pop(self, *args):
        return None
_modules["autograder.probe"]._RUNNING = _Nothing()
'''

# The same by replacing learner_code() itself, where the checks look it up (call_learner imports it at each call).
SILENCE_LEARNER_CODE = MODULES + '''
import contextlib, dataclasses
for _name in list(_modules):
    if _name.startswith("autograder") and "learner_code" in dict(dataclasses.inspect.getmembers(_modules[_name])):
        _modules[_name].learner_code = contextlib.nullcontext
'''

# The probe's Check.run_probe replaced: the library's implementation runs instead of the learner's, and the
# operators it ran are dropped from the record.
SWAP_RUN_PROBE = MODULES + '''
_Check = _modules["autograder.probe"].Check
_original_run_probe = _Check.run_probe
def _run_probe(self, learners, params):
    learners = [_REPLACEMENTS.get(learner.__name__, learner) for learner in learners]
    record = _original_run_probe(self, learners, params)
    dict.__setitem__(record, "$ops", [])
    return record
_Check.run_probe = _run_probe
'''

# Walking up from inside the learner's function to the probe that called it (through dataclasses.inspect),
# looking for what a check of the old design kept there: `expected`, the reference answer.
READ_EXPECTED = '''
import dataclasses
def _expected_from_frames():
    for info in dataclasses.inspect.stack():
        found = dataclasses.inspect.getargvalues(info.frame).locals
        for name in ("expected", "reference", "want", "answer"):
            if name in found:
                return found[name]
    return None
'''

# Enlarging every TOLERANCE table of the course's checks (in the sandbox: the verdicts use their own copy).
LOOSEN_TOLERANCES = MODULES + '''
import dataclasses
for _name in list(_modules):
    if _name.startswith("autograder"):
        _table = dict(dataclasses.inspect.getmembers(_modules[_name])).get("TOLERANCE")
        if type(_table) is dict:
            for _key in list(_table):
                _table[_key] = (1e30, 1e30)
'''

# NumPy's and torch's comparisons replaced through another name (the reading only sees `np.allclose = ...`).
PATCH_COMPARISONS = '''
_numpy = np
_numpy.allclose = lambda *a, **k: True
_numpy.array_equal = lambda *a, **k: True
_numpy.isclose = lambda a, b, *r, **k: _numpy.ones(_numpy.broadcast_shapes(_numpy.shape(a), _numpy.shape(b)), bool)
_numpy.testing.assert_allclose = lambda *a, **k: None
'''

# A correct solution's side job: fill every writable-looking place, catching the errors.
FILL_DISKS = '''
_chunk = np.zeros(8 * 1024 ** 2 // 8)          # 8 MB
_filled = {}
for _place in ("/var/tmp", "/run", "/dev/shm", "/home", "/dev", "/var", "/etc", "/tmp"):
    _written = 0
    try:
        for _i in range(48):                   # 384 MB each: more than /tmp's cap
            _chunk.tofile(f"{_place}/fill-{_i}.bin")
            _written += 1
    except OSError as _error:
        _filled[_place] = f"{_written} files, then {type(_error).__name__}"
    else:
        _filled[_place] = f"{_written} files"
print("filled:", _filled)
'''
