"""The bubblewrap sandbox, kept warm by each worker, and the worker's side of its channels.

The sandbox (``bwrap``, Debian package ``bubblewrap``):

- sees the system read-only (``--ro-bind / /``), with empty tmpfs folders laid
  over ``/tmp``, ``/var/tmp``, ``/run``, ``/dev/shm`` and every top-level
  folder that is not the operating system's (home folders, the repository,
  the submissions, the output: ``solutions/``, the gradebook, the feedback and
  other students' files are not there); then the Python installation, the
  virtual environment, the course's ``autograder`` package (the probes) and
  ``grader`` (the runner) are bound back,
  read-only. Only ``/tmp`` is writable, and it is size-capped; every other
  tmpfs is read-only (so no writable mount grows outside ``--memory``);
- holds only the libraries its exercise needs (``forbidden.RULES``): the
  others (scikit-learn, SciPy, torch) are replaced by a package whose import
  fails with a message;
- has its own user, pid, network (no interfaces but loopback, down), IPC, UTS
  and cgroup namespaces, no further user namespaces, a new session, and dies
  with the grader (``--die-with-parent``); killing ``bwrap`` ends its pid
  namespace, so every process the submission started ends with it;
- runs a warm interpreter (``zygote.py``) that forks one child per notebook;
  before any learner code runs, the child gets its own empty ``/tmp``, its
  limits (address space ``--memory``, file size, open files; not raisable
  from inside), no capabilities and the seccomp filter that refuses new
  processes (``seccomp.py``); output is capped by the runner and on the channel.

``WarmSandbox.run`` sends a job to the warm interpreter, reads the child's
messages, enforces the per-cell and total wall-clock limits by killing the
sandbox, and returns what came back; ``WarmPool`` keeps one warm sandbox per
worker thread and set of libraries; ``run`` is a one-off sandbox for one job.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
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
MAX_CHANNEL_BYTES = 64 * 1024 * 1024
RUNNING: set = set()  # sandboxes running now (bwrap processes), for kill_all on Ctrl-C
STARTUP_SECONDS = 120.0


DEFAULT_TIMEOUT = 60.0               # seconds per cell (the command's --timeout)
DEFAULT_MEMORY = 3 * 1024 ** 3       # bytes of address space per sandbox (the command's --memory)


@dataclass
class Limits:
    cell_timeout: float = DEFAULT_TIMEOUT   # seconds per cell, wall clock
    memory: int = DEFAULT_MEMORY            # bytes of address space (RLIMIT_AS)
    file_size: int = 64 * 1024 ** 2         # bytes per file written (RLIMIT_FSIZE)
    tmp_size: int = 256 * 1024 ** 2         # bytes of the sandbox's /tmp, its only writable place
    open_files: int = 256


@dataclass
class RunResult:
    """What the runner reported for one notebook."""

    cells: dict[int, dict] = field(default_factory=dict)  # index -> the runner's "cell" message
    probes: dict[tuple[int, int], object] = field(default_factory=dict)  # (cell, k) -> encoded record
    duplicates: int = 0                 # probe messages sent twice (only a forger does that)
    done: bool = False
    failure: str | None = None          # None, "timeout", "died", "output", "start"
    failed_cell: int | None = None      # the cell that was running when the sandbox was killed or died
    detail: str = ""
    wall: float = 0.0
    setup: float | None = None
    cpu: float | None = None           # CPU seconds of the job's own process (the fork of the warm interpreter)


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


# Top-level folders a sandbox sees read-only as they are: the operating system, nothing of anyone's.
SYSTEM_TOP_LEVEL = {"bin", "boot", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "sbin",
                    "sys", "usr", "var"}


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
    # an environment that lends its packages from another one (a .pth naming its site-packages)
    binds |= {Path(p).resolve() for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()}
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
    others = sorted(Path("/") / name for name in os.listdir("/")
                    if name not in SYSTEM_TOP_LEVEL and (Path("/") / name).is_dir() and not (Path("/") / name).is_symlink())
    for top in [Path("/tmp"), Path("/var/tmp"), Path("/run"), Path("/dev/shm")] + others + \
            [t for t in map(_top_level, hidden) if t]:
        if top in covered or (not top.exists() and top != Path("/dev/shm")):
            continue
        covered.append(top)
        args += ["--size", str(limits.tmp_size if top == Path("/tmp") else 1024 * 1024), "--tmpfs", str(top)]
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
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp/home", "LANG": "C.UTF-8",
        "IPYTHONDIR": "/tmp/home/.ipython", "MPLCONFIGDIR": "/tmp/home/.matplotlib", "MPLBACKEND": "Agg",
        "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "NBGRADER_EXECUTION": "autograde",
        "AUTOGRADER_LIMITS": json.dumps([limits.memory, limits.file_size, limits.open_files]),
    }
    args += ["--clearenv"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += ["--dir", "/tmp/home", "--chdir", "/tmp", "--cap-add", "ALL",
             sys.executable, "-I", "-m", "grader.zygote"]
    return args


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
        self._channel = self._control = -1
        self._stderr_tail = b""
        self._control_buffer = b""
        self._children_cpu = 0.0

    # ------------------------------------------------------------------ lifetime

    def start(self) -> str | None:
        """Start the sandbox (not waiting for it to be warm); returns why it could not start, or None."""
        self.close()
        channel_r, channel_w = os.pipe()
        control_r, control_w = os.pipe()
        absent = {} if self.libraries is None else _absent_library_fds(
            [name for name in library_dirs(HIDEABLE) if name not in self.libraries])
        names = self.libraries if self.libraries is not None else tuple(library_dirs(HIDEABLE))
        preimport = list(PREIMPORT_ALWAYS) + [name for name in names if name != "numpy"]
        command = bwrap_command(self.limits, self.hidden, absent)
        settings = {"preimport": preimport, "tmp_size": self.limits.tmp_size,
                    "limits": [self.limits.memory, self.limits.file_size, self.limits.open_files],
                    "keep": [str(path) for path in bound_paths() if Path("/tmp") in path.parents]}
        extra = ["--setenv", "AUTOGRADER_CHANNEL_FD", str(channel_w), "--setenv", "AUTOGRADER_CONTROL_FD",
                 str(control_w), "--setenv", "AUTOGRADER_WARM", json.dumps(settings)]
        at = command.index("--clearenv") + 1
        command = command[:at] + extra + command[at:]
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.PIPE, pass_fds=(channel_w, control_w, *absent.values()),
                                            start_new_session=True)
        except OSError as error:
            for fd in (channel_r, channel_w, control_r, control_w, *absent.values()):
                os.close(fd)
            return str(error)
        for fd in (channel_w, control_w, *absent.values()):
            os.close(fd)
        os.set_blocking(channel_r, False)
        self._channel, self._control = channel_r, control_r
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
                self.process.stdin.close()  # end of input: the warm interpreter returns
                self.process.wait(timeout=5)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                pass
        if self.process is not None:
            _kill(self.process)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            for stream in (self.process.stdin, self.process.stderr):
                try:
                    stream.close()
                except (OSError, AttributeError, ValueError):
                    pass
            RUNNING.discard(self.process)
            self.process = None
        for fd in (self._channel, self._control):
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._channel = self._control = -1
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
                message = json.loads(line)
            except ValueError:
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
        """Run one job in a child of the warm interpreter; always returns (never raises for what it does)."""
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
        payload = json.dumps(job).encode()
        nonce = job["nonce"]

        def feed():
            try:
                self.process.stdin.write(struct.pack("<Q", len(payload)) + payload)
                self.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError, AttributeError):
                pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        buffer = b""
        received = 0
        running_cell: int | None = None
        job_started = time.monotonic()
        cell_started = job_started
        ready = False
        exited: dict | None = None
        deadline = job_started + STARTUP_SECONDS + self.limits.cell_timeout * max(1, n_code_cells)
        stderr_fd = self.process.stderr.fileno()

        def take(chunk: bytes) -> bool:
            """Read the child's messages in ``chunk``; True when the job must stop (too much output)."""
            nonlocal buffer, received, running_cell, cell_started, ready
            received += len(chunk)
            if received > MAX_CHANNEL_BYTES:
                result.failure, result.failed_cell = "output", running_cell
                return True
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                try:
                    message = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(message, dict) or message.get("n") != nonce:
                    continue  # not from the runner: student code writing to the channel
                kind = message.get("t")
                if kind == "ready":
                    ready = True
                    result.setup = message.get("setup_s")
                elif kind == "start" and isinstance(message.get("i"), int):
                    running_cell, cell_started = message["i"], time.monotonic()
                elif kind == "cell" and isinstance(message.get("i"), int):
                    result.cells[message["i"]] = message
                    running_cell = None
                elif kind == "probe" and isinstance(message.get("i"), int) and isinstance(message.get("k"), int):
                    where = (message["i"], message["k"])
                    if where in result.probes:
                        result.duplicates += 1
                    else:
                        result.probes[where] = message.get("record")
                elif kind == "done" and not result.done:
                    result.done = True
                    cpu = message.get("cpu_s")
                    result.cpu = float(cpu) if isinstance(cpu, (int, float)) else None
            if len(buffer) > MAX_CHANNEL_BYTES:
                result.failure, result.failed_cell = "output", running_cell
                return True
            return False

        def drain() -> bool:
            while True:
                try:
                    chunk = os.read(self._channel, 1 << 16)
                except BlockingIOError:
                    return False
                if not chunk:
                    return False
                if take(chunk):
                    return True

        done_at = None
        while exited is None:
            now = time.monotonic()
            if result.done:
                done_at = done_at or now
                if now - done_at > 10:  # finished, but its process lingers: the sandbox goes, the result stays
                    break
            elif running_cell is not None and now - cell_started > self.limits.cell_timeout:
                result.failure, result.failed_cell = "timeout", running_cell
                break
            elif now > deadline:
                result.failure, result.failed_cell = "timeout", running_cell
                break
            readable, _, _ = select.select([self._channel, self._control, stderr_fd], [], [], 0.2)
            if stderr_fd in readable:
                self._read_stderr()
            if self._channel in readable and drain():
                break
            if self._control in readable:
                messages = self._control_messages()
                if messages is None:  # the warm interpreter itself died (or was killed from inside)
                    drain()
                    exited = {"status": None}
                    break
                for message in messages:
                    if message.get("t") == "exit":
                        if drain():
                            break
                        exited = message
                        cpu = message.get("children_cpu_s")
                        if isinstance(cpu, (int, float)):
                            result.cpu = max(0.0, float(cpu) - self._children_cpu)
                            self._children_cpu = float(cpu)
                if result.failure:
                    break
        self.jobs += 1
        if result.failure or exited is None or exited.get("status") is None or not result.done:
            self.close()  # whatever the child left running, or a sandbox that may be harmed: a fresh one next time
        if not result.failure and not result.done:
            result.failure = "died" if ready else "start"
            result.failed_cell = running_cell
            status = (exited or {}).get("status")
            if isinstance(status, int) and os.WIFSIGNALED(status):
                number = os.WTERMSIG(status)
                result.detail = (f"signal {signal.Signals(number).name}" if number in signal.valid_signals()
                                 else f"signal {number}")
            elif isinstance(status, int):
                result.detail = f"exit status {os.WEXITSTATUS(status)}"
            else:
                result.detail = "the sandbox ended"
            if not ready:
                result.detail += ": " + self._stderr_tail.decode(errors="replace")[-2000:]
        result.wall = time.monotonic() - started
        return result


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
