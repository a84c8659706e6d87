"""The warm interpreter per worker (``grader/zygote.py``, ``sandbox.WarmSandbox``): fast, and nothing carries over.

One warm sandbox runs job after job, each in a fresh fork that enters its
own ``/tmp``, limits and seccomp filter. A job that monkeypatches NumPy,
torch or the course's checks, replaces builtins, leaves files, environment
variables or globals behind, or kills the warm interpreter, changes nothing
for the next job on the same worker; and a learner's job never holds a
capability, a new process, or a view of the warm interpreter's memory.
"""
from __future__ import annotations

import json
import secrets
import time
from pathlib import Path

import pytest

from grader import sandbox
from tests.grading.grade_helpers import require_bwrap

pytestmark = pytest.mark.slow  # starts bubblewrap sandboxes

HIDDEN = [sandbox.REPO]

SPOIL = r'''
import builtins, os, sys
import numpy as np
import torch
import autograder.probe as probe
import autograder.normalization as checks
np.mean = lambda *a, **k: 0.0
np.random.seed(123)
np.set_printoptions(precision=1)
torch.manual_seed(7)
torch.Tensor.sum = lambda self, *a, **k: torch.tensor(-1.0)
torch.set_default_dtype(torch.float64)
probe.encode = lambda record: {"passed": True}
checks.check_min_max_scale = None
builtins.len = lambda x: 0
builtins.LEFT_BEHIND = "global"
sys.modules["sklearn"] = "forged"
os.environ["LEFT_BEHIND"] = "1"
for place in ("/tmp/left_behind", "/tmp/submission/left_behind", "/tmp/home/left_behind"):
    open(place, "w").write("x")
os.chdir("/tmp/home")
'''

INSPECT = r'''
import builtins, json, os, sys
import numpy as np
import torch
import autograder.probe as probe
import autograder.normalization as checks
state = {
    "np.mean": float(np.mean(np.array([1.0, 3.0]))),
    "np.random": float(np.random.get_state()[1][5]),
    "precision": np.get_printoptions()["precision"],
    "torch.sum": float(torch.ones(3).sum()),
    "torch.dtype": str(torch.get_default_dtype()),
    "encode": probe.encode.__module__,
    "check": callable(checks.check_min_max_scale),
    "len": len([1, 2]),
    "global": hasattr(builtins, "LEFT_BEHIND"),
    "sklearn": repr(sys.modules.get("sklearn"))[:30],
    "environ": os.environ.get("LEFT_BEHIND"),
    "files": sorted(os.listdir("/tmp")) + sorted(os.listdir("/tmp/submission")) + sorted(os.listdir("/tmp/home")),
    "cwd": os.getcwd(),
    "caps": [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0],
}
print(json.dumps(state))
'''

# Where the course itself lives under /tmp (a CI checkout), its read-only binds are in every job's /tmp too.
KEPT = sorted({path.relative_to("/tmp").parts[0] for path in sandbox.bound_paths() if Path("/tmp") in path.parents})
PRISTINE = {"np.mean": 2.0, "precision": 8, "torch.sum": 3.0, "torch.dtype": "torch.float32",
            "encode": "autograder.probe", "check": True, "len": 2, "global": False, "environ": None,
            "files": sorted(["home", "submission", *KEPT]), "cwd": "/tmp/submission", "caps": "0000000000000000"}


def _job(*sources: str) -> dict:
    # below_audit_hook: these jobs play a notebook that already runs arbitrary code (ctypes), to test the layers
    # under grader/audit.py (tests/grading/test_audit_hook.py tests the hook itself)
    return {"nonce": secrets.token_hex(8), "files": {}, "below_audit_hook": True,
            "cells": [{"i": i, "source": s} for i, s in enumerate(sources)]}


def _inspect(warm: sandbox.WarmSandbox) -> dict:
    run = warm.run(_job(INSPECT), 1)
    assert run.done and not run.failure, (run.failure, run.detail)
    (output,) = run.cells[0]["outputs"]
    assert output["output_type"] == "stream", output
    return json.loads(output["text"])


@pytest.fixture(scope="module")
def warm():
    require_bwrap()
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=30), HIDDEN, ("numpy", "torch")) as warm:
        yield warm


