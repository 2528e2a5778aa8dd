"""ex07, autograd in PyTorch (chapter 7): custom ``torch.autograd.Function`` classes for SiLU,
for x * sigmoid(beta * x) with a plain-number beta (backward returns None for it), and for the
same function with a learnable beta, plus gradcheck on all three. This exercise needs PyTorch.

Only data crosses the sandbox, so the master holds small fixed wrappers (outside the solution
markers) that run the student's Function on the grader's inputs and return NumPy arrays. Every
reference is autograd through the same formula written with ordinary torch operations.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, Exercise, Question
from .oracles import tensor


def _swish(x, beta):
    return x * torch.sigmoid(beta * x)


# ---- the references: autograd through x * sigmoid(beta * x) --------------------------------

def _values_reference(x, g, beta=1.0):
    """(y, dL/dx) for L = sum(g * y), y = x * sigmoid(beta * x), beta a plain number."""
    t = tensor(x, requires_grad=True)
    y = _swish(t, beta)
    if beta == 1.0:  # the reference is PyTorch's own SiLU
        assert torch.allclose(y, F.silu(t), rtol=1e-14, atol=1e-300)
    y.backward(tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def _swish_reference(x, g, beta):
    """(y, dL/dx, dL/dbeta) for a learnable beta of shape ()."""
    t, b = tensor(x, requires_grad=True), tensor(beta, requires_grad=True)
    y = _swish(t, b)
    y.backward(tensor(g))
    return y.detach().numpy(), t.grad.numpy(), b.grad.numpy()


def _gradcheck_reference(name, x, beta):
    """1.0: gradcheck passes for the same function written with ordinary operations."""
    t = tensor(x, requires_grad=True)
    if name == "Swish":
        return float(torch.autograd.gradcheck(_swish, (t, tensor(beta, requires_grad=True))))
    b = 1.0 if name == "SiLU" else beta
    return float(torch.autograd.gradcheck(lambda u: _swish(u, b), (t,)))


# ---- the cases ---------------------------------------------------------------------------------

def _large(rng, n):
    """n >= 4 inputs far out on both sides, where the sigmoid rounds to 0 or 1; +-800 always among
    them, where e^{|x|} overflows float64 (above 709.78), so that exp(x) / (1 + exp(x)) gives nan."""
    k = (n - 2) // 2
    far = [-800.0, 800.0, *-rng.uniform(30, 800, k), *rng.uniform(30, 800, n - 2 - k)]
    return rng.permutation(np.array(far))


def _silu_cases(rng):
    return [
        Case("random", (3 * rng.normal(size=7), rng.normal(size=7))),
        Case("2-D input", (3 * rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))),
        Case("zeros", (np.zeros(5), rng.normal(size=5))),
        Case("one entry", (3 * rng.normal(size=1), rng.normal(size=1))),
        Case("large inputs (saturated sigmoid)", (_large(rng, 6), rng.normal(size=6))),
    ]


def _scaled_cases(rng):
    def case(label, shape, beta, scale=3.0):
        return Case(label, (scale * rng.normal(size=shape), rng.normal(size=shape), float(beta)))

    return [
        case("random", 6, rng.uniform(0.5, 2.0)),
        case("2-D input", (3, 4), rng.uniform(0.5, 2.0)),
        case("beta = 1 (SiLU)", 5, 1.0),
        case("beta = 0", 5, 0.0),
        case("negative beta", 6, -rng.uniform(0.5, 2.0)),
        case("large beta (close to ReLU)", 8, 50.0),
    ]


def _swish_cases(rng):
    # In the saturated case a few moderate inputs keep dL/dbeta of order 1: far out, x^2 s (1 - s)
    # is below 1e-10, where rounding (s = 1 exactly) would decide the comparison.
    mixed = rng.permutation(np.concatenate([_large(rng, 4), rng.uniform(-2.0, 2.0, 3)]))
    return [
        Case("random", (2 * rng.normal(size=6), rng.normal(size=6), float(rng.uniform(0.5, 2.0)))),
        Case("2-D input", (2 * rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), float(rng.uniform(0.5, 2.0)))),
        Case("one entry", (2 * rng.normal(size=1), rng.normal(size=1), float(rng.uniform(0.5, 2.0)))),
        Case("zeros", (np.zeros(4), rng.normal(size=4), float(rng.uniform(0.5, 2.0)))),
        Case("beta = 0", (2 * rng.normal(size=5), rng.normal(size=5), 0.0)),
        Case("large inputs (saturated sigmoid)", (mixed, rng.normal(size=7), 1.0)),
    ]


def _gradcheck_cases(rng):
    return [
        Case("SiLU", ("SiLU", 2 * rng.normal(size=5), 1.0)),
        Case("SiLU, 2-D input", ("SiLU", 2 * rng.normal(size=(2, 3)), 1.0)),
        Case("ScaledSiLU", ("ScaledSiLU", 2 * rng.normal(size=5), float(rng.uniform(0.5, 2.0)))),
        Case("ScaledSiLU, negative beta", ("ScaledSiLU", 2 * rng.normal(size=4), float(-rng.uniform(0.5, 2.0)))),
        Case("Swish (x and beta)", ("Swish", 2 * rng.normal(size=5), float(rng.uniform(0.5, 2.0)))),
        Case("Swish, 2-D input", ("Swish", 2 * rng.normal(size=(2, 3)), float(rng.uniform(0.5, 2.0)))),
    ]


EXERCISE = Exercise(
    name="ex07",
    notebook="ex07_autograd.ipynb",
    questions=(
        Question(
            qid="ex07.q1",
            function="silu_values",
            points=3,
            title={"en": "A custom Function: SiLU, forward and backward", "bn": "নিজস্ব Function: SiLU-এর ফরওয়ার্ড ও ব্যাকওয়ার্ড"},
            cases=_silu_cases,
            reference=_values_reference,
            tol=1e-10,
        ),
        Question(
            qid="ex07.q2",
            function="scaled_silu_values",
            points=3,
            title={"en": "A Function with a plain-number argument: x * sigmoid(beta * x)",
                   "bn": "সাধারণ সংখ্যার আর্গুমেন্টসহ একটি Function: x * sigmoid(beta * x)"},
            cases=_scaled_cases,
            reference=_values_reference,
            tol=1e-10,
        ),
        Question(
            qid="ex07.q3",
            function="swish_values",
            points=3,
            title={"en": "A learnable beta: the gradient of a scalar parameter",
                   "bn": "শেখা যায় এমন beta: একটি স্কেলার প্যারামিটারের গ্রেডিয়েন্ট"},
            cases=_swish_cases,
            reference=_swish_reference,
            tol=1e-8,
        ),
        Question(
            qid="ex07.q4",
            function="passes_gradcheck",
            points=1,
            title={"en": "gradcheck on all three Functions", "bn": "তিনটি Function-এরই gradcheck"},
            cases=_gradcheck_cases,
            reference=_gradcheck_reference,
            tol=1e-12,
        ),
    ),
)
