"""The Korean edition's text: every catalog entry translated, its markup kept, the glossary's terms
used, the catalogs in step with the English sources, and every built Korean page Korean.

Catalogs: the book's (``locale/ko/LC_MESSAGES/**/*.po``, Sphinx's gettext, one per page) and
the Python code's (``normreg/locale/ko/LC_MESSAGES/*.po``, read by ``normreg.i18n``). The README
("Updating a translation") says how to bring them up to date after an English sentence changes.
"""
from __future__ import annotations

import ast
import collections
import csv
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import NamedTuple

import pytest
from babel.messages.pofile import read_po

REPO = Path(__file__).resolve().parent.parent
BOOK_CATALOGS = REPO / "locale" / "ko" / "LC_MESSAGES"
CODE_CATALOGS = REPO / "normreg" / "locale"
GLOSSARY = REPO / "locale" / "ko" / "glossary.tsv"
CATALOGS = sorted(BOOK_CATALOGS.rglob("*.po")) + sorted(CODE_CATALOGS.glob("*/LC_MESSAGES/*.po"))
MIN_HANGUL_SHARE = 0.5  # of the letters of a Korean page's prose (code, maths and references left out)


def _name(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def messages(path: Path):
    """The catalog's entries, header and obsolete entries left out."""
    with open(path, "rb") as f:
        catalog = read_po(f)
    return [m for m in catalog if m.id and isinstance(m.id, str)]


# ---------------------------------------------------------------------------- markup kept

ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")           # {glue:text}`x`, {cite}`k`, {numref}`label`, {doc}`page`
MATH = re.compile(r"(?<!\\)\$\$?[^$]+\$\$?")       # $...$ and $$...$$
CODE = re.compile(r"(?<![\w}])`[^`]+`")             # `code` (not a role's argument)
LINK = re.compile(r"\]\(([^)]+)\)")                 # [text](target)
PLACEHOLDER = re.compile(r"(?<!\{)\{[A-Za-z_]\w*(?:[:!][^{}]*)?\}(?!\})")  # {steps:,} in normreg's messages
LIST_START = re.compile(r"^\d+\.\s")                 # "1. " at the start: MyST reads the msgstr as a list


EXPLICIT_TITLE = re.compile(r"^(\{[\w:.-]+\}`)[^`<]*<([^`>]+)>`$")  # {ref}`section 1.5 <label>`: its words are prose


def _role_key(role: str) -> str:
    """A role as the translation must keep it: whole, or for a cross-reference with its own words
    ({ref}`section 1.5 <label>`, {doc}`the glossary <glossary>`) its name and target only."""
    explicit = EXPLICIT_TITLE.match(role)
    return f"{explicit.group(1)}<{explicit.group(2)}>`" if explicit else role


def markup(text: str, code_domain: bool) -> dict[str, collections.Counter]:
    roles = [_role_key(role) for role in ROLE.findall(text)]
    rest = ROLE.sub("", text)
    maths = MATH.findall(rest)
    kinds = {"roles": roles, "maths": maths, "code spans": CODE.findall(MATH.sub("", rest)),
             "link targets": LINK.findall(text)}
    if code_domain:
        kinds = {"placeholders": PLACEHOLDER.findall(text)}
    return {kind: collections.Counter(found) for kind, found in kinds.items()}


def markup_problems(msgid: str, msgstr: str, code_domain: bool = False) -> list[str]:
    """What a translation loses or changes of its English text's MyST markup (or of a message's placeholders)."""
    problems = []
    english, korean = markup(msgid, code_domain), markup(msgstr, code_domain)
    for kind in english:
        if english[kind] != korean[kind]:
            problems.append(f"{kind} differ: missing {dict(english[kind] - korean[kind])}, "
                            f"extra {dict(korean[kind] - english[kind])}")
    if not code_domain and LIST_START.match(msgstr) and not LIST_START.match(msgid):
        problems.append(f"starts with {LIST_START.match(msgstr).group(0)!r}, which MyST reads as a numbered list "
                        "(the English does not): write it 1\\\\. in the .po (1\\. in MyST)")
    return problems


# ---------------------------------------------------------------------------- glossary

class Term(NamedTuple):
    english: str
    korean: str
    also: tuple[str, ...]      # other Korean forms the note allows ("neural network: 신경망")
    never: tuple[str, ...]     # Korean forms the note forbids ("never 노이즈")


HANGUL = re.compile(r"[\uac00-\ud7a3]")


def glossary() -> list[Term]:
    """Every term of the glossary, longest English term first, with what its note allows and forbids."""
    with open(GLOSSARY, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t")
                if (r.get("english") or "").strip() and (r.get("korean") or "").strip()]
    terms = []
    for row in rows:
        also, never = [], []
        for part in (row.get("note") or "").split(";"):
            part = part.strip()
            if part.startswith("never "):
                word = part.removeprefix("never ").split(":")[0].strip()
                if HANGUL.search(word):
                    never.append(word)
            elif ":" in part:
                also += [w.strip() for w in part.split(":", 1)[1].split(" / ") if HANGUL.search(w)]
        terms.append(Term(row["english"].strip(), row["korean"].strip(), tuple(also), tuple(never)))
    return sorted(terms, key=lambda term: -len(term.english))


def prose(text: str) -> str:
    """The words of a msgid a reader reads as words: roles, maths, code spans and link targets left out."""
    text = ROLE.sub(" ", text)
    text = MATH.sub(" ", text)
    text = CODE.sub(" ", text)
    text = re.sub(r"\b\w+=\S+", " ", text)  # momentum=0.1 written without backticks: code
    # "mean" as a verb ("what does that mean", "this means"): not the statistic
    text = re.sub(r"\b(?:does|do|did|to|will|would|can|could|may|might|that|which|this)\s+(?:not\s+)?mean\b",
                  " ", text, flags=re.IGNORECASE)
    return LINK.sub("]", text)


NOT_PLURAL = {"means"}  # "this means": a verb, not means of a feature
EXCEPTION = re.compile(r"glossary-ok:\s*(.+)", re.IGNORECASE)


def exceptions(message) -> set[str]:
    """English terms a translator comment in the catalog exempts for this entry, with the reason:
    ``# glossary-ok: unit (a unit of measure: 단위)``: the English word in another sense than the glossary's."""
    found = set()
    for comment in getattr(message, "user_comments", []) or []:
        match = EXCEPTION.search(comment)
        if match:
            found |= {t.split("(")[0].strip().lower() for t in match.group(1).split(",")}
    return found


def glossary_problems(msgid: str, msgstr: str, terms=None, exempt=frozenset(), code_domain=False) -> list[str]:
    """An English glossary term in the msgid whose Korean term (or a form its note allows) is not in the
    msgstr; a form its note forbids; 정규화 for regularization. In the code's messages (``code_domain``) a
    term kept in English is a name of the code (BatchNorm1d's ``weight``, ``momentum=0.1``) and counts."""
    problems = []
    msgstr = re.sub(r"\s+", " ", msgstr)  # a line break inside a paragraph is a space: 최소-최대\n스케일링
    if msgid.lstrip().startswith("\\") or "\\text{" in msgid:
        return problems  # a display formula: maths, not prose
    text = prose(msgid)
    explained = set()  # Korean words that an English term of this msgid accounts for
    for term in terms if terms is not None else glossary():
        pattern = re.compile(rf"(?<![\w-]){re.escape(term.english)}(?:s|es)?(?![\w-])", re.IGNORECASE)
        found = [m.group(0) for m in pattern.finditer(text) if m.group(0).lower() not in NOT_PLURAL]
        if not found:
            continue
        explained.add(term.korean)
        kept_as_name = code_domain and re.search(rf"(?<![\w-]){re.escape(term.english)}", msgstr, re.IGNORECASE)
        if term.english.lower() not in exempt and not kept_as_name \
                and not any(k in msgstr for k in (term.korean, *term.also)):
            problems.append(f"{term.english!r} is {term.korean!r} in the glossary, not found in the translation"
                            " (another sense of the word: a translator comment '# glossary-ok: "
                            f"{term.english} (why)' on the entry)")
        text = pattern.sub(" ", text)  # "batch normalization" is not also "normalization"
    for term in terms if terms is not None else glossary():
        if term.english.lower() not in exempt and re.search(
                rf"(?<![\w-]){re.escape(term.english)}(?:s|es)?(?![\w-])", prose(msgid), re.IGNORECASE):
            for word in term.never:
                if word in msgstr and not any(word in k for k in explained if k != term.korean):
                    problems.append(f"{word!r} for {term.english!r}: the glossary says never {word}")
    about_regularization = re.search(r"regulari[sz]", msgid, re.IGNORECASE)
    about_normalization = re.search(r"normali[sz]|정규화", msgid, re.IGNORECASE)
    if about_regularization and not about_normalization and "정규화" in msgstr:
        problems.append("regularization translated as 정규화 (the course writes 규제)")
    if re.search(r"정규화\s*\(\s*regulari", msgstr, re.IGNORECASE):
        problems.append("정규화 (regularization): the course writes 규제 for regularization")
    return problems


# ---------------------------------------------------------------------------- catalog tests

@pytest.mark.parametrize("path", CATALOGS, ids=_name)
def test_every_entry_is_translated_and_not_fuzzy(path):
    entries = messages(path)
    untranslated = [m.id for m in entries if not m.string]
    fuzzy = [m.id for m in entries if m.string and m.fuzzy]
    assert not untranslated and not fuzzy, (
        f"{_name(path)}: {len(untranslated)} of {len(entries)} entries untranslated, {len(fuzzy)} fuzzy "
        f"(a fuzzy entry is shown in English until its msgstr is checked and the fuzzy flag removed); first: "
        + "; ".join(repr(m[:70]) for m in (fuzzy + untranslated)[:5]))


@pytest.mark.parametrize("path", CATALOGS, ids=_name)
def test_translations_keep_the_markup(path):
    code_domain = path.is_relative_to(CODE_CATALOGS)
    problems = [f"line {m.lineno}: {problem}: {m.id[:60]!r}" for m in messages(path) if m.string and not m.fuzzy
                for problem in markup_problems(m.id, m.string, code_domain)]  # fuzzy: the test above
    assert not problems, f"{_name(path)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", CATALOGS, ids=_name)
