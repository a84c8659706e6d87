"""Wrong answers for exercise 08_reproducing_batch_norm: one per mistake its checks name.

Each starts from the solution's own cell (read from the solution notebook, so the two cannot drift apart)
and changes the one thing the mistake is about. ``MUTANTS`` are graded by nbgrader and the class command;
``HINTS``, a broader set of plausible wrong answers (one or more per mistake the checks name), in-process,
cell by cell (tests/grading/test_hints.py), each with the one mistake id its message must name.
"""
from tests.grading.mutants import Mutant
from tests.grading.notebook_code import nbgrader_meta, solution_notebook

A = "08_reproducing_batch_norm"
SOURCE = {nbgrader_meta(cell).get("grade_id"): cell.source for cell in solution_notebook(A).cells}
RUN = ("test_run_experiment", "test_run_experiment_hidden")
SIP = ("test_sigmoid_input_percentiles", "test_sigmoid_input_percentiles_hidden")
STA = ("test_steps_to_accuracy", "test_steps_to_accuracy_hidden")
NET = ("test_paper_network",)


def edit(grade_id: str, *changes: tuple[str, str]) -> dict[str, str]:
    """The solution cell ``grade_id`` with each (old, new) replaced; old must occur exactly once."""
    source = SOURCE[grade_id]
    for old, new in changes:
        if source.count(old) != 1:
            raise ValueError(f"mutant edit {old!r} matches {source.count(old)} times in {grade_id}")
        source = source.replace(old, new)
    return {grade_id: source}


MUTANTS = [
    # model.train() once before the loop: the first measurement's model.eval() is never undone
    Mutant("cap_bn_eval_mode_in_training", A,
           edit("run_experiment", ("        for step in range(1, steps + 1):\n            model.train()\n",
                                   "        model.train()\n        for step in range(1, steps + 1):\n")),
           RUN, "left in eval mode during training", mistake="cap-bn-eval-in-training"),
    Mutant("cap_percentiles_wrong_axis", A,
           edit("measurements", ("/ 100, dim=0)", "/ 100, dim=1)")),
           SIP, "over the wrong axis", mistake="cap-percentiles-wrong-axis"),
    # a forward hook that keeps the sigmoid's output
    Mutant("cap_read_after_sigmoid", A,
           edit("measurements", ("register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))",
                                 "register_forward_hook(lambda module, args, out: seen.append(out.detach().clone()))")),
           SIP, "read after the sigmoid", mistake="cap-read-after-sigmoid"),
    # the accuracy of the step's own logits on its training batch
    Mutant("cap_accuracy_on_training_batch", A,
           edit("run_experiment",
                ("            loss = torch.nn.functional.cross_entropy(model(X_train[batch]), y_train[batch])\n",
                 "            logits = model(X_train[batch])\n"
                 "            loss = torch.nn.functional.cross_entropy(logits, y_train[batch])\n"),
                ("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
                 "accuracy.append((logits.argmax(dim=1) == y_train[batch]).double().mean())")),
           RUN, "measured on the training batch", mistake="cap-accuracy-on-training-batch"),
    # exercise 4's mistake carried over: the running statistics are updated in eval mode too, so measuring on the
    # test set feeds it into them
    Mutant("cap_test_data_in_running_statistics", A,
           edit("BatchNorm1d", ("        if self.training:\n            n = x.numel()", "        if True:\n            n = x.numel()"),
                ("        else:\n            mean, var = self.running_mean, self.running_var\n",
                 "        if not self.training:\n            mean, var = self.running_mean, self.running_var\n")),
           RUN, "test data entered the running statistics", mistake="bninf-eval-updates-running"),
    # the old protocol: the percentiles measured in eval mode, with the running averages, instead of in the
    # training network the paper's section 4.1 measures (batch statistics)
    Mutant("cap_percentiles_in_eval_mode", A,
           edit("run_experiment", ("sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test)",
                                   "sigmoid_input_percentiles(model, X_test)")),
           RUN, "measured in eval mode, with the running averages", mistake="cap-percentiles-in-eval-mode"),
    # the training network measured on the model itself: the test set updates its running statistics
    Mutant("cap_percentiles_without_copy", A,
           edit("run_experiment", ("sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test)",
                                   "sigmoid_input_percentiles(model.train(), X_test)")),
           RUN, "not on a copy", mistake="cap-test-data-in-running-stats"),
]


