"""The bubblewrap sandbox, kept warm by each worker, and the worker's side of its channels.

The sandbox (``bwrap``, Debian package ``bubblewrap``):

- sees the system read-only (``--ro-bind / /``), with empty tmpfs folders laid
  over ``/tmp``, ``/run``, ``/dev/shm`` and every top-level folder but the
  programs' and libraries' (``SYSTEM_TOP_LEVEL``: ``/usr`` and its links
  ``/bin``, ``/lib``..., ``/dev``, ``/proc``, ``/sys``): ``/etc``, ``/var``,
  ``/opt``, ``/boot``, home folders, the repository, the submissions, the
  output (``solutions/``, the gradebook, the feedback and other students'
  files are not there); every top-level file (``/container_info.json``...) is
  covered by ``/dev/null`` (not readable); then ``/etc``'s few entries that
  the interpreter and its libraries read (``ETC_KEPT``: the loader's cache,
  time zone, users and groups, fonts, certificates, MIME types; never
  ``/etc/shadow``), the Python installation, the virtual environment, the
  course's ``autograder`` package (the probes) and ``grader`` (the runner)
  are bound back, read-only. Only ``/tmp`` is writable, and it is
  size-capped; every other tmpfs is read-only, bubblewrap's ``/dev`` (a tmpfs
  of its own, uncapped and shared by the jobs of a sandbox) included: only
  its device nodes (``/dev/null``, ``/dev/zero``, ``/dev/urandom``...) take
  writes, so no writable mount grows outside ``--memory`` and no job leaves
  a file for the next;
- holds only the libraries its exercise needs (``forbidden.RULES``): the
  others (scikit-learn, SciPy, torch) are replaced by a package whose import
  fails with a message;
- has its own user, pid, network (no interfaces but loopback, down), IPC, UTS
  and cgroup namespaces, no further user namespaces, a new session, and dies
  with the grader (``--die-with-parent``); killing ``bwrap`` ends its pid
  namespace, so every process in it ends with it;
- runs a warm interpreter (``zygote.py``) that forks one child per notebook;
  before any learner code runs, the child gets its own pid namespace and
  ``/proc``, its own empty ``/tmp`` (``noexec``), a read-only ``noexec``
  ``/dev``, only its own channel, its limits (not
  raisable from inside), no capabilities and the seccomp filter
  (``seccomp.py``); output is capped by the runner and on the channel.

The boundary, job by job (one submission's notebook is one job, one trust domain):

- a job CAN reach: its own process and its threads, in a pid namespace that
  holds nothing else but a placeholder init (pid 1, which ignores signals: jobs
  run one after the other, so no two jobs ever share it); its own ``/tmp``
  (an empty tmpfs, ``Limits.tmp_bytes``, made for it, gone with it), holding
  its submission's files (``/tmp/submission``, its working folder), its only
  place to write, and mounted ``noexec``: nothing there can be run or mapped
  as code, so no shared library shipped with the submission or written by
  the notebook is ever loaded (an extension module's import raises no audit
  event: native code would run beneath ``grader/audit.py``); the device nodes
  ``/dev/null``, ``/dev/zero``, ``/dev/full``, ``/dev/random``,
  ``/dev/urandom``; the one pipe the worker made for this job (its channel),
  write-only; a ``/proc`` that shows itself alone (``self``, ``cpuinfo``,
  ``meminfo``);
- a job CAN read (nothing more): ``/usr`` (and ``/bin``, ``/lib``...: the
  operating system's programs, libraries, fonts and certificates), ``/sys``,
  ``/etc``'s ``ETC_KEPT`` entries, Python, the virtual environment (the
  exercise's libraries only) and the course's two packages, all read-only
  (binds of the Python installation, the environment or the course under
  ``/tmp``, as in a CI checkout, stay executable); its own ``/tmp`` and
  ``/proc``; ``/etc``, ``/var``, ``/opt``, ``/boot`` and every other
  top-level folder are empty, top-level files unreadable;
- a job CANNOT reach: any other process (bubblewrap's pid 1, the warm
  interpreter, earlier or later jobs: not in its pid namespace, so neither
  seen, signalled, traced nor read through ``/proc/N/fd`` or ``/proc/N/root``);
  the job socket and the control pipe (closed before any learner code runs);
  another job's channel, files or ``/tmp``; a file anywhere but its
  ``/tmp`` (``/dev``, ``/dev/shm``, ``/run``: read-only); the kernel's keyrings,
  ``memfd_create`` and System V shared memory (refused by seccomp); new
  processes, ``ptrace``, capabilities, mounts, new namespaces; the network;
  the repository, the submissions, the gradebook and the output folder (not
  in its mount namespace);
- bounded: memory ``--memory`` in all: the address space (threads' stacks
  included) and ``/tmp`` (a tmpfs, 256 MiB or a quarter of ``--memory``)
  together, the address space getting what ``/tmp`` does not; each file
  64 MiB, open
  files, CPU seconds of the whole job (``RLIMIT_CPU``: ``READY_SECONDS`` plus
  ``--timeout`` per cell), threads (a ``pids`` cgroup of ``MAX_TASKS`` per
  sandbox where the grader can make one; else ``RLIMIT_NPROC`` where the
  grader is not root; else only the address space), what it sends (64 MiB);
  whether it reached its memory limit is the warm interpreter's observation
  (the job's peak address space, ``zygote.wait_job``), never the job's
  word: a ``MemoryError`` the notebook raises gives no memory status;
- believed of what it says: nothing but data. The worker keeps the time
  itself (a fixed deadline for the whole job, at most ``--timeout`` from a
  cell's start or the previous cell's end, whatever the child writes), reads
  the channel by the runner's protocol in order (a line that is not JSON, not
  UTF-8, nested deeper than ``MAX_DEPTH``, without the job's nonce or out of
  order ends the job as tampering: no points, sandbox closed, the next job
  gets a fresh one), and decides every verdict outside the sandbox on the
  validated records (``autograder.probe.decode``). The warm interpreter's own
  messages (``exit``) come on the control pipe, which no job holds, and name
  the job they are about;
- lifetime: bubblewrap dies with the worker thread that started it
  (``--die-with-parent``), the warm interpreter and every job with bubblewrap
  (``PDEATHSIG`` and the pid namespace), a local worker with the head
  (``PDEATHSIG``, ``batch._install``): a ``kill -9`` of the head leaves
  nothing running; a Dask worker's sandboxes end with the Dask worker.

``WarmSandbox.run`` sends a job to the warm interpreter, reads the child's
messages, enforces the per-cell and total wall-clock limits by killing the
sandbox, and returns what came back; ``WarmPool`` keeps one warm sandbox per
worker thread and set of libraries; ``run`` is a one-off sandbox for one job.
"""
from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("autograder", "grader")  # the checks (probes) and this runner; normreg stays outside: it holds references
PREIMPORT_ALWAYS = ("numpy", "IPython.core.interactiveshell")  # what every warm interpreter imports
HIDEABLE = ("torch", "sklearn", "scipy", "torchvision", "pandas")  # libraries an exercise may do without
SYSTEM_DIRS = {"usr", "lib", "lib32", "lib64", "libx32", "bin", "sbin", "etc", "proc", "dev", "sys", "opt", "var"}
MAX_CHANNEL_BYTES = 64 * 1024 * 1024   # everything one job may send
MAX_LINE_BYTES = 16 * 1024 * 1024      # one message (a record's arrays are capped at 128 MiB before base64... in sum)
MAX_DEPTH = 64                         # nesting of one message (a record nests 12 deep at most, probe.MAX_DEPTH)
BUDGETED_CELLS = 25   # a notebook's time is --timeout times its code cells, up to this many (the course's have 11 to 15)
READY_SECONDS = 30.0                   # from the job sent to the child's "ready" (files written, checks imported)
DONE_SECONDS = 10.0                    # from "done" to the child's end
RUNNING: set = set()  # sandboxes running now (bwrap processes), for kill_all on Ctrl-C
STARTUP_SECONDS = 120.0


