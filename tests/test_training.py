"""normreg.training and normreg.plotting."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from normreg import plotting, training
from normreg.data import load_images, split_indices


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 1000), d=st.integers(1, 4))
def test_gradient_descent_reaches_the_least_squares_solution(seed, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, d)) * rng.uniform(0.5, 2, size=d)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(50)
    result = training.least_squares_gd(X, y, tol=1e-12, max_steps=20_000)
    w_star, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert result.steps_to_converge is not None
    np.testing.assert_allclose(result.path[-1], w_star, rtol=1e-4, atol=1e-5)
    assert np.all(np.diff(result.losses) <= 1e-12)  # the optimal constant step never increases the loss


def test_bad_scaling_needs_more_steps():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = X @ np.array([1.0, -2.0])
    scaled = training.least_squares_gd(X, y)
    stretched = training.least_squares_gd(X * np.array([1.0, 30.0]), y)
    assert stretched.condition_number > 100 * scaled.condition_number
    assert stretched.steps_to_converge > 10 * scaled.steps_to_converge


def test_gd_reports_no_convergence_within_budget():
    X = np.array([[1.0, 0.0], [0.0, 1e-3]])
    result = training.least_squares_gd(X, np.array([1.0, 1.0]), max_steps=10)
    assert result.steps_to_converge is None and len(result.path) == 11


@pytest.mark.parametrize("batchnorm,dropout", [(False, 0.0), (True, 0.5)])
def test_make_mlp_shapes_and_layers(batchnorm, dropout):
    model = training.make_mlp(64, (32, 16), 10, activation="sigmoid", batchnorm=batchnorm, dropout=dropout)
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    kinds = [type(m).__name__ for m in model]
    assert kinds.count("Linear") == 3
    assert kinds.count("BatchNorm1d") == (2 if batchnorm else 0)
    assert kinds.count("Dropout") == (2 if dropout else 0)


def test_training_learns_digits_and_is_repeatable():
    digits = load_images("digits")
    X, y = digits.features / digits.pixel_max, digits.labels
    train, val = split_indices(len(X), (0.8, 0.2), seed=0)
    runs = [
        training.train_classifier(training.make_mlp(64, (32,), 10, seed=1), X[train], y[train], X[val], y[val],
                                  epochs=8, lr=0.5, seed=3)
        for _ in range(2)
    ]
    assert runs[0].val_accuracy == runs[1].val_accuracy          # same seeds, same run
    assert runs[0].val_accuracy[-1] > 0.85                        # it learns
    assert runs[0].train_loss[-1] < runs[0].train_loss[0]


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "adamw"])
def test_every_optimizer_trains(optimizer):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 4))
    y = (X[:, 0] > 0).astype(int)
    history = training.train_classifier(training.make_mlp(4, (8,), 2), X, y, epochs=15,
                                        lr=0.05 if optimizer != "sgd" else 0.5, optimizer=optimizer, weight_decay=1e-4)
    assert history.train_accuracy[-1] > 0.9 and history.val_accuracy == []


def test_plots_draw_paths_and_histories():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = X @ np.array([1.0, 2.0])
    run = training.least_squares_gd(X, y)
    fig, (a, b) = plt.subplots(1, 2)
    plotting.plot_least_squares_path(a, X, y, run.path, title="t")
    assert a.get_title() == "t" and len(a.lines) == 2  # the path and the optimum
    history = training.History(val_accuracy=[0.5, 0.7])
    plotting.plot_histories(b, {"run": history})
    np.testing.assert_array_equal(b.lines[0].get_ydata(), [0.5, 0.7])
    plt.close(fig)
