"""Numerical gradients by centered differences, and the relative error used to compare them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray | float],
    x: np.ndarray,
    dout: np.ndarray | None = None,
    h: float = 1e-5,
) -> np.ndarray:
    """d(sum(f(x) * dout)) / dx by centered differences.

    Args:
        f: takes one array shaped like ``x`` (it is called with ``x`` itself, nudged in
            place) and returns an array or a scalar.
        x: the point, any shape; restored exactly before returning.
        dout: upstream gradient shaped like ``f(x)``; ``None`` means all ones.
        h: the step.

    Returns:
        grad, shaped like ``x``: each entry (g(x + h e_i) - g(x - h e_i)) / 2h with
        g = sum(f * dout).
    """
    # BEGIN SOLUTION a1_backprop
    weights = np.ones(()) if dout is None else np.asarray(dout, dtype=np.float64)
    grad = np.zeros(x.shape, dtype=np.float64)
    # index x itself (not a flattened copy) so nudges reach f even for strided views
    for position in np.ndindex(x.shape):
        saved = x[position]
        x[position] = saved + h
        # np.array copies: f may return a view of x, which the next nudge would change
        f_plus = np.array(f(x), dtype=np.float64)
        x[position] = saved - h
        f_minus = np.array(f(x), dtype=np.float64)
        x[position] = saved
        # subtract before summing: the difference of two large sums loses digits
        grad[position] = np.sum((f_plus - f_minus) * weights) / (2.0 * h)
    return grad
    # END SOLUTION


def rel_error(a: np.ndarray | float, b: np.ndarray | float) -> float:
    """max |a - b| / max(1e-8, |a| + |b|) over all entries: 0 for equal arrays, ~1 for unrelated."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
