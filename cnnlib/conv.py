"""Convolution layers: 2D cross-correlation and convolution, and the multi-channel conv layer.

Conventions (DESIGN.md): NCHW; the forward pass of a conv layer is a cross-correlation;
``stride`` and ``pad`` are an int or an ``(h, w)`` pair; zero padding on every side.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._threads import run_blocks, scratch

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


# Images per block of the vectorized conv: a block's columns (about 2 MiB) stay in cache
# between being written and being multiplied, and blocks go to different cores.
_BLOCK_BYTES = 1 << 21


class _Grid:
    """Where each kernel tap of a conv layer reads, as one strided view of a flat array.

    Each padded input map is stored with ``rows`` rows of ``width = wg * sw`` columns (zeros
    past the padding), and an image's maps one after another, flat. The output is computed
    on a grid of ``ho x wg`` cells per map; cell (r, t) reads tap (a, b) at flat index
    ``a*width + b + r*sh*width + t*sw`` of its map. For a fixed tap that is one strided view
    of the whole image, and with sh == 1 a single run through each map, so im2col and
    col2im copy long runs per tap instead of 32-float rows. Cells in the columns past wo
    are junk (they wrap into the next row or map): the forward drops them and the backward
    gives them zero gradient.
    """

    def __init__(self, x_shape: tuple, w_shape: tuple, stride: Pair, pad: Pair) -> None:
        (self.sh, self.sw), (self.ph, self.pw) = _pair(stride, "stride"), _pair(pad, "pad")
        _, self.c, self.h, self.w = x_shape
        _, _, self.kh, self.kw = w_shape
        self.ho = conv_output_size(self.h, self.kh, self.sh, self.ph)
        self.wo = conv_output_size(self.w, self.kw, self.sw, self.pw)
        self.wg = -(-(self.w + 2 * self.pw) // self.sw)  # padded width in strides, rounded up
        self.width = self.wg * self.sw
        # junk cells of one map read into the next: harmless, they are dropped
        self.rows = max(self.h + 2 * self.ph, (self.ho - 1) * self.sh + self.kh)
        self.cells = self.ho * self.wg
        self.map_size = self.rows * self.width
        # the junk cells of the last map read up to kh rows past it
        self.image_size = self.c * self.map_size + self.kh * self.width

    def pad_into(self, flat: np.ndarray, x: np.ndarray) -> None:
        """Write x (B, C, H, W) zero-padded onto the grid into ``flat`` (B, image_size)."""
        flat.fill(0)
        self.crop(flat)[...] = x

    def crop(self, flat: np.ndarray) -> np.ndarray:
        """The (B, C, H, W) data part of a flat (B, image_size) array, as a view."""
        maps = flat[:, :self.c * self.map_size].reshape(-1, self.c, self.rows, self.width)
        return maps[:, :, self.ph:self.ph + self.h, self.pw:self.pw + self.w]

    def tap(self, flat: np.ndarray, a: int, b: int) -> np.ndarray:
        """The view of ``flat`` (B, image_size) that tap (a, b) multiplies: (B, C, ho*wg)
        when sh == 1 (one run per map: numpy copies it much faster than the same 4D view),
        else (B, C, ho, wg)."""
        item = flat.itemsize
        start = flat[:, a * self.width + b:]
        if self.sh == 1:
            return np.lib.stride_tricks.as_strided(
                start, (flat.shape[0], self.c, self.cells),
                (flat.strides[0], self.map_size * item, self.sw * item))
        return np.lib.stride_tricks.as_strided(
            start, (flat.shape[0], self.c, self.ho, self.wg),
            (flat.strides[0], self.map_size * item, self.sh * self.width * item,
             self.sw * item),
        )

    def taps(self, flat: np.ndarray) -> list[np.ndarray]:
        """``tap(flat, a, b)`` for every tap in row-major order, made once per call (each
        view costs microseconds of Python, held under the GIL; a block slices them)."""
        return [self.tap(flat, a, b) for a in range(self.kh) for b in range(self.kw)]

    def tap_shape(self, m: int) -> tuple[int, ...]:
        """The shape of ``tap`` for m images."""
        return (m, self.c, self.cells) if self.sh == 1 else (m, self.c, self.ho, self.wg)

    def blocks(self, n: int, itemsize: int) -> list[tuple[int, int]]:
        """Image ranges [lo, hi) whose columns take about _BLOCK_BYTES each."""
        per_image = self.c * self.kh * self.kw * self.cells * itemsize
        size = max(1, min(n, _BLOCK_BYTES // per_image))
        return [(lo, min(n, lo + size)) for lo in range(0, n, size)]


def _fill_columns(cols: np.ndarray, taps: list[np.ndarray], lo: int, grid: _Grid) -> np.ndarray:
    """im2col of images lo .. lo+B of the padded batch whose tap views are ``taps`` (from
    ``grid.taps``) into ``cols`` (B, KH, KW, C, ho, wg): entry [i, a, b, c, r, t] = padded
    x[lo+i, c, r*sh + a, t*sw + b]. Returns it as (B, KH*KW*C, ho*wg): each row one kernel
    tap of one channel laid out like an output map, so W (F, KH*KW*C) @ columns lands
    directly in NCHW order.
    """
    # BEGIN SOLUTION a2_convolution
    m = cols.shape[0]
    by_tap = cols.reshape(m, grid.kh * grid.kw, *grid.tap_shape(m)[1:])
    for k, tap in enumerate(taps):
        # one copy per kernel tap: every map of the block at once, no per-window work
        by_tap[:, k] = tap[lo:lo + m]
    return cols.reshape(m, -1, grid.cells)
    # END SOLUTION


def conv2d_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair = 1, pad: Pair = 0
) -> tuple[np.ndarray, tuple]:
    """Conv layer forward, vectorized: im2col, then one matrix product per image.

    Images are processed in blocks, spread over the cores numpy's BLAS may use: a block's
    columns (B, C*KH*KW, ho*wg) are copied from the padded input one kernel tap at a time
    (see ``_Grid``), and W (F, C*KH*KW) @ columns gives the output already in NCHW order.

    Args:
        x: (N, C, H, W); w: (F, C, KH, KW); b: (F,); stride, pad: int or (h, w).

    Returns:
        out (N, F, Ho, Wo) with Ho = (H + 2 ph - KH) / sh + 1 (likewise Wo), in the float
        dtype of x and w, and a cache (x, w, b, stride, pad, padded flat x) for
        ``conv2d_backward``.
    """
    # BEGIN SOLUTION a2_convolution
    _check_conv_inputs(x, w, b)
    grid = _Grid(x.shape, w.shape, stride, pad)
    f, c, kh, kw = w.shape
    dtype = np.result_type(x, w)
    flat = np.empty((x.shape[0], grid.image_size), dtype)
    out = np.empty((x.shape[0], f, grid.ho, grid.wo), dtype)
    # rows of W in the columns' order: tap (a, b) first, then channel
    w_rows = w.transpose(0, 2, 3, 1).reshape(f, -1).astype(dtype)
    bias = b.reshape(1, f, 1, 1).astype(dtype, copy=False)

    taps = grid.taps(flat)

    def forward_block(lo: int, hi: int) -> None:
        m = hi - lo
        grid.pad_into(flat[lo:hi], x[lo:hi])
        cols = scratch("cols", (m, kh, kw, c, grid.ho, grid.wg), dtype)
        products = scratch("products", (m, f, grid.ho, grid.wg), dtype)
        np.matmul(w_rows, _fill_columns(cols, taps, lo, grid),
                  out=products.reshape(m, f, grid.cells))
        # junk columns dropped
        np.add(products[..., :grid.wo], bias, out=out[lo:hi])

    run_blocks(forward_block, grid.blocks(x.shape[0], dtype.itemsize))
    return out, (x, w, b, stride, pad, flat)
    # END SOLUTION


def conv2d_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Conv layer backward, vectorized (the lecture's duality).

    dw is the cross-correlation of the input with dout: per image, the columns times the
    transposed dout. dx is the "full" convolution of dout with the kernel, formed as
    columns W^T @ dout and added back one kernel tap at a time (col2im). db sums dout.
    The columns are rebuilt block by block from the cached padded input (cheaper than
    keeping a column matrix of the whole batch alive between the passes).

    Args:
        dout: (N, F, Ho, Wo); cache from ``conv2d_forward``.

    Returns:
        dx (N, C, H, W), dw (F, C, KH, KW), db (F,), in the float dtype of the inputs.
    """
    # BEGIN SOLUTION a2_convolution
    x, w, _, stride, pad, flat = cache
    grid = _Grid(x.shape, w.shape, stride, pad)
    f, c, kh, kw = w.shape
    dtype = np.result_type(dout, x, w)
    flat = flat.astype(dtype, copy=False)
    dx = np.empty(x.shape, dtype)
    w_cols = w.transpose(2, 3, 1, 0).reshape(-1, f).astype(dtype)  # (KH*KW*C, F)
    taps = grid.taps(flat)
    # dx on the padded grid; each block clears and crops its own images
    dflat = scratch("dflat", flat.shape, dtype)
    dtaps = grid.taps(dflat)

    def backward_block(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        m = hi - lo
        # dout on the grid, zero in the junk cells so that they send nothing back
        spread = scratch("dout", (m, f, grid.ho, grid.wg), dtype)
        spread[:, :, :, grid.wo:] = 0
        spread[:, :, :, :grid.wo] = dout[lo:hi]
        spread = spread.reshape(m, f, grid.cells)
        cols = scratch("cols", (m, kh, kw, c, grid.ho, grid.wg), dtype)
        columns = _fill_columns(cols, taps, lo, grid)
        # dw^T of the block = sum_i columns[i] @ dout[i]^T (this order suits BLAS best)
        dw_t = np.matmul(columns, spread.transpose(0, 2, 1)).sum(axis=0)
        dcols = scratch("dcols", (m, kh * kw * c, grid.cells), dtype)
        np.matmul(w_cols, spread, out=dcols)
        by_tap = dcols.reshape(m, kh * kw, *grid.tap_shape(m)[1:])
        dflat[lo:hi].fill(0)
        for k, dtap in enumerate(dtaps):
            dtap[lo:hi] += by_tap[:, k]
        dx[lo:hi] = grid.crop(dflat[lo:hi])
        return dw_t, spread.sum(axis=(0, 2))

    parts = run_blocks(backward_block, grid.blocks(x.shape[0], dtype.itemsize))
    dw_t = np.sum([p[0] for p in parts], axis=0)  # (KH*KW*C, F)
    dw = dw_t.T.reshape(f, kh, kw, c).transpose(0, 3, 1, 2)
    db = np.sum([p[1] for p in parts], axis=0).astype(dtype, copy=False)
    return dx, np.ascontiguousarray(dw), db
    # END SOLUTION
