"""ex09, practical training tricks (chapter 9): inverted dropout forward and backward with a given
mask, input standardisation fitted on a training set (chapter 9's convention: epsilon added to the
standard deviation), and the backward pass of a per-row standardisation (layer normalisation
without scale and shift, epsilon inside the square root). NumPy only.

Batches are in rows, as in chapter 9's code: X has one example per row.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, Exercise, Question
from .oracles import tensor

# ---- q1, q2: inverted dropout with a given mask ---------------------------------------------

def _dropout_graph(x, mask, p, training):
    """y and the leaf x, built with torch operations: x * m / (1 - p) in training, x itself at evaluation."""
    t = tensor(x, requires_grad=True)
    y = t * tensor(mask) / (1.0 - p) if training else F.dropout(t, p, training=False)
    return t, y


def _dropout_forward_reference(x, mask, p, training):
    return _dropout_graph(x, mask, p, training)[1].detach().numpy()


def _dropout_backward_reference(g, mask, p, training):
    # dL/dx by autograd for L = sum(g * y), at any x of the same shape (the layer is linear in x)
    t, y = _dropout_graph(np.ones_like(g), mask, p, training)
    y.backward(tensor(g))
    return t.grad.numpy()


def _mask(rng, shape, p):
    return (rng.uniform(size=shape) >= p).astype(np.float64)  # 1 (kept) with probability 1 - p


def _dropout_cases(rng):
    def case(label, shape, p, training=True, mask=None):
        m = _mask(rng, shape, p) if mask is None else mask
        return Case(label, (rng.normal(size=shape), m, float(p), training))

    mask_09 = _mask(rng, 20, 0.9)
    mask_09[rng.integers(20)] = 1.0  # at least one unit survives
    return [
        case("random", 10, 0.3),
        case("2-D input", (4, 6), 0.5),
        case("no dropout (p = 0)", (3, 5), 0.0),
        case("p = 0.9", 20, 0.9, mask=mask_09),
        case("all units dropped", (2, 4), 0.5, mask=np.zeros((2, 4))),
        case("evaluation mode", 8, 0.5, training=False),
        case("evaluation mode, 2-D input", (3, 4), 0.3, training=False),
    ]


# ---- q3: standardisation fitted on a training set -------------------------------------------

def _standardize_reference(X_train, X_other, eps):
    A, B = tensor(X_train), tensor(X_other)
    s = torch.sqrt(A.var(dim=0, unbiased=False))  # the population standard deviation (divide by N)
    return ((B - A.mean(dim=0)) / (s + eps)).numpy()


def _standardize_cases(rng):
    def data(N, n, offset=0.0):
        means, scales = rng.normal(scale=3.0, size=n), rng.uniform(0.5, 3.0, size=n)
        return offset + means + scales * rng.normal(size=(N, n)), offset + means + scales * rng.normal(size=(6, n))

    X, X_other = data(30, 3)
    constant = X.copy()
    c = float(rng.integers(-5, 5)) + 0.5  # exactly representable, so its mean is exact
    constant[:, 1] = c
    other_c = X_other.copy()
    other_c[:, 1] = c + np.array([0.0, 0.5, -0.25, 0.0, 1.0, -2.0])  # unseen values of a constant feature
    X_big, X_big_other = data(40, 3, offset=1e6)
    X1, X1_other = data(25, 4)
    X2, X2_other = data(20, 2)
    return [
        Case("random", (X, X_other, 1e-8)),
        Case("the training set itself", (X1, X1.copy(), 1e-8)),
        Case("a constant feature", (constant, other_c, 1e-3)),
        Case("batch size 1", (X1, X1_other[:1], 1e-8)),
        Case("large offsets", (X_big, X_big_other, 1e-8)),
        Case("large epsilon", (X2, X2_other, 0.5)),
    ]


# ---- q4: the backward pass of a per-row standardisation (layer normalisation) ----------------

def _layernorm_backward_reference(X, G, eps):
    t = tensor(X, requires_grad=True)
    F.layer_norm(t, (X.shape[1],), eps=eps).backward(tensor(G))  # no scale, no shift
    return t.grad.numpy()


def _layernorm_cases(rng):
    def case(label, B, n, eps, X=None):
        X = rng.normal(size=(B, n)) if X is None else X
        return Case(label, (X, rng.normal(size=(B, n)), eps))

    with_constant_row = rng.normal(size=(3, 5))
    with_constant_row[1] = float(rng.integers(-3, 3)) + 0.5
    offsets = 100 * rng.normal(size=(3, 1)) + rng.normal(size=(3, 5))
    return [
        case("random", 4, 6, 1e-5),
        case("batch size 1", 1, 5, 1e-5),
        case("two features", 3, 2, 1e-2),  # eps not tiny: with two features the gradient is O(eps)
        case("a constant row", 3, 5, 1e-5, X=with_constant_row),
        case("large offsets", 3, 5, 1e-5, X=offsets),
        case("large epsilon", 3, 4, 1.0),
    ]


EXERCISE = Exercise(
    name="ex09",
    notebook="ex09_training_tricks.ipynb",
    questions=(
        Question(
            qid="ex09.q1",
            function="dropout_forward",
            points=2,
            title={"en": "Inverted dropout: the forward pass with a given mask", "bn": "উল্টানো ড্রপআউট: দেওয়া মাস্কসহ ফরওয়ার্ড পাস"},
            cases=_dropout_cases,
            reference=_dropout_forward_reference,
            tol=1e-12,
            no_torch=True,
        ),
        Question(
            qid="ex09.q2",
            function="dropout_backward",
            points=2,
            title={"en": "Inverted dropout: the backward pass", "bn": "উল্টানো ড্রপআউট: ব্যাকওয়ার্ড পাস"},
            cases=_dropout_cases,
            reference=_dropout_backward_reference,
            tol=1e-12,
            no_torch=True,
        ),
        Question(
            qid="ex09.q3",
            function="standardize",
            points=3,
            title={"en": "Standardising inputs with the training set's statistics",
                   "bn": "প্রশিক্ষণ সেটের পরিসংখ্যান দিয়ে ইনপুট স্ট্যান্ডার্ডাইজ করা"},
            cases=_standardize_cases,
            reference=_standardize_reference,
            tol=1e-7,  # features near 1e6: the mean alone carries rounding of about 1e-10
            no_torch=True,
        ),
        Question(
            qid="ex09.q4",
            function="layernorm_backward",
            points=3,
            title={"en": "Backward pass of a per-row standardisation (layer normalisation)",
                   "bn": "প্রতিটি সারির স্ট্যান্ডার্ডাইজেশনের ব্যাকওয়ার্ড পাস (লেয়ার নর্মালাইজেশন)"},
            cases=_layernorm_cases,
            reference=_layernorm_backward_reference,
            tol=1e-8,
            no_torch=True,
        ),
    ),
)