def test_glossary_terms_are_used(path):
    terms = glossary()
    problems = [f"line {m.lineno}: {problem}: {m.id[:60]!r}" for m in messages(path) if m.string and not m.fuzzy
                for problem in glossary_problems(m.id, m.string, terms, exceptions(m),
                                                 code_domain=path.is_relative_to(CODE_CATALOGS))]
    assert not problems, f"{_name(path)}:\n" + "\n".join(problems)


def test_the_checks_catch_what_they_are_for():
    """The rules above, on known good and bad translations (so a rule that passes everything is caught)."""
    assert markup_problems("See {numref}`fig-a` and $x^2$ in `f(x)`.", "{numref}`fig-a`와 `f(x)`의 $x^2$를 보세요.") == []
    assert markup_problems("See {numref}`fig-a`.", "그림을 보세요.")
    assert markup_problems("Use `np.std`.", "np.std를 쓰세요.")
    assert markup_problems("[chapter 1](../book/a.md)", "[1장](../book/b.md)")
    assert markup_problems("1. Data normalization", "1. 데이터 정규화") == []   # _ext/editions.py keeps it a heading
    assert markup_problems("1\\. Data normalization", "1\\. 데이터 정규화") == []
    assert markup_problems("A list follows.", "1. 목록이 이어집니다.")
    assert markup_problems("See {ref}`section 1.5 <fit-train>`.", "{ref}`1.5절 <fit-train>`을 보세요.") == []
    assert markup_problems("See {ref}`section 1.5 <fit-train>`.", "{ref}`1.5절 <fit-test>`을 보세요.")
    assert markup_problems("(b) all {steps:,} steps", "(b) 전체 {steps}단계", code_domain=True)
    assert markup_problems("(b) all {steps:,} steps", "(b) 전체 {steps:,}단계", code_domain=True) == []
    terms = glossary()
    assert glossary_problems("Weight decay is a regularization.", "가중치 감쇠는 규제입니다.", terms) == []
    assert glossary_problems("Weight decay is a regularization.", "가중치 감쇠는 정규화입니다.", terms)
    assert glossary_problems("Batch normalization helps.", "배치 정규화는 도움이 됩니다.", terms) == []
    assert glossary_problems("Batch normalization helps.", "배치 노멀라이제이션은 도움이 됩니다.", terms)
    assert glossary_problems("the `dropout` argument", "`dropout` 인수", terms) == []  # code is not prose
    assert glossary_problems("A small neural network.", "작은 신경망.", terms) == []   # the note allows 신경망
    assert glossary_problems("The noise of the batch.", "배치의 노이즈.", terms)       # the note forbids 노이즈
    assert glossary_problems("This means little.", "이는 별 의미가 없습니다.", terms) == []  # a verb
    assert glossary_problems("What does that mean for the mean?", "그것은 평균에 무엇을 의미합니까?", terms) == []
    assert glossary_problems("What does that mean?", "그것은 무엇을 의미합니까?", terms) == []
    assert glossary_problems('"momentum=0.1 keeps 10%"', '"momentum=0.1은 10%를 유지한다"', terms) == []
    assert glossary_problems("units of measure", "측정 단위", terms)
    assert glossary_problems("units of measure", "측정 단위", terms, {"unit"}) == []  # # glossary-ok: unit
    assert glossary_problems("weight and bias were swapped", "weight와 bias가 뒤바뀌었습니다", terms)
    assert glossary_problems("weight and bias were swapped", "weight와 bias가 뒤바뀌었습니다", terms,
                             code_domain=True) == []


