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
    """out = max(0, x); the cache is x."""
    # BEGIN SOLUTION a1_backprop
    return np.maximum(x, 0).astype(x.dtype, copy=False), x
    # END SOLUTION


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout where x > 0, else 0 (the gradient at exactly 0 is taken as 0)."""
    # BEGIN SOLUTION a1_backprop
    x = cache
    return (dout * (x > 0)).astype(dout.dtype, copy=False)
    # END SOLUTION


def sigmoid_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = 1 / (1 + exp(-x)), computed without overflow; the cache is out."""
    # BEGIN SOLUTION a1_backprop
    # exp of a non-positive number never overflows: use the form that needs only that.
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(x.dtype, copy=False)
    return out, out
    # END SOLUTION


def sigmoid_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * sigma (1 - sigma): the local gradient uses the output, not x."""
    # BEGIN SOLUTION a1_backprop
    sigma = cache
    return dout * sigma * (1 - sigma)
    # END SOLUTION


def tanh_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """out = tanh(x); the cache is out."""
    out = np.tanh(x)
    return out, out


def tanh_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """dx = dout * (1 - tanh(x)^2)."""
    return dout * (1 - cache * cache)
