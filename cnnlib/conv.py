"""Convolution layers: 2D cross-correlation and convolution, and the multi-channel conv layer.

Conventions (DESIGN.md): NCHW; the forward pass of a conv layer is a cross-correlation;
``stride`` and ``pad`` are an int or an ``(h, w)`` pair; zero padding on every side.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "conv2d_backward",
    "conv2d_backward_naive",
    "conv2d_forward",
    "conv2d_forward_naive",
    "conv_output_size",
    "convolve2d",
    "cross_correlate2d",
]

Pair = int | tuple[int, int]


def _pair(value: Pair, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair as an (h, w) pair of ints."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


def _check_conv_inputs(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> None:
    """Clear errors for arrays that cannot be a conv layer's x (N, C, H, W), w, b."""
    # BEGIN SOLUTION a2_convolution
    if np.ndim(x) != 4:
        raise ValueError(f"conv2d expects x of shape (N, C, H, W), got {np.shape(x)}")
    if np.ndim(w) != 4:
        raise ValueError(f"conv2d expects w of shape (F, C, KH, KW), got {np.shape(w)}")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"channel mismatch: x has {x.shape[1]} channels (x {x.shape}) but each filter "
            f"of w expects {w.shape[1]} (w {w.shape})"
        )
    if np.shape(b) != (w.shape[0],):
        raise ValueError(f"b must have shape ({w.shape[0]},), one per filter; got {np.shape(b)}")
    # END SOLUTION


def conv_output_size(size: int, kernel: int, stride: int = 1, pad: int = 0) -> int:
    """Output length along one axis: (size + 2 pad - kernel) / stride + 1.

    Raises:
        ValueError: the kernel is larger than the padded input, or the windows do not tile
            it exactly ((size + 2 pad - kernel) not divisible by stride), or stride < 1.
    """
    # BEGIN SOLUTION a2_convolution
    if stride < 1 or pad < 0 or kernel < 1:
        raise ValueError(f"need kernel >= 1, stride >= 1, pad >= 0; got {kernel}, {stride}, {pad}")
    span = size + 2 * pad - kernel
    if span < 0:
        raise ValueError(f"kernel {kernel} does not fit in input {size} with padding {pad}")
    if span % stride:
        raise ValueError(
            f"kernel {kernel} with stride {stride} does not fit input {size} (pad {pad}): "
            f"({size} + 2*{pad} - {kernel}) / {stride} is not a whole number"
        )
    return span // stride + 1
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
    windows = sliding_window_view(x, k.shape)  # (H-KH+1, W-KW+1, KH, KW)
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
    """Conv layer forward with explicit loops (for teaching and as a second reference).

    Args:
        x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride, pad: int or (h, w).

    Returns:
        out (N, F, Ho, Wo) with Ho = (H + 2 ph - KH) / sh + 1 (likewise Wo), and the cache
        (x, w, b, stride, pad).
    """
    # BEGIN SOLUTION a2_convolution
    _check_conv_inputs(x, w, b)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(pad, "pad")
    n, _, h, wd = x.shape
    f, _, kh, kw = w.shape
    ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(wd, kw, sw, pw)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = np.zeros((n, f, ho, wo), dtype=np.result_type(x, w))
    for i in range(n):
        for j in range(f):
            for r in range(ho):
                for c in range(wo):
                    patch = xp[i, :, r * sh:r * sh + kh, c * sw:c * sw + kw]
                    out[i, j, r, c] = np.sum(patch * w[j]) + b[j]
    return out, (x, w, b, stride, pad)
    # END SOLUTION


