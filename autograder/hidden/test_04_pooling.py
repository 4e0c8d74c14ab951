"""Hidden tests for 04_pooling: max and average pooling, forward and backward, and how far
a peak may move under max pooling (``invariant_shifts``).

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` in this (trusted) process, and the usual wrong versions (gradient sent
to the whole window, ties shared, sums instead of means, stride defaulting to 1) are
computed here to name the misconception when a result is wrong. Random inputs come from
the run's seed (``_checks.rng``); messages never print them nor an expected value.
"""

from __future__ import annotations

import numpy as np
import pytest
from _checks import as_float, batched_gradient, close, int_pair, mismatch, rng

import cnnlib

pytestmark = pytest.mark.a2_convolution

PATCH = np.array([[200.0, 150.0, 150.0], [100.0, 50.0, 100.0], [25.0, 25.0, 10.0]])

# (x shape, kernel_size, stride); stride None means "the default" (= kernel_size); the
# last case leaves a row and a column that no window covers (dropped: the floor).
CASES = [
    ((2, 3, 4, 4), 2, None),
    ((1, 1, 6, 6), 3, None),
    ((2, 2, 5, 5), 3, 1),
    ((1, 3, 6, 8), (2, 4), None),
    ((3, 1, 7, 6), (3, 2), (2, 2)),
    ((1, 2, 4, 9), (2, 3), (1, 3)),
    ((2, 1, 8, 8), 2, 2),
    ((1, 1, 5, 7), (1, 3), (1, 2)),
    ((1, 4, 3, 3), 3, None),
    ((2, 1, 5, 5), 2, None),
]


def _forward(student, name, x, kernel_size, stride):
    """Call the student's forward with stride left out when it is None (testing the default)."""
    fn = getattr(student, name)
    result = fn(x, kernel_size) if stride is None else fn(x, kernel_size, stride)
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        f"{name} should return a pair (out, cache); got {type(result).__name__}")
    return as_float(result[0]), result[1]


def _reference(name, x, kernel_size, stride):
    fn = getattr(cnnlib, name)
    return fn(x, kernel_size) if stride is None else fn(x, kernel_size, stride)


def _setup(name, x, kernel_size, stride) -> str:
    told = "" if stride is None else f", stride={stride}"
    return f"{name}(x {x.shape}, kernel_size={kernel_size}{told})"


