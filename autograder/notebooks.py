"""The exercise notebooks in Korean, made from the English ones and a catalog: ``python -m autograder.notebooks``.

The solution notebook (``solutions/<id>/<id>.ipynb``) stays the only hand-written version of an exercise.
Its words (markdown paragraphs, the comments and docstrings of its code cells, the text the visible tests
print) have their Korean text in ``locale/ko/LC_MESSAGES/notebooks/<id>.po``, one entry per paragraph,
comment, docstring or message. ``translate_notebook`` puts that text into a copy of a notebook, leaving every
line of code, every cell id, grade id and point as they are; ``exercises/ko/<id>/<id>.ipynb`` is the English
exercise (what ``nbgrader generate_assignment`` made from the solution) translated so. Both notebooks
therefore hold the same cells under the same ids and file name: one nbgrader assignment, one gradebook
column, serves both languages.

A Korean notebook differs in three ways only:

- its words;
- ``metadata.normreg.language = "ko"``: the graders read the language there and nowhere else
  (``autograder.i18n.notebook_language``);
- its first course code cell also says ``set_language("ko")``, so that the checks speak Korean in the
  learner's Jupyter (and in the kernel of plain ``nbgrader autograde``).

nbgrader's autograde puts the release's source back into every locked cell (``OverwriteCells``), which would
turn a Korean notebook's instructions and tests back into English; ``RestoreLanguage`` (a sanitize step of
plain nbgrader, see ``nbgrader_config.py``, and of the class command's ``grader/gradebook.py``) translates
them again, from the same catalog, when the notebook's metadata says Korean. It changes only comments,
docstrings, markdown and the strings the visible tests print, never a check call: no score depends on it.

Commands::

    python -m autograder.notebooks update     # catalogs in step with solutions/ (new entries untranslated)
    python -m autograder.notebooks generate   # exercises/ko/ from exercises/ and the catalogs
    python -m autograder.notebooks check      # untranslated, fuzzy or stale entries; stale exercises/ko
"""
from __future__ import annotations

import copy
import io
import json
import re
import sys
import tokenize
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
CATALOGS = REPO / "locale" / "{lang}" / "LC_MESSAGES" / "notebooks"
LANGS = ("ko",)
NBGRADER_MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "YOUR CODE HERE")
LANGUAGE_LINE = 'from autograder.i18n import set_language\nset_language("{lang}")  # {comment}'
LANGUAGE_COMMENT = {"ko": "확인 메시지와 힌트를 한국어로 보여 줍니다"}


def exercises_dir(lang: str) -> Path:
    return REPO / "exercises" / lang


# ---------------------------------------------------------------- the words of a notebook

def markdown_blocks(source: str) -> list[tuple[int, int, bool]]:
    """(start, end, translatable) spans of ``source``: paragraphs split by blank lines; display maths
    (``$$``), fenced code and HTML comments are never translated."""
    spans, lines, offset = [], source.splitlines(keepends=True), 0
    block_start, block_kind, fence = None, None, None
    positions = []
    for line in lines:
        positions.append((offset, line))
        offset += len(line)
    i = 0

    def close(end):
        nonlocal block_start
        if block_start is not None:
            spans.append((block_start, end, block_kind))
            block_start = None

    while i < len(positions):
        start, line = positions[i]
        stripped = line.strip()
        if fence is None and (stripped.startswith("```") or stripped.startswith("~~~")):
            close(start)
            fence, block_start_fence = stripped[:3], start
            i += 1
            while i < len(positions) and not positions[i][1].strip().startswith(fence):
                i += 1
            end = positions[i][0] + len(positions[i][1]) if i < len(positions) else offset
            spans.append((block_start_fence, end, False))
            fence = None
            i += 1
            continue
        if stripped.startswith("$$"):
            close(start)
            math_start = start
            if not (stripped.endswith("$$") and len(stripped) > 2):
                i += 1
                while i < len(positions) and "$$" not in positions[i][1]:
                    i += 1
            end = positions[i][0] + len(positions[i][1]) if i < len(positions) else offset
            spans.append((math_start, end, False))
            i += 1
            continue
        if not stripped:
            close(start)
        elif block_start is None:
            block_start, block_kind = start, not stripped.startswith("<!--")
        i += 1
    close(offset)
    return spans


def _paragraph(text: str) -> str | None:
    """The msgid of a markdown block (its text without the trailing line break), or None if it has no words."""
    body = text.rstrip("\n")
    return body if re.search(r"[A-Za-z]{2,}", body) else None


def _docstring_positions(source: str) -> set[tuple[int, int]]:
    import ast

    found = set()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return found
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
                    isinstance(first.value.value, str):
                found.add((first.value.lineno, first.value.col_offset))
    return found


