"""The mistakes the checks recognise: one stable id, a one-line description and the book section per mistake.

A check that recognises a mistake says so where it recognises it, by wrapping
the words it shows the learner in ``recognised(id, text)``::

    mistakes={recognised("norm-minmax-whole-array", "the statistics were taken over the whole array ..."): candidate}
    raise CheckFailed(recognised("cs-record-changed-mode", f"{description} changed the model's mode ..."))

``recognised`` returns the text itself (a ``str``), so messages read as before;
it also remembers which id the text stands for. A ``CheckFailed`` whose message
holds such a text carries the id (``CheckFailed.mistakes``); the class grader
records the ids of every failed test (``OUT/results.jsonl``), ranks them in the
class report and links each to its book section in the learner's feedback.

``label`` is a MyST label in ``book/*.md`` (a line ``(label)=`` above a
heading); ``book_link`` makes the URL of that section in the built book.
``tests/grading/test_mistakes.py`` checks that every id used exists, every label
exists in the book, and every known wrong answer (``tests/grading/mutants``)
is recognised as a mistake of this list.
"""
from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

BOOK = Path(__file__).resolve().parent.parent / "book"


@dataclass(frozen=True)
class Mistake:
    id: str
    description: str
    label: str


def _m(id: str, label: str, description: str) -> Mistake:
    return Mistake(id, description, label)