def test_a_job_that_spoils_everything_changes_nothing_for_the_next(warm):
    first = _inspect(warm)
    for key, value in PRISTINE.items():
        assert first[key] == value, key
    spoiled = warm.run(_job(SPOIL, INSPECT), 2)
    assert spoiled.done and not spoiled.failure, spoiled.detail
    inside = json.loads(spoiled.cells[1]["outputs"][0]["text"])
    assert inside["np.mean"] == 0.0 and inside["len"] == 0 and inside["environ"] == "1"  # the spoiling worked there
    after = _inspect(warm)
    # nothing of it reached the next job; its random state is fresh, neither the spoiler's seed(123) nor a copy
    assert {k: v for k, v in after.items() if k != "np.random"} == {k: v for k, v in first.items() if k != "np.random"}
    import numpy as np
    assert after["np.random"] not in (first["np.random"], float(np.random.RandomState(123).get_state()[1][5]))
    assert warm.starts == 1 and warm.jobs >= 3  # all in one warm interpreter: the fork is what isolates


def test_a_job_that_kills_the_warm_interpreter_only_fails_itself(warm):
    killer = warm.run(_job("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nimport time\ntime.sleep(5)"), 1)
    assert killer.failure == "died"
    starts = warm.starts
    assert _inspect(warm)["np.mean"] == 2.0 and warm.starts == starts + 1  # the next job got a fresh one


def test_a_job_cannot_reach_the_warm_interpreter_or_start_processes(warm):
    attempts = r'''
import ctypes, os
results = {}
parent = os.getppid()
for name, path in (("mem", f"/proc/{parent}/mem"), ("root", f"/proc/{parent}/root/tmp"), ("environ", f"/proc/{parent}/environ")):
    try:
        (open(path, "rb").read(1) if name != "root" else os.listdir(path))
        results[name] = "read"
    except OSError as error:
        results[name] = error.errno
for name, call in (("fork", os.fork),):
    try:
        pid = call()
        if pid == 0:
            os._exit(0)
        results[name] = "started"
    except OSError as error:
        results[name] = error.errno
libc = ctypes.CDLL(None, use_errno=True)
results["umount"] = (libc.umount2(b"/tmp", 2), ctypes.get_errno())
results["unshare"] = (libc.unshare(0x00020000), ctypes.get_errno())
results["tasks"] = len(os.listdir("/proc/self/task"))
print(results)
'''
    run = warm.run(_job(attempts), 1)
    assert run.done, run.detail
    results = eval(run.cells[0]["outputs"][0]["text"])  # noqa: S307 - our own dict, printed in the sandbox
    # its parent is outside its pid namespace (getppid() is 0) and its /proc shows itself alone: nothing to open
    assert results["mem"] == 2 and results["root"] == 2 and results["environ"] == 2  # ENOENT
    assert results["fork"] == 1  # EPERM: the seccomp filter
    assert results["umount"] == (-1, 1) and results["unshare"] == (-1, 1)  # no capability left
    assert results["tasks"] == 1  # the fork holds one thread: none of the warm interpreter's leaked into it


def test_timeouts_and_floods_end_the_sandbox_and_the_next_job_runs(warm):
    limits = sandbox.Limits(cell_timeout=2)
    with sandbox.WarmSandbox(limits, HIDDEN, ("numpy",)) as quick:
        slow = quick.run(_job("x = 1", "import time\ntime.sleep(60)"), 2)
        assert slow.failure == "timeout" and slow.failed_cell == 1
        started = time.monotonic()
        again = quick.run(_job("print('next')"), 1)
        assert again.done and again.cells[0]["outputs"][0]["text"] == "next\n"
        assert quick.starts == 2 and time.monotonic() - started < 30


def test_warm_jobs_are_much_faster_than_starting_python(warm):
    """The point of it all: after the first job, a job costs a fork, not an interpreter and its imports."""
    _inspect(warm)
    started = time.monotonic()
    for _ in range(5):
        run = warm.run(_job("import numpy as np\nprint(np.arange(3).sum())"), 1)
        assert run.done
    per_job = (time.monotonic() - started) / 5
    assert per_job < 0.5, per_job  # a cold sandbox importing torch takes 2 s and more on this machine
    assert run.cpu is not None and run.cpu < 0.5


def test_a_backward_with_a_gradient_imports_nothing_in_the_job(warm):
    """torch's first ``backward(gradient)`` imports SymPy (~0.9 s): the warm interpreter has paid it for every job."""
    source = ("import sys, torch\nbefore = 'sympy' in sys.modules\n"
              "x = torch.ones(3, requires_grad=True)\n(x * 2).backward(torch.ones(3))\n"
              "print(before, 'sympy' in sys.modules, x.grad.tolist())")
    run = warm.run(_job(source), 1)
    assert run.done and not run.failure, run.detail
    assert run.cells[0]["outputs"][0]["text"] == "True True [2.0, 2.0, 2.0]\n"
    assert run.cpu is not None and run.cpu < 0.5, run.cpu
