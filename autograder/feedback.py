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

from autograder.course import CONTENT_SECURITY_POLICY, CSP_META  # noqa: F401 - the pages' policy, kept with them
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


# Every pattern applied to learner text is linear: no two adjacent quantifiers can match the same characters
# (``\s*<?\s*`` could split a run of spaces in n ways: a 40 KB cell of spaces cost 16 s).
SCRIPT_LINK = re.compile(r"\]\(\s*(?:<\s*)?(?:javascript|vbscript|data)\s*:", re.IGNORECASE)


# mistune (nbconvert's markdown) is quadratic in a run of spaces (8,000 spaces: 0.8 s; 30,000: 13 s); longer runs
# than this draw nothing more (HTML collapses them) and become this many
LONGEST_SPACES = 64
_LONG_SPACES = re.compile(" {%d,}" % (LONGEST_SPACES + 1))


def clean_markdown(text: str) -> str:
    """A learner's markdown with plain formatting only (no script, no on*=, no javascript:), ready for mistune."""
    if "<" in text:
        text = bleach.clean(text, tags=SAFE_TAGS, attributes={"a": ["href", "title"]},
                            protocols={"http", "https", "mailto"}, strip=True, strip_comments=True)
    # markdown's own links, [text](javascript:...), become plain anchors
    text = SCRIPT_LINK.sub("](#", text)
    return _LONG_SPACES.sub(" " * LONGEST_SPACES, text)


class SanitizeMarkdown(Preprocessor):
    """Strip every HTML tag and attribute but plain formatting from markdown cells (no script, no on*=, no javascript:),
    and from the markdown outputs of code cells (``display(Markdown(...))``); their images load nothing
    (``no_remote_images``, in the page's filter, and the page's Content-Security-Policy)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
        elif cell.cell_type == "code":
            for output in cell.get("outputs", []):
                data = output.get("data") if isinstance(output, dict) else None
                if isinstance(data, dict) and isinstance(data.get("text/markdown"), str):
                    data["text/markdown"] = clean_markdown(data["text/markdown"])
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


def _text_underscores(tex: str) -> str:
    r"""``\text{a\_b}`` as ``\text{a_b}``: each ``\text{`` up to the next ``}``, found with ``str.find``.

    (The regular expression ``\\text\{([^}]*)\}`` scans to the end of the formula from every ``\text{`` that no
    ``}`` follows: quadratic in a learner's formula.)"""
    parts, position = [], 0
    while True:
        start = tex.find("\\text{", position)
        if start < 0:
            break
        end = tex.find("}", start + 6)
        if end < 0:
            break
        parts += [tex[position:start + 6], tex[start + 6:end].replace("\\_", "_"), "}"]
        position = end + 1
    return "".join(parts) + tex[position:]


# latex2mathml is superlinear in a formula's length (8,000 ``\text{a``: 3 s): a longer formula than this, which no
# exercise writes, stays as its TeX (readable)
LONGEST_FORMULA = 1000


@functools.lru_cache(maxsize=4096)  # the exercise's own formulas come back in every learner's page
def _mathml(tex: str, display: bool) -> str | None:
    if len(tex) > LONGEST_FORMULA:
        return None
    try:
        from latex2mathml.converter import convert
    except ImportError:  # without the converter the formula stays as TeX, still readable
        return None
    tex = html.unescape(tex)
    tex = _text_underscores(tex)
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


# an <img> tag of rendered markdown: [^<>]* stops at the next tag, so each tag is scanned once (linear)
_IMG_TAG = re.compile(r"<img\b[^<>]*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""\s(src|alt)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)


def _inline_image_only(match: re.Match) -> str:
    """An image whose picture is inside the page (``data:``) stays; any other becomes its words and its address.

    A markdown image (``![pixel](https://tracker/x.png)``, or by reference) would be fetched when the page is
    opened, telling whoever wrote it when and where the feedback was read; the page's Content-Security-Policy
    refuses the load too, and this leaves a readable trace of what was there instead of a broken picture."""
    tag = match.group(0)
    values = {}
    for attribute in _ATTRIBUTE.finditer(tag):
        values.setdefault(attribute.group(1).lower(), next(v for v in attribute.groups()[1:] if v is not None))
    source = html.unescape(values.get("src", "")).strip()
    if source.lower().startswith("data:image/"):
        return tag
    alt = html.unescape(values.get("alt", "")).strip()
    words = f"[image not loaded: {alt} ({source})]" if alt else f"[image not loaded: {source}]"
    return f'<span class="remote-image">{html.escape(words)}</span>'


def no_remote_images(text: str) -> str:
    """Rendered markdown with every ``<img>`` that would load from elsewhere replaced by its words (above)."""
    return _IMG_TAG.sub(_inline_image_only, text) if "<img" in text.lower() else text


def strip_files_prefix_with_mathml(text: str) -> str:
    """nbconvert's ``strip_files_prefix`` filter, then the formulas as MathML. nbgrader's feedback template
    passes every markdown cell (already rendered to HTML, and stripped of active markup by
    ``SanitizeMarkdown``) through this filter, which also keeps its images from loading anything
    (``no_remote_images``); registered under its name in nbgrader_config.py, it serves
    ``nbgrader generate_feedback`` and the class grader alike."""
    from nbconvert.filters.strings import strip_files_prefix

    return math_to_mathml(no_remote_images(strip_files_prefix(text)))


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
