"""ex04, softmax and cross-entropy (chapter 4): a stable log-softmax, the gradient p - y for one
example, and the mean loss and its gradient (P - Y) / B for a minibatch. NumPy only.

Batches follow chapter 4's code convention: one example per ROW, logits Z of shape (B, K), the
softmax taken along each row (dim=1), targets Y of shape (B, K) whose rows are probability vectors.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, Exercise, Question

LARGE = np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1000.0, -999.0], [0.5, 1000.0, 999.0]])


def _one_hot_rows(rng, B, K):
    Y = np.zeros((B, K))
    Y[np.arange(B), rng.integers(0, K, size=B)] = 1.0
    return Y


def _soft_rows(rng, B, K):
    e = np.exp(rng.normal(size=(B, K)))
    return e / e.sum(axis=1, keepdims=True)


# ---- q1: log-softmax of each row -------------------------------------------------------------

def _spread(rng, B, K):
    """Logits that differ by up to 2000 within a row: some probabilities underflow to 0."""
    return rng.uniform(-1000.0, 1000.0, size=(B, K))


def _log_softmax_cases(rng):
    return [
        Case("random", (3 * rng.normal(size=(4, 5)),)),
        Case("batch size 1", (rng.normal(size=(1, 6)),)),
        Case("all tied", (np.repeat(rng.normal(size=(3, 1)) * 10, 4, axis=1),)),
        Case("one class", (rng.normal(size=(4, 1)),)),
        Case("large logits", (LARGE + rng.normal(size=(3, 3)) * [[0, 1, 0], [0, 0, 1], [1, 0, 0]],)),
        Case("large logits, batch of 5", (_spread(rng, 5, 4),)),
        Case("large positive logits", (750.0 + rng.normal(size=(3, 4)),)),   # exp overflows
        Case("large negative logits", (-800.0 + rng.normal(size=(3, 4)),)),  # exp underflows
    ]


def _log_softmax_reference(Z):
    return torch.log_softmax(torch.tensor(Z), dim=1).numpy()


# ---- q2: one example, dL/dz = p - y ----------------------------------------------------------

def _single_cases(rng):
    K = 5
    return [
        Case("random", (2 * rng.normal(size=K), _one_hot_rows(rng, 1, K)[0])),
        Case("soft targets", (2 * rng.normal(size=K), _soft_rows(rng, 1, K)[0])),
        Case("large logits", (np.array([1000.0, 0.0, -1000.0]) + rng.normal(size=3), np.array([0.0, 0.0, 1.0]))),
        Case("two classes", (rng.normal(size=2), _one_hot_rows(rng, 1, 2)[0])),
        Case("all tied", (np.full(4, float(rng.normal())), _one_hot_rows(rng, 1, 4)[0])),
        Case("large positive logits", (750.0 + rng.normal(size=K), _one_hot_rows(rng, 1, K)[0])),
        Case("large negative logits", (-800.0 + rng.normal(size=K), _soft_rows(rng, 1, K)[0])),
    ]


def _single_reference(z, y):
    t = torch.tensor(z, requires_grad=True)
    (-(torch.tensor(y) * torch.log_softmax(t, dim=0)).sum()).backward()
    return t.grad.numpy()


# ---- q3, q4: a minibatch, mean loss and its gradient -----------------------------------------

def _batch_cases(rng):
    large_Y = np.zeros((3, 3))
    large_Y[[0, 1, 2], [2, 0, 0]] = 1.0  # rows 0 and 2: the right class is about 1000 below the top logit
    return [
        Case("batch of 6", (2 * rng.normal(size=(6, 4)), _one_hot_rows(rng, 6, 4))),
        Case("batch size 1", (2 * rng.normal(size=(1, 3)), _one_hot_rows(rng, 1, 3))),
        Case("large logits", (LARGE + rng.normal(size=(3, 3)), large_Y)),
        Case("soft targets", (2 * rng.normal(size=(5, 4)), _soft_rows(rng, 5, 4))),
        Case("large logits, batch of 5", (_spread(rng, 5, 4), _one_hot_rows(rng, 5, 4))),
        Case("large positive logits", (750.0 + rng.normal(size=(3, 4)), _one_hot_rows(rng, 3, 4))),
        Case("large negative logits", (-800.0 + rng.normal(size=(3, 4)), _soft_rows(rng, 3, 4))),
    ]


def _batch_loss(Z, Y):
    """PyTorch's mean cross-entropy over the rows, with probability targets, and the logits as a leaf."""
    t = torch.tensor(Z, requires_grad=True)
    return F.cross_entropy(t, torch.tensor(Y)), t


def _batch_loss_reference(Z, Y):
    return _batch_loss(Z, Y)[0].item()


def _batch_grad_reference(Z, Y):
    loss, t = _batch_loss(Z, Y)
    loss.backward()
    return t.grad.numpy()


EXERCISE = Exercise(
    name="ex04",
    notebook="ex04_softmax_cross_entropy.ipynb",
    questions=(
        Question(
            qid="ex04.q1",
            function="log_softmax",
            points=3,
            title={"en": "A stable log-softmax of each row", "bn": "প্রতিটি সারির স্থিতিশীল লগ-সফটম্যাক্স"},
            cases=_log_softmax_cases,
            reference=_log_softmax_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex04.q2",
            function="softmax_ce_grad",
            points=2,
            title={"en": "Softmax + cross-entropy for one example: dL/dz", "bn": "একটি উদাহরণের সফটম্যাক্স + ক্রস-এনট্রপি: dL/dz"},
            cases=_single_cases,
            reference=_single_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex04.q3",
            function="cross_entropy",
            points=2,
            title={"en": "The mean cross-entropy of a minibatch, from the logits", "bn": "লজিট থেকে একটি মিনি-ব্যাচের গড় ক্রস-এনট্রপি"},
            cases=_batch_cases,
            reference=_batch_loss_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex04.q4",
            function="cross_entropy_grad",
            points=3,
            title={"en": "The gradient of the mean cross-entropy: (P - Y) / B", "bn": "গড় ক্রস-এনট্রপির গ্রেডিয়েন্ট: (P - Y) / B"},
            cases=_batch_cases,
            reference=_batch_grad_reference,
            tol=1e-10,
            no_torch=True,
        ),
    ),
)
