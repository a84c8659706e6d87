"""The third attack's findings on the trusted side's own work (attack3's report): hidden code costs the tests after
it only, the feedback step stays linear, and feedback pages load nothing.

- **Hidden code costs the affected tests only.** What the reading refuses (a computed ``getattr``,
  ``open(f"...", "w")``, ``%load_ext``...) never runs: the notebook runs up to (not including) the first cell
  holding it. The tests before that cell are graded as usual; those after it score nothing with a message naming
  the cell; the row's status says ``hidden code`` (listed under "work that needs a look") even with full marks.
  Refused code inside a function defined early and called later cuts at the function's cell.
- **Linear feedback and metadata steps** (D1, D3): a markdown cell of ``[the book](`` and 40,000 spaces (16 s of a
  worker's CPU before, in ``SCRIPT_LINK`` and in mistune), 4,900 raw cells claiming grade ids (quadratic in
  ``restore_cell_metadata``): graded, full marks, in the batch's time; 50,000 cells: an unreadable notebook
  (``work.MAX_CELLS``), refused before the slow steps.
- **Feedback pages load nothing** (M1): a markdown image from a tracker becomes words; the page carries a
  Content-Security-Policy that forbids every load (``test_grade_batch.py`` reads the pages).
"""
from __future__ import annotations

import copy

from tests.grading.submissions.common import Case, folder_case, insert_after, meta, points, replace, solution, source

N = "01_normalization"
MIN_MAX = ("test_min_max_scale", "test_min_max_scale_hidden")
FIT = ("test_z_score_fit", "test_z_score_fit_hidden")
TRACKER = "https://tracker.example.invalid/a3-md.png"
REDOS = "See [the book](" + " " * 40000 + "x"


def _prepend_to(nb: dict, grade_id: str, text: str) -> dict:
    for cell in nb["cells"]:
        if meta(cell).get("grade_id") == grade_id:
            return replace(nb, grade_id, text + "\n" + source(cell))
    raise KeyError(grade_id)


def _with_raw_cells(nb: dict, n: int) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"] += [{"cell_type": "raw", "metadata": {"nbgrader": {"grade_id": f"g{i}"}}, "source": ""}
                    for i in range(n)]
    return nb


def cases() -> list[Case]:
    sol = solution(N)
    before_fit = points(N, *MIN_MAX)                  # the tests before the z_score_fit cell
    before_transform = points(N, *MIN_MAX, *FIT)      # the tests before the z_score_transform cell
    getattr_cell = "import numpy as np\nrng = np.random.default_rng(0)\nkind = 'uniform'\nsample = getattr(rng, kind)(0, 1)"
    open_cell = "name = 'fit'\nwith open(f'stats_{name}.txt', 'w') as handle:\n    handle.write('1')"
    early = ("def _peek(x):\n    kind = 'mean'\n    return getattr(x, kind)()\n\n" + source(next(
        c for c in sol["cells"] if meta(c).get("grade_id") == "min_max_scale")))
    return [
        # hidden code: only the tests after the first cell holding it lose their points; the status says so
        folder_case(N, "a3-load-ext-trailing", insert_after(sol, "test_z_score_transform_hidden",
                                                            "%load_ext autoreload\n%autoreload 2"),
                    status="hidden code: the magic %load_ext", full_marks=True,
                    note="%load_ext in a scratch cell after the last test: every test comes before it"),
        folder_case(N, "a3-getattr-between", insert_after(sol, "test_min_max_scale_hidden", getattr_cell),
                    status="hidden code", at_most=before_fit, at_least=before_fit,
                    note="a computed getattr between min_max_scale's tests and z_score_fit: those tests keep theirs"),
        folder_case(N, "a3-open-in-transform", _prepend_to(sol, "z_score_transform", open_cell),
                    status="hidden code", at_most=before_transform, at_least=before_transform,
                    note="open(f'...', 'w') in the z_score_transform cell: that cell and every later one never run"),
        folder_case(N, "a3-load-ext-first", _prepend_to(sol, "min_max_scale", "%load_ext autoreload\n%autoreload 2"),
                    status="hidden code", note="%load_ext in the first solution cell: every test comes after it"),
        folder_case(N, "a3-refused-in-early-function", replace(sol, "min_max_scale", early), status="hidden code",
                    note="refused code inside a function of the first solution cell: cut there, whoever calls it"),
        # a kernel that dies with no hidden code (the old os-exit/segfault cases now stop at their hidden code):
        # repr of a list nested a million deep, under a recursion limit raised with sys.setrecursionlimit
        folder_case(N, "a3-kernel-dies-readably", replace(sol, "z_score_fit", (
            "import sys\nsys.setrecursionlimit(10 ** 8)\nnested = []\nfor _ in range(10 ** 6):\n"
            "    nested = [nested]\ntext = repr(nested)")), status="in cell z_score_fit",
            at_most=before_fit, at_least=before_fit,
            note="a segfault in C (stack overflow): the tests before it keep (the status says 'kernel died', or "
                 "'timeout' on a loaded machine, where the overflow took longer than --timeout 10)"),
        # the trusted side's work stays linear in what the learner wrote
        folder_case(N, "a3-redos-markdown", insert_after(sol, "normalization-md-05", REDOS, cell_type="markdown"),
                    full_marks=True, note="[the book]( and 40,000 spaces: 16 s of a worker's CPU before"),
        folder_case(N, "a3-many-raw-cells", _with_raw_cells(sol, 4900), full_marks=True,
                    note="4,900 raw cells claiming grade ids: quadratic in restore_cell_metadata before"),
        folder_case(N, "a3-too-many-cells", _with_raw_cells(sol, 50000), status="unreadable notebook (too many cells",
                    note="50,000 raw cells (attack3's 7 MB notebook): refused before nbformat reads it (30 s of CPU)"),
        # feedback pages load nothing
        folder_case(N, "a3-remote-image", insert_after(sol, "normalization-md-05", f"![tracking pixel]({TRACKER})",
                                                       cell_type="markdown"),
                    full_marks=True, note="a markdown image from a tracker: words in the page, never a request"),
    ]
