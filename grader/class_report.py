"""``OUT/report.html``: what the class got wrong, on one self-contained page.

Written at the end of every grading run and by ``python -m autograder report OUT``,
from the results the journal keeps (the same data as ``grades.csv`` and
``results.jsonl``). One HTML file with its pictures inside (PNG data URIs made
with matplotlib), no script, no request to anywhere: it opens offline from a
disk, an e-mail or the LMS. Its sections:

- scores per assignment (a histogram each) and how many rows ended in each status;
- pass rate per test, visible and hidden side by side (visible passed, hidden
  failed: the code fits the visible inputs only);
- the recognised mistakes (``autograder/mistakes.py``), ranked by how many
  learners made them, each linked to the book section that explains it, with
  an example message in which no student id appears (the verdict's own
  words only: a message that quotes text from the sandbox is never shown);
- the slowest notebooks and the cells that timed out;
- the students whose work needs a look (forbidden references, hidden code,
  tampering, limits hit), with the reason.
"""
from __future__ import annotations

import base64
import html
import io
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

from autograder.course import CSP_META
from autograder.course import book_url as default_book_url
from autograder.mistakes import MISTAKES, describe, mistake_link
from normreg.i18n import translator

_ = translator("grader")  # the page's words: --lang ko writes it in Korean (normreg/locale/ko/LC_MESSAGES/grader.po)


def status_label(kind: str) -> str:
    """A status kind's words on the page (the kinds themselves stay the data's English names)."""
    return {"graded": _("graded"), "timeout": _("timeout"), "kernel died": _("kernel died"), "missing": _("missing"),
            "unreadable": _("unreadable"), "forbidden reference": _("forbidden reference"),
            "hidden code": _("hidden code"), "other": _("other")}.get(kind, kind)

STATUS_KINDS = ("graded", "timeout", "kernel died", "missing", "unreadable", "forbidden reference", "hidden code",
                "other")
LOOK_AT = ("forbidden reference", "hidden code", "tampering", "memory limit", "output too large", "unsafe zip",
           "not a usable student id", "grader error", "refused", "unreadable notebook (too deeply nested)")
# notes that put a row on the list too: the grader could not see the grade cells it expected (their nbgrader
# metadata removed, e.g. cells copied into a new notebook), a notebook under another name (a renamed download,
# "01_normalization (1).ipynb": missing for nbgrader too, so never graded here), or a message was forged
LOOK_NOTES = ("hidden code", "forged", "grade cells missing", "not found (found")
GAP = 0.1   # visible pass rate this much above the hidden one: the code fits the visible inputs
SLOWEST = 10
e = html.escape


def status_kind(status: str) -> str:
    """The report's name for a grades.csv status (the statuses the README lists, grouped)."""
    status = status or ""
    for prefix, kind in (("graded", "graded"), ("timeout", "timeout"), ("kernel died", "kernel died"),
                         ("missing notebook", "missing"), ("no submission", "missing"), ("unreadable notebook", "unreadable"),
                         ("invalid cell metadata", "unreadable"), ("forbidden reference", "forbidden reference"),
                         ("hidden code", "hidden code")):
        if status.startswith(prefix):
            return kind
    return "other"


def _tests(records):
    for record in records:
        for test in record.get("tests") or []:
            if isinstance(test, dict):
                yield record, test


def test_pair(grade_id: str) -> str:
    """The test a grade cell belongs to: ``test_x_hidden`` and ``test_x`` are one test, hidden and visible."""
    return re.sub(r"_hidden$", "", grade_id)


