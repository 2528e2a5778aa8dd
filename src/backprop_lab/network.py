"""A small NumPy multilayer perceptron: forward pass with a cache, backward pass by the delta recurrence.

This is the numeric core behind the course's two widgets. It follows the notation of
the preface exactly, so that what a widget shows can be read against the chapters:

- vectors are columns; a batch of ``B`` examples is stored as ``B`` *columns*, so the
  input ``x`` has shape ``(n_0, B)`` and every ``z`` and ``a`` of layer ``l`` has shape
  ``(n_l, B)`` (one example is simply ``B = 1``);
- layer ``l = 1, ..., D`` computes ``z = W a_prev + b`` and ``a = sigma(z)``, with ``W`` of
  shape ``(n_l, n_{l-1})`` and ``b`` of shape ``(n_l, 1)``;
- ``delta[l] = dL/dz[l]``; every gradient has the shape of what it differentiates;
- per-layer values are dicts keyed by the layer number ``l`` (``a[0]`` is the input), so
  ``result.dW[1]`` is ``dL/dW^(1)``, as in the text.

With ``residual=True``, a hidden layer whose input and output widths are equal adds its
input to its output: ``a = a_prev + sigma(z)``. The output layer never has a skip.

The loss is averaged over the batch: ``mse`` is ``L = 1/(2B) sum_k ||a_k - y_k||^2`` (for
one example, ``L = 1/2 ||a - y||^2``); ``cross_entropy`` treats the network output
``a^(D)`` as logits, ``L = -1/B sum_k y_k . log softmax(a_k)`` (use ``identity`` as the
output activation: the softmax belongs to the loss). Targets are columns like the
output (one-hot or probability vectors for cross-entropy).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "INITS",
    "LOSSES",
    "MLP",
    "Pass",
    "activate",
    "activation_slope",
    "erf",
    "init_std",
    "init_mlp",
    "loss_and_grad",
    "forward_backward",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "gelu", "identity")
INITS = ("naive", "normal", "xavier", "he")
LOSSES = ("mse", "cross_entropy")

LEAKY_SLOPE = 0.01  # torch.nn.LeakyReLU's default negative_slope
NAIVE_STD = 0.01  # the "small random numbers" of early practice: N(0, 0.01^2)


# --- erf, for the exact GELU ----------------------------------------------------------
# NumPy has no erf, and calling math.erf once per entry costs ~100 ns each, too slow for a
# slider over a deep network. Instead we tabulate erf and its first derivatives on a fine
# grid with math.erf (correct to about one ulp) and evaluate a 7-term Taylor polynomial
# around the nearest grid point. With a step of 1/64 the neglected term is below 1e-18,
# so the result agrees with math.erf to rounding (a test checks this).
_ERF_STEP = 1.0 / 64
_ERF_MAX = 6.0  # erf(6) = 1 - 2e-17: beyond it, erf is 1 in float64
_ERF_TERMS = 7


def _erf_table() -> list[np.ndarray]:
    x0 = np.arange(0.0, _ERF_MAX + _ERF_STEP, _ERF_STEP)
    coeffs = [np.array([math.erf(v) for v in x0])]
    # d^n/dx^n erf(x) = 2/sqrt(pi) (-1)^(n-1) H_{n-1}(x) exp(-x^2), with H the physicists'
    # Hermite polynomials: H_0 = 1, H_1 = 2x, H_{k+1} = 2x H_k - 2k H_{k-1}.
    gauss = 2.0 / math.sqrt(math.pi) * np.exp(-x0 * x0)
    h_prev, h = np.zeros_like(x0), np.ones_like(x0)
    for n in range(1, _ERF_TERMS):
        k = n - 1  # h is H_k
        coeffs.append((-1) ** k * h * gauss / math.factorial(n))
        h_prev, h = h, 2 * x0 * h - 2 * k * h_prev
    return coeffs  # coeffs[n][i]: the n-th Taylor coefficient of erf at grid point i


_ERF_COEFFS = _erf_table()


def erf(x) -> np.ndarray:
    """The error function, elementwise, in float64 (agrees with ``math.erf`` to rounding)."""
    x = np.asarray(x, dtype=np.float64)
    shape, x = x.shape, x.reshape(-1)  # 1-D, so that 0-d input can be indexed too
    ax = np.minimum(np.abs(x), _ERF_MAX)  # beyond _ERF_MAX the table's last point gives 1
    ax[np.isnan(ax)] = 0.0  # NaN would make a garbage index; it is put back below
    idx = (ax * (1.0 / _ERF_STEP) + 0.5).astype(np.intp)  # the nearest grid point
    d = ax - idx * _ERF_STEP  # |d| <= step / 2
    out = _ERF_COEFFS[-1].take(idx)
    for c in reversed(_ERF_COEFFS[:-1]):  # Horner's rule
        out *= d
        out += c.take(idx)
    out = np.copysign(out, x)
    out[np.isnan(x)] = np.nan
    return out.reshape(shape)


# --- activations ----------------------------------------------------------------------
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _sigmoid(z):
    with np.errstate(over="ignore"):  # exp(-z) = inf for z < -709 gives sigmoid 0, correctly
        return 1.0 / (1.0 + np.exp(-z))


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """``sigma(z)`` for the activation ``name`` (one of :data:`ACTIVATIONS`).

    ``gelu`` is the exact GELU, ``z * Phi(z)`` with the normal CDF written with erf: the
    default of ``torch.nn.GELU`` (``approximate="none"``), not the tanh approximation.
    """
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, LEAKY_SLOPE * z)
    if name == "gelu":
        return z * 0.5 * (1.0 + erf(z * _SQRT_HALF))
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


def activation_slope(name: str, z: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
    """``sigma'(z)``, elementwise. ``a = sigma(z)``, if given, saves recomputing it.

    At the kink of ``relu`` and ``leaky_relu`` (z = 0) we use the left slope, as torch does.
    """
    if name == "sigmoid":
        s = _sigmoid(z) if a is None else a
        return s * (1.0 - s)
    if name == "tanh":
        t = np.tanh(z) if a is None else a
        return 1.0 - t * t
    if name == "relu":
        return (z > 0).astype(np.float64)
    if name == "leaky_relu":
        return np.where(z > 0, 1.0, LEAKY_SLOPE)
    if name == "gelu":
        # d/dz [z Phi(z)] = Phi(z) + z phi(z)
        return 0.5 * (1.0 + erf(z * _SQRT_HALF)) + z * _INV_SQRT_2PI * np.exp(-0.5 * z * z)
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")


# --- initialisation -------------------------------------------------------------------
def init_std(init: str, n_in: int, n_out: int) -> float:
    """The standard deviation of the normal distribution ``init`` draws a weight from.

    ``naive``: 0.01, a small constant scale that ignores the layer's size; ``normal``: 1;
    ``xavier`` (Glorot and Bengio, 2010): ``Var = 2 / (n_in + n_out)``; ``he`` (He et al.,
    2015, "Kaiming"): ``Var = 2 / n_in``. All are zero-mean normal distributions (not the
    uniform variants); biases start at zero.
    """
    if init == "naive":
        return NAIVE_STD
    if init == "normal":
        return 1.0
    if init == "xavier":
        return math.sqrt(2.0 / (n_in + n_out))
    if init == "he":
        return math.sqrt(2.0 / n_in)
    raise ValueError(f"unknown initialisation {init!r}; choose one of {', '.join(INITS)}")


# --- the network ----------------------------------------------------------------------
@dataclass
class Pass:
    """Every value of one forward and backward pass, per layer ``l`` (dicts keyed by ``l``).

    ``z[l]``, ``a[l]``, ``delta[l]``: shape ``(n_l, B)``, ``l = 1..D`` (and ``a[0] = x``);
    ``dW[l]``: ``(n_l, n_{l-1})``; ``db[l]``: ``(n_l, 1)``; ``loss``: the scalar ``L``;
    ``dx``: ``dL/dx``, shape ``(n_0, B)``.
    """

    z: dict[int, np.ndarray]
    a: dict[int, np.ndarray]
    delta: dict[int, np.ndarray] = field(default_factory=dict)
    dW: dict[int, np.ndarray] = field(default_factory=dict)
    db: dict[int, np.ndarray] = field(default_factory=dict)
    loss: float = float("nan")
    dx: np.ndarray | None = None

    @property
    def depth(self) -> int:
        return len(self.z)

    def grad_norms(self) -> np.ndarray:
        """``||dL/dW^(l)||_F`` for ``l = 1..D`` (entry ``l - 1`` is layer ``l``)."""
        return np.array([np.linalg.norm(self.dW[l]) for l in range(1, self.depth + 1)])

    def activation_spread(self) -> np.ndarray:
        """The standard deviation of ``a^(l)`` over units and batch, for ``l = 1..D``."""
        return np.array([np.std(self.a[l]) for l in range(1, self.depth + 1)])


@dataclass
class MLP:
    """A fully connected network: ``weights[l-1]`` is ``W^(l)``, ``biases[l-1]`` is ``b^(l)``.

    ``activations`` holds one name per layer. With ``residual``, every layer ``l < D``
    whose input and output widths are equal computes ``a = a_prev + sigma(z)``.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]
    activations: list[str]
    residual: bool = False

    def __post_init__(self):
        if not (len(self.weights) == len(self.biases) == len(self.activations) >= 1):
            raise ValueError("need one weight matrix, one bias and one activation per layer")
        for l, (W, b, name) in enumerate(zip(self.weights, self.biases, self.activations), start=1):
            if W.ndim != 2 or b.shape != (W.shape[0], 1):
                raise ValueError(f"layer {l}: W must be (n_l, n_prev) and b (n_l, 1); got {W.shape} and {b.shape}")
            if l > 1 and W.shape[1] != self.weights[l - 2].shape[0]:
                raise ValueError(f"layer {l}: W has {W.shape[1]} columns but layer {l - 1} has {self.weights[l - 2].shape[0]} units")
            if name not in ACTIVATIONS:
                raise ValueError(f"layer {l}: unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}")

    @property
    def depth(self) -> int:
        """``D``, the number of layers (weight matrices)."""
        return len(self.weights)

    @property
    def sizes(self) -> list[int]:
        """``[n_0, n_1, ..., n_D]``."""
        return [self.weights[0].shape[1]] + [W.shape[0] for W in self.weights]

    @property
    def skips(self) -> tuple[int, ...]:
        """The layers ``l`` that add their input to their output (empty without ``residual``)."""
        if not self.residual:
            return ()
        n = self.sizes
        return tuple(l for l in range(1, self.depth) if n[l] == n[l - 1])

    def forward(self, x) -> Pass:
        """The forward pass, keeping every ``z`` and ``a`` (the cache the backward pass needs)."""
        a = np.asarray(x, dtype=np.float64)
        if a.ndim == 1:
            a = a[:, None]  # one example: a column
        if a.ndim != 2 or a.shape[0] != self.sizes[0]:
            raise ValueError(f"x must have shape ({self.sizes[0]}, B), got {np.shape(x)}")
        skips = set(self.skips)
        out = Pass(z={}, a={0: a})
        # Deep nets with large weights overflow to inf on purpose (that is the lesson);
        # the caller checks np.isfinite instead of drowning in warnings.
        with np.errstate(over="ignore", invalid="ignore"):
            for l, (W, b, name) in enumerate(zip(self.weights, self.biases, self.activations), start=1):
                z = W @ a + b
                h = activate(name, z)
                a = a + h if l in skips else h
                out.z[l], out.a[l] = z, a
        return out

    def backward(self, cache: Pass, dL_da: np.ndarray) -> Pass:
        """Fill ``cache`` with ``delta``, ``dW``, ``db`` and ``dx`` from ``dL/da^(D)``.

        The delta recurrence, carried as ``g = dL/da^(l)``: ``delta = g * sigma'(z)``,
        ``dW = delta a_prev^T``, ``db = delta summed over the batch``, and the signal for the
        layer below is ``W^T delta`` (plus ``g`` itself where a skip connection carries it).
        Without skips this is ``delta^(l-1) = (W^(l)T delta^(l)) * sigma'(z^(l-1))``.
        """
        skips = set(self.skips)
        g = np.asarray(dL_da, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            for l in range(self.depth, 0, -1):
                W, name = self.weights[l - 1], self.activations[l - 1]
                z = cache.z[l]
                h = cache.a[l] - cache.a[l - 1] if l in skips else cache.a[l]  # sigma(z)
                delta = g * activation_slope(name, z, h if name in ("sigmoid", "tanh") else None)
                cache.delta[l] = delta
                cache.dW[l] = delta @ cache.a[l - 1].T
                cache.db[l] = delta.sum(axis=1, keepdims=True)
                g_below = W.T @ delta
                g = g_below + g if l in skips else g_below
        cache.dx = g
        return cache


def init_mlp(
    sizes: Sequence[int],
    hidden: str = "tanh",
    output: str = "identity",
    init: str = "xavier",
    seed: int | np.random.Generator = 0,
    residual: bool = False,
) -> MLP:
    """A random MLP with layer sizes ``[n_0, ..., n_D]``.

    ``hidden`` is the activation of layers ``1..D-1`` and ``output`` that of layer ``D``;
    weights are drawn by ``init`` (see :func:`init_std`), biases are zero. ``seed`` may be
    an integer or a ``numpy.random.Generator``.
    """
    sizes = [int(n) for n in sizes]
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least two positive widths, got {sizes}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    weights = [init_std(init, n_in, n_out) * rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes, sizes[1:])]
    biases = [np.zeros((n, 1)) for n in sizes[1:]]
    D = len(sizes) - 1
    return MLP(weights, biases, [hidden] * (D - 1) + [output], residual)


