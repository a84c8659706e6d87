"""What the instructor sees while and after grading: a progress bar with an ETA, and a summary."""
from __future__ import annotations

import sys
from collections import Counter

from tqdm import tqdm


class Progress:
    """tqdm's bar on stderr: count, percentage, elapsed time and ETA, and how many were not graded."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        stream = stream or sys.stderr
        self.problems = 0
        # Off a terminal (CI logs) redraw rarely, so the log stays readable.
        interactive = getattr(stream, "isatty", lambda: False)()
        self.bar = tqdm(total=total, file=stream, disable=not enabled, desc="grading", unit="notebook",
                        mininterval=0.5 if interactive else 5.0, dynamic_ncols=interactive)

    def advance(self, ok: bool = True):
        if not ok:
            self.problems += 1
            self.bar.set_postfix_str(f"{self.problems} not graded", refresh=False)
        self.bar.update(1)

    def show(self, force: bool = False):
        self.bar.refresh()

    def finish(self):
        self.bar.close()


def printable(text) -> str:
    """``text`` for a terminal: control characters (escape sequences in a file or folder name) shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def summary(records: list[dict], graded_now: int, skipped: int, wall: float, notebooks_run: int,
            warnings: list[str], out, cpu: dict | None = None) -> str:
    statuses = Counter(r["status"] for r in records)
    lines = [f"Graded {graded_now} submission(s) in {wall:.1f} s"
             + (f" ({notebooks_run / wall * 60:.1f} notebooks/min)" if wall > 0 and notebooks_run else "")
             + (f"; {skipped} unchanged since the last run (use --force to regrade)" if skipped else ""),
             f"{len(records)} row(s) in {out}/grades.csv:"]
    for status, count in sorted(statuses.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:4d}  {printable(status)}")
    graded = [r for r in records if r["max_score"] and r.get("score") is not None]
    if graded:
        mean = sum(r["score"] / r["max_score"] for r in graded) / len(graded)
        full = sum(1 for r in graded if r["score"] >= r["max_score"])
        lines.append(f"mean score {mean:.0%}; {full} of {len(graded)} with full marks")
    lines.append(f"feedback: {out}/feedback/<student>/<assignment>/<notebook>.html")
    if cpu and graded_now:
        lines.append(f"CPU per submission: head {cpu['head'] / graded_now * 1000:.0f} ms, workers "
                     f"{cpu['workers'] / graded_now * 1000:.0f} ms (of which the learner's code in the sandbox "
                     f"{cpu['sandbox'] / graded_now * 1000:.0f} ms); warm sandboxes started: {cpu['starts']}"
                     + (f"; once, the head's imports for its workers: {cpu['preload']:.1f} s" if cpu.get("preload") else ""))
    for warning in warnings:
        lines.append(f"warning: {printable(warning)}")
    return "\n".join(lines)
