"""ex10, batch normalisation (chapter 10): the training-mode forward pass, the backward pass in the
compact form, one training step's update of the running statistics followed by the evaluation-mode
output, and the backward pass of layer normalisation. NumPy only.

Chapter 10's convention: a batch X of shape (m, n) holds one example per row, so batch norm takes the
statistics of each feature down its column (biased variance, dividing by m) and layer norm those of
each example along its row; gamma and beta have shape (n,).

References: torch.autograd in float64 through the normalisation written with torch operations
(checked against F.batch_norm where PyTorch defines it), torch.nn.BatchNorm1d itself for the
running statistics, and F.layer_norm.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, Exercise, Question
from .oracles import tensor


def _batch_norm(X, gamma, beta, eps):
    """Training-mode batch norm with torch operations: defined for a batch of one too, where
    F.batch_norm refuses (its variance is 0 and every output is beta)."""
    mu = X.mean(dim=0)
    var = ((X - mu) ** 2).mean(dim=0)
    Y = gamma * (X - mu) / torch.sqrt(var + eps) + beta
    if X.shape[0] > 1:  # the reference must be PyTorch's own batch norm wherever that exists
        same = F.batch_norm(X, None, None, gamma, beta, training=True, eps=eps)
        # (1e-10: with offsets of 1e5, any float64 method is only good to about 1e-11)
        assert float((Y - same).detach().abs().max()) <= 1e-10 * max(1.0, float(same.detach().abs().max()))
    return Y, mu, var


def _features(rng, m, n, loc=1.0, scale=2.0):
    return rng.normal(loc=loc, scale=scale, size=(m, n))


# ---- q1: the training-mode forward pass -------------------------------------------------------

def _forward_cases(rng):
    def case(label, m, n, eps=1e-5, X=None, gamma=None):
        X = _features(rng, m, n) if X is None else X
        gamma = rng.normal(size=n) if gamma is None else gamma
        return Case(label, (X, gamma, rng.normal(size=n), eps))

    constant = _features(rng, 6, 3)
    constant[:, 1] = 2.5  # variance 0: only eps keeps the division finite
    return [
        case("random", 8, 4),
        case("non-square", 3, 10),
        case("batch size 1", 1, 4),  # the variance is 0 and every output is beta
        case("batch of two", 2, 5),  # x_hat is +1 or -1 (almost, with eps)
        case("a constant feature", 6, 3, X=constant),
        # 1e5 plus unit noise: the one-pass variance E[x^2] - E[x]^2 loses about 10 digits here
        case("large offsets", 16, 3, X=1e5 + rng.normal(size=(16, 3))),
        case("large epsilon", 8, 4, eps=1.0),
        case("gamma with zeros and negatives", 8, 4, gamma=np.array([0.0, -1.5, 2.0, 0.0])),
    ]


def _forward_reference(X, gamma, beta, eps):
    Y, mu, var = _batch_norm(tensor(X), tensor(gamma), tensor(beta), eps)
    return Y.numpy(), mu.numpy(), var.numpy()


# ---- q2: the backward pass, compact form -------------------------------------------------------

def _backward_cases(rng):
    return [Case(c.label, (rng.normal(size=c.args[0].shape), c.args[0], c.args[1], c.args[3]))
            for c in _forward_cases(rng)]


def _backward_reference(G, X, gamma, eps):
    Xt, gt, bt = tensor(X, requires_grad=True), tensor(gamma, requires_grad=True), tensor(np.zeros_like(gamma), requires_grad=True)
    Y, _, _ = _batch_norm(Xt, gt, bt, eps)
    Y.backward(tensor(G))
    return Xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


# ---- q3: a training step's running statistics, then the evaluation-mode output -----------------

def _step_cases(rng):
    def case(label, m, n, momentum=0.1, X=None, m_eval=5):
        X = _features(rng, m, n) if X is None else X
        return Case(label, (X, _features(rng, m_eval, n), rng.normal(size=n), rng.normal(size=n),
                            rng.normal(size=n), rng.uniform(0.5, 2.0, size=n), momentum, 1e-5))

    constant = _features(rng, 6, 3)
    constant[:, 0] = -1.0
    # A batch of one has no unbiased variance (PyTorch refuses to train on it), so no case has one.
    return [
        case("random", 8, 3),
        case("batch of two", 2, 4),  # the unbiased variance divides by m - 1 = 1
        case("momentum 1 (the batch's statistics)", 8, 3, momentum=1.0),
        case("momentum 0 (nothing changes)", 8, 3, momentum=0.0),
        case("a constant feature", 6, 3, X=constant),
        case("one example in evaluation mode", 8, 3, m_eval=1),  # evaluation needs no batch
        case("large offsets", 16, 2, X=1e5 + rng.normal(size=(16, 2))),
    ]


def _step_reference(X, X_eval, gamma, beta, running_mean, running_var, momentum, eps):
    layer = torch.nn.BatchNorm1d(X.shape[1], eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(tensor(gamma))
        layer.bias.copy_(tensor(beta))
        layer.running_mean.copy_(tensor(running_mean))
        layer.running_var.copy_(tensor(running_var))
        layer.train()
        layer(tensor(X))
        layer.eval()
        Y_eval = layer(tensor(X_eval))
    return layer.running_mean.numpy().copy(), layer.running_var.numpy().copy(), Y_eval.numpy()


# ---- q4: layer normalisation's backward pass ----------------------------------------------------

def _layer_cases(rng):
    def case(label, m, n, X=None, gamma=None, eps=1e-5):
        X = _features(rng, m, n) if X is None else X
        gamma = rng.normal(size=n) if gamma is None else gamma
        return Case(label, (rng.normal(size=X.shape), X, gamma, eps))

    constant = _features(rng, 4, 6)
    constant[2] = 0.75  # one example whose features are all equal
    return [
        case("random", 5, 7),
        case("non-square", 7, 3),
        case("one example", 1, 6),  # layer norm needs no batch
        case("a constant row", 4, 6, X=constant),
        case("large offsets", 3, 16, X=1e5 + rng.normal(size=(3, 16))),
        case("gamma with zeros and negatives", 4, 4, gamma=np.array([0.0, -2.0, 1.0, 0.0])),
        case("large epsilon", 5, 7, eps=1.0),
    ]


def _layer_reference(G, X, gamma, eps):
    Xt, gt, bt = tensor(X, requires_grad=True), tensor(gamma, requires_grad=True), tensor(np.zeros_like(gamma), requires_grad=True)
    F.layer_norm(Xt, (X.shape[1],), gt, bt, eps=eps).backward(tensor(G))
    return Xt.grad.numpy(), gt.grad.numpy(), bt.grad.numpy()


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    "batch of two": "দুটি উদাহরণের ব্যাচ",
    "gamma with zeros and negatives": "শূন্য আর ঋণাত্মক মানসহ gamma",
    "momentum 1 (the batch's statistics)": "momentum 1 (ব্যাচের নিজের পরিসংখ্যান)",
    "momentum 0 (nothing changes)": "momentum 0 (কিছুই বদলায় না)",
    "one example in evaluation mode": "মূল্যায়ন মোডে একটিমাত্র উদাহরণ",
    "one example": "একটিমাত্র উদাহরণ",
}


EXERCISE = Exercise(
    name="ex10",
    notebook="ex10_batch_norm.ipynb",
    questions=(
        Question(
            qid="ex10.q1",
            function="batch_norm_forward",
            points=2,
            title={"en": "Batch normalisation in training mode", "bn": "প্রশিক্ষণ মোডে ব্যাচ নর্মালাইজেশন"},
            cases=_forward_cases,
            reference=_forward_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex10.q2",
            function="batch_norm_backward",
            points=3,
            title={"en": "The backward pass of batch normalisation, compact form",
                   "bn": "ব্যাচ নর্মালাইজেশনের ব্যাকওয়ার্ড পাস, সংক্ষিপ্ত রূপে"},
            cases=_backward_cases,
            reference=_backward_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex10.q3",
            function="batch_norm_step",
            points=2,
            title={"en": "Running statistics after a training step, then evaluation mode",
                   "bn": "একটি প্রশিক্ষণ-ধাপের পরে চলমান পরিসংখ্যান, তারপর মূল্যায়ন মোড"},
            cases=_step_cases,
            reference=_step_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex10.q4",
            function="layer_norm_backward",
            points=3,
            title={"en": "The backward pass of layer normalisation", "bn": "লেয়ার নর্মালাইজেশনের ব্যাকওয়ার্ড পাস"},
            cases=_layer_cases,
            reference=_layer_reference,
            tol=1e-9,
            no_torch=True,
        ),
    ),
)
