"""One submission, one trust domain: what a job tries against the warm sandbox, and what it gets.

Each test runs a job that attacks the boundary drawn in ``grader/sandbox.py``
(other processes, descriptors, files and keys of other jobs, the channel's
protocol, time, memory, threads, CPU) and checks both sides: the attack fails
or ends its own job, and the next job in the same worker grades as if nothing
had happened.
"""
from __future__ import annotations

import ast
import base64
import json
import os
import resource
import secrets
from pathlib import Path

import pytest

from grader import sandbox
from tests.grading.grade_helpers import require_bwrap

pytestmark = pytest.mark.slow  # starts bubblewrap sandboxes

HIDDEN = [sandbox.REPO]


def _job(*sources: str, nonce: str | None = None) -> dict:
    # below_audit_hook: these jobs play a notebook that already runs arbitrary code (ctypes, raw syscalls), to
    # test the layers under grader/audit.py (tests/grading/test_audit_hook.py tests that hook itself)
    return {"nonce": nonce or secrets.token_hex(8), "files": {}, "below_audit_hook": True,
            "cells": [{"i": i, "source": s} for i, s in enumerate(sources)]}


def _printed(run: sandbox.RunResult, cell: int = 0):
    assert run.done and not run.failure, (run.failure, run.detail)
    return ast.literal_eval(run.cells[cell]["outputs"][0]["text"])


def _still_grades(warm: sandbox.WarmSandbox) -> None:
    """The next job in the same worker runs and reports right."""
    run = warm.run(_job("import numpy as np\nprint(int(np.arange(4).sum()))"), 1)
    assert run.done and not run.failure, (run.failure, run.detail)
    assert run.cells[0]["outputs"][0]["text"] == "6\n"


@pytest.fixture(scope="module")
def warm():
    require_bwrap()
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=20), HIDDEN, ("numpy",)) as warm:
        yield warm


# A job that finds its channel the way a notebook would: the one descriptor besides 0, 1 and 2.
FIND_CHANNEL = "import os\nchannel = max(int(fd) for fd in os.listdir('/proc/self/fd') if int(fd) > 2 and os.path.exists(f'/proc/self/fd/{fd}'))\n"


def test_a_job_sees_no_other_process(warm):
    source = r'''
import os, signal
seen = {"pid": os.getpid(), "ppid": os.getppid(), "proc": sorted(n for n in os.listdir("/proc") if n.isdigit())}
for name, path in (("fd1", "/proc/1/fd"), ("root1", "/proc/1/root/tmp"), ("fd2", "/proc/2/fd")):
    try:
        seen[name] = os.listdir(path)
    except OSError as error:
        seen[name] = error.errno
for pid in (3, 10, 100):
    try:
        os.kill(pid, 0)
        seen[f"kill{pid}"] = "alive"
    except OSError as error:
        seen[f"kill{pid}"] = error.errno
print(seen)
'''
    seen = _printed(warm.run(_job(source), 1))
    # in the jobs' namespace, where only a placeholder init (pid 1) lives; its parent (the zygote) is outside
    assert seen["pid"] >= 2 and seen["ppid"] == 0
    assert seen["proc"] == []  # its /proc shows no process by number (only "self")
    assert seen["fd1"] == 2 and seen["root1"] == 2 and seen["fd2"] == 2  # ENOENT: no bwrap, no zygote
    assert seen["kill3"] == seen["kill10"] == seen["kill100"] == 3  # ESRCH: nobody else to signal
    _still_grades(warm)


def test_the_namespace_init_cannot_be_harmed_and_a_job_dies_of_its_own_signals(warm):
    """Killing pid 1 of the jobs' namespace does nothing (an init ignores it); a job's own SIGTERM ends the job."""
    source = ("import os, signal\nos.kill(1, signal.SIGKILL)\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
              "except ProcessLookupError:\n    print('nobody else')\nprint('alive')")
    run = warm.run(_job(source), 1)
    assert run.done and run.cells[0]["outputs"][0]["text"] == "nobody else\nalive\n", run.cells
    _still_grades(warm)
    run = warm.run(_job("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\nimport time\ntime.sleep(5)", "x = 1"), 2)
    assert run.failure == "died" and run.failed_cell == 0 and "SIGTERM" in run.detail, (run.failure, run.detail)
    _still_grades(warm)


