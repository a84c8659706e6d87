"""The Korean edition (_build/html/ko/) as a reader sees it, in Debian's chromium with no network.

Every Korean page gets the checks of tests/test_book_in_browser.py at both widths (formulas,
images, figure fonts, no sideways scrolling, console, links, the language switch both ways), and
Korean typography: the page says lang="ko" and its prose wraps at word boundaries
(``word-break: keep-all``). A search in the Korean edition finds a term with its particle
attached in the text: 정규화 finds the batch-normalization chapter, where it is written
배치 정규화는, 배치 정규화를, ... (``_ext/korean_search.py``).
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from tests.test_book_in_browser import _chromium, read_edition, report, serve

pytestmark = pytest.mark.slow

# (query, page it must find, words that must stem to the query: index and query meet at the stem)
SEARCHES = [("정규화", "ko/book/03_batchnorm_training.html", ["정규화는", "정규화를", "정규화의", "정규화된"]),
            ("드롭아웃", "ko/book/06_dropout.html", ["드롭아웃을", "드롭아웃은", "드롭아웃이"])]


def korean_typography(page_name: str, width: int, result: dict) -> list[str]:
    problems = []
    if result.get("lang") != "ko":
        problems.append(f"<html lang={result.get('lang')!r}>, not 'ko'")
    if result.get("wordBreak") != "keep-all":
        problems.append(f"prose has word-break {result.get('wordBreak')!r}: Korean wraps at word boundaries (keep-all)")
    return problems


def test_every_korean_page_in_a_real_browser(built_book, record_property):
    # screenshots at the phone's width only: the look at Korean pages, and half the time
    failures, summary = read_edition(built_book, "ko", korean_typography, screenshot_widths=(390,))
    print(summary)
    record_property("summary", summary)
    assert not failures, report(failures, summary)


def test_korean_search_finds_a_word_with_its_particle(built_book):
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    server = serve(built_book)
    origin = f"http://127.0.0.1:{server.server_address[1]}"
    problems = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 390, "height": 844})
            context.route("**/*", lambda route: route.continue_() if urlsplit(route.request.url).netloc
                          == urlsplit(origin).netloc else route.abort())
            tab = context.new_page()
            for query, page, words in SEARCHES:
                tab.goto(f"{origin}/ko/search.html?q={quote(query)}", wait_until="load")
                stems = tab.evaluate("words => words.map(w => new Stemmer().stemWord(w))", words)
                for word, stem in zip(words, stems):
                    if stem != query:
                        problems.append(f"the search's stemmer makes {word!r} {stem!r}, not {query!r}")
                tab.wait_for_function("() => { const s = document.querySelector('#search-results .search-summary');"
                                      " return s && s.innerText.trim().length > 0 && !/Preparing|준비/.test(s.innerText); }",
                                      timeout=20000)
                found = tab.evaluate("() => [...document.querySelectorAll('#search-results ul.search li a')]"
                                     ".map(a => a.href)")
                if not any(urlsplit(href).path == f"/{page}" for href in found):
                    problems.append(f"searching {query!r} in the Korean edition does not find {page} "
                                    f"(found: {[urlsplit(h).path for h in found]})")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not problems, "\n".join(problems)
