"""Author-year labels in the bibliography, to match the author-year citations in the text.

The text cites with ``bibtex_reference_style: author_year`` ("Ioffe and Szegedy, 2015"), but
sphinxcontrib-bibtex's default list style, pybtex's ``alpha``, labels the list ``[IS15]``. This
registers a pybtex formatting style, ``author_year`` (unsrt entries, sorted by author, year and
title, as ``alpha`` is), whose labels read like the citations: "LeCun et al., 1998". Selected with
``bibtex_default_style: author_year`` in _config.yml.
"""
from __future__ import annotations

from collections import Counter
from string import ascii_lowercase

from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(part.render_as("text") for part in person.rich_prelast_names + person.rich_last_names)


def author_year(entry) -> str:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if not names:
        who = entry.fields.get("key") or entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """"Surname, year", "A and B, year" or "A et al., year"; 1998a, 1998b when two would be equal."""

    def format_labels(self, sorted_entries):
        sorted_entries = list(sorted_entries)
        labels = [author_year(entry) for entry in sorted_entries]
        repeated = {label for label, n in Counter(labels).items() if n > 1}
        seen: Counter = Counter()
        for label in labels:
            if label in repeated:
                seen[label] += 1
                label += ascii_lowercase[seen[label] - 1]
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_sorting_style = "author_year_title"
    default_label_style = "normreg_author_year"


def setup(app):
    register_plugin("pybtex.style.labels", "normreg_author_year", AuthorYearLabels)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
