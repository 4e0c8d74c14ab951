"""cnnlib.conv, the teaching convolution: output sizes, 2D cross-correlation and
convolution, the conv layer (loops and im2col), gradients, dtypes, input checks, the
lecture's properties, and PyTorch's shape rules."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import conv_problems

import cnnlib as c

pytestmark = pytest.mark.nb03_convolution

TOL = 1e-7
FORWARDS = [c.conv2d_forward, c.conv2d_forward_naive]
BACKWARDS = [c.conv2d_backward, c.conv2d_backward_naive]
KINDS = ["vectorized", "naive"]


def loop_conv(x, w, b, stride, pad):
    """The definition, written independently of cnnlib: out[n,f,r,s] = sum x_pad * w[f] + b,
    over every window that fits the padded input (the floor)."""
    (sh, sw) = stride if isinstance(stride, tuple) else (stride, stride)
    (ph, pw) = pad if isinstance(pad, tuple) else (pad, pad)
    xp = np.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * ph, x.shape[3] + 2 * pw))
    xp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] = x
    kh, kw = w.shape[2:]
    rows = [r for r in range(0, xp.shape[2] - kh + 1, sh)]
    cols = [s for s in range(0, xp.shape[3] - kw + 1, sw)]
    out = np.empty((x.shape[0], w.shape[0], len(rows), len(cols)))
    for n in range(x.shape[0]):
        for f in range(w.shape[0]):
            for i, r in enumerate(rows):
                for j, s in enumerate(cols):
                    out[n, f, i, j] = (xp[n, :, r:r + kh, s:s + kw] * w[f]).sum() + b[f]
    return out


# --- output sizes ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "size,kernel,stride,pad,expected",
    [(5, 3, 1, 0, 3), (5, 3, 1, 1, 5), (5, 3, 2, 0, 2), (7, 3, 2, 1, 4), (32, 5, 1, 2, 32),
     (4, 4, 1, 0, 1), (1, 1, 1, 0, 1), (6, 2, 2, 0, 3),
     # windows that leave a remainder: the floor, as torch.nn.Conv2d
     (5, 3, 3, 0, 1), (4, 3, 2, 0, 1), (8, 3, 2, 1, 4), (6, 3, 2, 0, 2), (227, 11, 4, 0, 55)],
)
def test_conv_output_size(size, kernel, stride, pad, expected):
    got = c.conv_output_size(size, kernel, stride, pad)
    assert got == expected and isinstance(got, int)


@pytest.mark.parametrize(
    "size,kernel,stride,pad",
    [(3, 5, 1, 0), (3, 6, 1, 1), (5, 3, 0, 0), (5, 3, 1, -1), (5, 0, 1, 0)],
    ids=["kernel-too-big", "too-big-padded", "stride-0", "negative-pad", "kernel-0"],
)
def test_conv_output_size_rejects_what_cannot_be_a_layer(size, kernel, stride, pad):
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
    # y(r, c) = sum_a sum_b x(r + a, c + b) k(KH - 1 - a, KW - 1 - b)
    for r in range(5):
        for s in range(3):
            expected = sum(x[r + a, s + b] * k[1 - a, 2 - b] for a in range(2) for b in range(3))
            assert y[r, s] == pytest.approx(expected)
    assert not np.allclose(y, c.cross_correlate2d(x, k))


def test_cross_correlation_rejects_bad_inputs():
    with pytest.raises(ValueError):
        c.cross_correlate2d(np.ones((3, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError):
        c.cross_correlate2d(np.ones((1, 3, 3)), np.ones((2, 2)))


# --- the conv layer --------------------------------------------------------------------

CASES = [
    # x shape, w shape, stride, pad
    ((2, 3, 6, 5), (4, 3, 3, 2), 1, 0),            # non-square input and kernel
    ((1, 2, 7, 7), (3, 2, 3, 3), 2, 1),            # batch 1, stride 2, pad 1
    ((3, 1, 5, 6), (2, 1, 2, 2), 1, 1),            # one input channel
    ((2, 2, 5, 5), (1, 2, 3, 3), 1, 2),            # one filter, pad wider than the kernel/2
    ((2, 2, 8, 7), (2, 2, 2, 3), (2, 1), (1, 0)),  # tuple stride and pad
    ((1, 1, 4, 4), (1, 1, 4, 4), 1, 0),            # kernel the size of the input
    ((2, 3, 7, 5), (2, 3, 1, 1), (3, 2), 0),       # 1x1 conv with a tuple stride
    ((1, 2, 3, 9), (2, 2, 3, 1), (1, 4), (0, 2)),  # very wide input, tall thin kernel
    ((2, 2, 8, 8), (3, 2, 3, 3), 2, 1),            # ResNet's downsampling: remainder dropped
    ((1, 1, 5, 5), (1, 1, 3, 3), 3, 0),            # the lecture's stride 3 on 5x5
]
IDS = ["nonsquare", "batch1-s2p1", "channel1", "filter1-p2", "tuple-sp", "full-kernel",
       "1x1-tuple-stride", "wide", "resnet-downsample", "stride3-on-5x5"]


def _problem(x_shape, w_shape, seed):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(x_shape), rng.standard_normal(w_shape),
            rng.standard_normal(w_shape[0]), rng)


@pytest.mark.parametrize("forward", FORWARDS, ids=KINDS)
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES, ids=IDS)
def test_forward_matches_the_definition(forward, x_shape, w_shape, stride, pad):
    x, w, b, _ = _problem(x_shape, w_shape, 1)
    expected = loop_conv(x, w, b, stride, pad)
    out, cache = forward(x, w, b, stride=stride, pad=pad)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert len(cache) == 5 and cache[0] is x and cache[1] is w  # (x, w, b, stride, pad)


@pytest.mark.parametrize("backward", BACKWARDS, ids=KINDS)
@pytest.mark.parametrize("x_shape,w_shape,stride,pad", CASES, ids=IDS)
def test_backward_matches_numerical_gradient(backward, x_shape, w_shape, stride, pad):
    x, w, b, rng = _problem(x_shape, w_shape, 2)
    args = [x, w, b]
    out, cache = c.conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    grads = backward(dout, cache)
    for which, arg in enumerate(args):
        def f(value, which=which):  # the forward, checked against the definition above
            call = [value if i == which else a for i, a in enumerate(args)]
            return c.conv2d_forward(*call, stride=stride, pad=pad)[0]

        assert grads[which].shape == arg.shape
        assert c.rel_error(grads[which], c.numerical_gradient(f, arg, dout)) <= TOL, which


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", [0, 1], ids=KINDS)
def test_dtype_in_is_dtype_out(dtype, kind):
    x, w, b, rng = _problem((2, 3, 7, 5), (2, 3, 3, 3), 5)
    x, w, b = x.astype(dtype), w.astype(dtype), b.astype(dtype)
    out, cache = FORWARDS[kind](x, w, b, stride=(2, 1), pad=1)
    assert out.dtype == dtype
    for grad in BACKWARDS[kind](rng.standard_normal(out.shape).astype(dtype), cache):
        assert grad.dtype == dtype
    if dtype == np.float32:  # and the float32 result is a float32-accurate answer
        expected = loop_conv(x.astype(np.float64), w.astype(np.float64), b, (2, 1), 1)
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("forward", FORWARDS, ids=KINDS)
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
        forward(x, np.ones((4, 3, 8, 3)), b, pad=1)  # 8 > 5 + 2 * 1
    assert forward(x, w, b, stride=3)[0].shape == (2, 4, 1, 1)  # a remainder is not an error


# --- properties ------------------------------------------------------------------------

@given(conv_problems(), st.floats(-3, 3), st.floats(-3, 3))
def test_conv_is_linear_in_x_and_in_w(problem, alpha, beta):
    p = problem
    x2, w2 = p.rng.standard_normal(p.x.shape), p.rng.standard_normal(p.w.shape)
    zero = np.zeros_like(p.b)

    def conv(xx, ww):
        return c.conv2d_forward(xx, ww, zero, stride=p.stride, pad=p.pad)[0]

    scale = 1 + abs(alpha) + abs(beta)
    np.testing.assert_allclose(conv(alpha * p.x + beta * x2, p.w),
                               alpha * conv(p.x, p.w) + beta * conv(x2, p.w), atol=1e-9 * scale)
    np.testing.assert_allclose(conv(p.x, alpha * p.w + beta * w2),
                               alpha * conv(p.x, p.w) + beta * conv(p.x, w2), atol=1e-9 * scale)


@given(conv_problems(stride_one=True))
def test_backward_is_the_lectures_duality(problem):
    """Stride 1: dX is the convolution of the zero-padded dout with the kernel, summed over
    filters; dK is the cross-correlation of the (padded) input with dout, summed over the
    batch; db sums dout."""
    p = problem
    (ph, pw), (kh, kw) = p.pad, p.w.shape[2:]
    out, cache = c.conv2d_forward(p.x, p.w, p.b, stride=1, pad=p.pad)
    dout = p.dout(out.shape)
    dx, dw, db = c.conv2d_backward(dout, cache)
    xp = np.pad(p.x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    n, ch = p.x.shape[:2]
    dxp = np.zeros_like(xp)
    for i in range(n):
        for j in range(ch):
            for k in range(p.w.shape[0]):
                full = np.pad(dout[i, k], ((kh - 1, kh - 1), (kw - 1, kw - 1)))
                dxp[i, j] += c.convolve2d(full, p.w[k, j])
    expected_dw = np.zeros_like(p.w)
    for k in range(p.w.shape[0]):
        for j in range(ch):
            expected_dw[k, j] = sum(c.cross_correlate2d(xp[i, j], dout[i, k]) for i in range(n))
    np.testing.assert_allclose(dx, dxp[:, :, ph:ph + p.x.shape[2], pw:pw + p.x.shape[3]],
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


# --- PyTorch's shape rules (skipped where torch is not installed) -----------------------

@given(conv_problems(max_batch=2))
def test_forward_and_backward_equal_torch_including_remainders(problem):
    torch = pytest.importorskip("torch", reason="torch is not installed (optional)")
    p = problem
    out, cache = c.conv2d_forward(p.x, p.w, p.b, stride=p.stride, pad=p.pad)
    dout = p.dout(out.shape)
    dx, dw, db = c.conv2d_backward(dout, cache)
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (p.x, p.w, p.b))
    expected = torch.nn.functional.conv2d(tx, tw, tb, stride=p.stride, padding=p.pad)
    expected.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, expected.detach().numpy(), atol=1e-10)
    for ours, theirs in ((dx, tx), (dw, tw), (db, tb)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-10)


def test_a_kernel_larger_than_the_padded_input_is_refused_like_torch():
    torch = pytest.importorskip("torch", reason="torch is not installed (optional)")
    x, w, b = np.ones((1, 1, 3, 3)), np.ones((1, 1, 6, 6)), np.zeros(1)
    with pytest.raises(RuntimeError):
        torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1)
    with pytest.raises(ValueError, match="does not fit"):
        c.conv2d_forward(x, w, b, pad=1)


# --- parameter counts -------------------------------------------------------------------

@pytest.mark.parametrize("in_channels, kernel_size, n_kernels, expected", [
    (3, 3, 4, 112),         # the slides: (3 * 3 * 3 + 1) * 4
    (1, 3, 1, 10),          # idea 2 of the lecture: one shared 3x3 kernel and its bias
    (1, 3, 64, 640),        # idea 3: 64 learned features
    (3, (5, 3), 2, 92),     # non-square: (5 * 3 * 3 + 1) * 2
    (64, 1, 16, 1040),      # a 1x1 convolution: one weight per input channel
])
def test_conv_params_counts_weights_and_one_bias_per_kernel(in_channels, kernel_size,
                                                            n_kernels, expected):
    assert c.conv_params(in_channels, kernel_size, n_kernels) == expected


def test_conv_params_equals_the_size_of_a_layers_arrays():
    for in_channels, kh, kw, n_kernels in [(3, 3, 3, 4), (2, 5, 1, 7), (16, 3, 3, 32)]:
        w, b = np.zeros((n_kernels, in_channels, kh, kw)), np.zeros(n_kernels)
        assert c.conv_params(in_channels, (kh, kw), n_kernels) == w.size + b.size


def test_conv_params_refuses_empty_layers():
    for args in [(0, 3, 4), (3, 0, 4), (3, 3, 0), (3, (3, 0), 1)]:
        with pytest.raises(ValueError):
            c.conv_params(*args)
