"""The cell runner started inside the sandbox: ``python -m autograder.grading.runner``.

It replaces nbgrader's kernel for grading: a fresh Python with IPython's
``InteractiveShell`` (no ZMQ kernel, no kernel manager), which saves the start
of a kernel per notebook. It reads one job (JSON) from stdin: the notebook's
code cells, already sanitized by nbgrader in the parent (grade cells and locked
cells restored from the gradebook), the submission's other files, and the
modules to import before any student code. It writes its results as
newline-delimited JSON messages to file descriptor 3, each carrying the job's
nonce, which student code cannot read (it lives only in ``main``'s frame and
frames are refused to student code by the audit hook):

- ``{"t": "start", "i": INDEX}`` before each cell (the parent times cells);
- ``{"t": "cell", "i": INDEX, "outputs": [...], "count": N, "passed": BOOL}``
  after each cell (``passed`` only for grade cells);
- ``{"t": "done"}`` at the end.

Student cells run through ``InteractiveShell.run_cell`` (magics, display, rich
outputs). Grade cells do not: the runner restores the interpreter
(``guard.Snapshot.restore``), compiles the cell itself and executes it in its
own ``try``/``except BaseException``; the cell passed if and only if that
``exec`` returned. Nothing student code prints, patches or catches changes
that verdict (``sys.excepthook``, ``showtraceback``, ``AssertionError``,
``print``, ``__builtins__``...).
"""
from __future__ import annotations

import ast
import base64
import json
import os
import sys

MAX_CELL_OUTPUT = 256 * 1024       # characters of text kept per cell
MAX_TOTAL_OUTPUT = 4 * 1024 * 1024  # characters kept per notebook
WORKDIR = "/tmp/submission"


class OutputSink:
    """The outputs of the cell that is running, in nbformat's JSON shape, with size caps."""

    def __init__(self):
        self.outputs: list[dict] = []
        self.cell_chars = 0
        self.total_chars = 0
        self.truncated = False

    def start_cell(self):
        self.outputs = []
        self.cell_chars = 0
        self.truncated = False

    def _room(self, size: int) -> int:
        return max(0, min(MAX_CELL_OUTPUT - self.cell_chars, MAX_TOTAL_OUTPUT - self.total_chars, size))

    def _count(self, size: int):
        self.cell_chars += size
        self.total_chars += size

    def stream(self, name: str, text: str):
        if not isinstance(text, str):
            text = str(text)
        room = self._room(len(text))
        if room < len(text):
            text = text[:room]
            if not self.truncated:
                self.truncated = True
                text += "\n[output truncated by the grader]\n"
        if not text:
            return
        self._count(len(text))
        if self.outputs and self.outputs[-1].get("output_type") == "stream" and self.outputs[-1]["name"] == name:
            self.outputs[-1]["text"] += text
        else:
            self.outputs.append({"output_type": "stream", "name": name, "text": text})

    def rich(self, output_type: str, data: dict, metadata: dict | None = None, count: int | None = None):
        clean = {}
        for mime, value in (data or {}).items():
            if not isinstance(mime, str) or "javascript" in mime:
                continue
            if not isinstance(value, (str, dict, list)):
                value = str(value)
            size = len(json.dumps(value)) if not isinstance(value, str) else len(value)
            if self._room(size) < size:
                self.truncated = True
                continue
            self._count(size)
            clean[mime] = value
        if not clean:
            return
        output = {"output_type": output_type, "data": clean, "metadata": {}}
        if output_type == "execute_result":
            output["execution_count"] = count
        self.outputs.append(output)

    def error(self, ename: str, evalue: str, traceback: list[str]):
        traceback = [str(line)[:20000] for line in list(traceback)[-60:]]
        self.outputs.append({"output_type": "error", "ename": str(ename)[:200],
                             "evalue": str(evalue)[:20000], "traceback": traceback})

    def clear(self):
        self.outputs = []


class CapturedStream:
    """Replaces sys.stdout / sys.stderr: text goes to the sink, never to a file descriptor."""

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, sink: OutputSink, name: str):
        self._sink, self.name = sink, name

    def write(self, text):
        self._sink.stream(self.name, text)
        return len(text) if isinstance(text, str) else 0

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        import io
        raise io.UnsupportedOperation("fileno")


def make_shell(sink: OutputSink):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class SinkDisplayHook(DisplayHook):
        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            sink.rich("execute_result", format_dict, md_dict, self.prompt_count)

        def finish_displayhook(self):
            pass

    class SinkDisplayPublisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kwargs):
            sink.rich("display_data", data, metadata)

        def clear_output(self, wait=False):
            sink.clear()

    class GradingShell(InteractiveShell):
        def init_displayhook(self):
            self.displayhook = SinkDisplayHook(shell=self, cache_size=self.cache_size)
            self.configurables.append(self.displayhook)
            self.display_trap = __import__("IPython.core.display_trap", fromlist=["DisplayTrap"]).DisplayTrap(
                hook=self.displayhook)

        def init_display_pub(self):
            self.display_pub = SinkDisplayPublisher(parent=self, shell=self)
            self.configurables.append(self.display_pub)

        def _showtraceback(self, etype, evalue, stb):
            sink.error(getattr(etype, "__name__", str(etype)), str(evalue), stb)

        def enable_matplotlib(self, gui=None):  # inline figures become display_data via the publisher
            return super().enable_matplotlib("inline")

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Context"
    return GradingShell(config=config)


