"""Every book page executes, and every hidden assert holds, under other CPU kernels and one thread.

The build (tests/test_book.py) runs the pages with the machine's own kernels and thread count. The
asserted numbers must hold on every machine a reader may use, so here every page that has code runs
once more, in a fresh kernel, with all of these narrowed together (one run per page keeps CI short):

- ``ATEN_CPU_CAPABILITY=default``: PyTorch's generic kernels instead of its AVX2/AVX-512 ones;
- one torch and BLAS thread (``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``):
  reductions split differently, so their round-off differs from a multi-threaded run;
- ``NPY_DISABLE_CPU_FEATURES``: NumPy's dispatch down to its baseline (every dispatched target this
  CPU has, read from the NumPy that runs the pages);
- on a CPU with AVX-512: MKL (PyTorch's BLAS) and OpenBLAS (NumPy's) limited to AVX2 code paths.

A page fails here as it would fail the build: a cell raises, an assert included. One class per page,
so that ``--dist loadscope`` spreads the pages over the workers.
"""
from __future__ import annotations

import os
import re
import time

import jupytext
import pytest
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.test_book import REPO, toc_files

pytestmark = pytest.mark.slow

CELL_TIMEOUT = yaml.safe_load((REPO / "_config.yml").read_text())["execute"]["timeout"]  # the build's own


def narrowed_environment() -> dict[str, str]:
    """The variation: generic ATen kernels, one thread, NumPy (and on AVX-512 the BLAS) narrowed."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__  # what np.show_runtime() reads

    env = dict(os.environ, ATEN_CPU_CAPABILITY="default",
               OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    # The dispatch targets this CPU has (the others are not used anyway): NumPy falls back to its baseline.
    dispatched = [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]
    if dispatched:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(dispatched)
    if __cpu_features__.get("AVX512F") and __cpu_features__.get("AVX2"):
        env["MKL_ENABLE_INSTRUCTIONS"] = "AVX2"   # MKL's documented switch; no effect where MKL is absent
        env["OPENBLAS_CORETYPE"] = "Haswell"      # OpenBLAS's AVX2 kernels (needs a DYNAMIC_ARCH build, as NumPy's)
    return env


def code_pages() -> list[str]:
    """The book's pages that execute: MyST notebooks (jupytext header) with at least one code cell."""
    pages = []
    for name in toc_files():
        path = REPO / f"{name}.md"
        if path.is_file() and path.read_text().startswith("---\njupytext") and "```{code-cell}" in path.read_text():
            pages.append(name)
    return pages


def execute_page(name: str, env: dict[str, str]) -> float:
    """Run one page as the build runs it (in its own folder, over the build's IPC kernels); return seconds."""
    from _ext.ipc_kernels import IPCKernelManager

    path = REPO / f"{name}.md"
    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=False,
                            kernel_manager_class=IPCKernelManager,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    try:
        client.execute(env=env)   # passed to the kernel's launch: the variables reach the kernel process
    except CellExecutionError as error:
        plain = re.sub(r"\x1b\[[0-9;]*m", "", str(error))   # the kernel's traceback comes in terminal colours
        pytest.fail(f"{name} fails under {describe(env)}:\n{plain}", pytrace=False)
    return time.perf_counter() - started


def describe(env: dict[str, str]) -> str:
    keys = ["ATEN_CPU_CAPABILITY", "OMP_NUM_THREADS", "NPY_DISABLE_CPU_FEATURES", "MKL_ENABLE_INSTRUCTIONS",
            "OPENBLAS_CORETYPE"]
    return " ".join(f"{key}={env[key]!r}" for key in keys if key in env)


def test_kernel_sees_the_variation():
    """The variables reach the kernel: its PyTorch runs the generic kernels on one thread."""
    from _ext.ipc_kernels import IPCKernelManager
    import nbformat

    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import os, torch, numpy\n"
        "from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__\n"
        "assert torch.backends.cpu.get_cpu_capability() == 'DEFAULT', torch.backends.cpu.get_cpu_capability()\n"
        "assert torch.get_num_threads() == 1, torch.get_num_threads()\n"
        "assert not any(__cpu_features__[name] for name in __cpu_dispatch__), __cpu_features__")])
    client = NotebookClient(probe, timeout=CELL_TIMEOUT, kernel_name="python3", kernel_manager_class=IPCKernelManager)
    client.execute(env=narrowed_environment())


def _page_test(name: str):
    def test_page_executes_under_narrowed_kernels(self, record_property):
        seconds = execute_page(name, narrowed_environment())
        record_property("summary", f"{name}: executed under narrowed kernels, one thread, in {seconds:.0f} s")
    return test_page_executes_under_narrowed_kernels


# One class per page: pytest-xdist's loadscope sends a class to one worker, a module's functions all to one.
for _name in code_pages():
    _class = f"TestPage_{_name.replace('/', '_')}"
    globals()[_class] = type(_class, (), {"test_page_executes_under_narrowed_kernels": _page_test(_name)})
