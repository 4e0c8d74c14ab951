"""Hypothesis strategies shared by the cnnlib tests: random layer problems, one place.

Every strategy draws shapes, strides and paddings, then a seed; the arrays come from
numpy's generator with that seed (hypothesis shrinks the seed, not thousands of floats).
Sizes are small so that loop references and numerical gradients stay fast.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st


@dataclass
class ConvProblem:
    x: np.ndarray
    w: np.ndarray
    b: np.ndarray
    stride: tuple[int, int]
    pad: tuple[int, int]
    rng: np.random.Generator

    def dout(self, out_shape: tuple[int, ...]) -> np.ndarray:
        return self.rng.standard_normal(out_shape).astype(self.x.dtype)


@st.composite
def conv_problems(draw, stride_one: bool = False, max_batch: int = 2,
                  dtype: type = np.float64) -> ConvProblem:
    """A conv layer's x, w, b, stride and pad: any stride and padding whose window fits the
    padded input, so that most draws leave a remainder the floor drops."""
    n, c, f = draw(st.integers(1, max_batch)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    sh, sw = (1, 1) if stride_one else (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    # at least one window: size + 2 pad >= kernel
    h = draw(st.integers(max(1, kh - 2 * ph), 8))
    w = draw(st.integers(max(1, kw - 2 * pw), 8))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return ConvProblem(
        x=rng.standard_normal((n, c, h, w)).astype(dtype),
        w=rng.standard_normal((f, c, kh, kw)).astype(dtype),
        b=rng.standard_normal(f).astype(dtype),
        stride=(sh, sw), pad=(ph, pw), rng=rng,
    )


@dataclass
class PoolProblem:
    x: np.ndarray
    kernel_size: tuple[int, int]
    stride: tuple[int, int] | None
    rng: np.random.Generator


@st.composite
def pool_problems(draw, ties: bool = False) -> PoolProblem:
    """x, kernel_size and stride (None half the time) for pooling; overlapping windows and
    remainders included. With ``ties``, x holds a few distinct values, so most windows
    have several maxima."""
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)),
             draw(st.integers(kh, 9)), draw(st.integers(kw, 9)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if ties:
        x = rng.integers(0, 3, shape).astype(np.float64)
    else:  # distinct values 1/7 apart: a nudge of h never changes which one is largest
        x = rng.permutation(int(np.prod(shape))).reshape(shape) / 7.0
    return PoolProblem(x=x, kernel_size=(kh, kw), stride=stride, rng=rng)


#: (kernel, stride) pairs of a plain CNN, first layer first.
layer_lists = st.lists(st.tuples(st.integers(1, 7), st.integers(1, 4)), max_size=8)