def test_a_job_holds_no_descriptor_but_its_channel(warm):
    source = r'''
import os
fds = {}
for fd in os.listdir("/proc/self/fd"):
    try:
        fds[int(fd)] = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        pass
print(fds)
'''
    fds = _printed(warm.run(_job(source), 1))
    assert all(fds[fd] == "/dev/null" for fd in (0, 1, 2))
    others = {fd: target for fd, target in fds.items() if fd > 2}
    pipes = [target for target in others.values() if target.startswith("pipe:")]
    assert len(pipes) == 1, others  # the channel alone (the rest: the listing's own folder)
    assert not [t for t in others.values() if t.startswith("socket:")]  # no job socket


def test_files_and_keys_of_one_job_are_not_the_next_jobs(warm):
    leave = r'''
import ctypes, os
open("/tmp/mark", "w").write("x")
libc = ctypes.CDLL(None, use_errno=True)
key = libc.syscall(248, b"user", b"mark", b"secret", 6, -3)  # add_key to the session keyring
print({"add_key": (key, ctypes.get_errno()), "keyctl": (libc.syscall(250, 0, -3, 0), ctypes.get_errno())})
'''
    left = _printed(warm.run(_job(leave), 1))
    assert left == {"add_key": (-1, 1), "keyctl": (-1, 1)}  # EPERM: the seccomp filter
    look = r'''
import os
places = ["/tmp/mark", "/proc/1/root/tmp/mark", "/tmp/home/mark", "/dev/shm/mark"]
print({place: os.path.exists(place) for place in places})
'''
    assert not any(_printed(warm.run(_job(look), 1)).values())


def test_shared_and_anonymous_file_memory_is_refused(warm):
    source = r'''
import ctypes, os
result = {}
try:
    fd = os.memfd_create("big")
    os.ftruncate(fd, 3 * 1024 ** 3)
    result["memfd"] = "made"
except OSError as error:
    result["memfd"] = error.errno
try:
    open("/dev/shm/big", "wb").write(b"x")
    result["shm"] = "written"
except OSError as error:
    result["shm"] = error.errno
libc = ctypes.CDLL(None, use_errno=True)
result["shmget"] = (libc.shmget(0, 1 << 30, 0o1600), ctypes.get_errno())
result["msgget"] = (libc.msgget(0, 0o1600), ctypes.get_errno())
result["io_uring"] = (libc.syscall(425, 8, ctypes.create_string_buffer(120)), ctypes.get_errno())
print(result)
'''
    result = _printed(warm.run(_job(source), 1))
    assert result["memfd"] == 1 and result["shmget"] == result["msgget"] == result["io_uring"] == (-1, 1)  # EPERM
    assert result["shm"] == 30  # EROFS: /dev/shm is an empty read-only tmpfs
    _still_grades(warm)


@pytest.mark.parametrize("stack", [0, 64 * 1024])
def test_threads_are_bounded(warm, stack):
    if stack and warm._cgroup is None and os.geteuid() == 0:
        pytest.skip("no pids cgroup here and RLIMIT_NPROC does not bind root: only the address space bounds threads")
    source = f"import threading\nthreading.stack_size({stack})\n" + r'''
import time
stop = threading.Event()
started = 0
try:
    for _ in range(3000):
        threading.Thread(target=stop.wait, daemon=True).start()
        started += 1
except (RuntimeError, MemoryError):
    pass
stop.set()
print({"started": started})
'''
    started = _printed(warm.run(_job(source), 1))["started"]
    # the sandbox's pids cgroup, RLIMIT_NPROC (where the grader is not root), or with 8 MiB stacks the address space
    assert started < 600, started
    _still_grades(warm)


def test_a_job_has_a_cpu_time_cap(warm):
    source = "import resource\nprint(resource.getrlimit(resource.RLIMIT_CPU))"
    soft, hard = _printed(warm.run(_job(source, "x = 1"), 2))
    assert soft == hard == int(sandbox.READY_SECONDS + 20 * 2) + 1


