"""``{glossary-table} PATH``: the course's glossary (a TSV of english, korean, note) as a table.

Why: the glossary page of both editions shows ``locale/ko/glossary.tsv``, the one list of the
Korean terms that the catalogs and the tests use, so it cannot drift from what they check. The
terms are not prose to translate: their cells are built without a source line, so Sphinx's
gettext builder does not extract them (no catalog entry per term); the notes are prose, and each
is a msgid of the page's catalog. The column headings are given here in the edition's language. The page is rebuilt when the TSV changes.
"""
from __future__ import annotations

import csv
from pathlib import Path

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

HEADINGS = {"en": ("English", "Korean", "Note"), "ko": ("영어", "한국어", "비고")}


def read_glossary(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.DictReader(f, delimiter="\t") if (row.get("english") or "").strip()]


class GlossaryTable(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self):
        _, path = self.env.relfn2path(self.arguments[0])
        self.env.note_dependency(path)
        rows = read_glossary(Path(path))
        language = self.config.language if self.config.language in HEADINGS else "en"

        table = nodes.table(classes=["normreg-glossary", "colwidths-given"])  # the writer emits the widths
        group = nodes.tgroup(cols=3)
        table += group
        for width in (38, 22, 40):
            group += nodes.colspec(colwidth=width)

        source, line = self.state_machine.get_source_and_line(self.lineno)

        def row(cells, english=None):
            entry_row = nodes.row()
            for i, text in enumerate(cells):
                entry = nodes.entry()
                paragraph = nodes.paragraph(text, text)
                if i == 0 and english is not None:
                    paragraph["lang"] = "en"
                if i == 2 and english is not None and text:
                    # a note is prose: a msgid of the page's catalog, translated like any sentence
                    paragraph.source, paragraph.line = source, line
                entry += paragraph
                entry_row += entry
            return entry_row

        head = nodes.thead()
        head += row(HEADINGS[language])
        group += head
        body = nodes.tbody()
        for item in rows:
            body += row((item["english"], item["korean"], item.get("note") or ""), english=True)
        group += body
        return [table]


def setup(app):
    app.add_directive("glossary-table", GlossaryTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