# ---------------------------------------------------------------------------- normreg's messages

def _code_of(path: Path) -> list[str]:
    """Python source of a module, or of the code cells of a MyST notebook page."""
    text = path.read_text()
    if path.suffix == ".py":
        return [text]
    cells = []
    for match in re.finditer(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M):
        code = re.sub(r"\A---\n.*?\n---\n", "", match.group(1), flags=re.S)
        cells.append("\n".join("" if line.startswith((":", "%", "!")) else line for line in code.splitlines()))
    return cells


def _sources():
    return sorted(REPO.glob("book/*.md")) + sorted((REPO / "normreg").glob("*.py"))


def _trees():
    for path in _sources():
        for code in _code_of(path):
            yield path, ast.parse(code)


def test_normreg_catalog_matches_the_code():
    """Every _("...") of the book's code and of normreg has an entry in normreg.po, and every entry is text
    that the code holds (as the argument of _ or as a string it passes to _, such as a legend's dict key)."""
    called, literals = {}, set()
    for path, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_" and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                called.setdefault(node.args[0].value, path.name)
    catalog = {m.id for m in messages(CODE_CATALOGS / "ko" / "LC_MESSAGES" / "normreg.po")}
    missing = {msgid: where for msgid, where in called.items() if msgid not in catalog}
    stale = sorted(catalog - literals)
    assert not missing and not stale, (f"normreg.po lacks {missing} (msgid: where)\n"
                                       f"and has entries no code holds: {stale}")


