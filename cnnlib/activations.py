"""Elementwise nonlinearities: ``forward(x) -> (out, cache)``, ``backward(dout, cache) -> dx``.

Every array has the same shape as ``x`` (any shape) and keeps its float dtype.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "relu_backward",
    "relu_forward",
    "sigmoid_backward",
    "sigmoid_forward",
    "tanh_backward",
    "tanh_forward",
]


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = max(0, x), shaped like x (any shape); the cache is x."""
    # BEGIN SOLUTION a1_backprop
    return np.maximum(x, 0).astype(x.dtype, copy=False), x
    # END SOLUTION


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout where x > 0, else 0 (the gradient at exactly 0 is taken as 0).

    Args:
        dout: upstream gradient, shaped like x; cache: x from ``relu_forward``.

    Returns:
        dx, shaped like x.
    """
    # BEGIN SOLUTION a1_backprop
    x = cache
    return np.where(x > 0, dout, 0).astype(dout.dtype, copy=False)
    # END SOLUTION


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = 1 / (1 + exp(-x)), shaped like x, computed without overflow; the cache is out."""
    # BEGIN SOLUTION a1_backprop
    # exp of a non-positive number never overflows: use the form that needs only that.
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)
    return out, out
    # END SOLUTION


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * sigma (1 - sigma): the local gradient uses the output, not x.

    Args:
        dout: upstream gradient, shaped like x; cache: sigma(x) from ``sigmoid_forward``.

    Returns:
        dx, shaped like x.
    """
    # BEGIN SOLUTION a1_backprop
    s = cache
    return dout * s * (1 - s)
    # END SOLUTION


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = tanh(x), shaped like x; the cache is out."""
    t = np.tanh(x)
    return t, t


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * (1 - tanh(x)^2), shaped like x; the cache is tanh(x)."""
    return dout * (1 - np.square(cache))
