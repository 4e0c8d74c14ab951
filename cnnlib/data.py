"""Datasets that need no download: scikit-learn's 8x8 digits, and shapes drawn by code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Split", "load_digits", "make_shapes", "shift_augment"]


@dataclass
class Split:
    """Train/validation/test arrays: x (N, 1, 8, 8) float64, y (N,) int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_digits(val_fraction: float = 0.15, test_fraction: float = 0.15, seed: int = 0) -> Split:
    """The 1,797 8x8 digits bundled with scikit-learn, NCHW, split by a seeded shuffle.

    Pixels (0..16) are scaled to [0, 1] and then centered with the training set's mean and
    standard deviation, so every split uses statistics of the training data only.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    x = (bunch.images / 16.0).astype(np.float64)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(test_fraction * len(y)))
    n_val = int(round(val_fraction * len(y)))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    mean, std = x[train].mean(), x[train].std()
    x = (x - mean) / std
    return Split(x[train], y[train], x[val], y[val], x[test], y[test])


def shift_augment(
    x: np.ndarray, y: np.ndarray, pixels: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """The images plus copies moved ``pixels`` up, down, left and right (5x the data).

    A digit moved by a pixel is still the same digit: the copies teach the network the
    translation invariance that pooling only partly provides. Vacated pixels take each
    image's background (its minimum), not zero, because the digits are centered.

    Args:
        x: (N, C, H, W) images; y: (N,) labels.

    Returns:
        x_aug (5N, C, H, W) (the originals first), y_aug (5N,).
    """
    if not 0 < pixels < min(x.shape[2:]):
        raise ValueError(f"shift of {pixels} pixels for images of {x.shape[2:]}")
    background = x.min(axis=(1, 2, 3), keepdims=True)
    copies = [x]
    for axis, step in ((2, pixels), (2, -pixels), (3, pixels), (3, -pixels)):
        moved = np.roll(x, step, axis=axis)
        vacated = [slice(None)] * 4
        vacated[axis] = slice(0, step) if step > 0 else slice(step, None)
        moved[tuple(vacated)] = np.broadcast_to(background, moved[tuple(vacated)].shape)
        copies.append(moved)
    return np.concatenate(copies), np.tile(y, len(copies))


def _draw(shape: str, size: int) -> np.ndarray:
    """A small binary glyph (size x size) of a square outline, a cross or a triangle."""
    glyph = np.zeros((size, size))
    if shape == "square":
        glyph[0, :] = glyph[-1, :] = glyph[:, 0] = glyph[:, -1] = 1
    elif shape == "cross":
        glyph[size // 2, :] = glyph[:, size // 2] = 1
    elif shape == "triangle":
        for row in range(size):
            half = row // 2
            glyph[row, size // 2 - half:size // 2 + half + 1] = 1
    else:
        raise ValueError(f"unknown shape {shape!r}: use square, cross or triangle")
    return glyph


def make_shapes(
    n: int,
    size: int = 16,
    seed: int = 0,
    shapes: tuple[str, ...] = ("square", "cross", "triangle"),
    glyph: int = 5,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images of small shapes at random positions, for invariance and receptive-field demos.

    Returns:
        x (n, 1, size, size) float64 in {0, 1}, y (n,) the shape's index in ``shapes``, and
        positions (n, 2): the (row, col) of each glyph's top-left corner.
    """
    if glyph > size:
        raise ValueError(f"glyph {glyph} larger than image {size}")
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 1, size, size))
    y = rng.integers(0, len(shapes), size=n)
    positions = rng.integers(0, size - glyph + 1, size=(n, 2))
    for i in range(n):
        r, c = positions[i]
        x[i, 0, r:r + glyph, c:c + glyph] = _draw(shapes[y[i]], glyph)
    return x, y.astype(np.int64), positions