def test_cpu_past_the_cap_ends_the_job(monkeypatch):
    require_bwrap()
    monkeypatch.setattr(sandbox, "READY_SECONDS", 1.0)
    # threads hashing in C (no GIL) spend CPU faster than the wall clock: the CPU cap ends it first
    source = r'''
import hashlib, threading
data = b"x" * (64 << 20)
def burn():
    while True:
        hashlib.sha256(data).digest()
for _ in range(6):
    threading.Thread(target=burn, daemon=True).start()
burn()
'''
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=8), HIDDEN, ("numpy",)) as quick:
        run = quick.run(_job(source), 1)
        # the CPU cap (10 s) or, on a machine whose cores are busy, the wall clock (9 s) ends it first
        assert run.failure == "timeout" and not run.done and run.wall < 20
        _still_grades(quick)


def test_forged_cell_done_does_not_extend_a_cell():
    require_bwrap()
    nonce = secrets.token_hex(8)
    forge = FIND_CHANNEL + (
        "import json, time\n"
        f"os.write(channel, (json.dumps({{'t': 'cell', 'i': 0, 'n': {nonce!r}, 'outputs': []}}) + '\\n').encode())\n"
        "time.sleep(30)\n")
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=3), HIDDEN, ("numpy",)) as quick:
        run = quick.run(_job(forge, "x = 1", nonce=nonce), 2)
        assert run.failure in ("timeout", "tampering") and not run.done
        assert run.wall < 15, run.wall  # the cell's own limit held, the forged message bought nothing
        _still_grades(quick)


@pytest.mark.parametrize("what, line, failure", [
    ("deep", "'[' * 200_000 + ']' * 200_000", "tampering"),
    ("invalid UTF-8", "b'\\xff\\xfe{}'", "tampering"),
    ("forged exit", "json.dumps({'t': 'exit', 'job': 1, 'status': 0})", "tampering"),
    ("no newline, 100 MB", "b'[' * 100_000_000", "output"),
])
def test_a_broken_channel_ends_its_job_and_the_next_grades(warm, what, line, failure):
    source = FIND_CHANNEL + (
        f"import json\nline = {line}\nline = line if isinstance(line, bytes) else line.encode()\n"
        "view = memoryview(line + (b'\\n' if len(line) < 1_000_000 else b''))\n"
        "while view:\n    view = view[os.write(channel, view):]\n")
    run = warm.run(_job(source, "x = 1"), 2)
    assert run.failure == failure, (what, run.failure, run.detail)
    assert not run.probes and not run.done
    _still_grades(warm)


def test_forged_probe_out_of_order_is_tampering(warm):
    nonce = secrets.token_hex(8)
    forge = FIND_CHANNEL + (
        "import json\n"
        f"os.write(channel, (json.dumps({{'t': 'probe', 'i': 1, 'k': 0, 'n': {nonce!r}, 'record': 1}}) + '\\n').encode())\n")
    job = _job(forge, nonce=nonce)
    job["cells"].append({"i": 1, "probes": []})
    run = warm.run(job, 2)
    assert run.failure == "tampering" and not run.probes
    _still_grades(warm)


def test_nesting_depth_counts_brackets_outside_strings_only():
    assert sandbox.nesting_depth(b"[" * 100 + b"]" * 100) == 100
    assert sandbox.nesting_depth(json.dumps({"a": "[" * 500}).encode()) <= 1
    assert sandbox.nesting_depth(json.dumps(["\\", [[[["x"]]]]]).encode()) <= 5
    escaped = json.dumps(["\\\"" + "[" * 80, [[1]]]).encode()
    assert sandbox.nesting_depth(escaped) == 3
    assert sandbox.parse_message(b"[" * 200_000 + b"]" * 200_000) is None
    assert sandbox.parse_message(b'{"t": "ready"}') == {"t": "ready"}


