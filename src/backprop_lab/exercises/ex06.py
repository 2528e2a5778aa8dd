"""ex06, initialisation and vanishing gradients (chapter 6): the per-layer gradient norms of a deep
network, the standard deviation of the LeCun, Xavier/Glorot, He and leaky-ReLU initialisations, the
gradient norms of a network with (scaled) residual connections, and clipping by the global norm.
NumPy only.

The network is chapter 6's (and chapter 3's column convention): weights W^(l) of shape
(n_l, n_{l-1}), biases 0, the activation in layers 1 to D - 1, the identity in layer D, a batch
X of shape (n_0, B), and the loss L = 1/2 * sum of the squares of the output a^(D).

Everything about one question sits in its own block below (cases, reference, and the Bengali
labels of its cases in LABELS_BN, which the registry merges into the shared table). References:
torch.autograd in float64, torch.nn.init.calculate_gain, torch.nn.utils.clip_grad_norm_.
"""

import numpy as np
import torch

from .core import Case, Exercise, Question
from .oracles import tensor

ACTIVATIONS = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}


def _weights(rng, widths, std_of_fan_in):
    return [std_of_fan_in(n_in) * rng.normal(size=(n_out, n_in)) for n_in, n_out in zip(widths[:-1], widths[1:])]


def _autograd_norms(Ws, X, activation, residual, beta=1.0):
    """The Frobenius norm of dL/dW^(l) for l = 1..D, by autograd in float64, as a tuple of floats
    (each judged on its own scale, so a layer whose gradient has vanished to 1e-12 counts too)."""
    f = ACTIVATIONS[activation]
    tW = [tensor(W, requires_grad=True) for W in Ws]
    A = tensor(X)
    for l, W in enumerate(tW, start=1):
        Z = W @ A
        if l == len(tW):
            A = Z                                  # identity output layer, never residual
        elif residual:
            A = A + beta * f(Z)
        else:
            A = f(Z)
    (0.5 * torch.sum(A * A)).backward()
    return tuple(float(torch.linalg.norm(W.grad)) for W in tW)


# ---- q1: per-layer gradient norms of a plain deep network -------------------------------------

def _plain_cases(rng):
    def xavier(n):  # square layers: Xavier = LeCun
        return 1.0 / np.sqrt(n)

    def he(n):
        return np.sqrt(2.0 / n)

    def case(label, widths, B, activation, std=xavier, zero_input=False):
        X = np.zeros((widths[0], B)) if zero_input else rng.normal(size=(widths[0], B))
        return Case(label, (_weights(rng, widths, std), X, activation))

    return [
        case("sigmoid, depth 5", [8] * 6, 4, "sigmoid"),
        case("non-square tanh network", [3, 5, 4, 6, 2], 3, "tanh"),
        case("ReLU, He initialisation, depth 10", [16] * 11, 5, "relu", he),
        case("sigmoid, depth 20 (vanishing)", [8] * 21, 4, "sigmoid"),
        case("large weights, tanh (saturated)", [6] * 8, 3, "tanh", lambda n: 3.0),
        case("depth 1 (no hidden layer)", [4, 3], 2, "tanh"),
        case("batch size 1", [5, 7, 4, 3], 1, "relu", he),
        case("zero input (ReLU at 0)", [4, 4, 4], 3, "relu", he, zero_input=True),
    ]


def _plain_reference(Ws, X, activation):
    return _autograd_norms(Ws, X, activation, residual=False)


# ---- q2: the standard deviation of an initialisation ------------------------------------------

def _init_cases(rng):
    return [
        Case("LeCun", ("lecun", 256.0, 64.0, 0.0)),
        Case("Xavier, square layer", ("xavier", 64.0, 64.0, 0.0)),
        Case("Xavier, unequal widths", ("xavier", 64.0, 256.0, 0.0)),
        Case("He", ("he", 100.0, 30.0, 0.0)),
        Case("leaky ReLU", ("leaky_relu", 128.0, 32.0, 0.01)),
        Case("leaky ReLU, slope 1 (linear)", ("leaky_relu", 50.0, 50.0, 1.0)),
        Case("random widths", ("xavier", float(rng.integers(1, 500)), float(rng.integers(1, 500)), 0.0)),
        Case("one input", ("he", 1.0, 10.0, 0.0)),
    ]


def _init_reference(kind, n_in, n_out, alpha):
    W = torch.empty(int(n_out), int(n_in), dtype=torch.float64)
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(W)  # PyTorch's own fans for this shape
    gain = torch.nn.init.calculate_gain
    if kind == "lecun":
        std = gain("linear") / np.sqrt(fan_in)
    elif kind == "xavier":                         # the std of torch.nn.init.xavier_normal_
        std = gain("linear") * np.sqrt(2.0 / (fan_in + fan_out))
    elif kind == "he":                             # the std of kaiming_normal_(nonlinearity="relu")
        std = gain("relu") / np.sqrt(fan_in)
    else:
        std = gain("leaky_relu", alpha) / np.sqrt(fan_in)
    return float(std)                              # a plain float, as the data-only format delivers numbers


# ---- q3: per-layer gradient norms with scaled residual connections ----------------------------