def conv2d_backward_naive(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Loop version of ``conv2d_backward``: every output pixel sends its gradient back.

    Output pixel (i, j, r, c) saw the window of the padded input starting at
    (r * sh, c * sw); it adds dout[i, j, r, c] times that window to dw[j], and
    dout[i, j, r, c] times w[j] to the same window of the padded dx.

    Args:
        dout: (N, F, Ho, Wo); cache from ``conv2d_forward_naive`` or ``conv2d_forward``.

    Returns:
        dx (N, C, H, W), dw (F, C, KH, KW), db (F,).
    """
    # Given code (not graded): uses no function of the assignment, so that the student
    # edition can keep it. Both forwards' caches start with (x, w, b, stride, pad).
    x, w, _, stride, pad = cache[0], cache[1], cache[2], cache[3], cache[4]
    step_r, step_c = _pair(stride, "stride")
    top, left = _pair(pad, "pad")
    height, width = x.shape[2], x.shape[3]
    size_r, size_c = w.shape[2], w.shape[3]
    padded = np.zeros((x.shape[0], x.shape[1], height + 2 * top, width + 2 * left), x.dtype)
    padded[:, :, top:top + height, left:left + width] = x
    dpadded = np.zeros_like(padded)
    dw = np.zeros_like(w)
    for i, j, r, c in np.ndindex(*dout.shape):
        g = dout[i, j, r, c]
        window = (i, slice(None), slice(r * step_r, r * step_r + size_r),
                  slice(c * step_c, c * step_c + size_c))
        dw[j] += g * padded[window]
        dpadded[window] += g * w[j]
    dx = dpadded[:, :, top:top + height, left:left + width].copy()
    return dx, dw, dout.sum(axis=(0, 2, 3))


# Images per block of the vectorized conv: the block's columns (about 4 MiB) stay in cache
# between being written and being multiplied, and its buffers are reused block after block
# instead of allocating (and page-faulting) one column matrix for the whole batch.
_BLOCK_BYTES = 1 << 22


def _fill_columns(
    cols: np.ndarray, xp: np.ndarray, lo: int, hi: int, stride: tuple[int, int]
) -> np.ndarray:
    """im2col for images lo..hi-1 of the padded input xp (N, C, Hp, Wp), into ``cols``.

    ``cols`` is a buffer (B, C, KH, KW, Ho, Wo) with B >= hi - lo; entry [i, c, a, b, r, s]
    becomes xp[lo + i, c, r * sh + a, s * sw + b]. Returns the filled part as
    (hi - lo, C*KH*KW, Ho*Wo): each row one kernel tap, laid out like an output map, so
    W (F, C*KH*KW) @ columns lands directly in NCHW order.
    """
    # BEGIN SOLUTION a2_convolution
    sh, sw = stride
    kh, kw, ho, wo = cols.shape[2:]
    block = cols[:hi - lo]
    for a in range(kh):
        for b in range(kw):
            # one strided copy per kernel tap: whole rows of xp, no per-window work
            block[:, :, a, b] = xp[lo:hi, :, a:a + sh * ho:sh, b:b + sw * wo:sw]
    return block.reshape(hi - lo, -1, ho * wo)
    # END SOLUTION


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair = 1, pad: Pair = 0
) -> tuple[np.ndarray, tuple]:
    """Conv layer forward, vectorized: im2col, then one matrix product per image.

    Images are processed in blocks: the block's columns (B, C*KH*KW, Ho*Wo) are copied from
    the padded input one kernel tap at a time, and W (F, C*KH*KW) @ columns is written
    straight into the output (already NCHW, no transposed copies).

    Args:
        x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride, pad: int or (h, w).

    Returns:
        out (N, F, Ho, Wo) with Ho = (H + 2 ph - KH) / sh + 1 (likewise Wo), in the float
        dtype of x and w, and a cache (x, w, b, stride, pad, padded x) for
        ``conv2d_backward``.
    """
    # BEGIN SOLUTION a2_convolution
    _check_conv_inputs(x, w, b)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(pad, "pad")
    f, c, kh, kw = w.shape
    n = x.shape[0]
    ho = conv_output_size(x.shape[2], kh, sh, ph)
    wo = conv_output_size(x.shape[3], kw, sw, pw)
    dtype = np.result_type(x, w)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw))) if ph or pw else x
    block = max(1, min(n, _BLOCK_BYTES // (c * kh * kw * ho * wo * dtype.itemsize)))
    cols = np.empty((block, c, kh, kw, ho, wo), dtype)
    out = np.empty((n, f, ho * wo), dtype)
    w_rows = w.reshape(f, -1).astype(dtype, copy=False)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        np.matmul(w_rows, _fill_columns(cols, xp, lo, hi, (sh, sw)), out=out[lo:hi])
    out += b.reshape(1, f, 1).astype(dtype, copy=False)
    return out.reshape(n, f, ho, wo), (x, w, b, stride, pad, xp)
    # END SOLUTION


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conv layer backward, vectorized (the lecture's duality).

    dw is the cross-correlation of the input with dout: per image, dout (F, Ho*Wo) times
    the transposed columns. dx is the "full" convolution of dout with the kernel, formed
    as columns W^T @ dout and added back one kernel tap at a time (col2im). db sums dout.
    The columns are rebuilt block by block from the cached padded input (cheaper than
    keeping a column matrix of the whole batch alive between the passes).

    Args:
        dout: (N, F, Ho, Wo); cache from ``conv2d_forward``.

    Returns:
        dx (N, C, H, W), dw (F, C, KH, KW), db (F,), in the float dtype of the inputs.
    """
    # BEGIN SOLUTION a2_convolution
    x, w, _, stride, pad, xp = cache
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(pad, "pad")
    f, c, kh, kw = w.shape
    n, _, ho, wo = dout.shape
    dtype = np.result_type(dout, x, w)
    block = max(1, min(n, _BLOCK_BYTES // (c * kh * kw * ho * wo * dtype.itemsize)))
    cols = np.empty((block, c, kh, kw, ho, wo), dtype)
    dcols = np.empty((block, c * kh * kw, ho * wo), dtype)
    dw_parts = np.empty((block, f, c * kh * kw), dtype)
    dw = np.zeros((f, c * kh * kw), dtype)
    dxp = np.zeros(xp.shape, dtype)
    w_cols = w.reshape(f, -1).T.astype(dtype, copy=False)  # (C*KH*KW, F)
    dout_rows = dout.reshape(n, f, ho * wo).astype(dtype, copy=False)
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        m = hi - lo
        columns = _fill_columns(cols, xp, lo, hi, (sh, sw))
        # dw += sum over the block of dout[i] @ columns[i]^T (BLAS reads the transpose)
        np.matmul(dout_rows[lo:hi], columns.transpose(0, 2, 1), out=dw_parts[:m])
        dw += dw_parts[:m].sum(axis=0)
        np.matmul(w_cols, dout_rows[lo:hi], out=dcols[:m])
        taps = dcols[:m].reshape(m, c, kh, kw, ho, wo)
        for a in range(kh):
            for b in range(kw):
                dxp[lo:hi, :, a:a + sh * ho:sh, b:b + sw * wo:sw] += taps[:, :, a, b]
    dx = dxp[:, :, ph:ph + x.shape[2], pw:pw + x.shape[3]] if ph or pw else dxp
    db = dout.sum(axis=(0, 2, 3)).astype(dtype, copy=False)
    return np.ascontiguousarray(dx), dw.reshape(w.shape), db
    # END SOLUTION
