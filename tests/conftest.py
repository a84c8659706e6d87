"""The built book, shared by every test module that reads it, and the browser test's summary line."""
from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / "_build"


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build into the repository's _build/ (its execution cache makes a rebuild after the README's install quick).

    pytest-xdist gives each worker its own session, so two workers may ask at once: an exclusive
    lock on _build/.build.lock makes the second wait for the first build and then find the cached one.
    """
    jupyter_book = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    BUILD.mkdir(exist_ok=True)
    with open(BUILD / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        result = subprocess.run([jupyter_book, "build", str(REPO), "-W", "-n", "--keep-going"],
                                capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"the book did not build cleanly:\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    return BUILD / "html"


# Summary lines a test leaves in its report's user_properties under "summary" are printed at the
# end of the run: reports travel back from xdist workers, a test's own stdout does not.
_summaries: list[str] = []


def pytest_runtest_logreport(report):
    if report.when == "call":
        _summaries.extend(value for key, value in report.user_properties if key == "summary")


def pytest_terminal_summary(terminalreporter):
    if _summaries:
        terminalreporter.section("summaries")
        for line in _summaries:
            terminalreporter.write_line(line)