def loss_and_grad(loss: str, output: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """The batch-mean loss and ``dL/da^(D)``, both for columns ``output``, ``target`` of shape ``(n_D, B)``."""
    output = np.asarray(output, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if target.ndim == 1:
        target = target[:, None]
    if target.shape != output.shape:
        raise ValueError(f"target must have shape {output.shape}, got {target.shape}")
    B = output.shape[1]
    with np.errstate(over="ignore", invalid="ignore"):
        if loss == "mse":
            diff = output - target
            return float(0.5 * np.sum(diff * diff) / B), diff / B
        if loss == "cross_entropy":
            shifted = output - output.max(axis=0, keepdims=True)  # log-softmax without overflow
            log_p = shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
            # dL/da = (softmax(a) * sum(y) - y) / B: "prediction minus target" when y sums to 1.
            grad = (np.exp(log_p) * target.sum(axis=0, keepdims=True) - target) / B
            return float(-np.sum(target * log_p) / B), grad
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")


def forward_backward(net: MLP, x, y, loss: str = "mse") -> Pass:
    """One forward and backward pass of ``net`` on inputs ``x`` and targets ``y``: every value."""
    cache = net.forward(x)
    cache.loss, dL_da = loss_and_grad(loss, cache.a[net.depth], y)
    return net.backward(cache, dL_da)

