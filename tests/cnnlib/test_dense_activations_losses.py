"""Affine layer, elementwise nonlinearities and losses: gradients, dtypes, stability, errors."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.a1_backprop

TOL = 1e-7


def grad_error(forward, backward, args, which, seed=0):
    """rel_error between backward's gradient for args[which] and centred differences."""
    rng = np.random.default_rng(seed)
    out, cache = forward(*args)
    dout = rng.standard_normal(np.shape(out))
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)
    assert grads[which].shape == args[which].shape

    def f(value):
        return forward(*[value if i == which else a for i, a in enumerate(args)])[0]

    return c.rel_error(grads[which], c.numerical_gradient(f, args[which], dout))


# --- affine --------------------------------------------------------------------------

AFFINE_SHAPES = [((1, 5), 3), ((4, 5), 1), ((3, 2, 5), 4), ((2, 1, 3, 2), 2)]


@pytest.mark.parametrize("x_shape,m", AFFINE_SHAPES)
@pytest.mark.parametrize("which", [0, 1, 2], ids=["dx", "dw", "db"])
def test_affine_backward_matches_numerical_gradient(x_shape, m, which):
    rng = np.random.default_rng(1)
    d = int(np.prod(x_shape[1:]))
    args = [rng.standard_normal(x_shape), rng.standard_normal((d, m)), rng.standard_normal(m)]
    assert grad_error(c.affine_forward, c.affine_backward, args, which) <= TOL


def test_affine_forward_flattens_each_example():
    x = np.arange(12.0).reshape(2, 2, 3)
    w = np.eye(6)[:, :2]  # picks the first two features of each flattened example
    out, _ = c.affine_forward(x, w, np.array([10.0, 20.0]))
    np.testing.assert_array_equal(out, [[10.0, 21.0], [16.0, 27.0]])


def test_affine_rejects_a_feature_mismatch():
    with pytest.raises(ValueError, match="features"):
        c.affine_forward(np.ones((2, 3, 2)), np.ones((5, 4)), np.ones(4))
    with pytest.raises(ValueError):
        c.affine_forward(np.ones((2, 6)), np.ones((6, 4)), np.ones(3))


# --- activations ---------------------------------------------------------------------

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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_keeps_the_dtype(dtype):
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(2, 3), (3, 4), (4,)])
    out, cache = c.affine_forward(x, w, b)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in c.affine_backward(np.ones_like(out), cache))


# --- losses --------------------------------------------------------------------------

@pytest.mark.parametrize("n,classes", [(1, 2), (1, 7), (6, 3), (5, 10)])
def test_softmax_cross_entropy_gradient(n, classes):
    rng = np.random.default_rng(4)
    scores = rng.standard_normal((n, classes))
    y = rng.integers(0, classes, n)
    _, dscores = c.softmax_cross_entropy(scores, y)
    numeric = c.numerical_gradient(lambda s: c.softmax_cross_entropy(s, y)[0], scores)
    assert c.rel_error(dscores, numeric) <= TOL


def test_softmax_cross_entropy_value_from_the_definition():
    scores = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 5.0]])
    y = np.array([2, 0])
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    expected = -(np.log(p[0, 2]) + np.log(p[1, 0])) / 2  # averaged over N = 2
    loss, _ = c.softmax_cross_entropy(scores, y)
    assert loss == pytest.approx(expected, rel=1e-12)


def test_softmax_cross_entropy_survives_huge_scores():
    # exp(1000) overflows: only a row-max shift gives the right answer
    scores = np.array([[1000.0, 0.0, -1000.0], [5000.0, 5000.0, 0.0]])
    loss, dscores = c.softmax_cross_entropy(scores, np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx(np.log(2.0) / 2, rel=1e-12)  # row 0: ~0; row 1: log 2
    np.testing.assert_allclose(dscores, [[0.0, 0.0, 0.0], [0.25, -0.25, 0.0]], atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_keeps_the_dtype_and_returns_a_float(dtype):
    scores = np.array([[0.5, -1.0], [2.0, 0.0]], dtype=dtype)
    loss, dscores = c.softmax_cross_entropy(scores, np.array([1, 0]))
    assert isinstance(loss, float)
    assert dscores.dtype == dtype


def test_softmax_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError):
        c.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError):
        c.softmax_cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))


def test_mse_value_and_gradient():
    pred, target = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[1.0, 0.0], [4.0, 5.0]])
    loss, dpred = c.mse_loss(pred, target)
    assert loss == pytest.approx((0 + 4 + 1 + 0) / 4)
    numeric = c.numerical_gradient(lambda p: c.mse_loss(p, target)[0], pred)
    assert c.rel_error(dpred, numeric) <= TOL


def test_mse_rejects_a_shape_mismatch():
    with pytest.raises(ValueError, match="shape"):
        c.mse_loss(np.ones((2, 3)), np.ones((3, 2)))
