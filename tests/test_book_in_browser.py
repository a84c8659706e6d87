"""The built book as a reader sees it: every page in Debian's chromium, with no network.

For every HTML page, at a desktop and a phone width: every formula typeset by the bundled
MathJax, every image loaded and no wider than its column, no sideways scrolling of the page or of
a code cell or output, figure fonts readable at the size they are drawn, no console or page error,
no request leaving 127.0.0.1; every internal link and anchor resolves; and the language switch
is visible and leads to the same page of the other edition. All failures are reported at once.
With ``BOOK_SCREENSHOTS=1`` full-page screenshots are kept in _build/browser-screenshots/<width>/
for a person to look at (they check nothing, and took half of the test's time: not taken by default).

This module reads the English edition (_build/html/); tests/test_book_in_browser_ko.py reads the
Korean one (_build/html/ko/) with the same checks and a few of its own (a module of its own, so
that pytest-xdist runs the two editions on two workers).
"""
from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest

from normreg.plotting import FONT_CHUNK  # the PNG text chunk with a figure's smallest font, px at natural size

BUILD = Path(__file__).resolve().parent.parent / "_build"

pytestmark = pytest.mark.slow

VIEWPORTS = ((1280, 900), (390, 844))  # (width, height) in CSS pixels: a laptop, a phone
MIN_FONT_PX = 9.0           # smallest figure text a reader can make out, in CSS pixels as drawn
RAW_TEX = ("\\(", "\\)", "\\[", "\\]", "\\begin{")
SCREENSHOTS = BUILD / "browser-screenshots"
TAKE_SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS", "") not in ("", "0")
NOTHING_TO_RENDER = {"search.html", "genindex.html"}  # Sphinx's own pages: links and console only

# Runs in the page once it has loaded: waits for MathJax and the images, then measures.
MEASURE = """async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  let mathjax = 'absent';
  if (window.MathJax) {
    for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++) await sleep(50);
    if (MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; mathjax = 'typeset'; }
    else mathjax = 'never started';
  }
  const images = [...document.images];
  await Promise.race([sleep(10000), Promise.all(images.map(img => {
    img.loading = 'eager';
    return img.complete ? null : new Promise(r => { img.onload = img.onerror = r; });
  }))]);
  await document.fonts.ready;
  // Visible text outside code: code may legitimately hold backslashes.
  let text = document.body.innerText;
  for (const pre of document.querySelectorAll('pre')) if (pre.innerText) text = text.split(pre.innerText).join('');
  const column = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const columnWidth = column.getBoundingClientRect().width;
  const switchLink = document.querySelector('a.normreg-language-switch');
  const switchBox = switchLink ? switchLink.getBoundingClientRect() : null;
  const paragraph = column.querySelector('p') || column;
  return {
    mathjax, text, columnWidth,
    lang: document.documentElement.lang,
    wordBreak: getComputedStyle(paragraph).wordBreak,
    languageSwitch: switchLink ? {
      href: switchLink.href, text: switchLink.innerText.trim(),
      visible: switchBox.width > 0 && switchBox.height > 0 && switchBox.left >= 0 && switchBox.right <= window.innerWidth
        && switchBox.top >= 0 && switchBox.bottom <= window.innerHeight
        && getComputedStyle(switchLink).visibility !== 'hidden' && getComputedStyle(switchLink).display !== 'none',
    } : null,
    formulas: document.querySelectorAll('mjx-container').length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    images: images.map(img => ({
      src: img.currentSrc || img.src, alt: img.alt, complete: img.complete,
      naturalWidth: img.naturalWidth, width: img.getBoundingClientRect().width,
      inColumn: column.contains(img),
      caption: (img.closest('figure')?.querySelector('figcaption')?.innerText || '').trim(),
    })),
    scrolling: [...document.querySelectorAll('div.highlight pre, .output pre, .cell_output pre')]
      .filter(pre => pre.scrollWidth > pre.clientWidth + 1)
      .map(pre => ({start: pre.innerText.slice(0, 60), scrollWidth: pre.scrollWidth, clientWidth: pre.clientWidth})),
  };
}"""


EDITIONS = {"en": "", "ko": "ko/"}  # where each edition lives in the site (_ext/editions.py)


def book_pages(html: Path, edition: str = "en") -> list[str]:
    """Every HTML page of one edition, as paths relative to the site root (theme and asset folders left out)."""
    root = html / EDITIONS[edition]
    others = [prefix for code, prefix in EDITIONS.items() if code != edition and prefix]
    return sorted((EDITIONS[edition] + p.relative_to(root).as_posix()) for p in root.rglob("*.html")
                  if not any(part.startswith("_") for part in p.relative_to(root).parts)
                  and not any(p.relative_to(root).as_posix().startswith(prefix) for prefix in others))


def counterpart(page: str) -> str:
    """The same page in the other edition: p.html <-> ko/p.html."""
    return page.removeprefix("ko/") if page.startswith("ko/") else "ko/" + page