DEFAULT_TIMEOUT = 60.0               # seconds per cell (the command's --timeout)
DEFAULT_MEMORY = 3 * 1024 ** 3       # bytes of address space per sandbox (the command's --memory)


@dataclass
class Limits:
    cell_timeout: float = DEFAULT_TIMEOUT   # seconds per cell, wall clock
    memory: int = DEFAULT_MEMORY            # bytes of address space (RLIMIT_AS)
    file_size: int = 64 * 1024 ** 2         # bytes per file written (RLIMIT_FSIZE)
    tmp_size: int = 256 * 1024 ** 2         # at most this many bytes in the sandbox's /tmp, its only writable place
    open_files: int = 256

    @property
    def tmp_bytes(self) -> int:
        """The size of a job's ``/tmp``: ``tmp_size``, or a quarter of ``--memory`` where that is less."""
        return min(self.tmp_size, self.memory // 4)

    def memory_reached(self, peak: int) -> bool:
        """Whether a job whose address space peaked at ``peak`` bytes reached its limit: within a sixteenth of it
        (at least 128 MiB), the room an allocation that then failed may have asked for. ``peak`` is the warm
        interpreter's observation of the job (``zygote.wait_job``), never the job's word."""
        return peak >= self.address_space - max(128 * 1024 ** 2, self.address_space // 16)

    @property
    def address_space(self) -> int:
        """A job's RLIMIT_AS: ``--memory`` less its ``/tmp``. The ``/tmp`` is a tmpfs, held in memory, so what the
        job writes there counts against ``--memory`` too: address space and files together stay under it."""
        return self.memory - self.tmp_bytes


def cells_budget_seconds(limits: Limits, n_code_cells: int) -> float:
    """The whole notebook's time for its cells: ``--timeout`` per code cell, for at most ``BUDGETED_CELLS`` cells
    however many it has (a notebook padded with thousands of slow cells before its tests would otherwise hold a
    worker for hours). The job's deadline is ``READY_SECONDS`` plus this, and so is its CPU cap."""
    return limits.cell_timeout * min(max(1, n_code_cells), BUDGETED_CELLS)


@dataclass
class RunResult:
    """What the runner reported for one notebook."""

    cells: dict[int, dict] = field(default_factory=dict)  # index -> the runner's "cell" message
    probes: dict[tuple[int, int], object] = field(default_factory=dict)  # (cell, k) -> encoded record
    duplicates: int = 0                 # probe messages sent twice (only a forger does that)
    done: bool = False
    failure: str | None = None          # None, "timeout", "died", "output", "start", "tampering"
    failed_cell: int | None = None      # the cell that was running when the sandbox was killed or died
    detail: str = ""
    wall: float = 0.0
    setup: float | None = None
    cpu: float | None = None           # CPU seconds of the job's own process (the fork of the warm interpreter)
    vm_peak: int = 0                   # the job's peak address space in bytes, as the warm interpreter saw it
    memory_limit: bool = False         # that peak reached the job's address-space limit (``Limits.memory_reached``)


def check_bwrap() -> str | None:
    """None if bubblewrap can start a sandbox here, else the reason it cannot."""
    executable = shutil.which("bwrap")
    if executable is None:
        return "bubblewrap is not installed (apt-get install -y bubblewrap)"
    probe = subprocess.run(
        [executable, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-all",
         "--unshare-user", "--disable-userns", "--die-with-parent", "true"],
        capture_output=True, text=True, timeout=30,
    )
    if probe.returncode != 0:
        return f"bwrap cannot create a sandbox here: {probe.stderr.strip() or probe.returncode}"
    return None


def _top_level(path: Path) -> Path | None:
    parts = path.resolve().parts
    if len(parts) < 2:
        return None
    if parts[1] in SYSTEM_DIRS:
        return path.resolve()
    return Path(parts[0], parts[1])


# Top-level folders a sandbox sees read-only as they are: the operating system's programs and libraries.
SYSTEM_TOP_LEVEL = {"bin", "dev", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "sys", "usr"}
# What a sandbox sees of /etc (the rest of it, /opt, /var, /boot and every other top-level folder are empty):
# the dynamic loader's cache, time zone, users and names, fonts, certificates, locales and MIME types. Not
# /etc/shadow (readable where the grader runs as root), not the machine's id, services' or users' settings.
ETC_KEPT = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd", "group",
            "nsswitch.conf", "host.conf", "hosts", "gai.conf", "fonts", "ssl", "ca-certificates",
            "ca-certificates.conf", "mime.types", "locale.alias", "alternatives", "os-release", "debian_version",
            "matplotlibrc", "python3", f"python{sys.version_info[0]}.{sys.version_info[1]}")


def library_dirs(names) -> dict[str, Path]:
    """name -> the package folder of each of these libraries that is installed (without importing them)."""
    import importlib.util

    found = {}
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            found[name] = Path(list(spec.submodule_search_locations)[0]).resolve()
    return found


def bound_paths() -> list[Path]:
    """What every sandbox sees of this machine besides the system: Python, the environment, the course's packages."""
    binds = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    # site folders outside the environment (a ``.pth`` file of a virtual environment made for a worktree)
    binds |= {Path(entry).resolve() for entry in sys.path
              if entry.endswith(("site-packages", "dist-packages")) and Path(entry).is_dir()}
    binds |= {REPO / package for package in PACKAGES if (REPO / package).is_dir()}
    return sorted(binds, key=lambda p: len(p.parts))


def bwrap_command(limits: Limits, hidden: list[Path], absent: dict[str, int] | None = None) -> list[str]:
    """The bwrap command line that runs the warm interpreter (``python -m grader.zygote``).

    ``absent``: library name -> a file descriptor holding the ``__init__.py`` that replaces it.
    The warm interpreter keeps its capabilities inside the sandbox's user namespace (``--cap-add
    ALL``: they mean nothing outside it) so that each job's child can mount its own ``/tmp``; the
    child drops them all and loads the seccomp filter before any learner code runs.
    """
    args = ["bwrap",
            "--unshare-all", "--unshare-user", "--disable-userns", "--uid", "1000", "--gid", "1000",
            "--hostname", "grader", "--die-with-parent", "--new-session",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    covered: list[Path] = []
    # Deny by default: every top-level folder except the system's own becomes an empty tmpfs
    # (other checkouts of the course, home folders, mounted data...), then only the
    # interpreter, the virtual environment and the course's package are bound back below.
    names = sorted(os.listdir("/"))
    others = [Path("/") / name for name in names
              if name not in SYSTEM_TOP_LEVEL and (Path("/") / name).is_dir() and not (Path("/") / name).is_symlink()]
    for top in [Path("/tmp"), Path("/run"), Path("/dev/shm")] + others + [t for t in map(_top_level, hidden) if t]:
        if any(top == c or c in top.parents for c in covered) or (not top.exists() and top != Path("/dev/shm")):
            continue
        covered.append(top)
        args += ["--size", str(limits.tmp_bytes if top == Path("/tmp") else 1024 * 1024), "--tmpfs", str(top)]
    for name in names:  # top-level files (/container_info.json...): nothing to read; symbolic links (/bin) kept
        top = Path("/") / name
        if not top.is_symlink() and not top.is_dir():
            args += ["--ro-bind", "/dev/null", str(top)]
    if Path("/etc") in covered:
        for name in ETC_KEPT:
            kept = Path("/etc") / name
            if kept.is_symlink():
                args += ["--symlink", os.readlink(kept), str(kept)]
            elif kept.exists():
                args += ["--ro-bind", str(kept), str(kept)]
    for path in bound_paths():
        if any(path == c or c in path.parents for c in covered):
            args += ["--ro-bind", str(path), str(path)]
    for name, fd in sorted((absent or {}).items()):
        folder = library_dirs([name]).get(name)
        if folder is not None:
            args += ["--size", "65536", "--tmpfs", str(folder), "--ro-bind-data", str(fd), str(folder / "__init__.py"),
                     "--remount-ro", str(folder)]
    for top in covered:
        if top != Path("/tmp"):
            args += ["--remount-ro", str(top)]  # read-only: nothing to fill but the capped /tmp
    # bubblewrap's /dev is a tmpfs (uncapped, shared by every job of the sandbox): read-only too; its device
    # nodes (/dev/null, /dev/zero, /dev/urandom...) are mounts of their own and stay usable
    args += ["--remount-ro", "/dev"]
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/home", "LANG": "C.UTF-8",
        "IPYTHONDIR": "/tmp/home/.ipython", "MPLCONFIGDIR": "/tmp/home/.matplotlib", "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "NBGRADER_EXECUTION": "autograde",
        "AUTOGRADER_LIMITS": json.dumps([limits.address_space, limits.file_size, limits.open_files]),
        # which CPU kernels PyTorch and NumPy run, where the instructor chose (tests/grading/test_grade_variations.py)
        **{key: os.environ[key] for key in ("ATEN_CPU_CAPABILITY", "NPY_DISABLE_CPU_FEATURES") if key in os.environ},
    }
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--dir", "/tmp/home", "--chdir", "/tmp", "--cap-add", "ALL",
             sys.executable, "-I", "-m", "grader.zygote"]
    return args


