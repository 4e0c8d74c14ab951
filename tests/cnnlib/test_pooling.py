"""cnnlib.pooling, the teaching pooling: values, gradients, the tie rule, dtypes, errors,
invariance, and PyTorch's shape rules."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import pool_problems

import cnnlib as c

pytestmark = pytest.mark.nb04_pooling

TOL = 1e-7

CASES = [
    # x shape, kernel_size, stride
    ((2, 3, 6, 6), 2, None),          # the usual 2x2, stride defaults to the kernel
    ((1, 1, 7, 5), (3, 2), (2, 1)),   # batch 1, channel 1, non-square window and stride
    ((2, 2, 5, 5), 3, 1),             # overlapping windows
    ((1, 2, 4, 9), (2, 3), None),     # non-square input, non-square default stride
    ((3, 1, 5, 4), 2, None),          # a last row that no window covers (floor, like torch)
    ((1, 1, 3, 3), 3, None),          # one window: global pooling
]
IDS = ["2x2", "nonsquare-tuple", "overlap", "wide", "floor", "global"]
POOLS = [(c.maxpool2d_forward, c.maxpool2d_backward), (c.avgpool2d_forward, c.avgpool2d_backward)]
POOL_IDS = ["max", "avg"]


def loop_pool(x, kernel_size, stride, reduce):
    kh, kw = kernel_size if isinstance(kernel_size, tuple) else (kernel_size,) * 2
    st_ = kernel_size if stride is None else stride
    sh, sw = st_ if isinstance(st_, tuple) else (st_,) * 2
    ho, wo = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.empty(x.shape[:2] + (ho, wo))
    for r in range(ho):
        for s in range(wo):
            out[:, :, r, s] = reduce(x[:, :, r * sh:r * sh + kh, s * sw:s * sw + kw], axis=(2, 3))
    return out


def distinct(shape, seed):
    """Values at least 1/7 apart: no ties, and a nudge of h never changes the argmax."""
    rng = np.random.default_rng(seed)
    return rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0


@pytest.mark.parametrize("x_shape,kernel,stride", CASES, ids=IDS)
def test_forward_matches_the_definition(x_shape, kernel, stride):
    x = distinct(x_shape, 0)
    np.testing.assert_array_equal(c.maxpool2d_forward(x, kernel, stride)[0],
                                  loop_pool(x, kernel, stride, np.max))
    np.testing.assert_allclose(c.avgpool2d_forward(x, kernel, stride)[0],
                               loop_pool(x, kernel, stride, np.mean), rtol=1e-14)


@pytest.mark.parametrize("forward,backward", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize("x_shape,kernel,stride", CASES, ids=IDS)
def test_backward_matches_numerical_gradient(forward, backward, x_shape, kernel, stride):
    x = distinct(x_shape, 1)
    out, cache = forward(x, kernel, stride)
    dout = np.random.default_rng(2).standard_normal(out.shape)
    dx = backward(dout, cache)
    assert dx.shape == x.shape
    numeric = c.numerical_gradient(lambda t: forward(t, kernel, stride)[0], x, dout)
    assert c.rel_error(dx, numeric) <= TOL


def test_maxpool_tie_goes_to_exactly_the_first_maximum_in_row_major_order():
    # window 0 is all equal; window 1 has its maximum 5 at (0, 1) and (1, 0)
    x = np.array([[[[2.0, 2.0, 1.0, 5.0],
                    [2.0, 2.0, 5.0, 0.0]]]])
    out, cache = c.maxpool2d_forward(x, 2)
    np.testing.assert_array_equal(out, [[[[2.0, 5.0]]]])
    dx = c.maxpool2d_backward(np.array([[[[3.0, 7.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0, 0.0, 7.0],
                                          [0.0, 0.0, 0.0, 0.0]]]])


def test_maxpool_ties_in_overlapping_windows_route_per_window():
    # stride 1, 2x2 windows over a constant row pair: each window picks its own top-left
    x = np.ones((1, 1, 2, 3))
    _, cache = c.maxpool2d_forward(x, 2, 1)
    dx = c.maxpool2d_backward(np.array([[[[1.0, 10.0]]]]), cache)
    np.testing.assert_array_equal(dx, [[[[1.0, 10.0, 0.0], [0.0, 0.0, 0.0]]]])


def test_maxpool_gradient_mass_is_conserved_with_many_ties():
    rng = np.random.default_rng(3)
    x = rng.integers(0, 2, (2, 3, 6, 6)).astype(float)  # ties everywhere
    out, cache = c.maxpool2d_forward(x, 2)
    dout = rng.standard_normal(out.shape)
    dx = c.maxpool2d_backward(dout, cache)
    windows = dx.reshape(2, 3, 3, 2, 3, 2)
    assert np.all(np.count_nonzero(windows, axis=(3, 5)) <= 1)  # one receiver per window
    np.testing.assert_allclose(windows.sum(axis=(3, 5)), dout)


def test_average_pool_divides_by_the_window_size():
    x = np.arange(24.0).reshape(1, 1, 4, 6)
    out, cache = c.avgpool2d_forward(x, (2, 3))
    # top-left window: 0 1 2 / 6 7 8 -> 24 / 6
    assert out[0, 0, 0, 0] == pytest.approx(4.0)
    dx = c.avgpool2d_backward(np.full(out.shape, 6.0), cache)
    np.testing.assert_array_equal(dx, np.ones_like(x))  # 6 / (2 * 3) to every input


@pytest.mark.parametrize("forward,backward", POOLS, ids=POOL_IDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_is_dtype_out(forward, backward, dtype):
    x = distinct((2, 2, 4, 4), 4).astype(dtype)
    out, cache = forward(x, 2)
    assert out.dtype == dtype
    assert backward(np.ones_like(out), cache).dtype == dtype


@pytest.mark.parametrize("forward", [c.maxpool2d_forward, c.avgpool2d_forward],
                         ids=POOL_IDS)
def test_pooling_validates_its_inputs(forward):
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        forward(np.ones((4, 4)), 2)
    with pytest.raises(ValueError, match="does not fit"):
        forward(np.ones((1, 1, 3, 5)), (4, 2))
    with pytest.raises(ValueError):
        forward(np.ones((1, 1, 4, 4)), 2, 0)


@given(st.integers(0, 2**32 - 1), st.integers(2, 4), st.data())
def test_maxpool_output_unchanged_by_a_shift_inside_the_window(seed, k, data):
    """Each window holds one positive spike; moving the whole image by (dr, dc) keeps every
    spike inside its own window, so the max-pooled output does not change."""
    rng = np.random.default_rng(seed)
    windows_r, windows_c = 3, 2
    x = np.zeros((1, 2, windows_r * k, windows_c * k))
    # the spike's offset leaves room for the shift inside the window
    dr, dc = data.draw(st.integers(0, k - 1)), data.draw(st.integers(0, k - 1))
    for ch in range(2):
        for r in range(windows_r):
            for s in range(windows_c):
                a, b = rng.integers(0, k - dr), rng.integers(0, k - dc)
                x[0, ch, r * k + a, s * k + b] = rng.uniform(0.5, 2.0)
    shifted = np.roll(x, (dr, dc), axis=(2, 3))  # nothing wraps: the spikes stay put
    np.testing.assert_array_equal(c.maxpool2d_forward(shifted, k)[0],
                                  c.maxpool2d_forward(x, k)[0])


@pytest.mark.parametrize("x_shape,kernel,stride", CASES, ids=IDS)
def test_maxpool_gradient_goes_where_a_loop_finds_the_first_maximum(x_shape, kernel, stride):
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, x_shape).astype(float)  # few values: ties in most windows
    x[0, 0, 1, 1] = np.nan  # a NaN is the maximum of its window, as in np.argmax
    out, cache = c.maxpool2d_forward(x, kernel, stride)
    dout = rng.integers(1, 9, out.shape).astype(float)
    kh, kw = kernel if isinstance(kernel, tuple) else (kernel,) * 2
    st_ = kernel if stride is None else stride
    sh, sw = st_ if isinstance(st_, tuple) else (st_,) * 2
    expected = np.zeros_like(x)
    for n, ch, r, s in np.ndindex(out.shape):
        window = x[n, ch, r * sh:r * sh + kh, s * sw:s * sw + kw]
        hits = [(a, b) for a in range(kh) for b in range(kw)
                if window[a, b] == out[n, ch, r, s] or np.isnan(window[a, b])]
        a, b = hits[0]
        expected[n, ch, r * sh + a, s * sw + b] += dout[n, ch, r, s]
    np.testing.assert_array_equal(c.maxpool2d_backward(dout, cache), expected)


@given(pool_problems())
def test_max_and_average_pool_equal_torch_including_remainders(problem):
    torch = pytest.importorskip("torch", reason="torch is not installed (optional)")
    p = problem
    functional = torch.nn.functional
    for ours, theirs in [(c.maxpool2d_forward, functional.max_pool2d),
                         (c.avgpool2d_forward, functional.avg_pool2d)]:
        out, _ = ours(p.x, p.kernel_size, p.stride)
        expected = theirs(torch.tensor(p.x), p.kernel_size, p.stride)  # ceil_mode=False
        np.testing.assert_allclose(out, expected.numpy(), rtol=1e-12)


# --- how far a peak may move (notebook 04's invariance experiment) ------------------------

@pytest.mark.parametrize("position, kernel_size", [(4, 4), (7, 4), (5, 4), (0, 2), (9, 3),
                                                    (3, 1), (13, 5)])
def test_invariant_shifts_are_the_moves_that_leave_the_pooled_output_alone(position,
                                                                         kernel_size):
    """Checked against max pooling itself: move a lone peak and see when the output changes."""
    size = 4 * kernel_size + position

    def pooled(at):
        row = np.zeros((1, 1, 1, size))
        row[0, 0, 0, at] = 1.0
        return c.maxpool2d_forward(row, (1, kernel_size))[0]

    left, right = c.invariant_shifts(position, kernel_size)
    same = [s for s in range(-position, size - position) if np.array_equal(
        pooled(position + s), pooled(position))]
    assert (min(same), max(same)) == (-left, right)
    assert same == list(range(-left, right + 1))


def test_invariant_shifts_refuses_what_is_no_position():
    for args in [(-1, 2), (3, 0)]:
        with pytest.raises(ValueError):
            c.invariant_shifts(*args)
