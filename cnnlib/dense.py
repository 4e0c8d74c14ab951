"""The fully connected (affine) layer: out = x W + b, with x flattened per example."""

from __future__ import annotations

import numpy as np

__all__ = ["affine_backward", "affine_forward"]


def affine_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Affine layer forward.

    Args:
        x: (N, d1, ..., dk), flattened to (N, D) with D = d1 * ... * dk.
        w: (D, M).
        b: (M,).

    Returns:
        out (N, M) = x.reshape(N, D) @ w + b, and the cache (x, w, b).
    """
    # BEGIN SOLUTION a1_backprop
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)
    # END SOLUTION


def affine_backward(
    dout: np.ndarray, cache: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Affine layer backward (the lecture's dL/dx = dL/dy W^T, dL/dW = X^T dL/dy).

    Args:
        dout: (N, M) upstream gradient.
        cache: (x, w, b) from ``affine_forward``.

    Returns:
        dx shaped like x (N, d1, ..., dk), dw (D, M), db (M,).
    """
    # BEGIN SOLUTION a1_backprop
    x, w, _ = cache
    flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = flat.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
    # END SOLUTION
