"""Every backward against centred differences, float64, relative error <= 1e-7."""

import numpy as np
import pytest

import cnnlib as c

TOL = 1e-7


def _check(forward, backward, inputs, index, rng, **kwargs):
    """Compare backward's gradient for inputs[index] with numerical_gradient."""
    out, cache = forward(*inputs, **kwargs)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    grads = grads if isinstance(grads, tuple) else (grads,)

    def f(value):
        args = list(inputs)
        args[index] = value
        return forward(*args, **kwargs)[0]

    numeric = c.numerical_gradient(f, inputs[index], dout)
    assert grads[index].shape == inputs[index].shape
    assert c.rel_error(grads[index], numeric) <= TOL


@pytest.mark.a1_backprop
@pytest.mark.parametrize("shape", [(1, 5), (4, 3), (2, 3, 4)])
def test_elementwise_backward(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    x[np.abs(x) < 1e-3] = 0.5  # keep away from relu's kink
    for forward, backward in [
        (c.relu_forward, c.relu_backward),
        (c.sigmoid_forward, c.sigmoid_backward),
        (c.tanh_forward, c.tanh_backward),
    ]:
        _check(forward, backward, [x], 0, rng)


@pytest.mark.a1_backprop
@pytest.mark.parametrize("x_shape", [(1, 6), (3, 6), (2, 2, 3), (2, 1, 2, 3)])
def test_affine_backward_all_inputs(x_shape):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((6, 4))
    b = rng.standard_normal(4)
    for index in range(3):
        _check(c.affine_forward, c.affine_backward, [x, w, b], index, rng)


@pytest.mark.a1_backprop
@pytest.mark.parametrize("n,classes", [(1, 3), (5, 10)])
def test_softmax_cross_entropy_gradient(n, classes):
    rng = np.random.default_rng(2)
    scores = rng.standard_normal((n, classes))
    y = rng.integers(0, classes, n)
    loss, dscores = c.softmax_cross_entropy(scores, y)
    numeric = c.numerical_gradient(lambda s: c.softmax_cross_entropy(s, y)[0], scores)
    assert c.rel_error(dscores, numeric) <= TOL


@pytest.mark.a1_backprop
def test_softmax_does_not_overflow_on_large_scores():
    scores = np.array([[1000.0, 0.0, -1000.0], [5000.0, 5000.0, 5000.0]])
    loss, dscores = c.softmax_cross_entropy(scores, np.array([0, 1]))
    assert np.isfinite(loss) and np.all(np.isfinite(dscores))
    assert loss == pytest.approx(np.log(3) / 2)


@pytest.mark.a1_backprop
def test_mse_gradient():
    rng = np.random.default_rng(3)
    pred, target = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    _, dpred = c.mse_loss(pred, target)
    numeric = c.numerical_gradient(lambda p: np.array(c.mse_loss(p, target)[0]), pred)
    assert c.rel_error(dpred, numeric) <= TOL


CONV_CASES = [
    # x shape, w shape, stride, pad
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 0),
    ((1, 1, 6, 9), (2, 1, 3, 2), 1, 1),          # batch 1, channel 1, non-square
    ((2, 2, 9, 7), (3, 2, 3, 3), 2, 1),
    ((1, 2, 8, 7), (2, 2, 2, 3), (2, 1), (1, 2)),  # tuple stride and pad
    ((3, 1, 5, 5), (1, 1, 5, 5), 1, 0),          # kernel the size of the input
    ((2, 2, 7, 7), (2, 2, 1, 1), 3, 0),          # 1x1 conv with stride
]


@pytest.mark.a2_convolution
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES)
@pytest.mark.parametrize("naive", [False, True], ids=["vectorized", "naive"])
def test_conv_backward(x_shape, w_shape, stride, pad, naive):
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    forward = c.conv2d_forward_naive if naive else c.conv2d_forward
    backward = c.conv2d_backward_naive if naive else c.conv2d_backward
    for index in range(3):
        _check(forward, backward, [x, w, b], index, rng, stride=stride, pad=pad)


@pytest.mark.a2_convolution
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CONV_CASES)
def test_naive_and_vectorized_conv_agree(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[0])
    fast, fast_cache = c.conv2d_forward(x, w, b, stride=stride, pad=pad)
    slow, slow_cache = c.conv2d_forward_naive(x, w, b, stride=stride, pad=pad)
    assert fast.shape == slow.shape
    assert c.rel_error(fast, slow) < 1e-10
    dout = rng.standard_normal(fast.shape)
    for g_fast, g_slow in zip(c.conv2d_backward(dout, fast_cache),
                              c.conv2d_backward_naive(dout, slow_cache), strict=True):
        assert c.rel_error(g_fast, g_slow) < 1e-10


POOL_CASES = [((2, 3, 6, 6), 2, None), ((1, 1, 7, 5), (3, 2), (2, 1)), ((2, 2, 5, 5), 3, 1)]


@pytest.mark.a2_convolution
@pytest.mark.parametrize("x_shape,kernel,stride", POOL_CASES)
def test_pool_backward(x_shape, kernel, stride):
    rng = np.random.default_rng(6)
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) / 7.0  # distinct: no ties
    for forward, backward in [(c.maxpool2d_forward, c.maxpool2d_backward),
                              (c.avgpool2d_forward, c.avgpool2d_backward)]:
        out, cache = forward(x, kernel, stride)
        dout = rng.standard_normal(out.shape)
        numeric = c.numerical_gradient(lambda t, f=forward: f(t, kernel, stride)[0], x, dout)
        assert c.rel_error(backward(dout, cache), numeric) <= TOL


@pytest.mark.a2_convolution
def test_maxpool_tie_routes_to_exactly_the_first_maximum():
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    out, cache = c.maxpool2d_forward(x, 2)
    dx = c.maxpool2d_backward(np.array([[[[5.0]]]]), cache)
    assert out.item() == 3.0
    assert dx.tolist() == [[[[0.0, 5.0], [0.0, 0.0]]]]


@pytest.mark.a2_convolution
def test_average_pool_divides_by_the_window():
    x = np.ones((1, 1, 4, 4))
    out, cache = c.avgpool2d_forward(x, 2)
    assert np.all(out == 1.0)
    assert np.all(c.avgpool2d_backward(np.ones((1, 1, 2, 2)), cache) == 0.25)


@pytest.mark.a2_convolution
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_preserved(dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 2, 6, 6)).astype(dtype)
    w = rng.standard_normal((3, 2, 3, 3)).astype(dtype)
    b = np.zeros(3, dtype)
    out, cache = c.conv2d_forward(x, w, b, pad=1)
    assert out.dtype == dtype
    assert all(g.dtype == dtype for g in c.conv2d_backward(np.ones_like(out), cache))
    for forward, backward in [(c.maxpool2d_forward, c.maxpool2d_backward),
                              (c.avgpool2d_forward, c.avgpool2d_backward)]:
        pooled, cache = forward(x, 2)
        assert pooled.dtype == dtype and backward(np.ones_like(pooled), cache).dtype == dtype
    for forward in [c.relu_forward, c.sigmoid_forward, c.tanh_forward]:
        assert forward(x)[0].dtype == dtype
    assert c.affine_forward(x, rng.standard_normal((72, 4)).astype(dtype),
                            np.zeros(4, dtype))[0].dtype == dtype


@pytest.mark.a2_convolution
def test_conv_rejects_mismatched_channels_clearly():
    with pytest.raises(ValueError, match="channels"):
        c.conv2d_forward(np.ones((1, 2, 5, 5)), np.ones((1, 3, 3, 3)), np.ones(1))
