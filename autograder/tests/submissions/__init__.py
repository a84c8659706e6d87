"""Adversarial and broken submissions of ``01_normalization``, generated, for ``test_grade_batch.py``.

Each ``Case`` writes one student's submission into a SUBMISSIONS folder
(nbgrader's ``<student>/<assignment>/`` layout, or ``<student>.zip``) and says
what grading must give: the status (a substring of it), and either full
marks or at most some score (no false credit). The correct ones are mixed in,
so the batch also shows that the bad ones do not stop or slow the others.

The wrong answers below are deliberately wrong (identity functions); each
cheat tries to make them pass anyway.
"""
from __future__ import annotations

import copy
import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


from autograder.course import EXERCISES, notebooks

ASSIGNMENT = "01_normalization"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
MAX_SCORE = 12.0
MIN_MAX_POINTS = 5.0  # test_min_max_scale (2) + test_min_max_scale_hidden (3)

WRONG = {
    "min_max_scale": "def min_max_scale(x, feature_range=(0.0, 1.0)):\n    return np.asarray(x, dtype=float)",
    "z_score_fit": "def z_score_fit(x):\n    x = np.asarray(x, dtype=float)\n"
                   "    return np.zeros(x.shape[1]), np.ones(x.shape[1])",
    "z_score_transform": "def z_score_transform(x, mean, std):\n    return np.asarray(x, dtype=float)",
}


def solution() -> dict:
    (path,) = notebooks(ASSIGNMENT)
    return json.loads(path.read_text())


def exercise() -> dict:
    return json.loads((EXERCISES / ASSIGNMENT / NOTEBOOK).read_text())


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def replace(nb: dict, grade_id: str, source: str) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if _meta(cell).get("grade_id") == grade_id:
            cell["source"] = source
            return nb
    raise KeyError(grade_id)


def wrong(extra: str = "", where: str = "min_max_scale", base: dict | None = None) -> dict:
    """The solution with every function wrong; ``extra`` code prepended to the cell ``where``."""
    nb = base or solution()
    for grade_id, source in WRONG.items():
        nb = replace(nb, grade_id, (extra + "\n" + source) if grade_id == where and extra else source)
    return nb


def insert_after(nb: dict, grade_id: str, source: str, metadata: dict | None = None) -> dict:
    nb = copy.deepcopy(nb)
    for index, cell in enumerate(nb["cells"]):
        if _meta(cell).get("grade_id") == grade_id:
            nb["cells"].insert(index + 1, {"cell_type": "code", "execution_count": None,
                                           "metadata": metadata or {}, "outputs": [], "source": source})
            return nb
    raise KeyError(grade_id)


@dataclass(frozen=True)
class Case:
    student: str
    write: Callable[[Path], None]   # writes the submission under SUBMISSIONS
    status: str                     # grades.csv status must contain this
    full_marks: bool = False        # correct: 12/12
    at_most: float = 0.0            # otherwise: no more than this score
    note: str = ""


def folder_case(student, content, status="graded", full_marks=False, at_most=0.0, name=NOTEBOOK, note="",
                extra_files: dict[str, bytes] | None = None) -> Case:
    def write(root: Path):
        folder = root / student / ASSIGNMENT
        folder.mkdir(parents=True, exist_ok=True)
        if content is not None:
            data = content if isinstance(content, bytes) else json.dumps(content).encode()
            (folder / name).write_bytes(data)
        for relative, payload in (extra_files or {}).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_bytes(payload)
    return Case(student, write, status, full_marks, at_most, note)


def zip_case(student, members: dict[str, bytes], status, full_marks=False, at_most=0.0, note="") -> Case:
    def write(root: Path):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as bundle:
            for name, data in members.items():
                bundle.writestr(name, data)
        (root / f"{student}.zip").write_bytes(buffer.getvalue())
    return Case(student, write, status, full_marks, at_most, note)


def _dumps(nb: dict) -> bytes:
    return json.dumps(nb).encode()