MISTAKES: dict[str, Mistake] = {m.id: m for m in [
    # ---- slips that any exercise can show
    _m("forgot-return", "learner-exercises", "the function computes its result but does not return it"),
    _m("changed-input-in-place", "learner-exercises", "the function changed the array or object it was given"),
    # ---- chapter 1, data normalization
    _m("norm-minmax-whole-array", "norm-min-max", "min-max scaling with one min and max over the whole array"),
    _m("norm-minmax-per-example", "norm-min-max", "min-max scaling per example (axis=1) instead of per feature"),
    _m("norm-minmax-range-ignored", "norm-min-max", "feature_range ignored: the result stays in [0, 1]"),
    _m("norm-minmax-low-not-added", "norm-min-max", "scaled by (high - low) but low not added back"),
    _m("norm-minmax-divide-by-max", "norm-min-max", "each feature divided by its maximum instead of (x - min) / (max - min)"),
    _m("norm-constant-feature", "norm-constant-features", "a constant feature divides 0 by 0 (NaN) instead of being handled"),
    _m("norm-std-ddof1", "norm-z-score", "sample std (ddof=1) instead of the population std StandardScaler uses"),
    _m("norm-variance-for-std", "norm-z-score", "the variance used where the standard deviation belongs"),
    _m("norm-stats-per-example", "norm-z-score", "mean or std per example (axis=1) instead of per feature"),
    _m("norm-stats-whole-array", "norm-z-score", "one mean or std over the whole array instead of per feature"),
    _m("norm-test-statistics-leak", "norm-fit-on-train", "the test data standardized with its own statistics (leakage)"),
    _m("norm-mean-not-subtracted", "norm-z-score", "z-score without subtracting the mean"),
    _m("norm-mean-std-swapped", "norm-z-score", "std subtracted and mean divided: (x - std) / mean"),
    # ---- chapter 2, covariate shift
    _m("cs-record-after-activation", "cs-recording-hooks", "recorded the activation's output instead of the pre-activation"),
    _m("cs-record-module-input", "cs-recording-hooks", "recorded the hooked module's input instead of its output"),
    _m("cs-record-inplace-overwritten", "cs-recording-hooks", "stored tensors overwritten later by an in-place activation"),
    _m("cs-record-other-mode", "cs-recording-hooks", "recorded in another mode (train/eval) than the model was in"),
    _m("cs-record-transposed", "cs-recording-hooks", "recorded a transposed output"),
    _m("cs-record-wrong-count", "cs-recording-hooks", "not one tensor per layer of the type, in forward order (nested modules missed)"),
    _m("cs-record-not-detached", "cs-recording-hooks", "stored tensors still attached to the autograd graph"),
    _m("cs-record-hooks-left", "cs-recording-hooks", "forward hooks left registered after the function returns"),
    _m("cs-record-changed-mode", "cs-recording-hooks", "the function switched the model to train or eval mode"),
    _m("cs-percentiles-percent-as-fraction", "cs-recording-hooks", "percent (15, 50, 85) passed where fractions are expected"),
    _m("cs-percentiles-wrong-dim", "cs-recording-hooks", "percentiles over the units (dim=1) instead of over the examples"),
    _m("cs-percentiles-all-entries", "cs-recording-hooks", "one set of percentiles over all entries instead of per unit"),
    _m("cs-percentiles-divided-twice", "cs-recording-hooks", "q divided by 100 twice (fractions given to np.percentile)"),
    _m("cs-percentiles-transposed", "cs-recording-hooks", "percentiles returned as (D, len(q)) instead of (len(q), D)"),
    _m("cs-percentiles-interpolation", "cs-recording-hooks", "another interpolation than linear between order statistics"),
    _m("cs-drift-last-minus-first", "cs-recording-hooks", "drift as last minus first value instead of max - min over time"),
    _m("cs-drift-std", "cs-recording-hooks", "drift as a standard deviation instead of the band width"),
    _m("cs-drift-path-length", "cs-recording-hooks", "drift as the path length instead of the band width"),
    _m("cs-drift-wrong-dim", "cs-recording-hooks", "max - min over the percentiles or the units instead of over time"),
    # ---- chapter 3, batch normalization in training
    _m("bn-unbiased-variance", "bn-transform", "unbiased variance (N - 1) where batch norm uses the biased one"),
    _m("bn-eps-outside-sqrt", "bn-transform", "eps added outside the square root"),
    _m("bn-eps-missing", "bn-transform", "eps left out of sqrt(var + eps)"),
    _m("bn-stats-per-example", "bn-transform", "statistics per example (axis=1), as layer norm, instead of per feature"),
    _m("bn-stats-whole-array", "bn-transform", "one mean and variance over the whole array"),
    _m("bn-spatial-per-position", "bn-transform", "spatial batch norm per (C, H, W) position instead of per channel"),
    _m("bn-spatial-per-sample", "bn-transform", "spatial batch norm per sample (layer or instance norm) instead of per channel"),
    _m("bn-spatial-reshape-mixes-channels", "bn-transform", "reshaped to (-1, C) without moving the channel axis last"),
    _m("bn-returns-tensor", "bn-transform", "a torch Tensor returned where a NumPy array is asked for"),
    _m("bn-gamma-beta-missing", "bn-why-scale-shift", "the learned scale and shift (gamma, beta) not applied"),
    _m("bn-backward-constant-statistics", "bn-backward-pass", "backward treats the batch mean and variance as constants"),
    _m("bn-backward-no-variance-path", "bn-backward-pass", "backward misses the gradient through the variance"),
    _m("bn-backward-no-mean-path", "bn-backward-pass", "backward misses the gradient through the mean"),
    _m("bn-backward-param-grad-wrong-axes", "bn-backward-pass", "dgamma or dbeta summed over the wrong axes"),
    _m("bn-backward-dgamma-uses-x", "bn-backward-pass", "dgamma computed with x (or without x_hat) instead of x_hat"),
    # ---- chapter 4, batch normalization at inference
    _m("bninf-gamma-beta-swapped", "bn-four-quantities", "weight and bias swapped"),
    _m("bninf-layer-norm-axes", "bn-layer-norm", "statistics per example over the features: layer normalization"),
    _m("bninf-3d-wrong-dims", "bn-four-quantities", "for (N, C, L) input, statistics not over dims 0 and 2"),
    _m("bninf-detached-statistics", "bn-four-quantities", "batch statistics detached, so no gradient flows through them"),
    _m("bninf-no-error-for-batch-of-one", "bn-train-eval", "no ValueError for a training batch of one value per channel"),
    _m("bninf-plain-attributes", "bn-train-eval", "running statistics kept as plain attributes instead of registered buffers"),
    _m("bninf-running-var-zeros", "bn-running-averages", "running_var initialised to zeros instead of ones"),
    _m("bninf-stores-biased-var", "bn-running-averages", "running_var stores the biased batch variance"),
    _m("bninf-momentum-reversed", "bn-running-averages", "momentum convention reversed (weight of the old value)"),
    _m("bninf-momentum-none", "bn-running-averages", "momentum=None not giving the cumulative average"),
    _m("bninf-running-not-updated", "bn-running-averages", "running statistics not updated in training mode"),
    _m("bninf-num-batches-not-tracked", "bn-running-averages", "num_batches_tracked not counted"),
    _m("bninf-eval-batch-statistics", "bn-train-eval", "eval mode normalizes with the batch statistics"),
    _m("bninf-eval-updates-running", "bn-train-eval", "running statistics changed in eval mode"),
    _m("bninf-pop-no-correction", "bn-population-statistics", "the m/(m-1) correction missing from the population variance"),
    _m("bninf-pop-correction-upside-down", "bn-population-statistics", "the correction (m-1)/m instead of m/(m-1)"),
    _m("bninf-pop-variance-of-means", "bn-population-statistics", "the variance of the batch means instead of the mean of the variances"),
    _m("bninf-pop-wrong-count", "bn-population-statistics", "the number of batches used where the batch size belongs"),
    _m("bninf-pop-wrong-dim", "bn-population-statistics", "batch means averaged over the wrong dim"),
    _m("bninf-fold-linear-bias-missing", "bn-folding", "folding left the linear layer's own bias out"),
    _m("bninf-fold-beta-missing", "bn-folding", "folding left batch norm's beta out"),
    _m("bninf-fold-bias-not-scaled", "bn-folding", "the folded bias not scaled by gamma / sqrt(var + eps)"),
    _m("bninf-fold-variance-for-std", "bn-folding", "folding used the variance where its square root belongs"),
    _m("bninf-fold-no-bias", "bn-folding", "the folded layer has no bias"),
    _m("bninf-fold-not-folded", "bn-folding",
       "no fold: the returned layer's code (a forward hook, a subclass's forward) computes bn(linear(x))"),
    # ---- chapter 5, weight decay
    _m("wd-l2-no-half", "wd-l2-penalty", "the 1/2 of the L2 penalty missing"),
    _m("wd-l2-norm-not-squared", "wd-l2-penalty", "the L2 norm (with a square root) instead of its square"),
    _m("wd-l2-mean", "wd-l2-penalty", "squares averaged instead of summed"),
    _m("wd-l2-first-array-only", "wd-l2-penalty", "only the first parameter array penalized"),
    _m("wd-decay-ignored", "wd-l2-penalty", "weight_decay ignored"),
    _m("wd-l2-sum-then-square", "wd-l2-penalty", "entries summed before squaring"),
    _m("wd-decay-wrong-sign", "wd-sgd", "weight decay added with the wrong sign"),
    _m("wd-sgd-decay-after-buffer", "wd-sgd", "weight decay added after the momentum buffer"),
    _m("wd-sgd-dampened-buffer", "wd-sgd", "momentum buffer dampened or started from zeros"),
    _m("wd-state-not-kept", "wd-sgd", "optimizer state (buffer, moments, step counter) not kept between calls"),
    _m("wd-adam-no-bias-correction", "wd-adamw", "Adam's bias correction missing"),
    _m("wd-adam-eps-inside-sqrt", "wd-adamw", "Adam's eps inside the square root"),
    _m("wd-adam-betas-swapped", "wd-adamw", "beta1 and beta2 swapped"),
    _m("wd-adam-eps-ignored", "wd-adamw", "the eps argument ignored"),
    _m("wd-adamw-coupled-decay", "wd-adamw", "AdamW decays through the gradient (Adam's L2 penalty)"),
    _m("wd-adamw-decay-not-scaled-by-lr", "wd-adamw", "AdamW's decoupled decay not scaled by lr"),
    _m("wd-adamw-decay-after-update", "wd-adamw", "AdamW's decay applied after the Adam update"),
    _m("wd-adam-decoupled-decay", "wd-adamw", "Adam given AdamW's decoupled decay instead of the L2 gradient term"),
    # ---- chapter 6, dropout
    _m("do-not-scaled", "dropout-vanilla-inverted", "inverted dropout without the 1/(1 - p) scale of kept units"),
    _m("do-scale-one-over-p", "dropout-vanilla-inverted", "kept units scaled by 1/p instead of 1/(1 - p)"),
    _m("do-scale-by-p", "dropout-vanilla-inverted", "kept units multiplied by p"),
    _m("do-scale-by-keep-in-training", "dropout-vanilla-inverted", "kept units multiplied by 1 - p in training"),
    _m("do-keep-with-p", "dropout-units", "units kept with probability p (p is the drop probability)"),
    _m("do-nothing-dropped", "dropout-units", "nothing dropped in training"),
    _m("do-mask-marks-dropped", "dropout-units", "the mask marks the dropped units instead of the kept ones"),
    _m("do-same-mask", "dropout-units", "the same mask on every call (fixed seed, cached mask, rng ignored)"),
    _m("do-units-dependent", "dropout-units",
       "units not dropped independently (a fixed number of units, or a block of neighbouring units)"),
    _m("do-nan-at-p1", "dropout-units", "p = 1 divides by 1 - p = 0 instead of returning zeros"),
    _m("do-scaled-at-test", "dropout-vanilla-inverted", "inverted dropout scales again at test time"),
    _m("do-applied-at-test", "dropout-vanilla-inverted", "dropout still applied at test time or in eval mode"),
    _m("do-p0-not-identity", "dropout-units", "p = 0 does not return x"),
    _m("do-backward-mask-ignored", "dropout-backward", "the backward pass ignores the mask"),
    _m("do-backward-not-scaled", "dropout-backward", "the backward pass misses the 1/(1 - p) scale"),
    _m("do-backward-wrong-scale", "dropout-backward", "the backward pass uses another scale than the forward pass"),
    _m("do-vanilla-is-inverted", "dropout-vanilla-inverted", "vanilla dropout implemented as inverted dropout"),
    _m("do-vanilla-test-not-scaled", "dropout-vanilla-inverted", "vanilla dropout returns x at test time instead of (1 - p) x"),
    _m("do-vanilla-test-times-p", "dropout-vanilla-inverted", "vanilla dropout multiplies by p at test time instead of 1 - p"),
    _m("do-module-detached", "dropout-backward", "the module's output is not connected to x in the autograd graph"),
    # ---- chapter 7, hyperparameter search
    _m("hp-split-independent-draws", "hp-splits", "split parts drawn independently, so they overlap"),
    _m("hp-split-truncates", "hp-splits", "int() truncates n * fraction instead of round()"),
    _m("hp-split-train-rounded", "hp-splits", "the training size rounded on its own instead of taking the rest"),
    _m("hp-split-not-shuffled", "hp-splits", "indices not shuffled before splitting"),
    _m("hp-rng-ignored", "hp-random-search", "the rng argument ignored (results not reproducible, or always the same)"),
    _m("hp-log-uniform-is-uniform", "hp-log-scale", "uniform samples where log-uniform ones are asked for"),
    _m("hp-log-uniform-no-exp", "hp-log-scale", "the uniform exponents returned without exp()"),
    _m("hp-log-uniform-mixed-bases", "hp-log-scale", "log and exp of different bases"),
    _m("hp-log-uniform-high-not-logged", "hp-log-scale", "the exponent drawn on [log(low), high]"),
    _m("hp-log-uniform-bounds-as-exponents", "hp-log-scale", "low and high used as exponents"),
    _m("hp-uniform-sampled-log", "hp-log-scale", "a uniform dimension sampled on a log scale"),
    _m("hp-config-int-excludes-high", "hp-log-scale", "an inclusive integer range sampled with rng.integers(low, high), so high never comes"),
    _m("hp-config-int-log-excludes-high", "hp-log-scale", "a log-uniform integer drawn on [low, high), so high never comes"),
    _m("hp-config-int-log-uniform", "hp-log-scale", "log-uniform integers drawn uniformly"),
    _m("hp-config-int-float", "hp-log-scale", "an integer parameter kept as the float np.floor returns"),
    _m("hp-config-condition-ignored", "hp-random-search", "a conditional parameter sampled when its condition is off"),
    _m("hp-config-condition-none", "hp-random-search", "None stored for an inactive conditional parameter instead of leaving it out"),
    _m("hp-choice-index-stored", "hp-random-search", "the index of a choice stored instead of its value"),
    _m("hp-choice-last-never", "hp-random-search", "the last choice never drawn (rng.integers excludes high)"),
    _m("hp-shared-config-dict", "hp-random-search", "one dict updated in the loop, so every result shows the last configuration"),
    _m("hp-objective-wrong-argument", "hp-random-search", "the objective called with something else than one configuration dict"),
    _m("hp-objective-wrong-calls", "hp-random-search", "the objective not called once per configuration"),
    _m("hp-grid-zip", "hp-random-search", "zip() instead of every combination (itertools.product)"),
    _m("hp-grid-one-name-at-a-time", "hp-random-search", "each name varied on its own instead of every combination"),
    _m("hp-grid-order", "hp-random-search", "grid combinations in another order than documented"),
    _m("hp-halving-rounds-down", "hp-coarse-to-fine", "successive halving keeps n // factor instead of ceil(n / factor)"),
    _m("hp-halving-keeps-worst", "hp-coarse-to-fine", "successive halving keeps the lowest scores"),
    _m("hp-halving-until-one-left", "hp-coarse-to-fine", "successive halving runs rungs until one candidate is left"),
    _m("hp-halving-first-rung-too-large", "hp-coarse-to-fine", "successive halving starts at min_resource * factor"),
    _m("hp-halving-resource-growth", "hp-coarse-to-fine", "the resource doubled or grown by steps instead of multiplied by factor"),
    _m("hp-halving-keep-rounded", "hp-coarse-to-fine", "successive halving keeps round(n / factor) instead of ceil(n / factor)"),
    _m("hp-halving-ignores-max-resource", "hp-coarse-to-fine", "the number of rungs ignores max_resource"),
    _m("hp-halving-ignores-candidates", "hp-coarse-to-fine", "the number of rungs ignores the number of configurations"),
    _m("hp-split-with-replacement", "hp-splits", "indices drawn with replacement, so a part repeats some"),
    _m("hp-split-rounds-up", "hp-splits", "math.ceil rounds n * fraction up instead of round()"),
    _m("hp-split-parts-swapped", "hp-splits", "the validation and test parts returned in each other's place"),
    _m("hp-rng-recreated", "hp-random-search", "a generator with a fixed seed made on every call, so every draw is the same"),
    _m("hp-config-condition-is", "hp-random-search", "a condition tested with `is` instead of `==`"),
    _m("hp-config-parent-absent", "hp-random-search", "a condition reads a parent that was left out (KeyError)"),
    _m("hp-config-dict-reused", "hp-random-search", "one dict kept between calls (a global or a mutable default)"),
    _m("hp-config-int-log-rounded", "hp-log-scale", "a log-uniform sample rounded (or rounded up) instead of its integer part"),
    _m("hp-config-int-rounded", "hp-log-scale", "a uniform float rounded to an integer, so the ends get half weight"),
    _m("hp-choice-first-never", "hp-random-search", "the first choice never drawn (rng.integers(1, len))"),
    _m("hp-grid-names-sorted", "hp-random-search", "grid names sorted instead of kept in the grid's order"),
    _m("hp-grid-values-sorted", "hp-random-search", "each name's values sorted instead of kept in the grid's order"),
    _m("hp-split-rounds-half-up", "hp-splits", "an exact half rounded up (int(x + 0.5)) instead of Python's round(), half to even"),
    _m("hp-grid-sorted-by-score", "hp-random-search", "grid results sorted by score instead of kept in the grid's order"),
    _m("hp-halving-last-rung-missing", "hp-coarse-to-fine",
       "one rung short at an exact power of factor (< for <=, a floating-point log, or stopping at one candidate)"),
    _m("hp-halving-resource-clipped", "hp-coarse-to-fine", "the resource clipped to max_resource instead of ending the rungs"),
    _m("hp-halving-rung-lists-survivors", "hp-coarse-to-fine", "each rung lists only the candidates it kept, not all it trained"),
    _m("hp-result-pair-swapped", "hp-random-search", "results as (score, config) instead of (config, score)"),
    # ---- chapter 8, reproducing the paper
    _m("cap-percentiles-wrong-axis", "capstone-figure-1", "percentiles taken over the units of each example instead of over the examples"),
    _m("cap-read-after-sigmoid", "capstone-figure-1", "the sigmoid's output recorded instead of its input"),
    _m("cap-bn-eval-in-training", "capstone-figure-1", "batch norm left in eval mode during training"),
    _m("cap-accuracy-on-training-batch", "capstone-figure-1", "accuracy measured on the training batch instead of the test set"),
    _m("cap-test-data-in-running-stats", "capstone-figure-1", "test data entered the running statistics"),
    _m("cap-percentiles-in-eval-mode", "capstone-percentiles", "sigmoid inputs measured in eval mode instead of in the training network"),
    _m("cap-percentiles-eval-in-train-mode", "capstone-percentiles", "the eval-mode comparison measured in the training network too"),
    _m("cap-percentiles-on-training-data", "capstone-percentiles", "the percentiles measured on the training data instead of the test set"),
    _m("cap-accuracy-in-train-mode", "capstone-figure-1", "accuracy measured with batch statistics instead of the running averages"),
    _m("cap-batches-not-shared", "capstone-setup", "one batch generator for both networks, so they see different mini-batches"),
    _m("cap-batches-wrong-seed", "capstone-setup", "the mini-batch generator seeded with seed instead of seed + 1"),
    _m("cap-record-off-by-one", "capstone-figure-1", "measured one step too early (steps counted from 0, or before the update)"),
    _m("cap-no-zero-grad", "capstone-setup", "gradients never reset, so each step adds up the earlier ones"),
    _m("cap-networks-swapped", "capstone-figure-1", "the baseline and the batch-normalized network swapped in the result"),
    _m("cap-recorded-steps-wrong", "capstone-figure-1", "the recorded steps not record_every, 2 * record_every, ..., steps"),
    _m("cap-read-first-sigmoid", "capstone-figure-1", "the input of the first sigmoid recorded instead of the last"),
    _m("cap-read-model-output", "capstone-figure-1", "the percentiles of the model's output instead of a sigmoid's input"),
    _m("cap-percentiles-all-entries", "capstone-figure-1", "one set of percentiles over all entries instead of per unit"),
    _m("cap-percentiles-transposed", "capstone-figure-1", "percentiles returned as (H, len(q)) instead of (len(q), H)"),
    _m("cap-percentiles-divided-twice", "capstone-figure-1", "q divided by 100 twice (fractions given to numpy.percentile)"),
    _m("cap-percentiles-percent-as-fraction", "capstone-figure-1", "percent (15, 50, 85) given to torch.quantile, which takes fractions"),
    _m("cap-percentiles-q-ignored", "capstone-figure-1", "the default percentiles taken whatever q was given"),
    _m("cap-percentiles-interpolation", "capstone-figure-1", "another interpolation than linear between order statistics"),
    _m("cap-percentiles-hooks-left", "capstone-figure-1", "the forward hook left registered after the function returns"),
    _m("cap-percentiles-changed-mode", "capstone-figure-1", "the function switched the model to train or eval mode"),
    _m("cap-steps-strict-threshold", "capstone-figure-1", "accuracy > target where a record that equals the target reaches it"),
    _m("cap-steps-index-not-step", "capstone-figure-1", "the position of the record returned instead of its step"),
    _m("cap-steps-off-by-one", "capstone-figure-1", "the step of the record after or before the first reaching one"),
    _m("cap-steps-last-reaching", "capstone-figure-1", "the last reaching step returned instead of the first"),
    _m("cap-steps-best-accuracy", "capstone-figure-1", "the step of the highest accuracy returned"),
    _m("cap-steps-reached-for-good", "capstone-figure-1", "the first step from which the accuracy stays above the target"),
    _m("cap-steps-number-for-never", "capstone-figure-1", "a number (-1, 0, nan) returned instead of None when never reached"),
    _m("cap-steps-not-int", "capstone-figure-1", "the right step returned as a float or tensor instead of an int"),
    _m("cap-network-layer-order", "capstone-setup", "batch norm placed elsewhere than between a Linear layer and its sigmoid"),
    _m("cap-network-not-float64", "capstone-setup", "the network not converted to float64"),
    _m("cap-network-std-as-variance", "capstone-setup", "the weights drawn with std**2 or sqrt(std) as standard deviation"),
    _m("cap-network-generator-per-layer", "capstone-setup", "a new generator seeded for every layer"),
    _m("cap-network-float32-init", "capstone-setup", "the weights drawn in float32"),
    _m("cap-network-init-order", "capstone-setup", "the layers initialised from the output to the input"),
    _m("cap-network-output-layer-not-initialised", "capstone-setup", "the output layer left with PyTorch's default initialisation"),
    _m("cap-network-bias-not-zeroed", "capstone-setup", "the biases left with PyTorch's default initialisation"),
    _m("cap-network-global-generator", "capstone-setup", "the weights drawn from the global generator, after the layers used it"),
    _m("cap-accuracy-not-fraction", "capstone-figure-1", "the accuracy reported as a count or a percentage instead of a fraction"),
    _m("cap-percentiles-float32", "capstone-figure-1", "the percentiles computed or returned in float32 in a float64 network"),
    _m("cap-network-output-sigmoid", "capstone-setup", "a Sigmoid after the output layer"),
    _m("cap-network-bias-drawn", "capstone-setup", "the biases drawn from the generator too instead of set to 0"),
    _m("cap-network-bn-weight-zeroed", "capstone-setup", "BatchNorm's weight (gamma) zeroed by an initialisation loop over every parameter"),
    _m("cap-percentiles-keys-swapped", "capstone-percentiles", "'percentiles' and 'percentiles_eval' swapped in the result"),
    _m("cap-zero-grad-before-step", "capstone-setup", "zero_grad() between backward() and step(), so no step changes the weights"),
    _m("cap-optimizer-other-network", "capstone-setup", "one optimizer for both networks: the second network is never trained"),
    _m("cap-accuracy-on-training-data", "capstone-figure-1", "the accuracy measured on the training data instead of the test set"),
    _m("cap-batches-without-replacement", "capstone-setup", "mini-batches drawn without replacement instead of with torch.randint"),
    _m("cap-loss-summed", "capstone-setup", "the loss summed over the batch instead of averaged"),
    _m("cap-batchnorm-flag-ignored", "capstone-setup", "both networks built the same, with or without batch norm"),
]}