LABEL_CALLS = {"set_xlabel", "set_ylabel", "set_title", "suptitle", "xlabel", "ylabel", "title"}
LABEL_KEYWORDS = {"label", "title", "xlabel", "ylabel"}


def _text_parts(node) -> list:
    """The string literals (plain or f-strings) that make up a shown value: ``"a"``, ``f"{x} b"``, ``"a" + t``."""
    import ast

    if isinstance(node, ast.JoinedStr) or isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _text_parts(node.left) + _text_parts(node.right)
    return []


def _loop_labels(loop) -> list:
    """The string literals a demo loop only shows: ``for name, X in [("raw pixels", ...), ...]`` where
    ``name`` is never used as a key (``curves[name]``), so that it is a label, not a name the code looks up."""
    import ast

    if not (isinstance(loop.target, ast.Tuple) and isinstance(loop.iter, (ast.List, ast.Tuple))
            and loop.iter.elts and all(isinstance(row, ast.Tuple) for row in loop.iter.elts)):
        return []
    keys = {node.slice.id for stmt in loop.body for node in ast.walk(stmt)
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name)}
    found = []
    for k, target in enumerate(loop.target.elts):
        if not isinstance(target, ast.Name) or target.id in keys:
            continue
        for row in loop.iter.elts:
            if k < len(row.elts) and isinstance(row.elts[k], ast.Constant) and isinstance(row.elts[k].value, str):
                found.append(row.elts[k])
    return found


def _shown_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) positions of the string literals a reader sees in a demo's output: what ``print(...)``
    prints (a visible test's message too), a figure's labels and titles, and a demo loop's row labels.
    Implicitly concatenated literals (``f"a {x} " "b"``) are one span, each of their tokens a unit."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    shown = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "print":
                for arg in node.args:
                    shown += _text_parts(arg)
            elif name in LABEL_CALLS and node.args:
                shown += _text_parts(node.args[0])
            for keyword in node.keywords:
                if keyword.arg in LABEL_KEYWORDS:
                    shown += _text_parts(keyword.value)
        elif isinstance(node, ast.For):
            shown += _loop_labels(node)
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in shown]


def fields(text: str) -> list[tuple] | None:
    """The replacement fields of an f-string's body (``{expr!r:spec}``), sorted; None if it has none.

    A translation may move the fields, never change them: their expressions run. A quoted field
    (``{'label':<30}``) is words, and may be translated."""
    import string

    if "{" not in text and "}" not in text:
        return None
    try:
        return sorted(("<text>" if name[:1] and name[:1] in "'\"" else name, spec, conversion)  # a quoted label is words
                      for _lit, name, spec, conversion in string.Formatter().parse(text) if name is not None)
    except ValueError:
        return [("unbalanced", text.count("{"), text.count("}"))]


_STRING = re.compile(r'^(?P<prefix>[rRuUfF]{0,2})(?P<quote>"""|\'\'\'|"|\')(?P<body>.*)(?P=quote)$', re.S)


def code_units(source: str) -> list[tuple[int, int, str, str]]:
    """(start, end, msgid, kind) of the words in a code cell: comments, docstrings and printed messages."""
    units = []
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def at(row, col):
        return offsets[row - 1] + col

    docstrings, shown = _docstring_positions(source), _shown_spans(source)

    def is_shown(position):
        return any(start <= position < end for start, end in shown)

    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return units
    for token in tokens:
        (row, col), (end_row, end_col) = token.start, token.end
        if token.type == tokenize.COMMENT:
            match = re.match(r"#+\s*", token.string)
            text = token.string[match.end():].rstrip()
            if (not re.search(r"[A-Za-z]{2,}", text) or text.startswith(NBGRADER_MARKERS)
                    or text.startswith(("noqa", "type:", "pragma"))):
                continue
            units.append((at(row, col) + match.end(), at(end_row, end_col), text, "comment"))
        elif token.type == tokenize.STRING and ((row, col) in docstrings or is_shown((row, col))):
            match = _STRING.match(token.string)
            if not match or "\\" in match.group("body") and match.group("prefix").lower() != "r":
                continue
            body = match.group("body")
            if not re.search(r"[A-Za-z]{2,}", body):
                continue
            start = at(row, col) + len(match.group("prefix")) + len(match.group("quote"))
            units.append((start, start + len(body), body, "docstring" if (row, col) in docstrings else "message"))
    return units


