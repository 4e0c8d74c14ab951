"""Hidden tests for 03_convolution: output sizes, 2D cross-correlation and convolution, the
parameter count, the conv layer forward (loops and vectorized) and its backward pass.

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` in this (trusted) process. When a result is wrong, the message names
the likely misconception, found by comparing with the usual wrong versions computed here.
Random inputs come from the run's seed (``_checks.rng``); messages never print them nor an
expected value (the student's own result, shapes and where a result differs are fine).
"""

from __future__ import annotations

import numpy as np
import pytest
from _checks import as_float, batched_gradient, close, int_pair, mismatch, raises_value_error, rng

import cnnlib

pytestmark = pytest.mark.a2_convolution


def _two(result, what: str, names: str) -> tuple:
    count = len(names.split(","))
    assert isinstance(result, (tuple, list)) and len(result) == count, (
        f"{what} should return a tuple ({names}); got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
    )
    return tuple(result)


def _flip(w: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(w[..., ::-1, ::-1])


# --------------------------------------------------------------------------------------
# conv_output_size
# --------------------------------------------------------------------------------------

SIZE_CASES = [  # (size, kernel, stride, pad); the last three leave a remainder (the floor)
    (5, 3, 1, 0), (5, 3, 1, 1), (32, 3, 1, 1), (32, 5, 1, 2), (28, 5, 1, 0), (7, 3, 2, 0),
    (7, 3, 2, 1), (9, 3, 3, 0), (10, 4, 3, 0), (4, 4, 1, 0), (1, 1, 1, 0), (1, 3, 1, 1),
    (33, 3, 2, 1), (227, 11, 4, 0), (6, 2, 2, 0), (8, 1, 1, 0), (10, 4, 2, 2), (3, 5, 1, 1),
    (5, 3, 3, 0), (6, 3, 2, 0), (8, 3, 2, 1),
]


def _size_hint(size, kernel, stride, pad, got) -> str:
    if got == size - kernel + 1 and (stride > 1 or pad > 0):
        return "padding and stride were ignored: (size + 2 pad - kernel) / stride + 1"
    if pad and got == (size + pad - kernel) // stride + 1:
        return "padding was added on one side only: it goes on both sides (2 * pad)"
    if pad and got == (size - kernel) // stride + 1:
        return "the padding was ignored: the padded input has size + 2 * pad"
    if stride > 1 and got == size + 2 * pad - kernel + 1:
        return "the stride was ignored: divide the room (size + 2 pad - kernel) by the stride"
    if got == (size + 2 * pad - kernel) // stride:
        return "off by one: the kernel has room // stride + 1 positions (the first one too)"
    return "compare with (size + 2 pad - kernel) / stride + 1"


@pytest.mark.grade(grade_id="test_conv_output_size", points=1)
def test_output_size_for_sizes_that_fit(student):
    for size, kernel, stride, pad in SIZE_CASES:
        want = cnnlib.conv_output_size(size, kernel, stride=stride, pad=pad)
        got = student.conv_output_size(size, kernel, stride=stride, pad=pad)
        call = f"conv_output_size({size}, {kernel}, stride={stride}, pad={pad})"
        assert isinstance(got, (int, np.integer)) and not isinstance(got, bool), (
            f"{call} returned {got!r} ({type(got).__name__}); return an int")
        assert got == want, f"{call} = {got} is wrong: " + _size_hint(
            size, kernel, stride, pad, got)
    # the defaults: stride 1, no padding
    got = student.conv_output_size(6, 3)
    assert got == 4, (
        f"conv_output_size(6, 3) = {got}: with the defaults (stride=1, pad=0) only the valid "
        "positions count, H - k + 1")


@pytest.mark.grade(grade_id="test_conv_output_size", points=1)
def test_output_size_refuses_what_does_not_fit(student):
    # A stride that leaves a remainder is not an error (the floor, as in PyTorch): SIZE_CASES.
    for args, why in [((2, 3, 1, 0), "the kernel is larger than the input"),
                      ((1, 5, 1, 1), "the kernel is larger than the padded input")]:
        assert raises_value_error(lambda a=args: cnnlib.conv_output_size(*a))[0]
        ok, what = raises_value_error(lambda a=args: student.conv_output_size(*a))
        assert ok, f"conv_output_size{args} {what}; expected a ValueError: {why}"


# --------------------------------------------------------------------------------------
# conv_params
# --------------------------------------------------------------------------------------

PARAM_CASES = [  # (in_channels, kernel_size, n_kernels)
    (1, 5, 6), (6, 5, 16), (3, 11, 96), (64, 1, 16), (3, (5, 3), 2), (2, (1, 7), 3),
    (16, (3, 1), 8), (1, 1, 1), (512, 3, 512),
]


def _params_hint(in_channels, kernel_size, n_kernels, got) -> str:
    kh, kw = int_pair(kernel_size)
    if got == kh * kw * in_channels * n_kernels:
        return "the biases are missing: one per kernel"
    if in_channels > 1 and got == (kh * kw + 1) * n_kernels:
        return "each kernel is as deep as the input: kh * kw * in_channels weights"
    if in_channels > 1 and got == (kh * kw + 1) * in_channels * n_kernels:
        return "one bias per kernel, not one per input channel"
    if kh != kw and got in ((kh * kh * in_channels + 1) * n_kernels,
                            (kw * kw * in_channels + 1) * n_kernels):
        return "a (kh, kw) kernel has kh * kw weights per channel"
    return "each of the n_kernels kernels has kh * kw * in_channels weights and one bias"


def _check_params(student, cases, labels):
    """Each case against the reference; ``labels`` name the calls in the messages."""
    for (in_channels, kernel_size, n_kernels), call in zip(cases, labels, strict=True):
        got = student.conv_params(in_channels, kernel_size, n_kernels)
        assert isinstance(got, (int, np.integer)) and not isinstance(got, bool), (
            f"{call} returned a {type(got).__name__}; return an int")
        want = cnnlib.conv_params(in_channels, kernel_size, n_kernels)
        assert got == want, f"{call} is wrong: " + _params_hint(
            in_channels, kernel_size, n_kernels, got)


@pytest.mark.grade(grade_id="test_conv_params", points=1)
def test_conv_params_of_well_known_layers(student):
    _check_params(student, PARAM_CASES, [f"conv_params{case}" for case in PARAM_CASES])


@pytest.mark.grade(grade_id="test_conv_params", points=1)
def test_conv_params_of_random_layers(student):
    gen = rng(340)
    cases = []
    for _ in range(12):
        kh, kw = (int(v) for v in gen.integers(1, 8, size=2))
        cases.append((int(gen.integers(1, 65)), (kh, kw) if gen.integers(0, 2) else kh,
                      int(gen.integers(1, 129))))
    _check_params(student, cases, ["conv_params on a random layer"] * len(cases))


# --------------------------------------------------------------------------------------
# cross_correlate2d and convolve2d
# --------------------------------------------------------------------------------------

PATCH = np.array([[200.0, 150.0, 150.0], [100.0, 50.0, 100.0], [25.0, 25.0, 10.0]])
EDGE = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # the lecture's E

IMAGE_CASES = [  # (image shape, kernel shape, scale)
    ((5, 5), (3, 3), 1.0), ((6, 9), (2, 4), 1.0), ((7, 4), (7, 1), 1.0), ((4, 6), (4, 6), 1.0),
    ((1, 8), (1, 3), 1.0), ((9, 1), (2, 1), 1.0), ((10, 12), (5, 3), 1e6), ((3, 3), (1, 1), 1.0),
]


def _shape_hint(got_shape, x_shape, k_shape) -> str:
    want = (x_shape[0] - k_shape[0] + 1, x_shape[1] - k_shape[1] + 1)
    if got_shape == x_shape:
        return (f"output shape {got_shape} equals the input's: keep only the valid positions, "
                f"{want}")
    return f"output shape {got_shape}, expected {want} = (H - kh + 1, W - kw + 1)"


def _check_2d(student, name: str, other: str):
    gen = rng(301 if name == "cross_correlate2d" else 302)
    reference, wrong = getattr(cnnlib, name), getattr(cnnlib, other)
    for x_shape, k_shape, scale in IMAGE_CASES:
        x, k = scale * gen.normal(size=x_shape), gen.normal(size=k_shape)
        want = reference(x, k)
        got = as_float(getattr(student, name)(x, k))
        assert got.shape == want.shape, f"{name}: image {x_shape}, kernel {k_shape}: " + (
            _shape_hint(got.shape, x_shape, k_shape))
        if close(got, want):
            continue
        setup = f"{name}: image {x_shape}, kernel {k_shape}"
        if close(got, wrong(x, k)):
            raise AssertionError(
                f"{setup}: the result is the "
                + ("convolution" if other == "convolve2d" else "cross-correlation")
                + " of the image and the "
                + ("kernel: the kernel was flipped, cross-correlation uses it as it is"
                   if name == "cross_correlate2d" else
                   "kernel: convolution flips the kernel (rotate by 180 degrees) first"))
        one_axis = [np.ascontiguousarray(k[::-1]), np.ascontiguousarray(k[:, ::-1])]
        if name == "convolve2d" and any(close(got, reference(x, k1)) for k1 in one_axis):
            raise AssertionError(f"{setup}: the kernel was flipped along one axis only; "
                                 "rotating by 180 degrees flips rows and columns")
        raise AssertionError(f"{setup}: wrong values ({mismatch(got, want)}); "
                             "y(r, c) = sum_a sum_b "
                             "x(r + a, c + b) k(" + ("a, b" if name == "cross_correlate2d"
                                                     else "kh-1-a, kw-1-b") + ")")


@pytest.mark.grade(grade_id="test_cross_correlate2d", points=1)
def test_cross_correlation_of_the_lecture_patch_is_65(student):
    got = as_float(student.cross_correlate2d(PATCH, EDGE))
    assert got.shape == (1, 1), _shape_hint(got.shape, (3, 3), (3, 3))
    assert got[0, 0] != -65.0, (
        "the lecture's patch and edge kernel E: your result has the wrong sign: the kernel "
        "was flipped (that is convolution)")
    assert np.isclose(got[0, 0], 65.0), (
        f"the lecture's patch and edge kernel E: your {got[0, 0]} is not the lecture's result: "
        "y = sum over the window of x(a, b) k(a, b)")
    # on a wider image the kernel must slide: the patch at column 0, then its mirror image
    wide = np.concatenate([PATCH, PATCH[:, ::-1]], axis=1)  # (3, 6)
    want = cnnlib.cross_correlate2d(wide, EDGE)
    got = as_float(student.cross_correlate2d(wide, EDGE))
    assert got.shape == (1, 4), _shape_hint(got.shape, (3, 6), (3, 3))
    assert close(got, want), (
        f"the lecture's patch then its mirror image, a (3, 6) image: your {got.tolist()} is "
        f"wrong ({mismatch(got, want)}): the kernel slides over every valid position")


@pytest.mark.grade(grade_id="test_cross_correlate2d", points=1)
def test_cross_correlation_on_many_shapes(student):
    _check_2d(student, "cross_correlate2d", "convolve2d")


@pytest.mark.grade(grade_id="test_convolve2d", points=1)
def test_convolving_a_delta_gives_the_kernel_back(student):
    gen = rng(303)
    for shape in ((3, 3), (2, 3), (4, 1)):  # random kernels: none is symmetric under a flip
        k = np.round(gen.normal(size=shape), 2)
        kh, kw = k.shape
        delta = np.zeros((2 * kh - 1, 2 * kw - 1))
        delta[kh - 1, kw - 1] = 1.0
        got = as_float(student.convolve2d(delta, k))
        assert got.shape == k.shape, _shape_hint(got.shape, delta.shape, k.shape)
        assert not (close(got, k[::-1, ::-1]) and not close(k, k[::-1, ::-1])), (
            f"convolving a single bright pixel with a {kh}x{kw} kernel gave the flipped "
            "kernel: that is cross-correlation; convolution flips the kernel first, so a "
            "delta gives the kernel back")
        assert close(got, k), (
            f"convolving a single bright pixel with a {kh}x{kw} kernel gave {got.tolist()}: "
            "convolution of a delta reproduces the kernel")
    got = as_float(student.convolve2d(PATCH, EDGE))
    assert got.shape == (1, 1) and np.isclose(got[0, 0], -65.0), (
        f"the lecture's patch: your convolve2d(patch, E) = {got.ravel()} is wrong: "
        "convolution flips E first, and flip(E) = -E")


@pytest.mark.grade(grade_id="test_convolve2d", points=1)
def test_convolution_on_many_shapes(student):
    _check_2d(student, "convolve2d", "cross_correlate2d")


# --------------------------------------------------------------------------------------
# conv2d_forward_naive and conv2d_forward
# --------------------------------------------------------------------------------------

FORWARD_CASES = [  # (x shape, w shape, stride, pad)
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 1, 7, 7), (1, 1, 3, 3), 2, 1),
    ((1, 2, 6, 8), (3, 2, 2, 4), (2, 2), (0, 1)),
    ((3, 1, 5, 9), (2, 1, 3, 1), (1, 4), (1, 0)),
    ((2, 4, 4, 4), (1, 4, 4, 4), 1, 0),
    ((1, 3, 3, 5), (2, 3, 1, 1), 1, 0),
    ((2, 2, 1, 6), (2, 2, 1, 3), (1, 3), (0, 0)),
    ((1, 1, 4, 4), (2, 1, 3, 3), 1, 2),
]