class _Anchors(HTMLParser):
    """The hrefs of a page's <a> elements, every id (or <a name>) it defines, and its
    <meta http-equiv="refresh"> target if it is a redirect (Jupyter Book's index.html)."""

    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.redirect: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.redirect = (attrs.get("content") or "").partition("url=")[2].strip() or None
            if self.redirect:
                self.hrefs.append(self.redirect)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a":
            if attrs.get("name"):
                self.ids.add(attrs["name"])
            if attrs.get("href") is not None:
                self.hrefs.append(attrs["href"])


@functools.cache
def _parse(path: Path) -> _Anchors:
    parser = _Anchors()
    parser.feed(path.read_text(errors="replace"))
    return parser


def broken_links(html: Path, page: str) -> tuple[int, list[str]]:
    """(links checked, problems) for the internal links of one page, read from the built HTML."""
    base = f"http://127.0.0.1/{page}"
    checked, problems = 0, []
    for href in _parse(html / page).hrefs:
        url = urlsplit(urljoin(base, href.strip()))
        if url.scheme not in ("http", "https") or url.hostname != "127.0.0.1" or href.startswith("//"):
            continue  # mailto:, javascript:, links to other sites (never requested by this test)
        checked += 1
        target = html / unquote(url.path).lstrip("/")
        if url.path.endswith("/") or target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"link {href!r}: {target.relative_to(html)} does not exist")
            continue
        fragment = unquote(url.fragment)
        if fragment and target.suffix == ".html" and fragment not in _parse(target).ids:
            problems.append(f"link {href!r}: no id {fragment!r} in {target.relative_to(html)}")
    return checked, problems


def figure_font_problems(html: Path, page: str, width: int, image: dict) -> list[str]:
    """Figures under _images/ must say their smallest font (PNG chunk) and draw it at >= MIN_FONT_PX."""
    path = urlsplit(image["src"]).path
    if not (path.startswith(("/_images/", "/ko/_images/")) and path.lower().endswith(".png")):
        return []
    from PIL import Image

    name = path.removeprefix("/")
    with Image.open(html / unquote(name)) as png:
        value = png.text.get(FONT_CHUNK)
    if value is None:
        return [f"{name}: no PNG text chunk {FONT_CHUNK!r} (figures are saved through normreg.plotting)"]
    if not image["naturalWidth"] or not image["width"]:
        return []  # reported as not loaded / not shown
    drawn = float(value) * image["width"] / image["naturalWidth"]
    if drawn < MIN_FONT_PX:
        return [f"{name}: smallest font drawn at {drawn:.1f} px at width {width} "
                f"({value} px at {image['naturalWidth']} px wide, shown {image['width']:.0f} px wide; "
                f"need >= {MIN_FONT_PX:g} px)"]
    return []


def figure_label_problems(image: dict) -> list[str]:
    """A course figure (under _images/) has a numbered caption and alt text that is words, not its file name."""
    path = urlsplit(image["src"]).path
    if not path.startswith(("/_images/", "/ko/_images/")):
        return []
    name, problems = path.removeprefix("/"), []
    if not image.get("caption", "").startswith(("Fig.", "그림")):
        problems.append(f"{name}: no numbered caption (give the figure cell mystnb: figure: name and caption)")
    alt = (image.get("alt") or "").strip()
    if len(alt.split()) < 3 or alt.lower().endswith((".png", ".svg", ".jpg")):  # Sphinx's default alt is the path
        problems.append(f"{name}: alt text {alt!r} does not say what the figure shows (mystnb: image: alt)")
    return problems


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html: Path) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _chromium() -> str:
    chromium = shutil.which("chromium")
    if chromium is None:
        message = "Debian's chromium is not installed (apt-get install chromium); the browser test needs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return chromium


