"""The cell runner inside the sandbox, in each job's child of the warm interpreter (``zygote.py``).

It replaces nbgrader's kernel for grading: IPython's ``InteractiveShell`` (no
ZMQ kernel, no kernel manager). A job (JSON) holds the notebook's learner
cells (every code cell but the grade cells, which never enter the sandbox),
and at the place of each grade cell the probes the grader asks for (check, the
learner's names, parameters with fresh seeds). ``run_job`` writes
newline-delimited JSON messages to the channel, each carrying the job's nonce:

- ``{"t": "start", "i": INDEX}`` before each cell or block of probes (the
  parent times them);
- ``{"t": "cell", "i": INDEX, "outputs": [...], "count": N}`` after each cell;
- ``{"t": "probe", "i": INDEX, "k": K, "record": ...}`` for each probe: what the
  learner's code returned, as data (``autograder.probe.encode``);
- ``{"t": "done"}`` at the end, after which the runner leaves at once
  (``os._exit``: no exit handlers of the learner's run).

Nothing here decides a score: the grader validates the records and runs the
verdicts in its own process. The probes' own output is discarded, so a
learner's function cannot print the inputs of hidden tests into the feedback.
"""
from __future__ import annotations

import ast
import base64
import json
import os
import sys
import types

from grader.policy import MODULE_NAMED_ATTRIBUTES, library_module_allowed  # imported by the warm interpreter

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
        """A descriptor of /dev/null: what asks for one (``faulthandler.enable()``, as in ipykernel, whose
        streams have one) works, and whatever is written to it reaches nobody. Text goes through ``write``."""
        if CapturedStream._null is None:
            CapturedStream._null = os.open(os.devnull, os.O_WRONLY | os.O_CLOEXEC)
        return CapturedStream._null

    _null = None


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

        def enable_gui(self, gui=None):  # ``%matplotlib inline``: no event loop to start, as in ipykernel
            pass

        def init_magics(self):
            super().init_magics()
            # ``%config InlineBackend.figure_format = 'retina'`` (the only %config the reading lets through):
            # nothing to set here, where figures are not drawn; IPython's own %config execs its line
            self.magics_manager.magics["line"]["config"] = _ignore_magic

    config = Config()
    config.HistoryManager.enabled = False
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.xmode = "Context"
    # a one-line cell is run as written: no automagic (``run (x)`` would run ``%run (x)``, a call to the reading)
    # and no autocall, so that what IPython runs as a magic is what its static input transformer finds, which
    # is what the reading reads (grader/policy.py ``_python``)
    config.InteractiveShell.automagic = False
    config.InteractiveShell.autocall = 0
    return InteractiveShell.clear_instance() or GradingShell.instance(config=config)  # display() needs the instance


def _grader_own(obj):
    """``self._x`` in a learner's method, as the grader runs it: ``__grader_own__(self)._x``. The reading lets a
    private attribute through ``self``/``cls`` only for the learner's own names; this makes sure that ``self``
    is the learner's own object too (a class defined in a cell), not a module or a library object handed to the
    method through its class (``P.get(collections)`` reading ``collections._sys``)."""
    owner = obj if isinstance(obj, type) else type(obj)
    if owner.__module__ != "__main__":
        raise PermissionError(f"refused by the grader: a private attribute of {owner.__name__!s:.60}, "
                              "which is not a class of this notebook")
    return obj


class OwnPrivateAttributes:
    """IPython AST transformer: ``self._x``/``cls._x`` (read, written or deleted) become
    ``__grader_own__(self)._x``. Iterative (a deep cell cannot make it raise), and it never raises: IPython
    would unregister a transformer that did."""

    def visit(self, tree):
        try:
            for node in list(ast.walk(tree)):
                if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                        and node.value.id in ("self", "cls") and node.attr.startswith("_") \
                        and not node.attr.startswith("__"):
                    call = ast.Call(func=ast.Name(id="__grader_own__", ctx=ast.Load()), args=[node.value], keywords=[])
                    for made in (call, call.func):
                        ast.copy_location(made, node.value)
                    node.value = call
            return tree
        except BaseException:  # noqa: BLE001 - fail closed: the cell does not run
            failed = ast.parse("raise PermissionError('refused by the grader: a cell it could not prepare')")
            return failed