def summarise(records: list[dict]) -> dict:
    """Every number the page shows, as plain data (the tests compare these with the known class)."""
    assignments = sorted({r["assignment"] for r in records})
    students = sorted({r["student_id"] for r in records})
    statuses = {a: Counter(status_kind(r["status"]) for r in records if r["assignment"] == a) for a in assignments}
    scores = {a: [r["score"] / r["max_score"] for r in records if r["assignment"] == a and r.get("max_score")
                  and r.get("score") is not None and status_kind(r["status"]) != "missing"] for a in assignments}
    rates: dict[str, dict[str, dict[str, list[int]]]] = defaultdict(lambda: defaultdict(dict))
    learners: dict[str, set] = defaultdict(set)
    where: dict[str, Counter] = defaultdict(Counter)
    examples: dict[str, str] = {}
    for record, test in _tests(records):
        side = "hidden" if test.get("hidden") else "visible"
        if test.get("checked") or test.get("passed"):
            count = rates[record["assignment"]][test_pair(str(test.get("test")))].setdefault(side, [0, 0])
            count[0] += bool(test.get("passed"))
            count[1] += 1
        for mistake in test.get("mistakes") or []:
            if mistake not in MISTAKES:
                continue
            learners[mistake].add(record["student_id"])
            where[mistake][f"{record['assignment']}: {test.get('test')}"] += 1
            # the example is the verdict's own message: never one that holds text written in the sandbox
            # (a record's failure text, a string the learner's code returned), which a notebook controls
            message = str(test.get("message") or "") if test.get("own_message") is True else ""
            if message and (mistake not in examples or len(message) < len(examples[mistake])):
                examples[mistake] = message
    ranked = sorted(learners, key=lambda m: (-len(learners[m]), m))
    mistakes = [{"id": m, "learners": len(learners[m]), "description": describe(m),
                 "label": MISTAKES[m].label, "tests": [t for t, _ in where[m].most_common()],
                 "example": anonymise(examples.get(m, ""), students)} for m in ranked]
    timed = sorted(({"student_id": r["student_id"], "assignment": r["assignment"], "notebook": notebook,
                     "seconds": float(seconds), "status": r["status"]}
                    for r in records for notebook, seconds in (r.get("seconds") or {}).items()
                    if isinstance(seconds, (int, float))), key=lambda t: -t["seconds"])
    timeouts = [{"student_id": r["student_id"], "assignment": r["assignment"], **t}
                for r in records for t in (r.get("timeouts") or []) if isinstance(t, dict)]
    look = []
    for r in records:
        notes = [n for n in r.get("notes") or [] if any(word in n for word in LOOK_NOTES + ("kernel died",))]
        if any(word in r["status"] for word in LOOK_AT) or any(word in n for n in notes for word in LOOK_NOTES):
            look.append({"student_id": r["student_id"], "assignment": r["assignment"], "reason": r["status"],
                         "notes": notes})
    return {"assignments": assignments, "students": students, "rows": len(records), "statuses": statuses,
            "scores": scores, "pass_rates": {a: {t: dict(v) for t, v in tests.items()} for a, tests in rates.items()},
            "mistakes": mistakes, "slowest": timed[:SLOWEST], "timeouts": timeouts, "look": look}


def anonymise(message: str, students: list[str], limit: int = 600) -> str:
    """The message with every student id replaced (longest first, so that no part of one survives), shortened."""
    for student in sorted((s for s in students if len(s) >= 2), key=len, reverse=True):
        message = message.replace(student, "<student>")
    message = message.strip()
    return message if len(message) <= limit else message[:limit].rstrip() + " ..."


# ---------------------------------------------------------------- pictures

def _figure_uri(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 11, "axes.titlesize": 11, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt


def score_figure(assignment: str, fractions: list[float]) -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 2.6))
    ax.hist([100 * f for f in fractions], bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100.001], color="#3b6ea5",
            edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel(_("score (% of the maximum)"))
    ax.set_ylabel(_("submissions"))
    ax.set_title(_("{assignment}: {count} scored").format(assignment=assignment, count=len(fractions)))
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _figure_uri(fig)


def pass_rate_figure(assignment: str, tests: dict[str, dict[str, list[int]]]) -> str:
    plt = _plt()
    names = list(tests)
    fig, ax = plt.subplots(figsize=(max(4.6, 1.3 * len(names) + 1.5), 2.9))
    width = 0.38
    for offset, side, color in ((-width / 2, "visible", "#3b6ea5"), (width / 2, "hidden", "#d9822b")):
        rates = [100 * tests[n][side][0] / tests[n][side][1] if tests[n].get(side) and tests[n][side][1] else 0.0
                 for n in names]
        ax.bar([i + offset for i in range(len(names))], rates, width, label={"visible": _("visible"), "hidden": _("hidden")}[side], color=color)
    ax.set_xticks(range(len(names)), [n.removeprefix("test_") for n in names], rotation=20, ha="right")
    ax.set_ylim(0, 100)
    ax.set_ylabel(_("passed (%)"))
    ax.set_title(_("{assignment}: pass rate per test").format(assignment=assignment))
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return _figure_uri(fig)