def _bn(*changes, hint, mistake, name):
    return Mutant(name, A, edit("BatchNorm1d", *changes), RUN, hint, mistake=mistake)


def _run(*changes, hint, mistake, name):
    return Mutant(name, A, edit("run_experiment", *changes), RUN, hint, mistake=mistake)


def _sip(*changes, hint, mistake, name):
    return Mutant(name, A, edit("measurements", *changes), SIP, hint, mistake=mistake)


def _net(*changes, hint, mistake, name):
    return Mutant(name, A, edit("run_experiment", *changes), NET, hint, mistake=mistake)


STEPS_HEAD = "    ### BEGIN SOLUTION\n    for step, value in zip(steps, accuracy):\n        if value >= target:\n            return int(step)\n    return None\n"


def _sta(body, *, hint, mistake, name):
    return Mutant(name, A, edit("measurements", (STEPS_HEAD, "    ### BEGIN SOLUTION\n" + body)), STA, hint,
                  mistake=mistake)


HINTS = [
    # ---- a wrong pasted BatchNorm1d (exercise 4's mistakes, seen through the experiment)
    _bn(("var = x.var(dim=dims, unbiased=False)", "var = x.var(dim=dims)"), name="bn_paste_unbiased_forward",
        hint="unbiased variance (N - 1)", mistake="bn-unbiased-variance"),
    _bn(("m * var * n / (n - 1))", "m * var)"), name="bn_paste_running_var_biased",
        hint="stores the biased batch variance", mistake="bninf-stores-biased-var"),
    _bn(("self.running_mean.mul_(1 - m).add_(m * mean)", "self.running_mean.mul_(m).add_((1 - m) * mean)"),
        ("self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))", "self.running_var.mul_(m).add_((1 - m) * var * n / (n - 1))"),
        name="bn_paste_momentum_reversed", hint="momentum convention reversed", mistake="bninf-momentum-reversed"),
    _bn(("/ torch.sqrt(var.reshape(view) + self.eps)", "/ (torch.sqrt(var.reshape(view)) + self.eps)"),
        name="bn_paste_eps_outside_sqrt", hint="eps outside the square root", mistake="bn-eps-outside-sqrt"),
    _bn(("/ torch.sqrt(var.reshape(view) + self.eps)", "/ torch.sqrt(var.reshape(view))"),
        name="bn_paste_eps_missing", hint="leaves eps out", mistake="bn-eps-missing"),
    _bn(("        else:\n            mean, var = self.running_mean, self.running_var\n",
         "        else:\n            mean, var = x.mean(dim=dims), x.var(dim=dims, unbiased=False)\n"),
        name="bn_paste_eval_uses_batch_statistics", hint="batch's own statistics in eval mode",
        mistake="bninf-eval-batch-statistics"),
    _bn(("                self.running_mean.mul_(1 - m).add_(m * mean)\n                self.running_var.mul_(1 - m).add_(m * var * n / (n - 1))   # ...but stores the unbiased one\n",
         "                pass\n"),
        name="bn_paste_running_not_updated", hint="never updates running_mean", mistake="bninf-running-not-updated"),
    _bn(('self.register_buffer("running_var", torch.ones(num_features))', 'self.register_buffer("running_var", torch.zeros(num_features))'),
        name="bn_paste_running_var_zeros", hint="starts running_var at zeros", mistake="bninf-running-var-zeros"),
    _bn(("        return x_hat * self.weight.reshape(view) + self.bias.reshape(view)\n", "        return x_hat\n"),
        name="bn_paste_affine_not_applied", hint="does not apply its weight and bias", mistake="bn-gamma-beta-missing"),
    _bn(("        self.weight = torch.nn.Parameter(torch.ones(num_features))\n        self.bias = torch.nn.Parameter(torch.zeros(num_features))\n", ""),
        ("        return x_hat * self.weight.reshape(view) + self.bias.reshape(view)\n", "        return x_hat\n"),
        name="bn_paste_no_affine_parameters", hint="does not apply its weight and bias", mistake="bn-gamma-beta-missing"),
    _bn(("self.weight = torch.nn.Parameter(torch.ones(num_features))", "self.weight = torch.nn.Parameter(torch.zeros(num_features))"),
        ("self.bias = torch.nn.Parameter(torch.zeros(num_features))", "self.bias = torch.nn.Parameter(torch.ones(num_features))"),
        name="bn_paste_gamma_beta_swapped", hint="weight and bias swapped", mistake="bninf-gamma-beta-swapped"),
    _bn(("            mean = x.mean(dim=dims)\n            var = x.var(dim=dims, unbiased=False)",
         "            mean = x.mean(dim=dims).detach()\n            var = x.var(dim=dims, unbiased=False).detach()"),
        name="bn_paste_detached_statistics", hint="detaches the batch mean and variance", mistake="bninf-detached-statistics"),
    # ---- run_experiment
    _run(("                percentiles_eval.append(sigmoid_input_percentiles(model, X_test))\n",
          "                percentiles_eval.append(sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test))\n"),
         name="run_percentiles_eval_from_copy", hint="was measured in the training network too",
         mistake="cap-percentiles-eval-in-train-mode"),
    _run(("                model.eval()\n                with torch.no_grad():\n",
          "                with torch.no_grad():\n"),
         name="run_no_eval_before_measuring", hint="model.eval() was not called before measuring",
         mistake="cap-test-data-in-running-stats"),
    _run(("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
          "accuracy.append((copy.deepcopy(model).train()(X_test).argmax(dim=1) == y_test).double().mean())"),
         name="run_accuracy_in_train_mode", hint="accuracy was measured in the training network",
         mistake="cap-accuracy-in-train-mode"),
    _run(("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
          "accuracy.append((model(X_train[batch]).argmax(dim=1) == y_train[batch]).double().mean())"),
         name="run_accuracy_on_training_batch_eval", hint="measured on the training batch",
         mistake="cap-accuracy-on-training-batch"),
    _run(("    for name, batchnorm in ((\"baseline\", False), (\"batchnorm\", True)):\n",
          "    generator = torch.Generator().manual_seed(seed + 1)\n    for name, batchnorm in ((\"baseline\", False), (\"batchnorm\", True)):\n"),
         ("        generator = torch.Generator().manual_seed(seed + 1)\n", ""),
         name="run_one_generator_for_both", hint="one generator served both runs", mistake="cap-batches-not-shared"),
    _run(("generator = torch.Generator().manual_seed(seed + 1)", "generator = torch.Generator().manual_seed(seed)"),
         name="run_generator_seed", hint="seeded with seed", mistake="cap-batches-wrong-seed"),
    _run(("        for step in range(1, steps + 1):\n", "        for step in range(steps):\n"),
         ("            if step % record_every == 0:\n", "            if step % record_every == 0 and len(accuracy) < len(result[\"steps\"]):\n"),
         name="run_steps_from_zero", hint="one step too early", mistake="cap-record-off-by-one"),
    _run(("            optimizer.zero_grad()\n", ""), name="run_no_zero_grad", hint="never reset",
         mistake="cap-no-zero-grad"),
    _run(("sigmoid_input_percentiles(copy.deepcopy(model).train(), X_test)", "sigmoid_input_percentiles(copy.deepcopy(model).train(), X_train)"),
         ("sigmoid_input_percentiles(model, X_test)", "sigmoid_input_percentiles(model, X_train)"),
         name="run_percentiles_on_training_data", hint="measured on the training data",
         mistake="cap-percentiles-on-training-data"),
    _run(('    for name, batchnorm in (("baseline", False), ("batchnorm", True)):',
          '    for name, batchnorm in (("baseline", True), ("batchnorm", False)):'),
         name="run_networks_swapped", hint="the two networks are swapped", mistake="cap-networks-swapped"),
    _run(('result = {"steps": torch.arange(record_every, steps + 1, record_every)}',
          'result = {"steps": torch.arange(0, steps, record_every)}'),
         name="run_steps_from_zero_in_result", hint="result['steps'] must hold the steps",
         mistake="cap-recorded-steps-wrong"),
    # ---- sigmoid_input_percentiles
    _sip(("sigmoids[-1].register_forward_pre_hook", "sigmoids[0].register_forward_pre_hook"),
         name="sip_first_sigmoid", hint="FIRST sigmoid", mistake="cap-read-first-sigmoid"),
    _sip(("    values = seen[0]\n", "    values = model(x).detach()\n"),
         name="sip_model_output", hint="model's output", mistake="cap-read-model-output"),
    _sip((", dim=0)", ")"), name="sip_all_entries", hint="over all entries", mistake="cap-percentiles-all-entries"),
    _sip(("/ 100, dim=0)", "/ 100, dim=0).T"), name="sip_transposed", hint="transposed",
         mistake="cap-percentiles-transposed"),
    _sip(("torch.tensor(q, dtype=values.dtype) / 100", "torch.tensor(q, dtype=values.dtype)"),
         name="sip_percent_to_quantile", hint="torch.quantile takes fractions", mistake="cap-percentiles-percent-as-fraction"),
    _sip(("    return torch.quantile(values, torch.tensor(q, dtype=values.dtype) / 100, dim=0)\n",
          "    import numpy as np\n    return torch.tensor(np.percentile(values.numpy(), np.array(q) / 100, axis=0))\n"),
         name="sip_divided_twice", hint="divided by 100 twice", mistake="cap-percentiles-divided-twice"),
    _sip(("torch.tensor(q, dtype=values.dtype) / 100", "torch.tensor((15, 50, 85), dtype=values.dtype) / 100"),
         name="sip_q_ignored", hint="whatever q was", mistake="cap-percentiles-q-ignored"),
    _sip(("/ 100, dim=0)", "/ 100, dim=0, interpolation='nearest')"), name="sip_nearest", hint="'nearest' interpolation",
         mistake="cap-percentiles-interpolation"),
    _sip(("    try:\n        with torch.no_grad():\n            model(x)\n    finally:\n        handle.remove()\n",
          "    with torch.no_grad():\n        model(x)\n"),
         name="sip_hook_left", hint="hook(s) registered", mistake="cap-percentiles-hooks-left"),
    _sip(("        with torch.no_grad():\n            model(x)\n", "        with torch.no_grad():\n            model.eval()(x)\n"),
         name="sip_sets_eval_mode", hint="changed the model's mode", mistake="cap-percentiles-changed-mode"),
    # ---- steps_to_accuracy
    _sta("    for step, value in zip(steps, accuracy):\n        if value > target:\n            return int(step)\n    return None\n",
         name="sta_strict", hint="comparison is strict", mistake="cap-steps-strict-threshold"),
    _sta("    for i, value in enumerate(accuracy):\n        if value >= target:\n            return i\n    return None\n",
         name="sta_index", hint="position of the record", mistake="cap-steps-index-not-step"),
    _sta("    for i in range(len(steps)):\n        if accuracy[i] >= target:\n            return int(steps[min(i + 1, len(steps) - 1)])\n    return None\n",
         name="sta_next_record", hint="AFTER the first one", mistake="cap-steps-off-by-one"),
    _sta("    for i in range(len(steps)):\n        if accuracy[i] >= target:\n            return int(steps[i - 1])\n    return None\n",
         name="sta_previous_record", hint="BEFORE the first one", mistake="cap-steps-off-by-one"),
    _sta("    found = None\n    for step, value in zip(steps, accuracy):\n        if value >= target:\n            found = int(step)\n    return found\n",
         name="sta_last", hint="LAST recorded step", mistake="cap-steps-last-reaching"),
    _sta("    best = max(range(len(accuracy)), key=lambda i: float(accuracy[i]))\n    return int(steps[best]) if accuracy[best] >= target else None\n",
         name="sta_best", hint="highest accuracy", mistake="cap-steps-best-accuracy"),
    _sta("    for step, value in zip(steps, accuracy):\n        if value >= target:\n            return int(step)\n    return -1\n",
         name="sta_minus_one", hint="a number (-1) was returned", mistake="cap-steps-number-for-never"),
    _sta("    for step, value in zip(steps, accuracy):\n        if value >= target:\n            return float(step)\n    return None\n",
         name="sta_float", hint="the right step, but as a", mistake="cap-steps-not-int"),
    _sta("    for i in range(len(steps)):\n        if all(a >= target for a in accuracy[i:]):\n            return int(steps[i])\n    return None\n",
         name="sta_stays", hint="STAYS at or above", mistake="cap-steps-reached-for-good"),
    # ---- paper_network
    _net(("            layers.append(BatchNorm(hidden))\n        layers.append(torch.nn.Sigmoid())\n",
          "            layers.append(torch.nn.Sigmoid())\n            layers.append(BatchNorm(hidden))\n        else:\n            layers.append(torch.nn.Sigmoid())\n"),
         name="net_bn_after_sigmoid", hint="in another order", mistake="cap-network-layer-order"),
    _net(("    model = torch.nn.Sequential(*layers).double()\n", "    model = torch.nn.Sequential(*layers)\n"),
         ("dtype=torch.float64) * std)", "dtype=torch.float32) * std)"),
         name="net_not_double", hint="convert the model with .double()", mistake="cap-network-not-float64"),
    _net(("dtype=torch.float64) * std)", "dtype=torch.float64) * std ** 2)"),
         name="net_std_squared", hint="std**2", mistake="cap-network-std-as-variance"),
    _net(("            if isinstance(layer, torch.nn.Linear):\n",
          "            if isinstance(layer, torch.nn.Linear):\n                generator = torch.Generator().manual_seed(seed)\n"),
         name="net_generator_per_layer", hint="a new generator", mistake="cap-network-generator-per-layer"),
    _net(("    model = torch.nn.Sequential(*layers).double()\n", "    model = torch.nn.Sequential(*layers)\n"),
         ("                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64) * std)\n",
          "                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator) * std)\n"),
         ("    return model\n", "    return model.double()\n"),
         name="net_float32_draws", hint="drawn in float32", mistake="cap-network-float32-init"),
    _net(("        for layer in model:\n", "        for layer in reversed(model):\n"),
         name="net_reverse_order", hint="from the output to the input", mistake="cap-network-init-order"),
    _net(("                layer.bias.zero_()\n", "                pass\n"),
         name="net_bias_not_zeroed", hint="the biases were left", mistake="cap-network-bias-not-zeroed"),
    _net(("    layers, width = [], in_features\n", "    torch.manual_seed(seed)\n    layers, width = [], in_features\n"),
         ("torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64)",
          "torch.randn(layer.weight.shape, dtype=torch.float64)"),
         name="net_global_generator", hint="global generator", mistake="cap-network-global-generator"),
    _run(("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
          "accuracy.append((model(X_test).argmax(dim=1) == y_test).double().sum())"),
         name="run_accuracy_count", hint="number of right answers", mistake="cap-accuracy-not-fraction"),
    _run(("        model = paper_network(BatchNorm, batchnorm, X_train.shape[1], std, seed, hidden=hidden)\n",
          "        model = paper_network(BatchNorm, True, X_train.shape[1], std, seed, hidden=hidden)\n"),
         name="run_both_with_batchnorm", hint="both networks are the same one", mistake="cap-batchnorm-flag-ignored"),
    _net(("        for layer in model:\n", "        for layer in list(model)[:-1]:\n"),
         name="net_output_not_initialised", hint="output layer was left", mistake="cap-network-output-layer-not-initialised"),
]

