"""The graders' words in Korean: the catalogs hold exactly the code's messages, every one translated, and a
Korean message never changes what a check decides.

``python -m autograder.catalogs`` brings the catalogs in step after a message changed; ``check`` says what
this test says.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from autograder import CheckFailed, catalogs, normalization
from autograder.i18n import notebook_language
from autograder.mistakes import MISTAKES, book_link, describe
from normreg import i18n


@pytest.fixture
def korean():
    i18n.set_language("ko")
    yield
    i18n.set_language(None)


@pytest.mark.parametrize("domain", sorted(catalogs.SOURCES))
def test_catalog_holds_exactly_the_code_messages_all_translated(domain):
    """No message without its Korean text, none fuzzy, none left over, the same {placeholders} on both sides."""
    problems = catalogs.problems(domain, "ko")
    assert not problems, f"{len(problems)} problem(s) in {domain}.po (run `python -m autograder.catalogs` and " \
                         f"translate):\n" + "\n".join(problems[:20])


def test_every_named_mistake_has_its_korean_description(korean):
    for mistake in MISTAKES.values():
        words = describe(mistake.id)
        assert words != mistake.description and re.search("[가-힣]", words), mistake.id


def _entries():
    """(English, Korean) of every finished entry: the graders' catalogs and the exercise notebooks' catalogs."""
    from autograder import notebooks

    for domain in catalogs.SOURCES:
        for entry in catalogs.read(domain, "ko"):
            if entry.id and entry.string:
                yield entry.id, entry.string
    for assignment in notebooks.translated_assignments("ko"):
        for entry in notebooks.read_catalog(assignment, "ko"):
            if entry.id and entry.string:
                yield entry.id, entry.string


# words locale/ko/glossary.tsv rules out, and what it uses instead
NEVER = {"갱신": "업데이트 (update)", "노이즈": "잡음 (noise)", "순전파": "정방향 계산 (forward pass)",
         "eval 모드": "평가 모드 (eval mode)", "정방향 패스": "정방향 계산", "역방향 패스": "역방향 계산"}


def test_glossary_terms():
    """regularization is 규제 and normalization 정규화 (locale/ko/glossary.tsv): the source notes' trap; and the
    glossary's other decisions hold in every message and notebook."""
    for english, korean in _entries():
        prose = re.sub(r"`[^`]*`|\]\([^)]*\)|\b\w+\.\w+\b", " ", english)  # not link targets, code or names
        if re.search(r"regulari[sz]", prose, re.I):
            assert "규제" in korean and "정규화" not in korean, english
        if re.search(r"normali[sz]", prose, re.I) and "layer norm" not in prose.lower():
            assert "정규화" in korean, english
        for word, instead in NEVER.items():
            assert word not in korean, f"{word!r} in the translation of {english[:80]!r}: the glossary says {instead}"


def test_korean_message_same_verdict(korean):
    """A known wrong answer gets its mistake named in Korean, with the same mistake id as in English."""
    def per_example(x, feature_range=(0.0, 1.0)):
        x = np.asarray(x, dtype=float)
        return (x - x.min(axis=1, keepdims=True)) / (x.max(axis=1, keepdims=True) - x.min(axis=1, keepdims=True))

    with pytest.raises(CheckFailed) as korean_failure:
        normalization.check_min_max_scale(per_example, seed=3)
    i18n.set_language("en")
    with pytest.raises(CheckFailed) as english_failure:
        normalization.check_min_max_scale(per_example, seed=3)
    assert "예상되는 실수" in str(korean_failure.value) and "axis=1" in str(korean_failure.value)
    assert "Likely mistake" in str(english_failure.value)
    assert korean_failure.value.mistakes == english_failure.value.mistakes == ("norm-minmax-per-example",)


def test_notebook_language_comes_from_metadata_and_only_en_or_ko():
    assert notebook_language({"metadata": {"normreg": {"language": "ko"}}}) == "ko"
    for meta in ({}, {"normreg": {"language": "fr"}}, {"normreg": "ko"}, {"normreg": {"language": ["ko"]}}):
        assert notebook_language({"metadata": meta}) == "en"


def test_book_links_lead_into_the_notebooks_edition():
    label = MISTAKES["norm-std-ddof1"].label
    assert book_link(label, "https://x.org/book", "ko").startswith("https://x.org/book/ko/book/")
    assert book_link(label, "https://x.org/book", "en").startswith("https://x.org/book/book/")


def test_class_report_and_exports_in_korean(tmp_path):
    """`--lang ko`: the class report's words, the mistakes' descriptions, its book links (the Korean edition) and
    the Moodle header are Korean; the numbers are the English report's; Canvas keeps the header its import reads."""
    from grader import class_report, exports
    from tests.grading.test_report_units import RECORDS

    english = class_report.render(RECORDS, "https://x.org/book", lang="en")
    korean = class_report.render(RECORDS, "https://x.org/book", lang="ko")
    assert "What the class got wrong" in english and "https://x.org/book/book/" in english
    assert "학급이 틀린 것" in korean and "What the class got wrong" not in korean and "<html lang='ko'>" in korean
    assert "https://x.org/book/ko/book/" in korean and "https://x.org/book/book/" not in korean
    i18n.set_language("ko")
    try:
        assert describe("norm-std-ddof1") in korean
    finally:
        i18n.set_language(None)
    assert i18n.language() == "en"  # rendering in Korean left the process's language as it was
    moodle = exports.write(tmp_path, RECORDS, "moodle", lang="ko").read_text(encoding="utf-8")
    canvas = exports.write(tmp_path, RECORDS, "canvas", lang="ko").read_text(encoding="utf-8")
    assert moodle.startswith("ID 번호,이메일 주소,") and canvas.startswith("Student,ID,SIS User ID")
    assert exports.write(tmp_path, RECORDS, "moodle").read_text().startswith("ID number,Email address,")