def _forward_hint(x, w, b, stride, pad, got) -> str:
    flipped = cnnlib.conv2d_forward(x, _flip(w), b, stride=stride, pad=pad)[0]
    if close(got, flipped):
        return "the kernel was flipped: a conv layer computes cross-correlation"
    if np.any(b) and close(got, cnnlib.conv2d_forward(x, w, np.zeros_like(b), stride=stride,
                                                       pad=pad)[0]):
        return "the bias is missing: add b[f] to every pixel of output channel f"
    if close(got, cnnlib.conv2d_forward(x, w, b, stride=stride, pad=pad)[0] + b.sum()
              - b[None, :, None, None]):
        return "every channel got the sum of all biases: channel f gets b[f] only"
    (sh, sw), (ph, pw) = int_pair(stride), int_pair(pad)
    if (sh, ph) != (sw, pw):
        try:
            swapped = cnnlib.conv2d_forward(x, w, b, stride=(sw, sh), pad=(pw, ph))[0]
        except ValueError:  # the swapped setting does not fit this input
            swapped = None
        if swapped is not None and close(got, swapped):
            return "stride and pad pairs are (rows, columns): the two were swapped"
    return ("wrong values: out[n, f, r, q] = b[f] + sum over c, a, b of "
            "x_pad[n, c, r*sh + a, q*sw + b] * w[f, c, a, b]")