def _grader_plain(value, name: str):
    """``x.select`` in a learner's cell, as the grader runs it: ``__grader_plain__(x.select, 'select')``. The
    reading lets an attribute named like an interpreter module (``policy.MODULE_NAMED_ATTRIBUTES``: ``np.select``,
    ``Tensor.select``, a learner's ``rung.resource``) through as an ordinary attribute; this makes sure that what
    it gives is not such a module (``selectors.select``, ``some_library.io``): a module is given only where a
    notebook could import it itself (``scipy.signal``, ``torch.types``)."""
    if isinstance(value, types.ModuleType):
        module = value.__dict__.get("__name__")
        if not (isinstance(module, str) and library_module_allowed(module)):
            raise PermissionError(f"refused by the grader: .{name!s:.40} is the module {module!s:.60}, which graded "
                                  "code may not use")
    return value


class ModuleNamedAttributes:
    """IPython AST transformer: an attribute read whose name is an interpreter module's (``x.select``, ``x.io``,
    ``x.code``: ``policy.MODULE_NAMED_ATTRIBUTES``) becomes ``__grader_plain__(x.select, 'select')``, which
    refuses a module. Iterative (a deep cell cannot make it raise), and it never raises: IPython would unregister a
    transformer that did."""

    def visit(self, tree):
        try:
            places = []
            for node in ast.walk(tree):
                for field, value in ast.iter_fields(node):
                    children = value if isinstance(value, list) else [value]
                    for position, child in enumerate(children):
                        if isinstance(child, ast.Attribute) and isinstance(child.ctx, ast.Load) \
                                and child.attr in MODULE_NAMED_ATTRIBUTES:
                            places.append((node, field, position if isinstance(value, list) else None, child))
            for node, field, position, child in places:
                call = ast.Call(func=ast.Name(id="__grader_plain__", ctx=ast.Load()),
                                args=[child, ast.Constant(child.attr)], keywords=[])
                for made in (call, call.func, call.args[1]):
                    ast.copy_location(made, child)
                if position is None:
                    setattr(node, field, call)
                else:
                    getattr(node, field)[position] = call
            return tree
        except BaseException:  # noqa: BLE001 - fail closed: the cell does not run
            failed = ast.parse("raise PermissionError('refused by the grader: a cell it could not prepare')")
            return failed


def _ignore_magic(line: str = "") -> None:
    return None


def _grading_help(*things) -> None:
    """``help(obj)`` while grading: the object's documentation as text, nothing else (no interactive help, no
    ``help("modules")``, which imports every module there is, no name looked up and imported from a string)."""
    import pydoc

    if len(things) != 1 or isinstance(things[0], str):
        print("help() is not available while grading: help(object) prints an object's documentation")
        return
    try:
        print(pydoc.render_doc(things[0], renderer=pydoc.plaintext))
    except Exception as error:  # noqa: BLE001 - documentation is a courtesy; the cell goes on
        print(f"no documentation ({type(error).__name__})")


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


def apply_limits(limits) -> None:
    """Limits for everything that runs from here on; student code cannot raise them again.

    ``limits``: [address space, file size, open files] in bytes and files; 0 leaves one as it is.
    """
    import resource
    memory, file_size, open_files = limits
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_FSIZE, file_size),
                         (resource.RLIMIT_NOFILE, open_files), (resource.RLIMIT_CORE, 0)):
        if value or which == resource.RLIMIT_CORE:
            resource.setrlimit(which, (value, value))


def decode_params(data):
    """The inverse of ``cells.encode_params``: dtypes and torch.nn classes by name (the grader's own data)."""
    import numpy as np

    if isinstance(data, list):
        return [decode_params(item) for item in data]
    if not isinstance(data, dict):
        return data
    if "$tuple" in data:
        return tuple(decode_params(item) for item in data["$tuple"])
    if "$dict" in data:
        return {key: decode_params(item) for key, item in data["$dict"].items()}
    if "$np" in data:
        return np.dtype(data["$np"]).type
    if "$torch" in data:
        import torch
        return getattr(torch, data["$torch"])
    if "$nn" in data:
        import torch
        return getattr(torch.nn, data["$nn"])
    return {key: decode_params(item) for key, item in data.items()}


def _load_checks(job) -> dict:
    """The Check objects the probes need, imported before any learner code runs."""
    import importlib

    checks = {}
    for cell in job["cells"]:
        for probe in cell.get("probes", ()):
            module, name = probe["check"].split(":")
            checks[probe["check"]] = getattr(importlib.import_module(module), name)
    return checks


def refuse_forbidden(checks: dict) -> None:
    """The torch kernels and library helpers the exercise forbids refuse to run from here on (``forbidden.py``):
    absent in effect, by every route and on every thread, before any learner code runs. Not a watch the
    notebook could switch off; the probes' operator list stays as a second, independent record."""
    from autograder.forbidden import refuse_kernels, stand_in_for_absent

    modules = sorted({name.split(":")[0] for name in checks})
    refuse_kernels(modules)
    stand_in_for_absent(modules)  # `import torch` in a NumPy exercise: as in the learner's Jupyter, not an abort


