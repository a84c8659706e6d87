"""Keep the Korean catalogs of the graders' messages in step with the code: ``python -m autograder.catalogs``.

Two catalogs, both read at run time by ``normreg.i18n`` (Babel, no compiled ``.mo``):

- ``normreg/locale/ko/LC_MESSAGES/autograder.po``: every message of the checks, hints and probes
  (``_("...")`` in ``autograder/*.py``) and every recognised mistake's description
  (``autograder/mistakes.py``, one entry per mistake, its id as the entry's comment);
- ``normreg/locale/ko/LC_MESSAGES/grader.po``: the feedback page's and the class report's words
  (``_("...")`` in ``autograder/feedback.py``, ``grader/class_report.py``, ``grader/exports.py``, and
  ``{{ "..." | tr(nb) }}`` in the feedback page's template, ``autograder/templates/course_feedback``).

``python -m autograder.catalogs`` (no argument: ``update``) extracts the messages from the code with
Babel's Python extractor, adds the new ones to the catalogs (untranslated), keeps every translation
whose English text is unchanged, marks as fuzzy (with the old translation as a start) an entry whose
English text changed only a little, and drops the messages the code no longer has. ``check`` prints
what is wrong and exits 1: a message of the code missing from the catalog or vice versa, an entry
untranslated or fuzzy, placeholders (``{name}``) that differ between the English and the Korean text.
``tests/grading/test_messages_ko.py`` runs the same check.
"""
from __future__ import annotations

import io
import re
import string
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCALE = REPO / "normreg" / "locale"
LANGS = ("ko",)
SOURCES = {
    "autograder": [p for p in sorted((REPO / "autograder").glob("*.py"))
                   if p.name not in ("feedback.py", "catalogs.py", "nbgrader_config.py", "i18n.py")],
    "grader": [REPO / "autograder" / "feedback.py", REPO / "grader" / "class_report.py", REPO / "grader" / "exports.py"],
}
# the feedback page's template: its words are written {{ "Score:" | tr(nb) }}
TEMPLATES = {"grader": [REPO / "autograder" / "templates" / "course_feedback" / "index.html.j2"]}
TEMPLATE_WORDS = re.compile(r'\{\{\s*"((?:[^"\\]|\\.)*)"\s*\|\s*tr\(nb\)\s*\}\}')


def _extract(paths) -> dict[str, list[str]]:
    from babel.messages.extract import extract

    found: dict[str, list[str]] = {}
    for path in paths:
        if not path.is_file():
            continue
        with open(path, "rb") as f:
            for lineno, message, _comments, _context in extract("python", f, keywords={"_": None}):
                if isinstance(message, str) and message:
                    found.setdefault(message, []).append(f"{path.relative_to(REPO)}:{lineno}")
    return found


def code_messages(domain: str) -> dict[str, list[str]]:
    """msgid -> where in the code (``path:line``; a mistake's description: ``mistake:ID``)."""
    found = _extract(SOURCES[domain])
    for path in TEMPLATES.get(domain, ()):
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for message in TEMPLATE_WORDS.findall(line):
                found.setdefault(message, []).append(f"{path.relative_to(REPO)}:{lineno}")
    if domain == "autograder":
        from autograder.mistakes import MISTAKES

        for mistake in MISTAKES.values():
            found.setdefault(mistake.description, []).append(f"mistake:{mistake.id}")
    return found


def po_path(domain: str, lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{domain}.po"


def read(domain: str, lang: str):
    return read_file(po_path(domain, lang), domain, lang)


def read_file(path: Path, domain: str, lang: str):
    """The Babel catalog in ``path`` (an empty one if there is no file yet)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    if not path.is_file():
        return Catalog(locale=lang, domain=domain)
    with open(path, "rb") as f:
        return read_po(f, locale=lang, domain=domain)


def write(catalog, domain: str, lang: str) -> None:
    from babel.messages.pofile import write_po

    path = po_path(domain, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, sort_output=False, include_previous=True)
    path.write_bytes(buffer.getvalue())


def update(domain: str, lang: str) -> tuple[int, int]:
    """Bring one catalog in step with the code; (entries, of which untranslated or fuzzy)."""
    from babel.messages.catalog import Catalog

    old = read(domain, lang)
    template = Catalog(domain=domain, project="normreg course", charset="utf-8")
    for message, where in code_messages(domain).items():
        template.add(message, locations=[(w.rsplit(":", 1)[0], int(w.rsplit(":", 1)[1]))
                                         if w.rsplit(":", 1)[1].isdigit() else (w, None) for w in where])
    old.update(template, no_fuzzy_matching=False)
    old.obsolete.clear()
    old.language_team = "Korean"
    write(old, domain, lang)
    pending = sum(1 for m in old if m.id and (not m.string or m.fuzzy))
    return sum(1 for m in old if m.id), pending


_FIELD = string.Formatter()


def placeholders(text: str) -> list[str]:
    """The ``{name...}`` fields of a message, sorted (an unbalanced brace is reported as its own field)."""
    try:
        return sorted(f"{{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
                      for _lit, name, spec, conv in _FIELD.parse(text) if name is not None)
    except ValueError as error:
        return [f"<unbalanced: {error}>"]


def problems(domain: str, lang: str) -> list[str]:
    code = code_messages(domain)
    catalog = read(domain, lang)
    entries = {m.id: m for m in catalog if m.id}
    found = []
    for message in code:
        if message not in entries:
            found.append(f"not in {po_path(domain, lang).name}: {message!r} ({code[message][0]})")
    for message, entry in entries.items():
        if message not in code:
            found.append(f"in the catalog but not in the code: {message!r}")
            continue
        if not entry.string:
            found.append(f"untranslated: {message!r} ({code[message][0]})")
        elif entry.fuzzy:
            found.append(f"fuzzy: {message!r} ({code[message][0]})")
        elif placeholders(message) != placeholders(entry.string):
            found.append(f"placeholders differ: {message!r} has {placeholders(message)}, "
                         f"the translation {placeholders(entry.string)}")
        elif re.search(r"%[sdr(]", message) and message.count("%") != entry.string.count("%"):
            found.append(f"%-fields differ: {message!r}")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "update"
    if command == "update":
        for domain in SOURCES:
            for lang in LANGS:
                total, pending = update(domain, lang)
                print(f"{po_path(domain, lang).relative_to(REPO)}: {total} entries, {pending} to translate or review")
        return 0
    if command == "check":
        bad = [p for domain in SOURCES for lang in LANGS for p in problems(domain, lang)]
        print("\n".join(bad) or "every message has its translation")
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
