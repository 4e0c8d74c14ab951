"""Losses: each returns (loss, gradient of the loss with respect to its first argument)."""

from __future__ import annotations

import numpy as np

__all__ = ["mse_loss", "softmax_cross_entropy"]


def softmax_cross_entropy(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Softmax followed by the negative log-likelihood of the true class, averaged over N.

    Args:
        scores: (N, C) unnormalised class scores (any magnitude: shifted by the row max,
            so scores of 1000 do not overflow).
        y: (N,) int labels in [0, C).

    Returns:
        loss (a float) and dscores (N, C) = (softmax(scores) - onehot(y)) / N, in the
        dtype of scores.
    """
    # BEGIN SOLUTION a1_backprop
    if scores.ndim != 2 or np.shape(y) != (scores.shape[0],):
        raise ValueError(f"need scores (N, C) and labels (N,); got {scores.shape}, {np.shape(y)}")
    n, classes = scores.shape
    if n and (np.min(y) < 0 or np.max(y) >= classes):
        raise ValueError(f"labels must lie in [0, {classes}), got min {np.min(y)} max {np.max(y)}")
    # softmax is unchanged by subtracting a constant per row; after it, exp never overflows
    z = scores - scores.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(n)
    loss = -float(log_p[rows, y].mean())
    dscores = np.exp(log_p)
    dscores[rows, y] -= 1
    return loss, (dscores / n).astype(scores.dtype, copy=False)
    # END SOLUTION


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry.

    Args:
        pred: any shape; target: the same shape.

    Returns:
        loss = mean((pred - target)^2) (a float) and dpred = 2 (pred - target) / pred.size,
        shaped like pred, in its dtype.
    """
    if np.shape(pred) != np.shape(target):
        raise ValueError(f"pred {np.shape(pred)} and target {np.shape(target)} differ in shape")
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 * diff / diff.size).astype(pred.dtype, copy=False)
