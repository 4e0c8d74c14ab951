"""Convolution layers: 2D cross-correlation and convolution, and the multi-channel conv layer.

The teaching versions, as notebook 03 asks for them (lectures "Convolution layers" and
"Backward pass of a convolution layer"): loops first, then im2col and one matrix
product. ``cnnlib.fast_layers`` has the same functions tuned; the modules use those.

Conventions (docs/architecture.md): NCHW; the forward pass of a conv layer is a
cross-correlation; ``stride`` and ``pad`` are an int or an ``(h, w)`` pair; zero padding
on every side; windows that do not tile the padded input drop the remainder, as
``torch.nn.Conv2d`` does; the cache of every conv forward is ``(x, w, b, stride, pad)``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .shapes import Pair, check_conv_inputs, pair

__all__ = [
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_naive",
    "conv_output_size",
    "conv_params",
    "convolve2d",
    "cross_correlate2d",
]


def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output length along one axis: (size + 2 pad - kernel) // stride + 1.

    When the stride does not divide ``size + 2 pad - kernel``, the last input rows (or
    columns) that no window reaches are dropped, as in ``torch.nn.Conv2d``: a 3x3 kernel
    with stride 3 on a 5x5 input has one position per axis and never reads the last two
    pixels.

    Raises:
        ValueError: the kernel is larger than the padded input, or kernel < 1, stride < 1
            or pad < 0.
    """
    # BEGIN SOLUTION a2_convolution
    if kernel < 1 or stride < 1 or pad < 0:
        raise ValueError(f"need kernel >= 1, stride >= 1, pad >= 0; got {kernel}, {stride}, {pad}")
    room = size + 2 * pad - kernel  # how far the kernel can travel
    if room < 0:
        raise ValueError(f"kernel {kernel} does not fit in input {size} with padding {pad}")
    return room // stride + 1
    # END SOLUTION


def conv_params(in_channels: int, kernel_size: Pair, n_kernels: int) -> int:
    """Learned parameters of a conv layer: (kh * kw * in_channels + 1) * n_kernels.

    Each of the ``n_kernels`` kernels is as deep as the input (kh x kw x in_channels
    weights) and has one bias; the slides' example, 3x3 kernels on RGB and 4 of them,
    has (3 * 3 * 3 + 1) * 4 = 112. The size of the image does not enter: the weights are
    shared over every position.

    Raises:
        ValueError: a count below 1.
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw = pair(kernel_size, "kernel_size")
    if min(in_channels, kh, kw, n_kernels) < 1:
        raise ValueError(f"need positive sizes; got {in_channels}, {kernel_size}, {n_kernels}")
    return (kh * kw * in_channels + 1) * n_kernels
    # END SOLUTION


def cross_correlate2d(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """y(r, c) = sum_a sum_b x(r + a, c + b) k(a, b), "valid" output.

    Args:
        x: (H, W); k: (KH, KW) with KH <= H and KW <= W.

    Returns:
        y: (H - KH + 1, W - KW + 1).
    """
    # BEGIN SOLUTION a2_convolution
    if x.ndim != 2 or k.ndim != 2:
        raise ValueError(f"expected 2D x and k, got {x.shape} and {k.shape}")
    if k.shape[0] > x.shape[0] or k.shape[1] > x.shape[1]:
        raise ValueError(f"kernel {k.shape} larger than input {x.shape}")
    windows = sliding_window_view(x, k.shape)  # (H-KH+1, W-KW+1, KH, KW), a view
    return np.einsum("rcab,ab->rc", windows, k)
    # END SOLUTION


def convolve2d(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """True convolution: cross-correlation with the kernel flipped in both axes.

    Args:
        x: (H, W); k: (KH, KW).

    Returns:
        y: (H - KH + 1, W - KW + 1).
    """
    # BEGIN SOLUTION a2_convolution
    return cross_correlate2d(x, k[::-1, ::-1])
    # END SOLUTION


def conv2d_forward_naive(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair = 1, pad: Pair = 0
) -> tuple[np.ndarray, tuple]:
    """Conv layer forward with explicit loops: one dot product per output value.

    Args:
        x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride, pad: int or (h, w).

    Returns:
        out (N, F, Ho, Wo) with Ho = (H + 2 ph - KH) // sh + 1 (likewise Wo), and the cache
        (x, w, b, stride, pad).
    """
    # BEGIN SOLUTION a2_convolution
    check_conv_inputs(x, w, b)
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(pad, "pad")
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, f, ho, wo), dtype=np.result_type(x, w))
    for i in range(n):
        for j in range(f):
            for r in range(ho):
                for c in range(wo):
                    patch = xp[i, :, r * sh:r * sh + kh, c * sw:c * sw + kw]  # (C, KH, KW)
                    out[i, j, r, c] = np.sum(patch * w[j]) + b[j]
    return out, (x, w, b, stride, pad)
    # END SOLUTION


def conv2d_backward_naive(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of ``conv2d_backward``: every output value sends its gradient back.

    Output value (i, j, r, c) saw the window of the padded input that starts at
    (r * sh, c * sw); it adds dout[i, j, r, c] times that window to dw[j], and
    dout[i, j, r, c] times w[j] to the same window of the padded dx.

    Args:
        dout: (N, F, Ho, Wo); cache (x, w, b, stride, pad) from any conv forward.

    Returns:
        dx (N, C, H, W), dw (F, C, KH, KW), db (F,).
    """
    # BEGIN SOLUTION a2_convolution
    x, w, _, stride, pad = cache
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(pad, "pad")
    h, wd = x.shape[2], x.shape[3]
    kh, kw = w.shape[2], w.shape[3]
    dtype = np.result_type(dout, x, w)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))).astype(dtype, copy=False)
    dxp = np.zeros_like(xp)
    dw = np.zeros(w.shape, dtype)
    for i, j, r, c in np.ndindex(*dout.shape):
        window = (i, slice(None), slice(r * sh, r * sh + kh), slice(c * sw, c * sw + kw))
        dw[j] += dout[i, j, r, c] * xp[window]
        dxp[window] += dout[i, j, r, c] * w[j]
    dx = dxp[:, :, ph:ph + h, pw:pw + wd].copy()
    return dx, dw, dout.sum(axis=(0, 2, 3)).astype(dtype, copy=False)
    # END SOLUTION


