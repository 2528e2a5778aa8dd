"""ex13, attention (chapter 13): the backward pass of a row-wise softmax, scaled dot-product
attention's forward pass (with an optional causal mask), its backward pass, and its backward pass
with a mask. NumPy only.

Chapter 13's convention: tokens are rows, Q of shape (n, d), K of shape (m, d), V of shape (m, d_v),
S = Q K^T / sqrt(d), P = softmax of every row of S, O = P V; a mask of shape (n, m) holds 1 where a
query must not look at a key (0 elsewhere), and every query may look at one key at least.

References: torch.autograd in float64 through torch.softmax and F.scaled_dot_product_attention.
"""

import numpy as np
import torch
import torch.nn.functional as F

from .core import Case, Exercise, Question
from .oracles import autograd, tensor


def _sdpa(Q, K, V, mask=None, causal=False):
    allowed = None if mask is None else (mask == 0)  # PyTorch's boolean attn_mask: True where allowed
    return F.scaled_dot_product_attention(Q, K, V, attn_mask=allowed, is_causal=causal)


# ---- q1: the backward pass of a row-wise softmax ------------------------------------------------------

def _softmax_cases(rng):
    def case(label, n, m, shift=0.0, scale=1.0):
        return Case(label, (scale * rng.normal(size=(n, m)) + shift, rng.normal(size=(n, m))))

    return [
        case("random", 4, 6),
        case("one query", 1, 5),
        case("a single key", 3, 1),  # P = 1, so dS is exactly 0
        # softmax does not change when a row is shifted; exp(1000) overflows unless the row's maximum is removed
        case("scores shifted by 1000", 3, 4, shift=1000.0),
        case("peaked rows", 4, 5, scale=6.0),
    ]


def _softmax_reference(S, dP):
    return autograd(lambda s: torch.softmax(s, dim=-1), (S,), dP)[0]


# ---- q2: the forward pass ------------------------------------------------------------------------------

def _qkv(rng, n, m, d, d_v, scale=1.0):
    return scale * rng.normal(size=(n, d)), scale * rng.normal(size=(m, d)), rng.normal(size=(m, d_v))


def _forward_cases(rng):
    return [
        Case("random", (*_qkv(rng, 3, 5, 4, 2), False)),
        Case("causal", (*_qkv(rng, 5, 5, 3, 4), True)),
        Case("one query", (*_qkv(rng, 1, 6, 4, 3), False)),
        Case("a single key", (*_qkv(rng, 4, 1, 3, 2), False)),
        # scores in the hundreds: exp overflows unless each row's maximum is subtracted first
        Case("large scores", (*_qkv(rng, 3, 4, 4, 2, scale=20.0), False)),
        Case("causal, one token", (*_qkv(rng, 1, 1, 2, 3), True)),
    ]


def _forward_reference(Q, K, V, causal):
    return _sdpa(tensor(Q), tensor(K), tensor(V), causal=bool(causal)).numpy()


# ---- q3 and q4: the backward pass, without and with a mask ---------------------------------------------

def _backward_cases(rng):
    def case(label, n, m, d, d_v, scale=1.0):
        Q, K, V = _qkv(rng, n, m, d, d_v, scale)
        return Case(label, (Q, K, V, rng.normal(size=(n, d_v))))

    return [
        case("random", 3, 5, 4, 2),
        case("more queries than keys", 6, 2, 3, 4),
        case("one query", 1, 4, 4, 3),
        case("a single key", 3, 1, 2, 2),  # P = 1: Q and K get exactly no gradient
        case("peaked rows", 4, 4, 8, 3, scale=2.0),
    ]


def _backward_reference(Q, K, V, G):
    return autograd(lambda q, k, v: _sdpa(q, k, v), (Q, K, V), G)


def _masked_cases(rng):
    def case(label, n, m, d, d_v, mask):
        Q, K, V = _qkv(rng, n, m, d, d_v)
        return Case(label, (Q, K, V, rng.normal(size=(n, d_v)), mask.astype(np.float64)))

    random_mask = rng.random((4, 6)) < 0.5
    random_mask[np.arange(4), rng.integers(0, 6, size=4)] = False  # every query keeps one key at least
    padding = np.zeros((3, 5), dtype=bool)
    padding[:, 3:] = True  # the last two keys are padding
    one_left = np.ones((3, 4), dtype=bool)
    one_left[:, 1] = False  # every query may look at key 1 only: P is one-hot
    return [
        case("causal", 5, 5, 3, 2, np.triu(np.ones((5, 5), dtype=bool), k=1)),
        case("random mask", 4, 6, 3, 3, random_mask),
        case("padding keys", 3, 5, 4, 2, padding),
        case("no mask at all", 3, 4, 2, 2, np.zeros((3, 4), dtype=bool)),
        case("one key allowed", 3, 4, 3, 2, one_left),
    ]


def _masked_reference(Q, K, V, G, mask):
    return autograd(lambda q, k, v: _sdpa(q, k, v, mask=tensor(mask)), (Q, K, V), G)


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    "one query": "একটিমাত্র কোয়েরি",
    "a single key": "একটিমাত্র কি",
    "scores shifted by 1000": "1000 সরানো স্কোর",
    "peaked rows": "চূড়াওয়ালা সারি",
    "causal": "কার্যকারণ মাস্ক",
    "large scores": "বড় স্কোর",
    "causal, one token": "কার্যকারণ মাস্ক, একটিমাত্র টোকেন",
    "more queries than keys": "কি-এর চেয়ে বেশি কোয়েরি",
    "random mask": "র‍্যান্ডম মাস্ক",
    "padding keys": "প্যাডিংয়ের কি",
    "no mask at all": "কোনো মাস্কই নেই",
    "one key allowed": "কেবল একটি কি অনুমোদিত",
}


EXERCISE = Exercise(
    name="ex13",
    notebook="ex13_attention.ipynb",
    questions=(
        Question(
            qid="ex13.q1",
            function="softmax_rows_backward",
            points=2,
            title={"en": "The backward pass of a row-wise softmax", "bn": "সারি ধরে সফটম্যাক্সের ব্যাকওয়ার্ড পাস"},
            cases=_softmax_cases,
            reference=_softmax_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex13.q2",
            function="attention_forward",
            points=2,
            title={"en": "Scaled dot-product attention, with an optional causal mask",
                   "bn": "স্কেল করা ডট-প্রোডাক্ট অ্যাটেনশন, ইচ্ছেমতো কার্যকারণ মাস্কসহ"},
            cases=_forward_cases,
            reference=_forward_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex13.q3",
            function="attention_backward",
            points=4,
            title={"en": "The gradients with respect to Q, K and V", "bn": "Q, K আর V-এর সাপেক্ষে গ্রেডিয়েন্ট"},
            cases=_backward_cases,
            reference=_backward_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex13.q4",
            function="masked_attention_backward",
            points=2,
            title={"en": "The backward pass with a mask", "bn": "মাস্কসহ ব্যাকওয়ার্ড পাস"},
            cases=_masked_cases,
            reference=_masked_reference,
            tol=1e-9,
            no_torch=True,
        ),
    ),
)