def _residual_cases(rng):
    def naive(n):  # the chapter's naive N(0, 1) weights
        return 1.0

    def case(label, width, depth, B, activation, beta, std=lambda n: 1.0 / np.sqrt(n), out=2):
        widths = [width] * depth + [out]
        return Case(label, (_weights(rng, widths, std), rng.normal(size=(width, B)), activation, beta))

    return [
        case("sigmoid, depth 30, beta = 1", 8, 30, 3, "sigmoid", 1.0, naive),
        case("tanh, beta = 0.5", 6, 10, 4, "tanh", 0.5),
        case("ReLU, small beta", 8, 12, 2, "relu", 0.1, lambda n: np.sqrt(2.0 / n)),
        case("beta = 0 (identity hidden layers)", 5, 6, 3, "tanh", 0.0),
        case("depth 1 (no hidden layer)", 4, 1, 2, "sigmoid", 1.0),
        case("batch size 1", 7, 5, 1, "tanh", 1.0),
    ]


def _residual_reference(Ws, X, activation, beta):
    return _autograd_norms(Ws, X, activation, residual=True, beta=beta)


# ---- q4: clipping by the global norm ----------------------------------------------------------

def _clip_cases(rng):
    shapes = [(3, 4), (3,), (2, 3)]
    big = [10.0 * rng.normal(size=s) for s in shapes]
    return [
        Case("random", ([rng.normal(size=s) for s in shapes], 1.0)),
        Case("a corrupted batch (large gradient)", (big, 0.5)),
        Case("below the threshold", ([0.01 * rng.normal(size=s) for s in shapes], 5.0)),
        Case("one array", ([rng.normal(size=(4, 4))], 2.0)),
        Case("all gradients zero", ([np.zeros(s) for s in shapes], 1.0)),
        Case("one huge entry", ([np.array([1e6, 1.0, -2.0]), rng.normal(size=(2, 2))], 1.0)),
    ]


def _clip_reference(grads, max_norm):
    params = []
    for g in grads:
        p = torch.zeros(np.shape(g), dtype=torch.float64, requires_grad=True)
        p.grad = tensor(g)
        params.append(p)
    total = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return tuple(p.grad.numpy() for p in params), float(total)


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    # q1
    "sigmoid, depth 5": "সিগময়েড, গভীরতা 5",
    "non-square tanh network": "অবর্গাকার tanh নেটওয়ার্ক",
    "ReLU, He initialisation, depth 10": "ReLU, He ইনিশিয়ালাইজেশন, গভীরতা 10",
    "sigmoid, depth 20 (vanishing)": "সিগময়েড, গভীরতা 20 (বিলীয়মান গ্রেডিয়েন্ট)",
    "large weights, tanh (saturated)": "বড় ওজন, tanh (সম্পৃক্ত)",
    "depth 1 (no hidden layer)": "গভীরতা 1 (কোনো লুকানো স্তর নেই)",
    "batch size 1": "ব্যাচের আকার 1",
    "zero input (ReLU at 0)": "শূন্য ইনপুট (0-তে ReLU)",
    # q2
    "LeCun": "LeCun",
    "Xavier, square layer": "Xavier, বর্গাকার স্তর",
    "Xavier, unequal widths": "Xavier, অসমান প্রস্থ",
    "He": "He",
    "leaky ReLU": "লিকি ReLU",
    "leaky ReLU, slope 1 (linear)": "লিকি ReLU, ঢাল 1 (রৈখিক)",
    "random widths": "র‍্যান্ডম প্রস্থ",
    "one input": "একটিমাত্র ইনপুট",
    # q3
    "sigmoid, depth 30, beta = 1": "সিগময়েড, গভীরতা 30, beta = 1",
    "tanh, beta = 0.5": "tanh, beta = 0.5",
    "ReLU, small beta": "ReLU, ছোট beta",
    "beta = 0 (identity hidden layers)": "beta = 0 (লুকানো স্তরগুলো অভেদ ম্যাপ)",
    # q4
    "random": "র‍্যান্ডম ইনপুট",
    "a corrupted batch (large gradient)": "একটি নষ্ট ব্যাচ (বড় গ্রেডিয়েন্ট)",
    "below the threshold": "সীমার নিচে",
    "one array": "একটিমাত্র অ্যারে",
    "all gradients zero": "সব গ্রেডিয়েন্ট শূন্য",
    "one huge entry": "একটি বিশাল উপাদান",
}


EXERCISE = Exercise(
    name="ex06",
    notebook="ex06_vanishing_gradients.ipynb",
    questions=(
        Question(
            qid="ex06.q1",
            function="layer_gradient_norms",
            points=3,
            title={"en": "The gradient norm of every layer", "bn": "প্রতিটি স্তরের গ্রেডিয়েন্টের নর্ম"},
            cases=_plain_cases,
            reference=_plain_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex06.q2",
            function="init_std",
            points=2,
            title={"en": "The standard deviation of LeCun, Xavier, He and leaky-ReLU initialisation",
                   "bn": "LeCun, Xavier, He আর লিকি ReLU ইনিশিয়ালাইজেশনের আদর্শ বিচ্যুতি"},
            cases=_init_cases,
            reference=_init_reference,
            tol=1e-12,
            no_torch=True,
        ),
        Question(
            qid="ex06.q3",
            function="residual_gradient_norms",
            points=3,
            title={"en": "Gradient norms with scaled residual connections",
                   "bn": "স্কেল করা রেসিডুয়াল সংযোগসহ গ্রেডিয়েন্টের নর্ম"},
            cases=_residual_cases,
            reference=_residual_reference,
            tol=1e-9,
            no_torch=True,
        ),
        Question(
            qid="ex06.q4",
            function="clip_by_global_norm",
            points=2,
            title={"en": "Clipping by the global norm (torch.nn.utils.clip_grad_norm_)",
                   "bn": "সামগ্রিক নর্ম ধরে ক্লিপিং (torch.nn.utils.clip_grad_norm_)"},
            cases=_clip_cases,
            reference=_clip_reference,
            tol=1e-12,
            no_torch=True,
        ),
    ),
)
