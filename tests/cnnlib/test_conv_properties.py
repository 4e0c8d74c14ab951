"""Properties of convolution and pooling (hypothesis, derandomized in tests/conftest.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlib as c

pytestmark = pytest.mark.a2_convolution


@st.composite
def conv_problem(draw, stride_one=False):
    n, ch, f = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    pad = 0 if stride_one else draw(st.integers(0, 1))
    stride = 1 if stride_one else draw(st.integers(1, 2))
    # sizes that the windows tile exactly
    ho, wo = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = (ho - 1) * stride + kh - 2 * pad, (wo - 1) * stride + kw - 2 * pad
    if h < 1 or w < 1:
        h, w, pad = (ho - 1) * stride + kh, (wo - 1) * stride + kw, 0
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, ch, h, w))
    weights = rng.standard_normal((f, ch, kh, kw))
    return x, weights, rng.standard_normal(f), stride, pad, rng


@given(conv_problem(), st.floats(-3, 3), st.floats(-3, 3))
def test_conv_is_linear_in_x_and_in_w(problem, a, b):
    x, w, bias, stride, pad, rng = problem
    zero = np.zeros_like(bias)

    def conv(x_, w_):
        return c.conv2d_forward(x_, w_, zero, stride=stride, pad=pad)[0]

    x2, w2 = rng.standard_normal(x.shape), rng.standard_normal(w.shape)
    np.testing.assert_allclose(conv(a * x + b * x2, w), a * conv(x, w) + b * conv(x2, w),
                               atol=1e-9)
    np.testing.assert_allclose(conv(x, a * w + b * w2), a * conv(x, w) + b * conv(x, w2),
                               atol=1e-9)


@given(conv_problem(stride_one=True))
def test_backward_is_the_lectures_duality(problem):
    """dx = full cross-correlation of dout with the flipped kernel; dw = x cross-corr dout."""
    x, w, bias, _, _, rng = problem
    out, cache = c.conv2d_forward(x, w, bias)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = c.conv2d_backward(dout, cache)
    kh, kw = w.shape[2:]
    for n in range(x.shape[0]):
        for ch in range(x.shape[1]):
            expected = sum(
                c.convolve2d(np.pad(dout[n, f], ((kh - 1, kh - 1), (kw - 1, kw - 1))), w[f, ch])
                for f in range(w.shape[0])
            )
            np.testing.assert_allclose(dx[n, ch], expected, atol=1e-9)
    for f in range(w.shape[0]):
        for ch in range(w.shape[1]):
            expected = sum(c.cross_correlate2d(x[n, ch], dout[n, f]) for n in range(x.shape[0]))
            np.testing.assert_allclose(dw[f, ch], expected, atol=1e-9)
    np.testing.assert_allclose(db, dout.sum(axis=(0, 2, 3)))


@given(st.integers(0, 2**16), st.integers(1, 3), st.integers(1, 3))
def test_conv_is_translation_equivariant_away_from_the_border(seed, dr, dc):
    rng = np.random.default_rng(seed)
    x = np.zeros((1, 1, 14, 14))
    x[0, 0, 3:7, 3:7] = rng.standard_normal((4, 4))  # content well inside the image
    w = rng.standard_normal((2, 1, 3, 3))
    shifted = np.roll(x, (dr, dc), axis=(2, 3))
    out = c.conv2d_forward(x, w, np.zeros(2))[0]
    out_shifted = c.conv2d_forward(shifted, w, np.zeros(2))[0]
    np.testing.assert_allclose(np.roll(out, (dr, dc), axis=(2, 3)), out_shifted, atol=1e-12)


@given(st.integers(0, 2**16), st.integers(0, 2), st.integers(0, 2))
def test_maxpool_ignores_a_shift_that_stays_inside_the_window(seed, dr, dc):
    rng = np.random.default_rng(seed)
    x = np.zeros((1, 1, 8, 8))
    x[0, 0, 4 + dr, 4 + dc] = 1.0 + rng.random()  # a single bright pixel in window (1, 1)
    base = np.zeros((1, 1, 8, 8))
    base[0, 0, 4, 4] = x[0, 0, 4 + dr, 4 + dc]
    pooled = c.maxpool2d_forward(x, 4)[0]
    np.testing.assert_array_equal(pooled, c.maxpool2d_forward(base, 4)[0])
