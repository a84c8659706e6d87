"""The warm interpreter inside a grading sandbox: ``python -m grader.zygote``.

Starting Python and importing NumPy, IPython and torch costs a grading
sandbox far more than the learner's code does. This process pays for that
once: started inside bubblewrap (``sandbox.WarmSandbox``) with the exercise's
libraries, it imports them, the checks and an IPython shell, runs forward and
backward passes through torch (whose first ``backward`` imports more, SymPy
included), and then waits for jobs. For each job it forks a child, and only
the child ever sees the job. Each child is its own trust domain (see
``sandbox.py`` for the whole boundary); before any of the learner's code runs, it

- runs in a pid namespace where nothing else lives but a placeholder init
  that holds nothing (``jobs_pid_namespace``: jobs run one after the other,
  and a job can start no process and its threads end with it), with a
  ``/proc`` of its own that shows itself alone (``own_proc``): it can neither
  see nor signal any other process (not bubblewrap's pid 1, not this process,
  no earlier or later job), so there is no ``/proc/N/fd`` or ``/proc/N/root``
  of anyone; it dies if this process dies (``PDEATHSIG``), and every process
  of the sandbox dies with bubblewrap;
- keeps only its own channel (a pipe the worker made for this job alone and
  passed with the job) and ``/dev/null``: every other descriptor (the job
  socket, the control pipe, anything inherited) is closed, so it can neither
  read the next job nor speak in this process's name;
- enters its own mount and IPC namespaces and mounts a fresh, size-capped
  ``/tmp`` (its only writable place: the files it leaves die with it), which
  holds its submission's files and is ``noexec`` (no shared library of the
  submission's or the notebook's can be loaded), and makes ``/dev``
  read-only and ``noexec`` (``private_tmp``);
- sets its resource limits (address space ``--memory``, file size, open files,
  no core, CPU seconds for the whole job, at most ``MAX_TASKS`` threads by
  ``RLIMIT_NPROC``: the kernel applies that limit only where the grader does
  not run as root; the sandbox's ``pids`` cgroup, where the worker could make
  one, bounds them for everyone; else each thread's stack counts against
  ``--memory``);
- drops every capability (bounding, ambient, effective, permitted), sets
  ``no_new_privs`` and loads the seccomp filter (``seccomp.py``: no new
  processes, no ``ptrace``, no keyrings, no ``memfd_create``, no System V
  shared memory);
- reseeds Python's, NumPy's and torch's random generators from the system,
  as a new interpreter would (a fork inherits the warm one's state);

then runs the job exactly as a cold sandbox does (``runner.run_job``) and
leaves with ``os._exit``. Nothing the child does reaches this process: the
fork gives it a copy of this memory (a monkeypatched NumPy, a changed global
or a replaced check is the child's alone), this process is not dumpable and
outside the child's pid namespace, and the next job gets a fresh copy of the
pristine state.

Messages: the child writes the runner's messages on its own channel; this
process writes its own on the control pipe (fd ``AUTOGRADER_CONTROL_FD``),
which no child holds: ``{"t": "warm"}`` once imported, then ``{"t": "exit",
"job": ID, "status": ..., "vm_peak": ...}`` after each child has been reaped,
``ID`` being the number the worker gave the job and ``vm_peak`` the child's
peak address space as this process saw it (``wait_job``: whether the job
reached its memory limit is this observation, never the job's word). Jobs arrive on the job socket (fd ``AUTOGRADER_JOBS_FD``): a header
(``struct "<QQQ"``: payload length, job id, CPU seconds allowed) that carries
the job's channel as ``SCM_RIGHTS``, then that many bytes of JSON; end of
input ends this process.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID = 0x00020000, 0x08000000, 0x20000000
PR_SET_PDEATHSIG = 1
HEADER = struct.Struct("<QQQ")  # payload length, job id, CPU seconds
MAX_TASKS = 400                 # threads (and the process itself) per job (RLIMIT_NPROC)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_MOVE = 1, 2, 4, 8, 32, 4096, 8192
MS_REC, MS_PRIVATE = 16384, 1 << 18
PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 4, 24, 22, 38, 47
PR_CAP_AMBIENT_CLEAR_ALL, SECCOMP_MODE_FILTER = 4, 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]


def _ok(result: int, what: str) -> None:
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


def _prctl(option: int, arg: int = 0) -> int:
    return _libc.prctl(option, arg, 0, 0, 0)


def private_tmp(size: int, keep: list[str]) -> None:
    """A mount namespace of the child's own, with an empty ``/tmp`` of ``size`` bytes, not executable.

    The new ``/tmp`` is the job's only writable place and where its submission's files are
    (``runner.WORKDIR``): it is ``noexec``, so that no shared library shipped with the submission or
    written by the notebook can be loaded (an extension module's import raises no audit event: native
    code would run beneath ``grader/audit.py``). ``/dev`` is remounted read-only and ``noexec`` in the
    job's namespace too (bubblewrap's ``--remount-ro`` has made it read-only for the whole sandbox
    already); its device nodes are mounts of their own and stay usable.

    ``keep``: folders under ``/tmp`` that the sandbox binds read-only (the Python installation, the
    virtual environment and the course's packages, when the course itself lives under ``/tmp``, as a
    CI checkout may): they are bound again, read-only but executable, into the new ``/tmp`` before it
    replaces the old.
    """
    _ok(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    _ok(_libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    _ok(_libc.mount(None, b"/dev", None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, None),
        "read-only /dev")
    staging = "/tmp/.job-tmp"
    os.makedirs(staging, exist_ok=True)
    _ok(_libc.mount(b"tmpfs", staging.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    f"size={size},mode=1777".encode()), "mount /tmp")
    kept: list[str] = []
    for path in sorted(keep, key=len):
        if any(path.startswith(outer + "/") for outer in kept):
            continue  # inside a folder bound already (the bind is recursive)
        kept.append(path)
        target = staging + path[len("/tmp"):]
        os.makedirs(target, exist_ok=True)
        _ok(_libc.mount(path.encode(), target.encode(), None, MS_BIND | MS_REC, None), f"bind {path}")
        _ok(_libc.mount(None, target.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None),
            f"read-only {path}")
    _ok(_libc.mount(staging.encode(), b"/tmp", None, MS_MOVE, None), "move the new /tmp into place")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_privileges() -> None:
    """No capabilities, no way to gain any, and the seccomp filter: what a cold sandbox's runner has."""
    from grader import seccomp

    for cap in range(64):
        if _prctl(PR_CAPBSET_DROP, cap) != 0 and ctypes.get_errno() != 22:  # EINVAL: past the last capability
            _ok(-1, f"drop capability {cap}")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header, data = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    _ok(_libc.capset(ctypes.byref(header), data), "capset")
    _ok(_prctl(PR_SET_NO_NEW_PRIVS, 1), "no_new_privs")
    program = seccomp.program()
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _ok(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0), "seccomp")
    with open("/proc/self/status") as status:
        effective = [line.split()[1] for line in status if line.startswith("CapEff:")]
    if effective != ["0000000000000000"]:
        raise RuntimeError(f"capabilities left after dropping them: {effective}")


