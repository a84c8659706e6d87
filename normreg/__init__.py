"""normreg: the code shared by the book, the exercise notebooks and the tests.

Modules
-------
data      -- loading the bundled digits (default) or a local MNIST copy; splits
training  -- gradient descent on least squares, a small PyTorch training loop
plotting  -- the figures the book draws more than once
monitoring -- recording layer outputs with hooks, percentiles and their drift over training
i18n      -- the language in use (English or Korean) and the Korean text of every message
"""

__all__ = ["data", "training", "plotting", "monitoring", "i18n"]
