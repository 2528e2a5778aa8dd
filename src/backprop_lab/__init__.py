"""Helpers for the backpropagation course: gradient checks, plot style, Colab setup.

The lesson code lives in the notebooks; this package holds what a learner need
not read: checking machinery, plotting defaults, and the tools that keep the two
editions of the book in step.
"""

from .exercises import check
from .gradcheck import Report, compare, numerical_gradient, numerical_gradients, numerical_jacobian, relative_error, rounding
from .timing import best_time, best_times

__version__ = "0.1.0"

__all__ = [
    "check", "compare", "numerical_gradient", "numerical_gradients", "numerical_jacobian", "relative_error", "rounding", "Report",
    "best_time", "best_times",
]
