"""ex08, the course assignment: a 4-5-3-2 MLP (ReLU, tanh, softmax + cross-entropy) in NumPy only."""

import numpy as np
import torch

from .core import Case, Exercise, Question

SIZES = (4, 5, 3, 2)
NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def _params(rng, scale=1.0, zero_bias=False):
    params = {}
    for i, (n_in, n_out) in enumerate(zip(SIZES[:-1], SIZES[1:]), 1):
        params[f"W{i}"] = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        params[f"b{i}"] = np.zeros(n_out) if zero_bias else 0.1 * rng.normal(size=n_out)
    params["W3"] = params["W3"] * scale
    return params


def _one_hot(k, n=2):
    y = np.zeros(n)
    y[k] = 1.0
    return y


def _confidently_wrong(X, params):
    """One-hot targets (2 x B) naming, for each column of X, the class with the SMALLER
    logit. With logits in the hundreds the gradient is then of order 1, so the case
    tests a stable softmax rather than how two codes round a gradient of 1e-100."""
    a1 = np.maximum(params["W1"] @ X + params["b1"][:, None], 0.0)
    a2 = np.tanh(params["W2"] @ a1 + params["b2"][:, None])
    z3 = params["W3"] @ a2 + params["b3"][:, None]
    return np.stack([_one_hot(int(k)) for k in np.argmin(z3, axis=0)], axis=1)


def _torch_loss(X, Y, params):
    """Mean cross-entropy of the network over the columns of X (4 x B), by PyTorch."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    A = torch.tensor(X)
    H1 = torch.relu(p["W1"] @ A + p["b1"][:, None])
    H2 = torch.tanh(p["W2"] @ H1 + p["b2"][:, None])
    Z3 = p["W3"] @ H2 + p["b3"][:, None]
    loss = -(torch.tensor(Y) * torch.log_softmax(Z3, dim=0)).sum(dim=0).mean()
    return loss, Z3, p


def _probabilities(x, params):
    _, z3, _ = _torch_loss(x.reshape(4, 1), np.zeros((2, 1)), params)
    return torch.softmax(z3[:, 0], dim=0).detach().numpy()


def _gradients(X, Y, params):
    loss, _, p = _torch_loss(X, Y, params)
    loss.backward()
    return {k: p[k].grad.numpy() for k in NAMES}


def _single_cases(rng):
    return [
        Case("random", (rng.normal(size=4), _one_hot(0), _params(rng))),
        Case("random", (rng.normal(size=4), _one_hot(1), _params(rng))),
        Case("zero input, zero biases (ReLU at 0)", (np.zeros(4), _one_hot(1), _params(rng, zero_bias=True))),
        _large_logits_case(rng),
    ]


def _large_logits_case(rng):
    x, params = rng.normal(size=4), _params(rng, scale=300.0)
    return Case("large logits", (x, _confidently_wrong(x.reshape(4, 1), params)[:, 0], params))


def _forward_cases(rng):
    return [Case(c.label, (c.args[0], c.args[2])) for c in _single_cases(rng)]


def _large_logits_batch(rng):
    X, params = rng.normal(size=(4, 5)), _params(rng, scale=300.0)
    return Case("large logits, batch of 5", (X, _confidently_wrong(X, params), params))


def _batch_cases(rng):
    def labels(b):
        return np.stack([_one_hot(int(k)) for k in rng.integers(0, 2, size=b)], axis=1)

    return [
        Case("batch of 8", (rng.normal(size=(4, 8)), labels(8), _params(rng))),
        Case("batch size 1", (rng.normal(size=(4, 1)), labels(1), _params(rng))),
        _large_logits_batch(rng),
    ]


EXERCISE = Exercise(
    name="ex08",
    notebook="ex08_mlp_from_scratch.ipynb",
    questions=(
        Question(
            qid="ex08.q1",
            function="forward",
            points=2,
            title={"en": "Forward pass: class probabilities", "bn": "ফরওয়ার্ড পাস: শ্রেণির সম্ভাবনা"},
            cases=_forward_cases,
            reference=_probabilities,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex08.q2",
            function="backward",
            points=5,
            title={"en": "Backward pass: every gradient for one example", "bn": "ব্যাকওয়ার্ড পাস: একটি উদাহরণের সব গ্রেডিয়েন্ট"},
            cases=_single_cases,
            reference=lambda x, y, params: _gradients(x.reshape(4, 1), y.reshape(2, 1), params),
            tol=1e-8,
            no_torch=True,
        ),
        Question(
            qid="ex08.q3",
            function="backward_batch",
            points=3,
            title={"en": "Backward pass for a minibatch (mean loss)", "bn": "মিনি-ব্যাচের ব্যাকওয়ার্ড পাস (গড় লস)"},
            cases=_batch_cases,
            reference=_gradients,
            tol=1e-8,
            no_torch=True,
        ),
    ),
)
