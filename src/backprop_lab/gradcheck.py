"""Numerical gradients by central differences, relative error, and a comparison report.

The chapters derive a gradient, compute it by the derived formula, and then call
:func:`compare` against ``torch.autograd`` or against :func:`numerical_gradient`.
Everything here works in float64: in float32 the rounding error of a central
difference (about 1e-7 / eps) swamps the truncation error it is meant to expose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import i18n

__all__ = [
    "numerical_gradient",
    "numerical_gradients",
    "numerical_jacobian",
    "relative_error",
    "compare",
    "rounding",
    "Report",
]


def _as_float64(x, name: str = "x") -> np.ndarray:
    """A float64 copy of ``x`` (numbers, lists, NumPy arrays or torch tensors)."""
    if hasattr(x, "detach"):  # a torch tensor; torch is optional here
        x = x.detach().cpu().numpy()
    try:
        arr = np.array(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric (a number, list or array), got {type(x).__name__}") from exc
    return arr


def _scalar(value, what: str) -> float:
    arr = _as_float64(value, what)
    if arr.size != 1:
        raise ValueError(f"{what} must return a scalar, got an array of shape {arr.shape}")
    return float(arr.reshape(()))


def numerical_gradients(f: Callable[..., float], *arrays, eps: float = 1e-6) -> list[np.ndarray]:
    """Central-difference gradients of the scalar ``f(*arrays)`` with respect to each array.

    Each entry is nudged by ``+eps`` and ``-eps`` in turn (2 evaluations of ``f`` per
    entry), so the cost is ``2 * (total number of entries)`` calls of ``f``: exactly
    the cost that reverse-mode differentiation avoids. The arrays passed in are
    never modified; ``f`` receives float64 copies.
    """
    if not callable(f):
        raise TypeError("f must be a function that returns a scalar")
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps}")
    points = [_as_float64(a, f"argument {i}") for i, a in enumerate(arrays)]
    grads = []
    for x in points:
        grad = np.zeros_like(x)
        flat_x, flat_g = x.reshape(-1), grad.reshape(-1)  # views into x and grad
        for i in range(flat_x.size):
            saved = flat_x[i]
            flat_x[i] = saved + eps
            up = _scalar(f(*points), "f")
            flat_x[i] = saved - eps
            down = _scalar(f(*points), "f")
            flat_x[i] = saved
            flat_g[i] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar ``f(x)``; same shape as ``x``."""
    return numerical_gradients(f, x, eps=eps)[0]


def numerical_jacobian(f: Callable[[np.ndarray], np.ndarray], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``x`` in numerator layout.

    For ``y = f(x)`` with ``y.size == M`` and ``x.size == N`` the result has shape
    ``(M, N)``: row ``i`` is the gradient of ``y_i``, column ``j`` is ``dy/dx_j``.
    """
    x = _as_float64(x)
    flat_x = x.reshape(-1)
    columns = []
    for j in range(flat_x.size):
        saved = flat_x[j]
        flat_x[j] = saved + eps
        up = _as_float64(f(x), "f(x)").reshape(-1)
        flat_x[j] = saved - eps
        down = _as_float64(f(x), "f(x)").reshape(-1)
        flat_x[j] = saved
        columns.append((up - down) / (2 * eps))
    return np.stack(columns, axis=1)


def relative_error(a, b) -> float:
    """``||a - b|| / max(||a||, ||b||)``, and 0 when both are exactly zero.

    Dividing by the larger norm makes the number scale-free: 1e-7 means "agree to
    about seven significant digits" whether the gradients are of size 1e-3 or 1e3.
    """
    a, b = _as_float64(a, "a"), _as_float64(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    with np.errstate(over="ignore", invalid="ignore"):
        scale = max(np.linalg.norm(a), np.linalg.norm(b))
        if scale == 0:
            return 0.0
        err = float(np.linalg.norm(a - b) / scale)
    if not np.isfinite(err) and np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
        # The norms overflowed (entries near 1e200): the same ratio, computed after scaling
        # by the largest entry, which cannot overflow.
        big = max(float(np.max(np.abs(a))), float(np.max(np.abs(b))))
        a, b = a / big, b / big
        err = float(np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b)))
    return err


def rounding(x: float, tol: float | None = None) -> str:
    """``x`` written as ``~2.3e-16``: a number at the level of rounding noise.

    The errors of a correct computation (1e-16 against autograd, 1e-10 against central
    differences) are real measurements, but their digits depend on the CPU, the BLAS
    kernel and the thread count, since each of these may add up the same terms in
    another order. Only the order of magnitude means something. The ``~`` says so to
    the reader, and the notebook tests mask exactly these numbers
    (tests/nbval_sanitize.cfg), so that stored outputs are the same on every machine.

    With ``tol``, an error above the tolerance is a finding, not noise, and is written
    in full (``2.9e-01``), so that the notebook tests compare it.
    """
    x = float(x)
    if tol is not None and not abs(x) <= tol:
        return f"{x:.1e}"
    return f"~{x:.1e}"


_WORDS = i18n.table("gradient checks", {
    "max": {"en": "max abs error", "bn": "সর্বোচ্চ পরম ত্রুটি"},
    "rel": {"en": "relative error", "bn": "আপেক্ষিক ত্রুটি"},
    "ok": {"en": "PASS", "bn": "মিলেছে"},
    "bad": {"en": "FAIL", "bn": "মেলেনি"},
    "tol": {"en": "tolerance", "bn": "সহনসীমা"},
})


@dataclass(frozen=True)
class Report:
    """The outcome of :func:`compare`; prints as one line in the chosen language."""

    name: str
    max_abs_error: float
    relative_error: float
    tol: float
    lang: str = "en"

    @property
    def passed(self) -> bool:
        return bool(self.relative_error <= self.tol)

    def __str__(self) -> str:
        w = i18n.column(_WORDS, self.lang)
        # Within the tolerance both errors are rounding noise; beyond it they are a
        # finding and are printed (and compared) in full.
        limit = float("inf") if self.passed else -1.0
        verdict = w["ok"] if self.passed else w["bad"]
        return (
            f"{self.name}: {w['max']} {rounding(self.max_abs_error, limit)}, "
            f"{w['rel']} {rounding(self.relative_error, limit)} ({w['tol']} {self.tol:.0e}) {verdict}"
        )

    def __repr__(self) -> str:
        return str(self)

    def __bool__(self) -> bool:
        return self.passed


def compare(name: str, computed, reference, tol: float = 1e-6, lang: str = "en") -> Report:
    """Compare a derived result with a reference (autograd or central differences).

    Returns a :class:`Report` with the max absolute error and the relative error;
    ``report.passed`` is true when the relative error is at most ``tol``. Shapes
    must match exactly: a gradient has the shape of what it differentiates.
    """
    i18n.check_lang(lang)
    a, b = _as_float64(computed, "computed"), _as_float64(reference, "reference")
    if a.shape != b.shape:
        raise ValueError(f"{name}: shapes differ: computed {a.shape}, reference {b.shape}")
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return Report(name, float("inf"), float("inf"), tol, lang)
    max_abs = float(np.max(np.abs(a - b))) if a.size else 0.0
    return Report(name, max_abs, relative_error(a, b), tol, lang)

