"""ex02, Jacobian shapes and module rules: backward rules of Linear, ReLU, Max and fan-out,
and the shapes of Jacobians and gradients (chapter 2). NumPy only.

Sizes (n_in, n_out, B) are passed as floats, because every number crosses the sandbox
as a float; the public self-check passes the same floats, so it behaves like the grader.
"""

import numpy as np
import torch
from torch.autograd.functional import jacobian

from .core import Case, Exercise, Question
from .oracles import autograd

# ---- q1: linear layer, Y = W X + b (b a column, broadcast over the B columns of X) ----------

def _linear_case(rng, label, m, n, B, zero_x=False):
    X = np.zeros((n, B)) if zero_x else rng.normal(size=(n, B))
    return Case(label, (rng.normal(size=(m, n)), rng.normal(size=(m, 1)), X, rng.normal(size=(m, B))))


def _linear_cases(rng):
    return [
        _linear_case(rng, "non-square", 3, 5, 4),
        _linear_case(rng, "batch size 1", 4, 2, 1),
        _linear_case(rng, "square shapes", 4, 4, 4),
        _linear_case(rng, "one output", 1, 3, 5),
        _linear_case(rng, "zeros", 2, 3, 4, zero_x=True),
    ]


def _linear_reference(W, b, X, G):
    dW, db, dX = autograd(lambda W_, b_, X_: W_ @ X_ + b_, (W, b, X), G)
    return dW, db, dX


# ---- q2: ReLU, slope 0 at exactly 0 (torch.relu) ------------------------------------------

def _relu_cases(rng):
    X_mixed = rng.normal(size=(4, 5))
    X_mixed[rng.random(size=(4, 5)) < 0.4] = 0.0  # some inputs exactly on the kink
    return [
        Case("random", (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))),
        Case("some exact zeros", (X_mixed, rng.normal(size=(4, 5)))),
        Case("zeros", (np.zeros((3, 2)), rng.normal(size=(3, 2)))),
        Case("batch size 1", (rng.normal(size=(5, 1)), rng.normal(size=(5, 1)))),
    ]


# ---- q3: max over each column, ties split evenly (torch.amax) ------------------------------

def _colmax_cases(rng):
    X_ties = rng.normal(size=(4, 5))
    for col in (0, 2):
        X_ties[[1, 3], col] = X_ties[:, col].max() + 0.3   # two entries share the maximum
    X_ties[[0, 1, 2], 1] = X_ties[:, 1].max() + 0.5        # three entries share it
    return [
        Case("random", (rng.normal(size=(4, 6)), rng.normal(size=(1, 6)))),
        Case("some ties", (X_ties, rng.normal(size=(1, 5)))),
        Case("all tied", (np.full((3, 4), 0.5), rng.normal(size=(1, 4)))),
        Case("batch size 1", (rng.normal(size=(5, 1)), rng.normal(size=(1, 1)))),
        Case("one entry", (rng.normal(size=(1, 3)), rng.normal(size=(1, 3)))),
    ]


# ---- q4: fan-out, X used by two linear maps -----------------------------------------------

def _fanout_case(rng, label, m1, m2, n, B):
    return Case(label, (rng.normal(size=(m1, n)), rng.normal(size=(m2, n)), rng.normal(size=(n, B)),
                        rng.normal(size=(m1, B)), rng.normal(size=(m2, B))))


def _fanout_cases(rng):
    W, X, G = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=(3, 2))
    W1, W2, X1, G1 = rng.normal(size=(2, 4)), rng.normal(size=(3, 4)), rng.normal(size=(4, 3)), rng.normal(size=(2, 3))
    return [
        _fanout_case(rng, "non-square", 3, 2, 4, 5),
        _fanout_case(rng, "batch size 1", 2, 5, 3, 1),
        Case("the same map twice", (W, W.copy(), X, G, G.copy())),
        Case("no gradient from the second map", (W1, W2, X1, G1, np.zeros((3, 3)))),
    ]


def _fanout_reference(W1, W2, X, G1, G2):
    W1_, W2_ = torch.tensor(W1), torch.tensor(W2)
    (dX,) = autograd(lambda X_: (W1_ @ X_, W2_ @ X_), (X,), (G1, G2))
    return dX


# ---- q5: predicting shapes ------------------------------------------------------------------

def _shape_cases(rng):
    def sizes():
        return tuple(float(s) for s in rng.choice(np.arange(2, 8), size=3, replace=False))

    return [
        Case("random", sizes()),
        Case("random", sizes()),
        Case("batch size 1", (float(rng.integers(2, 6)), float(rng.integers(2, 6)), 1.0)),
        Case("one input", (1.0, float(rng.integers(2, 6)), float(rng.integers(2, 6)))),
        Case("one output", (float(rng.integers(2, 6)), 1.0, float(rng.integers(2, 6)))),
    ]


def _shape_reference(n_in, n_out, B):
    """The shapes, read off torch.autograd on an instance of exactly these sizes."""
    n_in, n_out, B = int(n_in), int(n_out), int(B)
    W = torch.randn(n_out, n_in, dtype=torch.float64, requires_grad=True)
    b = torch.randn(n_out, 1, dtype=torch.float64, requires_grad=True)
    X = torch.randn(n_in, B, dtype=torch.float64, requires_grad=True)
    dY_dX = jacobian(lambda X_: W.detach() @ X_ + b.detach(), X.detach())
    dY_dW = jacobian(lambda W_: W_ @ X.detach() + b.detach(), W.detach())
    torch.sum(torch.tanh(W @ X + b)).backward()  # any scalar loss L of Y
    return tuple(tuple(int(s) for s in t.shape) for t in (dY_dX, dY_dW, X.grad, W.grad, b.grad))


EXERCISE = Exercise(
    name="ex02",
    notebook="ex02_jacobians.ipynb",
    questions=(
        Question(
            qid="ex02.q1",
            function="linear_backward",
            points=3,
            title={"en": "Backward of a linear layer, batch in columns", "bn": "রৈখিক স্তরের ব্যাকওয়ার্ড, কলামে সাজানো ব্যাচ"},
            cases=_linear_cases,
            reference=_linear_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex02.q2",
            function="relu_backward",
            points=1,
            title={"en": "Backward of ReLU, with ReLU'(0) = 0", "bn": "ReLU-র ব্যাকওয়ার্ড, ReLU'(0) = 0 ধরে"},
            cases=_relu_cases,
            reference=lambda X, G: autograd(torch.relu, (X,), G)[0],
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex02.q3",
            function="colmax_backward",
            points=2,
            title={"en": "Backward of the max of each column, ties included", "bn": "প্রতিটি কলামের ম্যাক্সের ব্যাকওয়ার্ড, সমান মানসহ"},
            cases=_colmax_cases,
            reference=lambda X, G: autograd(lambda X_: X_.amax(dim=0, keepdim=True), (X,), G)[0],
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex02.q4",
            function="fanout_backward",
            points=2,
            title={"en": "Fan-out: one input, two linear maps", "bn": "ফ্যান-আউট: একটি ইনপুট, দুটি রৈখিক ম্যাপ"},
            cases=_fanout_cases,
            reference=_fanout_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex02.q5",
            function="jacobian_shapes",
            points=2,
            title={"en": "Predicting the shapes of Jacobians and gradients", "bn": "জ্যাকোবিয়ান আর গ্রেডিয়েন্টের আকৃতি আগে থেকে বলা"},
            cases=_shape_cases,
            reference=_shape_reference,
            tol=1e-12,
            no_torch=True,
        ),
    ),
)
