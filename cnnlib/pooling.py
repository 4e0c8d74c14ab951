"""Max and average pooling over each channel, NCHW.

``kernel_size`` and ``stride`` are an int or an ``(h, w)`` pair; ``stride`` defaults to
``kernel_size`` (non-overlapping windows, as in torch.nn.MaxPool2d). No padding. Max-pool
ties: the whole gradient goes to the FIRST maximum of the window in row-major order.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv import _pair

__all__ = ["avgpool2d_backward", "avgpool2d_forward", "maxpool2d_backward", "maxpool2d_forward"]


def _pool_geometry(x_shape: tuple[int, ...], kernel_size, stride) -> tuple[int, ...]:
    """(kh, kw, sh, sw, ho, wo) for pooling, with clear errors for windows that do not fit."""
    if len(x_shape) != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got {x_shape}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, "stride")
    h, w = x_shape[2], x_shape[3]
    if kh > h or kw > w or min(kh, kw, sh, sw) < 1:
        raise ValueError(f"pool window {(kh, kw)} stride {(sh, sw)} does not fit input {(h, w)}")
    return kh, kw, sh, sw, (h - kh) // sh + 1, (w - kw) // sw + 1


def maxpool2d_forward(
    x: np.ndarray, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> tuple[np.ndarray, tuple]:
    """Max pooling forward.

    Args:
        x: (N, C, H, W); kernel_size (kh, kw); stride (sh, sw), default kernel_size.

    Returns:
        out (N, C, Ho, Wo) with Ho = (H - kh) // sh + 1, and a cache holding the index (in
        0..kh*kw-1, row-major) of each window's first maximum.
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, ho, wo = _pool_geometry(x.shape, kernel_size, stride)
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :ho, :wo]
    flat = windows.reshape(*windows.shape[:4], kh * kw)
    argmax = flat.argmax(axis=-1)  # argmax returns the first maximum: our tie rule
    out = np.take_along_axis(flat, argmax[..., None], axis=-1)[..., 0]
    return out, (x.shape, argmax, (kh, kw, sh, sw))
    # END SOLUTION


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Max pooling backward: each window's gradient goes to its (first) maximum only.

    Args:
        dout: (N, C, Ho, Wo); cache from ``maxpool2d_forward``.

    Returns:
        dx (N, C, H, W); windows that overlap add their contributions.
    """
    # BEGIN SOLUTION a2_convolution
    x_shape, argmax, (kh, kw, sh, sw) = cache
    ho, wo = argmax.shape[2], argmax.shape[3]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    rows = np.arange(ho)[:, None] * sh + argmax // kw  # (N, C, Ho, Wo) by broadcasting
    cols = np.arange(wo)[None, :] * sw + argmax % kw
    n_idx = np.arange(x_shape[0])[:, None, None, None]
    c_idx = np.arange(x_shape[1])[None, :, None, None]
    np.add.at(dx, (n_idx, c_idx, rows, cols), dout)
    return dx
    # END SOLUTION


def avgpool2d_forward(
    x: np.ndarray, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None
) -> tuple[np.ndarray, tuple]:
    """Average pooling forward.

    Args:
        x: (N, C, H, W); kernel_size (kh, kw); stride (sh, sw), default kernel_size.

    Returns:
        out (N, C, Ho, Wo), the mean of each window, and a cache.
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, ho, wo = _pool_geometry(x.shape, kernel_size, stride)
    windows = sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw][:, :, :ho, :wo]
    out = windows.mean(axis=(-2, -1)).astype(x.dtype, copy=False)
    return out, (x.shape, (kh, kw, sh, sw))
    # END SOLUTION


def avgpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Average pooling backward: each window spreads dout / (kh kw) over its inputs.

    Args:
        dout: (N, C, Ho, Wo); cache from ``avgpool2d_forward``.

    Returns:
        dx (N, C, H, W).
    """
    # BEGIN SOLUTION a2_convolution
    x_shape, (kh, kw, sh, sw) = cache
    ho, wo = dout.shape[2], dout.shape[3]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    share = dout / (kh * kw)
    for a in range(kh):
        for b in range(kw):
            dx[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw] += share
    return dx
    # END SOLUTION
