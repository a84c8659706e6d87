"""Training loops shared by the book pages.

``least_squares_gd`` runs plain gradient descent on a linear least-squares
problem and records its path, so the book can count steps and draw them.
``train_classifier`` is a small, seeded PyTorch loop for the MLP experiments.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class GDResult:
    """Gradient descent on ``0.5 * mean((X @ w - y) ** 2)``.

    path : (steps + 1, D) weights after each step, starting point first
    losses : (steps + 1,) loss at each point of ``path``
    steps_to_converge : first step whose loss is within ``tol`` of the optimum,
        or None if that never happened within ``max_steps``
    lr : the step size used
    condition_number : largest / smallest eigenvalue of the Hessian ``X.T @ X / N``
    """

    path: np.ndarray
    losses: np.ndarray
    steps_to_converge: int | None
    lr: float
    condition_number: float


def least_squares_gd(
    X: np.ndarray,
    y: np.ndarray,
    w0: np.ndarray | None = None,
    lr_factor: float | None = None,
    tol: float = 1e-6,
    max_steps: int = 100_000,
    record_every: int = 1,
) -> GDResult:
    """Minimise ``0.5 * mean((X @ w - y)**2)`` by gradient descent.

    X : (N, D) features, y : (N,) targets, w0 : (D,) start (zeros by default).
    The step size is the best constant step for a quadratic, ``2 / (l + L)`` with
    ``l``, ``L`` the smallest and largest eigenvalues of the Hessian, or
    ``lr_factor / L`` if ``lr_factor`` is given (below 2 to converge). Either way
    the same rule serves every data set, so step counts compare the problems,
    not the tuning.
    Convergence: loss minus the optimal loss below ``tol`` times the starting gap.
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n, d = X.shape
    hessian = X.T @ X / n
    eigenvalues = np.linalg.eigvalsh(hessian)
    lr = 2.0 / (eigenvalues[0] + eigenvalues[-1]) if lr_factor is None else lr_factor / eigenvalues[-1]
    w_star, *_ = np.linalg.lstsq(X, y, rcond=None)

    def loss(w):
        r = X @ w - y
        return 0.5 * float(r @ r) / n

    best = loss(w_star)
    w = np.zeros(d) if w0 is None else np.asarray(w0, dtype=np.float64).copy()
    start_gap = loss(w) - best
    path, losses = [w.copy()], [loss(w)]
    steps_to_converge = None
    Xty = X.T @ y / n
    for step in range(1, max_steps + 1):
        w = w - lr * (hessian @ w - Xty)   # gradient of the loss is H w - X^T y / N
        current = loss(w)
        if step % record_every == 0:
            path.append(w.copy())
            losses.append(current)
        if current - best <= tol * start_gap:
            steps_to_converge = step
            break
    return GDResult(
        path=np.array(path),
        losses=np.array(losses),
        steps_to_converge=steps_to_converge,
        lr=lr,
        condition_number=float(eigenvalues[-1] / eigenvalues[0]),
    )


@dataclass
class History:
    """Per-epoch metrics of one training run (lists of floats, one entry per epoch)."""

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)


def accuracy(model, X, y) -> float:
    """Fraction of rows of ``X`` (a float tensor (N, D)) that ``model`` classifies as ``y``."""
    import torch

    was_training = model.training
    model.eval()
    with torch.no_grad():
        predictions = model(X).argmax(dim=1)
    model.train(was_training)
    return float((predictions == y).float().mean())


def train_classifier(
    model,
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray | None = None,
    y_val: np.ndarray | None = None,
    *,
    epochs: int = 20,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    seed: int = 0,
) -> History:
    """Train ``model`` with cross-entropy and mini-batches; return its History.

    X_* : (N, D) float arrays, y_* : (N,) int arrays. ``optimizer`` is ``"sgd"``,
    ``"adam"`` or ``"adamw"``. Mini-batches are reshuffled every epoch from a
    generator seeded with ``seed``, so a run is repeatable. Metrics are measured
    in eval mode after each epoch.
    """
    import torch
    import torch.nn.functional as F

    generator = torch.Generator().manual_seed(seed)
    Xt = torch.as_tensor(X_train, dtype=torch.float32)
    yt = torch.as_tensor(y_train, dtype=torch.long)
    has_val = X_val is not None
    if has_val:
        Xv = torch.as_tensor(X_val, dtype=torch.float32)
        yv = torch.as_tensor(y_val, dtype=torch.long)
    optimizers = {
        "sgd": lambda p: torch.optim.SGD(p, lr=lr, momentum=momentum, weight_decay=weight_decay),
        "adam": lambda p: torch.optim.Adam(p, lr=lr, weight_decay=weight_decay),
        "adamw": lambda p: torch.optim.AdamW(p, lr=lr, weight_decay=weight_decay),
    }
    opt = optimizers[optimizer](model.parameters())
    history = History()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(Xt), generator=generator)
        for start in range(0, len(Xt), batch_size):
            batch = order[start : start + batch_size]
            loss = F.cross_entropy(model(Xt[batch]), yt[batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            history.train_loss.append(float(F.cross_entropy(model(Xt), yt)))
            history.train_accuracy.append(accuracy(model, Xt, yt))
            if has_val:
                history.val_loss.append(float(F.cross_entropy(model(Xv), yv)))
                history.val_accuracy.append(accuracy(model, Xv, yv))
    return history


def make_mlp(in_features: int, hidden: tuple[int, ...], out_features: int, activation: str = "relu",
             batchnorm: bool = False, dropout: float = 0.0, seed: int = 0):
    """A fully connected network: [Linear -> (BatchNorm1d) -> activation -> (Dropout)] * len(hidden) -> Linear.

    Input (N, in_features), output (N, out_features) logits. Initialised from ``seed``.
    """
    import torch
    from torch import nn

    torch.manual_seed(seed)
    activations = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
    layers, width = [], in_features
    for size in hidden:
        layers.append(nn.Linear(width, size))
        if batchnorm:
            layers.append(nn.BatchNorm1d(size))
        layers.append(activations[activation]())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)
