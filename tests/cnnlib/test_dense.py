"""cnnlib.dense, the affine layer: gradients, flattening, errors, dtypes."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb02_vector_backprop


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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_affine_keeps_the_dtype(dtype):
    rng = np.random.default_rng(3)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in [(2, 3), (3, 4), (4,)])
    out, cache = c.affine_forward(x, w, b)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in c.affine_backward(np.ones_like(out), cache))

