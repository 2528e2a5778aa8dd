"""ex12, backpropagation through time (chapter 12): a vanilla recurrent network's forward pass and
loss, its five gradients by BPTT, the truncated gradient of the recurrent matrix, and the norm of
dL/dh_t at every step. NumPy only.

Chapter 12's network and conventions: inputs xs of shape (T, n_x, B) (step t's input is an n_x x B
matrix, one example per column), h_0 = 0, h_t = tanh(W h_(t-1) + U x_t + b), outputs V h_t + c, and
L = 1/2 * sum over t of ||V h_t + c - y_t||^2 with targets ys of shape (T, n_y, B); b and c are
columns, of shapes (n_h, 1) and (n_y, 1).

References: torch.autograd in float64 on the same network written with torch operations; for the
truncated gradient, autograd with the state detached k steps back, as chapter 12 checks it.
"""

import numpy as np
import torch

from .core import Case, Exercise, Question
from .oracles import tensor


def _torch_forward(W, U, b, V, c, xs):
    hs = [torch.zeros(W.shape[0], xs.shape[2], dtype=torch.float64)]
    for x in xs:
        hs.append(torch.tanh(W @ hs[-1] + U @ x + b))
    return hs, [V @ h + c for h in hs[1:]]


def _loss(outs, ys):
    return 0.5 * sum(((out - y) ** 2).sum() for out, y in zip(outs, ys))


def _cases(rng, with_k=False):
    def case(label, T, n_x, n_h, n_y, B, scale=1.0, zero_input=False, k=3):
        params = (scale * rng.normal(size=(n_h, n_h)) / np.sqrt(n_h), rng.normal(size=(n_h, n_x)) / np.sqrt(n_x),
                  0.1 * rng.normal(size=(n_h, 1)), rng.normal(size=(n_y, n_h)) / np.sqrt(n_h), 0.1 * rng.normal(size=(n_y, 1)))
        xs = np.zeros((T, n_x, B)) if zero_input else rng.normal(size=(T, n_x, B))
        ys = rng.normal(size=(T, n_y, B))
        return Case(label, (*params, xs, ys, k) if with_k else (*params, xs, ys))

    cases = [
        case("random", 8, 3, 5, 2, 1),
        case("a batch of sequences", 6, 4, 6, 3, 4),
        case("one step (T = 1)", 1, 3, 4, 2, 2),  # no recurrence at all: nothing flows through W
        case("zero input", 7, 3, 5, 2, 1, zero_input=True),  # only b drives the state
        case("saturated units (large weights)", 10, 3, 6, 2, 2, scale=5.0),
        case("a long sequence", 30, 2, 4, 1, 1),
    ]
    if with_k:
        cases += [
            case("window 1 (each error stays in its step)", 8, 3, 5, 2, 2, k=1),
            case("window as long as the sequence (no truncation)", 6, 3, 5, 2, 1, k=6),
            case("window longer than the sequence", 5, 3, 4, 2, 1, k=9),
        ]
    return cases


# ---- q1: the forward pass and the loss ------------------------------------------------------------

def _forward_cases(rng):
    return [Case(c.label, c.args[:6]) for c in _cases(rng)]


def _forward_reference(W, U, b, V, c, xs):
    hs, _ = _torch_forward(*(tensor(a) for a in (W, U, b, V, c, xs)))
    return torch.stack(hs[1:]).numpy()


# ---- q2: the five gradients by BPTT ---------------------------------------------------------------

def _bptt_reference(W, U, b, V, c, xs, ys):
    leaves = [tensor(a, requires_grad=True) for a in (W, U, b, V, c)]
    _, outs = _torch_forward(*leaves, tensor(xs))
    _loss(outs, tensor(ys)).backward()
    return tuple(leaf.grad.numpy() for leaf in leaves)


# ---- q3: the truncated gradient of W ----------------------------------------------------------------

def _truncated_reference(W, U, b, V, c, xs, ys, k):
    """Each L_t may look back k steps only: its graph starts at h_(t-k), a constant to autograd."""
    k = int(k)
    Wt = tensor(W, requires_grad=True)
    U, b, V, c, xs, ys = (tensor(a) for a in (U, b, V, c, xs, ys))
    with torch.no_grad():
        hs, _ = _torch_forward(Wt, U, b, V, c, xs)
    loss = 0.0
    for t in range(1, len(xs) + 1):
        start = max(t - k, 0)
        h = hs[start]
        for s in range(start + 1, t + 1):
            h = torch.tanh(Wt @ h + U @ xs[s - 1] + b)
        loss = loss + 0.5 * ((V @ h + c - ys[t - 1]) ** 2).sum()
    loss.backward()
    return Wt.grad.numpy()


# ---- q4: the norm of dL/dh_t at every step ----------------------------------------------------------

def _norms_reference(W, U, b, V, c, xs, ys):
    """||dL/dh_t|| for t = 1..T (all that the loss sends back to h_t), each judged on its own scale."""
    Wt = tensor(W, requires_grad=True)
    hs, outs = _torch_forward(Wt, *(tensor(a) for a in (U, b, V, c)), tensor(xs))
    for h in hs[1:]:
        h.retain_grad()
    _loss(outs, tensor(ys)).backward()
    return tuple(float(torch.linalg.norm(h.grad)) for h in hs[1:])


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    "a batch of sequences": "ক্রমের একটি ব্যাচ",
    "one step (T = 1)": "একটিমাত্র ধাপ (T = 1)",
    "zero input": "শূন্য ইনপুট",
    "saturated units (large weights)": "সম্পৃক্ত নিউরন (বড় ওজন)",
    "a long sequence": "একটি লম্বা ক্রম",
    "window 1 (each error stays in its step)": "জানালা 1 (প্রতিটি ত্রুটি নিজের ধাপেই থাকে)",
    "window as long as the sequence (no truncation)": "ক্রমের সমান লম্বা জানালা (কোনো ছাঁটাই নেই)",
    "window longer than the sequence": "ক্রমের চেয়ে লম্বা জানালা",
}


EXERCISE = Exercise(
    name="ex12",
    notebook="ex12_bptt.ipynb",
    questions=(
        Question(
            qid="ex12.q1",
            function="rnn_hidden_states",
            points=2,
            title={"en": "The hidden states of a vanilla RNN", "bn": "একটি সাধারণ RNN-এর লুকানো অবস্থা"},
            cases=_forward_cases,
            reference=_forward_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex12.q2",
            function="rnn_bptt",
            points=4,
            title={"en": "Backpropagation through time: the five gradients",
                   "bn": "সময়ের মধ্য দিয়ে ব্যাকপ্রোপাগেশন: পাঁচটি গ্রেডিয়েন্ট"},
            cases=_cases,
            reference=_bptt_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex12.q3",
            function="truncated_dW",
            points=2,
            title={"en": "The truncated gradient of the recurrent matrix", "bn": "রিকারেন্ট ম্যাট্রিক্সের ছাঁটা গ্রেডিয়েন্ট"},
            cases=lambda rng: _cases(rng, with_k=True),
            reference=_truncated_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex12.q4",
            function="hidden_gradient_norms",
            points=2,
            title={"en": "The norm of dL/dh_t at every step", "bn": "প্রতিটি ধাপে dL/dh_t-এর নর্ম"},
            cases=_cases,
            reference=_norms_reference,
            tol=1e-9,
            no_torch=True,
        ),
    ),
)
