"""Watching hidden layers during training: forward hooks, percentiles, drift.

Used by chapter 2 (internal covariate shift) and the capstone. ``record_outputs``
captures what chosen modules produce in one forward pass; ``track_training``
trains a classifier with mini-batch SGD and, every few steps, records the
15th/50th/85th percentiles of those outputs on a fixed probe batch, the
measurement behind Figure 1 of Ioffe & Szegedy (2015).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

PERCENTS = (15.0, 50.0, 85.0)


def record_outputs(model: nn.Module, x: torch.Tensor, layer_types=(nn.Linear,)) -> list[torch.Tensor]:
    """The outputs of every module of ``layer_types`` in one forward pass of ``model`` on ``x``.

    Returns detached copies, in the order the modules ran. The model's mode is left
    as it is (in train mode a BatchNorm layer still updates its running statistics)
    and the hooks are removed afterwards, even if the forward pass fails.
    """
    recorded: list[torch.Tensor] = []
    handles = [m.register_forward_hook(lambda _m, _args, out: recorded.append(out.detach().clone()))
               for m in model.modules() if isinstance(m, layer_types)]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return recorded


def unit_percentiles(values: torch.Tensor, q=PERCENTS) -> torch.Tensor:
    """Percentiles ``q`` (in percent) of each unit over the examples: (N, D) -> (len(q), D).

    Linear interpolation between order statistics, as ``numpy.percentile``'s default.
    """
    qs = torch.as_tensor(q, dtype=values.dtype) / 100.0
    return torch.quantile(values, qs, dim=0)


def band_width(history: torch.Tensor) -> torch.Tensor:
    """How far each percentile moved during training: max minus min over time, (T, Q, D) -> (Q, D)."""
    return history.amax(dim=0) - history.amin(dim=0)


def gaussian_init_(model: nn.Module, std: float = 1.0, seed: int = 0) -> nn.Module:
    """Re-initialise every Linear layer with N(0, std^2) weights and zero biases (in place)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Linear):
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * std)
                module.bias.zero_()
    return model


class RandomAffine(nn.Module):
    """Training-time noise after a normalization layer, a simpler variant of Santurkar et al. (2018), Section 2.

    In train mode, every forward pass multiplies each unit by its own random scale
    ``exp(N(0, log_scale_std^2))`` and adds its own random shift ``N(0, shift_std^2)``,
    fresh every call, so the distribution the next layer sees keeps changing. In eval
    mode it is the identity.
    """

    def __init__(self, shift_std: float = 1.0, log_scale_std: float = 0.5, seed: int = 0):
        super().__init__()
        self.shift_std, self.log_scale_std = shift_std, log_scale_std
        self.generator = torch.Generator().manual_seed(seed)

    def forward(self, x):
        if not self.training:
            return x
        d = x.shape[1]
        scale = torch.exp(torch.randn(d, generator=self.generator) * self.log_scale_std).to(x.dtype)
        shift = (torch.randn(d, generator=self.generator) * self.shift_std).to(x.dtype)
        return x * scale + shift


@dataclass
class Trace:
    """What ``track_training`` recorded.

    steps : (T,) SGD step at which each record was taken (0 = before training)
    percentiles : list over recorded layers of (T, len(q), D) tensors
    val_accuracy : (T,) accuracy on the validation data at each record
    """

    steps: np.ndarray
    percentiles: list[torch.Tensor]
    val_accuracy: np.ndarray
    q: tuple = field(default=PERCENTS)


def track_training(model: nn.Module, X_train, y_train, X_val, y_val, *, layer_types=(nn.Linear,),
                   steps: int = 500, record_every: int = 10, batch_size: int = 60, lr: float = 0.1,
                   probe_size: int = 256, q=PERCENTS, seed: int = 0) -> Trace:
    """Train ``model`` with cross-entropy and plain SGD, recording hidden-layer percentiles as it learns.

    Every ``record_every`` steps the outputs of the modules of ``layer_types`` are recorded
    on a fixed probe batch of ``probe_size`` training examples, in train mode (as the network
    sees them while it learns) but on a copy of the model, so that recording does not touch
    BatchNorm's running statistics. X_* : (N, D) float arrays, y_* : (N,) int arrays.
    """
    import torch.nn.functional as F

    from normreg.training import accuracy

    generator = torch.Generator().manual_seed(seed)
    Xt = torch.as_tensor(X_train, dtype=torch.float32)
    yt = torch.as_tensor(y_train, dtype=torch.long)
    Xv = torch.as_tensor(X_val, dtype=torch.float32)
    yv = torch.as_tensor(y_val, dtype=torch.long)
    probe = Xt[torch.randperm(len(Xt), generator=generator)[:probe_size]]
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    records: list[list[torch.Tensor]] = []
    recorded_steps, val_accuracy = [], []

    def record(step):
        snapshot = copy.deepcopy(model).train()
        records.append([unit_percentiles(v, q) for v in record_outputs(snapshot, probe, layer_types)])
        recorded_steps.append(step)
        val_accuracy.append(accuracy(model, Xv, yv))

    model.train()
    record(0)
    order = torch.randperm(len(Xt), generator=generator)
    position = 0
    for step in range(1, steps + 1):
        if position + batch_size > len(Xt):
            order, position = torch.randperm(len(Xt), generator=generator), 0
        batch = order[position:position + batch_size]
        position += batch_size
        loss = F.cross_entropy(model(Xt[batch]), yt[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % record_every == 0:
            record(step)
    per_layer = [torch.stack([r[i] for r in records]) for i in range(len(records[0]))]
    return Trace(np.array(recorded_steps), per_layer, np.array(val_accuracy), tuple(q))
