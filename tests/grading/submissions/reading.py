"""The reading of the learner's cells fails closed, and ordinary code keeps its points (issue 19).

Cheats that hide what they run from the reading (a cell that does not parse, ``%time exec(...)``, an alias
of ``exec`` or ``getattr``, ``map(exec, ...)``, IPython's shell and history, dunder access, a thread, an
``os`` function outside the short list) earn nothing, with a "hidden code" status the class report lists
under "work that needs a look". A forbidden kernel reached by a route no name shows (``F.instance_norm``
runs batch norm inside aten) refuses in the sandbox. Correct solutions with the standard library and NumPy
an honest learner writes (``os.path``, ``logging``, ``json.load(open(...))``, ``np.memmap``, ``%time``...)
keep full marks. A NumPy exercise's notebook that imports torch gets the same explained zero as in the
learner's Jupyter and under nbgrader.
"""
from __future__ import annotations

from tests.grading.submissions import batchnorm_inference as bn
from tests.grading.submissions import dropout
from tests.grading.submissions.common import Case, exercise, folder_case, insert_after, meta, replace, solution, source

N = "01_normalization"
D = "06_dropout"
B = "04_batchnorm_inference"

# Cases of other modules whose first finding is now another one (still hidden code, still zero):
# `import os` / `import sys` are read, and what follows them is judged.
READ_NOW = {
    "sys-exit": "hidden code: sys.exit", "process-flood": "hidden code: import of subprocess",
    "write-outside": "hidden code: open() for writing a computed path", "peek-at-solutions": "hidden code: import of glob",
    "excepthook": "hidden code: replacing sys.excepthook", "patch-during-check": "hidden code: sys.modules",
    "frame-walk": "hidden code: ._getframe", "ndarray-subclass": "hidden code: .__array_ufunc__",
}


def _solution_code(assignment: str, *grade_ids: str) -> str:
    cells = {meta(c).get("grade_id"): source(c) for c in solution(assignment)["cells"]}
    return "\n\n".join(cells[g] for g in grade_ids)


def _blank_with(assignment: str, grade_id: str, text: str) -> dict:
    """The released exercise with one solution cell replaced (the others keep their NotImplementedError)."""
    return replace(exercise(assignment), grade_id, text)