def notebook_units(nb) -> list[tuple[str, str]]:
    """(msgid, where) for every translatable unit of a notebook, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        where = cell.get("id") or f"cell {index}"
        if cell.cell_type == "markdown":
            for start, end, translatable in markdown_blocks(cell.source):
                text = _paragraph(cell.source[start:end]) if translatable else None
                if text:
                    found.append((text, where))
        elif cell.cell_type == "code":
            found += [(text, where) for _s, _e, text, _k in code_units(cell.source)]
    return found


# ---------------------------------------------------------------- catalogs

def catalog_path(assignment: str, lang: str) -> Path:
    return Path(str(CATALOGS).format(lang=lang)) / f"{assignment}.po"


def read_catalog(assignment: str, lang: str):
    from autograder.catalogs import read_file

    return read_file(catalog_path(assignment, lang), assignment, lang)


def translations(assignment: str, lang: str) -> dict[str, str]:
    """msgid -> text, the finished (non-fuzzy, non-empty) entries only."""
    return {m.id: m.string for m in read_catalog(assignment, lang) if m.id and m.string and not m.fuzzy}


def update_catalog(assignment: str, lang: str) -> tuple[int, int]:
    """Bring ``locale/<lang>/LC_MESSAGES/notebooks/<assignment>.po`` in step with the solution notebook."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from autograder.course import notebooks

    template = Catalog(domain=assignment, project="normreg course", charset="utf-8")
    for path in notebooks(assignment):
        nb = nbformat.read(path, as_version=4)
        for text, where in notebook_units(nb):
            template.add(text, locations=[(f"{path.relative_to(REPO)}#{where}", None)])
    old = read_catalog(assignment, lang)
    old.update(template, no_fuzzy_matching=False)
    old.obsolete.clear()
    path = catalog_path(assignment, lang)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, old, width=100, sort_output=False, include_previous=True)
    path.write_bytes(buffer.getvalue())
    entries = [m for m in old if m.id]
    return len(entries), sum(1 for m in entries if not m.string or m.fuzzy)


# ---------------------------------------------------------------- translating a notebook

def translate_cell(cell, words: dict[str, str]):
    """The cell with its words replaced by their translations (code untouched); returns the same cell."""
    if cell.cell_type == "markdown":
        source = cell.source
        for start, end, translatable in reversed(markdown_blocks(source)):
            text = _paragraph(source[start:end]) if translatable else None
            if text and text in words:
                source = source[:start] + words[text] + source[start + len(text):]
        cell.source = source
    elif cell.cell_type == "code":
        source = cell.source
        for start, end, text, kind in reversed(code_units(source)):
            new = words.get(text)
            if new is None:
                continue
            if kind != "comment":
                quote = source[start - 1]
                if quote in new or "\\" in new:  # a translation never ends a string early
                    continue
                if fields(new) != fields(text):  # nor changes the code an f-string runs
                    continue
            source = source[:start] + new + source[end:]
        cell.source = source
    return cell


def _is_course_code(cell) -> bool:
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("locked")) and not meta.get("grade") and not meta.get("solution")


def language_cell_index(nb) -> int | None:
    """The cell that selects the language: the first locked course code cell (``import numpy as np``)."""
    for index, cell in enumerate(nb.cells):
        if _is_course_code(cell):
            return index
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)


def _with_language_line(source: str, lang: str) -> str:
    line = LANGUAGE_LINE.format(lang=lang, comment=LANGUAGE_COMMENT.get(lang, ""))
    if line in source:
        return source
    return source.rstrip("\n") + "\n" + line if source.strip() else line


def translate_notebook(nb, assignment: str, lang: str = "ko", words: dict[str, str] | None = None):
    """A copy of ``nb`` in ``lang``: every cell's words from the catalog, the language in its metadata and its
    first course code cell, nbgrader's checksums of the locked cells recomputed for their new source."""
    from nbgrader.utils import compute_checksum

    words = translations(assignment, lang) if words is None else words
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        translate_cell(cell, words)
    index = language_cell_index(nb)
    if index is not None:
        nb.cells[index].source = _with_language_line(nb.cells[index].source, lang)
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if "checksum" in meta:
            meta["checksum"] = compute_checksum(cell)
    nb.metadata["normreg"] = {"language": lang}
    return nb


class RestoreLanguage:
    """nbgrader sanitize step (after ``OverwriteCells``): a notebook whose metadata says Korean gets its locked
    cells' words back in Korean (nbgrader put the release's English source there), and its language line.

    Only the cells nbgrader restored from the gradebook (locked or grade cells, never a learner's solution
    cell) are translated, from the repository's catalog: the words of a test cell change, its checks do not.
    """

    def __init__(self, **_settings):
        pass

    def preprocess(self, nb, resources):
        from autograder.i18n import notebook_language

        lang = notebook_language(nb)
        assignment = (resources or {}).get("nbgrader", {}).get("assignment")
        if lang == "en" or not assignment:
            return nb, resources
        words = translations(assignment, lang)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if (meta.get("locked") or meta.get("grade")) and not meta.get("solution"):
                translate_cell(cell, words)
        index = language_cell_index(nb)
        if index is not None and _is_course_code(nb.cells[index]):
            nb.cells[index].source = _with_language_line(nb.cells[index].source, lang)
        return nb, resources