# The texts recognised lately: static ones (module constants) stay, dynamic ones (made per call) are capped.
_TEXTS: OrderedDict[str, str] = OrderedDict()
_KEEP = 4096


def recognised(mistake: str, text: str) -> str:
    """``text``, the words a check shows for the recognised mistake ``mistake`` (an id of ``MISTAKES``)."""
    if mistake not in MISTAKES:
        raise KeyError(f"unknown mistake id {mistake!r}: add it to autograder/mistakes.py")
    text = str(text)
    _TEXTS[text] = mistake
    _TEXTS.move_to_end(text)
    while len(_TEXTS) > _KEEP:
        _TEXTS.popitem(last=False)
    return text


def mistakes_in(message: str) -> tuple[str, ...]:
    """The ids of the recognised mistakes whose texts ``message`` holds (most recently recognised first)."""
    found = []
    for text, mistake in reversed(_TEXTS.items()):
        if text and text in message and mistake not in found:
            found.append(mistake)
    return tuple(found)


def known_ids(ids) -> tuple[str, ...]:
    """Only the ids of ``MISTAKES`` (for ids that travelled from the sandbox), in order, once each."""
    if not isinstance(ids, (list, tuple)):
        return ()
    out = []
    for mistake in ids:
        if type(mistake) is str and mistake in MISTAKES and mistake not in out:
            out.append(mistake)
    return tuple(out)


