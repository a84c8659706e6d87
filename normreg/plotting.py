"""The book's figure style, and figures the book draws more than once.

``use_course_style()`` (called once at the top of every chapter) sizes every
figure for the text column: ``FIGURE_WIDTH`` inches at ``DPI`` is the width the
theme gives a figure on a desktop, and every font is at least ``MIN_FONT_PT``, so
that text is still 9 px or more where a phone shrinks the figure to about 360 px.
Each figure leaves the notebook as a PNG that records its smallest font, in
pixels at the PNG's own size (text chunk ``normreg-min-font-px``); the browser
test of the book reads it to check that fonts stay readable as rendered.

The words in the figures are English in the code and go through ``normreg.i18n``
(``_ = translator("normreg")``): when the book is executed with ``NORMREG_LANG=ko`` (the
Korean edition), they come from ``normreg/locale/ko/LC_MESSAGES/normreg.po``, and
``use_course_style()`` adds a Korean font (Debian's fonts-nanum: NanumGothic) behind DejaVu Sans,
so that Latin letters, digits and maths look as in the English figures and Hangul has glyphs.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np

from normreg.i18n import language, translator

_ = translator("normreg")

FIGURE_WIDTH = 5.2          # inches: 520 px at DPI, narrower than the 680 px desktop column
DPI = 100
MIN_FONT_PT = 10.5          # 14.6 px at DPI; about 10 px on a phone's 358 px column
PANEL_HEIGHT = 2.6          # inches per row of panels
FONT_CHUNK = "normreg-min-font-px"
# Fonts with Hangul, tried in this order (file names as Debian's fonts-nanum and fonts-noto-cjk ship them)
KOREAN_FONTS = ("NanumGothic.ttf", "NotoSansCJK-Regular.ttc", "NotoSansKR-Regular.otf")
STYLE = {
    "figure.dpi": DPI, "savefig.dpi": DPI, "figure.figsize": (FIGURE_WIDTH, PANEL_HEIGHT + 0.4),
    "figure.constrained_layout.use": True,
    "font.size": 11, "axes.titlesize": 11.5, "axes.labelsize": 11, "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT, "legend.title_fontsize": MIN_FONT_PT,
    "figure.titlesize": 12, "axes.grid": True, "grid.alpha": 0.3, "lines.linewidth": 1.6,
}


def use_course_style() -> None:
    """Apply ``STYLE`` and make the notebook's figures PNGs that carry their smallest font size."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    # Load the backend now: Jupyter's inline backend registers its own PNG formatter when it is first
    # loaded (at the first figure otherwise), which would replace the one registered below.
    plt.switch_backend(mpl.get_backend())
    mpl.rcParams.update(STYLE)
    if language() == "ko":
        mpl.rcParams["font.family"] = ["DejaVu Sans", korean_font()]
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python: nothing displays figures
        return
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)


def korean_font() -> str:
    """The family name of an installed font with Hangul, added to matplotlib's font list if it is not there yet.

    matplotlib caches the fonts it found when it first ran; a font installed later (apt-get install
    fonts-nanum) is only in that cache once it is added by file.
    """
    from matplotlib import font_manager

    known = {entry.fname.rsplit("/", 1)[-1]: entry.name for entry in font_manager.fontManager.ttflist}
    for name in KOREAN_FONTS:
        if name in known:
            return known[name]
    files = {path.rsplit("/", 1)[-1]: path for path in font_manager.findSystemFonts()}
    for name in KOREAN_FONTS:
        if name in files:
            font_manager.fontManager.addfont(files[name])
            return font_manager.FontProperties(fname=files[name]).get_name()
    raise RuntimeError("the Korean figures need a font with Hangul: install Debian's fonts-nanum "
                       "(apt-get install fonts-nanum), as the README's command 1 does")


def smallest_font_px(fig, dpi: float = DPI, draw: bool = True) -> float:
    """The smallest font size of the visible, non-empty text in ``fig``, in pixels at ``dpi``.

    ``draw=False`` when the figure was just drawn (saved): tick labels exist only once it is laid out.
    """
    from matplotlib.text import Text

    if draw:
        fig.canvas.draw()
    sizes = [text.get_fontsize() for text in fig.findobj(Text)
             if text.get_visible() and text.get_text().strip() and _drawn(text)]
    return min(sizes, default=float("inf")) * dpi / 72


