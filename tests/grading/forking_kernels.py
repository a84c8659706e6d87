"""Kernels for the tests' ``nbgrader autograde`` runs, forked from one warm interpreter instead of started cold.

``tests/grading/test_grading.py`` grades every chapter's solution, blank exercise and ~160 known-wrong
answers with plain ``nbgrader autograde``, one fresh kernel per notebook, as an instructor would. Most of a
kernel's cost is starting it: Python, IPython, ipykernel, then NumPy, torch and the checks' libraries, about
2.5 s of CPU per notebook before its first cell, paid ~180 times per CI run. Here one *fork server* per
nbgrader process imports all that once; each kernel nbgrader asks for is a ``fork`` of it that becomes a
real ``ipykernel`` kernel (``IPKernelApp`` with the connection file nbgrader wrote), talks to nbgrader over
the usual ZeroMQ channels and ends when nbgrader shuts it down. What nbgrader does is unchanged: its
preprocessors, its kernel protocol, a new kernel per notebook, its gradebook. What a notebook sees is
unchanged too: a fresh process holding only the pre-imported libraries (no other notebook ran in it),
whose random generators are reseeded from the system as a new interpreter's are.

``install()`` (called from the scratch course's ``nbgrader_config.py``, see ``conftest.grade_assignment``)
makes nbgrader's ``Execute`` preprocessor use ``ForkingKernelManager``. The fork server is started on the
first kernel and ends with the nbgrader process (end of its stdin, and ``PR_SET_PDEATHSIG``); a kernel
ends with the fork server. The benchmark (``benchmarks/grading_speed.py``) does not use this: it times
nbgrader as instructors run it.
"""
from __future__ import annotations

import asyncio
import atexit
import ctypes
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import LocalProvisioner

REPO = Path(__file__).resolve().parents[2]
# What the course's notebooks and checks import: once, in the fork server.
PREIMPORT = ("numpy", "torch", "torch.nn", "torch.nn.functional", "scipy.stats", "sklearn.preprocessing",
             "normreg", "autograder", "ipykernel.kernelapp", "ipykernel.ipkernel", "IPython")
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ------------------------------------------------------------------ the fork server (its own process)

def serve() -> None:
    """Import once, then for each request line ``{"cmd", "env", "cwd"}`` fork a kernel and answer its pid."""
    import importlib

    _die_with_parent()
    for name in PREIMPORT:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    import autograder

    for path in sorted(Path(autograder.__file__).parent.glob("*.py")):  # every chapter's checks
        if not path.stem.startswith("_") and path.stem != "nbgrader_config":
            importlib.import_module(f"autograder.{path.stem}")

    def reap(*_):
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return

    signal.signal(signal.SIGCHLD, reap)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _kernel(request, keep=())  # never returns
        answers.write(b"%d\n" % pid)
        answers.flush()


def _kernel(request: dict, keep) -> None:
    """In the forked child: become the kernel nbgrader asked for (``python -m ipykernel_launcher ARGS``)."""
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # its own process group, as jupyter_client starts kernels: signals go to the group
        _die_with_parent()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the fork server's pipes are not the kernel's
            os.dup2(null, fd)
        os.closerange(3, 1 << 16)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.stdin = open(0, closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        _reseed()
        cmd = request["cmd"]
        sys.argv = [cmd[0], *cmd[3:]]
        sys.path[0:0] = [""] if "" not in sys.path else []
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=cmd[3:])
        os._exit(0)
    except BaseException:  # noqa: BLE001 - a kernel that cannot start: nbgrader sees it die
        os._exit(1)


def _reseed() -> None:
    """The generators a fork inherits would repeat in every kernel: seed them from the system, as at start."""
    import random

    import numpy
    import torch

    random.seed()
    numpy.random.seed()
    torch.seed()


# ------------------------------------------------------------------ the nbgrader side

class ForkedProcess:
    """The part of ``subprocess.Popen`` that ``LocalProvisioner`` uses, for a kernel forked by the server."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                state = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError, IndexError):
                state = "Z"
            if state in ("Z", "X"):  # gone, or dead and about to be reaped by the fork server
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """The one fork server of this (nbgrader) process, started on the first kernel."""

    _server: subprocess.Popen | None = None

    @classmethod
    def spawn(cls, cmd: list[str], env: dict, cwd: str) -> int:
        if cls._server is None or cls._server.poll() is not None:
            code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                    "from tests.grading.forking_kernels import serve; sys.path.pop(0); serve()")
            cls._server = subprocess.Popen([sys.executable, "-c", code, str(REPO)], stdin=subprocess.PIPE,
                                           stdout=subprocess.PIPE, env=env, cwd=cwd)
            atexit.register(cls.stop, cls._server)
        cls._server.stdin.write(json.dumps({"cmd": cmd, "env": env, "cwd": cwd}).encode() + b"\n")
        cls._server.stdin.flush()
        answer = cls._server.stdout.readline()
        if not answer:
            raise RuntimeError("the kernel fork server ended")
        return int(answer)


    @staticmethod
    def stop(server: subprocess.Popen) -> None:
        """End of its input ends the server; waiting for it counts its CPU (and its kernels') as this process's."""
        server.stdin.close()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


class ForkingProvisioner(LocalProvisioner):
    """``LocalProvisioner`` whose ``python -m ipykernel_launcher`` kernels are forks of the warm server."""

    async def launch_kernel(self, cmd: list[str], **kwargs):
        if cmd[1:3] != ["-m", "ipykernel_launcher"]:  # another kind of kernel: started as usual
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = await asyncio.get_running_loop().run_in_executor(None, ForkServer.spawn, cmd, env, cwd)
        self.process = ForkedProcess(pid)
        self.pid, self.pgid, self.cwd = pid, pid, cwd
        return self.connection_info


class ForkingKernelManager(AsyncKernelManager):
    """nbgrader's kernel manager, with ``ForkingProvisioner``."""

    async def _async_pre_start_kernel(self, **kw):
        if self.provisioner is None:
            self.provisioner = ForkingProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def install() -> None:
    """Make nbgrader's ``Execute`` preprocessor start its kernels through ``ForkingKernelManager``.

    ``Execute.__init__`` passes its module's ``AsyncKernelManager`` as a keyword, which outranks configuration,
    so the name is replaced in that module (this process only: the nbgrader run of one test fixture).
    """
    import nbgrader.preprocessors.execute as execute

    execute.AsyncKernelManager = ForkingKernelManager
