"""ex05, weight decay (chapter 5): SGD steps with an L2 penalty, the proximal (soft-thresholding)
step of an L1 penalty, and one step of Adam with an L2 penalty against one step of AdamW. NumPy only.

Every reference is PyTorch itself: torch.optim.SGD / Adam / AdamW, stepped from the given state,
and torch.nn.functional.softshrink for the L1 step.
"""

import numpy as np
import torch
import torch.nn.functional as F

from ..testfns import Fn
from .core import Case, Exercise, Question
from .oracles import TORCH_FUNCTIONS, autograd_gradient, tensor

# ---- q1: one SGD step with weight decay, from a given gradient --------------------------------

def _sgd_step_cases(rng):
    return [
        Case("random", (rng.normal(size=5), rng.normal(size=5), 0.1, 0.01)),
        Case("2-D weights", (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.05, 0.5)),
        Case("no weight decay", (rng.normal(size=4), rng.normal(size=4), 0.1, 0.0)),
        Case("zero gradient (decay only)", (rng.normal(size=(2, 3)), np.zeros((2, 3)), 0.2, 0.3)),
        Case("zeros", (np.zeros(3), rng.normal(size=3), 0.1, 0.1)),
    ]


def _sgd_step_reference(w, grad, lr, wd):
    p = tensor(w).requires_grad_(True)
    p.grad = tensor(grad)
    torch.optim.SGD([p], lr=lr, weight_decay=wd).step()
    return p.detach().numpy()


# ---- q2: k SGD steps with weight decay on a test loss -----------------------------------------

def _grad_fn(name, params=None):
    """The data gradient of the test loss ``name``, as a function argument: the TEST_FUNCTIONS entry ``name + "_grad"``."""
    return Fn(name + "_grad", params or {})


def _sgd_train_cases(rng):
    A = rng.normal(size=(4, 4))
    quadratic = _grad_fn("quadratic", {"A": A @ A.T / 4 + np.eye(4), "c": rng.normal(size=4)})  # convex
    tanh_layer = _grad_fn("tanh_layer", {"v": rng.normal(size=3)})
    return [
        Case("one step", (quadratic, rng.normal(size=4), 0.1, 0.05, 1.0)),
        Case("2-D weights, several steps", (tanh_layer, rng.normal(size=(2, 3)), 0.1, 0.1, 5.0)),
        Case("many steps", (quadratic, rng.normal(size=4), 0.1, 0.01, 20.0)),
        Case("no weight decay", (_grad_fn("sin_square_sum"), 0.5 * rng.normal(size=3), 0.05, 0.0, 4.0)),
        Case("zero steps", (tanh_layer, rng.normal(size=(2, 3)), 0.1, 0.1, 0.0)),
    ]


def _sgd_train_reference(grad_f, w0, lr, wd, k):
    name = grad_f.name[: -len("_grad")]
    # the gradient the student is handed must be the gradient of the loss the reference trains on
    exact = autograd_gradient(Fn(name, grad_f.params), w0)
    assert np.allclose(grad_f(np.array(w0, dtype=np.float64)), exact, rtol=1e-12, atol=1e-12)
    p = tensor(w0).requires_grad_(True)
    optimizer = torch.optim.SGD([p], lr=lr, weight_decay=wd)
    for _ in range(int(k)):
        optimizer.zero_grad()
        TORCH_FUNCTIONS[name](grad_f.params, p).backward()
        optimizer.step()
    return p.detach().numpy()


# ---- q3: the proximal step of an L1 penalty (soft-thresholding) -------------------------------

def _l1_cases(rng):
    at_threshold = np.array([0.25, -0.25, 0.5, -0.125])  # with lr * lam = 0.25 and no gradient
    return [
        Case("random", (0.5 * rng.normal(size=8), rng.normal(size=8), 0.1, 2.0)),
        Case("2-D weights", (0.5 * rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), 0.1, 1.0)),
        Case("zeros", (np.zeros(5), 0.5 * rng.normal(size=5), 0.2, 2.0)),
        Case("on the threshold", (at_threshold, np.zeros(4), 0.5, 0.5)),
        Case("no penalty", (rng.normal(size=4), rng.normal(size=4), 0.1, 0.0)),
    ]


def _l1_reference(w, grad, lr, lam):
    u = tensor(w) - lr * tensor(grad)                      # the gradient step on the data loss
    return F.softshrink(u, lambd=lr * lam).numpy()  # then the proximal step of lam * ||w||_1


