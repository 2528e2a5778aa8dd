"""ex01, chain rule and computational graphs: backward rules of small graphs."""

import numpy as np
import torch

from .core import Case, Exercise, Question
from .oracles import autograd


def _mul_cases(rng):
    return [
        Case("random", (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)))),
        Case("non-square", (rng.normal(size=(2, 5)), rng.normal(size=(2, 5)), rng.normal(size=(2, 5)))),
        Case("zeros", (np.zeros(4), rng.normal(size=4), rng.normal(size=4))),
        Case("one entry", (rng.normal(size=1), rng.normal(size=1), rng.normal(size=1))),
    ]


def _max_cases(rng):
    x = rng.normal(size=6)
    y = rng.normal(size=6)
    y_tied = x.copy()
    y_tied[::2] = rng.normal(size=3)  # ties in every other entry
    return [
        Case("random", (x, y, rng.normal(size=6))),
        Case("some ties", (x, y_tied, rng.normal(size=6))),
        Case("all tied", (np.full(3, 0.5), np.full(3, 0.5), rng.normal(size=3))),
        Case("non-square", (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))),
    ]


def _neuron_cases(rng):
    return [
        Case("random", (rng.normal(size=3), rng.normal(size=3), float(rng.normal()), float(rng.normal()))),
        Case("one input", (rng.normal(size=1), rng.normal(size=1), float(rng.normal()), 0.5)),
        Case("zeros", (np.zeros(4), rng.normal(size=4), 0.0, float(rng.normal()))),
        # tanh(z) with z between 1.75 and 4: well into the flat part, yet 1 - tanh^2 >= 1e-3,
        # so rounding cannot decide the result (deeper saturation is ill-conditioned).
        Case("saturated tanh", (rng.uniform(0.5, 1.0, size=3), rng.uniform(0.5, 1.0, size=3), 1.0, -1.0)),
    ]


def _neuron(x, w, b, y):
    return (torch.tanh(torch.sum(w * x) + b) - y) ** 2


def _fanout_cases(rng):
    return [
        Case("random", (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)))),
        Case("zeros", (np.zeros(3), rng.normal(size=3))),
        Case("one entry", (rng.normal(size=1), rng.normal(size=1))),
    ]


EXERCISE = Exercise(
    name="ex01",
    notebook="ex01_chain_rule.ipynb",
    questions=(
        Question(
            qid="ex01.q1",
            function="mul_backward",
            points=2,
            title={"en": "Backward of an element-wise multiply", "bn": "উপাদানভিত্তিক গুণের ব্যাকওয়ার্ড"},
            cases=_mul_cases,
            reference=lambda x, y, g: autograd(lambda a, b: a * b, (x, y), g),
        ),
        Question(
            qid="ex01.q2",
            function="max_backward",
            points=2,
            title={"en": "Backward of an element-wise max, ties included", "bn": "উপাদানভিত্তিক ম্যাক্সের ব্যাকওয়ার্ড, সমান মানসহ"},
            cases=_max_cases,
            reference=lambda x, y, g: autograd(torch.maximum, (x, y), g),
        ),
        Question(
            qid="ex01.q3",
            function="neuron_backward",
            points=3,
            title={"en": "All gradients of one tanh neuron", "bn": "একটি tanh নিউরনের সব গ্রেডিয়েন্ট"},
            cases=_neuron_cases,
            reference=lambda x, w, b, y: autograd(lambda x_, w_, b_: _neuron(x_, w_, b_, y), (x, w, b)),
        ),
        Question(
            qid="ex01.q4",
            function="fanout_backward",
            points=3,
            title={"en": "A graph with fan-out: L = sum(tanh(x * y + x))", "bn": "ফ্যান-আউটসহ একটি গ্রাফ: L = sum(tanh(x * y + x))"},
            cases=_fanout_cases,
            reference=lambda x, y: autograd(lambda a, b: torch.sum(torch.tanh(a * b + a)), (x, y)),
        ),
    ),
)