def _drawn(text) -> bool:
    """False for a tick label outside its axis' view (matplotlib keeps such labels but does not draw them)."""
    axes = text.axes
    if axes is None or text not in (axes.get_xticklabels() + axes.get_yticklabels()):
        return True
    return bool(text.get_window_extent().width > 0)


def figure_png(fig) -> bytes | None:
    """``fig`` as a PNG cropped to its content, with its smallest font (px) in the ``normreg-min-font-px`` chunk."""
    if not fig.axes and not fig.texts:
        return None
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.05)
    font_px = smallest_font_px(fig, draw=False)  # saving laid the figure out: no second draw
    return with_text_chunk(buffer.getvalue(), FONT_CHUNK, f"{font_px:.2f}")


def with_text_chunk(png: bytes, key: str, value: str) -> bytes:
    """``png`` with a ``tEXt`` chunk ``key=value`` right after its header chunk (PNG spec, section 11.3.4.3)."""
    signature_and_header = 8 + 4 + 4 + 13 + 4  # signature, then IHDR: length, type, 13 bytes of data, CRC
    if png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    data = key.encode("latin-1") + b"\0" + value.encode("latin-1")
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return png[:signature_and_header] + chunk + png[signature_and_header:]


def panels(n: int, columns: int = 2, height: float = PANEL_HEIGHT, **kwargs):
    """``plt.subplots`` for ``n`` panels, at most ``columns`` side by side, as wide as the column.

    Returns (fig, axes) with ``axes`` a flat array of length ``n`` (a single Axes when n == 1);
    extra grid cells are removed.
    """
    import matplotlib.pyplot as plt

    columns = max(1, min(columns, n))
    rows = -(-n // columns)
    fig, grid = plt.subplots(rows, columns, figsize=(FIGURE_WIDTH, height * rows), squeeze=False, **kwargs)
    flat = grid.ravel()
    for extra in flat[n:]:
        extra.remove()
    return (fig, flat[0]) if n == 1 else (fig, flat[:n])



def plot_least_squares_path(ax, X, y, path, title: str = "", levels: int = 20, margin: float = 0.3,
                            show_optimum: bool = True):
    """Contours of ``0.5 * mean((X @ w - y)**2)`` over (w[0], w[1]) with a GD path on top.

    X : (N, 2), y : (N,), path : (steps + 1, 2) weights visited. Contour levels are
    spaced geometrically above the optimum so that narrow valleys stay visible.
    With ``show_optimum=False`` the window frames the path only (a zoom on it).
    """
    X = np.asarray(X, dtype=np.float64)
    w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    framed = np.vstack([path, w_star[None]]) if show_optimum else path
    span = np.ptp(framed, axis=0)
    span = np.where(span == 0, 1.0, span)
    lo = framed.min(axis=0) - margin * span
    hi = framed.max(axis=0) + margin * span
    w0, w1 = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    grid = np.stack([w0.ravel(), w1.ravel()], axis=1)
    residuals = grid @ X.T - y[None, :]
    loss = 0.5 * np.mean(residuals**2, axis=1).reshape(w0.shape)
    best = 0.5 * np.mean((X @ w_star - y) ** 2)
    gap = loss - best
    ax.contour(w0, w1, gap, levels=np.geomspace(max(gap.min(), gap.max() * 1e-4, 1e-12), gap.max(), levels),
               cmap="viridis", linewidths=0.8)
    ax.plot(path[:, 0], path[:, 1], "-o", color="crimson", markersize=2, linewidth=0.8, label=_("gradient descent"))
    if show_optimum:
        ax.plot(*w_star, "k*", markersize=10, label=_("optimum"))
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title)
    return ax


def plot_histories(ax, histories: dict, metric: str = "val_accuracy", ylabel: str | None = None):
    """One line per named History (see ``normreg.training.History``) for ``metric`` over epochs."""
    for label, history in histories.items():
        values = getattr(history, metric)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(ylabel or _(metric.replace("_", " ")))
    ax.legend()
    return ax
