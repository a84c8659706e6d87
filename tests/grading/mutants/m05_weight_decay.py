"""Wrong answers for exercise 05_weight_decay (l2_penalty, sgd_step, adam_step, adamw_step)."""
from tests.grading.mutants import Mutant

A = "05_weight_decay"
SGD_HEADER = "def sgd_step(param, grad, state, lr, momentum=0.0, weight_decay=0.0):\n"
ADAM_HEADER = "def adam_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):\n"
ADAMW_HEADER = "def adamw_step(param, grad, state, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):\n"


def adam(*, decay="    d = grad + weight_decay * param\n", step="    t = state.get('step', 0) + 1\n",
         correct="    m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)\n",
         update="    return param - lr * m_hat / (np.sqrt(v_hat) + eps)\n", header=ADAM_HEADER):
    """An Adam step written out, with one part replaced."""
    return (header + "    b1, b2 = betas\n" + decay + step
            + "    m = b1 * state.get('m', np.zeros_like(param)) + (1 - b1) * d\n"
            + "    v = b2 * state.get('v', np.zeros_like(param)) + (1 - b2) * d * d\n"
            + "    state.update(step=t, m=m, v=v)\n" + correct + update)


MUTANTS = [
    # ---- l2_penalty
    Mutant("l2_no_half", A,
           {"l2_penalty": "def l2_penalty(params, weight_decay):\n    return weight_decay * sum(float(np.sum(p ** 2)) for p in params)\n"},
           ("test_l2_penalty",), "the 1/2 is missing"),
    Mutant("l2_norm_not_squared", A,
           {"l2_penalty": "def l2_penalty(params, weight_decay):\n"
                          "    return weight_decay / 2 * np.sqrt(sum(float(np.sum(p ** 2)) for p in params))\n"},
           ("test_l2_penalty",), "the L2 norm, not its square"),
    Mutant("l2_norm_per_array", A,
           {"l2_penalty": "def l2_penalty(params, weight_decay):\n"
                          "    return weight_decay / 2 * sum(np.linalg.norm(p) for p in params)\n"},
           ("test_l2_penalty",), "sum of L2 norms"),
    Mutant("l2_mean", A,
           {"l2_penalty": "def l2_penalty(params, weight_decay):\n    return weight_decay / 2 * sum(float(np.mean(p ** 2)) for p in params)\n"},
           ("test_l2_penalty",), "averaged (mean) instead of summed"),
    Mutant("l2_first_array_only", A,
           {"l2_penalty": "def l2_penalty(params, weight_decay):\n    return weight_decay / 2 * float(np.sum(params[0] ** 2))\n"},
           ("test_l2_penalty",), "only the first array"),
    # ---- sgd_step
    Mutant("sgd_decay_after_buffer", A,
           {"sgd_step": SGD_HEADER + "    d = grad\n    if momentum:\n"
                                     "        buf = d.copy() if 'buf' not in state else momentum * state['buf'] + d\n"
                                     "        state['buf'] = buf\n        d = buf\n"
                                     "    return param - lr * (d + weight_decay * param)\n"},
           ("test_sgd_step",), "after the momentum buffer"),
    Mutant("sgd_decay_wrong_sign", A,
           {"sgd_step": SGD_HEADER + "    d = grad - weight_decay * param\n    if momentum:\n"
                                     "        buf = d.copy() if 'buf' not in state else momentum * state['buf'] + d\n"
                                     "        state['buf'] = buf\n        d = buf\n"
                                     "    return param - lr * d\n"},
           ("test_sgd_step",), "wrong sign"),
    Mutant("sgd_buffer_from_zeros_dampened", A,
           {"sgd_step": SGD_HEADER + "    d = grad + weight_decay * param\n    if momentum:\n"
                                     "        buf = momentum * state.get('buf', np.zeros_like(param)) + (1 - momentum) * d\n"
                                     "        state['buf'] = buf\n        d = buf\n"
                                     "    return param - lr * d\n"},
           ("test_sgd_step",), "started from zeros"),
    Mutant("sgd_state_not_kept", A,
           {"sgd_step": SGD_HEADER + "    state = {}   # a new dict: the caller's stays empty\n"
                                     "    d = grad + weight_decay * param\n    if momentum:\n"
                                     "        buf = d.copy() if 'buf' not in state else momentum * state['buf'] + d\n"
                                     "        state['buf'] = buf\n        d = buf\n"
                                     "    return param - lr * d\n"},
           ("test_sgd_step",), "not kept between calls"),
    Mutant("sgd_in_place", A,
           {"sgd_step": SGD_HEADER + "    d = grad + weight_decay * param\n    if momentum:\n"
                                     "        buf = d.copy() if 'buf' not in state else momentum * state['buf'] + d\n"
                                     "        state['buf'] = buf\n        d = buf\n"
                                     "    param -= lr * d\n"
                                     "    return param\n"},
           ("test_sgd_step",), "changed the `param` array it was given"),
    Mutant("sgd_no_return", A,
           {"sgd_step": SGD_HEADER + "    param -= lr * (grad + weight_decay * param)\n"},
           ("test_sgd_step",), "forget to `return`"),
    # ---- adam_step
    Mutant("adam_no_bias_correction", A,
           {"adam_step": adam(correct="    m_hat, v_hat = m, v\n")},
           ("test_adam_step",), "bias correction is missing"),
    Mutant("adam_eps_inside_sqrt", A,
           {"adam_step": adam(update="    return param - lr * m_hat / np.sqrt(v_hat + eps)\n")},
           ("test_adam_step",), "eps is inside the square root"),
    Mutant("adam_step_counter_reset", A,
           {"adam_step": adam(step="    t = 1   # the step count is never read back from state\n")},
           ("test_adam_step",), "not kept between calls"),
    Mutant("adam_decoupled_decay", A,
           {"adam_step": adam(decay="    param = param * (1 - lr * weight_decay)\n    d = grad\n")},
           ("test_adam_step",), "adam_step applied decoupled weight decay"),
    Mutant("adam_betas_swapped", A,
           {"adam_step": adam(decay="    betas = betas[::-1]\n    d = grad + weight_decay * param\n").replace(
               "    b1, b2 = betas\n    betas = betas[::-1]\n", "    b2, b1 = betas\n")},
           ("test_adam_step",), "swapped"),
    Mutant("adam_ignores_eps_argument", A,
           # passes the visible tests (default eps), fails hidden ones that set eps: hidden tests matter
           {"adam_step": adam(update="    return param - lr * m_hat / (np.sqrt(v_hat) + 1e-8)\n")},
           ("test_adam_step_hidden",), "the eps argument was ignored"),
    # ---- adamw_step
    Mutant("adamw_decay_through_gradient", A,
           {"adamw_step": ADAMW_HEADER + "    return adam_step(param, grad, state, lr, betas, eps, weight_decay)\n"},
           ("test_adamw_step",), "decayed through the gradient"),
    Mutant("adamw_decay_not_scaled_by_lr", A,
           {"adamw_step": ADAMW_HEADER + "    return adam_step(param * (1 - weight_decay), grad, state, lr, betas, eps, 0.0)\n"},
           ("test_adamw_step",), "not scaled by lr"),
    Mutant("adamw_decay_after_update", A,
           {"adamw_step": ADAMW_HEADER + "    return adam_step(param, grad, state, lr, betas, eps, 0.0) * (1 - lr * weight_decay)\n"},
           ("test_adamw_step",), "after the Adam update"),
    Mutant("adamw_state_not_kept", A,
           {"adamw_step": ADAMW_HEADER + "    return adam_step(param * (1 - lr * weight_decay), grad, {}, lr, betas, eps, 0.0)\n"},
           ("test_adamw_step",), "not kept between calls"),
]