def warm_up(libraries: list[str]) -> tuple:
    """Import what every job of these libraries needs; return the shell and sink the children inherit."""
    from grader import runner

    runner.warm_up(libraries)
    if "torch" in sys.modules:  # the first backward() imports more (autograd's engine): pay it here
        torch = sys.modules["torch"]
        layer = torch.nn.Linear(3, 2)
        torch.nn.functional.cross_entropy(layer(torch.ones(4, 3)), torch.zeros(4, dtype=torch.long)).backward()
        # backward(gradient) imports sympy (through torch.fx's symbolic shapes: ~0.9 s) the first time, and the
        # checks drive it under the mode that notes torch functions (probe.learner_code)
        from autograder.probe import _noting_mode

        with _noting_mode()(set()):
            out = layer(torch.ones(4, 3, requires_grad=True))
            out.backward(torch.ones_like(out))
    from autograder.forbidden import RULES

    for rules in RULES.values():  # every chapter's checks whose libraries this sandbox holds
        if set(rules.libraries) <= set(libraries) | {"numpy"}:
            try:
                __import__(rules.checks)
            except ImportError:
                pass
    return runner._new_shell()


def fresh_randomness() -> None:
    """Every fork starts with the warm interpreter's random state: reseed from the system, as a new Python is."""
    import random

    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def own_proc() -> None:
    """A ``/proc`` that shows this process alone: ``self`` (bound from the sandbox's ``/proc``), ``cpuinfo``, ``meminfo``.

    A fresh ``proc`` mount for the job's own pid namespace would be the usual way, but the kernel refuses
    it here (bubblewrap started as root makes its ``/proc`` in the first user namespace, and the
    sandbox's binds over ``/proc/sys`` make it not "fully visible"); so the job's ``/proc`` is a small
    read-only tmpfs holding only what concerns it: no ``/proc/1`` (bubblewrap), no warm interpreter.
    """
    outer = os.readlink("/proc/self")  # this process's pid in the sandbox's namespace
    staging = "/tmp/.job-proc"
    os.makedirs(staging, exist_ok=True)
    _ok(_libc.mount(b"tmpfs", staging.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=65536,mode=555"),
        "mount the job's /proc")
    os.makedirs(f"{staging}/self")
    _ok(_libc.mount(f"/proc/{outer}".encode(), f"{staging}/self".encode(), None, MS_BIND | MS_REC, None), "bind self")
    for name in ("cpuinfo", "meminfo"):
        open(f"{staging}/{name}", "w").close()
        _ok(_libc.mount(f"/proc/{name}".encode(), f"{staging}/{name}".encode(), None, MS_BIND, None), f"bind {name}")
    os.symlink("self", f"{staging}/thread-self")
    _ok(_libc.mount(None, staging.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    None),
        "read-only /proc")
    _ok(_libc.mount(staging.encode(), b"/proc", None, MS_MOVE, None), "move the job's /proc into place")
    os.rmdir(staging)


def job_limits(cpu_seconds: int) -> None:
    """The limits ``runner.apply_limits`` does not set: CPU seconds for the whole job, threads."""
    import resource

    # soft = hard: at the limit the kernel sends SIGKILL, which reaches even a pid 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_NPROC, (MAX_TASKS, MAX_TASKS))


def only_fds(keep: set[int]) -> None:
    """Close every descriptor but ``keep`` (0, 1 and 2 become ``/dev/null`` unless kept)."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        if fd not in keep:
            os.dup2(null, fd)
    keep = keep | {0, 1, 2}
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the folder's own descriptor, closed already


def jobs_pid_namespace() -> int:
    """Make the pid namespace every job of this sandbox is forked into; returns the pid of its placeholder init.

    Called before the imports (the init is a fork of a small interpreter). The namespace's pid 1 is a
    process that holds nothing (no descriptor, not dumpable) and only waits; each job then gets the next
    pid in it and, as a job runs only after the previous one has ended (no new processes, threads end
    with their process), it is alone there with that init. The job is not the namespace's init itself,
    so that it dies of the signals it sends itself, as in Jupyter (a pid 1 ignores them). If the init
    dies, no job can be forked and the worker starts a fresh sandbox.
    """
    _ok(_libc.unshare(CLONE_NEWPID), "unshare pid")
    pid = os.fork()
    if pid == 0:
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            _prctl(PR_SET_DUMPABLE, 0)
            os.closerange(0, 1 << 16)
            for number in signal.valid_signals():  # Python's own SIGINT handler would let a job end it
                if number not in (signal.SIGKILL, signal.SIGSTOP):
                    try:
                        signal.signal(number, signal.SIG_IGN)
                    except (OSError, ValueError):
                        pass
            while True:
                signal.pause()
        finally:
            os._exit(0)
    return pid


def child(payload: bytes, channel_fd: int, cpu_seconds: int, settings: dict, shell_and_sink) -> None:
    """Runs in the job's process, in the jobs' pid namespace: enter its own sandbox, then run it; never returns."""
    from grader import runner

    started = time.perf_counter()
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # (its parent is outside its pid namespace: no getppid check)
        only_fds({2, channel_fd})  # stderr until the sandbox is set up: its failures are the grader's to read
        private_tmp(settings["tmp_size"], settings.get("keep", []))
        own_proc()
        job = json.loads(payload)
        runner.prepare(job)
        fresh_randomness()
        runner.apply_limits(settings["limits"])
        job_limits(cpu_seconds)
        drop_privileges()
        only_fds({channel_fd})
    except BaseException as error:  # noqa: BLE001 - no job runs outside its sandbox
        os.write(2, f"sandbox setup failed: {type(error).__name__}: {error}\n".encode())
        os._exit(70)
    runner.run_job(job, channel_fd, shell_and_sink, started=started)
    os._exit(0)


PEAK_EVERY = 0.02  # seconds between two looks at a running job's peak address space


def vm_peak(pid: int) -> int:
    """The peak address space (``VmPeak``, bytes) of a process so far; 0 once it has ended."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmPeak:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def wait_job(pid: int) -> tuple[int, int]:
    """Wait for the job's end; returns its wait status and the peak address space seen from here, in bytes.

    The peak is this process's own observation (the kernel's ``VmPeak`` of the child, read every
    ``PEAK_EVERY`` seconds while it runs), not the job's word: the worker calls a cell's ``MemoryError``
    a memory limit only where this peak reached the job's address-space limit (``sandbox.Limits``), so a
    notebook that raises ``MemoryError`` itself cannot give its row that status. A peak reached in the
    job's last ``PEAK_EVERY`` seconds may go unseen (the row keeps ``graded``; its tests fail as they do).
    """
    import select

    peak = 0
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # (Linux before 5.3: look, then ask without waiting)
        handle = None
    try:
        while True:
            peak = max(peak, vm_peak(pid))
            if handle is not None:
                if select.select([handle], [], [], PEAK_EVERY)[0]:
                    break
                continue
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status, peak
            time.sleep(PEAK_EVERY)
    finally:
        if handle is not None:
            os.close(handle)
    _, status = os.waitpid(pid, 0)
    return status, peak


def receive(jobs: socket.socket) -> tuple[bytes, int, int, int] | None:
    """The next job: (payload, job id, CPU seconds, its channel's descriptor); None at the end of input."""
    header, fds, _, _ = socket.recv_fds(jobs, HEADER.size, 4)
    while header and len(header) < HEADER.size:
        more = jobs.recv(HEADER.size - len(header))
        if not more:
            break
        header += more
    if len(header) < HEADER.size or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        return None
    size, job_id, cpu_seconds = HEADER.unpack(header)
    chunks, left = [], size
    while left:
        chunk = jobs.recv(min(left, 1 << 20))
        if not chunk:
            os.close(fds[0])
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks), job_id, cpu_seconds, fds[0]


