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

import re

import bleach
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

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
