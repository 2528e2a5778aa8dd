"""The functions a question may pass as an argument (``f`` in "the gradient of f").

Only data crosses the sandbox, so a function argument travels as a name from
:data:`TEST_FUNCTIONS` plus its numeric parameters. This module is one of the few
the sandbox can see: it holds no reference answers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Fn:
    """A function passed as an argument, sent across the sandbox as data: a name from
    :data:`TEST_FUNCTIONS` plus its numeric parameters."""

    name: str
    params: dict = field(default_factory=dict)

    def __call__(self, *args):
        return TEST_FUNCTIONS[self.name](self.params, *args)


TEST_FUNCTIONS: dict[str, Callable] = {
    # f(x) = sum(sin(x) * x^2): smooth, nonlinear in every entry
    "sin_square_sum": lambda p, x: float(np.sum(np.sin(x) * x * x)),
    # f(x) = 1/2 x^T A x + c^T x, for a square A (not symmetric) and a vector c
    "quadratic": lambda p, x: float(0.5 * x.reshape(-1) @ p["A"] @ x.reshape(-1) + p["c"] @ x.reshape(-1)),
    # f(W) = sum(tanh(W @ v)) for a fixed vector v
    "tanh_layer": lambda p, W: float(np.sum(np.tanh(W @ p["v"]))),
    # The gradients of the three functions above, for questions that hand the student a gradient
    # (ex05); the references check them against autograd before using them.
    "sin_square_sum_grad": lambda p, x: np.cos(x) * x * x + 2 * x * np.sin(x),
    "quadratic_grad": lambda p, x: (0.5 * (p["A"] + p["A"].T) @ x.reshape(-1) + p["c"]).reshape(x.shape),
    "tanh_layer_grad": lambda p, W: np.outer(1 - np.tanh(W @ p["v"]) ** 2, p["v"]),
}