# The held-out wrong answers of issue 22 (/work/hints7): each told its own mistake.
HINTS += [
    _bn(("        if self.training:\n            n = x.numel()", "        if True:\n            n = x.numel()"),
        name="bn_paste_ignores_training_flag", hint="ignores self.training", mistake="bninf-eval-batch-statistics"),
    _bn(('        self.register_buffer("running_mean", torch.zeros(num_features))\n'
         '        self.register_buffer("running_var", torch.ones(num_features))\n'
         '        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))\n',
         '        self.running_mean = torch.zeros(num_features)\n'
         '        self.running_var = torch.ones(num_features)\n'
         '        self.num_batches_tracked = torch.tensor(0, dtype=torch.long)\n'),
        name="bn_paste_plain_attributes", hint="plain attributes", mistake="bninf-plain-attributes"),
    _sip(("    values = seen[0]\n", "    values = seen[0].float()\n"),
         ("torch.tensor(q, dtype=values.dtype) / 100", "torch.tensor(q) / 100"),
         name="sip_float32_result", hint="in float32", mistake="cap-percentiles-float32"),
    # the helper's mistake seen through run_experiment: run_experiment is right, its measurements are not
    Mutant("sip_sets_eval_mode_seen_by_run", A,
           edit("measurements", ("        with torch.no_grad():\n            model(x)\n",
                                 "        with torch.no_grad():\n            model.eval()(x)\n")),
           ("test_run_experiment",), "your sigmoid_input_percentiles switches the model",
           mistake="cap-percentiles-changed-mode"),
    _sta("    for step, value in zip(steps, accuracy):\n        if value >= target:\n            return step\n    return None\n",
         name="sta_tensor", hint="the right step, but as a Tensor", mistake="cap-steps-not-int"),
    _sta("    reached = torch.as_tensor(accuracy) >= target\n    return int(torch.as_tensor(steps)[torch.argmax(reached.int())])\n",
         name="sta_argmax_when_never", hint="all False is 0", mistake="cap-steps-number-for-never"),
    _net(("                layer.bias.zero_()\n",
          "                layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator, dtype=torch.float64) * std)\n"),
         name="net_bias_drawn", hint="biases were drawn from the generator too", mistake="cap-network-bias-drawn"),
    _net(("    layers.append(torch.nn.Linear(width, classes))\n",
          "    layers.append(torch.nn.Linear(width, classes))\n    layers.append(torch.nn.Sigmoid())\n"),
         name="net_sigmoid_on_output", hint="a Sigmoid follows the output layer", mistake="cap-network-output-sigmoid"),
    _net(("            if isinstance(layer, torch.nn.Linear):\n"
          "                layer.weight.copy_(torch.randn(layer.weight.shape, generator=generator, dtype=torch.float64) * std)\n"
          "                layer.bias.zero_()\n",
          "            pass\n"
          "        for p in model.parameters():\n"
          "            if p.dim() == 2:\n"
          "                p.copy_(torch.randn(p.shape, generator=generator, dtype=torch.float64) * std)\n"
          "            else:\n"
          "                p.zero_()\n"),
         name="net_params_loop_zeroes_gamma", hint="weight (gamma) of every BatchNorm layer is 0",
         mistake="cap-network-bn-weight-zeroed"),
    _run(("                model.eval()\n                with torch.no_grad():\n"
          "                    accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())\n",
          "                with torch.no_grad():\n"
          "                    accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())\n"
          "                model.eval()\n"),
         name="run_accuracy_before_eval", hint="measured before model.eval()", mistake="cap-accuracy-in-train-mode"),
    _run(("            optimizer.zero_grad()\n            loss.backward()\n            optimizer.step()\n",
          "            loss.backward()\n            optimizer.zero_grad()\n            optimizer.step()\n"),
         name="run_zero_grad_after_backward", hint="no step changed the weights", mistake="cap-zero-grad-before-step"),
    _run(('"percentiles": torch.stack(percentiles),\n                        "percentiles_eval": torch.stack(percentiles_eval)}',
          '"percentiles": torch.stack(percentiles_eval),\n                        "percentiles_eval": torch.stack(percentiles)}'),
         name="run_percentile_keys_swapped", hint="are swapped", mistake="cap-percentiles-keys-swapped"),
    _run(("accuracy.append((model(X_test).argmax(dim=1) == y_test).double().mean())",
          "accuracy.append((model(X_train).argmax(dim=1) == y_train).double().mean())"),
         name="run_accuracy_on_training_data", hint="measured on the training data: measure it",
         mistake="cap-accuracy-on-training-data"),
    _run(("batch = torch.randint(len(X_train), (batch_size,), generator=generator)",
          "batch = torch.randperm(len(X_train), generator=generator)[:batch_size]"),
         name="run_without_replacement", hint="without replacement", mistake="cap-batches-without-replacement"),
    _run(("model(X_train[batch]), y_train[batch])\n", "model(X_train[batch]), y_train[batch], reduction='sum')\n"),
         name="run_loss_sum", hint="summed over the batch", mistake="cap-loss-summed"),
    _run(('    for name, batchnorm in (("baseline", False), ("batchnorm", True)):\n'
          '        model = paper_network(BatchNorm, batchnorm, X_train.shape[1], std, seed, hidden=hidden)\n'
          '        optimizer = torch.optim.SGD(model.parameters(), lr=lr)\n',
          '    models = {b: paper_network(BatchNorm, b, X_train.shape[1], std, seed, hidden=hidden) for b in (False, True)}\n'
          '    optimizer = torch.optim.SGD(models[False].parameters(), lr=lr)\n'
          '    for name, batchnorm in (("baseline", False), ("batchnorm", True)):\n'
          '        model = models[batchnorm]\n'),
         name="run_one_optimizer", hint="its optimizer holds another network's", mistake="cap-optimizer-other-network"),
]
