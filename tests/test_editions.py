"""The Korean edition's machinery, without a build: the search stemmer, the switch's links, the glossary."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "_ext"))

import editions  # noqa: E402
import glossary_table  # noqa: E402
import korean_search  # noqa: E402


@pytest.mark.parametrize("word, stem", [
    ("정규화는", "정규화"), ("정규화를", "정규화"), ("정규화의", "정규화"), ("정규화된", "정규화"),
    ("정규화하는", "정규화"), ("드롭아웃을", "드롭아웃"), ("드롭아웃은", "드롭아웃"), ("미니배치에서", "미니배치"),
    ("가중치로", "가중치"), ("규제입니다", "규제"), ("학습률까지", "학습률"),
    # kept: no particle, or too little would be left
    ("정규화", "정규화"), ("배치", "배치"), ("차이", "차이"), ("값이", "값이"), ("층", "층"),
    # not Hangul: left to the English stemmer
    ("dropout", "dropout"),
])
def test_korean_stemmer(word, stem):
    assert korean_search.strip_ending(word) == stem


def test_korean_search_language_stems_latin_as_english():
    language = korean_search.SearchKorean({})
    assert language.stem("normalization") == language.english.stem("normalization")
    assert language.stem("배치정규화는") == "배치정규화"
    assert language.word_filter("값") and language.word_filter("정규화")


def test_the_js_stemmer_has_the_same_table():
    for ending, keep in korean_search.ENDINGS:
        assert f'["{ending}", {keep}]' in korean_search.JS_STEMMER


class _App:
    def __init__(self, language):
        self.config = type("Config", (), {"language": language})()


@pytest.mark.parametrize("language, page, href", [
    ("en", "book/01_data_normalization", "../ko/book/01_data_normalization.html"),
    ("ko", "book/01_data_normalization", "../../book/01_data_normalization.html"),
    ("en", "search", "ko/search.html"),
    ("ko", "search", "../search.html"),
    ("en", "exercises/01_normalization/01_normalization", "../../ko/exercises/01_normalization/01_normalization.html"),
])
def test_language_switch_links_to_the_same_page(language, page, href):
    context = {}
    editions._page_context(_App(language), page, "page.html", context, None)
    [(code, name, link)] = context["other_editions"]
    assert link == href and code != language and name in editions.EDITIONS.values()


def test_the_glossary_keeps_regularization_apart():
    rows = {row["english"]: row["korean"] for row in glossary_table.read_glossary(REPO / "locale/ko/glossary.tsv")}
    assert rows["normalization"] == "정규화" and rows["regularization"] == "규제"
    assert len(rows) == len(set(rows)) and all(rows.values())


def test_korean_exercise_pages_come_from_the_korean_notebooks(tmp_path):
    """exercises/<id>/<id> is shown from exercises/ko/<id>/<id>.ipynb in the Korean edition where that exists."""
    assert editions.translated_notebook(REPO, "exercises/01_normalization/01_normalization", "ko") == \
        REPO / "exercises/ko/01_normalization/01_normalization.ipynb"
    assert editions.translated_notebook(REPO, "exercises/01_normalization/01_normalization", "en") is None
    assert editions.translated_notebook(REPO, "book/01_data_normalization", "ko") is None
    assert editions.translated_notebook(REPO, "exercises/xx_none/xx_none", "ko") is None
    # its links, written from exercises/ko/<id>/, are made relative to the page's folder exercises/<id>/
    notebook = REPO / "exercises/ko/07_hyperparameter_search/07_hyperparameter_search.ipynb"
    text = ("[7장](../../../book/07_hyperparameter_search.md), [실습 8](../08_reproducing_batch_norm/08_reproducing_batch_norm.ipynb), "
            "[x](https://example.org/a.md), [y](#anchor)")
    assert editions._relinked(text, notebook, REPO / "exercises/07_hyperparameter_search", REPO, "ko") == (
        "[7장](../../book/07_hyperparameter_search.md), [실습 8](../08_reproducing_batch_norm/08_reproducing_batch_norm.ipynb), "
        "[x](https://example.org/a.md), [y](#anchor)")
    # their message templates are left out of the extraction; an exercise with no Korean notebook keeps its own
    for name in ("01_normalization", "xx_none"):
        (tmp_path / "exercises" / name).mkdir(parents=True)
        (tmp_path / "exercises" / name / f"{name}.pot").write_text("")
    removed = editions.translated_exercise_templates(REPO, tmp_path)
    assert removed == [tmp_path / "exercises/01_normalization/01_normalization.pot"]
    assert [p.name for p in tmp_path.rglob("*.pot")] == ["xx_none.pot"]
