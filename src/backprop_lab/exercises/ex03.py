"""ex03, the delta recurrence (chapter 3): the backward pass of a D-layer network in the column
convention, for tanh with the squared error and for sigmoid with the binary cross-entropy, and a
gradient check (relative error, central differences). NumPy only.

A network's parameters are a sequence of D pairs (W, b), W^(l) of shape (n_l, n_{l-1}) and b^(l)
a column of shape (n_l, 1), as in chapter 3; the answer is the same structure of gradients.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ..gradcheck import relative_error
from ..testfns import Fn
from .core import Case, Exercise, Question
from .oracles import autograd_gradient

# ---- q1, q2: the backward pass of a D-layer network -----------------------------------------

def _network(rng, sizes, scale=1.0):
    return [(scale * rng.normal(size=(n_out, n_in)) / np.sqrt(n_in), 0.1 * rng.normal(size=(n_out, 1)))
            for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _widths(rng, depth):
    return [int(n) for n in rng.integers(2, 7, size=depth + 1)]


def _torch_gradients(params, X, Y, kind):
    """Autograd's gradients of the mean loss over the B columns of X: ``kind`` is "tanh_mse"
    (tanh hidden layers, identity output, squared error) or "sigmoid_bce" (sigmoid in every
    layer, binary cross-entropy)."""
    tparams = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in params]
    A, B = torch.tensor(X), X.shape[1]
    for l, (W, b) in enumerate(tparams, start=1):
        Z = W @ A + b
        if l < len(tparams):
            A = torch.tanh(Z) if kind == "tanh_mse" else torch.sigmoid(Z)
    if kind == "tanh_mse":
        loss = 0.5 * torch.sum((Z - torch.tensor(Y)) ** 2) / B
    else:  # sigmoid output + binary cross-entropy, in the stable form from the logits
        loss = F.binary_cross_entropy_with_logits(Z, torch.tensor(Y), reduction="sum") / B
    loss.backward()
    return tuple((W.grad.numpy(), b.grad.numpy()) for W, b in tparams)


def _tanh_cases(rng):
    def case(label, sizes, B, scale=1.0):
        return Case(label, (_network(rng, sizes, scale), rng.normal(size=(sizes[0], B)), rng.normal(size=(sizes[-1], B))))

    return [
        case("depth 1 (no hidden layer)", _widths(rng, 1), 4),
        case("depth 2", [4, 6, 2], 5),
        case("depth 3", _widths(rng, 3), 3),
        case("depth 5", _widths(rng, 5), 6),
        case("batch size 1", _widths(rng, 2), 1),
        case("saturated tanh", _widths(rng, 3), 4, scale=3.0),
    ]


def _sigmoid_cases(rng):
    def case(label, sizes, B, soft=False):
        Y = rng.uniform(size=(sizes[-1], B)) if soft else rng.integers(0, 2, size=(sizes[-1], B)).astype(np.float64)
        return Case(label, (_network(rng, sizes, 2.0), rng.normal(size=(sizes[0], B)), Y))

    return [
        case("depth 1 (no hidden layer)", _widths(rng, 1), 5),
        case("depth 2", [3, 5, 2], 4),
        case("depth 4", _widths(rng, 4), 3),
        case("batch size 1", _widths(rng, 2), 1),
        case("soft targets", _widths(rng, 2), 6, soft=True),
    ]


# ---- q3: relative error ---------------------------------------------------------------------

def _relative_error_cases(rng):
    a = rng.normal(size=(3, 4))
    tiny = 1e-8 * rng.normal(size=5)
    return [
        Case("random", (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))),
        Case("nearly equal", (a, a + 1e-9 * rng.normal(size=(3, 4)))),
        Case("tiny values", (tiny, tiny * (1 + 0.01 * rng.normal(size=5)))),
        Case("equal arrays", (a, a.copy())),
        Case("one of them zero", (np.zeros(4), rng.normal(size=4))),
        Case("both zero", (np.zeros((2, 3)), np.zeros((2, 3)))),
    ]


# ---- q4: numerical gradient by central differences -------------------------------------------

def _numerical_gradient_cases(rng):
    n = 4
    quadratic = Fn("quadratic", {"A": rng.normal(size=(n, n)), "c": rng.normal(size=n)})
    return [
        Case("random", (Fn("sin_square_sum"), rng.normal(size=5), 1e-5)),
        Case("2-D input", (Fn("tanh_layer", {"v": rng.normal(size=4)}), rng.normal(size=(3, 4)), 1e-5)),
        Case("2-D input", (Fn("sin_square_sum"), rng.normal(size=(2, 3)), 1e-4)),
        Case("quadratic function", (quadratic, rng.normal(size=n), 1e-3)),
        # away from 0, where this gradient vanishes and any relative error is large
        Case("one entry", (Fn("sin_square_sum"), rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5, size=1), 1e-4)),
    ]


EXERCISE = Exercise(
    name="ex03",
    notebook="ex03_delta_recurrence.ipynb",
    questions=(
        Question(
            qid="ex03.q1",
            function="mlp_backward",
            points=3,
            title={"en": "Backward pass of a tanh network with the squared error",
                   "bn": "বর্গ-ত্রুটিসহ একটি tanh নেটওয়ার্কের ব্যাকওয়ার্ড পাস"},
            cases=_tanh_cases,
            reference=lambda params, X, Y: _torch_gradients(params, X, Y, "tanh_mse"),
            tol=1e-8,
            no_torch=True,
        ),
        Question(
            qid="ex03.q2",
            function="mlp_backward_bce",
            points=3,
            title={"en": "Backward pass of a sigmoid network with the binary cross-entropy",
                   "bn": "বাইনারি ক্রস-এনট্রপিসহ একটি সিগময়েড নেটওয়ার্কের ব্যাকওয়ার্ড পাস"},
            cases=_sigmoid_cases,
            reference=lambda params, X, Y: _torch_gradients(params, X, Y, "sigmoid_bce"),
            tol=1e-8,
            no_torch=True,
        ),
        Question(
            qid="ex03.q3",
            function="relative_error",
            points=1,
            title={"en": "The relative error of a gradient check", "bn": "গ্রেডিয়েন্ট যাচাইয়ের আপেক্ষিক ত্রুটি"},
            cases=_relative_error_cases,
            reference=relative_error,
            tol=1e-9,
            no_torch=True,
            no_helpers=True,
        ),
        Question(
            qid="ex03.q4",
            function="numerical_gradient",
            points=3,
            title={"en": "A numerical gradient by central differences", "bn": "কেন্দ্রীয় পার্থক্য দিয়ে সাংখ্যিক গ্রেডিয়েন্ট"},
            cases=_numerical_gradient_cases,
            reference=lambda f, x, eps: autograd_gradient(f, x),
            tol=1e-6,
            no_torch=True,
            no_helpers=True,
        ),
    ),
)