# ---------------------------------------------------------------- book sections

LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.M)


@functools.lru_cache(maxsize=1)
def book_labels() -> dict[str, str]:
    """label -> the page that defines it (``book/01_data_normalization``), from ``book/*.md``."""
    found = {}
    for page in sorted(BOOK.glob("*.md")):
        for label in LABEL.findall(page.read_text(encoding="utf-8")):
            found[label] = f"book/{page.stem}"
    return found


def edition(book_url: str, lang: str | None = None) -> str:
    """The root of one edition of the book at ``book_url``: the English one is the root itself, the Korean one
    is built under ``ko/`` with the same page paths (``_build/html/ko/book/...``). ``lang``: default, the
    language in use (``autograder.i18n``)."""
    from autograder.i18n import language

    root = book_url.rstrip("/")
    return f"{root}/ko" if (lang or language()) == "ko" else root


def book_link(label: str, book_url: str, lang: str | None = None) -> str:
    """The URL of the section ``label`` in the built book at ``book_url`` (its ``index.html`` folder), in the
    edition of ``lang`` (default: the language in use)."""
    page = book_labels().get(label)
    if page is None:
        raise KeyError(f"no label ({label})= in book/*.md")
    return f"{edition(book_url, lang)}/{page}.html#{label}"


def mistake_link(mistake: str, book_url: str, lang: str | None = None) -> str:
    return book_link(MISTAKES[mistake].label, book_url, lang)


def describe(mistake: str) -> str:
    """The mistake's description in the language in use (its English text is the catalog's key)."""
    from autograder.i18n import _

    return _(MISTAKES[mistake].description)
