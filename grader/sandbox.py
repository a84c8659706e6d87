"""One bubblewrap sandbox per submission, and the parent's side of the runner's channel.

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
- runs under a seccomp filter that refuses new processes (``seccomp.py``);
- gets its limits from the runner, set before any student code runs and not
  raisable from inside: address space (``--memory``), file size, CPU time,
  open files; output is capped by the runner and on the channel.

``run`` starts the runner with the job on stdin, reads its messages, enforces
the per-cell and total wall-clock limits by killing the sandbox, and returns
what came back.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import seccomp

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("autograder", "grader")  # the checks (probes) and this runner; normreg stays outside: it holds references
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


def bwrap_command(limits: Limits, hidden: list[Path], seccomp_fd: int, absent: dict[str, int] | None = None) -> list[str]:
    """The bwrap command line that runs the runner (``python -m grader.runner``).

    ``absent``: library name -> a file descriptor holding the ``__init__.py`` that replaces it.
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
    binds = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    binds |= {REPO / package for package in PACKAGES if (REPO / package).is_dir()}
    for path in sorted(binds, key=lambda p: len(p.parts)):
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
    args += ["--dir", "/tmp/home", "--chdir", "/tmp", "--seccomp", str(seccomp_fd),
             sys.executable, "-I", "-m", "grader.runner"]
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
    """Run one job in a fresh sandbox; always returns (never raises for what the notebook does).

    ``libraries``: the third-party libraries the exercise needs (None: all); the others are hidden.
    """
    result = RunResult()
    nonce = job["nonce"]
    started = time.monotonic()
    read_fd, write_fd = os.pipe()
    seccomp_fd = seccomp.program_fd()
    absent = {} if libraries is None else _absent_library_fds(
        [name for name in library_dirs(HIDEABLE) if name not in libraries])
    command = bwrap_command(limits, hidden, seccomp_fd, absent)
    env_fd = {"AUTOGRADER_CHANNEL_FD": str(write_fd)}
    command = command[:command.index("--clearenv") + 1] + ["--setenv", "AUTOGRADER_CHANNEL_FD", env_fd[
        "AUTOGRADER_CHANNEL_FD"]] + command[command.index("--clearenv") + 1:]
    try:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, pass_fds=(write_fd, seccomp_fd, *absent.values()),
                                   start_new_session=True)
    except OSError as error:
        for fd in (read_fd, write_fd, seccomp_fd, *absent.values()):
            os.close(fd)
        result.failure, result.detail = "start", str(error)
        return result
    RUNNING.add(process)
    for fd in (write_fd, seccomp_fd, *absent.values()):
        os.close(fd)
    payload = json.dumps(job).encode()
    stderr_tail = b""
    buffer = b""
    received = 0
    running_cell: int | None = None
    cell_started = started
    ready = False
    deadline = started + STARTUP_SECONDS + limits.cell_timeout * max(1, n_code_cells)

    def feed_stdin():
        try:
            process.stdin.write(payload)
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    import threading
    writer = threading.Thread(target=feed_stdin, daemon=True)
    writer.start()
    streams = {read_fd: "channel", process.stderr.fileno(): "stderr"}
    try:
        while streams:
            now = time.monotonic()
            if not ready and now - started > STARTUP_SECONDS:
                result.failure, result.detail = "start", "the sandbox did not start in time"
                break
            if running_cell is not None and now - cell_started > limits.cell_timeout:
                result.failure, result.failed_cell = "timeout", running_cell
                break
            if now > deadline:
                result.failure, result.failed_cell = "timeout", running_cell
                break
            readable, _, _ = select.select(list(streams), [], [], 0.2)
            for fd in readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    del streams[fd]
                    continue
                if streams[fd] == "stderr":
                    stderr_tail = (stderr_tail + chunk)[-8192:]
                    continue
                received += len(chunk)
                if received > MAX_CHANNEL_BYTES:
                    result.failure, result.failed_cell = "output", running_cell
                    streams.clear()
                    break
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
                    elif kind == "done":
                        result.done = True
                        streams.clear()  # finished: whatever lingers is killed below, the status stays graded
                        break
                if result.done:
                    break
                if len(buffer) > MAX_CHANNEL_BYTES:
                    result.failure, result.failed_cell = "output", running_cell
                    streams.clear()
                    break
            if result.failure or result.done:
                break
    finally:
        _kill(process)  # done or not: nothing of the submission outlives its last cell
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill(process)
            process.wait()
        for fd in (read_fd,):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            stderr_tail += process.stderr.read(8192) if process.stderr and not process.stderr.closed else b""
        except (OSError, ValueError):
            pass
        if process.stderr:
            process.stderr.close()
        RUNNING.discard(process)
    if not result.failure and not result.done:
        result.failure = "died" if ready else "start"
        result.failed_cell = running_cell
        code = process.returncode
        number = -code if code and code < 0 else (code - 128 if code and code > 128 else None)
        result.detail = (f"signal {signal.Signals(number).name}" if number in signal.valid_signals()
                         else f"exit status {code}")
        if not ready:
            result.detail += ": " + stderr_tail.decode(errors="replace")[-2000:]
    result.wall = time.monotonic() - started
    return result