PIDS_HIERARCHIES = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))  # cgroup v1, then v2
MAX_TASKS = 512   # processes and threads of one sandbox (bwrap, the warm interpreter and the job's threads)


def pids_cgroup(name: str, limit: int = MAX_TASKS) -> Path | None:
    """A new cgroup that holds at most ``limit`` tasks, where this machine lets the grader make one; else None.

    The kernel's ``RLIMIT_NPROC`` does not apply to processes that are root outside the sandbox (how the
    course's CI runs bubblewrap); a ``pids`` cgroup applies to everyone.
    """
    for hierarchy in PIDS_HIERARCHIES:
        if not (hierarchy / "cgroup.procs").exists():
            continue
        _sweep(hierarchy)
        if hierarchy == Path("/sys/fs/cgroup") and "pids" not in _read(hierarchy / "cgroup.subtree_control"):
            continue
        folder = hierarchy / name
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(str(limit))
            return folder
        except OSError:
            try:
                folder.rmdir()
            except OSError:
                pass
    return None


def _sweep(hierarchy: Path) -> None:
    """Remove the (empty) cgroups left by sandboxes of workers that are gone (killed before they could)."""
    try:
        names = [n for n in os.listdir(hierarchy) if n.startswith("autograder-")]
    except OSError:
        return
    for name in names:
        owner = name.split("-")[1]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            try:
                (hierarchy / name).rmdir()
            except OSError:
                pass