def _im2col(x: np.ndarray, kh: int, kw: int, stride: Pair, pad: Pair) -> np.ndarray:
    """Every window the kernel visits, one per row.

    Args:
        x: (N, C, H, W); kh, kw: the kernel's size; stride, pad: int or (h, w).

    Returns:
        cols (N, Ho, Wo, C, KH, KW): cols[i, r, c] is the window of the padded x[i] under
        output (r, c); reshaped to (N*Ho*Wo, C*KH*KW) it is im2col's matrix.
    """
    # BEGIN SOLUTION a2_convolution
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(pad, "pad")
    ho = conv_output_size(x.shape[2], kh, sh, ph)
    wo = conv_output_size(x.shape[3], kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    # every window position (stride 1) as a view, then every sh-th row and sw-th column
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return windows[:, :, :ho, :wo].transpose(0, 2, 3, 1, 4, 5)  # (N, Ho, Wo, C, KH, KW)
    # END SOLUTION


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair = 1, pad: Pair = 0
) -> tuple[np.ndarray, tuple]:
    """Conv layer forward, vectorized: im2col, then one matrix product.

    Shapes: cols (N*Ho*Wo, C*KH*KW) holds one window per row; w as (F, C*KH*KW) holds one
    kernel per row; cols @ w.T is (N*Ho*Wo, F): every window times every kernel at once.

    Args:
        x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride, pad: int or (h, w).

    Returns:
        out (N, F, Ho, Wo) with Ho = (H + 2 ph - KH) // sh + 1 (likewise Wo), in the float
        dtype of x and w, and the cache (x, w, b, stride, pad).
    """
    # BEGIN SOLUTION a2_convolution
    check_conv_inputs(x, w, b)
    f, _, kh, kw = w.shape
    windows = _im2col(x, kh, kw, stride, pad)  # (N, Ho, Wo, C, KH, KW)
    n, ho, wo = windows.shape[:3]
    cols = windows.reshape(n * ho * wo, -1)  # the copy: (N*Ho*Wo, C*KH*KW)
    out = cols @ w.reshape(f, -1).T + b  # (N*Ho*Wo, F)
    out = out.reshape(n, ho, wo, f).transpose(0, 3, 1, 2)  # NCHW
    return out.astype(np.result_type(x, w), copy=False), (x, w, b, stride, pad)
    # END SOLUTION


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conv layer backward, vectorized: the forward's matrix product, differentiated.

    With cols (N*Ho*Wo, C*KH*KW) rebuilt from x and dout as rows (N*Ho*Wo, F):
    dw = dout_rows.T @ cols (the cross-correlation of the input with dout), db = column
    sums of dout_rows, and dcols = dout_rows @ w, whose rows are added back onto the
    windows they came from (col2im) to give dx (the convolution of dout with the kernel).

    Args:
        dout: (N, F, Ho, Wo); cache (x, w, b, stride, pad) from any conv forward.

    Returns:
        dx (N, C, H, W), dw (F, C, KH, KW), db (F,), in the float dtype of the inputs.
    """
    # BEGIN SOLUTION a2_convolution
    x, w, _, stride, pad = cache
    (sh, sw), (ph, pw) = pair(stride, "stride"), pair(pad, "pad")
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    dtype = np.result_type(dout, x, w)
    windows = _im2col(x, kh, kw, stride, pad)  # (N, Ho, Wo, C, KH, KW)
    ho, wo = windows.shape[1:3]
    cols = windows.reshape(n * ho * wo, -1)
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(-1, f)  # (N*Ho*Wo, F)
    dw = (dout_rows.T @ cols).reshape(w.shape)
    db = dout_rows.sum(axis=0)
    dcols = (dout_rows @ w.reshape(f, -1)).reshape(n, ho, wo, c, kh, kw)
    # col2im: kernel tap (a, b) of output (r, c) came from padded row r*sh + a, column c*sw + b
    dxp = np.zeros((n, c, h + 2 * ph, wd + 2 * pw), dtype)
    for a in range(kh):
        for b in range(kw):
            rows, columns = slice(a, a + sh * (ho - 1) + 1, sh), slice(b, b + sw * (wo - 1) + 1, sw)
            dxp[:, :, rows, columns] += dcols[..., a, b].transpose(0, 3, 1, 2)
    dx = dxp[:, :, ph:ph + h, pw:pw + wd]
    return dx.copy(), dw.astype(dtype, copy=False), db.astype(dtype, copy=False)
    # END SOLUTION