def cases() -> list[Case]:
    everything = _solution_code(N, "min_max_scale", "z_score_fit", "z_score_transform")
    hidden = repr(everything)
    sol, dsol = solution(N), solution(D)

    def cheat(student, content, status, assignment=N, note=""):
        return folder_case(assignment, student, content, status=status, note=note)

    def honest(student, content, assignment=N, note=""):
        return folder_case(assignment, student, content, full_marks=True, note=note)

    honest_os = "\n".join([
        "import os, logging, faulthandler",
        "logging.basicConfig(level=logging.WARNING)",
        "log = logging.getLogger(__name__)",
        "faulthandler.enable()",
        "DATA_DIR = os.path.join(os.getcwd(), os.environ.get('DATA_DIR', 'data'))",
        "os.makedirs('scratch', exist_ok=True)",
        "log.info('cpus: %s, files: %d', os.cpu_count(), len(os.listdir('.')))",
        _solution_code(N, "min_max_scale").replace('    ### BEGIN SOLUTION\n',
                                                    '    ### BEGIN SOLUTION\n    log.debug("scaling %s", np.shape(x))\n'),
    ])
    honest_json = "\n".join([
        "import json",
        "with open('settings.json', 'w') as handle:",
        "    json.dump({'eps': 0.0}, handle)",
        "SETTINGS = json.load(open('settings.json'))",
        "with open('settings.json') as handle:",
        "    SETTINGS.update(json.loads(handle.read()))",
        _solution_code(N, "z_score_fit"),
    ])
    honest_memmap = "\n".join([
        "scratch = np.memmap('scratch.dat', dtype=np.float64, mode='w+', shape=(4,))",
        "scratch[:] = np.arange(4.0)",
        "scratch.flush()",
        "again = np.memmap('scratch.dat', dtype=np.float64, mode='r', shape=(4,))",
        "np.save('again.npy', np.asarray(again))",
        "assert np.load('again.npy').sum() == 6.0",
        _solution_code(N, "z_score_transform"),
    ])
    honest_magics = "%%time\n" + _solution_code(N, "min_max_scale") + "\n%time _ = min_max_scale(np.eye(3))\n"
    honest_stdlib = "\n".join([
        "import math, itertools, functools, collections, time, typing, dataclasses, random, statistics, copy, warnings",
        "from functools import lru_cache",
        "from typing import Optional",
        "@dataclasses.dataclass",
        "class Settings:",
        "    p: float = 0.5",
        "    tags: list = dataclasses.field(default_factory=list)",
        "_started = time.perf_counter()",
        "_counts = collections.Counter(itertools.chain('ab', 'bc'))",
        "random.seed(0)",
        "_spread = statistics.pstdev([1.0, 2.0, 3.0]) + math.sqrt(4.0)",
        "_backup = copy.deepcopy(Settings())",
        "with warnings.catch_warnings():",
        "    warnings.simplefilter('ignore')",
        "@lru_cache(maxsize=None)",
        "def scale_for(p: float) -> Optional[float]:",
        "    return None if p >= 1 else 1.0 / (1.0 - p)",
        _solution_code(D, "dropout_forward"),
    ])
    honest_dunders = _solution_code(D, "Dropout") + "\n".join([
        "",
        "    def __repr__(self):",
        "        return f'{type(self).__name__}(p={self.p})'",
        "",
        "    def __len__(self):",
        "        return 0",
        "",
        "assert Dropout.__name__ == 'Dropout' and Dropout(0.5).__repr__().startswith('Dropout')",
    ])
    instance_norm = bn.module_calling(
        "torch.nn.functional.instance_norm(x.t().unsqueeze(0), None, None, self.weight, self.bias, "
        "use_input_stats=True, eps=self.eps)[0].t()")

    return [
        # cheats: every one hides what it runs from the reading, and earns nothing with a status
        cheat("read-unparsable-cell", insert_after(sol, "z_score_transform", "def broken(:\n    pass"),
              "hidden code: a cell the grader cannot read as Python",
              note="a correct solution plus a cell that does not parse: not skipped, refused"),
        cheat("read-help-syntax", insert_after(sol, "z_score_transform", "np.mean?"),
              "hidden code: a cell the grader cannot read as Python",
              note="IPython's own syntax (np.mean?) is not Python the grader can read"),
        cheat("read-time-magic-exec", _blank_with(N, "min_max_scale", f"%time exec({hidden})"),
              "hidden code: exec()", note="%time runs its argument: it is read as code"),
        cheat("read-timeit-cell-magic", _blank_with(N, "min_max_scale", f"%%timeit -n 1 -r 1 exec({hidden})\npass"),
              "hidden code: exec()", note="%%timeit's setup statement is read too"),
        cheat("read-exec-alias", _blank_with(N, "min_max_scale", f"run = exec\nrun({hidden})"),
              "hidden code: exec used as a value"),
        cheat("read-map-exec", _blank_with(N, "min_max_scale", f"list(map(exec, [{hidden}]))"),
              "hidden code: exec used as a value"),
        cheat("read-getattr-alias", _blank_with(N, "min_max_scale", (
            "fetch = getattr\n_b = fetch(fetch(np, 'random'), '__builtins__')\n")),
              "hidden code: getattr used as a value"),
        cheat("read-shell-run-cell", _blank_with(N, "min_max_scale", f"get_ipython().run_cell({hidden})"),
              "hidden code: get_ipython"),
        cheat("read-history", insert_after(_blank_with(N, "min_max_scale", f"CODE = {hidden}"), "min_max_scale",
                                           "get_ipython().ex(In[-2].split('=', 1)[1])"),
              "hidden code: get_ipython", note="IPython's history and shell API"),
        cheat("read-subclasses", _blank_with(N, "min_max_scale", (
            "_types = ().__class__.__base__.__subclasses__()\n")), "hidden code: .__subclasses__"),
        cheat("read-os-system", _blank_with(N, "min_max_scale", "import os\nos.system('true')\n" + everything),
              "hidden code: os.system", note="os is read: os.path and its like pass, os.system does not"),
        cheat("read-os-as-value", _blank_with(N, "min_max_scale", "import os\n_o = [os][0]\n_o.system('true')\n"
                                              + everything), "hidden code: the module os used as a value"),
        cheat("read-thread-dropout", dropout.wrong(Dropout="import threading\n_F = [torch.nn.functional]\n"
                                                   + dropout.MODULE.format(call="self._on_thread(x)") + (
            "\n    def _on_thread(self, x):\n        box = []\n"
            "        worker = threading.Thread(target=lambda: box.append(_F[0].dropout(x, self.p, self.training)))\n"
            "        worker.start()\n        worker.join()\n        return box[0]\n")),
              "hidden code: import of threading", assignment=D,
              note="F.dropout on a thread, where a per-thread watch would not see it"),
        cheat("read-pickle-load", _blank_with(N, "min_max_scale", (
            "_x = np.load('payload.npy', allow_pickle=True)\n" + everything)), "hidden code: allow_pickle=True"),
        # a forbidden kernel by a route no name shows: refused in the sandbox, noted, a forbidden-reference status
        folder_case(B, "read-bn-by-instance-norm", bn.wrong(BatchNorm1d=instance_norm), status="forbidden reference",
                    note="training batch norm as F.instance_norm over (1, C, N): "
                    "aten's batch_norm runs inside it and refuses in the sandbox"),
        # honest code keeps full marks
        honest("read-ok-os-logging", replace(sol, "min_max_scale", honest_os),
               note="os.path, os.environ, os.makedirs, logging, faulthandler in a correct solution"),
        honest("read-ok-json-open", replace(sol, "z_score_fit", honest_json),
               note="json.dump into a file named in the cell, json.load(open(...)) back"),
        honest("read-ok-memmap", replace(sol, "z_score_transform", honest_memmap), note="np.memmap, np.save, np.load"),
        honest("read-ok-magics", replace(sol, "min_max_scale", honest_magics), note="%%time and %time around code"),
        honest("read-ok-stdlib", replace(dsol, "dropout_forward", honest_stdlib), assignment=D,
               note="math, itertools, functools, collections, time, typing, dataclasses, random, statistics, copy, "
                    "warnings"),
        honest("read-ok-dunders", replace(dsol, "Dropout", honest_dunders), assignment=D,
               note="__init__, __repr__, __len__, __name__: the dunders honest code writes"),
        # one rule for every path: torch in a NumPy exercise is the same explained zero everywhere
        folder_case(N, "read-imports-torch", replace(sol, "min_max_scale", "import torch\n"
                                                     + _solution_code(N, "min_max_scale")),
                    note="exercise 01's grading provides only NumPy: every test says to remove `import torch`, "
                         "as it does in the learner's Jupyter and under nbgrader"),
    ]

