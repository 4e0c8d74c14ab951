"""Weight initialisation: He for ReLU networks, Xavier (Glorot) for tanh/sigmoid ones."""

from __future__ import annotations

import numpy as np

__all__ = ["as_rng", "he_init", "xavier_init"]


def as_rng(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator from a Generator, an int seed, or None (fresh entropy)."""
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def he_init(shape: tuple[int, ...], fan_in: int, rng=None, dtype=np.float64) -> np.ndarray:
    """Normal with variance 2 / fan_in: keeps activations' scale through ReLU layers."""
    return (as_rng(rng).standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)


def xavier_init(
    shape: tuple[int, ...], fan_in: int, fan_out: int, rng=None, dtype=np.float64
) -> np.ndarray:
    """Normal with variance 2 / (fan_in + fan_out): balances forward and backward scale."""
    scale = np.sqrt(2.0 / (fan_in + fan_out))
    return (as_rng(rng).standard_normal(shape) * scale).astype(dtype)
