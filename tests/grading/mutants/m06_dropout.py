"""Wrong answers for exercise 06_dropout (dropout_forward, dropout_backward, vanilla_dropout_forward, Dropout)."""
from tests.grading.mutants import Mutant

A = "06_dropout"
FWD = ("def dropout_forward(x, p, train=True, rng=None):\n"
       "    x = np.asarray(x)\n"
       "    if not train:\n        return x.copy(), None\n"
       "    rng = np.random.default_rng() if rng is None else rng\n")
FWD_MASK = FWD + "    mask = rng.random(x.shape) >= p\n    if p >= 1:\n        return np.zeros_like(x), mask\n"
VANILLA = ("def vanilla_dropout_forward(x, p, train=True, rng=None):\n"
           "    x = np.asarray(x)\n"
           "    rng = np.random.default_rng() if rng is None else rng\n")
MODULE = ("class Dropout(torch.nn.Module):\n"
          "    def __init__(self, p=0.5):\n        super().__init__()\n        self.p = p\n\n"
          "    def forward(self, x):\n")

MUTANTS = [
    # ---- dropout_forward
    Mutant("fwd_not_scaled", A, {"dropout_forward": FWD_MASK + "    return x * mask, mask\n"},
           ("test_dropout_forward",), "kept units were not scaled", "vanilla training pass: no 1/(1-p)"),
    Mutant("fwd_scale_one_over_p", A, {"dropout_forward": FWD_MASK + "    return x * mask / p, mask\n"},
           ("test_dropout_forward",), "scaled by 1/p", "1/p instead of 1/(1-p)"),
    Mutant("fwd_scale_by_p", A, {"dropout_forward": FWD_MASK + "    return x * mask * p, mask\n"},
           ("test_dropout_forward",), "multiplied by p", "p instead of 1/(1-p)"),
    Mutant("fwd_keep_with_p", A,
           {"dropout_forward": FWD + "    mask = rng.random(x.shape) < p\n"
                                     "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "KEPT with probability p", "keeps with probability p"),
    Mutant("fwd_fixed_seed", A,
           {"dropout_forward": FWD + "    rng = np.random.default_rng(0)\n    mask = rng.random(x.shape) >= p\n"
                                     "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "same mask", "a generator with a fixed seed on every call"),
    Mutant("fwd_cached_mask", A,
           {"dropout_forward": "_CACHE = {}\n" + FWD + "    key = (x.shape, p)\n"
                                     "    if key not in _CACHE:\n        _CACHE[key] = rng.random(x.shape) >= p\n"
                                     "    mask = _CACHE[key]\n"
                                     "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "same mask", "a mask cached across calls"),
    Mutant("fwd_scaled_at_test", A,
           {"dropout_forward": "def dropout_forward(x, p, train=True, rng=None):\n    x = np.asarray(x)\n"
                               "    if not train:\n        return x * (1 - p), None\n"
                               "    rng = np.random.default_rng() if rng is None else rng\n"
                               "    mask = rng.random(x.shape) >= p\n"
                               "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "multiplied by (1 - p) at test time", "scales at test time as well"),
    Mutant("fwd_dropout_in_eval", A,
           {"dropout_forward": "def dropout_forward(x, p, train=True, rng=None):\n    x = np.asarray(x)\n"
                               "    rng = np.random.default_rng() if rng is None else rng\n"
                               "    mask = rng.random(x.shape) >= p\n"
                               "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "still applied with train=False", "ignores train"),
    Mutant("fwd_nan_at_p1", A,
           {"dropout_forward": FWD + "    mask = rng.random(x.shape) >= p\n    return x * mask / (1 - p), mask\n"},
           ("test_dropout_forward",), "1 - p = 0", "divides by 1 - p = 0 when p = 1"),
    Mutant("fwd_calls_torch_dropout", A,
           {"dropout_forward": "def dropout_forward(x, p, train=True, rng=None):\n"
                               "    out = torch.nn.functional.dropout(torch.from_numpy(np.asarray(x)), p, training=train).numpy()\n"
                               "    return out, (out != 0) if train else None\n"},
           ("test_dropout_forward",), "library's own implementation", "calls torch.nn.functional.dropout"),
    Mutant("fwd_mask_marks_dropped", A,
           {"dropout_forward": FWD_MASK + "    return x * mask / (1 - p), ~mask\n"},
           ("test_dropout_forward",), "marks the DROPPED units", "returns the drop mask"),
    # attack 5: masks that pass a count per call and a rate per unit, with units not dropped independently
    Mutant("fwd_exact_count", A,
           {"dropout_forward": FWD + "    k = int(round(x.size * (1 - p)))\n"
                                     "    mask = np.zeros(x.size, dtype=bool)\n    mask[rng.permutation(x.size)[:k]] = True\n"
                                     "    mask = mask.reshape(x.shape)\n"
                                     "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "not dropped independently", "a random subset of a fixed size"),
    Mutant("fwd_neighbour_block", A,
           {"dropout_forward": FWD + "    k = int(np.floor(x.size * (1 - p) + rng.random()))\n"
                                     "    offset = int(rng.integers(x.size))\n"
                                     "    mask = (((np.arange(x.size) + offset) % x.size) < k).reshape(x.shape)\n"
                                     "    return x * mask / (1 - p) if p < 1 else np.zeros_like(x), mask\n"},
           ("test_dropout_forward",), "not dropped independently", "one block of neighbouring units at a random offset"),
    # ---- dropout_backward
    Mutant("bwd_no_mask", A,
           {"dropout_backward": "def dropout_backward(dout, mask, p):\n    return dout / (1 - p) if p < 1 else 0 * dout\n"},
           ("test_dropout_backward",), "mask was not used", "the gradient flows through dropped units"),
    Mutant("bwd_not_scaled", A,
           {"dropout_backward": "def dropout_backward(dout, mask, p):\n    return dout * mask\n"},
           ("test_dropout_backward",), "gradient was not scaled", "no 1/(1-p) in the backward pass"),
    Mutant("bwd_nan_at_p1", A,
           {"dropout_backward": "def dropout_backward(dout, mask, p):\n    return dout * mask / (1 - p)\n"},
           ("test_dropout_backward",), "1 - p = 0", "divides by 1 - p = 0 when p = 1"),
    # ---- vanilla_dropout_forward
    Mutant("vanilla_is_inverted", A,
           {"vanilla_dropout_forward": VANILLA + "    if not train:\n        return x.copy(), None\n"
                                                 "    mask = rng.random(x.shape) >= p\n    return x * mask / (1 - p), mask\n"},
           ("test_vanilla_dropout_forward",), "that is inverted dropout", "inverted dropout instead of vanilla"),
    Mutant("vanilla_test_times_p", A,
           {"vanilla_dropout_forward": VANILLA + "    if not train:\n        return x * p, None\n"
                                                 "    mask = rng.random(x.shape) >= p\n    return x * mask, mask\n"},
           ("test_vanilla_dropout_forward",), "dropout rate p at test time", "multiplies by p, not 1 - p, at test time"),
    Mutant("vanilla_no_test_scaling", A,
           {"vanilla_dropout_forward": VANILLA + "    if not train:\n        return x.copy(), None\n"
                                                 "    mask = rng.random(x.shape) >= p\n    return x * mask, mask\n"},
           ("test_vanilla_dropout_forward",), "multiplies by the keep probability 1 - p",
           "no scaling anywhere: train and test disagree in expectation"),
    Mutant("vanilla_exact_count", A,
           {"vanilla_dropout_forward": VANILLA + "    if not train:\n        return x * (1 - p), None\n"
                                             "    k = int(round(x.size * (1 - p)))\n"
                                             "    mask = np.zeros(x.size, dtype=bool)\n    mask[rng.permutation(x.size)[:k]] = True\n"
                                             "    mask = mask.reshape(x.shape)\n    return x * mask, mask\n"},
           ("test_vanilla_dropout_forward",), "not dropped independently", "a random subset of a fixed size"),
    # ---- Dropout (module)
    Mutant("module_dropout_in_eval", A,
           {"Dropout": MODULE + "        if self.p == 1:\n            return x * 0.0\n"
                                "        return x * (torch.rand_like(x) >= self.p) / (1 - self.p)\n"},
           ("test_Dropout",), "still applied in eval mode", "ignores self.training"),
    Mutant("module_scaled_in_eval", A,
           {"Dropout": MODULE + "        if not self.training:\n            return x * (1 - self.p)\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        return x * (torch.rand_like(x) >= self.p) / (1 - self.p)\n"},
           ("test_Dropout",), "multiplied by (1 - p) in eval mode", "scales in eval mode as well"),
    Mutant("module_not_scaled", A,
           {"Dropout": MODULE + "        if not self.training:\n            return x\n"
                                "        return x * (torch.rand_like(x) >= self.p)\n"},
           ("test_Dropout",), "kept units were not scaled", "no 1/(1-p)"),
    Mutant("module_keep_with_p", A,
           {"Dropout": MODULE + "        if not self.training or self.p == 0:\n            return x\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        return x * (torch.rand_like(x) < self.p) / (1 - self.p)\n"},
           ("test_Dropout",), "KEPT with probability p", "keeps with probability p"),
    Mutant("module_cached_mask", A,
           {"Dropout": MODULE + "        if not self.training or self.p == 0:\n            return x\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        if getattr(self, 'mask', None) is None or self.mask.shape != x.shape:\n"
                                "            self.mask = torch.rand_like(x) >= self.p\n"
                                "        return x * self.mask / (1 - self.p)\n"},
           ("test_Dropout",), "same mask", "the mask is drawn once and reused"),
    Mutant("module_nan_at_p1", A,
           {"Dropout": MODULE + "        if not self.training:\n            return x\n"
                                "        return x * (torch.rand_like(x) >= self.p) / (1 - self.p)\n"},
           ("test_Dropout",), "1 - p = 0", "divides by 1 - p = 0 when p = 1"),
    Mutant("module_calls_torch_dropout", A,
           {"Dropout": MODULE + "        return torch.nn.functional.dropout(x, self.p, self.training)\n"},
           ("test_Dropout",), "library's own implementation", "calls torch.nn.functional.dropout"),
    Mutant("module_calls_vf_dropout", A,
           {"Dropout": MODULE + "        return torch._VF.dropout(x, self.p, self.training)\n"},
           ("test_Dropout",), "library's own implementation", "reaches torch's dropout through torch._VF"),
    Mutant("module_numpy_mask_detached", A,
           {"Dropout": MODULE + "        if not self.training or self.p == 0:\n            return x\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        mask = np.random.default_rng().random(tuple(x.shape)) >= self.p\n"
                                "        return torch.as_tensor(x.detach().numpy() * mask / (1 - self.p))\n"},
           ("test_Dropout",), "not connected to x in the autograd graph", "the output leaves autograd through NumPy"),
    Mutant("module_exact_count", A,
           {"Dropout": MODULE + "        if not self.training or self.p == 0:\n            return x\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        k = int(round(x.numel() * (1 - self.p)))\n"
                                "        keep = torch.zeros(x.numel(), dtype=x.dtype)\n        keep[torch.randperm(x.numel())[:k]] = 1\n"
                                "        return x * keep.reshape(x.shape) / (1 - self.p)\n"},
           ("test_Dropout",), "not dropped independently", "a random subset of a fixed size"),
    Mutant("module_neighbour_block", A,
           {"Dropout": MODULE + "        if not self.training or self.p == 0:\n            return x\n"
                                "        if self.p == 1:\n            return x * 0.0\n"
                                "        n = x.numel()\n        offset = int(torch.randint(n, ()))\n"
                                "        k = int(n * (1 - self.p) + float(torch.rand(())))\n"
                                "        keep = (((torch.arange(n) + offset) % n) < k).to(x.dtype)\n"
                                "        return x * keep.reshape(x.shape) / (1 - self.p)\n"},
           ("test_Dropout",), "not dropped independently", "one block of neighbouring units at a random offset"),
]
