"""Wrong answers for exercise 03_batchnorm_training (batch norm forward/backward, plain and spatial)."""
from tests.grading.mutants import Mutant

ID = "03_batchnorm_training"
FWD = "def batchnorm_forward(x, gamma, beta, eps=1e-5):\n"
BWD = "def batchnorm_backward(dout, cache):\n"
SFWD = "def spatial_batchnorm_forward(x, gamma, beta, eps=1e-5):\n    n, c, h, w = x.shape\n"
SBWD = "def spatial_batchnorm_backward(dout, cache):\n"

# A forward pass that caches what the mutated backward passes below need.
GOOD_FWD = FWD + ("    mean, var = x.mean(axis=0), x.var(axis=0)\n"
                  "    x_hat = (x - mean) / np.sqrt(var + eps)\n"
                  "    return gamma * x_hat + beta, (x, x_hat, gamma, mean, var, eps)\n")
BWD_HEADER = BWD + "    x, x_hat, gamma, mean, var, eps = cache\n    n = len(x)\n    dx_hat = dout * gamma\n"
RIGHT_DX = "    dx = (n * dx_hat - dx_hat.sum(0) - x_hat * (dx_hat * x_hat).sum(0)) / (n * np.sqrt(var + eps))\n"


def _forward(stats: str, scale: str = "np.sqrt(var + eps)") -> str:
    return FWD + f"    {stats}\n    x_hat = (x - mean) / {scale}\n    return gamma * x_hat + beta, None\n"


