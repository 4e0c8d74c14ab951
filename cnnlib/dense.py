"""The fully connected (affine) layer: out = x W + b, with x flattened per example."""

from __future__ import annotations

import numpy as np

__all__ = ["affine_backward", "affine_forward", "matmul_jacobian_entries"]


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

    Raises:
        ValueError: w is not 2-D, or D or M do not match between x, w and b.
    """
    # BEGIN SOLUTION a1_backprop
    if w.ndim != 2 or x.ndim < 1 or b.shape != (w.shape[1],):
        raise ValueError(f"affine needs w (D, M) and b (M,); got w {w.shape}, b {b.shape}")
    features = x.reshape(x.shape[0], -1)
    if features.shape[1] != w.shape[0]:
        raise ValueError(
            f"x {x.shape} flattens to {features.shape[1]} features per example, "
            f"but w {w.shape} expects {w.shape[0]}"
        )
    out = features @ w + b
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
        dx (N, d1, ..., dk) shaped like x, dw (D, M), db (M,).
    """
    # BEGIN SOLUTION a1_backprop
    x, w, _ = cache
    rows = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = rows.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
    # END SOLUTION


def matmul_jacobian_entries(n: int, d: int, m: int) -> tuple[int, int]:
    """How many numbers the two Jacobians of y = x w would hold, x (n, d), w (d, m).

    The lecture's reason never to form a Jacobian: dy/dx has one entry per pair (entry of
    x, entry of y), n d * n m of them (N = 64, D = M = 4096: 2**36 entries, 256 GiB in
    float32), and dy/dw one per pair (entry of w, entry of y), d m * n m; the gradients
    dL/dx and dL/dw themselves have only the n d and d m entries of x and w.

    Returns:
        (entries of dy/dx, entries of dy/dw) as Python ints.
    """
    # BEGIN SOLUTION a1_backprop
    outputs = int(n) * int(m)
    return int(n) * int(d) * outputs, int(d) * int(m) * outputs
    # END SOLUTION