def _format_error(shell, error: BaseException) -> tuple[str, str, list[str]]:
    etype = type(error)
    try:
        stb = shell.InteractiveTB.structured_traceback(etype, error, error.__traceback__, tb_offset=1)
    except Exception:  # noqa: BLE001 - a broken traceback must not lose the verdict
        stb = [f"{etype.__name__}: {error}"]
    try:
        evalue = str(error)
    except Exception:  # noqa: BLE001 - student exception with a broken __str__
        evalue = "<exception with an unprintable message>"
    return getattr(etype, "__name__", "Exception"), evalue, stb


def _write_files(files: dict[str, str]):
    os.makedirs(WORKDIR, exist_ok=True)
    for relative, payload in files.items():
        path = os.path.normpath(os.path.join(WORKDIR, relative))
        if not path.startswith(WORKDIR + os.sep):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(base64.b64decode(payload))


def _apply_limits():
    """Limits for everything that runs from here on; student code cannot raise them again."""
    import resource
    memory, file_size, open_files = json.loads(os.environ.pop("AUTOGRADER_LIMITS", "[0, 0, 0]"))
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, file_size),
                         (resource.RLIMIT_NOFILE, open_files), (resource.RLIMIT_CORE, 0)):
        if value or which == resource.RLIMIT_CORE:
            resource.setrlimit(which, (value, value))


def main() -> int:
    import time
    _apply_limits()
    job = json.loads(sys.stdin.buffer.read())
    nonce = job.pop("nonce")
    channel = os.fdopen(int(os.environ.pop("AUTOGRADER_CHANNEL_FD", "3")), "wb", buffering=0)
    write, dumps = channel.write, json.dumps

    def send(message: dict):
        message["n"] = nonce
        write((dumps(message) + "\n").encode())

    _write_files(job.get("files", {}))
    os.chdir(WORKDIR)
    os.environ.setdefault("MPLBACKEND", "Agg")
    started = time.perf_counter()
    for name in job.get("preimport", []):
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - the notebook will report it where it matters
            pass
    if "torch" in sys.modules:
        try:
            sys.modules["torch"].set_num_threads(1)
        except Exception:  # noqa: BLE001
            pass

    from autograder.grading import guard
    from autograder.grading.references import REFERENCES

    sink = OutputSink()
    shell = make_shell(sink)
    sys.stdout, sys.stderr = CapturedStream(sink, "stdout"), CapturedStream(sink, "stderr")
    guard.guard_references(REFERENCES, allowed=set(job.get("allowed_references", [])))
    token = guard.install_audit_hook()
    snapshot = guard.Snapshot(shell.user_ns)
    stdout, stderr = sys.stdout, sys.stderr
    audit = sys.audit
    send({"t": "ready", "setup_s": round(time.perf_counter() - started, 3),
          "cpu_s": round(time.process_time(), 3)})

    for cell in job["cells"]:
        index = cell["i"]
        send({"t": "start", "i": index})
        sink.start_cell()
        result = {"t": "cell", "i": index}
        cell_started = time.perf_counter()
        if cell.get("grade"):
            snapshot.restore()
            sys.stdout, sys.stderr = stdout, stderr
            passed, error = _run_grade_cell(shell, snapshot, cell["source"], index, audit, token)
            sys.stdout, sys.stderr = stdout, stderr
            if error is not None:
                sink.error(*_format_error(shell, error))
                result["memory"] = isinstance(error, MemoryError)
            result["passed"] = passed
            shell.execution_count += 1
            result["count"] = shell.execution_count - 1
        else:
            outcome = shell.run_cell(cell["source"], store_history=True)
            sys.stdout, sys.stderr = stdout, stderr
            result["count"] = shell.execution_count - 1
            error = outcome.error_in_exec or outcome.error_before_exec
            result["memory"] = isinstance(error, MemoryError)
        result["outputs"] = sink.outputs
        result["s"] = round(time.perf_counter() - cell_started, 3)
        send(result)
    send({"t": "done", "cpu_s": round(time.process_time(), 3)})
    channel.close()
    return 0


def _check_modules(tree) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "autograder":
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.split(".")[0] == "autograder"]
    return names


def _run_grade_cell(shell, snapshot, source: str, index: int, audit, token: str):
    """(passed, exception or None): the grade cell ran to its end, or what it raised."""
    import linecache

    from autograder.grading.guard import AUTOGRADER_DIR

    namespace = shell.user_ns
    filename = os.path.join(AUTOGRADER_DIR, f"grade-cell-{index}.py")  # the checks' side of the stack
    try:
        tree = ast.parse(source, filename=filename)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        snapshot.import_checks(_check_modules(tree))
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        code = compile(tree, filename, "exec")
        value = None
        record = snapshot.versions()
        audit("autograder.state", token, True)
        try:
            exec(code, namespace)
            if last is not None:
                value = eval(compile(last, filename, "eval"), namespace)
        finally:
            audit("autograder.state", token, False)
        tampered = snapshot.tampered(record)
        if tampered:
            shown = ", ".join(tampered[:3]) + (" ..." if len(tampered) > 3 else "")
            raise RuntimeError(f"the code under test modified the grader or a library while it was checked ({shown})")
        if value is not None:
            shell.displayhook(value)
    except BaseException as error:  # noqa: BLE001 - any exception at all fails the cell
        return False, error
    return True, None


if __name__ == "__main__":
    sys.exit(main())
