"""The browser test's own checks, on a tiny made-up site: each catches what it claims, and passes good pages."""
from __future__ import annotations

from PIL import Image, PngImagePlugin

from normreg.plotting import FONT_CHUNK
from tests.test_book_in_browser import (MIN_FONT_PX, book_pages, broken_links, figure_font_problems,
                                         figure_label_problems)


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_links_and_anchors(tmp_path):
    write(tmp_path / "index.html", '<meta http-equiv="Refresh" content="0; url=book/a.html" />')
    write(tmp_path / "book/a.html", '<h1 id="top">A</h1><a name="old"></a>'
          '<a href="#top">ok</a><a href="#old">ok</a><a href="b.html#sec">ok</a><a href="../_images/x.png">ok</a>'
          '<a href="https://example.org/">elsewhere, not checked</a><a href="mailto:a@b.c">not checked</a>'
          '<a href="#gone">bad anchor</a><a href="c.html">bad file</a><a href="b.html#nope">bad anchor elsewhere</a>')
    write(tmp_path / "book/b.html", '<section id="sec"></section>')
    write(tmp_path / "_images/x.png", "")
    write(tmp_path / "_static/theme.html", "")

    assert book_pages(tmp_path) == ["book/a.html", "book/b.html", "index.html"]
    assert broken_links(tmp_path, "index.html") == (1, [])
    checked, problems = broken_links(tmp_path, "book/a.html")
    assert checked == 7
    assert problems == ["link '#gone': no id 'gone' in book/a.html",
                        "link 'c.html': book/c.html does not exist",
                        "link 'b.html#nope': no id 'nope' in book/b.html"]


def test_figure_fonts(tmp_path):
    (tmp_path / "_images").mkdir()
    info = PngImagePlugin.PngInfo()
    info.add_text(FONT_CHUNK, "20")
    Image.new("RGB", (1000, 500)).save(tmp_path / "_images/fig.png", pnginfo=info)
    Image.new("RGB", (1000, 500)).save(tmp_path / "_images/plain.png")

    def shown(name, width):
        return {"src": f"http://127.0.0.1:8000/_images/{name}", "naturalWidth": 1000, "width": width}

    assert figure_font_problems(tmp_path, "p.html", 1280, shown("fig.png", 700)) == []  # 20 * 0.7 = 14 px
    (problem,) = figure_font_problems(tmp_path, "p.html", 390, shown("fig.png", 358))  # 7.2 px
    assert "7.2 px" in problem and f">= {MIN_FONT_PX:g} px" in problem and "_images/fig.png" in problem
    (problem,) = figure_font_problems(tmp_path, "p.html", 1280, shown("plain.png", 700))
    assert "_images/plain.png" in problem and FONT_CHUNK in problem
    not_a_figure = {"src": "http://127.0.0.1:8000/_static/logo.png", "naturalWidth": 10, "width": 10}
    assert figure_font_problems(tmp_path, "p.html", 390, not_a_figure) == []


def test_a_figure_needs_a_numbered_caption_and_alt_text_in_words():
    good = {"src": "http://127.0.0.1:1/_images/a.png", "caption": "Fig. 3 What it shows.",
            "alt": "Accuracy against learning rate, one line per scaling"}
    assert figure_label_problems(good) == []
    assert figure_label_problems({**good, "src": "http://127.0.0.1:1/_static/logo.png", "alt": ""}) == []
    (problem,) = figure_label_problems({**good, "caption": ""})
    assert "numbered caption" in problem
    for alt in ("_images/a.png", "", "a plot", "See the plot in _images/a.png"):
        (problem,) = figure_label_problems({**good, "alt": alt})
        assert "alt text" in problem
    assert figure_label_problems({**good, "alt": "Points at x = 1/6, 1/2 and 5/6 miss the band"}) == []
