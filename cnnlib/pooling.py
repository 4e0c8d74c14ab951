"""Max and average pooling over each channel, NCHW: the teaching versions (notebook 04).

``kernel_size`` and ``stride`` are an int or an ``(h, w)`` pair; ``stride`` defaults to
``kernel_size`` (non-overlapping windows, as in torch.nn.MaxPool2d). No padding; windows
that do not tile the input drop the remainder (``ceil_mode=False``). Max-pool ties: the
whole gradient goes to the FIRST maximum of the window in row-major order (a NaN counts
as the maximum, as in ``np.argmax``). ``cnnlib.fast_layers`` has the same functions
tuned, with the same caches.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import Pair, pool_geometry

__all__ = ["avgpool2d_backward", "avgpool2d_forward", "invariant_shifts", "maxpool2d_backward",
           "maxpool2d_forward"]


def _windows(x: np.ndarray, kh: int, kw: int, sh: int, sw: int) -> np.ndarray:
    """Every pooling window of x (N, C, H, W) as a view: (N, C, Ho, Wo, KH, KW)."""
    # BEGIN SOLUTION a2_convolution
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    # END SOLUTION


def maxpool2d_forward(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None
) -> tuple[np.ndarray, tuple]:
    """Max pooling forward.

    Args:
        x: (N, C, H, W); kernel_size (kh, kw); stride (sh, sw), default kernel_size.

    Returns:
        out (N, C, Ho, Wo) with Ho = (H - kh) // sh + 1, and the cache (x.shape, index,
        (kh, kw, sh, sw)) where index (N, C, Ho, Wo) is the position, 0..kh*kw-1 in
        row-major order, of each window's first maximum.
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, ho, wo = pool_geometry(x.shape, kernel_size, stride)
    windows = _windows(x, kh, kw, sh, sw).reshape(*x.shape[:2], ho, wo, kh * kw)
    index = windows.argmax(axis=-1)  # the first maximum of each window
    out = np.take_along_axis(windows, index[..., None], axis=-1)[..., 0]
    return out, (x.shape, index, (kh, kw, sh, sw))
    # END SOLUTION


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Max pooling backward: each window's gradient goes to its (first) maximum only.

    Args:
        dout: (N, C, Ho, Wo); cache from a max-pool forward.

    Returns:
        dx (N, C, H, W); where windows overlap, their contributions add up.
    """
    # BEGIN SOLUTION a2_convolution
    x_shape, index, (kh, kw, sh, sw) = cache
    ho, wo = dout.shape[2], dout.shape[3]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    for a in range(kh):
        for b in range(kw):
            # inputs at offset (a, b) of their window: rows a, a + sh, ...; columns likewise
            rows, columns = slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw)
            dx[:, :, rows, columns] += np.where(index == a * kw + b, dout, 0)
    return dx
    # END SOLUTION


def avgpool2d_forward(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None
) -> tuple[np.ndarray, tuple]:
    """Average pooling forward.

    Args:
        x: (N, C, H, W); kernel_size (kh, kw); stride (sh, sw), default kernel_size.

    Returns:
        out (N, C, Ho, Wo), the mean of each window, and the cache (x.shape,
        (kh, kw, sh, sw)).
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, _, _ = pool_geometry(x.shape, kernel_size, stride)
    out = _windows(x, kh, kw, sh, sw).mean(axis=(-2, -1))
    return out.astype(x.dtype, copy=False), (x.shape, (kh, kw, sh, sw))
    # END SOLUTION


def avgpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Average pooling backward: each window spreads dout / (kh kw) over its inputs.

    Args:
        dout: (N, C, Ho, Wo); cache from an average-pool forward.

    Returns:
        dx (N, C, H, W).
    """
    # BEGIN SOLUTION a2_convolution
    x_shape, (kh, kw, sh, sw) = cache
    ho, wo = dout.shape[2], dout.shape[3]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    each = dout / (kh * kw)  # every input of a window gets an equal part
    for a in range(kh):
        for b in range(kw):
            rows, columns = slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw)
            dx[:, :, rows, columns] += each
    return dx
    # END SOLUTION


def invariant_shifts(position: int, kernel_size: int) -> tuple[int, int]:
    """How far a lone peak can move before max pooling notices: (left, right), in pixels.

    One axis of a feature map that is zero but for one positive value at ``position``,
    max pooled with windows of ``kernel_size`` that tile the axis from 0 (stride =
    kernel_size): the pooled output stays the same while the peak stays in its window,
    so it may move ``position % kernel_size`` pixels back and ``kernel_size - 1 -
    position % kernel_size`` forward. Notebook 04's cross fires at column 4 of 4-wide
    windows: (0, 3).

    Raises:
        ValueError: position < 0 or kernel_size < 1.
    """
    # BEGIN SOLUTION a2_convolution
    if position < 0 or kernel_size < 1:
        raise ValueError(f"need position >= 0 and kernel_size >= 1; got {position}, {kernel_size}")
    offset = position % kernel_size  # where the peak sits inside its window
    return offset, kernel_size - 1 - offset
    # END SOLUTION
