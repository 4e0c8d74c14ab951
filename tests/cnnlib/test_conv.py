"""Convolution: output sizes, 2D cross-correlation/convolution, the conv layer (naive and
vectorized), their gradients, dtypes, input validation, and the lecture's properties."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlib as c

pytestmark = pytest.mark.a2_convolution

TOL = 1e-7


def loop_conv(x, w, b, stride, pad):
    """The definition, written independently of cnnlib: out[n,f,r,s] = sum x_pad * w[f] + b."""
    (sh, sw) = stride if isinstance(stride, tuple) else (stride, stride)
    (ph, pw) = pad if isinstance(pad, tuple) else (pad, pad)
    xp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    kh, kw = w.shape[2:]
    ho, wo = (xp.shape[2] - kh) // sh + 1, (xp.shape[3] - kw) // sw + 1
    out = np.empty((x.shape[0], w.shape[0], ho, wo))
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for r in range(ho):
                for s in range(wo):
                    patch = xp[n, :, r * sh:r * sh + kh, s * sw:s * sw + kw]
                    out[n, f, r, s] = (patch * w[f]).sum() + b[f]
    return out


# --- output sizes ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "size,kernel,stride,pad,expected",
    [(5, 3, 1, 0, 3), (5, 3, 1, 1, 5), (5, 3, 2, 0, 2), (7, 3, 2, 1, 4), (32, 5, 1, 2, 32),
     (4, 4, 1, 0, 1), (1, 1, 1, 0, 1), (6, 2, 2, 0, 3)],
)
def test_conv_output_size(size, kernel, stride, pad, expected):
    assert c.conv_output_size(size, kernel, stride, pad) == expected


@pytest.mark.parametrize(
    "size,kernel,stride,pad",
    [(5, 3, 3, 0), (4, 3, 2, 0), (3, 5, 1, 0), (3, 6, 1, 1), (5, 3, 0, 0)],
    ids=["stride-3-skips", "stride-2-skips", "kernel-too-big", "too-big-padded", "stride-0"],
)
def test_conv_output_size_rejects_a_kernel_that_does_not_fit(size, kernel, stride, pad):
    with pytest.raises(ValueError, match=str(kernel)):
        c.conv_output_size(size, kernel, stride, pad)


# --- single-channel cross-correlation and convolution ---------------------------------

def test_cross_correlation_of_a_hand_example():
    x = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
    k = np.array([[1.0, -1.0], [0.0, 2.0]])
    # y(0,0) = 1 - 2 + 0 + 2*1 = 1; y(0,1) = 2 - 0 + 0 + 2*3 = 8
    # y(1,0) = 0 - 1 + 0 + 2*0 = -1; y(1,1) = 1 - 3 + 0 + 2*1 = 0
    np.testing.assert_array_equal(c.cross_correlate2d(x, k), [[1.0, 8.0], [-1.0, 0.0]])


def test_convolution_flips_the_kernel_non_square():
    rng = np.random.default_rng(0)
    x, k = rng.standard_normal((6, 5)), rng.standard_normal((2, 3))
    y = c.convolve2d(x, k)
    assert y.shape == (5, 3)
    # the lecture's definition: y(r, c) = sum_a sum_b x(a, b) k(r - a, c - b), here written
    # with the kernel index running backwards over each window
    for r in range(5):
        for s in range(3):
            window = x[r:r + 2, s:s + 3]
            assert y[r, s] == pytest.approx(np.sum(window * k[::-1, ::-1]))
    assert not np.allclose(y, c.cross_correlate2d(x, k))


def test_cross_correlation_rejects_bad_inputs():
    with pytest.raises(ValueError):
        c.cross_correlate2d(np.ones((3, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError):
        c.cross_correlate2d(np.ones((1, 3, 3)), np.ones((2, 2)))


# --- the conv layer --------------------------------------------------------------------

CASES = [
    # x shape, w shape, stride, pad
    ((2, 3, 6, 5), (4, 3, 3, 2), 1, 0),           # non-square input and kernel
    ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1),           # batch 1, stride 2, pad 1
    ((3, 1, 5, 6), (2, 1, 2, 2), 1, 1),           # one input channel
    ((2, 2, 5, 5), (1, 2, 3, 3), 1, 2),           # one filter, pad wider than the kernel/2
    ((2, 2, 8, 7), (2, 2, 2, 3), (2, 1), (1, 0)),  # tuple stride and pad
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0),           # kernel the size of the input
    ((2, 3, 7, 5), (2, 3, 1, 1), (3, 2), 0),      # 1x1 conv with a tuple stride
    ((1, 2, 3, 9), (2, 2, 3, 1), (1, 4), (0, 2)),  # very wide input, tall thin kernel
]
IDS = ["nonsquare", "batch1-s2p1", "channel1", "filter1-p2", "tuple-sp", "full-kernel",
       "1x1-tuple-stride", "wide"]


def _problem(x_shape, w_shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape), rng.standard_normal(w_shape),
            rng.standard_normal(w_shape[0]), rng)


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES, ids=IDS)
def test_forward_matches_the_definition(x_shape, w_shape, stride, pad):
    x, w, b, _ = _problem(x_shape, w_shape, 1)
    expected = loop_conv(x, w, b, stride, pad)
    for forward in (c.conv2d_forward, c.conv2d_forward_naive):
        out, _ = forward(x, w, b, stride=stride, pad=pad)
        assert out.shape == expected.shape
        np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES, ids=IDS)
@pytest.mark.parametrize("which", [0, 1, 2], ids=["dx", "dw", "db"])
def test_vectorized_backward_matches_numerical_gradient(x_shape, w_shape, stride, pad, which):
    x, w, b, rng = _problem(x_shape, w_shape, 2)
    args = [x, w, b]
    out, cache = c.conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    grad = c.conv2d_backward(dout, cache)[which]

    def f(value):
        call = [value if i == which else a for i, a in enumerate(args)]
        return c.conv2d_forward(*call, stride=stride, pad=pad)[0]

    assert grad.shape == args[which].shape
    assert c.rel_error(grad, c.numerical_gradient(f, args[which], dout)) <= TOL


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES[:3], ids=IDS[:3])
def test_naive_backward_matches_numerical_gradient(x_shape, w_shape, stride, pad):
    x, w, b, rng = _problem(x_shape, w_shape, 3)
    out, cache = c.conv2d_forward_naive(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = c.conv2d_backward_naive(dout, cache)
    fx = c.numerical_gradient(lambda t: c.conv2d_forward(t, w, b, stride=stride, pad=pad)[0],
                              x, dout)
    fw = c.numerical_gradient(lambda t: c.conv2d_forward(x, t, b, stride=stride, pad=pad)[0],
                              w, dout)
    assert c.rel_error(dx, fx) <= TOL
    assert c.rel_error(dw, fw) <= TOL
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)))


@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES, ids=IDS)
def test_naive_and_vectorized_agree(x_shape, w_shape, stride, pad):
    x, w, b, rng = _problem(x_shape, w_shape, 4)
    fast, fast_cache = c.conv2d_forward(x, w, b, stride=stride, pad=pad)
    slow, slow_cache = c.conv2d_forward_naive(x, w, b, stride=stride, pad=pad)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(fast.shape)
    pairs = zip(c.conv2d_backward(dout, fast_cache), c.conv2d_backward_naive(dout, slow_cache),
                strict=True)
    for name, (g_fast, g_slow) in zip(["dx", "dw", "db"], pairs, strict=True):
        assert g_fast.shape == g_slow.shape, name
        np.testing.assert_allclose(g_fast, g_slow, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("naive", [False, True], ids=["vectorized", "naive"])
def test_dtype_in_is_dtype_out(dtype, naive):
    forward = c.conv2d_forward_naive if naive else c.conv2d_forward
    backward = c.conv2d_backward_naive if naive else c.conv2d_backward
    x, w, b, rng = _problem((2, 3, 7, 5), (2, 3, 3, 3), 5)
    x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
    out, cache = forward(x, w, b, stride=(2, 1), pad=1)
    assert out.dtype == dtype
    for grad in backward(rng.standard_normal(out.shape).astype(dtype), cache):
        assert grad.dtype == dtype
    if dtype == np.float32:  # and the float32 result is a float32-accurate answer
        expected = loop_conv(x.astype(np.float64), w.astype(np.float64), b, (2, 1), 1)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("forward", [c.conv2d_forward, c.conv2d_forward_naive],
                         ids=["vectorized", "naive"])
def test_conv_validates_its_inputs(forward):
    x, w, b = np.ones((2, 3, 5, 5)), np.ones((4, 3, 3, 3)), np.ones(4)
    with pytest.raises(ValueError, match="channel"):
        forward(x, np.ones((4, 2, 3, 3)), b)
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        forward(np.ones((3, 5, 5)), w, b)
    with pytest.raises(ValueError, match=r"\(F, C, KH, KW\)"):
        forward(x, np.ones((3, 3, 3)), b)
    with pytest.raises(ValueError, match="b must"):
        forward(x, w, np.ones(3))
    with pytest.raises(ValueError, match="does not fit"):
        forward(x, np.ones((4, 3, 7, 3)), b)
    with pytest.raises(ValueError, match="stride"):
        forward(x, w, b, stride=3)  # (5 - 3) / 3 is not whole: the lecture's stride 3


# --- properties (hypothesis, derandomized in tests/conftest.py) ------------------------

@st.composite
def conv_problems(draw, stride_one=False):
    n, ch, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = (1, 1) if stride_one else (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    # an input size that the windows tile exactly: kh - 2 ph + sh * (outputs - 1), >= 1
    ho, wo = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = kh - 2 * ph + sh * (ho - 1), kw - 2 * pw + sw * (wo - 1)
    if h < 1 or w < 1:
        ph, pw = 0, 0
        h, w = kh + sh * (ho - 1), kw + sw * (wo - 1)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((n, ch, h, w))
    wt = rng.standard_normal((f, ch, kh, kw))
    return x, wt, rng.standard_normal(f), (sh, sw), (ph, pw), rng


@given(conv_problems(), st.floats(-3, 3), st.floats(-3, 3))
def test_conv_is_linear_in_x_and_in_w(problem, alpha, beta):
    x, w, b, stride, pad, rng = problem
    x2, w2 = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    zero = np.zeros_like(b)

    def conv(xx, ww):
        return c.conv2d_forward(xx, ww, zero, stride=stride, pad=pad)[0]

    scale = 1 + abs(alpha) + abs(beta)
    np.testing.assert_allclose(conv(alpha * x + beta * x2, w),
                               alpha * conv(x, w) + beta * conv(x2, w), atol=1e-9 * scale * 50)
    np.testing.assert_allclose(conv(x, alpha * w + beta * w2),
                               alpha * conv(x, w) + beta * conv(x, w2), atol=1e-9 * scale * 50)


@given(conv_problems(stride_one=True))
def test_backward_is_the_lectures_duality(problem):
    """Stride 1: dX is the full cross-correlation of dout with the flipped kernel (i.e. the
    convolution of the zero-padded dout with the kernel), summed over filters; dK is the
    cross-correlation of the (padded) input with dout, summed over the batch."""
    x, w, b, stride, pad, rng = problem
    (ph, pw), (kh, kw) = pad, w.shape[2:]
    out, cache = c.conv2d_forward(x, w, b, stride=1, pad=pad)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = c.conv2d_backward(dout, cache)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, ch = x.shape[:2]
    f = w.shape[0]
    dxp = np.zeros_like(xp)
    for i in range(n):
        for j in range(ch):
            for k in range(f):
                full = np.pad(dout[i, k], ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                dxp[i, j] += c.convolve2d(full, w[k, j])
    expected_dw = np.zeros_like(w)
    for k in range(f):
        for j in range(ch):
            expected_dw[k, j] = sum(c.cross_correlate2d(xp[i, j], dout[i, k]) for i in range(n))
    np.testing.assert_allclose(dx, dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]],
                               atol=1e-10)
    np.testing.assert_allclose(dw, expected_dw, atol=1e-10)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)), atol=1e-12)


@given(st.integers(0, 2**32 - 1), st.integers(0, 3), st.integers(0, 3),
       st.integers(1, 3), st.integers(1, 3))
def test_conv_is_translation_equivariant_away_from_the_border(seed, dr, dc, kh, kw):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, 9, 8))
    w, b = rng.standard_normal((2, 2, kh, kw)), rng.standard_normal(2)
    shifted = np.roll(x, (dr, dc), axis=(2, 3))  # wraps around: compare only unwrapped rows
    out, _ = c.conv2d_forward(x, w, b)
    out_shifted, _ = c.conv2d_forward(shifted, w, b)
    ho, wo = out.shape[2:]
    np.testing.assert_allclose(out_shifted[:, :, dr:, dc:], out[:, :, :ho - dr, :wo - dc],
                               atol=1e-12)
