"""nbgrader preprocessors for the feedback learners receive.

nbgrader's own feedback shows the autograded notebook as it ran, hidden tests
included (its issues #917 and #1363). ``ShortenHiddenTracebacks`` replaces the
traceback of a cell that holds hidden tests by the check's message alone
(IPython's traceback quotes the failing line of the hidden test);
nbgrader's ``ClearHiddenTests`` then removes the hidden source itself. Both
are switched on for ``nbgrader generate_feedback`` in nbgrader_config.py.
"""
from __future__ import annotations

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