def test_underscore_stays_the_translator():
    """In a page or module that sets ``_ = translator(...)``, nothing else binds ``_``: a loop or an
    unpacking such as ``for _ in ...`` or ``w, *_ = ...`` would break every later ``_("...")`` of the page
    (or of the function). Comprehensions have their own scope and may use it."""
    problems = []
    for path in _sources():
        trees = [ast.parse(code) for code in _code_of(path)]
        if not any(_is_translator(node) for tree in trees for node in ast.walk(tree)):
            continue
        for tree in trees:
            in_comprehensions = {id(n) for c in ast.walk(tree) if isinstance(c, ast.comprehension)
                                 for n in ast.walk(c.target)}
            translators = {id(node.targets[0]) for node in ast.walk(tree) if _is_translator(node)}
            for statement in ast.walk(tree):
                if not isinstance(statement, ast.stmt):
                    continue
                for node in ast.iter_child_nodes(statement):
                    for name in ast.walk(node):
                        if (isinstance(name, ast.Name) and name.id == "_" and isinstance(name.ctx, ast.Store)
                                and id(name) not in in_comprehensions and id(name) not in translators):
                            problems.append(f"{path.name}: {ast.unparse(statement).splitlines()[0]!r} rebinds _")
    assert not problems, "\n".join(sorted(set(problems)))


def _is_translator(node) -> bool:
    return (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "_" and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "translator")



# ---------------------------------------------------------------------------- up to date

