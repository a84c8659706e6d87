"""Figures the book draws more than once."""
from __future__ import annotations

import numpy as np


def plot_least_squares_path(ax, X, y, path, title: str = "", levels: int = 20, margin: float = 0.3,
                            show_optimum: bool = True):
    """Contours of ``0.5 * mean((X @ w - y)**2)`` over (w[0], w[1]) with a GD path on top.

    X : (N, 2), y : (N,), path : (steps + 1, 2) weights visited. Contour levels are
    spaced geometrically above the optimum so that narrow valleys stay visible.
    With ``show_optimum=False`` the window frames the path only (a zoom on it).
    """
    X = np.asarray(X, dtype=np.float64)
    w_star, *_ = np.linalg.lstsq(X, y, rcond=None)
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
    ax.plot(path[:, 0], path[:, 1], "-o", color="crimson", markersize=2, linewidth=0.8, label="gradient descent")
    if show_optimum:
        ax.plot(*w_star, "k*", markersize=10, label="optimum")
    ax.set_xlabel("$w_1$")
    ax.set_ylabel("$w_2$")
    ax.set_title(title)
    return ax


def plot_histories(ax, histories: dict, metric: str = "val_accuracy", ylabel: str | None = None):
    """One line per named History (see ``normreg.training.History``) for ``metric`` over epochs."""
    for label, history in histories.items():
        values = getattr(history, metric)
        ax.plot(np.arange(1, len(values) + 1), values, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or metric.replace("_", " "))
    ax.legend()
    return ax