def _remove_cgroup(folder: Path) -> None:
    for _ in range(40):  # the sandbox's last processes may take a moment to leave it
        try:
            folder.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.025)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _absent_library_fds(names) -> dict[str, int]:
    """A pipe per library to hide, holding the ``__init__.py`` that takes its place in the sandbox."""
    fds = {}
    for name in names:
        text = (f"raise ImportError({name!r} + ' is not available while this exercise is graded: the exercise asks "
                f"you to write it without this library')\n").encode()
        read_fd, write_fd = os.pipe()
        os.write(write_fd, text)
        os.close(write_fd)
        fds[name] = read_fd
    return fds


def _kill(process: subprocess.Popen):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.kill()
    except ProcessLookupError:
        pass


def kill_all() -> None:
    """End every running sandbox (and so every process in it) now."""
    for process in list(RUNNING):
        _kill(process)


def run(job: dict, limits: Limits, hidden: list[Path], n_code_cells: int, libraries=None) -> RunResult:
    """Run one job in a sandbox started for it alone; always returns (never raises for what the notebook does)."""
    warm = WarmSandbox(limits, hidden, libraries)
    try:
        return warm.run(job, n_code_cells)
    finally:
        warm.close()


_OPENING, _CLOSING = (ord("["), ord("{")), (ord("]"), ord("}"))