def read_edition(html: Path, edition: str, page_checks=None,
                 screenshot_widths=tuple(w for w, _ in VIEWPORTS)) -> tuple[dict[str, list[str]], str]:
    """Read every page of one edition at every width; (problems by page, summary line).

    ``page_checks(page_name, width, result)`` -> problems: an edition's own checks of MEASURE's result.
    Full-page screenshots (half of the time per page) are taken at ``screenshot_widths`` when
    ``BOOK_SCREENSHOTS=1``.
    """
    if not TAKE_SCREENSHOTS:
        screenshot_widths = ()
    chromium = _chromium()
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    pages = book_pages(html, edition)
    assert EDITIONS[edition] + "index.html" in pages, f"no {EDITIONS[edition]}index.html in {html}"
    failures: dict[str, list[str]] = {}
    outside_requests: list[str] = []
    stats = dict(formulas=0, images=0, links=0, console_errors=0)

    def fail(page, problem):
        if problem not in failures.setdefault(page, []):
            failures[page].append(problem)

    for page in pages:
        checked, problems = broken_links(html, page)
        stats["links"] += checked
        for problem in problems:
            fail(page, problem)

    server = serve(html)
    origin = f"http://127.0.0.1:{server.server_address[1]}"

    def only_local(route):
        if urlsplit(route.request.url).netloc == urlsplit(origin).netloc:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for width, height in VIEWPORTS:
                for page_name in pages:
                    if _parse(html / page_name).redirect:
                        continue  # nothing to render; its target is checked with the links
                    where = page_name
                    errors: list[str] = []
                    # A fresh context per page: every page is a reader's first visit (empty storage).
                    context = browser.new_context(viewport={"width": width, "height": height})
                    context.route("**/*", only_local)
                    tab = context.new_page()
                    tab.on("console", lambda m, errors=errors: m.type == "error" and errors.append(
                        f"console error: {m.text} ({m.location.get('url', '')}:{m.location.get('lineNumber', '')})"))
                    tab.on("pageerror", lambda e, errors=errors: errors.append(f"page error: {e}"))
                    before = len(outside_requests)
                    tab.goto(f"{origin}/{page_name}", wait_until="load")
                    result = tab.evaluate(MEASURE)
                    if width in screenshot_widths:
                        shot = SCREENSHOTS / str(width) / Path(page_name).with_suffix(".png")
                        shot.parent.mkdir(parents=True, exist_ok=True)
                        tab.screenshot(path=str(shot), full_page=True)
                    context.close()

                    stats["console_errors"] += len(errors)
                    for error in errors:
                        fail(where, f"at {width} px: {error}")
                    for url in outside_requests[before:]:
                        fail(where, f"request outside 127.0.0.1 (blocked): {url}")
                    if result["scrollWidth"] > result["innerWidth"]:
                        fail(where, f"at {width} px the page scrolls sideways "
                                    f"(scrollWidth {result['scrollWidth']} > window {result['innerWidth']})")
                    for problem in switch_problems(page_name, width, result, origin):
                        fail(where, problem)
                    for problem in (page_checks(page_name, width, result) if page_checks else []):
                        fail(where, problem)
                    if page_name.removeprefix("ko/") in NOTHING_TO_RENDER:
                        continue
                    if width == VIEWPORTS[0][0]:
                        stats["formulas"] += result["formulas"]
                    if result["mathjax"] == "never started":
                        fail(where, "MathJax is on the page but never started")
                    for raw in RAW_TEX:
                        if raw in result["text"]:
                            at = result["text"].index(raw)
                            fail(where, f"raw TeX {raw!r} left in the visible text: "
                                        f"...{result['text'][max(0, at - 40):at + 40]!r}...")
                    for pre in result["scrolling"]:
                        fail(where, f"at {width} px a code cell or output scrolls sideways "
                                    f"({pre['scrollWidth']} > {pre['clientWidth']} px): {pre['start']!r}")
                    for image in result["images"]:
                        name = urlsplit(image["src"]).path.lstrip("/")
                        if width == VIEWPORTS[0][0]:
                            stats["images"] += 1
                        if not image["complete"] or image["naturalWidth"] == 0:
                            fail(where, f"image {name} did not load")
                            continue
                        if image["inColumn"] and image["width"] > result["columnWidth"] + 0.5:
                            fail(where, f"at {width} px image {name} is {image['width']:.0f} px wide, "
                                        f"wider than its column ({result['columnWidth']:.0f} px)")
                        for problem in figure_font_problems(html, page_name, width, image):
                            fail(where, problem)
                        for problem in figure_label_problems(image):
                            fail(where, problem)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()

    seconds = time.monotonic() - started
    summary = (f"browser test ({edition}): {len(pages)} pages checked at widths {', '.join(str(w) for w, _ in VIEWPORTS)}; "
               f"{stats['formulas']} formulas typeset, {stats['images']} images checked, "
               f"{stats['links']} links checked, {stats['console_errors']} console errors, "
               f"{len(set(outside_requests))} requests outside 127.0.0.1, {seconds:.0f} s; "
               + (f"screenshots in {SCREENSHOTS}" if screenshot_widths else "no screenshots (BOOK_SCREENSHOTS=1 keeps them)"))
    return failures, summary


def report(failures: dict[str, list[str]], summary: str) -> str:
    lines = "\n".join(f"{page}:\n" + "\n".join(f"  - {p}" for p in problems)
                      for page, problems in sorted(failures.items()))
    return f"{sum(map(len, failures.values()))} problems on {len(failures)} pages\n{lines}\n{summary}"


def switch_problems(page_name: str, width: int, result: dict, origin: str) -> list[str]:
    """The language switch is on the page, visible at this width, and leads to the same page of the other edition."""
    switch = result.get("languageSwitch")
    if switch is None:
        return ["no language switch (a.normreg-language-switch)"]
    problems = []
    if not switch["visible"]:
        problems.append(f"at {width} px the language switch {switch['text']!r} is not visible in the window")
    expected = f"{origin}/{counterpart(page_name)}"
    if switch["href"].split("#")[0] != expected:
        problems.append(f"the language switch leads to {switch['href']!r}, not {expected!r}")
    return problems


def test_every_page_in_a_real_browser(built_book, record_property):
    failures, summary = read_edition(built_book, "en")
    print(summary)
    record_property("summary", summary)
    assert not failures, report(failures, summary)
