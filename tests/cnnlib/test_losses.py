"""cnnlib.losses: softmax cross-entropy and MSE, values, gradients, stability, errors."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb02_vector_backprop


TOL = 1e-7


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

