"""cnnlib.dense, the affine layer: gradients, flattening, errors, dtypes."""

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



@pytest.mark.parametrize("n,d,m", [(1, 1, 1), (2, 3, 4), (3, 1, 2), (1, 4, 3)])
def test_matmul_jacobian_entries_counts_the_jacobians_formed_entry_by_entry(n, d, m):
    # Form both Jacobians of y = x w by nudging every entry of x and of w and recording how
    # every entry of y moves: their sizes are what the function counts.
    rng = np.random.default_rng(n * 100 + d * 10 + m)
    x, w = rng.standard_normal((n, d)), rng.standard_normal((d, m))
    dy_dx = [(x + np.eye(n * d)[k].reshape(n, d)) @ w - x @ w for k in range(n * d)]
    dy_dw = [x @ (w + np.eye(d * m)[k].reshape(d, m)) - x @ w for k in range(d * m)]
    assert c.matmul_jacobian_entries(n, d, m) == (np.size(dy_dx), np.size(dy_dw))


def test_matmul_jacobian_entries_of_the_lecture_layer():
    # N = 64, D = M = 4096: the lecture's 256 GB is 2**38 bytes of float32 (256 GiB).
    dx_entries, dw_entries = c.matmul_jacobian_entries(64, 4096, 4096)
    assert 4 * dx_entries == 256 * 2**30
    assert 4 * dw_entries == 16 * 2**40
    assert all(type(v) is int for v in (dx_entries, dw_entries))