def _run_probes(cell, checks, namespace, send, sink) -> None:
    from autograder.probe import Record, encode

    for k, probe in enumerate(cell["probes"]):
        sink.start_cell()  # whatever the learner's code prints while probed is dropped
        learners = []
        record = None
        for name in probe["learners"]:
            if name not in namespace:
                record = Record()
                record.fail(f"`{name}` is not defined: run (or put back) the cell that defines it")
                break
            learners.append(namespace[name])
        if record is None:
            try:
                record = checks[probe["check"]].run_probe(learners, decode_params(probe["params"]))
            except BaseException as error:  # noqa: BLE001 - the grader's inputs failed: report, do not guess
                record = Record()
                record.fail(f"the grader could not build this test's inputs ({type(error).__name__}: {error})")
        try:
            data = encode(record)
        except Exception as error:  # noqa: BLE001 - e.g. a record over the size limits
            failed = Record()
            failed.fail(f"your result could not be sent to the grader ({type(error).__name__})")
            data = encode(failed)
        send({"t": "probe", "i": cell["i"], "k": k, "record": data})
    sink.start_cell()


def prepare(job: dict) -> None:
    """The job's files into the working folder, which becomes the current one."""
    _write_files(job.get("files", {}))
    # the notebook's language, decided by the worker from its metadata, and the catalog's entries as data:
    # the probes' own messages ("not implemented yet", "raised ...") come in that language
    from autograder.i18n import install

    install(job.get("lang"), job.get("messages"))
    os.makedirs("/tmp/home", exist_ok=True)
    os.chdir(WORKDIR)
    os.environ.setdefault("MPLBACKEND", "Agg")


def warm_up(names) -> None:
    """Import the libraries a notebook needs before any learner code runs (torch on one thread)."""
    for name in names:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - the notebook will report it where it matters
            pass
    if "torch" in sys.modules:
        try:
            sys.modules["torch"].set_num_threads(1)
        except Exception:  # noqa: BLE001
            pass


def run_job(job: dict, channel_fd: int, shell_and_sink=None, started: float | None = None) -> None:
    """Run a job's cells and probes, sending every message on ``channel_fd``; leaves the process at the end.

    ``shell_and_sink``: a shell made before the job (the warm interpreter's, copied by ``fork``), or None.
    """
    import time
    started = time.perf_counter() if started is None else started
    nonce = job.pop("nonce")
    channel = os.fdopen(channel_fd, "wb", buffering=0)
    write, dumps = channel.write, json.dumps

    def send(message: dict):
        message["n"] = nonce
        write((dumps(message) + "\n").encode())

    checks = _load_checks(job)
    refuse_forbidden(checks)
    import builtins

    builtins.help = _grading_help  # site's interactive help(): see _grading_help
    builtins.__grader_own__ = _grader_own
    builtins.__grader_plain__ = _grader_plain
    shell, sink = shell_and_sink or _new_shell()
    shell.ast_transformers.append(OwnPrivateAttributes())
    shell.ast_transformers.append(ModuleNamedAttributes())
    sys.stdout, sys.stderr = CapturedStream(sink, "stdout"), CapturedStream(sink, "stderr")
    from grader import audit

    if not job.get("below_audit_hook"):  # set only by the tests of the layers beneath it (seccomp, kernels)
        audit.install()  # from here on, no new code but the cells' own (grader/audit.py)
    send({"t": "ready", "setup_s": round(time.perf_counter() - started, 3),
          "cpu_s": round(time.process_time(), 3)})

    for cell in job["cells"]:
        index = cell["i"]
        send({"t": "start", "i": index})
        sink.start_cell()
        result = {"t": "cell", "i": index}
        cell_started = time.perf_counter()
        if "probes" in cell:
            _run_probes(cell, checks, shell.user_ns, send, sink)
        else:
            try:
                outcome = shell.run_cell(cell["source"], store_history=True)
                error = outcome.error_in_exec or outcome.error_before_exec
            except RecursionError as escaped:  # IPython's compile of a cell too deep for Python escapes run_cell
                sink.error("RecursionError", str(escaped), [f"RecursionError: {escaped}"])
                error = escaped
            result["count"] = shell.execution_count - 1
            result["memory"] = isinstance(error, MemoryError)
        result["outputs"] = sink.outputs
        result["s"] = round(time.perf_counter() - cell_started, 3)
        send(result)
    send({"t": "done", "cpu_s": round(time.process_time(), 3)})
    channel.close()
    os._exit(0)  # no exit handlers, no lingering: the sandbox ends here


def _new_shell():
    sink = OutputSink()
    return make_shell(sink), sink