def nesting_depth(line: bytes) -> int:
    """How deep the JSON text ``line`` nests (brackets inside strings do not count); linear time, no recursion."""
    import numpy as np

    if line.count(b"[") + line.count(b"{") <= MAX_DEPTH:
        return 0 if not line.strip() else 1  # cannot be deeper than the limit: not worth counting
    data = np.frombuffer(line, dtype=np.uint8)
    backslash = data == ord("\\")
    position = np.arange(data.size)
    # a quote is escaped when an odd number of backslashes runs right before it
    last_other = np.maximum.accumulate(np.where(backslash, -1, position))
    run_before = np.concatenate(([0], position[:-1] - last_other[:-1]))
    quote = (data == ord('"')) & (run_before % 2 == 0)
    outside = np.cumsum(quote) % 2 == 0  # (a quote itself counts as inside or out: not a bracket either way)
    step = (np.isin(data, _OPENING).astype(np.int64) - np.isin(data, _CLOSING)) * outside
    return int(np.cumsum(step).max(initial=0))


def parse_message(line: bytes):
    """The JSON value of one line from a job, or None for anything that is not a reasonable message."""
    try:
        if len(line) > MAX_LINE_BYTES or nesting_depth(line) > MAX_DEPTH:
            return None
        return json.loads(line)  # bytes: must be UTF-8
    except Exception:  # noqa: BLE001 - RecursionError, MemoryError, UnicodeDecodeError, ValueError: all refused
        return None