MUTANTS = [
    # ---- batchnorm_forward
    Mutant("bn_unbiased_variance", ID,
           {"batchnorm_forward": _forward("mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)")},
           ("test_batchnorm_forward",), "unbiased"),
    Mutant("bn_torch_std", ID,   # x.std(dim=0) in PyTorch is the unbiased estimate
           {"batchnorm_forward": FWD + "    import torch\n    t = torch.from_numpy(x)\n"
                                       "    x_hat = ((t - t.mean(dim=0)) / torch.sqrt(t.std(dim=0) ** 2 + eps)).numpy()\n"
                                       "    return gamma * x_hat + beta, None\n"},
           ("test_batchnorm_forward",), "unbiased"),
    Mutant("bn_axis1", ID,
           {"batchnorm_forward": _forward("mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)")},
           ("test_batchnorm_forward",), "axis=1"),
    Mutant("bn_eps_outside_sqrt", ID,
           {"batchnorm_forward": _forward("mean, var = x.mean(axis=0), x.var(axis=0)", "(np.sqrt(var) + eps)")},
           ("test_batchnorm_forward",), "outside the square root"),
    Mutant("bn_calls_torch_functional", ID,
           {"batchnorm_forward": FWD + "    import torch\n    import torch.nn.functional as F\n"
                                       "    t = lambda a: torch.as_tensor(a)\n"
                                       "    out = F.batch_norm(t(x), None, None, t(gamma), t(beta), training=True, eps=eps)\n"
                                       "    return out.numpy(), None\n"},
           ("test_batchnorm_forward",), "library's own implementation"),
    Mutant("bn_calls_torch_module", ID,
           {"batchnorm_forward": FWD + "    import torch\n    layer = torch.nn.BatchNorm1d(x.shape[1], eps=eps).double()\n"
                                       "    with torch.no_grad():\n"
                                       "        layer.weight.copy_(torch.as_tensor(gamma)); layer.bias.copy_(torch.as_tensor(beta))\n"
                                       "        return layer(torch.as_tensor(x)).numpy(), None\n"},
           ("test_batchnorm_forward",), "library's own implementation"),
    Mutant("bn_returns_tensor", ID,
           {"batchnorm_forward": FWD + "    import torch\n    x = torch.as_tensor(x)\n"
                                       "    x_hat = (x - x.mean(0)) / torch.sqrt(x.var(0, unbiased=False) + eps)\n"
                                       "    return torch.as_tensor(gamma) * x_hat + torch.as_tensor(beta), None\n"},
           ("test_batchnorm_forward",), "torch Tensor"),
    # ---- batchnorm_backward (the forward is right)
    Mutant("bn_backward_constant_statistics", ID,
           {"batchnorm_forward": GOOD_FWD,
            "batchnorm_backward": BWD_HEADER + "    dx = dx_hat / np.sqrt(var + eps)\n"
                                               "    return dx, (dout * x_hat).sum(0), dout.sum(0)\n"},
           ("test_batchnorm_backward", "test_batchnorm_backward_hidden"), "treated as constants"),
    Mutant("bn_backward_no_variance_path", ID,
           {"batchnorm_forward": GOOD_FWD,
            "batchnorm_backward": BWD_HEADER + "    dx = (dx_hat - dx_hat.mean(0)) / np.sqrt(var + eps)\n"
                                               "    return dx, (dout * x_hat).sum(0), dout.sum(0)\n"},
           ("test_batchnorm_backward",), "through the variance is missing"),
    Mutant("bn_backward_no_mean_path", ID,
           {"batchnorm_forward": GOOD_FWD,
            "batchnorm_backward": BWD_HEADER + "    dx = (dx_hat - x_hat * (dx_hat * x_hat).mean(0)) / np.sqrt(var + eps)\n"
                                               "    return dx, (dout * x_hat).sum(0), dout.sum(0)\n"},
           ("test_batchnorm_backward",), "through the mean is missing"),
    Mutant("bn_backward_dgamma_axis1", ID,
           {"batchnorm_forward": GOOD_FWD,
            "batchnorm_backward": BWD_HEADER + RIGHT_DX + "    return dx, (dout * x_hat).sum(1), dout.sum(0)\n"},
           ("test_batchnorm_backward",), "dgamma was summed over axis=1"),
    Mutant("bn_backward_sign_error", ID,
           # a sign error in the variance term: the hidden cell's finite-difference check (run first there) names it
           {"batchnorm_forward": GOOD_FWD,
            "batchnorm_backward": BWD_HEADER + "    dx = (n * dx_hat - dx_hat.sum(0) + x_hat * (dx_hat * x_hat).sum(0)) / (n * np.sqrt(var + eps))\n"
                                               "    return dx, (dout * x_hat).sum(0), dout.sum(0)\n"},
           ("test_batchnorm_backward", "test_batchnorm_backward_hidden"), "gradient check failed"),
    # ---- spatial_batchnorm_forward
    Mutant("spatial_per_position", ID,
           {"spatial_batchnorm_forward": SFWD + "    mean, var = x.mean(axis=0), x.var(axis=0)\n"
                                                "    x_hat = (x - mean) / np.sqrt(var + eps)\n"
                                                "    return gamma[:, None, None] * x_hat + beta[:, None, None], None\n"},
           ("test_spatial_batchnorm_forward",), "per (C, H, W) position"),
    Mutant("spatial_per_sample", ID,
           {"spatial_batchnorm_forward": SFWD + "    mean = x.mean(axis=(1, 2, 3), keepdims=True)\n"
                                                "    var = x.var(axis=(1, 2, 3), keepdims=True)\n"
                                                "    x_hat = (x - mean) / np.sqrt(var + eps)\n"
                                                "    return gamma[:, None, None] * x_hat + beta[:, None, None], None\n"},
           ("test_spatial_batchnorm_forward",), "per sample"),
    Mutant("spatial_reshape_without_transpose", ID,
           {"spatial_batchnorm_forward": SFWD + "    out, cache = batchnorm_forward(x.reshape(-1, c), gamma, beta, eps)\n"
                                                "    return out.reshape(x.shape), cache\n"},
           ("test_spatial_batchnorm_forward",), "without moving the channel axis last"),
    Mutant("spatial_calls_torch", ID,
           {"spatial_batchnorm_forward": SFWD + "    import torch\n    t = torch.as_tensor\n"
                                                "    out = torch.nn.functional.batch_norm(t(x), None, None, t(gamma), t(beta), training=True, eps=eps)\n"
                                                "    return out.numpy(), None\n"},
           ("test_spatial_batchnorm_forward",), "library's own implementation"),
    # ---- spatial_batchnorm_backward (the forward is right)
    Mutant("spatial_backward_dgamma_per_position", ID,
           {"spatial_batchnorm_backward": SBWD + "    bn_cache, (n, c, h, w) = cache\n"
                                                 "    dx, _, dbeta = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), bn_cache)\n"
                                                 "    x_hat = bn_cache[0].reshape(n, h, w, c).transpose(0, 3, 1, 2)\n"
                                                 "    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), (dout * x_hat).sum(axis=0), dbeta\n"},
           ("test_spatial_batchnorm_backward",), "dgamma was summed over axis=0"),
    Mutant("spatial_backward_dbeta_per_sample_channel", ID,
           {"spatial_batchnorm_backward": SBWD + "    bn_cache, (n, c, h, w) = cache\n"
                                                 "    dx, dgamma, _ = batchnorm_backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), bn_cache)\n"
                                                 "    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dout.sum(axis=(2, 3))\n"},
           ("test_spatial_batchnorm_backward",), "dbeta was summed over axes (2, 3)"),
]
