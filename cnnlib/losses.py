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
        loss (a float) and dscores (N, C) = (softmax(scores) - onehot(y)) / N.
    """
    # BEGIN SOLUTION a1_backprop
    n = scores.shape[0]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(log_probs[np.arange(n), y].mean())
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return loss, (dscores / n).astype(scores.dtype, copy=False)
    # END SOLUTION


def mse_loss(pred: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry; dpred = 2 (pred - target) / pred.size."""
    diff = pred - target
    return float(np.mean(diff * diff)), (2.0 * diff / diff.size).astype(pred.dtype, copy=False)