@pytest.mark.slow
def test_catalogs_match_the_english_sources(built_book, tmp_path):
    """A fresh extraction (``_ext/editions.py gettext``) has exactly the msgids of the catalogs: none missing
    (an English sentence added or changed and not yet translated) and none left over. The exercise pages
    shown from a Korean notebook (exercises/ko/) have no page catalog: their words are in the notebooks'
    catalogs (``LC_MESSAGES/notebooks/``, checked by ``python -m autograder.notebooks check``)."""
    out = tmp_path / "gettext"
    result = subprocess.run([sys.executable, str(REPO / "_ext" / "editions.py"), "gettext", str(out)],
                            cwd=REPO, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    templates = {p.relative_to(out).with_suffix(".po").as_posix(): p for p in out.rglob("*.pot")
                 if not p.relative_to(out).parts[0].startswith("_")}
    catalogs = {p.relative_to(BOOK_CATALOGS).as_posix(): p for p in BOOK_CATALOGS.rglob("*.po")
                if p.relative_to(BOOK_CATALOGS).parts[0] != "notebooks"}
    problems = []
    for name in sorted(set(templates) | set(catalogs)):
        if name not in catalogs:
            problems.append(f"{name}: no catalog (sphinx-intl update -p _build/gettext -l ko -d locale)")
            continue
        if name not in templates:
            problems.append(f"{name}: a catalog of no page")
            continue
        fresh = {m.id for m in messages(templates[name])}
        kept = {m.id for m in messages(catalogs[name])}
        for msgid in sorted(fresh - kept):
            problems.append(f"{name}: missing {msgid[:80]!r}")
        for msgid in sorted(kept - fresh):
            problems.append(f"{name}: left over {msgid[:80]!r}")
    assert not problems, (f"{len(problems)} differences between the catalogs and the English sources "
                          "(README, 'Updating a translation'):\n" + "\n".join(problems[:60]))


# ---------------------------------------------------------------------------- built pages

class _Prose(HTMLParser):
    """The text of a page's article, outside code, maths, pre blocks, scripts and the reference list."""

    SKIP = {"pre", "code", "script", "style", "math", "svg", "kbd", "samp"}
    SKIP_CLASSES = {"math", "highlight", "cell_output", "output", "citation", "footnote", "headerlink", "sig",
                    "cell_input", "literal", "pre"}  # whole class names: a page's section is "mathjax_ignore"

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.in_article = 0
        self.parts: list[str] = []

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
            "track", "wbr"}

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        skip = (tag in self.SKIP or any(c in self.SKIP_CLASSES or c.startswith(("highlight-", "MathJax", "mjx"))
                                        for c in classes) or tag.startswith("mjx-"))
        article = tag == "article" and "bd-article" in classes
        self.stack.append((tag, skip, article))
        if article:
            self.in_article += 1

    def handle_endtag(self, tag):
        open_at = [i for i, (name, _, _) in enumerate(self.stack) if name == tag]
        if not open_at:
            return  # an end tag with no start tag: ignored, as browsers do
        while len(self.stack) > open_at[-1]:
            if self.stack.pop()[2]:
                self.in_article -= 1

    def handle_data(self, data):
        if self.in_article and not any(skip for _, skip, _ in self.stack):
            self.parts.append(data)


def page_prose(html: str) -> str:
    parser = _Prose()
    parser.feed(html)
    text = " ".join(parser.parts)
    text = re.sub(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$", " ", text, flags=re.S)  # maths MathJax has not typeset
    return text


def hangul_share(text: str) -> tuple[float, int]:
    hangul = len(re.findall(r"[\uac00-\ud7a3]", text))
    latin = len(re.findall(r"[A-Za-z]", text))
    letters = hangul + latin
    # A Hangul syllable is one letter of a word as an English letter is; Korean words are about a third
    # as many letters as their English ones, so weigh syllables by 3 to compare words with words.
    return (3 * hangul / (3 * hangul + latin) if letters else 1.0), letters


@pytest.mark.slow
def test_every_korean_page_is_korean(built_book):
    pages = sorted(p for p in (built_book / "ko").rglob("*.html")
                   if not any(part.startswith("_") for part in p.relative_to(built_book / "ko").parts))
    assert pages, "no Korean edition in _build/html/ko"
    problems = []
    for page in pages:
        html = page.read_text(errors="replace")
        if 'http-equiv="Refresh"' in html and "<article" not in html:
            continue  # index.html: a redirect, no text
        text = page_prose(html)
        share, letters = hangul_share(text)
        if share < MIN_HANGUL_SHARE:
            sample = " ".join(w for w in text.split() if re.search(r"[A-Za-z]{3}", w))[:160]
            problems.append(f"ko/{page.relative_to(built_book / 'ko').as_posix()}: {share:.0%} Hangul "
                            f"(weighted, of {letters} letters); Latin words: {sample!r}")
    assert not problems, (f"{len(problems)} of {len(pages)} Korean pages are not mostly Korean "
                          f"(need {MIN_HANGUL_SHARE:.0%}):\n" + "\n".join(problems))
