"""ex11, convolution and pooling (chapter 11): a 2-D convolution's forward pass with stride and zero
padding, its gradient with respect to the input, its gradients with respect to the kernel and the
bias, and the backward pass of max pooling with PyTorch's rule for ties. NumPy only.

Chapter 11's convention: inputs x of shape (N, C_in, H, W), kernels w of shape (C_out, C_in, KH, KW),
a bias b of shape (C_out,), and PyTorch's cross-correlation,
Y[n, o, i, j] = b[o] + sum over c, p, q of w[o, c, p, q] * x_padded[n, c, s i + p, s j + q],
with the same stride s and padding in both directions (no dilation here).

References: torch.autograd in float64 through F.conv2d and F.max_pool2d.
"""

import numpy as np
import torch.nn.functional as F

from .core import Case, Exercise, Question
from .oracles import autograd, tensor


def _output_size(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


# ---- q1 to q3: the convolution -------------------------------------------------------------------

def _conv_cases(rng):
    def case(label, N, C_in, C_out, H, W, KH, KW, stride=1, padding=0):
        x = rng.normal(size=(N, C_in, H, W))
        w = rng.normal(size=(C_out, C_in, KH, KW)) / np.sqrt(C_in * KH * KW)
        H_out, W_out = _output_size(H, KH, stride, padding), _output_size(W, KW, stride, padding)
        G = rng.normal(size=(N, C_out, H_out, W_out))
        return Case(label, (x, w, rng.normal(size=C_out), G, stride, padding))

    return [
        case("random", 2, 3, 4, 7, 9, 3, 2),
        # the last input row and column meet no window: their gradient is exactly 0
        case("stride 2, an input row left over", 2, 2, 3, 8, 10, 3, 3, stride=2),
        case("padding 2, a 3 x 3 kernel", 1, 2, 2, 5, 6, 3, 3, padding=2),
        case("stride and padding", 2, 3, 2, 9, 7, 3, 2, stride=2, padding=1),
        case("a 1 x 1 kernel", 2, 4, 3, 5, 4, 1, 1),  # a matrix product over the channels at every pixel
        case("a kernel as large as the padded input", 2, 2, 3, 4, 5, 6, 7, padding=1),  # a 1 x 1 output
        case("stride larger than the kernel", 1, 2, 2, 9, 9, 2, 2, stride=3),  # inputs between windows
        case("one example, one channel", 1, 1, 1, 6, 5, 3, 3),
    ]


def _forward_cases(rng):
    return [Case(c.label, (c.args[0], c.args[1], c.args[2], c.args[4], c.args[5])) for c in _conv_cases(rng)]


def _forward_reference(x, w, b, stride, padding):
    return F.conv2d(tensor(x), tensor(w), tensor(b), stride=int(stride), padding=int(padding)).numpy()


def _backward_cases(rng):
    return [Case(c.label, (c.args[0], c.args[1], c.args[3], c.args[4], c.args[5])) for c in _conv_cases(rng)]


def _gradients(x, w, G, stride, padding):
    b = np.zeros(w.shape[0])
    return autograd(lambda x_, w_, b_: F.conv2d(x_, w_, b_, stride=int(stride), padding=int(padding)), (x, w, b), G)


def _input_reference(x, w, G, stride, padding):
    return _gradients(x, w, G, stride, padding)[0]


def _params_reference(x, w, G, stride, padding):
    _, dw, db = _gradients(x, w, G, stride, padding)
    return dw, db


# ---- q4: max pooling -------------------------------------------------------------------------------

def _pool_cases(rng):
    def case(label, x, kernel, stride):
        H_out, W_out = _output_size(x.shape[2], kernel, stride, 0), _output_size(x.shape[3], kernel, stride, 0)
        return Case(label, (x, rng.normal(size=(*x.shape[:2], H_out, W_out)), kernel, stride))

    return [
        case("random", rng.normal(size=(2, 3, 6, 8)), 2, 2),
        case("overlapping windows", rng.normal(size=(2, 2, 7, 9)), 3, 2),  # an entry may win twice: add
        # small integers: many windows hold their maximum twice; PyTorch routes to the first, row by row
        case("some ties", rng.integers(0, 3, size=(2, 2, 6, 6)).astype(np.float64), 2, 2),
        case("a constant input", np.full((1, 2, 5, 7), 0.5), 3, 2),  # every window is one big tie
        case("stride larger than the window", rng.normal(size=(1, 2, 8, 8)), 2, 3),
        case("one example, one channel", rng.normal(size=(1, 1, 5, 6)), 2, 1),
    ]


def _pool_reference(x, G, kernel, stride):
    return autograd(lambda x_: F.max_pool2d(x_, int(kernel), int(stride)), (x,), G)[0]


# The Bengali labels of this exercise's cases (merged into CASE_LABELS_BN).
LABELS_BN = {
    "stride 2, an input row left over": "স্ট্রাইড 2, ইনপুটের একটি সারি বাকি থেকে যায়",
    "padding 2, a 3 x 3 kernel": "প্যাডিং 2, 3 x 3 কার্নেল",
    "stride and padding": "স্ট্রাইড আর প্যাডিং",
    "a 1 x 1 kernel": "1 x 1 কার্নেল",
    "a kernel as large as the padded input": "প্যাড করা ইনপুটের সমান বড় কার্নেল",
    "stride larger than the kernel": "কার্নেলের চেয়ে বড় স্ট্রাইড",
    "one example, one channel": "একটি উদাহরণ, একটি চ্যানেল",
    "overlapping windows": "পরস্পরের ওপর পড়া উইন্ডো",
    "a constant input": "ধ্রুবক ইনপুট",
    "stride larger than the window": "উইন্ডোর চেয়ে বড় স্ট্রাইড",
}


EXERCISE = Exercise(
    name="ex11",
    notebook="ex11_conv2d.ipynb",
    questions=(
        Question(
            qid="ex11.q1",
            function="conv2d_forward",
            points=2,
            title={"en": "A 2-D convolution with stride and padding", "bn": "স্ট্রাইড আর প্যাডিংসহ একটি 2-D কনভোলিউশন"},
            cases=_forward_cases,
            reference=_forward_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex11.q2",
            function="conv2d_backward_input",
            points=3,
            title={"en": "The gradient with respect to the input", "bn": "ইনপুটের সাপেক্ষে গ্রেডিয়েন্ট"},
            cases=_backward_cases,
            reference=_input_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex11.q3",
            function="conv2d_backward_params",
            points=3,
            title={"en": "The gradients with respect to the kernel and the bias",
                   "bn": "কার্নেল আর বায়াসের সাপেক্ষে গ্রেডিয়েন্ট"},
            cases=_backward_cases,
            reference=_params_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex11.q4",
            function="max_pool_backward",
            points=2,
            title={"en": "The backward pass of max pooling, ties as PyTorch routes them",
                   "bn": "ম্যাক্স পুলিংয়ের ব্যাকওয়ার্ড পাস, সমান মান PyTorch যেভাবে পাঠায়"},
            cases=_pool_cases,
            reference=_pool_reference,
            tol=1e-12,
            no_torch=True,
        ),
    ),
)
