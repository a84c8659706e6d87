"""Chapter 1 (``01_normalization``, NumPy only in its sandbox): the original batch, and the new cheats.

The wrong answers are deliberately wrong (identity functions); each cheat
tries to make them pass anyway. Several old cases now stop at the reading of
the cells (``import os``, ``import sys``...: hidden code, every test zero);
their notes say so. Variants that hide the same thing from the reading
(``warnings.sys.modules``, ``dataclasses.inspect``, a name kept in a list)
are the ones that test the sandbox and the design.
"""
from __future__ import annotations

import copy

from tests.grading.submissions import tricks
from tests.grading.submissions.common import (Case, append, dumps, exercise, folder_case, insert_after, max_score,
                                                 meta, notebook_name, points, prepend, replace, replace_all, solution,
                                                 symlink_case, with_grade_cells, without_grade_cells, zip_case)
from tests.grading.submissions.memorise import KEY_CODE, table

A = "01_normalization"
NOTEBOOK = notebook_name(A)
MAX = max_score(A)
MIN_MAX = points(A, "test_min_max_scale", "test_min_max_scale_hidden")
Z_TRANSFORM = points(A, "test_z_score_transform", "test_z_score_transform_hidden")

WRONG = {
    "min_max_scale": "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return np.asarray(x, dtype=float)",
    "z_score_fit": "def z_score_fit(x):\n    x = np.asarray(x, dtype=float)\n"
                   "    return np.zeros(x.shape[1]), np.ones(x.shape[1])",
    "z_score_transform": "def z_score_transform(x, mean, std):\n    return np.asarray(x, dtype=float)",
}

# Correct implementations under other names: what a forger hands to the probes instead of the graded functions.
CORRECT = '''
def _min_max(x, feature_range=(0.0, 1.0)):
    x = np.asarray(x, dtype=float)
    low, high = feature_range
    span = x.max(axis=0) - x.min(axis=0)
    span = np.where(span == 0, 1.0, span)
    return low + (x - x.min(axis=0)) / span * (high - low)
def _fit(x):
    x = np.asarray(x, dtype=float)
    std = x.std(axis=0)
    return x.mean(axis=0), np.where(std == 0, 1.0, std)
def _transform(x, mean, std):
    return (np.asarray(x, dtype=float) - mean) / np.where(np.asarray(std) == 0, 1.0, std)
_REPLACEMENTS = {"min_max_scale": _min_max, "z_score_fit": _fit, "z_score_transform": _transform}
'''


# Frames through library helpers, and code the reading never sees (a string run by IPython's shell).
FRAMES_THROUGH_HELPERS = tricks.MODULES + '''
import dataclasses, IPython
def _patch_the_stack():
    frames = [frame for frame, _ in _modules["traceback"].walk_stack(None)]
    if "logging" in _modules:
        frames.append(_modules["logging"].currentframe())
    patched = 0
    for frame in frames:
        module = dataclasses.inspect.getmodule(frame)
        members = dict(dataclasses.inspect.getmembers(module)) if module is not None else {}
        for name in ("assert_close", "assert_unchanged", "call_learner"):
            if name in members:
                module.assert_close = lambda *a, **k: None
                patched += 1
    shell = IPython.get_ipython()  # (None in the grader's runner: no global shell)
    if shell is not None:
        shell.ex("import sys; sys.modules['autograder.compare'].assert_close = lambda *a, **k: None")
    return patched
print("patched on the stack:", _patch_the_stack())
def min_max_scale(x, feature_range=(0.0, 1.0)):
    _patch_the_stack()
    return np.asarray(x, dtype=float)
'''


def wrong(extra: str = "", where: str = "min_max_scale", base: dict | None = None) -> dict:
    """The solution with every function wrong; ``extra`` code put before the function in the cell ``where``."""
    nb = base or solution(A)
    for grade_id, text in WRONG.items():
        nb = replace(nb, grade_id, (extra + "\n" + text) if grade_id == where and extra else text)
    return nb


