"""Run the build's notebook kernels over Unix sockets (IPC) instead of TCP.

ipykernel 7.4 warns "Kernel is running over TCP without encryption" once per executed page:
its kernels listen on localhost TCP ports in plain text. myst-nb (through jupyter-cache and
nbclient) starts each kernel with a default ``AsyncKernelManager`` and passes no traitlets
configuration, so there is no setting to reach; this extension changes nbclient's default
kernel manager to one whose kernels listen on sockets in a private folder (mode 0700) that is
removed when the build ends. The warning then has nothing to warn about, and every other
kernel warning still shows.
"""
from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from traitlets import CaselessStrEnum, default

SOCKETS = Path(tempfile.mkdtemp(prefix="normreg-kernels-"))  # mkdtemp: mode 0700, this user only
atexit.register(shutil.rmtree, SOCKETS, ignore_errors=True)


class IPCKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels listen on Unix sockets in a private folder."""

    transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc", config=True)

    @default("ip")
    def _socket_path(self) -> str:
        # An absolute path: the kernel runs in the page's folder, the client in the build's.
        return str(SOCKETS / f"kernel-{uuid.uuid4().hex[:12]}")


def setup(app):
    # NotebookClient.kernel_manager_class is a configurable trait whose dynamic default
    # (`_kernel_manager_class_default`, AsyncKernelManager) is the only way in when the caller
    # passes no config, as myst-nb does.
    NotebookClient._kernel_manager_class_default = lambda self: IPCKernelManager
    return {"parallel_read_safe": True, "parallel_write_safe": True}