def _shape_hint(x_shape, kernel_size, stride, got, want) -> str:
    kh, kw = int_pair(kernel_size)
    n, c, h, w = x_shape
    where = f"output shape {got}, expected {want}"
    if stride is None and got == (n, c, h - kh + 1, w - kw + 1):
        return (f"{where}: the stride must default to kernel_size (as in torch's MaxPool2d), "
                "not to 1")
    if stride is not None and got == (n, c, h - kh + 1, w - kw + 1):
        return f"{where}: is the stride used?"
    if stride is not None and int_pair(stride) != (kh, kw) and got == (
            n, c, (h - kh) // kh + 1, (w - kw) // kw + 1):
        return f"{where}: the stride passed in was ignored (kernel_size used instead)"
    if got[:2] != (n, c):
        return f"{where}: pooling keeps N and C: every channel is pooled on its own"
    if got[2:] == (want[3], want[2]):
        return f"{where}: rows and columns were swapped ((kh, kw) and (sh, sw) are (rows, columns))"
    sh, sw = int_pair(kernel_size if stride is None else stride)
    if got[2:] == (-(-(h - kh) // sh) + 1, -(-(w - kw) // sw) + 1):
        return (f"{where}: a window that would hang off the edge is dropped, not pooled: the "
                "floor, (H - kh) // sh + 1")
    return f"{where}: (H - kh) // sh + 1 rows, (W - kw) // sw + 1 columns"


def _inputs(gen, shape, kind):
    if kind == "distinct":  # no ties anywhere: a permutation of distinct values
        return gen.permutation(int(np.prod(shape))).reshape(shape) / 3.0 - 5.0
    if kind == "ties":  # small integers: many windows with a tied maximum
        return gen.integers(0, 3, size=shape).astype(np.float64)
    if kind == "negative":
        return -np.abs(gen.normal(size=shape)) - 1.0
    if kind == "large":
        return 1e8 * gen.normal(size=shape)
    return gen.normal(size=shape)


# --------------------------------------------------------------------------------------
# forward passes
# --------------------------------------------------------------------------------------

def _check_forward(student, name, kind, seed, cases=CASES):
    gen = rng(seed)
    for shape, kernel_size, stride in cases:
        x = _inputs(gen, shape, kind)
        want = _reference(name, x, kernel_size, stride)[0]
        got, _ = _forward(student, name, x, kernel_size, stride)
        setup = _setup(name, x, kernel_size, stride)
        assert got.shape == want.shape, f"{setup}: " + _shape_hint(
            shape, kernel_size, stride, got.shape, want.shape)
        if close(got, want):
            continue
        kh, kw = int_pair(kernel_size)
        hint = "wrong values"
        if name == "avgpool2d_forward" and close(got, want * kh * kw):
            hint = f"these are the window sums: divide by kh * kw = {kh * kw}"
        elif name == "maxpool2d_forward" and close(got, np.maximum(want, 0.0)):
            hint = ("windows whose values are all negative gave 0: start the maximum from "
                    "the window's values (or -inf), not from 0")
        elif name == "maxpool2d_forward" and close(
                got, cnnlib.avgpool2d_forward(x, kernel_size, stride or kernel_size)[0]):
            hint = "that is the average: max pooling takes the largest value of each window"
        elif shape[1] > 1 and close(got, np.broadcast_to(
                _reference(name, x.max(axis=1, keepdims=True), kernel_size, stride)[0],
                want.shape)):
            hint = "channels were mixed: pool every channel of every example on its own"
        raise AssertionError(f"{setup}: {hint} ({mismatch(got, want)})")


@pytest.mark.grade(grade_id="test_maxpool2d_forward", points=1)
def test_maxpool_of_the_lecture_window_and_the_default_stride(student):
    got, _ = _forward(student, "maxpool2d_forward", PATCH.reshape(1, 1, 3, 3), 3, None)
    assert got.shape == (1, 1, 1, 1), _shape_hint((1, 1, 3, 3), 3, None, got.shape, (1, 1, 1, 1))
    assert got.ravel()[0] == 200.0, (
        f"the lecture's window: your {got.ravel()[0]} is not its largest value")
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    got, _ = _forward(student, "maxpool2d_forward", x, 2, None)
    assert got.shape == (1, 1, 2, 2), _shape_hint(x.shape, 2, None, got.shape, (1, 1, 2, 2))
    assert close(got[0, 0], [[5.0, 7.0], [13.0, 15.0]]), (
        f"2x2 max pooling of arange(16) as 4x4 gave {got[0, 0].tolist()}: each 2x2 window "
        "(stride 2, the default) gives its largest value")


@pytest.mark.grade(grade_id="test_maxpool2d_forward", points=1)
def test_maxpool_forward_matches_the_reference(student):
    _check_forward(student, "maxpool2d_forward", "normal", 401)


@pytest.mark.grade(grade_id="test_maxpool2d_forward", points=1)
def test_maxpool_forward_negative_tied_and_large_inputs(student):
    _check_forward(student, "maxpool2d_forward", "negative", 402)
    _check_forward(student, "maxpool2d_forward", "ties", 403)
    _check_forward(student, "maxpool2d_forward", "large", 404, CASES[:4])


@pytest.mark.grade(grade_id="test_avgpool2d_forward", points=1)
def test_avgpool_of_the_lecture_window_and_many_shapes(student):
    got, _ = _forward(student, "avgpool2d_forward", PATCH.reshape(1, 1, 3, 3), 3, None)
    assert got.shape == (1, 1, 1, 1), _shape_hint((1, 1, 3, 3), 3, None, got.shape, (1, 1, 1, 1))
    value = got.ravel()[0]
    assert value != 810.0, "the lecture's window gave 810, its sum: divide by the 9 values"
    assert np.isclose(value, 90.0), f"the lecture's window: your {value} is not its mean"
    _check_forward(student, "avgpool2d_forward", "normal", 405)


@pytest.mark.grade(grade_id="test_avgpool2d_forward", points=1)
def test_avgpool_forward_large_and_negative_inputs(student):
    _check_forward(student, "avgpool2d_forward", "large", 406)
    _check_forward(student, "avgpool2d_forward", "negative", 407, CASES[3:7])


# --------------------------------------------------------------------------------------
# max pooling backward
# --------------------------------------------------------------------------------------

def _route(x, kernel_size, stride, dout, rule):
    """Wrong (and right) ways to send a max-pool gradient back, written with loops.

    rule: "first" (the convention), "last" (last maximum), "all" (every tied maximum gets
    it), "split" (tied maxima share it), "window" (every element of the window gets it).
    """
    kh, kw = int_pair(kernel_size)
    sh, sw = int_pair(kernel_size if stride is None else stride)
    dx = np.zeros_like(x)
    n_ex, channels, out_h, out_w = dout.shape
    for n in range(n_ex):
        for c in range(channels):
            for r in range(out_h):
                for q in range(out_w):
                    window = x[n, c, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    target = dx[n, c, r * sh:r * sh + kh, q * sw:q * sw + kw]
                    winners = np.argwhere(window == window.max())
                    g = dout[n, c, r, q]
                    if rule == "window":
                        target += g
                    elif rule in ("all", "split"):
                        for a, b in winners:
                            target[a, b] += g if rule == "all" else g / len(winners)
                    else:
                        a, b = winners[0] if rule == "first" else winners[-1]
                        target[a, b] += g
    return dx


def _student_max_backward(student, x, kernel_size, stride, dout):
    _, cache = _forward(student, "maxpool2d_forward", x, kernel_size, stride)
    return as_float(student.maxpool2d_backward(dout, cache))


def _check_max_backward(student, kind, seed, cases=CASES):
    gen = rng(seed)
    for shape, kernel_size, stride in cases:
        x = _inputs(gen, shape, kind)
        out, cache = _reference("maxpool2d_forward", x, kernel_size, stride)
        dout = gen.normal(size=out.shape)
        want = cnnlib.maxpool2d_backward(dout, cache)
        got = _student_max_backward(student, x, kernel_size, stride, dout)
        setup = _setup("maxpool2d_backward after maxpool2d_forward", x, kernel_size, stride)
        assert got.shape == x.shape, f"{setup}: dx has shape {got.shape}, expected x's {x.shape}"
        if close(got, want):
            continue
        hints = {
            "window": "the gradient went to every element of the window: max routes it to "
                      "the maximum only (the others did not affect the output)",
            "all": "with ties, every tied maximum got the gradient: it must go to ONE input, "
                   "the first maximum in row-major order",
            "split": "with ties, the gradient was split among the tied maxima: it goes, "
                     "whole, to the first maximum in row-major order",
            "last": "with ties, the gradient went to the last maximum: the convention is the "
                    "first one in row-major order (np.argmax of the flattened window)",
        }
        for rule, hint in hints.items():
            if close(got, _route(x, kernel_size, stride, dout, rule)):
                raise AssertionError(f"{setup}: {hint}")
        if close(got, _route(x, kernel_size, stride, np.ones_like(dout), "first")):
            raise AssertionError(f"{setup}: the maxima got 1 instead of the upstream gradient "
                                 "dout: multiply by it (chain rule)")
        sh, sw = int_pair(kernel_size if stride is None else stride)
        kh, kw = int_pair(kernel_size)
        overlap = " (windows overlap here: gradients of one input add up)" if (
            sh < kh or sw < kw) else ""
        raise AssertionError(f"{setup}: dx is wrong{overlap} ({mismatch(got, want)})")


@pytest.mark.grade(grade_id="test_maxpool2d_backward", points=1)
def test_maxpool_backward_routes_the_lecture_gradient_to_the_200(student):
    got = _student_max_backward(student, PATCH.reshape(1, 1, 3, 3), 3, None,
                                np.full((1, 1, 1, 1), 2.5))
    want = np.zeros((1, 1, 3, 3))
    want[0, 0, 0, 0] = 2.5
    assert got.shape == want.shape, f"dx has shape {got.shape}, expected x's (1, 1, 3, 3)"
    assert not close(got, np.full_like(want, 2.5)), (
        "the gradient went to every element of the window: max routes it to the 200 only")
    assert not close(got, np.full_like(want, 2.5 / 9)), (
        "the gradient was spread as for an average: max routes all of it to the 200")
    assert close(got, want), (
        f"your dx {got[0, 0].tolist()}: max routes the whole upstream gradient to the 200 "
        "and none to the rest")


@pytest.mark.grade(grade_id="test_maxpool2d_backward", points=1)
def test_maxpool_backward_matches_the_reference(student):
    _check_max_backward(student, "distinct", 411)


@pytest.mark.grade(grade_id="test_maxpool2d_backward", points=1)
def test_maxpool_backward_sends_ties_to_the_first_maximum(student):
    x = np.ones((1, 2, 2, 4))
    x[0, 1] = [[0.0, 3.0, 1.0, 1.0], [3.0, 3.0, 1.0, 0.0]]
    dout = rng(414).uniform(0.5, 3.0, size=(1, 2, 1, 2))
    got = _student_max_backward(student, x, 2, None, dout)
    want = np.zeros_like(x)
    want[0, 0, 0, [0, 2]] = dout[0, 0, 0]  # all-equal windows: the top-left
    want[0, 1, 0, 1] = dout[0, 1, 0, 0]  # three 3s: the first in row-major order is at (0, 1)
    want[0, 1, 0, 2] = dout[0, 1, 0, 1]  # 1, 1, 1, 0: the first 1
    assert got.shape == x.shape, f"dx has shape {got.shape}, expected x's {x.shape}"
    assert not close(got, _route(x, 2, None, dout, "window")), (
        "the gradient went to every element of the window: max routes it to one input")
    assert np.isclose(got.sum(), dout.sum()), (
        f"your dx sums to {got.sum():g}, not to the sum of dout: with tied maxima the gradient "
        "was sent to more than one input (or split); it must go, whole, to one input per "
        "window")
    assert close(got, want), (
        f"ties: your dx is wrong ({mismatch(got, want)}): the whole gradient goes to the "
        "first maximum in row-major order of each window, as np.argmax of the flattened "
        "window")
    _check_max_backward(student, "ties", 412)


@pytest.mark.grade(grade_id="test_maxpool2d_backward", points=1)
def test_maxpool_backward_adds_up_over_overlapping_windows(student):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 9.0, 5.0], [6.0, 7.0, 8.0]]).reshape(1, 1, 3, 3)
    dout = rng(415).uniform(0.5, 3.0, size=(1, 1, 2, 2))
    got = _student_max_backward(student, x, 2, 1, dout)
    assert got.shape == x.shape, f"dx has shape {got.shape}, expected x's {x.shape}"
    assert not np.isclose(got[0, 0, 1, 1], dout[0, 0, 1, 1]), (
        "the center wins all four overlapping windows but got only the last window's "
        "gradient: accumulate (+=), do not overwrite")
    assert np.isclose(got[0, 0, 1, 1], dout.sum()) and np.isclose(got.sum(), dout.sum()), (
        f"your dx {got[0, 0].tolist()}: the center (the largest value) wins all four "
        "windows, so it gets the sum of their four gradients and the rest none")
    _check_max_backward(student, "distinct", 413,
                        [c for c in CASES
                         if c[2] is not None and int_pair(c[2])[0] < int_pair(c[1])[0]]
                        + [((2, 3, 6, 6), (3, 3), (1, 1)), ((1, 1, 7, 7), 3, 2)])


# --------------------------------------------------------------------------------------
# average pooling backward
# --------------------------------------------------------------------------------------

def _check_avg_backward(student, seed, cases=CASES):
    gen = rng(seed)
    for shape, kernel_size, stride in cases:
        x = gen.normal(size=shape)
        out, cache = _reference("avgpool2d_forward", x, kernel_size, stride)
        dout = gen.normal(size=out.shape)
        want = cnnlib.avgpool2d_backward(dout, cache)
        _, student_cache = _forward(student, "avgpool2d_forward", x, kernel_size, stride)
        got = as_float(student.avgpool2d_backward(dout, student_cache))
        setup = _setup("avgpool2d_backward after avgpool2d_forward", x, kernel_size, stride)
        assert got.shape == x.shape, f"{setup}: dx has shape {got.shape}, expected x's {x.shape}"
        if close(got, want):
            continue
        kh, kw = int_pair(kernel_size)
        if close(got, want * kh * kw):
            raise AssertionError(f"{setup}: every input got the whole upstream gradient; the "
                                 f"average divides by kh * kw = {kh * kw}, so does its gradient")
        if close(got, want / (kh * kw)):
            raise AssertionError(f"{setup}: the gradient was divided by kh * kw twice")
        sh, sw = int_pair(kernel_size if stride is None else stride)
        overlap = " (windows overlap here: add the shares, do not overwrite)" if (
            sh < kh or sw < kw) else ""
        raise AssertionError(f"{setup}: dx is wrong{overlap} ({mismatch(got, want)})")


@pytest.mark.grade(grade_id="test_avgpool2d_backward", points=1)
def test_avgpool_backward_spreads_the_lecture_gradient(student):
    _, cache = _forward(student, "avgpool2d_forward", PATCH.reshape(1, 1, 3, 3), 3, None)
    got = as_float(student.avgpool2d_backward(np.full((1, 1, 1, 1), 9.0), cache))
    assert got.shape == (1, 1, 3, 3), f"dx has shape {got.shape}, expected x's (1, 1, 3, 3)"
    assert not close(got, np.full((1, 1, 3, 3), 9.0)), (
        "every input got the whole upstream gradient: the average divides by the 9 values, "
        "and so does its gradient")
    assert close(got, np.ones((1, 1, 3, 3))), (
        f"your dx {got[0, 0].tolist()}: the upstream gradient is spread evenly over the 9 "
        "inputs of the window")


@pytest.mark.grade(grade_id="test_avgpool2d_backward", points=1)
def test_avgpool_backward_matches_the_reference(student):
    _check_avg_backward(student, 421)


@pytest.mark.grade(grade_id="test_avgpool2d_backward", points=1)
def test_avgpool_backward_agrees_with_numerical_gradients_of_your_forward(student):
    gen = rng(422)
    for shape, kernel_size, stride in [((1, 2, 4, 4), 2, 1), ((1, 1, 4, 6), (2, 3), None)]:
        x = gen.normal(size=shape)
        out, cache = _forward(student, "avgpool2d_forward", x, kernel_size, stride)
        dout = gen.normal(size=out.shape)
        got = as_float(student.avgpool2d_backward(dout, cache))

        def forward(points, k=kernel_size, s=stride):  # one round trip for every point
            calls = [((p, k) if s is None else (p, k, s), {}) for p in points]
            return student.avgpool2d_forward.map(calls, pick=0)

        num = batched_gradient(forward, x, dout)
        assert got.shape == x.shape and close(got, num, 1e-6), (
            f"{_setup('avgpool2d_backward', x, kernel_size, stride)}: dx does not match the "
            "numerical gradient of your own avgpool2d_forward"
            + (" (windows overlap: add the shares)" if stride == 1 else ""))


# --------------------------------------------------------------------------------------
# invariant_shifts
# --------------------------------------------------------------------------------------

def _shifts_hint(position, kernel_size, left, right) -> str:
    offset = position % kernel_size
    if (left, right) == (kernel_size - 1 - offset, offset) and left != right:
        return "left and right are swapped: left is the move towards index 0"
    if (left, right) in ((offset + 1, kernel_size - offset), (offset, kernel_size - offset)):
        return ("one pixel too far: a peak at the last index of its window cannot move right "
                "at all, so the largest move is kernel_size - 1 - offset")
    if position >= kernel_size and (left, right) == (position, kernel_size - 1 - position):
        return ("only where the peak sits inside its window matters: its offset, position % "
                "kernel_size, not the position itself")
    return ("the peak may move as long as it stays inside its window of kernel_size pixels, "
            "which starts at a multiple of kernel_size")


def _check_shifts(student, cases, labels):
    """Each case against the reference; ``labels`` name the calls in the messages."""
    for (position, kernel_size), call in zip(cases, labels, strict=True):
        result = student.invariant_shifts(position, kernel_size)
        assert isinstance(result, (tuple, list)) and len(result) == 2, (
            f"{call} should return a pair (left, right); got {type(result).__name__}")
        left, right = result
        assert all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                   for v in (left, right)), f"{call}: return two ints"
        want = cnnlib.invariant_shifts(position, kernel_size)
        assert (left, right) == want, f"{call} is wrong: " + _shifts_hint(
            position, kernel_size, left, right)


@pytest.mark.grade(grade_id="test_invariant_shifts", points=1)
def test_invariant_shifts_of_the_cross_experiment(student):
    # the notebook's detector fires at column 4, pooled with 4-wide windows; and its
    # remark: a peak at column 7, the last of its window
    cases = [(4, 4), (7, 4), (5, 4), (0, 2), (1, 2), (9, 3), (3, 1)]
    _check_shifts(student, cases, [f"invariant_shifts{case}" for case in cases])


@pytest.mark.grade(grade_id="test_invariant_shifts", points=1)
def test_invariant_shifts_of_random_peaks(student):
    gen = rng(430)
    cases = [(int(gen.integers(0, 60)), int(gen.integers(1, 9))) for _ in range(15)]
    _check_shifts(student, cases, ["invariant_shifts on a random peak"] * len(cases))