def cases() -> list[Case]:
    sol = solution()
    blank = exercise()
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": []}]}
    only_visible = replace(sol, "min_max_scale", "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
                           "    low, high = feature_range\n"
                           "    if x.dtype != np.float64:\n        return x\n"
                           "    r = x.max(0) - x.min(0)\n    r[r == 0] = 1\n"
                           "    return low + (x - x.min(0)) / r * (high - low)")
    deleted_nb = dict(only_visible, cells=[c for c in only_visible["cells"] if _meta(c).get("grade_id") not in
                                           ("test_min_max_scale_hidden", "test_z_score_fit", "test_z_score_fit_hidden")])
    duplicated = copy.deepcopy(blank)
    fakes = [dict(copy.deepcopy(c), source="pass") for c in duplicated["cells"] if _meta(c).get("grade")]
    duplicated["cells"] = fakes + duplicated["cells"] + fakes
    edited = copy.deepcopy(blank)
    for cell in edited["cells"]:
        if _meta(cell).get("grade"):
            cell["source"] = "print('all tests passed')"
    relabelled = copy.deepcopy(wrong())
    for cell in relabelled["cells"]:
        meta = _meta(cell)
        if meta.get("grade_id") == "test_min_max_scale":
            meta["points"] = 100
        elif meta.get("grade_id") == "test_min_max_scale_hidden":
            meta["grade"] = False
            meta["locked"] = False
            cell["source"] = "pass"
        elif meta.get("grade_id") == "test_z_score_fit":
            meta["grade_id"] = "my_own_test"
            cell["source"] = "pass"
        elif meta.get("grade_id") == "z_score_fit":
            meta["grade"] = True
            meta["points"] = 50
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
        "        return getattr(ufunc, method)(*inputs, **kwargs)\n"
        "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
        "    return np.asarray(x, dtype=float).view(Liar)\n")
    all_in_one = replace(replace(replace(sol, "min_max_scale", equal_anything), "z_score_fit", "pass"),
                         "z_score_transform", "pass")
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
    return [
        # correct work, mixed in
        folder_case("ok-solution", sol, full_marks=True),
        folder_case("ok-with-data-file", sol, full_marks=True, extra_files={"notes.txt": b"my notes\n"}),
        folder_case("ok-noisy", insert_after(sol, "test_z_score_transform_hidden",
                                             "print('done!')\nimport warnings\nwarnings.warn('a warning')"),
                    full_marks=True),
        zip_case("ok-zip-export", {f"ok-zip-export/{ASSIGNMENT}/{NOTEBOOK}": _dumps(sol)}, "graded",
                 full_marks=True, note="an LMS export wrapped in a folder"),
        # blank and plain wrong
        folder_case("blank", blank, at_most=0),
        folder_case("wrong", wrong(), at_most=0),
        # running out of bounds
        folder_case("infinite-loop", replace(sol, "min_max_scale", "while True:\n    pass"),
                    status="timeout in cell min_max_scale", at_most=0),
        folder_case("sys-exit", replace(sol, "min_max_scale", "import sys\nsys.exit()"), at_most=MAX_SCORE - 5),
        folder_case("os-exit", replace(sol, "z_score_fit", "import os\nos._exit(0)"),
                    status="kernel died in cell z_score_fit", at_most=MIN_MAX_POINTS),
        folder_case("segfault", replace(sol, "z_score_transform", "import faulthandler\nfaulthandler._sigsegv()"),
                    status="kernel died in cell z_score_transform", at_most=MAX_SCORE - 4),
        folder_case("memory-hog", replace(sol, "min_max_scale", "hog = bytearray(8 * 1024 ** 3)"),
                    status="memory limit exceeded in cell min_max_scale", at_most=MAX_SCORE - 5),
        folder_case("process-flood", wrong(
            "import os, subprocess\nstarted = 0\nfor i in range(300):\n    try:\n"
            "        subprocess.Popen(['sleep', '1000']); started += 1\n    except OSError:\n        pass\n"
            "    try:\n        if os.fork() == 0:\n            import time; time.sleep(1000)\n"
            "        started += 1\n    except OSError:\n        pass\nprint('started', started)"), at_most=0),
        folder_case("thread-flood", wrong(
            "import threading, time\nfor i in range(300):\n"
            "    try:\n        threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()\n"
            "    except Exception:\n        break"), at_most=0),
        folder_case("huge-output", insert_after(sol, "z_score_transform",
                                                "import os\nfor i in range(300):\n    print('x' * 1_000_000)\n"
                                                "    os.write(1, b'y' * 1_000_000)\n"),
                    full_marks=True, note="300 MB printed and 300 MB written to fd 1"),
        folder_case("write-outside", wrong(write_outside), at_most=0),
        folder_case("network", replace(wrong(), "min_max_scale", network), at_most=0),
        folder_case("peek-at-solutions", wrong(peek), at_most=0),
        # unreadable or missing
        folder_case("corrupt-json", b'{"cells": [{"cell_type": "code", "sou', status="unreadable notebook"),
        folder_case("wrong-nbformat", v3, status="unreadable notebook (nbformat 3)"),
        folder_case("missing-notebook", None, status="missing notebook", extra_files={"answers.py": b"x = 1\n"}),
        folder_case("renamed-notebook", sol, status="missing notebook", name="my_solution.ipynb"),
        folder_case("empty-folder", None, status="empty submission"),
        zip_case("zip-slip", {f"{ASSIGNMENT}/{NOTEBOOK}": _dumps(sol), "../../zip-slip-escaped.txt": b"x"},
                 status="unsafe zip"),
        Case("zip-corrupt", lambda root: (root / "zip-corrupt.zip").write_bytes(b"PK\x03\x04 not really a zip"),
             "unreadable zip"),
        # tampering with the notebook's structure
        folder_case("deleted-grade-cells", deleted_nb, at_most=MAX_SCORE - 3,
                    note="hidden min-max tests deleted from an answer that only passes the visible ones"),
        folder_case("duplicated-grade-cells", duplicated, at_most=0),
        folder_case("edited-locked-cells", edited, at_most=0),
        folder_case("changed-metadata", relabelled, at_most=0),
        # cheating in-process
        folder_case("patch-allclose", wrong(
            "import numpy, numpy.testing, torch\nnumpy.allclose = lambda *a, **k: True\n"
            "numpy.testing.assert_allclose = lambda *a, **k: None\nnumpy.array_equal = lambda *a, **k: True\n"
            "numpy.abs = lambda x: numpy.zeros_like(x)\nnumpy.isfinite = lambda x: numpy.ones_like(x, dtype=bool)\n"
            "torch.allclose = lambda *a, **k: True"), at_most=0),
        folder_case("patch-checks", wrong(
            "import autograder.normalization, autograder.compare\n"
            "for m in (autograder.normalization, autograder.compare):\n"
            "    for name in dir(m):\n"
            "        if name.startswith(('check_', 'assert_')):\n"
            "            setattr(m, name, lambda *a, **k: None)\n"
            "import sklearn.preprocessing\n"
            "sklearn.preprocessing.MinMaxScaler.fit_transform = lambda self, x, y=None: np.asarray(x, dtype=float)\n"
            "sklearn.preprocessing.MinMaxScaler.transform = lambda self, x: np.asarray(x, dtype=float)"), at_most=0),
        folder_case("own-autograder-package", wrong(), at_most=0, extra_files=own_autograder),
        folder_case("redefine-builtins", wrong(
            "import builtins\n"
            "builtins.AssertionError = type('AssertionError', (Exception,), {})\n"
            "builtins.print = lambda *a, **k: None\n"
            "builtins.isinstance = lambda *a: True\n"
            "__builtins__.__dict__['abs'] = lambda x: 0"), status="", at_most=0,
            note="IPython itself may not survive this; the grade must still be 0"),
        folder_case("excepthook", wrong(
            "import sys\nsys.excepthook = lambda *a: None\n"
            "ip = get_ipython()\nip.showtraceback = lambda *a, **k: None\nip._showtraceback = lambda *a, **k: None\n"
            "ip.set_custom_exc((BaseException,), lambda *a, **k: None)"), at_most=0),
        folder_case("equal-to-anything", all_in_one, at_most=0),
        folder_case("ndarray-subclass", replace(wrong(), "min_max_scale", liar), at_most=0,
                    note="an ndarray whose subtraction always gives zeros"),
        folder_case("reference-sklearn", replace(replace(wrong(), "min_max_scale",
            "from sklearn.preprocessing import MinMaxScaler\n"
            "def min_max_scale(x, feature_range=(0.0, 1.0)):\n"
            "    return MinMaxScaler(feature_range=feature_range).fit_transform(x)"), "z_score_fit",
            "from sklearn.preprocessing import StandardScaler, minmax_scale\n"
            "def z_score_fit(x):\n    s = StandardScaler().fit(x)\n    return s.mean_, s.scale_"), at_most=0),
        folder_case("patch-during-check", replace(wrong(), "min_max_scale", patch_during_check), at_most=0),
        folder_case("frame-walk", replace(wrong(), "min_max_scale", frames), at_most=0),
        folder_case("traceback-frames", replace(wrong(), "min_max_scale", traceback_frames), at_most=0),
    ]