class WarmSandbox:
    """A warm interpreter (``grader.zygote``) in its bubblewrap sandbox, running one job after another.

    The sandbox is started on the first job and kept: each job runs in a child
    forked from the warm interpreter, which enters its own namespaces, limits
    and seccomp filter first (see ``zygote.py``). A job that times out, floods
    its output or whose child dies takes the whole sandbox with it; the next
    job starts a fresh one. Not thread-safe: one per worker thread.
    """

    def __init__(self, limits: Limits, hidden: list[Path], libraries=None):
        self.limits, self.hidden = limits, list(hidden)
        self.libraries = None if libraries is None else tuple(libraries)
        self.process: subprocess.Popen | None = None
        self.warm = False
        self.jobs = 0          # jobs run in the current sandbox
        self.starts = 0        # sandboxes started
        self.setup: float | None = None
        self.startup_cpu = 0.0  # CPU seconds the warm interpreters spent importing
        self._jobs: socket.socket | None = None   # the job socket (the warm interpreter holds the other end)
        self._control = -1                        # the warm interpreter's control pipe (no job holds it)
        self._cgroup: Path | None = None          # the pids cgroup of the sandbox, where one could be made
        self._stderr_tail = b""
        self._control_buffer = b""
        self._children_cpu = 0.0

    # ------------------------------------------------------------------ lifetime

    def start(self) -> str | None:
        """Start the sandbox (not waiting for it to be warm); returns why it could not start, or None."""
        self.close()
        jobs_here, jobs_there = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        control_r, control_w = os.pipe()
        absent = {} if self.libraries is None else _absent_library_fds(
            [name for name in library_dirs(HIDEABLE) if name not in self.libraries])
        names = self.libraries if self.libraries is not None else tuple(library_dirs(HIDEABLE))
        preimport = list(PREIMPORT_ALWAYS) + [name for name in names if name != "numpy"]
        command = bwrap_command(self.limits, self.hidden, absent)
        settings = {"preimport": preimport, "tmp_size": self.limits.tmp_bytes,
                    "limits": [self.limits.address_space, self.limits.file_size, self.limits.open_files],
                    "keep": [str(path) for path in bound_paths() if Path("/tmp") in path.parents]}
        extra = ["--setenv", "AUTOGRADER_CONTROL_FD", str(control_w), "--setenv", "AUTOGRADER_JOBS_FD",
                 str(jobs_there.fileno()), "--setenv", "AUTOGRADER_WARM", json.dumps(settings)]
        at = command.index("--clearenv") + 1
        command = command[:at] + extra + command[at:]
        self._cgroup = pids_cgroup(f"autograder-{os.getpid()}-{id(self):x}-{self.starts}")
        if self._cgroup is not None:  # bwrap enters it before it starts anything: all it starts is counted
            command = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self._cgroup / "cgroup.procs"), *command]
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE,
                                            pass_fds=(control_w, jobs_there.fileno(), *absent.values()),
                                            start_new_session=True)
        except OSError as error:
            for fd in (control_r, control_w, *absent.values()):
                os.close(fd)
            jobs_here.close()
            jobs_there.close()
            return str(error)
        for fd in (control_w, *absent.values()):
            os.close(fd)
        jobs_there.close()
        self._jobs, self._control = jobs_here, control_r
        self._control_buffer, self._stderr_tail = b"", b""
        self.warm, self.jobs, self.setup, self._children_cpu = False, 0, None, 0.0
        self.starts += 1
        RUNNING.add(self.process)
        return None

    def close(self, gently: bool = False) -> None:
        """End the sandbox (and every process in it) now; ``gently``: let an idle one exit by itself first
        (so that its CPU time is accounted to this process's children, for the benchmark)."""
        if self.process is not None and gently and self.warm and self.process.poll() is None:
            try:
                self._jobs.shutdown(socket.SHUT_WR)  # end of input: the warm interpreter returns
                self.process.wait(timeout=5)
            except (OSError, ValueError, AttributeError, subprocess.TimeoutExpired):
                pass
        if self.process is not None:
            _kill(self.process)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            try:
                self.process.stderr.close()
            except (OSError, AttributeError, ValueError):
                pass
            RUNNING.discard(self.process)
            self.process = None
        if self._cgroup is not None:
            _remove_cgroup(self._cgroup)  # empty once every process of the sandbox is gone
            self._cgroup = None
        if self._jobs is not None:
            self._jobs.close()
            self._jobs = None
        if self._control >= 0:
            try:
                os.close(self._control)
            except OSError:
                pass
        self._control = -1
        self.warm = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ reading

    def _read_stderr(self) -> bytes:
        try:
            chunk = os.read(self.process.stderr.fileno(), 1 << 16)
        except (OSError, ValueError):
            chunk = b""
        self._stderr_tail = (self._stderr_tail + chunk)[-8192:]
        return chunk

    def _control_messages(self) -> list[dict] | None:
        """The control messages that arrived (None: the sandbox closed the pipe, it has ended)."""
        chunk = os.read(self._control, 1 << 16)
        if not chunk:
            return None
        self._control_buffer += chunk
        *lines, self._control_buffer = self._control_buffer.split(b"\n")
        messages = []
        for line in lines:
            try:
                message = json.loads(line) if line.strip() else None
            except Exception:  # noqa: BLE001 - never from a job (no job holds this pipe): skip, never raise
                continue
            if isinstance(message, dict):
                messages.append(message)
        return messages

    def _wait_warm(self, started: float) -> str | None:
        """Wait until the sandbox has imported everything; returns why it did not, or None."""
        while not self.warm:
            if time.monotonic() - started > STARTUP_SECONDS:
                return "the sandbox did not start in time"
            streams = [self._control, self.process.stderr.fileno()]
            readable, _, _ = select.select(streams, [], [], 0.5)
            if self.process.stderr.fileno() in readable:
                self._read_stderr()
            if self._control in readable:
                messages = self._control_messages()
                if messages is None:
                    self.process.wait(timeout=10)
                    return (f"exit status {self.process.returncode}: "
                            + self._stderr_tail.decode(errors="replace")[-2000:])
                for message in messages:
                    if message.get("t") == "warm":
                        self.warm = True
                        self.setup = message.get("setup_s")
                        cpu = message.get("cpu_s")
                        self.startup_cpu += float(cpu) if isinstance(cpu, (int, float)) else 0.0
        return None

    # ------------------------------------------------------------------ one job

    def run(self, job: dict, n_code_cells: int) -> RunResult:
        """Run one job in a child of the warm interpreter; always returns (never raises for what it does).

        Time is the worker's own: the whole job has a fixed deadline computed before it starts
        (``READY_SECONDS``, then ``--timeout`` per cell), and at most ``--timeout`` may pass between
        the start of a cell (or the end of the previous one) and its end, whatever the child writes;
        the CPU seconds of the whole job are capped in the child (``RLIMIT_CPU``). The child's messages
        must follow the runner's protocol in order (``ready``; for each cell of the job in turn
        ``start``, its probes, ``cell``; ``done``), so a forged message can neither start a cell again
        nor end one early. A line that is not such a message (not JSON, not UTF-8, nested deeper than
        ``MAX_DEPTH``, without the job's nonce, out of order) ends the job as tampering. A job that
        failed in any way takes its sandbox with it: the next job gets a fresh one.
        """
        result = RunResult()
        started = time.monotonic()
        if self.process is None or self.process.poll() is not None:
            problem = self.start()
            if problem:
                result.failure, result.detail = "start", problem
                return result
        problem = self._wait_warm(started)
        if problem:
            self.close()
            result.failure, result.detail = "start", problem
            result.wall = time.monotonic() - started
            return result
        exited: dict | None = None
        try:
            exited = self._run_job(job, n_code_cells, result)
        except Exception as error:  # noqa: BLE001 - a bug of this reader must cost this job only, never the worker
            result.failure = result.failure or "died"
            result.detail = result.detail or f"the grader's reader failed: {type(error).__name__}"
        self.jobs += 1
        if result.failure or exited is None or exited.get("status") is None or not result.done:
            self.close()  # whatever the child left running, or a sandbox that may be harmed: a fresh one next time
        if result.failure in (None, "died", "start") and not result.done and not result.detail:
            result.failure = result.failure or "start"
            status = (exited or {}).get("status")
            if isinstance(status, int) and os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                result.detail = (f"signal {signal.Signals(number).name}" if number in signal.valid_signals()
                                 else f"signal {number}")
            elif isinstance(status, int):
                result.detail = f"exit status {os.WEXITSTATUS(status)}"
            else:
                result.detail = "the sandbox ended"
            if result.failure == "start":
                result.detail += ": " + self._stderr_tail.decode(errors="replace")[-2000:]
        result.wall = time.monotonic() - started
        return result

    def _run_job(self, job: dict, n_code_cells: int, result: RunResult) -> dict | None:
        """Send ``job`` with a channel of its own, read what comes back into ``result``; the zygote's exit message."""
        from grader.zygote import HEADER

        nonce = job["nonce"]
        order = [cell["i"] for cell in job["cells"]]
        n_probes = {cell["i"]: len(cell.get("probes", ())) for cell in job["cells"]}
        payload = json.dumps(job).encode()
        job_id = secrets.randbits(63)
        cells_budget = cells_budget_seconds(self.limits, n_code_cells)
        cpu_seconds = int(READY_SECONDS + cells_budget) + 1
        channel, writer = os.pipe()  # this job's alone: no other job ever holds its writing end
        os.set_blocking(channel, False)

        def feed():
            try:
                socket.send_fds(self._jobs, [HEADER.pack(len(payload), job_id, cpu_seconds)], [writer])
            except OSError:
                return
            finally:
                os.close(writer)  # the child holds the only writer from now on: its end is the channel's end
            try:
                self._jobs.sendall(payload)
            except OSError:
                pass

        threading.Thread(target=feed, daemon=True).start()
        job_started = time.monotonic()
        deadline = job_started + READY_SECONDS + cells_budget   # the whole job's: no message moves it
        last, allowance = job_started, READY_SECONDS             # the current step's start, as seen here
        state = {"ready": False, "next": 0, "cell": None, "k": 0}
        buffer = b""
        received = 0
        ended = False       # the channel's end: the child and everything in its pid namespace are gone
        exited: dict | None = None
        stderr_fd = self.process.stderr.fileno()

        def refuse(why: str) -> bool:
            result.failure, result.detail = "tampering", why
            result.failed_cell = state["cell"]
            result.probes.clear()  # nothing this channel said can be believed any more
            return True

        def handle(line: bytes) -> bool:
            """One line from the child; True when the job must stop."""
            nonlocal last, allowance
            message = parse_message(line)
            if not isinstance(message, dict) or message.get("n") != nonce:
                return refuse("a line on the channel that is not the grader's runner's message")
            kind, index, cell = message.get("t"), message.get("i"), state["cell"]
            if kind == "ready" and not state["ready"]:
                setup = message.get("setup_s")
                state["ready"] = True
                result.setup = float(setup) if isinstance(setup, (int, float)) and not isinstance(setup, bool) else None
            elif kind == "start" and state["ready"] and cell is None and state["next"] < len(order) \
                    and index == order[state["next"]]:
                state["cell"], state["k"] = index, 0
                state["next"] += 1
            elif kind == "probe" and cell is not None and index == cell and message.get("k") == state["k"] \
                    and state["k"] < n_probes[cell]:
                result.probes[(cell, state["k"])] = message.get("record")
                state["k"] += 1
                return False  # a probe is part of its cell's time
            elif kind == "cell" and cell is not None and index == cell and state["k"] == n_probes[cell]:
                result.cells[cell] = message
                state["cell"] = None
            elif kind == "done" and state["ready"] and cell is None and state["next"] == len(order) \
                    and not result.done:
                result.done = True
                cpu = message.get("cpu_s")
                result.cpu = float(cpu) if isinstance(cpu, (int, float)) else None
                last, allowance = time.monotonic(), DONE_SECONDS
                return False
            else:
                return refuse(f"a message out of the runner's order ({str(kind)[:20]!r})")
            last, allowance = time.monotonic(), self.limits.cell_timeout
            return False

        def drain() -> bool:
            """Read what the channel holds; True when the job must stop."""
            nonlocal buffer, received, ended
            while not ended:
                try:
                    chunk = os.read(channel, 1 << 16)
                except BlockingIOError:
                    return False
                if not chunk:
                    ended = True
                    if buffer:
                        return refuse("an unfinished message at the channel's end")
                    return False
                received += len(chunk)
                if received > MAX_CHANNEL_BYTES:
                    result.failure, result.failed_cell = "output", state["cell"]
                    return True
                buffer += chunk
                if b"\n" not in chunk:
                    if len(buffer) > MAX_LINE_BYTES:
                        result.failure, result.failed_cell = "output", state["cell"]
                        return True
                    continue
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if handle(line):
                        return True
            return False

        try:
            while exited is None or not ended:
                now = time.monotonic()
                limit = min(deadline, last + allowance)
                if now > limit:
                    if not result.done:
                        result.failure, result.failed_cell = "timeout", state["cell"]
                        if state["cell"] is None and state["next"] < len(order) and state["ready"]:
                            result.failed_cell = order[state["next"]]  # between cells: the next one's time
                    break  # (done, but its process lingers: the sandbox goes, the result stays)
                streams = ([] if ended else [channel]) + ([] if exited else [self._control]) + [stderr_fd]
                readable, _, _ = select.select(streams, [], [], max(0.0, min(limit - now, 1.0)))
                if stderr_fd in readable:
                    self._read_stderr()
                if channel in readable and drain():
                    break
                if self._control in readable:
                    messages = self._control_messages()
                    if messages is None:  # the warm interpreter itself died
                        if not drain():
                            exited = {"status": None}
                        break
                    for message in messages:
                        if message.get("t") != "exit":
                            continue
                        if message.get("job") != job_id:  # not this job's: the sandbox cannot be trusted
                            exited = {"status": None}
                            break
                        exited = message
                        peak = message.get("vm_peak")
                        if isinstance(peak, int) and not isinstance(peak, bool) and peak > 0:
                            result.vm_peak = peak
                            result.memory_limit = self.limits.memory_reached(peak)
                        cpu = message.get("children_cpu_s")
                        if isinstance(cpu, (int, float)):
                            result.cpu = max(0.0, float(cpu) - self._children_cpu)
                            self._children_cpu = float(cpu)
                    if exited is not None and (exited.get("status") is None or drain()):
                        break
                    if exited is not None:
                        # the child is reaped: its messages are all in the channel, and its end follows
                        last, allowance, deadline = time.monotonic(), 5.0, max(deadline, time.monotonic() + 5.0)
        finally:
            os.close(channel)
        status = (exited or {}).get("status")
        if not result.failure and isinstance(status, int) and os.WIFSIGNALED(status) \
                and os.WTERMSIG(status) == signal.SIGKILL and (result.cpu or 0.0) >= cpu_seconds - 1:
            result.failure, result.detail = "timeout", f"the job's CPU time ({cpu_seconds} s) ran out"
            result.failed_cell = state["cell"]
        if not result.failure and not result.done:
            result.failure = "died" if state["ready"] else "start"
            result.failed_cell = state["cell"]  # it died there
        return exited