def main() -> int:
    started = time.perf_counter()
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # ends with bubblewrap's own process
    settings = json.loads(os.environ.pop("AUTOGRADER_WARM"))
    control_fd = int(os.environ.pop("AUTOGRADER_CONTROL_FD"))
    control = os.fdopen(control_fd, "wb", buffering=0, closefd=False)
    jobs = socket.socket(fileno=int(os.environ.pop("AUTOGRADER_JOBS_FD")))

    def tell(message: dict) -> None:
        control.write(("\n" + json.dumps(message) + "\n").encode())

    jobs_pid_namespace()  # (before the imports: its init is a small fork)
    shell_and_sink = warm_up(settings["preimport"])
    _ok(_prctl(PR_SET_DUMPABLE, 0), "not dumpable")
    tell({"t": "warm", "setup_s": round(time.perf_counter() - started, 3), "cpu_s": round(time.process_time(), 3)})
    while True:
        job = receive(jobs)
        if job is None:
            return 0
        payload, job_id, cpu_seconds, channel_fd = job
        pid = os.fork()
        if pid == 0:
            child(payload, channel_fd, cpu_seconds, settings, shell_and_sink)
        os.close(channel_fd)  # the child holds the only writer: its end of input is the job's end
        status, peak = wait_job(pid)
        usage = os.times()
        tell({"t": "exit", "job": job_id, "status": status, "vm_peak": peak,
              "children_cpu_s": round(usage.children_user + usage.children_system, 3)})


if __name__ == "__main__":
    sys.exit(main())