def test_the_zygote_and_its_jobs_die_with_the_worker():
    """bwrap --die-with-parent, the zygote's and the job's PDEATHSIG: nothing of a sandbox outlives its worker."""
    require_bwrap()
    import subprocess
    import sys
    import time

    script = (
        "from grader import sandbox\nimport secrets, time\n"
        "warm = sandbox.WarmSandbox(sandbox.Limits(cell_timeout=60), [sandbox.REPO], ('numpy',))\n"
        "job = {'nonce': secrets.token_hex(8), 'files': {}, 'cells': [{'i': 0, 'source': 'import time; time.sleep(120)'}]}\n"
        "print(warm.run(job, 1))\n")
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=sandbox.REPO)
    deadline = time.monotonic() + 60
    found: list[int] = []
    while time.monotonic() < deadline and len(found) < 2:
        time.sleep(0.5)
        found = _descendants(worker.pid)
    assert len(found) >= 2, found  # bwrap and the zygote (and its job) are running
    os.kill(worker.pid, 9)
    worker.wait()
    time.sleep(3)
    alive = [pid for pid in found if os.path.exists(f"/proc/{pid}") and _state(pid) != "Z"]
    assert not alive, alive


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        here = todo.pop()
        try:
            children = open(f"/proc/{here}/task/{here}/children").read().split()
        except OSError:
            continue
        out += [int(c) for c in children]
        todo += [int(c) for c in children]
    return out


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_resource_limits_of_the_worker_are_untouched():
    """The job's limits are set in the job's process only (the worker's own stay as they were)."""
    assert resource.getrlimit(resource.RLIMIT_CPU)[0] == resource.RLIM_INFINITY


def test_nothing_outlives_a_killed_head(tmp_path):
    """``kill -9`` of ``python -m autograder grade`` mid-run: no worker, bubblewrap or warm interpreter is left."""
    require_bwrap()
    import time

    from tests.grading.grade_helpers import grade
    from tests.grading.submissions.common import folder_case, solution
    from tests.grading.submissions.normalization import A

    nb = solution(A)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "min_max_scale":
            text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = "import time\ntime.sleep(60)\n" + text
    submissions = tmp_path / "submitted"
    for student in ("slow-a", "slow-b", "slow-c"):
        folder_case(A, student, nb).write(submissions)
    head = grade(submissions, tmp_path / "out", "--workers", "2", "--timeout", "100", wait=False)
    try:
        deadline = time.monotonic() + 120
        found: list[int] = []
        while time.monotonic() < deadline:
            time.sleep(0.5)
            found = _descendants(head.pid)
            names = [_name(pid) for pid in found]
            if "bwrap" in names and names.count("python") + names.count("python3") >= 3:
                break  # the workers, and a sandbox's warm interpreter
        assert "bwrap" in [_name(pid) for pid in found], [_name(pid) for pid in found]
        found = _descendants(head.pid)
        os.kill(head.pid, 9)
        head.wait()
        time.sleep(5)
        alive = [(pid, _name(pid)) for pid in found if os.path.exists(f"/proc/{pid}") and _state(pid) not in ("Z", "gone")]
        assert not alive, alive
    finally:
        if head.poll() is None:
            head.kill()


