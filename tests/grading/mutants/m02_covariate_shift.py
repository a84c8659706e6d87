"""Wrong answers for exercise 02_covariate_shift (record_preactivations, activation_percentiles, percentile_drift)."""
from tests.grading.mutants import Mutant

RECORD = "def record_preactivations(model, x, layer_types=(nn.Linear,)):\n    recorded = []\n"
RUN = ("    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, layer_types)]\n"
       "    with torch.no_grad():\n        model(x)\n    for h in handles:\n        h.remove()\n    return recorded\n")
PERCENTILES = "def activation_percentiles(values, q=(15, 50, 85)):\n"
DRIFT = "def percentile_drift(history):\n"

MUTANTS = [
    Mutant("record_hooks_left_registered", "02_covariate_shift",
           {"record_preactivations": RECORD +
            "    for m in model.modules():\n        if isinstance(m, layer_types):\n"
            "            m.register_forward_hook(lambda mod, args, out: recorded.append(out.detach().clone()))\n"
            "    with torch.no_grad():\n        model(x)\n    return recorded\n"},
           ("test_record_preactivations",), "still registered after your function returns"),
    Mutant("record_activation_output", "02_covariate_shift",
           # hooks on the non-linearities: records what comes out of the activation
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.detach().clone())\n"
            "    handles = [m.register_forward_hook(hook) for m in model.modules()\n"
            "               if isinstance(m, (nn.Sigmoid, nn.ReLU, nn.Tanh))]\n"
            "    with torch.no_grad():\n        model(x)\n    for h in handles:\n        h.remove()\n    return recorded\n"},
           ("test_record_preactivations",), "output of the activation function"),
    Mutant("record_module_input", "02_covariate_shift",
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(args[0].detach().clone())\n" + RUN},
           ("test_record_preactivations",), "module's input"),
    Mutant("record_no_detach", "02_covariate_shift",
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.clone())\n"
            "    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, layer_types)]\n"
            "    model(x)\n    for h in handles:\n        h.remove()\n    return recorded\n"},
           ("test_record_preactivations",), "detach"),
    Mutant("record_switches_to_eval", "02_covariate_shift",
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.detach().clone())\n"
            "    model.eval()\n" + RUN},
           ("test_record_preactivations",), "changed the model's mode"),
    Mutant("record_eval_then_train", "02_covariate_shift",
           # restores train mode afterwards, but a model that was in eval mode comes back in train mode
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.detach().clone())\n"
            "    model.eval()\n"
            "    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, layer_types)]\n"
            "    with torch.no_grad():\n        model(x)\n    for h in handles:\n        h.remove()\n"
            "    model.train()\n    return recorded\n"},
           ("test_record_preactivations",), "computed in eval mode"),
    Mutant("record_children_only", "02_covariate_shift",
           # passes the visible tests (flat models), misses layers nested in blocks: hidden tests matter
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.detach().clone())\n"
            "    handles = [m.register_forward_hook(hook) for m in model.children() if isinstance(m, layer_types)]\n"
            "    with torch.no_grad():\n        model(x)\n    for h in handles:\n        h.remove()\n    return recorded\n"},
           ("test_record_preactivations_hidden",), "model.modules()"),
    Mutant("record_no_clone_inplace", "02_covariate_shift",
           # passes the visible tests, fails with nn.ReLU(inplace=True) in the hidden ones
           {"record_preactivations": RECORD +
            "    def hook(module, args, output):\n        recorded.append(output.detach())\n" + RUN},
           ("test_record_preactivations_hidden",), "in-place activation"),
    Mutant("record_global_hook_left", "02_covariate_shift",
           # a global module hook (on every module of every model), never removed: the probe removes it
           {"record_preactivations": RECORD +
            "    nn.modules.module.register_module_forward_hook(\n"
            "        lambda m, args, out: recorded.append(out.detach().clone()) if isinstance(m, layer_types) else None)\n"
            "    with torch.no_grad():\n        model(x)\n    return recorded\n"},
           ("test_record_preactivations",), "global module hook"),
    Mutant("percentiles_percent_to_quantile", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.quantile(values, torch.tensor(q, dtype=values.dtype), dim=0)\n"},
           ("test_activation_percentiles",), "q is given in percent"),
    Mutant("percentiles_fraction_twice", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.tensor(np.percentile(values.numpy(), np.array(q) / 100, axis=0))\n"},
           ("test_activation_percentiles",), "divided by 100 twice"),
    Mutant("percentiles_wrong_dim", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=1)\n"},
           ("test_activation_percentiles",), "dim=1"),
    Mutant("percentiles_all_entries", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.quantile(values.flatten(), torch.tensor(q, dtype=values.dtype) / 100)\n"},
           ("test_activation_percentiles",), "over all entries"),
    Mutant("percentiles_nearest", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=0, interpolation='nearest')\n"},
           ("test_activation_percentiles",), "interpolation='nearest'"),
    Mutant("percentiles_transposed", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=0).T\n"},
           ("test_activation_percentiles",), "transposed"),
    Mutant("percentiles_sorts_input_in_place", "02_covariate_shift",
           {"activation_percentiles": PERCENTILES +
            "    values.copy_(values.sort(dim=0).values)\n"
            "    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=0)\n"},
           ("test_activation_percentiles",), "changed its input in place"),
    Mutant("drift_last_minus_first", "02_covariate_shift",
           {"percentile_drift": DRIFT + "    return history[-1] - history[0]\n"},
           ("test_percentile_drift",), "last value minus the first"),
    Mutant("drift_std", "02_covariate_shift",
           {"percentile_drift": DRIFT + "    return history.std(dim=0, unbiased=False)\n"},
           ("test_percentile_drift",), "standard deviation over time"),
    Mutant("drift_wrong_dim", "02_covariate_shift",
           {"percentile_drift": DRIFT + "    return history.amax(dim=1) - history.amin(dim=1)\n"},
           ("test_percentile_drift",), "over the percentiles (dim=1)"),
    Mutant("answered_by_course_helpers", "02_covariate_shift",
           # normreg.monitoring draws the book's figures and computes all three: importable in a learner's
           # Jupyter and under nbgrader, refused there by the probe's `code` rule (the sandbox lacks normreg)
           {"record_preactivations": "from normreg import monitoring as _m\n" + RECORD.replace("    recorded = []\n", "")
            + "    return _m.record_outputs(model, x, layer_types)\n",
            "activation_percentiles": "import normreg.monitoring\n" + PERCENTILES
            + "    return normreg.monitoring.unit_percentiles(values, q)\n",
            "percentile_drift": "from normreg.monitoring import band_width as percentile_drift\n"},
           ("test_record_preactivations", "test_activation_percentiles", "test_percentile_drift",
            "test_record_preactivations_hidden", "test_activation_percentiles_hidden", "test_percentile_drift_hidden"),
           "course's own implementation", "imports the book's helpers from normreg.monitoring"),
]