def case(student, content, **kw) -> Case:
    return folder_case(A, student, content, **kw)


def _memoriser() -> str:
    """min_max_scale, z_score_fit and z_score_transform as tables of the visible tests' answers."""
    lines = ["import numpy as np"]
    for function, grade_id, key, out, args in [
            ("min_max_scale", "test_min_max_scale", "x", "out", "x, feature_range=(0.0, 1.0)"),
            ("z_score_fit", "test_z_score_fit", "x", "out", "x"),
            ("z_score_transform", "test_z_score_transform", "x", "out", "x, mean, std")]:
        answers = table(A, grade_id, function, key, out)
        lines.append(f"_{function.upper()} = {answers!r}")
        fallback = ("(np.zeros(x.shape[1]), np.ones(x.shape[1]))" if function == "z_score_fit"
                    else "np.zeros(np.shape(x))")
        found = (f"tuple(np.array(v) for v in _{function.upper()}[key])" if function == "z_score_fit"
                 else f"np.array(_{function.upper()}[key])")
        lines.append(f"def {function}({args}):\n    x = np.asarray(x)\n    key = {KEY_CODE.format('x')}\n"
                     f"    return {found} if key in _{function.upper()} else {fallback}")
    return "\n".join(lines)


def cases() -> list[Case]:
    sol = solution(A)
    blank = exercise(A)
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    only_visible = replace(sol, "min_max_scale", "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
                           "    low, high = feature_range\n"
                           "    if x.dtype != np.float64:\n        return x\n"
                           "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n"
                           "    return low + (x - x.min(0)) / r * (high - low)")
    deleted_nb = without_grade_cells(only_visible, ("test_min_max_scale_hidden", "test_z_score_fit",
                                                    "test_z_score_fit_hidden"))
    duplicated = copy.deepcopy(blank)
    fakes = [dict(copy.deepcopy(c), source="pass") for c in duplicated["cells"] if meta(c).get("grade")]
    duplicated["cells"] = fakes + duplicated["cells"] + fakes

    def say_passed(cell):
        cell["source"] = "print('all tests passed')"

    edited = with_grade_cells(blank, say_passed)
    relabelled = copy.deepcopy(wrong())
    for cell in relabelled["cells"]:
        m = meta(cell)
        if m.get("grade_id") == "test_min_max_scale":
            m["points"] = 100
        elif m.get("grade_id") == "test_min_max_scale_hidden":
            m["grade"] = False
            m["locked"] = False
            cell["source"] = "pass"
        elif m.get("grade_id") == "test_z_score_fit":
            m["grade_id"] = "my_own_test"
            cell["source"] = "pass"
        elif m.get("grade_id") == "z_score_fit":
            m["grade"] = True
            m["points"] = 50
    equal_anything = (
        "class Anything(float):\n"
        "    def __eq__(self, other): return True\n"
        "    __ne__ = lambda self, other: False\n"
        "class Zero(np.ndarray):\n"
        "    def __sub__(self, other): return np.zeros(np.shape(other))\n"
        "    def __rsub__(self, other): return np.zeros(np.shape(other))\n"
        "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n"
        "        return np.zeros(np.broadcast_shapes(*[np.shape(i) for i in inputs]))\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    return np.asarray(x, dtype=float).view(Zero)\n"
        "def z_score_fit(x):\n"
        "    return Anything(0), Anything(1)\n"
        "def z_score_transform(x, mean, std):\n"
        "    return Anything(0)\n")
    liar = (
        "class Liar(np.ndarray):\n"
        "    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):\n"
        "        inputs = [np.asarray(i) for i in inputs]\n"
        "        if ufunc is np.subtract:\n"
        "            return np.zeros(np.broadcast_shapes(*[i.shape for i in inputs]))\n"
        "        return super().__array_ufunc__(ufunc, method, *inputs, **kwargs)\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    return np.asarray(x, dtype=float).view(Liar)\n")
    all_in_one = replace_all(sol, {"min_max_scale": equal_anything, "z_score_fit": "pass",
                                   "z_score_transform": "pass"})
    patch_during_check = (
        "import sys\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    for name, module in list(sys.modules.items()):\n"
        "        if name.startswith('autograder') and hasattr(module, 'assert_close'):\n"
        "            original = module.assert_close\n"
        "            def undo(*a, _m=module, _o=original, **k):\n"
        "                _m.assert_close = _o  # put the original back: nothing to see afterwards\n"
        "            module.assert_close = undo\n"
        "    return np.asarray(x, dtype=float)")
    frames = (
        "import sys\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame is not None:\n"
        "        frame.f_globals['assert_close'] = lambda *a, **k: None\n"
        "        frame = frame.f_back\n"
        "    return np.asarray(x, dtype=float)")
    traceback_frames = (
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    try:\n        raise ValueError\n    except ValueError as e:\n"
        "        frame = e.__traceback__.tb_frame.f_back\n"
        "    frame.f_globals['assert_close'] = lambda *a, **k: None\n"
        "    return np.asarray(x, dtype=float)")
    own_autograder = {  # a fake autograder package next to the notebook
        "autograder/__init__.py": b"",
        "autograder/normalization.py": b"def check_min_max_scale(*a, **k): pass\n"
                                       b"def check_z_score_fit(*a, **k): pass\n"
                                       b"def check_z_score_transform(*a, **k): pass\n"
                                       b"def check_z_score_pipeline(*a, **k): pass\n",
    }
    peek = (
        "import os\n"
        "seen = [p for p in ('/work/main/solutions', '/work', '/root/.ssh') if os.path.exists(p) and os.listdir(p)]\n"
        "for root in ('/', '/tmp', '/work', '/work/main'):\n"
        "    try: print(root, sorted(os.listdir(root))[:50])\n"
        "    except Exception as e: print(root, e)\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    return np.asarray(x, dtype=float)\n"
        "import glob\n"
        "leaked = [p for root in ('/work', '/tmp', '/root', '/home', '/srv', '/mnt')\n"
        "          for p in glob.glob(root + '/**/gradebook.db', recursive=True)\n"
        "                 + glob.glob(root + '/**/solutions/**/*.ipynb', recursive=True)]\n"
        "print('leaked:', leaked[:5])\n")
    # the same look around, with os and glob reached without an import (the reading does not stop it)
    peek_quietly = tricks.MODULES + (
        "_os = _modules['os']\n"
        "found = []\n"
        "for root in ('/work', '/root', '/home', '/srv', '/mnt', '/tmp', '/old_root', '/farm'):\n"
        "    try:\n"
        "        for folder, dirs, files in _os.walk(root):\n"
        "            found += [folder + '/' + f for f in files if f.endswith(('.db', '.ipynb', 'secret'))]\n"
        "    except OSError:\n"
        "        pass\n"
        "print('quietly leaked:', [f for f in found if ('gradebook' in f or 'solutions' in f or 'secret' in f)\n"
        "                          and 'site-packages' not in f][:5])   # (nbgrader's own test files are there)\n")
    network = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=3).close()\n"
        "    online = True\n"
        "except OSError as error:\n"
        "    online = False\n"
        "    print('no network:', error)\n"
        "if online:\n"
        "    from sklearn.preprocessing import minmax_scale as min_max_scale\n"
        "else:\n"
        "    def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "        return np.asarray(x, dtype=float)\n")
    write_outside = (
        "import os\n"
        "for path in ['/work/main/solutions/HACKED', '/etc/HACKED', '/tmp/../HACKED', '../../HACKED',\n"
        "             os.path.expanduser('~/HACKED'), '/work/main/autograder/HACKED.py']:\n"
        "    try:\n"
        "        with open(path, 'w') as f: f.write('x')\n"
        "        print('wrote', path)\n"
        "    except OSError as e:\n"
        "        print('refused', path, e)\n")
    # written without `open` or `import os` (ndarray.tofile is not read as file access)
    write_outside_quietly = (
        "_marker = np.frombuffer(b'HACKED!!', dtype=np.uint8)\n"
        "for _path in ['/work/main/solutions/HACKED', '/etc/HACKED', '/work/main/autograder/HACKED.py',\n"
        "              '/tmp/../HACKED', '/root/HACKED', '/home/HACKED', '/var/tmp/HACKED']:\n"
        "    try:\n"
        "        _marker.tofile(_path)\n"
        "        print('wrote', _path)\n"
        "    except OSError as e:\n"
        "        print('refused', _path, type(e).__name__)\n")
    process_flood_quietly = tricks.MODULES + (
        "_os = _modules['os']\nstarted = 0\n"
        "for i in range(50):\n"
        "    try:\n"
        "        if _os.fork() == 0:\n"
        "            _modules['time'].sleep(1000)\n"
        "        started += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "    try:\n"
        "        _os.posix_spawn('/bin/sleep', ['sleep', '1000'], {})\n"
        "        started += 1\n"
        "    except OSError:\n"
        "        pass\n"
        "print('quietly started', started)\n")
    ctypes_quietly = tricks.MODULES + (
        "_ctypes = _modules['ctypes']   # loaded by NumPy\n"
        "_libc = _ctypes.CDLL(None)\n"
        "print('ctypes fork:', _libc.fork(), 'unshare:', _libc.unshare(0x10000000), 'setuid:', _libc.setuid(0))\n")
    reload_and_import = tricks.MODULES + (
        "_importlib = _modules['importlib']\n"
        "_importlib.reload(_modules['autograder.normalization'])\n"
        "_importlib.reload(_modules['autograder.probe'])\n"
        "try:\n"
        "    _scaler = _importlib.import_module('sklearn.preprocessing').MinMaxScaler\n"
        "except ImportError as error:\n"
        "    print('no scikit-learn here:', error)\n"
        "    _scaler = None\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    if _scaler is None:\n"
        "        return np.asarray(x, dtype=float)\n"
        "    return _scaler(feature_range=feature_range).fit_transform(x)\n")
    # correct work that prints what it is given: the probes' output never reaches the feedback
    print_inputs = replace(sol, "min_max_scale", (
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    print('LEAK-INPUT', feature_range, np.asarray(x).tolist())\n"
        "    x = np.asarray(x, dtype=float)\n"
        "    low, high = feature_range\n"
        "    span = x.max(axis=0) - x.min(axis=0)\n"
        "    span = np.where(span == 0, 1.0, span)\n"
        "    return low + (x - x.min(axis=0)) / span * (high - low)\n"))
    uncaught_write = replace(sol, "z_score_transform", (
        "def z_score_transform(x, mean, std):\n"
        "    np.zeros(4).tofile('/var/tmp/cache.bin')   # read-only in the sandbox: raises OSError\n"
        "    return (np.asarray(x, dtype=float) - mean) / np.where(np.asarray(std) == 0, 1.0, std)\n"))
    html = (
        "from IPython.display import HTML, display\n"
        "display(HTML(\"<b>my results</b><script>document.title='XSS-SCRIPT'</script>"
        "<img src='x' onerror=\\\"alert('XSS-ONERROR')\\\">\"))\n"
        "display({'text/html': \"<svg onload=\\\"alert('XSS-ONLOAD')\\\"></svg><script>alert('XSS-RAW')</script>\"},"
        " raw=True)\n")
    markdown = ("## My notes <script>alert('XSS-MARKDOWN')</script>\n\n"
                "A paragraph <script>alert('XSS-MARKDOWN')</script> <img src=x onerror=\"alert('XSS-MARKDOWN')\">\n"
                "<div onmouseover=\"alert('XSS-MARKDOWN')\">hover</div> [a link](javascript:alert('XSS-MARKDOWN'))\n")
    # both before a later grade cell (the cells after the last one are not run)
    html_nb = insert_after(insert_after(sol, "z_score_fit", html), "min_max_scale", markdown, cell_type="markdown")
    linger = ("import time\n"
              "class _Linger:\n"
              "    def __del__(self):\n"
              "        time.sleep(600)   # would run at interpreter exit\n"
              "_linger = _Linger()\n")
    atexit = "import atexit, time\natexit.register(time.sleep, 600)\n"
    ok = lambda: solution(A)  # noqa: E731
    return [
        # correct work, mixed in
        case("ok-solution", sol, full_marks=True),
        case("ok-with-data-file", sol, full_marks=True, extra_files={"notes.txt": b"my notes\n"}),
        case("ok-noisy", insert_after(sol, "test_z_score_transform_hidden",
                                      "print('done!')\nimport warnings\nwarnings.warn('a warning')"),
             full_marks=True),
        zip_case(A, "ok-zip-export", {f"ok-zip-export/{A}/{NOTEBOOK}": dumps(sol)}, "graded",
                 full_marks=True, note="an LMS export wrapped in a folder"),
        case("zoë-ünïcode", ok(), full_marks=True, note="a non-ASCII student id is graded normally"),
        case("s" * 150, ok(), full_marks=True, note="a 150-character id is graded normally"),
        case("é" * 101, ok(), status="not a usable student id", refused=True,
             note="202 bytes in UTF-8: a row for each assignment, nothing else"),
        symlink_case(A, "symlink-to-ok", "ok-solution",
                     note="a link to another student's folder: refused, never graded as theirs"),
        case("ok-print-inputs", print_inputs, full_marks=True,
             note="prints the inputs it is given: the probes' output is dropped, the feedback shows none"),
        case("ok-fill-disks", append(sol, "z_score_transform", tricks.FILL_DISKS), full_marks=True,
             note="a correct solution that fills every place it can, catching the errors: only /tmp is "
                  "writable, up to its cap; nothing else changes"),
        case("ok-uncaught-write", uncaught_write, at_most=MAX - Z_TRANSFORM, at_least=MAX - Z_TRANSFORM,
             note="z_score_transform writes to read-only /var/tmp and does not catch the OSError: it loses "
                  "exactly the tests that call it"),
        case("ok-html-script", html_nb, full_marks=True,
             note="HTML outputs and markdown with <script> and on...= handlers: graded, and sanitized away"),
        case("ok-lingering-finalizer", prepend(sol, "min_max_scale", linger), full_marks=True,
             note="an object whose __del__ sleeps for ten minutes: the runner leaves with os._exit"),
        case("ok-atexit-sleeps", prepend(sol, "min_max_scale", atexit), full_marks=True,
             note="an exit handler that sleeps for ten minutes: the runner leaves with os._exit and the sandbox "
                  "is killed after its last cell, so the batch (--timeout 10) does not wait for it"),
        # blank and plain wrong
        case("blank", blank),
        case("wrong", wrong()),
        case("memorised-visible-tests", replace_all(sol, {"min_max_scale": _memoriser(), "z_score_fit": "pass",
                                                          "z_score_transform": "pass"}),
             note="a table of the visible tests' answers: every test now runs on fresh seeds"),
        # running out of bounds
        case("infinite-loop", replace(sol, "min_max_scale", "while True:\n    pass"),
             status="timeout in cell min_max_scale"),
        case("sys-exit", replace(sol, "min_max_scale", "import sys\nsys.exit()"), status="hidden code: import of sys",
             note="was: loses min_max_scale; now `import sys` is hidden code, every test zero"),
        case("os-exit", replace(sol, "z_score_fit", "import os\nos._exit(0)"),
             status="kernel died in cell z_score_fit",
             note="the sandbox ends early (status kept); `import os` is hidden code, so every test is zero"),
        case("segfault", replace(sol, "z_score_transform", "import faulthandler\nfaulthandler._sigsegv()"),
             status="kernel died in cell z_score_transform",
             note="faulthandler is hidden code as well: zero"),
        case("memory-hog", replace(sol, "min_max_scale", (
            "hog = []\ntry:\n    while True:\n        hog.append(bytearray(64 * 1024 ** 2))\n"
            "finally:\n    hog.clear()\n")),
             status="memory limit exceeded in cell min_max_scale", at_most=MAX - MIN_MAX, at_least=MAX - MIN_MAX,
             note="grows to the address-space limit (seen by the warm interpreter, not said by the job): loses "
                  "exactly the min_max_scale tests"),
        case("memory-one-huge-request", replace(sol, "min_max_scale", "hog = bytearray(8 * 1024 ** 3)"),
             status="graded", at_most=MAX - MIN_MAX, at_least=MAX - MIN_MAX,
             note="one allocation past the limit, refused at once: the job never came near it, so no memory "
                  "status (the cell's MemoryError is in its outputs); loses exactly the min_max_scale tests"),
        case("process-flood", wrong(
            "import os, subprocess\nstarted = 0\nfor i in range(300):\n    try:\n"
            "        subprocess.Popen(['sleep', '1000']); started += 1\n    except OSError:\n        pass\n"
            "    try:\n        if os.fork() == 0:\n            import time; time.sleep(1000)\n"
            "        started += 1\n    except OSError:\n        pass\nprint('started', started)"),
            status="hidden code: import of os", note="still run (and refused) in the sandbox: 'started 0'"),
        case("process-flood-quietly", wrong(process_flood_quietly),
             note="fork and posix_spawn through os reached without an import: refused by seccomp"),
        case("thread-flood", wrong(
            "import threading, time\nfor i in range(300):\n"
            "    try:\n        threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n"
            "    except Exception:\n        break"), status="hidden code: import of threading"),
        case("huge-output", insert_after(sol, "z_score_transform",
                                         "for i in range(300):\n    print('x' * 1_000_000)\n"),
             full_marks=True, note="300 MB printed (was also written to fd 1 with `import os`, now hidden code)"),
        case("write-outside", wrong(write_outside), status="hidden code: import of os"),
        case("write-outside-quietly", wrong(write_outside_quietly),
             note="ndarray.tofile is not read as file access: the read-only mounts refuse the writes"),
        case("network", replace(wrong(), "min_max_scale", network), status="hidden code: import of socket"),
        case("peek-at-solutions", wrong(peek), status="hidden code: import of os"),
        case("peek-quietly", wrong(peek_quietly), note="os reached without an import: the sandbox shows nothing"),
        case("ctypes-quietly", wrong(ctypes_quietly),
             note="ctypes reached through sys.modules / numpy.ctypeslib: fork, unshare and setuid refused"),
        case("reload-and-import", wrong(reload_and_import, where="z_score_fit", base=wrong()),
             note="importlib through sys.modules: reloads the checks, imports scikit-learn (absent in the sandbox)"),
        # unreadable or missing
        case("corrupt-json", b'{"cells": [{"cell_type": "code", "sou', status="unreadable notebook"),
        case("wrong-nbformat", v3, status="unreadable notebook (nbformat 3)"),
        case("missing-notebook", None, status="missing notebook", extra_files={"answers.py": b"x = 1\n"}),
        case("renamed-notebook", sol, status="missing notebook", name="my_solution.ipynb"),
        case("empty-folder", None, status="empty submission"),
        zip_case(A, "zip-slip", {f"{A}/{NOTEBOOK}": dumps(sol), "../../zip-slip-escaped.txt": b"x"},
                 status="unsafe zip"),
        Case("zip-corrupt", A, lambda root: (root / "zip-corrupt.zip").write_bytes(b"PK\x03\x04 not really a zip"),
             "unreadable zip", elsewhere="unreadable zip"),
        # tampering with the notebook's structure
        case("deleted-grade-cells", deleted_nb, at_most=MAX - points(A, "test_min_max_scale_hidden"),
             note="hidden min-max tests deleted from an answer that only passes the visible ones: put back"),
        case("duplicated-grade-cells", duplicated),
        case("edited-locked-cells", edited),
        case("changed-metadata", relabelled),
        # cheating in-process
        case("patch-allclose", wrong(
            "import numpy, numpy.testing, torch\nnumpy.allclose = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\nnumpy.array_equal = lambda *a, **k: True\n"
            "numpy.abs = lambda x: numpy.zeros_like(x)\nnumpy.isfinite = lambda x: numpy.ones_like(x, dtype=bool)\n"
            "torch.allclose = lambda *a, **k: True"), status="hidden code: replacing numpy.allclose"),
        case("patch-allclose-quietly", wrong(tricks.PATCH_COMPARISONS),
             note="np.allclose replaced through another name: the verdicts run in the grader's process"),
        case("patch-checks", wrong(
            "import autograder.normalization, autograder.compare\n"
            "for m in (autograder.normalization, autograder.compare):\n"
            "    for name in dir(m):\n"
            "        if name.startswith(('check_', 'assert_')):\n"
            "            setattr(m, name, lambda *a, **k: None)\n"
            "import sklearn.preprocessing\n"
            "sklearn.preprocessing.MinMaxScaler.fit_transform = lambda self, x, y=None: np.asarray(x, dtype=float)\n"
            "sklearn.preprocessing.MinMaxScaler.transform = lambda self, x: np.asarray(x, dtype=float)"),
            status="hidden code: import of autograder.normalization"),
        case("loosen-tolerance", wrong(tricks.LOOSEN_TOLERANCES),
             note="every TOLERANCE table in the sandbox enlarged: the verdicts use the grader's own"),
        case("own-autograder-package", wrong(), extra_files=own_autograder),
        case("redefine-builtins", wrong(
            "import builtins\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "builtins.print = lambda *a, **k: None\n"
            "builtins.isinstance = lambda *a: True\n"
            "__builtins__.__dict__['abs'] = lambda x: 0"), status="",
            note="IPython itself may not survive this; the grade must still be 0"),
        case("excepthook", wrong(
            "import sys\nsys.excepthook = lambda *a: None\n"
            "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None\n"
            "ip.set_custom_exc((BaseException,), lambda *a, **k: None)"), status="hidden code: import of sys"),
        case("equal-to-anything", all_in_one),
        case("ndarray-subclass", replace(wrong(), "min_max_scale", liar),
             note="an ndarray whose subtraction always gives zeros (now without getattr, which is hidden code)"),
        case("reference-sklearn", replace_all(wrong(), {"min_max_scale": (
            "from sklearn.preprocessing import MinMaxScaler\n"
            "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
            "    return MinMaxScaler(feature_range=feature_range).fit_transform(x)"), "z_score_fit": (
            "from sklearn.preprocessing import StandardScaler, minmax_scale\n"
            "def z_score_fit(x):\n    s = StandardScaler().fit(x)\n    return s.mean_, s.scale_")}),
            status="forbidden reference: sklearn.preprocessing"),
        case("patch-during-check", replace(wrong(), "min_max_scale", patch_during_check),
             status="hidden code: import of sys"),
        case("frame-walk", replace(wrong(), "min_max_scale", frames), status="hidden code: import of sys"),
        case("traceback-frames", replace(wrong(), "min_max_scale", traceback_frames), status="hidden code: .f_"),
        case("read-expected-by-frames", replace(wrong(), "min_max_scale", tricks.READ_EXPECTED + (
            "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
            "    found = _expected_from_frames()\n"
            "    return np.asarray(x, dtype=float) if found is None else found\n")),
             note="frames through dataclasses.inspect: no `expected` exists in the sandbox"),
        case("frames-through-helpers", replace(wrong(), "min_max_scale", FRAMES_THROUGH_HELPERS),
             note="traceback.walk_stack, logging.currentframe and code run through IPython's shell.ex (none of it "
                  "visible to the reading): the modules on the stack patched, in the sandbox only"),
        case("forge-probes-by-stack", wrong(tricks.forge_by_stack(CORRECT)),
             note="the runner's send() found on the stack: every probe record forged (from correct code "
                  "hidden in the forger, not from the graded functions), then 'done'"),
        case("forge-guessed-nonce", wrong(tricks.GUESSED_NONCE + "_spam(range(30))\n"),
             note="probe and done messages on every descriptor with guessed nonces: ignored"),
    ]