def _forward_shape_hint(x, w, stride, pad, got_shape, want_shape) -> str:
    (sh, sw), (ph, pw) = int_pair(stride), int_pair(pad)
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    where = f"output shape {got_shape}, expected {want_shape}"
    if got_shape[:2] != (n, f):
        return f"{where}: the first two axes are (N examples, F kernels)"
    if (ph or pw) and got_shape[2:] == ((h - kh) // sh + 1, (wd - kw) // sw + 1):
        return f"{where}: is the padding applied? (pad zeros on each side)"
    if (ph or pw) and got_shape[2:] == ((h + ph - kh) // sh + 1, (wd + pw - kw) // sw + 1):
        return f"{where}: padding goes on both sides: the padded height is H + 2 * pad"
    if (sh > 1 or sw > 1) and got_shape[2:] == (h + 2 * ph - kh + 1, wd + 2 * pw - kw + 1):
        return f"{where}: is the stride used?"
    if got_shape[2:] == (want_shape[3], want_shape[2]):
        return f"{where}: height and width were swapped"
    return f"{where}: H_out = (H + 2 ph - KH) / sh + 1, W_out = (W + 2 pw - KW) / sw + 1"


def _check_forward(student, name: str, cases, seed: int, scale: float = 1.0):
    gen = rng(seed)
    for x_shape, w_shape, stride, pad in cases:
        x = scale * gen.normal(size=x_shape)
        w, b = gen.normal(size=w_shape), gen.normal(size=w_shape[0])
        want = cnnlib.conv2d_forward(x, w, b, stride=stride, pad=pad)[0]
        out, _ = _two(getattr(student, name)(x, w, b, stride=stride, pad=pad), name,
                      "out, cache")
        got = as_float(out)
        setup = f"{name}(x {x_shape}, w {w_shape}, stride={stride}, pad={pad})"
        assert got.shape == want.shape, f"{setup}: " + _forward_shape_hint(
            x, w, stride, pad, got.shape, want.shape)
        assert close(got, want), f"{setup}: " + _forward_hint(x, w, b, stride, pad, got)


def _check_lecture_layer(student, name: str):
    x, w = PATCH.reshape(1, 1, 3, 3), EDGE.reshape(1, 1, 3, 3)
    out, _ = _two(getattr(student, name)(x, w, np.array([5.0])), name, "out, cache")
    got = as_float(out)
    assert got.shape == (1, 1, 1, 1), (
        f"the lecture's patch and edge kernel E: output shape {got.shape}, expected (1, 1, 1, 1)")
    value = got.ravel()[0]
    assert not np.isclose(value, 65.0), (
        "the lecture's patch with bias 5: the bias is missing (your result is the "
        "cross-correlation alone)")
    assert not np.isclose(value, -60.0), (
        "the lecture's patch with bias 5: the kernel was flipped (your result is the "
        "convolution plus the bias)")
    assert np.isclose(value, 70.0), (
        f"the lecture's patch with bias 5: your {value} is wrong: out = b + the sum over "
        "the window of x(a, b) k(a, b)")


@pytest.mark.grade(grade_id="test_conv2d_forward_naive", points=1)
def test_naive_layer_on_the_lecture_patch(student):
    _check_lecture_layer(student, "conv2d_forward_naive")


@pytest.mark.grade(grade_id="test_conv2d_forward_naive", points=2)
def test_naive_layer_matches_the_reference(student):
    _check_forward(student, "conv2d_forward_naive", FORWARD_CASES, 310)


@pytest.mark.grade(grade_id="test_conv2d_forward_naive", points=1)
def test_naive_layer_with_defaults_and_large_values(student):
    gen = rng(311)
    x = 1e6 * gen.normal(size=(1, 2, 5, 4))
    w, b = gen.normal(size=(3, 2, 2, 2)), gen.normal(size=3)
    out, _ = _two(student.conv2d_forward_naive(x, w, b), "conv2d_forward_naive", "out, cache")
    want = cnnlib.conv2d_forward(x, w, b)[0]
    got = as_float(out)
    assert got.shape == want.shape, "with the defaults (stride=1, pad=0): " + (
        _forward_shape_hint(x, w, 1, 0, got.shape, want.shape))
    assert close(got, want, 1e-9), "inputs of size ~1e6 with the defaults: " + _forward_hint(
        x, w, b, 1, 0, got)


@pytest.mark.grade(grade_id="test_conv2d_forward", points=1)
def test_vectorized_layer_on_the_lecture_patch(student):
    _check_lecture_layer(student, "conv2d_forward")


@pytest.mark.grade(grade_id="test_conv2d_forward", points=2)
def test_vectorized_layer_matches_the_reference(student):
    _check_forward(student, "conv2d_forward", FORWARD_CASES, 320)


@pytest.mark.grade(grade_id="test_conv2d_forward", points=1)
def test_vectorized_layer_on_a_bigger_batch_and_large_values(student):
    _check_forward(student, "conv2d_forward",
                   [((8, 3, 16, 16), (8, 3, 3, 3), 1, 1), ((4, 6, 12, 10), (5, 6, 5, 3), (1, 1),
                                                            (2, 1))], 321)
    _check_forward(student, "conv2d_forward", [((2, 3, 9, 9), (4, 3, 3, 3), 2, 1)], 322,
                   scale=1e6)


# --------------------------------------------------------------------------------------
# conv2d_backward
# --------------------------------------------------------------------------------------

BACKWARD_CASES = [  # (x shape, w shape, stride, pad)
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1),
    ((1, 1, 6, 6), (1, 1, 3, 3), 1, 0),
    ((2, 2, 7, 7), (3, 2, 3, 3), 2, 1),
    ((1, 2, 6, 8), (3, 2, 2, 4), (2, 2), (0, 1)),
    ((3, 1, 5, 9), (2, 1, 3, 1), (1, 4), (1, 0)),
    ((2, 4, 4, 4), (1, 4, 4, 4), 1, 0),
    ((1, 1, 4, 4), (2, 1, 3, 3), 1, 2),
]


SPREAD = ("with a stride S, output (r, c) read the window at (S r, S c): spread dout out, "
          "S - 1 zeros between its entries, before the full convolution (or add each "
          "window's gradient back at (S r, S c))")


def _student_backward(student, x, w, b, stride, pad, dout):
    out, cache = _two(student.conv2d_forward(x, w, b, stride=stride, pad=pad),
                      "conv2d_forward", "out, cache")
    grads = _two(student.conv2d_backward(dout, cache), "conv2d_backward",
                 "dx, dw, db")
    return tuple(as_float(g) for g in grads)


def _backward_cases(seed: int, cases=BACKWARD_CASES):
    gen = rng(seed)
    for x_shape, w_shape, stride, pad in cases:
        x, w, b = gen.normal(size=x_shape), gen.normal(size=w_shape), gen.normal(size=w_shape[0])
        out, cache = cnnlib.conv2d_forward(x, w, b, stride=stride, pad=pad)
        dout = gen.normal(size=out.shape)
        yield x, w, b, stride, pad, dout, cnnlib.conv2d_backward(dout, cache)


def _setup(x, w, stride, pad) -> str:
    return f"x {x.shape}, w {w.shape}, stride={stride}, pad={pad}"


@pytest.mark.grade(grade_id="test_conv2d_backward", points=1)
def test_backward_of_the_lecture_patch(student):
    x, w = PATCH.reshape(1, 1, 3, 3), EDGE.reshape(1, 1, 3, 3)
    dx, dw, db = _student_backward(student, x, w, np.array([5.0]), 1, 0, np.full((1, 1, 1, 1), 2.0))
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (1,), (
        f"shapes dx {dx.shape}, dw {dw.shape}, db {db.shape}; expected those of x {x.shape}, "
        f"w {w.shape}, b (1,)")
    assert close(dw, 2 * x), ("one output pixel with dL/dy = 2: dw must be dL/dy times the "
                               "patch (each weight multiplied one pixel)")
    assert not close(dx, 2 * _flip(w)), (
        "one output pixel with dL/dy = 2: dx came out as 2 * E rotated by 180 degrees; "
        "pixel x(a, b) was multiplied by k(a, b), so dx = 2 * E as it is (a flip in dx "
        "that the lecture's formula does not have, or a missing one)")
    assert close(dx, 2 * w), ("one output pixel with dL/dy = 2: dx must be dL/dy times E "
                               "(each pixel was multiplied by one weight)")
    assert close(db, [2.0]), (
        f"one output pixel with dL/dy = 2: your db = {db}: the bias gets the upstream "
        "gradient, summed over the output pixels")


@pytest.mark.grade(grade_id="test_conv2d_backward", points=2)
def test_backward_dx_is_a_convolution_of_dout_with_the_kernel(student):
    for x, w, b, stride, pad, dout, (dx_ref, _, _) in _backward_cases(330):
        dx = _student_backward(student, x, w, b, stride, pad, dout)[0]
        setup = _setup(x, w, stride, pad)
        padded_hw = tuple(n + 2 * p for n, p in zip(x.shape[2:], int_pair(pad), strict=True))
        strided = int_pair(stride) != (1, 1)
        assert dx.shape == x.shape, (
            f"{setup}: dx has shape {dx.shape}, expected x's {x.shape}"
            + (" (crop the padding off: the padded zeros are not inputs)"
               if dx.shape[2:] == padded_hw else (": " + SPREAD) if strided else ""))
        if close(dx, dx_ref):
            continue
        unflipped = cnnlib.conv2d_backward(
            dout, cnnlib.conv2d_forward(x, _flip(w), b, stride=stride, pad=pad)[1])[0]
        if close(dx, unflipped):
            raise AssertionError(
                f"{setup}: dx is missing the flip: backwards is a convolution of dout with the "
                "kernel, i.e. cross-correlation of the padded dout with the FLIPPED kernel")
        raise AssertionError(
            f"{setup}: dx is wrong ({mismatch(dx, dx_ref)}); "
            "dL/dx(r', c') sums dout(r' - a, c' - b) k(a, b) over the kernel and the "
            "output channels" + ("; " + SPREAD if strided else ""))


@pytest.mark.grade(grade_id="test_conv2d_backward", points=1)
def test_backward_dw_is_a_cross_correlation_of_input_and_dout(student):
    for x, w, b, stride, pad, dout, (_, dw_ref, _) in _backward_cases(331):
        dw = _student_backward(student, x, w, b, stride, pad, dout)[1]
        setup = _setup(x, w, stride, pad)
        assert dw.shape == w.shape, f"{setup}: dw has shape {dw.shape}; it must match w {w.shape}"
        if close(dw, dw_ref):
            continue
        if close(dw, _flip(dw_ref)):
            raise AssertionError(f"{setup}: dw is flipped: dL/dk(a, b) = sum dout(r, c) "
                                 "x(r + a, c + b), a cross-correlation, no flip")
        if close(dw * x.shape[0], dw_ref):
            raise AssertionError(f"{setup}: dw was averaged over the batch; sum it (the loss "
                                 "already carries any averaging in dout)")
        raise AssertionError(f"{setup}: dw is wrong ({mismatch(dw, dw_ref)}); "
                             "dw[f, c, a, b] sums "
                             "dout[n, f, r, q] * x_pad[n, c, r*sh + a, q*sw + b] over n, r, q")


@pytest.mark.grade(grade_id="test_conv2d_backward", points=1)
def test_backward_db_sums_dout(student):
    for x, w, b, stride, pad, dout, (_, _, db_ref) in _backward_cases(332):
        db = _student_backward(student, x, w, b, stride, pad, dout)[2]
        setup = _setup(x, w, stride, pad)
        assert db.shape == b.shape, (
            f"{setup}: db has shape {db.shape}, expected b's {b.shape}: one number per kernel")
        if close(db, db_ref):
            continue
        if close(db, dout.mean(axis=(0, 2, 3))):
            raise AssertionError(f"{setup}: db is the mean of dout; the bias feeds every "
                                 "output pixel, so its gradient is the sum")
        if close(db, dout.sum(axis=(2, 3))[0]) or close(db, dout.sum(axis=(0, 1))):
            raise AssertionError(f"{setup}: db summed over the wrong axes: sum dout over "
                                 "examples and positions, axis=(0, 2, 3)")
        raise AssertionError(f"{setup}: your db = {db} is wrong: db[f] sums dout[n, f, r, q] "
                             "over n, r and q")


@pytest.mark.grade(grade_id="test_conv2d_backward", points=1)
def test_backward_agrees_with_numerical_gradients_of_your_forward(student):
    gen = rng(333)
    x, w, b = gen.normal(size=(1, 2, 4, 5)), gen.normal(size=(2, 2, 2, 3)), gen.normal(size=2)
    stride, pad = (2, 1), (1, 0)
    dout = gen.normal(size=cnnlib.conv2d_forward(x, w, b, stride=stride, pad=pad)[0].shape)
    dx, dw, db = _student_backward(student, x, w, b, stride, pad, dout)

    def evaluate(key):  # every nudged input in one round trip to the sandbox
        def run(points):
            calls = [((*({"x": x, "w": w, "b": b} | {key: p}).values(),),
                      {"stride": stride, "pad": pad}) for p in points]
            return student.conv2d_forward.map(calls, pick=0)
        return run

    for name, value, got in (("dx", x, dx), ("dw", w, dw), ("db", b, db)):
        num = batched_gradient(evaluate(name[1:]), value, dout)
        assert got.shape == num.shape and close(got, num, 1e-6), (
            f"{name} does not match the numerical gradient of your own conv2d_forward "
            f"(x {x.shape}, w {w.shape}, stride={stride}, pad={pad}): the backward pass must "
            "differentiate exactly what the forward pass computes")
