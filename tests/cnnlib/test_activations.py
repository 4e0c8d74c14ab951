"""cnnlib.activations: gradients, stability, formulas, dtypes."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb02_vector_backprop


TOL = 1e-7


def grad_error(forward, backward, args, which, seed=0):
    """rel_error between backward's gradient for args[which] and centered differences."""
    rng = np.random.default_rng(seed)
    out, cache = forward(*args)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert grads[which].shape == args[which].shape

    def f(value):
        return forward(*[value if i == which else a for i, a in enumerate(args)])[0]

    return c.rel_error(grads[which], c.numerical_gradient(f, args[which], dout))


ACTIVATIONS = [
    (c.relu_forward, c.relu_backward),
    (c.sigmoid_forward, c.sigmoid_backward),
    (c.tanh_forward, c.tanh_backward),
]


IDS = ["relu", "sigmoid", "tanh"]


@pytest.mark.parametrize("forward,backward", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("shape", [(1,), (1, 1), (3, 5), (2, 3, 4, 1)])
def test_activation_backward_matches_numerical_gradient(forward, backward, shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)  # moderate: saturated tanh has tiny gradients, all noise
    x[np.abs(x) < 1e-2] = 0.7  # relu has a kink at 0: stay clear of it by more than h
    assert grad_error(forward, backward, [x], 0) <= TOL


def test_relu_backward_blocks_exactly_zero_inputs():
    _, cache = c.relu_forward(np.array([0.0, 1e-300, -1e-300]))
    np.testing.assert_array_equal(c.relu_backward(np.ones(3), cache), [0.0, 1.0, 0.0])


def test_sigmoid_is_stable_and_exact_at_the_extremes():
    out, _ = c.sigmoid_forward(np.array([-1000.0, 0.0, 1000.0]))
    assert np.all(np.isfinite(out))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    # far left, sigma(x) ~ e^x; a formula that computes 1 - 1/(1 + e^-x) returns 0 there
    small, _ = c.sigmoid_forward(np.array([-50.0]))
    assert small[0] == pytest.approx(np.exp(-50.0), rel=1e-12)


def test_activations_match_their_textbook_formulas():
    x = np.linspace(-4, 4, 17)
    np.testing.assert_allclose(c.sigmoid_forward(x)[0], 1 / (1 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(c.tanh_forward(x)[0], np.tanh(x), rtol=1e-14)
    np.testing.assert_array_equal(c.relu_forward(x)[0], np.where(x > 0, x, 0.0))


@pytest.mark.parametrize("forward,backward", ACTIVATIONS, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_keep_the_dtype(forward, backward, dtype):
    x = np.linspace(-2, 2, 6).astype(dtype)
    out, cache = forward(x)
    assert out.dtype == dtype
    assert backward(np.ones_like(x), cache).dtype == dtype

