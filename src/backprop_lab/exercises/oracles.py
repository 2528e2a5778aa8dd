"""What the references share: arrays as float64 tensors, gradients by autograd, and the
PyTorch twins of the test functions. Only references use these; nothing here reaches the
sandbox, which sees the questions' inputs only."""

from __future__ import annotations

import numpy as np
import torch

from ..testfns import Fn


def tensor(a, requires_grad: bool = False) -> torch.Tensor:
    """``a`` as a fresh float64 tensor (the precision every reference works in)."""
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=requires_grad)


def autograd(forward, inputs, upstream=None) -> tuple:
    """The gradients autograd sends to every input of ``forward`` when its output (or each of
    its outputs) receives ``upstream`` (ones when not given), as NumPy arrays."""
    leaves = [tensor(a, requires_grad=True) for a in inputs]
    outputs = forward(*leaves)
    if isinstance(outputs, torch.Tensor):
        outputs, upstream = [outputs], [upstream]
    seeds = [torch.ones_like(o) if u is None else tensor(u) for o, u in zip(outputs, upstream)]
    torch.autograd.backward(list(outputs), seeds)
    return tuple(leaf.grad.numpy() for leaf in leaves)


# PyTorch twins of testfns.TEST_FUNCTIONS, for exact reference gradients by autograd.
TORCH_FUNCTIONS = {
    "sin_square_sum": lambda p, x: torch.sum(torch.sin(x) * x * x),
    "quadratic": lambda p, x: (0.5 * x.reshape(-1) @ torch.as_tensor(p["A"]) @ x.reshape(-1)
                               + torch.as_tensor(p["c"]) @ x.reshape(-1)),
    "tanh_layer": lambda p, W: torch.sum(torch.tanh(W @ torch.as_tensor(p["v"]))),
}


def autograd_gradient(f: Fn, x) -> np.ndarray:
    """The exact gradient of the test function ``f`` at ``x``, by autograd on its PyTorch twin."""
    t = tensor(x, requires_grad=True)
    value = TORCH_FUNCTIONS[f.name](f.params, t)
    # the twin must be the same function as the NumPy version the student calls
    assert abs(value.item() - f(np.asarray(x, dtype=np.float64))) <= 1e-12 * max(1.0, abs(value.item()))
    value.backward()
    return t.grad.numpy()
