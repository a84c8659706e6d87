"""Checks that the course's grade cells call, and the tooling to grade with nbgrader.

A grade cell is one or two lines, e.g.::

    from autograder.normalization import check_min_max_scale
    check_min_max_scale(min_max_scale)

Each check computes the reference (scikit-learn, SciPy or PyTorch), calls the
learner's function, and raises ``CheckFailed`` (an AssertionError, so nbgrader
marks the cell failed) with a message saying what differs and, when it
recognises one, the likely mistake.
"""
from autograder.compare import CheckFailed

__all__ = ["CheckFailed"]
