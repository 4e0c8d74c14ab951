"""Pictures: kernels, feature maps and learning curves (matplotlib, headless-safe).

Every function returns its Figure; none calls ``plt.show`` (Jupyter shows the returned
figure, scripts save it with ``save_figure``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["moving_average", "plot_feature_maps", "plot_kernels", "plot_learning_curves",
           "save_figure"]


def _pyplot():
    """pyplot, switched to the file-only Agg backend on a Linux machine without a screen.

    A backend someone chose (MPLBACKEND, as Jupyter's kernel sets it, or an earlier pyplot
    import) is left alone.
    """
    import matplotlib

    no_screen = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    chosen = "MPLBACKEND" in os.environ or "matplotlib.pyplot" in sys.modules
    if sys.platform.startswith("linux") and no_screen and not chosen:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _grid(images: np.ndarray, title: str, cmap: str):
    plt = _pyplot()
    count = len(images)
    cols = min(count, 8)
    rows = (count + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(1.4 * cols, 1.4 * rows + 0.4), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < count:
            ax.imshow(images[index], cmap=cmap)
            ax.set_title(str(index), fontsize=8)
    fig.suptitle(title)
    return fig


def plot_kernels(w: np.ndarray, title: str = "kernels"):
    """One panel per filter of w (F, C, KH, KW), showing its first input channel."""
    w = np.asarray(w)
    return _grid(w[:, 0] if w.ndim == 4 else w, title, "RdBu_r")


def plot_feature_maps(maps: np.ndarray, title: str = "feature maps"):
    """One panel per channel of maps (C, H, W) (or (1, C, H, W): the first example)."""
    maps = np.asarray(maps)
    return _grid(maps[0] if maps.ndim == 4 else maps, title, "viridis")


def moving_average(values, window: int) -> np.ndarray:
    """Mean of each run of ``window`` consecutive values (shorter at the start)."""
    values = np.asarray(values, dtype=np.float64)
    cumulative = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumulative[1:] - cumulative[np.arange(1, len(values) + 1) - counts]) / counts


def plot_learning_curves(history, window: int = 20):
    """Loss per step with its moving average, and train/val accuracy per epoch.

    Args:
        history: anything with ``.loss`` (per step), ``.train_acc`` and ``.val_acc`` (per
            epoch; val may be empty), such as ``cnnlib.training.History``.
        window: steps in the moving average.

    Returns:
        The Figure, two axes: loss (left) and accuracy (right).
    """
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
    left.plot(history.loss, alpha=0.3, label="loss per step")
    left.plot(moving_average(history.loss, window), label=f"moving average ({window})")
    left.set_xlabel("step")
    left.set_ylabel("loss")
    left.legend()
    epochs = np.arange(1, len(history.train_acc) + 1)
    right.plot(epochs, history.train_acc, "o-", label="train")
    if history.val_acc:
        right.plot(epochs, history.val_acc, "o-", label="validation")
    from matplotlib.ticker import MaxNLocator

    right.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    right.set_xlabel("epoch")
    right.set_ylabel("accuracy")
    right.legend()
    fig.tight_layout()
    return fig


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as an image (format from the suffix) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return path
