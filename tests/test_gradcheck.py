"""The gradient-check helpers, with torch.autograd.gradcheck as an independent oracle."""

import re

import numpy as np
import pytest
import torch

from backprop_lab import compare, numerical_gradient, numerical_gradients, numerical_jacobian, relative_error, rounding


def test_numerical_gradient_of_a_known_function():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    grad = numerical_gradient(lambda v: np.sum(np.sin(v) * v**2), x)
    exact = np.cos(x) * x**2 + 2 * x * np.sin(x)
    assert grad.shape == x.shape
    assert relative_error(grad, exact) < 1e-9


def test_numerical_gradient_does_not_modify_its_input():
    x = np.array([1.0, 2.0, 3.0])
    before = x.copy()
    numerical_gradient(lambda v: np.sum(v**3), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradients_of_several_arrays_match_autograd():
    rng = np.random.default_rng(0)
    W, x, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 1)), rng.normal(size=(3, 1))

    def loss(W, x, b):
        return np.sum(np.tanh(W @ x + b) ** 2)

    grads = numerical_gradients(loss, W, x, b)
    tensors = [torch.tensor(a, requires_grad=True) for a in (W, x, b)]
    torch.sum(torch.tanh(tensors[0] @ tensors[1] + tensors[2]) ** 2).backward()
    for g, t in zip(grads, tensors):
        assert g.shape == t.shape
        assert relative_error(g, t.grad) < 1e-8


def test_numerical_jacobian_agrees_with_torch_gradcheck_oracle():
    """torch.autograd.gradcheck compares autograd with its own finite differences; if it
    passes and our Jacobian equals autograd's, ours is right by an independent route."""
    rng = np.random.default_rng(1)
    A = rng.normal(size=(3, 5))

    def f_torch(x):
        return torch.tanh(torch.tensor(A) @ x) * x[:3]

    x = torch.tensor(rng.normal(size=5), requires_grad=True)
    assert torch.autograd.gradcheck(f_torch, (x,), eps=1e-6, atol=1e-8)
    expected = torch.autograd.functional.jacobian(f_torch, x).numpy()
    ours = numerical_jacobian(lambda v: np.tanh(A @ v) * v[:3], x.detach().numpy())
    assert ours.shape == (3, 5)  # numerator layout: outputs x inputs
    assert relative_error(ours, expected) < 1e-8


def test_central_difference_error_shrinks_like_eps_squared():
    x = np.array([0.7])
    exact = np.exp(0.7)
    errors = [abs(numerical_gradient(lambda v: np.exp(v).sum(), x, eps=e)[0] - exact) for e in (1e-2, 1e-3)]
    assert 50 < errors[0] / errors[1] < 200  # eps 10x smaller -> error about 100x smaller


def test_relative_error_is_scale_free_and_handles_zero():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6])
    assert relative_error(a, b) == pytest.approx(relative_error(1e6 * a, 1e6 * b))
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([1.0], [0.0]) == 1.0


def test_compare_reports_pass_and_fail_in_both_languages():
    good = compare("dW", np.ones((2, 3)), np.ones((2, 3)) + 1e-12)
    bad = compare("dW", np.ones((2, 3)), np.ones((2, 3)) * 1.1, lang="bn")
    assert good.passed and "PASS" in str(good) and "relative error" in str(good)
    assert not bad.passed and "মেলেনি" in str(bad) and "আপেক্ষিক ত্রুটি" in str(bad)
    assert bad.max_abs_error == pytest.approx(0.1)


def test_compare_accepts_torch_tensors_and_rejects_shape_mismatch():
    t = torch.arange(6.0, dtype=torch.float64).reshape(2, 3)
    near, far = np.arange(6.0).reshape(2, 3) + 1e-12, np.arange(6.0).reshape(2, 3) + 1e-3
    assert compare("t", near, t).passed and compare("t", t, near).passed
    report = compare("t", far, t)
    assert not report.passed and report.max_abs_error == pytest.approx(1e-3)
    with pytest.raises(ValueError, match="shapes differ"):
        compare("t", np.ones((3, 2)), t)


def test_compare_fails_on_nan():
    assert not compare("x", [np.nan], [1.0]).passed


def test_bad_input_gets_a_clear_message():
    with pytest.raises(TypeError, match="numeric"):
        numerical_gradient(lambda v: 0.0, "abc")
    with pytest.raises(ValueError, match="scalar"):
        numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(ValueError, match="lang"):
        compare("x", [1.0], [1.0], lang="fr")


def test_errors_within_tolerance_are_written_as_rounding_noise_and_findings_in_full():
    good = compare("dW", np.ones(3), np.ones(3) + 1e-15, tol=1e-12)
    bad = compare("dW", np.ones(3), np.full(3, 2.0), tol=1e-12)
    assert re.search(r"max abs error ~\d\.\de-1\d, relative error ~\d\.\de-1\d \(tolerance 1e-12\) PASS$", str(good))
    assert str(bad).endswith("max abs error 1.0e+00, relative error 5.0e-01 (tolerance 1e-12) FAIL")
    assert rounding(-1.4e-17) == "~-1.4e-17"
    assert rounding(0.29, tol=1e-7) == "2.9e-01" and rounding(2.6e-10, tol=1e-7) == "~2.6e-10"
    assert rounding(float("nan"), tol=1e-7) == "nan"  # not within any tolerance


def test_the_notebook_tests_mask_exactly_what_rounding_writes(root):
    """The sanitizer rule and `rounding` must agree on the form, or noise would be compared."""
    import configparser

    rules = configparser.ConfigParser()
    rules.read(root / "tests" / "nbval_sanitize.cfg", encoding="utf-8")
    noise = next(rules[s]["regex"] for s in rules.sections() if "rounding" in s)
    for x in (0.0, 2.3e-16, -1.4e-17, 9.9e-5):
        assert re.fullmatch(noise, rounding(x)), rounding(x)
    for stable in ("1.2e-04", "0.972630", "(4, 5)", "PASS"):
        assert not re.search(noise, stable)