def _name(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/comm").read().strip()
    except OSError:
        return "gone"


@pytest.mark.parametrize("memory", [512 * 1024 ** 2, 2 * 1024 ** 3, 3 * 1024 ** 3, 16 * 1024 ** 3])
def test_tmp_counts_against_memory(memory):
    """A job's /tmp is a tmpfs (memory): its size and the job's address space together stay within --memory."""
    limits = sandbox.Limits(memory=memory)
    assert limits.tmp_bytes + limits.address_space == memory
    assert 0 < limits.tmp_bytes <= min(limits.tmp_size, memory // 4)
    command = sandbox.bwrap_command(limits, [])
    sizes = [int(command[i + 1]) for i, part in enumerate(command) if part == "--size"
             and command[i + 3] == "/tmp"]
    assert sizes == [limits.tmp_bytes]
    env = dict(zip(command[command.index("--clearenv") + 2::3], command[command.index("--clearenv") + 3::3]))
    assert json.loads(env["AUTOGRADER_LIMITS"])[0] == limits.address_space


def test_a_notebooks_time_does_not_grow_with_padding_cells():
    """Thousands of slow cells before the tests cannot buy a notebook hours: its budget stops at BUDGETED_CELLS."""
    limits = sandbox.Limits(cell_timeout=10)
    assert sandbox.cells_budget_seconds(limits, 12) == 120
    assert sandbox.cells_budget_seconds(limits, 3000) == 10 * sandbox.BUDGETED_CELLS
    assert sandbox.cells_budget_seconds(limits, 0) == 10


# ---------------------------------------------------------------- the file system: write, execute, read

# Mounts a job may write to (files cannot be made in any of them but /tmp): its /tmp, the device nodes
# (mounts of their own), its pty folder and its own /proc entries.
WRITABLE_MOUNTS = {"/tmp", "/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty",
                   "/dev/pts", "/proc/self", "/proc/cpuinfo", "/proc/meminfo"}


def test_a_job_can_make_files_nowhere_but_its_tmp(warm):
    """Every mount a job sees is read-only but its capped /tmp and the device nodes: /dev (a tmpfs, uncapped
    and shared by the jobs of a sandbox) takes no file; /dev/null, /dev/zero and /dev/urandom still work."""
    source = r'''
import os
visible = {}
for line in open("/proc/self/mountinfo"):
    fields = line.split()
    visible[fields[4]] = fields[5].split(",")   # the last mount on a point is the one seen
seen = {"writable": sorted(p for p, o in visible.items() if "rw" in o), "made": [], "devices": {}}
for place in sorted(set(visible) | {"/", "/dev", "/dev/shm", "/var", "/etc", "/opt", "/run", "/home", "/tmp/home"}):
    if os.path.isdir(place):
        try:
            os.close(os.open(os.path.join(place, "made-by-a-job"), os.O_CREAT | os.O_WRONLY, 0o600))
            seen["made"].append(place)
        except OSError:
            pass
for name in ("null", "zero", "urandom"):
    with open(f"/dev/{name}", "r+b", buffering=0) as device:
        device.write(b"abc")
        seen["devices"][name] = len(device.read(8))
print(seen)
'''
    seen = _printed(warm.run(_job(source), 1))
    assert set(seen["writable"]) <= WRITABLE_MOUNTS, seen["writable"]
    assert seen["made"] == ["/tmp", "/tmp/home"], seen["made"]
    assert seen["devices"] == {"null": 0, "zero": 8, "urandom": 8}
    later = _printed(warm.run(_job("import os\nprint(sorted(os.listdir('/dev')))"), 1))
    assert "made-by-a-job" not in later
    _still_grades(warm)


def test_no_native_code_from_the_jobs_files(warm):
    """A shared library among the submission's files (in the job's /tmp) cannot be loaded: /tmp is noexec. An
    extension module's import raises no audit event, so this is what keeps native code out of the job. The
    same module loads from its installed place, and the course's folders bound under /tmp stay executable."""
    from tests.grading.submissions.sandbox_mounts import an_extension_module, load_extension

    extension = an_extension_module()
    if extension is None:
        pytest.skip("no compiled extension module to ship")
    name, path = extension
    job = _job(load_extension(name, path.name),
               f"import importlib.util\nimportlib.util.module_from_spec(importlib.util.spec_from_file_location("
               f"{name!r}, {str(path)!r}))\nprint('installed: loaded')",
               "print({l.split()[4]: 'noexec' in l.split()[5] for l in open('/proc/self/mountinfo') "
               "if l.split()[4].startswith('/tmp')})")
    job["files"] = {f"native/{path.name}": base64.b64encode(path.read_bytes()).decode()}
    run = warm.run(job, 3)
    assert run.done and not run.failure, (run.failure, run.detail)
    assert run.cells[0]["outputs"][0]["text"].startswith("native: refused"), run.cells[0]["outputs"]
    assert run.cells[1]["outputs"][0]["text"] == "installed: loaded\n", run.cells[1]["outputs"]
    noexec = ast.literal_eval(run.cells[2]["outputs"][0]["text"])
    assert noexec.pop("/tmp") is True
    assert not any(noexec.values()), noexec  # the read-only binds of the course under /tmp (a CI checkout)
    _still_grades(warm)


def test_a_job_reads_nothing_of_the_machine_but_the_system(warm):
    """/etc shows only what the interpreter and its libraries read (``sandbox.ETC_KEPT``); /var, /opt and /boot are
    empty; the top-level files (``/container_info.json``...) cannot be read; /bin and the like still work."""
    source = r'''
import os
seen = {"etc": sorted(os.listdir("/etc")), "files": {}}
for top in ("/var", "/opt", "/boot"):
    seen[top] = os.listdir(top) if os.path.isdir(top) else []
for name in os.listdir("/"):
    path = "/" + name
    if not os.path.isdir(path) and not os.path.islink(path):
        try:
            seen["files"][path] = len(open(path, "rb").read())
        except OSError as error:
            seen["files"][path] = error.errno
seen["bin"] = os.path.exists("/bin/sh")
print(seen)
'''
    seen = _printed(warm.run(_job(source), 1))
    assert set(seen["etc"]) <= set(sandbox.ETC_KEPT), seen["etc"]
    assert "ld.so.cache" in seen["etc"] or not os.path.exists("/etc/ld.so.cache")
    kept_under = {str(p.parents[len(p.parts) - 3]) for p in sandbox.bound_paths() if len(p.parts) > 2}
    for top in ("/var", "/opt", "/boot"):  # (but the folders of Python itself, where it lives there)
        assert all(f"{top}/{name}" in kept_under for name in seen[top]), (top, seen[top])
    assert all(v in (0, 13) for v in seen["files"].values()), seen["files"]  # nothing read (EACCES, or empty)
    assert seen["bin"] is True
    _still_grades(warm)


def test_a_memory_status_comes_from_the_worker_not_the_job(warm):
    """The warm interpreter watches the job's peak address space: a job that grew to its limit shows it
    (``RunResult.memory_limit``); one that raises MemoryError itself, or asks for far too much at once, does not."""
    grow = ("hog = []\ntry:\n    while True:\n        hog.append(bytearray(64 * 1024 ** 2))\n"
            "finally:\n    hog.clear()")
    runs = {what: warm.run(_job(source, "print(1)"), 2) for what, source in (
        ("grows", grow), ("raises", "raise MemoryError('made up')"), ("one-huge", "x = bytearray(1 << 40)"))}
    for what, run in runs.items():
        assert run.done and not run.failure, (what, run.failure, run.detail)
        assert run.cells[0]["memory"] is True  # the job's word: not what decides
        assert run.cells[1]["outputs"][0]["text"] == "1\n"  # the next cell has its memory back
        assert 0 < run.vm_peak <= warm.limits.address_space
    assert runs["grows"].memory_limit is True
    assert runs["raises"].memory_limit is False and runs["one-huge"].memory_limit is False


def test_the_course_bound_under_tmp_stays_executable(tmp_path, monkeypatch):
    """Where Python, the environment or the course live under /tmp (a CI checkout), the job's noexec /tmp
    binds them back read-only but executable: their extension modules still load."""
    import shutil

    from tests.grading.submissions.sandbox_mounts import an_extension_module

    require_bwrap()
    extension = an_extension_module()
    if extension is None:
        pytest.skip("no compiled extension module to load")
    name, path = extension
    assert Path("/tmp") in tmp_path.parents
    shutil.copy(path, tmp_path / path.name)
    everything = sandbox.bound_paths()
    monkeypatch.setattr(sandbox, "bound_paths", lambda: sorted(everything + [tmp_path], key=lambda p: len(p.parts)))
    source = (f"import importlib.util\nimportlib.util.module_from_spec(importlib.util.spec_from_file_location("
              f"{name!r}, {str(tmp_path / path.name)!r}))\nprint('kept: loaded')")
    with sandbox.WarmSandbox(sandbox.Limits(cell_timeout=20), HIDDEN, ("numpy",)) as warm:
        run = warm.run(_job(source), 1)
    assert run.done and not run.failure, (run.failure, run.detail)
    assert run.cells[0]["outputs"][0]["text"] == "kept: loaded\n", run.cells[0]["outputs"]
