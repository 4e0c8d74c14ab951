"""Max and average pooling over each channel, NCHW.

``kernel_size`` and ``stride`` are an int or an ``(h, w)`` pair; ``stride`` defaults to
``kernel_size`` (non-overlapping windows, as in torch.nn.MaxPool2d). No padding. Max-pool
ties: the whole gradient goes to the FIRST maximum of the window in row-major order.
"""

from __future__ import annotations

import numpy as np

from .conv import _pair

__all__ = ["avgpool2d_backward", "avgpool2d_forward", "maxpool2d_backward", "maxpool2d_forward"]


def _pool_geometry(
    x_shape: tuple[int, ...],
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None,
) -> tuple[int, int, int, int, int, int]:
    """(kh, kw, sh, sw, ho, wo) for pooling x_shape (N, C, H, W), with clear errors.

    Ho = (H - kh) // sh + 1 (likewise Wo): like torch, a last partial window is dropped.
    """
    # BEGIN SOLUTION a2_convolution
    if len(x_shape) != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got {tuple(x_shape)}")
    kh, kw = _pair(kernel_size, "kernel_size")
    sh, sw = _pair(kernel_size if stride is None else stride, "stride")
    if min(kh, kw, sh, sw) < 1:
        raise ValueError(f"kernel_size {(kh, kw)} and stride {(sh, sw)} must be >= 1")
    h, w = x_shape[2], x_shape[3]
    if kh > h or kw > w:
        raise ValueError(f"pool window {(kh, kw)} does not fit the input's {(h, w)}")
    return kh, kw, sh, sw, (h - kh) // sh + 1, (w - kw) // sw + 1
    # END SOLUTION


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
    # One strided view per offset (a, b) inside the window: view[..., r, c] is the window
    # (r, c)'s element at (a, b). Scanning offsets in row-major order and keeping the first
    # that reaches the maximum gives the tie rule without any copy of the windows.
    views = [x[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw] for a in range(kh) for b in range(kw)]
    out = views[0].copy()
    for view in views[1:]:
        np.maximum(out, view, out=out)
    # first[...] counts the offsets passed before the first one that reaches the maximum:
    # each step adds 1 where nothing has matched yet (plain adds and ands; a masked
    # copyto of a scalar is ten times slower). A window of NaNs, equal to nothing, gets 0.
    first = np.zeros(out.shape, dtype=np.int8 if len(views) < 128 else np.int32)
    not_found = views[0] != out
    for view in views[1:]:
        np.add(first, not_found, out=first)
        not_found &= view != out
    np.multiply(first, ~not_found, out=first)
    return out, (x.shape, first, (kh, kw, sh, sw))
    # END SOLUTION


def maxpool2d_backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """Max pooling backward: each window's gradient goes to its (first) maximum only.

    Args:
        dout: (N, C, Ho, Wo); cache from ``maxpool2d_forward``.

    Returns:
        dx (N, C, H, W); windows that overlap add their contributions.
    """
    # BEGIN SOLUTION a2_convolution
    x_shape, first, (kh, kw, sh, sw) = cache
    ho, wo = first.shape[2], first.shape[3]
    dx = np.zeros(x_shape, dtype=dout.dtype)
    overlapping = sh < kh or sw < kw
    zero = np.zeros((), dtype=dout.dtype)
    for a in range(kh):
        for b in range(kw):
            # only the window's first maximum (offset a * kw + b) receives dout
            region = dx[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw]
            if overlapping:  # windows share inputs: their gradients add up
                region += np.where(first == a * kw + b, dout, zero)
            else:  # each input in at most one window: write in place, no temporaries
                # (a non-finite dout would spread as inf * 0 = nan over its window)
                np.multiply(dout, first == a * kw + b, out=region)
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
    out = np.zeros((x.shape[0], x.shape[1], ho, wo), dtype=x.dtype)
    for a in range(kh):
        for b in range(kw):
            out += x[:, :, a:a + sh * ho:sh, b:b + sw * wo:sw]
    out /= kh * kw
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
