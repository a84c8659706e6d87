"""normreg.plotting: figures sized for the column, and PNGs that record their smallest font."""
from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from normreg import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def course_style():
    with matplotlib.rc_context():
        plotting.use_course_style()
        yield
    plt.close("all")


def _png(fig) -> Image.Image:
    return Image.open(io.BytesIO(plotting.figure_png(fig)))


@pytest.mark.parametrize("n, columns, shape", [(1, 2, (1, 1)), (2, 2, (1, 2)), (3, 2, (2, 2)), (3, 1, (3, 1)),
                                               (5, 5, (1, 5))])
def test_panels_fill_the_column_and_drop_unused_cells(n, columns, shape):
    fig, axes = plotting.panels(n, columns=columns)
    assert fig.get_size_inches()[0] == pytest.approx(plotting.FIGURE_WIDTH)
    assert fig.get_size_inches()[1] == pytest.approx(plotting.PANEL_HEIGHT * shape[0])
    assert len(fig.axes) == n
    assert (len(axes) if n > 1 else 1) == n


def test_png_records_the_smallest_font_in_pixels():
    fig, ax = plotting.panels(1)
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title")
    image = _png(fig)
    recorded = float(image.text[plotting.FONT_CHUNK])
    assert recorded == pytest.approx(plotting.MIN_FONT_PT * plotting.DPI / 72, abs=0.01)  # the tick labels
    assert image.size[0] <= plotting.FIGURE_WIDTH * plotting.DPI + 2  # cropped to content, never wider


def test_a_smaller_font_anywhere_is_what_gets_recorded():
    fig, ax = plotting.panels(1)
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "tiny note", fontsize=6)
    assert float(_png(fig).text[plotting.FONT_CHUNK]) == pytest.approx(6 * plotting.DPI / 72, abs=0.01)


def test_empty_and_invisible_text_do_not_count():
    fig, ax = plotting.panels(1)
    ax.plot([0, 1], [0, 1])
    ax.text(0.5, 0.5, "   ", fontsize=4)
    ax.text(0.2, 0.2, "hidden", fontsize=4, visible=False)
    assert float(_png(fig).text[plotting.FONT_CHUNK]) == pytest.approx(plotting.MIN_FONT_PT * plotting.DPI / 72,
                                                                        abs=0.01)


def test_style_fonts_stay_readable_on_a_phone():
    """At the 358 px column of a 390 px phone, the style's smallest font is still 9 px or more."""
    scale = 358 / (plotting.FIGURE_WIDTH * plotting.DPI)
    assert plotting.MIN_FONT_PT * plotting.DPI / 72 * scale >= 9
