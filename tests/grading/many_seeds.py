"""The known wrong answers of exercises 7 and 8 graded as the class command grades them, over many fresh seeds.

The class command (``python -m autograder grade``) replaces every ``seed`` of a grade cell's check calls by a
fresh one (``grader.cells.collect``) and sends the parameters into the sandbox as JSON
(``grader.cells.encode_params``, ``grader.runner.decode_params``): strings arrive as new objects. This module
runs each grade cell the same way, in-process (the probe, the record through ``encode``/``decode``, the
verdict), for a list of fresh seeds, and reports per mutant and test cell: how many seeds failed it, and how
many of those failures named the mutant's mistake, named nothing, or named another mistake.

    python -m tests.grading.many_seeds --seeds 200 [--assignment 08_reproducing_batch_norm] [--mutant NAME ...]
        [--cells fails|visible|all] [--solution] [--caught-only]

``--cells all`` also grades the cells a mutant is not expected to fail, and reports every cell whose verdict
changed with the seed (what made plain nbgrader and the class command disagree before).
tests/grading/test_hints.py runs a few seeds of it in CI.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time

import numpy as np

from autograder.compare import CheckFailed
from autograder.probe import grading_mode
from grader.cells import encode_params
from grader.runner import decode_params
from tests.grading import mutants as known
from tests.grading.notebook_code import learner_namespace, nbgrader_meta, solution_notebook, with_replaced_cells

ASSIGNMENTS = ("07_hyperparameter_search", "08_reproducing_batch_norm")


def fresh_seeds(count: int, salt: int = 0) -> list[int]:
    """``count`` seeds as the command draws them: 31-bit, unknowable in advance (here from a fixed generator)."""
    return [int(s) for s in np.random.default_rng([20260306, salt]).integers(0, 2**31 - 1, count)]


def grade_cell(source: str, namespace: dict, seed: int | None) -> BaseException | None:
    """Run one grade cell; every check call gets ``seed + k`` (k-th call) and its parameters as the sandbox
    receives them. ``seed`` None: as written (plain nbgrader)."""
    calls = [0]

    def handler(check, learners, params):
        __tracebackhide__ = True
        params = dict(params)
        if seed is not None and "seed" in check.parameters:
            params["seed"] = (seed + 7919 * calls[0]) % (2**31 - 1)
        calls[0] += 1
        if seed is not None:
            params = decode_params(encode_params(params))
        check.bind(learners, params)
        record = check.run_probe(learners, params)
        from autograder.probe import decode, encode

        return check.run_verdict(decode(encode(record)), params)

    try:
        with grading_mode(handler), np.errstate(all="ignore"):
            exec(compile(source, "<grade cell>", "exec"), dict(namespace))
        return None
    except Exception as error:  # noqa: BLE001 -- a failed grade cell, whatever it raised
        return error


def cells_of(assignment: str) -> list[tuple[str, str]]:
    return [(nbgrader_meta(c)["grade_id"], c.source) for c in solution_notebook(assignment).cells
            if nbgrader_meta(c).get("grade")]


def sweep(mutant, seeds: list[int], which: str = "fails", only=None) -> dict:
    """{cell: Counter(outcome)} for a mutant (or None: the solution) over the seeds; outcomes: 'pass',
    'named' (exactly its mistake), 'unnamed', 'wrong:<ids>'."""
    assignment = mutant.assignment if mutant else sys_assignment[0]
    notebook = solution_notebook(assignment)
    if mutant:
        notebook = with_replaced_cells(notebook, mutant.cells)
    namespace = learner_namespace(notebook)
    cells = cells_of(assignment)
    if mutant and which == "fails":
        cells = [(g, s) for g, s in cells if g in mutant.fails]
    elif mutant and which == "visible":
        cells = [(g, s) for g, s in cells if g in mutant.fails and not g.endswith("_hidden")]
    if only:
        cells = [(g, s) for g, s in cells if g in only]
    results = collections.defaultdict(collections.Counter)
    for grade_id, source in cells:
        for seed in [None] + seeds:
            error = grade_cell(source, namespace, seed)
            key = "as written" if seed is None else "fresh"
            if error is None:
                outcome = "pass"
            else:
                ids = set(getattr(error, "mistakes", ()) or ())
                if not isinstance(error, CheckFailed):
                    outcome = f"error:{type(error).__name__}"
                elif mutant and ids == {mutant.mistake}:
                    outcome = "named"
                elif not ids:
                    outcome = "unnamed"
                else:
                    outcome = "wrong:" + ",".join(sorted(ids))
            results[(grade_id, key)][outcome] += 1
    return results


sys_assignment = ["08_reproducing_batch_norm"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--salt", type=int, default=0)
    parser.add_argument("--assignment", choices=ASSIGNMENTS)
    parser.add_argument("--mutant", nargs="*")
    parser.add_argument("--cells", choices=("fails", "visible", "all"), default="fails")
    parser.add_argument("--cell", nargs="*", help="only these test cells (grade ids)")
    parser.add_argument("--solution", action="store_true", help="grade the solution instead (every cell)")
    parser.add_argument("--caught-only", action="store_true",
                        help="exercise 8: skip the reruns that name a recipe mistake (faster; counts as 'unnamed')")
    args = parser.parse_args(argv)
    if args.caught_only:
        from autograder import reproducing_batch_norm

        reproducing_batch_norm.NAME_RECIPE_MISTAKES = False
    import torch

    torch.set_num_threads(1)
    seeds = fresh_seeds(args.seeds, args.salt)
    bad = 0
    if args.solution:
        for assignment in ([args.assignment] if args.assignment else ASSIGNMENTS):
            sys_assignment[0] = assignment
            start = time.perf_counter()
            for (cell, key), counts in sorted(sweep(None, seeds).items()):
                print(f"solution {assignment} {cell} [{key}]: {dict(counts)}", flush=True)
                bad += sum(n for outcome, n in counts.items() if outcome != "pass")
            print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
        return 1 if bad else 0
    chosen = [m for m in known.EVERY if m.assignment in ASSIGNMENTS and m.mistake
              and (not args.assignment or m.assignment == args.assignment)
              and (not args.mutant or m.name in args.mutant)]
    for mutant in chosen:
        start = time.perf_counter()
        for (cell, key), counts in sorted(sweep(mutant, seeds, args.cells, args.cell).items()):
            expected_fail = cell in mutant.fails
            passed = counts.get("pass", 0)
            total = sum(counts.values())
            flag = ""
            if expected_fail and passed:
                flag = "  <-- PASSED on some seeds"
            elif not expected_fail and 0 < passed < total:
                flag = "  <-- depends on the seed"
            wrong = sum(n for outcome, n in counts.items() if outcome.startswith(("wrong", "error")))
            if wrong:
                flag += "  <-- WRONG NAME"
            bad += bool(flag)
            print(f"{mutant.name} {cell} [{key}]: {dict(counts)}{flag}", flush=True)
        print(f"  ({time.perf_counter() - start:.0f} s)", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
