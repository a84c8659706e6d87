"""nbgrader preprocessors for the feedback learners receive.

nbgrader's own feedback shows the autograded notebook as it ran, hidden tests
included (its issues #917 and #1363). ``ShortenHiddenTracebacks`` replaces the
traceback of a cell that holds hidden tests by the check's message alone
(IPython's traceback quotes the failing line of the hidden test);
nbgrader's ``ClearHiddenTests`` then removes the hidden source itself.
``SanitizeMarkdown`` keeps the learner's markdown cells from carrying scripts,
event handlers or ``javascript:`` links into the page (nbconvert's
``sanitize_html`` covers the outputs). All are switched on for
``nbgrader generate_feedback`` in nbgrader_config.py, and the class grader uses
the same list.
"""
from __future__ import annotations

import functools
import html
import re

import bleach
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

from normreg.i18n import translator

_ = translator("grader")  # the feedback page's own words (normreg/locale/ko/LC_MESSAGES/grader.po)

HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"


class ShortenHiddenTracebacks(Preprocessor):
    """Keep only ``ErrorName: message`` in the error outputs of cells with hidden tests."""

    enabled = Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code" and HIDDEN_MARKER in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources


SAFE_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
             "li", "ol", "p", "pre", "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}


SCRIPT_LINK = re.compile(r"\]\(\s*<?\s*(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


class SanitizeMarkdown(Preprocessor):
    """Strip every HTML tag and attribute but plain formatting from markdown cells (no script, no on*=, no javascript:)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "<" in cell.source:
            cell.source = bleach.clean(cell.source, tags=SAFE_TAGS, attributes={"a": ["href", "title"]},
                                       protocols={"http", "https", "mailto"}, strip=True, strip_comments=True)
        # markdown's own links, [text](javascript:...), become plain anchors
        cell.source = SCRIPT_LINK.sub("](#", cell.source)
        return cell, resources


BOOK_PAGE = re.compile(r"\]\(\s*(?:\.\./)+book/([A-Za-z0-9_-]+)\.md(#[A-Za-z0-9_-]+)?\s*\)")
EXERCISE_PAGE = re.compile(r"\]\(\s*(?:\.\./)+([0-9]{2}_[A-Za-z0-9_]+)/([0-9]{2}_[A-Za-z0-9_]+)\.ipynb\s*\)")


class BookLinks(Preprocessor):
    """Links from an exercise to the book (``[chapter 1](../../book/01_data_normalization.md)``) and to the other
    exercises lead to the published book (``autograder.course.book_url``): relative to the notebook they resolve
    in the repository, never from a feedback page."""

    enabled = Bool(True).tag(config=True)
    language = "en"

    def preprocess(self, nb, resources):
        from autograder.i18n import notebook_language

        self.language = notebook_language(nb)  # the notebook's own metadata, never its code
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown" and "](" in cell.source:
            from autograder.course import book_url
            from autograder.mistakes import edition

            # a Korean notebook's links lead into the Korean edition (built under ko/, same page paths)
            root = edition(book_url(), self.language)
            cell.source = BOOK_PAGE.sub(lambda m: f"]({root}/book/{m.group(1)}.html{m.group(2) or ''})", cell.source)
            cell.source = EXERCISE_PAGE.sub(lambda m: f"]({root}/exercises/{m.group(1)}/{m.group(2)}.html)",
                                            cell.source)
        return cell, resources


def mistake_note(mistakes, root: str | None = None) -> dict | None:
    """The output a failed test cell gets for its recognised mistakes: each named in words, linked to its section."""
    from autograder.course import book_url
    from autograder.mistakes import MISTAKES, describe, mistake_link

    known = [m for m in mistakes if m in MISTAKES]
    if not known:
        return None
    root = root or book_url()
    lines_html, lines_text = [], []
    for mistake in known:
        link = mistake_link(mistake, root)
        words = describe(mistake)
        lines_html.append(_("<strong>Recognised mistake:</strong> {words}. <a href=\"{link}\">Read the book's section "
                            "on it</a> (<code>{link}</code>)").format(words=html.escape(words), link=html.escape(link)))
        lines_text.append(_("Recognised mistake: {words}. The book explains it: {link}").format(words=words, link=link))
    return {"text/html": "<br>".join(lines_html), "text/plain": "\n".join(lines_text)}


# ---------------------------------------------------------------- formulas without a script

MATHML_TAGS = {"math", "semantics", "annotation", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub",
               "msubsup", "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
               "mstyle", "mpadded", "mphantom", "menclose", "merror"}
MATHML_ATTRIBUTES = ["display", "xmlns", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace",
                     "width", "columnalign", "columnspacing", "rowspacing", "displaystyle", "scriptlevel",
                     "accent", "accentunder", "movablelimits", "minsize", "maxsize", "linethickness", "form",
                     "symmetric", "largeop", "notation", "encoding"]
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$([^$<>]+?)\$")


@functools.lru_cache(maxsize=4096)  # the exercise's own formulas come back in every learner's page
def _mathml(tex: str, display: bool) -> str | None:
    try:
        from latex2mathml.converter import convert
    except ImportError:  # without the converter the formula stays as TeX, still readable
        return None
    tex = html.unescape(tex)
    tex = re.sub(r"\\text\{([^}]*)\}", lambda m: "\\text{" + m.group(1).replace("\\_", "_") + "}", tex)
    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - TeX the converter does not know stays as it was written
        return None
    # the TeX is the learner's too (markdown cells): keep MathML elements and harmless attributes only
    return bleach.clean(markup, tags=MATHML_TAGS, attributes={"*": MATHML_ATTRIBUTES}, strip=True)


def math_to_mathml(text: str) -> str:
    """``$...$`` and ``$$...$$`` as MathML, which the browser draws itself: no MathJax, so no network."""
    text = _DISPLAY.sub(lambda m: _mathml(m.group(1), True) or m.group(0), text)
    return _INLINE.sub(lambda m: _mathml(m.group(1), False) or m.group(0), text)


def strip_files_prefix_with_mathml(text: str) -> str:
    """nbconvert's ``strip_files_prefix`` filter, then the formulas as MathML. nbgrader's feedback template
    passes every markdown cell (already rendered to HTML, and stripped of active markup by
    ``SanitizeMarkdown``) through this filter; registered under its name in nbgrader_config.py, it serves
    ``nbgrader generate_feedback`` and the class grader alike."""
    from nbconvert.filters.strings import strip_files_prefix

    return math_to_mathml(strip_files_prefix(text))


# ---------------------------------------------------------------- the page's words in the notebook's language

def translate(text: str, nb=None) -> str:
    """Jinja filter ``tr``: ``text`` in the language the notebook declares (``metadata.normreg.language``)."""
    from autograder.i18n import notebook_language
    from normreg.i18n import gettext

    return gettext("grader", text, notebook_language(nb or {}))


def notebook_lang(nb=None) -> str:
    """Jinja filter ``notebook_lang``: 'en' or 'ko', for the page's ``<html lang>``."""
    from autograder.i18n import notebook_language

    return notebook_language(nb or {})
