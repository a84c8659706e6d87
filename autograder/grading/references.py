"""The library implementations the exercises ask learners to write from scratch.

While a grade cell runs, student code that calls one of these (directly or
through other library code) gets ``guard.ReferenceUsed`` instead of the
library's answer, so copying the reference earns no points; the checks call
them freely. Only the ones already imported in the sandbox are wrapped
(importing torch for a NumPy-only chapter would cost seconds per notebook).

An exercise that legitimately lets learners use one of these in graded code
lists it in ``ALLOWED[assignment]``.
"""
from __future__ import annotations

REFERENCES: tuple[str, ...] = (
    # scikit-learn and SciPy scalers (chapter 1 and any NumPy chapter)
    "sklearn.preprocessing.MinMaxScaler",
    "sklearn.preprocessing.StandardScaler",
    "sklearn.preprocessing.RobustScaler",
    "sklearn.preprocessing.MaxAbsScaler",
    "sklearn.preprocessing.Normalizer",
    "sklearn.preprocessing.minmax_scale",
    "sklearn.preprocessing.scale",
    "sklearn.preprocessing.robust_scale",
    "sklearn.preprocessing.maxabs_scale",
    "sklearn.preprocessing.normalize",
    "scipy.stats.zscore",
    # PyTorch normalization layers and their functional forms
    "torch.nn.BatchNorm1d", "torch.nn.BatchNorm2d", "torch.nn.BatchNorm3d",
    "torch.nn.LayerNorm", "torch.nn.GroupNorm", "torch.nn.RMSNorm", "torch.nn.LocalResponseNorm",
    "torch.nn.InstanceNorm1d", "torch.nn.InstanceNorm2d", "torch.nn.InstanceNorm3d",
    "torch.nn.functional.batch_norm", "torch.nn.functional.layer_norm", "torch.nn.functional.group_norm",
    "torch.nn.functional.instance_norm", "torch.nn.functional.rms_norm",
    "torch.nn.functional.local_response_norm", "torch.nn.functional.normalize",
    "torch.batch_norm", "torch.layer_norm", "torch.group_norm", "torch.instance_norm", "torch.rms_norm",
    "torch.native_batch_norm", "torch.native_layer_norm", "torch.native_group_norm",
    # regularization
    "torch.nn.Dropout", "torch.nn.Dropout1d", "torch.nn.Dropout2d", "torch.nn.Dropout3d", "torch.nn.AlphaDropout",
    "torch.nn.functional.dropout", "torch.nn.functional.dropout1d", "torch.nn.functional.dropout2d",
    "torch.nn.functional.dropout3d", "torch.nn.functional.alpha_dropout",
    "torch.dropout", "torch.alpha_dropout", "torch.feature_dropout",
    "torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_",
    "torch.nn.utils.weight_norm", "torch.nn.utils.spectral_norm",
    "torch.nn.utils.parametrizations.weight_norm", "torch.nn.utils.parametrizations.spectral_norm",
)

ALLOWED: dict[str, tuple[str, ...]] = {
    # "04_example": ("torch.nn.LayerNorm",),
}
