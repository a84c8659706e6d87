"""Wrong answers for exercise 04_batchnorm_inference (BatchNorm1d, population_statistics, fold_batchnorm)."""
from tests.grading.mutants import Mutant

A = "04_batchnorm_inference"
BN_TESTS = ("test_BatchNorm1d", "test_BatchNorm1d_running_stats", "test_BatchNorm1d_eval")

BN = '''
class BatchNorm1d(torch.nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        self.eps = eps
        self.momentum = momentum
        self.weight = torch.nn.Parameter(torch.ones(num_features))
        self.bias = torch.nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))

    def forward(self, x):
        dims = (0,) if x.dim() == 2 else (0, 2)
        view = (1, -1) if x.dim() == 2 else (1, -1, 1)
        if self.training:
            n = x.numel() // x.shape[1]
            if n <= 1:
                raise ValueError("Expected more than 1 value per channel when training")
            mean = x.mean(dim=dims)
            var = x.var(dim=dims, unbiased=False)
            with torch.no_grad():
                self.num_batches_tracked += 1
                m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))
        else:
            mean, var = self.running_mean, self.running_var
        x_hat = (x - mean.reshape(view)) / torch.sqrt(var.reshape(view) + self.eps)
        return x_hat * self.weight.reshape(view) + self.bias.reshape(view)
'''

POP = '''
def population_statistics(batch_means, batch_vars, batch_size):
    m = batch_size
    return batch_means.mean(dim=0), m / (m - 1) * batch_vars.mean(dim=0)
'''

FOLD = '''
def fold_batchnorm(linear, bn):
    with torch.no_grad():
        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        bias = linear.bias if linear.bias is not None else torch.zeros_like(bn.running_mean)
        folded = torch.nn.Linear(linear.in_features, linear.out_features, dtype=linear.weight.dtype)
        folded.weight.copy_(linear.weight * scale[:, None])
        folded.bias.copy_((bias - bn.running_mean) * scale + bn.bias)
    return folded
'''


def edit(source: str, *changes: tuple[str, str]) -> str:
    """``source`` with each (old, new) replaced; old must occur exactly once."""
    for old, new in changes:
        if source.count(old) != 1:
            raise ValueError(f"mutant edit {old!r} matches {source.count(old)} times")
        source = source.replace(old, new)
    return source


def bn(*changes):
    return {"BatchNorm1d": edit(BN, *changes)}


