"""ex14, forward mode and higher derivatives (chapter 14): a Jacobian-vector product and a
vector-Jacobian product of a small network, a Hessian-vector product of a smooth scalar function,
and per-example gradients, all with torch.func. PyTorch is allowed (and meant) here.

Chapter 14's network: y = W2 tanh(W1 x + b1) + b2 for one input vector x. The scalar function of
question 3 is f(x) = logsumexp(A x) + c/2 * ||x||^2, whose Hessian is
A^T (diag(p) - p p^T) A + c I with p = softmax(A x). Per-example gradients are those of the loss
(w2 . tanh(W1 x_k + b1) + b2 - y_k)^2 of every example k.

References: the explicit matrices (torch.autograd.functional.jacobian and .hessian) times the vector,
and a loop of ordinary backward passes, in float64. The grader can only see the numbers returned,
not how they were computed; the masters show the torch.func way.
"""

import numpy as np
import torch
from torch.autograd.functional import hessian, jacobian

from .core import Case, Exercise, Question
from .oracles import tensor


def _net(W1, b1, W2, b2):
    return lambda x: W2 @ torch.tanh(W1 @ x + b1) + b2


def _net_cases(rng, vector_of="input"):
    def case(label, n_in, n_hidden, n_out, zero_vector=False, scale=1.0):
        params = (scale * rng.normal(size=(n_hidden, n_in)), rng.normal(size=n_hidden),
                  rng.normal(size=(n_out, n_hidden)), rng.normal(size=n_out))
        size = n_in if vector_of == "input" else n_out
        vec = np.zeros(size) if zero_vector else rng.normal(size=size)
        return Case(label, (*params, rng.normal(size=n_in), vec))

    return [
        case("random", 3, 5, 2),
        case("more outputs than inputs", 2, 6, 7),
        case("one input", 1, 4, 3),
        case("one output", 6, 5, 1),
        case("the zero vector", 3, 4, 2, zero_vector=True),  # J 0 = 0 and 0^T J = 0, exactly
        case("saturated units (large weights)", 4, 5, 3, scale=8.0),
    ]


# ---- q1 and q2: JVP and VJP -----------------------------------------------------------------------

def _jvp_reference(W1, b1, W2, b2, x, v):
    J = jacobian(_net(*(tensor(a) for a in (W1, b1, W2, b2))), tensor(x))  # (n_out, n_in), explicitly
    return (J @ tensor(v)).numpy()


def _vjp_reference(W1, b1, W2, b2, x, u):
    J = jacobian(_net(*(tensor(a) for a in (W1, b1, W2, b2))), tensor(x))
    return (tensor(u) @ J).numpy()


# ---- q3: a Hessian-vector product ---------------------------------------------------------------------

def _hvp_cases(rng):
    def case(label, m, n, c=0.5, A=None, zero_v=False):
        A = rng.normal(size=(m, n)) if A is None else A
        return Case(label, (A, c, rng.normal(size=n), np.zeros(n) if zero_v else rng.normal(size=n)))

    return [
        case("random", 4, 6),
        case("one input", 5, 1),
        case("A = 0 (the Hessian is c I)", 3, 4, A=np.zeros((3, 4))),
        case("c = 0, one row of A (the Hessian is 0)", 1, 5, c=0.0),  # logsumexp of one number is linear
        case("the zero vector", 4, 3, zero_v=True),
        case("large scores (a saturated softmax)", 4, 5, A=10.0 * rng.normal(size=(4, 5))),
        # too big to want H: 300 x 300 = 90000 numbers for a product of 300
        case("300 inputs", 40, 300),
    ]


def _f(A, c):
    return lambda x: torch.logsumexp(A @ x, dim=0) + 0.5 * c * (x @ x)


def _hvp_reference(A, c, x, v):
    H = hessian(_f(tensor(A), float(c)), tensor(x))
    return (H @ tensor(v)).numpy()


# ---- q4: per-example gradients --------------------------------------------------------------------------

def _per_example_cases(rng):
    def case(label, B, d, h):
        return Case(label, (rng.normal(size=(h, d)), rng.normal(size=h), rng.normal(size=h), float(rng.normal()),
                            rng.normal(size=(B, d)), rng.normal(size=B)))

    return [
        case("random", 6, 3, 4),
        case("batch size 1", 1, 3, 5),
        case("one feature", 5, 1, 3),
        case("a wide hidden layer", 4, 2, 32),
    ]


def _per_example_reference(W1, b1, w2, b2, X, Y):
    grads = {name: [] for name in ("W1", "b1", "w2", "b2")}
    for x, y in zip(X, Y):  # one ordinary backward pass per example
        leaves = {name: tensor(a, requires_grad=True) for name, a in (("W1", W1), ("b1", b1), ("w2", w2), ("b2", b2))}
        y_hat = leaves["w2"] @ torch.tanh(leaves["W1"] @ tensor(x) + leaves["b1"]) + leaves["b2"]
        ((y_hat - float(y)) ** 2).backward()
        for name, leaf in leaves.items():
            grads[name].append(leaf.grad.numpy())
    return {name: np.stack(g) for name, g in grads.items()}


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    "more outputs than inputs": "ইনপুটের চেয়ে বেশি আউটপুট",
    "one input": "একটিমাত্র ইনপুট",
    "one output": "একটিমাত্র আউটপুট",
    "the zero vector": "শূন্য ভেক্টর",
    "A = 0 (the Hessian is c I)": "A = 0 (হেসিয়ান হলো c I)",
    "c = 0, one row of A (the Hessian is 0)": "c = 0, A-এর একটিমাত্র সারি (হেসিয়ান 0)",
    "large scores (a saturated softmax)": "বড় স্কোর (সম্পৃক্ত সফটম্যাক্স)",
    "300 inputs": "300টি ইনপুট",
    "one feature": "একটিমাত্র বৈশিষ্ট্য",
    "a wide hidden layer": "একটি চওড়া লুকানো স্তর",
}


EXERCISE = Exercise(
    name="ex14",
    notebook="ex14_hvp_jvp.ipynb",
    questions=(
        Question(
            qid="ex14.q1",
            function="net_jvp",
            points=2,
            title={"en": "A Jacobian-vector product with torch.func.jvp", "bn": "torch.func.jvp দিয়ে একটি জ্যাকোবিয়ান-ভেক্টর গুণফল"},
            cases=_net_cases,
            reference=_jvp_reference,
            tol=1e-10,
        ),
        Question(
            qid="ex14.q2",
            function="net_vjp",
            points=2,
            title={"en": "A vector-Jacobian product with torch.func.vjp", "bn": "torch.func.vjp দিয়ে একটি ভেক্টর-জ্যাকোবিয়ান গুণফল"},
            cases=lambda rng: _net_cases(rng, vector_of="output"),
            reference=_vjp_reference,
            tol=1e-10,
        ),
        Question(
            qid="ex14.q3",
            function="hvp",
            points=4,
            title={"en": "A Hessian-vector product without the Hessian", "bn": "হেসিয়ান ছাড়াই একটি হেসিয়ান-ভেক্টর গুণফল"},
            cases=_hvp_cases,
            reference=_hvp_reference,
            tol=1e-9,
        ),
        Question(
            qid="ex14.q4",
            function="per_example_gradients",
            points=2,
            title={"en": "Per-example gradients with vmap(grad(...))", "bn": "vmap(grad(...)) দিয়ে প্রতি-উদাহরণ গ্রেডিয়েন্ট"},
            cases=_per_example_cases,
            reference=_per_example_reference,
            tol=1e-10,
        ),
    ),
)