class WarmPool:
    """The warm sandboxes of a pool of worker threads: each thread keeps its own, one per set of libraries.

    A thread keeps at most ``keep`` (the course has two sets: NumPy alone, NumPy
    and torch); the one used longest ago is closed to make room.
    """

    def __init__(self, limits: Limits, hidden: list[Path], keep: int = 2):
        self.limits, self.hidden, self.keep = limits, list(hidden), keep
        self._local = threading.local()
        self._lock = threading.Lock()
        self.sandboxes: list[WarmSandbox] = []

    def run(self, job: dict, n_code_cells: int, libraries=None) -> RunResult:
        mine = self._local.__dict__.setdefault("sandboxes", {})
        key = None if libraries is None else tuple(libraries)
        warm = mine.pop(key, None)
        if warm is None:
            warm = WarmSandbox(self.limits, self.hidden, libraries)
            with self._lock:
                self.sandboxes.append(warm)
        mine[key] = warm  # now the most recently used
        while len(mine) > self.keep:
            mine.pop(next(iter(mine))).close()
        return warm.run(job, n_code_cells)

    def close(self, gently: bool = False) -> None:
        with self._lock:
            for warm in self.sandboxes:
                warm.close(gently)

    @property
    def starts(self) -> int:
        return sum(warm.starts for warm in self.sandboxes)

    @property
    def startup_cpu(self) -> float:
        return sum(warm.startup_cpu for warm in self.sandboxes)