MUTANTS = [
    Mutant("inf_bn_unbiased_forward", A,
           bn(("var = x.var(dim=dims, unbiased=False)", "var = x.var(dim=dims)"),
              ("m * var * n / (n - 1)", "m * var")),
           ("test_BatchNorm1d",), "unbiased batch variance"),
    Mutant("inf_bn_stores_biased_var", A,
           bn(("m * var * n / (n - 1)", "m * var")),
           ("test_BatchNorm1d_running_stats",), "stores the unbiased one"),
    Mutant("inf_bn_momentum_reversed", A,
           bn(("self.running_mean.mul_(1 - m).add_(m * mean)", "self.running_mean.mul_(m).add_((1 - m) * mean)"),
              ("self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))",
               "self.running_var.mul_(m).add_((1 - m) * var * n / (n - 1))")),
           ("test_BatchNorm1d_running_stats",), "momentum convention is reversed"),
    Mutant("inf_bn_running_var_zeros", A,
           bn(('torch.ones(num_features))\n        self.register_buffer("num', 'torch.zeros(num_features))\n        self.register_buffer("num')),
           ("test_BatchNorm1d", "test_BatchNorm1d_running_stats"), "running_var must start at ones"),
    Mutant("inf_bn_per_example_axis", A,
           bn(("dims = (0,) if x.dim() == 2 else (0, 2)", "dims = (1,) if x.dim() == 2 else (0, 2)"),
              ("mean = x.mean(dim=dims)\n", "mean = x.mean(dim=dims, keepdim=True)\n"),
              ("var = x.var(dim=dims, unbiased=False)\n", "var = x.var(dim=dims, unbiased=False, keepdim=True)\n"),
              ("self.running_mean.mul_(1 - m).add_(m * mean)", "self.running_mean.mul_(1 - m).add_(m * mean.mean())"),
              ("self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))", "self.running_var.mul_(1 - m).add_(m * var.mean())"),
              ("x_hat = (x - mean.reshape(view)) / torch.sqrt(var.reshape(view) + self.eps)",
               "x_hat = (x - (mean if self.training else mean.reshape(view))) / torch.sqrt((var if self.training else var.reshape(view)) + self.eps)")),
           ("test_BatchNorm1d",), "layer normalization"),
    Mutant("inf_bn_3d_dim0_only", A,  # x.mean(0) as for (N, C): fine for 2-d input, wrong for (N, C, L)
           bn(("dims = (0,) if x.dim() == 2 else (0, 2)", "dims = (0,)"),
              ("self.running_mean.mul_(1 - m).add_(m * mean)", "self.running_mean.mul_(1 - m).add_(m * mean.reshape(x.shape[1], -1).mean(1))"),
              ("self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))", "self.running_var.mul_(1 - m).add_(m * var.reshape(x.shape[1], -1).mean(1))"),
              ("x_hat = (x - mean.reshape(view))", "x_hat = (x - (mean if self.training else mean.reshape(view)))"),
              ("torch.sqrt(var.reshape(view) + self.eps)", "torch.sqrt((var if self.training else var.reshape(view)) + self.eps)")),
           ("test_BatchNorm1d",), "over dim 0 only"),
    Mutant("inf_bn_eps_outside_sqrt", A,
           bn(("torch.sqrt(var.reshape(view) + self.eps)", "(torch.sqrt(var.reshape(view)) + self.eps)")),
           ("test_BatchNorm1d", "test_BatchNorm1d_eval"), "eps was added outside the square root"),
    Mutant("inf_bn_eval_uses_batch_statistics", A,  # ignores self.training: always batch statistics, always updates
           bn(("if self.training:", "if True:")),
           ("test_BatchNorm1d_eval",), "used the batch statistics"),
    Mutant("inf_bn_eval_updates_running_stats", A,  # updates in every mode, then normalizes by mode
           bn(("        if self.training:\n            n = x.numel()", "        if True:\n            n = x.numel()"),
              ("        else:\n            mean, var = self.running_mean, self.running_var\n",
               "        if not self.training:\n            mean, var = self.running_mean, self.running_var\n")),
           ("test_BatchNorm1d_eval",), "changed in eval mode"),
    Mutant("inf_bn_num_batches_not_tracked", A,
           bn(("self.num_batches_tracked += 1\n", "\n"),
              ("1.0 / float(self.num_batches_tracked)", "1.0 / (float(self.num_batches_tracked) + 1)")),
           ("test_BatchNorm1d_running_stats",), "num_batches_tracked"),
    Mutant("inf_bn_momentum_none_as_ema", A,
           bn(("m = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum",
               "m = 0.1 if self.momentum is None else self.momentum")),
           ("test_BatchNorm1d_running_stats",), "cumulative (simple) average"),
    Mutant("inf_bn_no_error_for_batch_of_one", A,
           bn(("            if n <= 1:\n                raise ValueError(\"Expected more than 1 value per channel when training\")\n", "")),
           ("test_BatchNorm1d",), "must raise ValueError"),
    Mutant("inf_bn_wrong_error_type", A,
           bn(("raise ValueError(\"Expected", "raise RuntimeError(\"Expected")),
           ("test_BatchNorm1d",), "raise the same exception type"),
    Mutant("inf_bn_detached_statistics", A,
           bn(("mean = x.mean(dim=dims)\n", "mean = x.mean(dim=dims).detach()\n"),
              ("var = x.var(dim=dims, unbiased=False)\n", "var = x.var(dim=dims, unbiased=False).detach()\n")),
           ("test_BatchNorm1d",), "detached"),
    Mutant("inf_bn_plain_attributes", A,  # not buffers: missing from state_dict, not moved by .double()
           bn(('self.register_buffer("running_mean", torch.zeros(num_features))', "self.running_mean = torch.zeros(num_features)"),
              ('self.register_buffer("running_var", torch.ones(num_features))', "self.running_var = torch.ones(num_features)")),
           BN_TESTS, "register_buffer"),
    Mutant("inf_bn_calls_torch_batch_norm", A,
           {"BatchNorm1d": edit(BN, ("        dims = (0,) if x.dim() == 2",
                                     "        return torch.nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight,\n"
                                     "            self.bias, self.training, 0.1 if self.momentum is None else self.momentum, self.eps)\n"
                                     "        dims = (0,) if x.dim() == 2"))},
           BN_TESTS, "library's own implementation"),
    Mutant("inf_bn_calls_torch_vf_batch_norm", A,  # the same operator reached by a private name
           {"BatchNorm1d": edit(BN, ("        dims = (0,) if x.dim() == 2",
                                     "        return torch._VF.batch_norm(x, self.weight, self.bias, self.running_mean,\n"
                                     "            self.running_var, self.training, 0.1 if self.momentum is None else self.momentum,\n"
                                     "            self.eps, False)\n"
                                     "        dims = (0,) if x.dim() == 2"))},
           BN_TESTS, "library's own implementation"),
    Mutant("inf_bn_calls_aten_native_batch_norm", A,  # ... and by the dispatcher's name
           {"BatchNorm1d": edit(BN, ("        dims = (0,) if x.dim() == 2",
                                     "        return torch.ops.aten.native_batch_norm(x, self.weight, self.bias,\n"
                                     "            self.running_mean, self.running_var, self.training,\n"
                                     "            0.1 if self.momentum is None else self.momentum, self.eps)[0]\n"
                                     "        dims = (0,) if x.dim() == 2"))},
           BN_TESTS, "library's own implementation"),
    Mutant("inf_bn_subclasses_torch_module", A,  # right state (the init check passes), PyTorch's forward
           {"BatchNorm1d": "class BatchNorm1d(torch.nn.BatchNorm1d):\n    pass\n"},
           BN_TESTS, "library's own implementation"),
    Mutant("inf_bn_ignores_eps_argument", A,  # passes the visible tests (default eps), fails hidden ones: hidden tests matter
           bn(("self.eps = eps", "self.eps = 1e-5")),
           ("test_BatchNorm1d_hidden",), "differs from the reference"),
    Mutant("inf_pop_no_correction", A,
           {"population_statistics": edit(POP, ("m / (m - 1) * batch_vars", "batch_vars"))},
           ("test_population_statistics",), "m/(m-1) correction is missing"),
    Mutant("inf_pop_correction_upside_down", A,
           {"population_statistics": edit(POP, ("m / (m - 1) * batch_vars", "(m - 1) / m * batch_vars"))},
           ("test_population_statistics",), "upside down"),
    Mutant("inf_pop_variance_of_means", A,
           {"population_statistics": edit(POP, ("m / (m - 1) * batch_vars.mean(dim=0)", "batch_means.var(dim=0)"))},
           ("test_population_statistics",), "variance of the batch MEANS"),
    Mutant("inf_fold_forgets_linear_bias", A,
           {"fold_batchnorm": edit(FOLD, ("bias = linear.bias if linear.bias is not None else", "bias ="))},
           ("test_fold_batchnorm",), "own bias was left out"),
    Mutant("inf_fold_forgets_beta", A,
           {"fold_batchnorm": edit(FOLD, ("* scale + bn.bias)", "* scale)"))},
           ("test_fold_batchnorm",), "bias (beta) was left out"),
    Mutant("inf_fold_forgets_eps", A,
           {"fold_batchnorm": edit(FOLD, ("torch.sqrt(bn.running_var + bn.eps)", "torch.sqrt(bn.running_var)"))},
           ("test_fold_batchnorm",), "eps was left out"),
    Mutant("inf_fold_modifies_linear_in_place", A,
           {"fold_batchnorm": "def fold_batchnorm(linear, bn):\n    with torch.no_grad():\n"
                              "        scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)\n"
                              "        linear.weight.mul_(scale[:, None])\n"
                              "        linear.bias.copy_((linear.bias - bn.running_mean) * scale + bn.bias)\n"
                              "    return linear\n"},
           ("test_fold_batchnorm",), "changed `linear` in place"),
    Mutant("inf_fold_through_bn_forward", A,  # right layer, but it runs PyTorch's batch norm on a basis
           {"fold_batchnorm": "def fold_batchnorm(linear, bn):\n    with torch.no_grad():\n"
                              "        dtype = linear.weight.dtype\n"
                              "        shift = bn(linear(torch.zeros(1, linear.in_features, dtype=dtype)))\n"
                              "        folded = torch.nn.Linear(linear.in_features, linear.out_features, dtype=dtype)\n"
                              "        folded.weight.copy_((bn(linear(torch.eye(linear.in_features, dtype=dtype))) - shift).T)\n"
                              "        folded.bias.copy_(shift[0])\n"
                              "    return folded\n"},
           ("test_fold_batchnorm",), "library's own implementation"),
    Mutant("inf_fold_with_fusion_helper", A,  # the helper the book shows (torch.nn.utils.fusion), wrapped
           {"fold_batchnorm": "import copy\nfrom torch.nn.utils.fusion import fuse_linear_bn_eval as _fuse\n"
                              "def fold_batchnorm(linear, bn):\n"
                              "    return _fuse(copy.deepcopy(linear).eval(), copy.deepcopy(bn).eval())\n"},
           ("test_fold_batchnorm",), "library's own implementation", "wraps torch.nn.utils.fusion.fuse_linear_bn_eval"),
    # attack 6: no fold at all, bn(linear(x)) computed by the returned layer's code on top of unfolded weights
    Mutant("inf_fold_forward_hook", A,
           {"fold_batchnorm": "import copy\ndef fold_batchnorm(linear, bn):\n"
                              "    inner = copy.deepcopy(linear)\n"
                              "    mean, shift = bn.running_mean.clone(), bn.bias.detach().clone()\n"
                              "    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().clone()\n"
                              "    folded = torch.nn.Linear(linear.in_features, linear.out_features, dtype=linear.weight.dtype)\n"
                              "    folded.register_forward_hook(lambda module, args, out: (inner(args[0]) - mean) * scale + shift)\n"
                              "    return folded\n"},
           ("test_fold_batchnorm",), "not the fold", "a forward hook computes bn(linear(x)); weights unfolded"),
    Mutant("inf_fold_subclass_forward", A,
           {"fold_batchnorm": "import copy\nclass _NotFolded(torch.nn.Linear):\n"
                              "    def __init__(self, linear, bn):\n"
                              "        super().__init__(linear.in_features, linear.out_features, dtype=linear.weight.dtype)\n"
                              "        self.inner, self.mean = copy.deepcopy(linear), bn.running_mean.clone()\n"
                              "        self.scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().clone()\n"
                              "        self.shift = bn.bias.detach().clone()\n"
                              "    def forward(self, x):\n"
                              "        return (self.inner(x) - self.mean) * self.scale + self.shift\n"
                              "def fold_batchnorm(linear, bn):\n    return _NotFolded(linear, bn)\n"},
           ("test_fold_batchnorm",), "not the fold", "an nn.Linear subclass whose forward computes bn(linear(x))"),
]