# ---- q4, q5: one step of Adam with L2, and of AdamW, from a given state -----------------------

def _adam_cases(rng):
    def state(shape, t, scale=1.0):
        # a plausible state after t - 1 steps: m of the gradients' size, v of their squares'
        if t == 1:
            return np.zeros(shape), np.zeros(shape)
        return 0.1 * scale * rng.normal(size=shape), 0.01 * scale**2 * rng.uniform(0.1, 1.0, size=shape)

    defaults = (0.9, 0.999, 1e-8)
    scales = np.array([0.01, 1.0, 100.0])
    cases = []
    for label, shape, t, lr, wd, scale, betas in [
        ("first step", (5,), 1, 0.01, 0.1, 1.0, defaults),
        ("later step", (3, 4), 6, 0.05, 0.5, 1.0, defaults),
        ("gradients of different scales", (3,), 3, 0.01, 1.0, scales, defaults),
        ("no weight decay", (4,), 4, 0.01, 0.0, 1.0, defaults),
        ("other hyper-parameters", (2, 3), 10, 0.1, 0.2, 1.0, (0.5, 0.9, 1e-6)),
    ]:
        m, v = state(shape, t, scale)
        cases.append(Case(label, (rng.normal(size=shape), scale * rng.normal(size=shape), m, v, float(t), lr, wd, *betas)))
    w = rng.normal(size=4)
    cases.append(Case("zero gradient", (w, np.zeros(4), np.zeros(4), np.zeros(4), 1.0, 0.01, 0.5, *defaults)))
    return cases


def _adam_reference(optimizer_class, w, grad, m, v, t, lr, wd, beta1, beta2, eps):
    p = tensor(w).requires_grad_(True)
    optimizer = optimizer_class([p], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=wd)
    # the state after t - 1 steps; step() counts this one as step t
    optimizer.state[p] = {"step": torch.tensor(float(t) - 1.0), "exp_avg": tensor(m), "exp_avg_sq": tensor(v)}
    p.grad = tensor(grad)
    optimizer.step()
    state = optimizer.state[p]
    assert float(state["step"]) == float(t)
    return p.detach().numpy(), state["exp_avg"].numpy(), state["exp_avg_sq"].numpy()


EXERCISE = Exercise(
    name="ex05",
    notebook="ex05_weight_decay.ipynb",
    questions=(
        Question(
            qid="ex05.q1",
            function="sgd_step",
            points=2,
            title={"en": "One SGD step with weight decay", "bn": "ওজন ক্ষয়সহ SGD-র একটি ধাপ"},
            cases=_sgd_step_cases,
            reference=_sgd_step_reference,
            tol=1e-12,
            no_torch=True,
        ),
        Question(
            qid="ex05.q2",
            function="sgd_train",
            points=2,
            title={"en": "k SGD steps with weight decay", "bn": "ওজন ক্ষয়সহ SGD-র k-টি ধাপ"},
            cases=_sgd_train_cases,
            reference=_sgd_train_reference,
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex05.q3",
            function="l1_prox_step",
            points=2,
            title={"en": "One proximal step of an L1 penalty (soft-thresholding)",
                   "bn": "L1 জরিমানার একটি প্রক্সিমাল ধাপ (সফট থ্রেশহোল্ডিং)"},
            cases=_l1_cases,
            reference=_l1_reference,
            tol=1e-12,
            no_torch=True,
        ),
        Question(
            qid="ex05.q4",
            function="adam_l2_step",
            points=2,
            title={"en": "One step of Adam with an L2 penalty (torch.optim.Adam)",
                   "bn": "L2 জরিমানাসহ Adam-এর একটি ধাপ (torch.optim.Adam)"},
            cases=_adam_cases,
            reference=lambda *args: _adam_reference(torch.optim.Adam, *args),
            tol=1e-10,
            no_torch=True,
        ),
        Question(
            qid="ex05.q5",
            function="adamw_step",
            points=2,
            title={"en": "One step of AdamW (torch.optim.AdamW)", "bn": "AdamW-এর একটি ধাপ (torch.optim.AdamW)"},
            cases=_adam_cases,
            reference=lambda *args: _adam_reference(torch.optim.AdamW, *args),
            tol=1e-10,
            no_torch=True,
        ),
    ),
)
