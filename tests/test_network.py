"""The widgets' numeric core (backprop_lab.network) against torch.autograd in float64."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from backprop_lab import network, relative_error
from backprop_lab.network import ACTIVATIONS, INITS, MLP, forward_backward, init_mlp, init_std

TORCH_ACTIVATIONS = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": F.leaky_relu,  # negative_slope 0.01 by default
    "gelu": F.gelu,  # approximate="none" by default: the exact, erf-based GELU
    "identity": lambda t: t,
}


def torch_pass(net: MLP, x: np.ndarray, y: np.ndarray, loss: str):
    """The same network written with torch operations; returns (L, z, a, dz, dW, db, dx) as NumPy."""
    Ws = [torch.tensor(W, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
    xt = torch.tensor(x, requires_grad=True)
    a, zs, As = xt, [], []
    for l, (W, b, name) in enumerate(zip(Ws, bs, net.activations), start=1):
        z = W @ a + b
        z.retain_grad()
        h = TORCH_ACTIVATIONS[name](z)
        a = a + h if l in net.skips else h
        zs.append(z)
        As.append(a)
    B = x.shape[1]
    if loss == "mse":
        L = 0.5 * ((a - torch.tensor(y)) ** 2).sum() / B
    else:  # cross-entropy over classes (dim 1 after transposing to rows), mean over the batch
        L = F.cross_entropy(a.T, torch.tensor(y).T)
    L.backward()

    def np_(ts):
        return [t.detach().numpy() for t in ts]

    return (L.item(), np_(zs), np_(As), np_([z.grad for z in zs]), np_([W.grad for W in Ws]),
            np_([b.grad for b in bs]), xt.grad.numpy())


def sample(sizes, loss, seed=0, batch=5):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(sizes[0], batch))
    if loss == "mse":
        y = rng.normal(size=(sizes[-1], batch))
    else:
        y = np.eye(sizes[-1])[:, rng.integers(0, sizes[-1], batch)]  # one-hot columns
    return x, y


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("residual", [False, True])
def test_every_value_and_gradient_matches_autograd(activation, loss, residual):
    sizes = [4, 6, 6, 6, 3]
    net = init_mlp(sizes, hidden=activation, output="identity" if loss == "cross_entropy" else activation,
                   init="xavier", seed=1, residual=residual)
    # Biases are zero after init; make them nonzero so that db and the "+ b" are tested.
    net.biases = [np.random.default_rng(9).normal(size=b.shape) for b in net.biases]
    x, y = sample(sizes, loss)
    ours = forward_backward(net, x, y, loss)
    L, zs, As, dzs, dWs, dbs, dx = torch_pass(net, x, y, loss)
    assert ours.loss == pytest.approx(L, rel=1e-13)
    for l in range(1, net.depth + 1):
        assert ours.dW[l].shape == net.weights[l - 1].shape  # a gradient has the shape of its parameter
        assert ours.db[l].shape == net.biases[l - 1].shape
        assert ours.delta[l].shape == ours.z[l].shape == (sizes[l], x.shape[1])
        for name, mine, theirs in [("z", ours.z[l], zs[l - 1]), ("a", ours.a[l], As[l - 1]),
                                   ("delta", ours.delta[l], dzs[l - 1]), ("dW", ours.dW[l], dWs[l - 1]),
                                   ("db", ours.db[l], dbs[l - 1])]:
            assert relative_error(mine, theirs) < 1e-12, f"{name}[{l}]"
    assert relative_error(ours.dx, dx) < 1e-12


def test_residual_skips_only_equal_width_hidden_layers():
    net = init_mlp([3, 5, 5, 4, 4, 4], hidden="tanh", residual=True)
    assert net.skips == (2, 4)  # 3->5 and 5->4 change width; layer 5 is the output layer
    assert init_mlp([3, 5, 5, 4, 4, 4], hidden="tanh").skips == ()
    x = np.random.default_rng(0).normal(size=(3, 2))
    cache = net.forward(x)
    np.testing.assert_allclose(cache.a[2], cache.a[1] + np.tanh(cache.z[2]), rtol=1e-15)
    np.testing.assert_allclose(cache.a[3], np.tanh(cache.z[3]), rtol=1e-15)


def test_a_residual_connection_carries_the_gradient_past_a_dead_layer():
    """With sigmoid and tiny weights the plain net's first layer gets almost no gradient; with
    skips, dL/da passes each layer unchanged along the identity path."""
    plain = init_mlp([8] * 21, hidden="sigmoid", init="naive", seed=3)
    skip = init_mlp([8] * 21, hidden="sigmoid", init="naive", seed=3, residual=True)
    x, y = sample([8] * 21, "mse")
    g_plain = forward_backward(plain, x, y).grad_norms()
    g_skip = forward_backward(skip, x, y).grad_norms()
    assert g_plain[0] / g_plain[-1] < 1e-30
    assert g_skip[0] / g_skip[-1] > 1e-4  # the skips' a^(l) grow, so the top layer's dW is larger
    assert g_skip[0] > 1e25 * g_plain[0]


@pytest.mark.parametrize("init", INITS)
def test_initial_weights_have_the_variance_of_the_formula(init):
    n_in, n_out = 300, 200
    expected = {"naive": 0.01**2, "normal": 1.0, "xavier": 2 / (n_in + n_out), "he": 2 / n_in}[init]
    assert init_std(init, n_in, n_out) ** 2 == pytest.approx(expected, rel=1e-15)
    net = init_mlp([n_in, n_out, 150], init=init, seed=7)
    W = net.weights[0]
    N = W.size
    # The sample variance of N normal draws has standard deviation sigma^2 sqrt(2 / (N - 1));
    # its mean, sigma / sqrt(N). Five of those is far outside chance, well inside a wrong formula.
    assert abs(W.var() - expected) < 5 * expected * math.sqrt(2 / (N - 1))
    assert abs(W.mean()) < 5 * math.sqrt(expected / N)
    assert all(np.all(b == 0) for b in net.biases)
    # The second layer uses its own fan-in and fan-out.
    assert net.weights[1].var() == pytest.approx(init_std(init, n_out, 150) ** 2, rel=5 * math.sqrt(2 / (150 * 200)))


def test_the_same_seed_gives_the_same_network():
    a, b = init_mlp([3, 4, 2], seed=5), init_mlp([3, 4, 2], seed=5)
    c = init_mlp([3, 4, 2], seed=6)
    assert all(np.array_equal(p, q) for p, q in zip(a.weights, b.weights))
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_erf_agrees_with_math_erf_to_rounding():
    x = np.linspace(-7, 7, 100_001)
    exact = np.array([math.erf(v) for v in x])
    assert np.max(np.abs(network.erf(x) - exact)) <= 2.3e-16
    special = network.erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300]))
    assert special[0] == 0 and math.copysign(1, special[1]) == -1
    assert special[2] == 1 and special[3] == -1 and np.isnan(special[4])
    assert special[5] == pytest.approx(2 / math.sqrt(math.pi) * 1e-300)
    assert network.erf(0.5).shape == () and float(network.erf(0.5)) == pytest.approx(math.erf(0.5), abs=1e-16)


def test_gelu_is_the_exact_erf_gelu_that_torch_uses_by_default():
    z = np.linspace(-6, 6, 2001)
    zt = torch.tensor(z, requires_grad=True)
    exact = F.gelu(zt)  # approximate="none"
    exact.sum().backward()
    assert np.max(np.abs(network.activate("gelu", z) - exact.detach().numpy())) < 1e-15
    assert np.max(np.abs(network.activation_slope("gelu", z) - zt.grad.numpy())) < 1e-15
    # ...and not the tanh approximation, which differs by up to about 5e-4.
    approx = F.gelu(torch.tensor(z), approximate="tanh").numpy()
    assert np.max(np.abs(network.activate("gelu", z) - approx)) > 1e-4


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_slopes_match_autograd(activation):
    # Include the kink z = 0 (torch gives the left slope for relu and leaky_relu there).
    z = np.concatenate([np.linspace(-30, 30, 601), [0.0]])
    zt = torch.tensor(z, requires_grad=True)
    TORCH_ACTIVATIONS[activation](zt).sum().backward()
    assert np.max(np.abs(network.activation_slope(activation, z) - zt.grad.numpy())) < 1e-15
    a = network.activate(activation, z)
    assert np.max(np.abs(network.activation_slope(activation, z, a) - zt.grad.numpy())) < 1e-15


def test_cross_entropy_gradient_is_prediction_minus_target():
    logits = np.array([[2.0], [-1.0], [0.5]])
    y = np.array([[0.0], [1.0], [0.0]])
    L, grad = network.loss_and_grad("cross_entropy", logits, y)
    p = np.exp(logits) / np.exp(logits).sum()
    np.testing.assert_allclose(grad, p - y, rtol=1e-14)
    assert L == pytest.approx(-math.log(p[1, 0]), rel=1e-14)
    # Huge logits do not overflow: the softmax is computed from logits minus their maximum.
    L, grad = network.loss_and_grad("cross_entropy", logits * 1000, y)
    assert np.isfinite(L) and np.all(np.isfinite(grad))


def test_one_example_may_be_a_flat_vector():
    net = init_mlp([3, 2], seed=0)
    flat = forward_backward(net, np.array([1.0, 2.0, 3.0]), np.array([0.5, -0.5]))
    column = forward_backward(net, np.array([[1.0], [2.0], [3.0]]), np.array([[0.5], [-0.5]]))
    assert flat.a[0].shape == (3, 1)
    np.testing.assert_array_equal(flat.dW[1], column.dW[1])


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        init_mlp([2, 2], hidden="softplus", output="softplus")
    with pytest.raises(ValueError, match="unknown initialisation"):
        init_mlp([2, 2], init="lecun")
    with pytest.raises(ValueError, match="unknown loss"):
        forward_backward(init_mlp([2, 2]), np.ones(2), np.ones(2), loss="hinge")
    with pytest.raises(ValueError, match=r"x must have shape \(2, B\)"):
        init_mlp([2, 2]).forward(np.ones(3))
    with pytest.raises(ValueError, match="target must have shape"):
        forward_backward(init_mlp([2, 2]), np.ones(2), np.ones(3))
    with pytest.raises(ValueError, match="at least two positive"):
        init_mlp([3, 0, 2])
    with pytest.raises(ValueError, match="layer 2: W has 4 columns"):
        MLP([np.ones((3, 2)), np.ones((2, 4))], [np.zeros((3, 1)), np.zeros((2, 1))], ["tanh", "tanh"])
