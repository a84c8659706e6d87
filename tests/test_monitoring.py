"""normreg.monitoring: hooks, percentiles, drift and the recording training loop."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from torch import nn

from normreg import monitoring
from normreg.data import load_images, split_indices


def _mlp(batchnorm=False):
    torch.manual_seed(0)
    layers = [nn.Linear(5, 4)] + ([nn.BatchNorm1d(4)] if batchnorm else []) + [nn.Sigmoid(), nn.Linear(4, 3)]
    return nn.Sequential(*layers)


def test_record_outputs_matches_explicit_forward_and_removes_hooks():
    model = _mlp(batchnorm=True)
    x = torch.randn(6, 5)
    recorded = monitoring.record_outputs(model, x, (nn.Linear, nn.BatchNorm1d))
    with torch.no_grad():
        h0 = model[0](x)
        h1 = model[1](h0)
        out = model[3](model[2](h1))
    assert len(recorded) == 3
    for got, expected in zip(recorded, [h0, h1, out]):
        torch.testing.assert_close(got, expected)
        assert not got.requires_grad
    assert all(not m._forward_hooks for m in model.modules())
    assert model.training


def test_record_outputs_removes_hooks_when_forward_fails():
    model = _mlp()
    with pytest.raises(RuntimeError):
        monitoring.record_outputs(model, torch.randn(3, 7))  # wrong input width
    assert all(not m._forward_hooks for m in model.modules())


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), d=st.integers(1, 6), seed=st.integers(0, 1000))
def test_unit_percentiles_match_numpy(n, d, seed):
    values = torch.as_tensor(np.random.default_rng(seed).standard_normal((n, d)))
    expected = np.percentile(values.numpy(), monitoring.PERCENTS, axis=0)
    np.testing.assert_allclose(monitoring.unit_percentiles(values).numpy(), expected, rtol=1e-12, atol=1e-12)


def test_band_width_is_max_minus_min_over_time():
    history = torch.tensor([[[0.0, 1.0]], [[2.0, -1.0]], [[1.0, 0.0]]])  # (T=3, Q=1, D=2)
    torch.testing.assert_close(monitoring.band_width(history), torch.tensor([[2.0, 2.0]]))


def test_gaussian_init_sets_weights_and_zero_biases():
    model = monitoring.gaussian_init_(nn.Sequential(nn.Linear(200, 300)), std=0.5, seed=1)
    assert abs(model[0].weight.std().item() - 0.5) < 0.01 and model[0].bias.abs().max() == 0


def test_random_affine_is_noise_in_training_and_identity_in_eval():
    layer = monitoring.RandomAffine(seed=0)
    x = torch.randn(8, 4)
    assert not torch.equal(layer(x), layer(x))  # new noise at every call
    layer.eval()
    assert torch.equal(layer(x), x)


def test_track_training_records_and_learns():
    data = load_images("digits")
    X, y = data.features / data.pixel_max, data.labels
    train, val = split_indices(len(y), (0.7, 0.3), seed=0)
    model = nn.Sequential(nn.Linear(64, 20), nn.BatchNorm1d(20), nn.Sigmoid(), nn.Linear(20, 10))
    trace = monitoring.track_training(model, X[train], y[train], X[val], y[val], layer_types=(nn.BatchNorm1d,),
                                      steps=60, record_every=20, probe_size=50)
    assert list(trace.steps) == [0, 20, 40, 60]
    assert len(trace.percentiles) == 1 and trace.percentiles[0].shape == (4, 3, 20)
    assert trace.val_accuracy[-1] > trace.val_accuracy[0] + 0.3


def test_recording_does_not_touch_running_statistics():
    data = load_images("digits")
    X, y = data.features[:100] / data.pixel_max, data.labels[:100]
    model = nn.Sequential(nn.Linear(64, 20), nn.BatchNorm1d(20), nn.Sigmoid(), nn.Linear(20, 10))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    monitoring.track_training(model, X, y, X, y, layer_types=(nn.BatchNorm1d,), steps=0, probe_size=50)
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key]), key