try:  # nbgrader's configuration names preprocessors: RestoreLanguage is one when nbconvert is there
    from nbconvert.preprocessors import Preprocessor as _Preprocessor
    from traitlets import Bool as _Bool

    class RestoreLanguagePreprocessor(_Preprocessor):
        """``RestoreLanguage`` as an nbconvert preprocessor (``c.Autograde.sanitize_preprocessors``)."""

        enabled = _Bool(True).tag(config=True)  # nbconvert preprocessors are off unless enabled

        def preprocess(self, nb, resources):
            return RestoreLanguage().preprocess(nb, resources)
except ImportError:  # pragma: no cover
    pass


# ---------------------------------------------------------------- exercises/ko

def generated(assignment: str, lang: str = "ko", english: Path | None = None) -> dict[str, str]:
    """file name -> the JSON text of the translated exercise notebook(s) of ``assignment``."""
    from autograder.course import EXERCISES, notebooks

    folder = english or EXERCISES
    return {path.name: nbformat.writes(translated_exercise(nbformat.read(path, as_version=4), assignment, lang)) + "\n"
            for path in notebooks(assignment, folder)}


def translated_exercise(nb, assignment: str, lang: str = "ko"):
    """The released exercise ``nb`` as ``exercises/<lang>/`` holds it (the class grader compares a learner's
    locked cells with it)."""
    nb = translate_notebook(nb, assignment, lang)
    for cell in nb.cells:  # exercises/<lang>/<id>/ is one folder deeper than exercises/<id>/
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("](../../book/", "](../../../book/")
    return nb


def write_exercises(assignment: str, lang: str = "ko") -> list[Path]:
    target = exercises_dir(lang) / assignment
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated(assignment, lang).items():
        (target / name).write_text(text, encoding="utf-8")
        written.append(target / name)
    return written


def translated_assignments(lang: str = "ko") -> list[str]:
    """The assignments that have a catalog in ``lang`` (the others are not released in it yet)."""
    from autograder.course import assignments

    return [a for a in assignments() if catalog_path(a, lang).is_file()]


def problems(assignment: str, lang: str = "ko") -> list[str]:
    """What keeps a catalog from being complete: entries missing, untranslated, fuzzy or left over."""
    from autograder.course import notebooks

    wanted = {}
    for path in notebooks(assignment):
        for text, where in notebook_units(nbformat.read(path, as_version=4)):
            wanted.setdefault(text, where)
    entries = {m.id: m for m in read_catalog(assignment, lang) if m.id}
    found = [f"{assignment}: not in the catalog: {t[:80]!r} ({w})" for t, w in wanted.items() if t not in entries]
    for text, entry in entries.items():
        if text not in wanted:
            found.append(f"{assignment}: in the catalog but not in the notebook: {text[:80]!r}")
        elif not entry.string:
            found.append(f"{assignment}: untranslated: {text[:80]!r} ({wanted[text]})")
        elif entry.fuzzy:
            found.append(f"{assignment}: fuzzy: {text[:80]!r} ({wanted[text]})")
        elif fields(entry.string) != fields(text):
            found.append(f"{assignment}: the translation changes the {{fields}}: {text[:80]!r} ({wanted[text]})")
    return found


def main(argv: list[str]) -> int:
    command, rest = (argv[0] if argv else "generate"), argv[1:]
    chosen = rest or None
    if command == "update":
        from autograder.course import assignments

        for assignment in chosen or assignments():
            for lang in LANGS:
                total, pending = update_catalog(assignment, lang)
                print(f"{catalog_path(assignment, lang).relative_to(REPO)}: {total} entries, {pending} to translate")
        return 0
    if command == "generate":
        for lang in LANGS:
            for assignment in chosen or translated_assignments(lang):
                for path in write_exercises(assignment, lang):
                    print(f"wrote {path.relative_to(REPO)}")
        return 0
    if command == "check":
        bad = []
        for lang in LANGS:
            for assignment in chosen or translated_assignments(lang):
                bad += problems(assignment, lang)
                for name, text in generated(assignment, lang).items():
                    path = exercises_dir(lang) / assignment / name
                    if not path.is_file() or json.loads(path.read_text()) != json.loads(text):
                        bad.append(f"exercises/{lang}/{assignment}/{name} is stale: run "
                                   f"`python -m autograder.notebooks generate {assignment}`")
        print("\n".join(bad) or "every notebook entry has its translation; exercises/ko is up to date")
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