def mistakes_figure(mistakes: list[dict], students: int) -> str:
    plt = _plt()
    shown = mistakes[:15][::-1]
    fig, ax = plt.subplots(figsize=(6.4, 0.34 * len(shown) + 1.0))
    ax.barh(range(len(shown)), [m["learners"] for m in shown], color="#a53b4f")
    ax.set_yticks(range(len(shown)), [m["id"] for m in shown])
    ax.set_xlabel(_("learners (of {students})").format(students=students))
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(_("recognised mistakes, most frequent first"))
    return _figure_uri(fig)


# ---------------------------------------------------------------- the page

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; height: auto; display: block; margin: 0.5rem 0; }
.gap { background: #fde8d7; } pre { white-space: pre-wrap; margin: 0; font-size: 0.85rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; } .muted { color: #666; }
.wide { overflow-x: auto; max-width: 100%; }  /* a table wider than a phone scrolls in its own box */
td { overflow-wrap: anywhere; }
"""


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset(), row_class=None) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cls = f' class="{row_class(i)}"' if row_class and row_class(i) else ""
        body.append(f"<tr{cls}>" + "".join(f'<td class="n">{c}</td>' if j in numeric else f"<td>{c}</td>"
                                          for j, c in enumerate(row)) + "</tr>")
    return f"<div class=\"wide\"><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def render(records: list[dict], book_url: str | None = None, lang: str | None = None) -> str:
    """The page, in ``lang`` ('en' or 'ko'; default: the language in use), its links into that edition of the book."""
    from normreg.i18n import language, set_language

    previous = language()
    set_language(lang or previous)
    try:
        return _render(records, book_url)
    finally:
        set_language(previous)


def _render(records: list[dict], book_url: str | None = None) -> str:
    from autograder.mistakes import edition
    from normreg.i18n import language

    root = (book_url or default_book_url()).rstrip("/")
    book = edition(root)  # the edition of the report's language (mistake_link adds it to the root itself)
    data = summarise(records)
    parts = [f"<!DOCTYPE html><html lang='{language()}'><head><meta charset='utf-8'>{CSP_META}"
             "<meta name='viewport' content='width=device-width, initial-scale=1'>"
             "<title>" + e(_("Class report")) + f"</title><style>{STYLE}</style></head><body>",
             "<h1>" + e(_("What the class got wrong")) + "</h1>",
             "<p>" + _("{students} students, {assignments} assignment(s), {rows} rows of grades.csv; written {when}. "
                       "Mistakes link to the book at {link}.").format(
                 students=len(data['students']), assignments=len(data['assignments']), rows=data['rows'],
                 when=e(time.strftime('%Y-%m-%d %H:%M')), link=f"<a href='{e(book)}/index.html'>{e(book)}</a>")
             + "</p>"]

    parts.append("<h2 id='scores'>" + e(_("Scores and statuses")) + "</h2><div class='figures'>")
    for assignment in data["assignments"]:
        fractions = data["scores"][assignment]
        alt = _("Histogram of the scores of {assignment}: {count} submissions scored, {full} with full marks, "
                "{zero} with zero").format(assignment=assignment, count=len(fractions),
                                           full=sum(f >= 1 for f in fractions), zero=sum(f == 0 for f in fractions))
        parts.append(f"<img src='{score_figure(assignment, fractions)}' alt='{e(alt)}'>")
    parts.append("</div>")
    rows = [[e(a)] + [str(data["statuses"][a].get(kind, 0)) for kind in STATUS_KINDS] for a in data["assignments"]]
    parts.append(_table([_("assignment"), *map(status_label, STATUS_KINDS)], rows,
                        numeric=set(range(1, len(STATUS_KINDS) + 1))))

    parts.append("<h2 id='tests'>" + e(_("Pass rate per test, visible and hidden")) + "</h2><p>"
                 + e(_("Each test has a visible cell (the learner ran it) and a hidden one (other inputs, run at "
                       "grading). Rows in colour pass visibly at least {gap:.0%} more often than hidden: code that "
                       "fits the visible inputs only. Only notebooks that ran count.").format(gap=GAP))
                 + "</p><div class='figures'>")
    for assignment in data["assignments"]:
        tests = data["pass_rates"].get(assignment, {})
        if tests:
            alt = _("Bar chart: pass rate of each test of {assignment}, visible and hidden side by side").format(
                assignment=assignment)
            parts.append(f"<img src='{pass_rate_figure(assignment, tests)}' alt='{e(alt)}'>")
    parts.append("</div>")
    rows, gaps = [], []
    for assignment in data["assignments"]:
        for test, sides in data["pass_rates"].get(assignment, {}).items():
            cells, rates = [], {}
            for side in ("visible", "hidden"):
                passed, total = sides.get(side, [0, 0])
                rates[side] = passed / total if total else None
                cells.append(f"{passed} / {total}" + (f" ({passed / total:.0%})" if total else ""))
            gaps.append(rates["visible"] is not None and rates["hidden"] is not None
                        and rates["visible"] - rates["hidden"] >= GAP)
            rows.append([e(assignment), e(test), *cells])
    parts.append(_table([_("assignment"), _("test"), _("visible passed"), _("hidden passed")], rows, numeric={2, 3},
                        row_class=lambda i: "gap" if gaps[i] else ""))

    parts.append("<h2 id='mistakes'>" + e(_("Recognised mistakes")) + "</h2>")
    if data["mistakes"]:
        alt = _("Horizontal bar chart: the {count} most frequent recognised mistakes and how many learners made "
                "each").format(count=min(15, len(data['mistakes'])))
        parts.append(f"<img src='{mistakes_figure(data['mistakes'], len(data['students']))}' alt='{e(alt)}'>")
        rows = []
        for rank, m in enumerate(data["mistakes"], 1):
            link = mistake_link(m["id"], root)
            rows.append([str(rank), f"<a href='{e(link)}'>{e(m['description'])}</a><br><span class='muted'>"
                                    f"{e(m['id'])}</span>",
                         str(m["learners"]), e(", ".join(m["tests"][:4])), f"<pre>{e(m['example'])}</pre>"])
        parts.append(_table(["#", _("mistake (book section)"), _("learners"), _("seen in"), _("example message")], rows,
                            numeric={0, 2}))
    else:
        parts.append("<p>" + e(_("No recognised mistake in these results.")) + "</p>")

    parts.append("<h2 id='time'>" + e(_("Slowest notebooks and timed-out cells")) + "</h2>")
    rows = [[e(t["student_id"]), e(t["assignment"]), e(t["notebook"]), f"{t['seconds']:.1f}", e(t["status"])]
            for t in data["slowest"]]
    parts.append(_table([_("student"), _("assignment"), _("notebook"), _("seconds"), _("status")], rows, numeric={3})
                 if rows else "<p>" + e(_("No notebook ran.")) + "</p>")
    rows = [[e(t["student_id"]), e(t["assignment"]), e(str(t.get("notebook"))), e(str(t.get("cell")))]
            for t in data["timeouts"]]
    parts.append(_table([_("student"), _("assignment"), _("notebook"), _("cell that timed out")], rows)
                 if rows else "<p>" + e(_("No cell timed out.")) + "</p>")

    parts.append("<h2 id='look'>" + e(_("Work that needs a look")) + "</h2>")
    rows = [[e(t["student_id"]), e(t["assignment"]), e(t["reason"]), e("; ".join(t["notes"]))] for t in data["look"]]
    parts.append(_table([_("student"), _("assignment"), _("reason"), _("notes")], rows) if rows
                 else "<p>" + e(_("No forbidden reference, hidden code, tampering or limit hit.")) + "</p>")
    parts.append("</body></html>")
    return "".join(parts)


def write(out: Path, records: list[dict], book_url: str | None = None, lang: str | None = None) -> Path:
    from grader.journal import _atomic_write

    path = Path(out) / "report.html"
    _atomic_write(path, render(records, book_url, lang))
    return path
