"""Fast convolution and pooling layers: the same functions as ``conv`` and ``pooling``, tuned.

Read ``cnnlib.conv`` and ``cnnlib.pooling`` to learn how the layers work; this module is
what the modules (``Conv2d``, ``MaxPool2d``, ``AvgPool2d``) and the training loop run. Each
function here has the contract of its teaching twin: same arguments, same outputs (equal
to rounding, tested on random shapes), same cache layout (docs/architecture.md), so a
cache from either forward works with either backward.

The convolution is still im2col followed by one matrix product (GEMM); the work is in
what surrounds the product, which on a 2-core machine costs as much as the product:

- **Each kernel tap is one strided view.** The padded input is laid out flat, each map as
  ``rows x width`` (``width`` a multiple of the column stride). Tap (a, b) of output cell
  (r, t) then reads flat index ``(r*sh + a)*width + t*sw + b``: for a fixed tap, one
  strided view of the whole map, so im2col is ``KH*KW`` long copies, not one small copy
  per window. The price: the output is computed on a ``ho x width/sw`` grid whose cells
  past ``wo`` read across the row end. Those junk columns are cropped in the forward pass
  and given a zero gradient in the backward pass.
- **Blocks of images.** Columns are built for a few images at a time (about
  ``_BLOCK_BYTES``), so that they are still in cache when the GEMM reads them, and the
  block's GEMM is one call with the images side by side (wide enough for BLAS to use all
  of its threads).
- **Copies in parallel, products in BLAS.** numpy copies run on one core, so each block's
  copies (padding, im2col, col2im, cropping) are split over ``cnnlib.workers``; the GEMM
  runs on the calling thread, where BLAS uses its own threads. cnnlib never changes how
  many threads BLAS uses.
- **Bias and db inside the GEMM.** The columns carry one extra row of ones, so the
  forward GEMM adds the bias and the backward GEMM for dw also sums db.
- **Nothing kept between calls.** Scratch arrays live for one call; the backward pass
  rebuilds the columns from the cached input instead of keeping them alive in the cache.

Where the time goes (benchmarks/bench_conv.py, x (64, 16, 32, 32), 32 3x3 filters, float32):
in CPU seconds on one thread, the three GEMMs are about two thirds of a forward and backward
pass (24 of 37 ms) and the copies around them the rest. OpenBLAS's GEMMs alone take about
as long as PyTorch's whole forward and backward pass (oneDNN's direct convolution), so this
path cannot reach PyTorch's time by trimming copies; it stays within about 1.6x of its work.

The pooling functions replace the teaching versions' window copies (``sliding_window_view``
then a reduction over the last axes) by one strided view per offset inside the window.

Every function body here sits between solution markers: the student edition of an
assignment must not compute that assignment's graded functions under another name, so
these are stubbed exactly when the teaching versions are.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_output_size
from .shapes import Pair, check_conv_inputs, pair, pool_geometry
from .workers import copy_workers, run_parallel, share

__all__ = [
    "avgpool2d_backward_fast",
    "avgpool2d_forward_fast",
    "conv2d_backward_fast",
    "conv2d_forward_fast",
    "maxpool2d_backward_fast",
    "maxpool2d_forward_fast",
]

# Bytes of columns per block: small enough to stay in the last-level cache between being
# written and being multiplied, large enough that a block's GEMM keeps BLAS's threads busy.
_BLOCK_BYTES = 4 << 20
# Below this many bytes of input per block, handing work to a thread costs more than it saves.
_PARALLEL_BYTES = 1 << 18


class _Grid:
    """Where each kernel tap of a conv layer reads, as strided views of a flat array.

    An image is stored flat: its C padded maps one after another, each ``rows x width``
    (zeros outside the data), then one spare row that the last map's junk cells may read.
    The output grid has ``ho x wg`` cells per map; ``wg * sw = width``, so cell (r, t) of
    tap (a, b) is at ``a*width + b + r*sh*width + t*sw`` of its map. Within one tap the
    cells never share an address (so ``+=`` through a tap view is safe).
    """

    def __init__(self, x_shape: tuple, w_shape: tuple, stride: Pair, pad: Pair) -> None:
        # BEGIN SOLUTION a2_convolution
        (self.sh, self.sw), (self.ph, self.pw) = pair(stride, "stride"), pair(pad, "pad")
        _, self.c, self.h, self.w = x_shape
        _, _, self.kh, self.kw = w_shape
        self.ho = conv_output_size(self.h, self.kh, self.sh, self.ph)
        self.wo = conv_output_size(self.w, self.kw, self.sw, self.pw)
        self.wg = -(-(self.w + 2 * self.pw) // self.sw)  # padded width in strides, rounded up
        self.width = self.wg * self.sw
        self.rows = self.h + 2 * self.ph
        self.cells = self.ho * self.wg
        self.map_size = self.rows * self.width
        self.image_size = self.c * self.map_size + self.width
        self.taps = self.kh * self.kw * self.c  # rows of the columns, without the ones row
        # END SOLUTION

    def crop(self, flat: np.ndarray) -> np.ndarray:
        """The (B, C, H, W) data part of a flat (B, image_size) array, as a view."""
        # BEGIN SOLUTION a2_convolution
        maps = flat[:, :self.c * self.map_size].reshape(-1, self.c, self.rows, self.width)
        return maps[:, :, self.ph:self.ph + self.h, self.pw:self.pw + self.w]
        # END SOLUTION

    def tap_views(self, flat: np.ndarray) -> list[np.ndarray]:
        """For each tap (a, b), row-major, the view of ``flat`` (B, image_size) it reads:
        (B, C, ho, wg). Made once per call and sliced per block (a view costs microseconds
        of Python under the GIL; a slice, a fraction of one)."""
        # BEGIN SOLUTION a2_convolution
        item = flat.itemsize
        shape = (flat.shape[0], self.c, self.ho, self.wg)
        strides = (flat.strides[0], self.map_size * item, self.sh * self.width * item,
                   self.sw * item)
        return [np.lib.stride_tricks.as_strided(flat[:, a * self.width + b:], shape, strides)
                for a in range(self.kh) for b in range(self.kw)]
        # END SOLUTION

    def plan(self, n: int, itemsize: int) -> tuple[list[tuple[int, int]], int]:
        """Image ranges [lo, hi) of about ``_BLOCK_BYTES`` of columns each, and how many
        threads split each block's copies. A block holds a multiple of that many images,
        so that every thread copies as many images as the others."""
        # BEGIN SOLUTION a2_convolution
        per_image = (self.taps + 1) * self.cells * itemsize
        small = n < 2 or n * self.image_size * itemsize < _PARALLEL_BYTES
        parts = 1 if small else min(n, copy_workers())
        size = min(n, parts * max(1, _BLOCK_BYTES // (parts * per_image)))
        return [(lo, min(n, lo + size)) for lo in range(0, n, size)], parts
        # END SOLUTION


class _Buffers:
    """The scratch arrays of one call, sized for its largest block, viewed per block."""

    def __init__(self, grid: _Grid, largest: int, dtype: np.dtype, channels: int) -> None:
        # BEGIN SOLUTION a2_convolution
        self.grid = grid
        self.flat = np.empty((largest, grid.image_size), dtype)
        self.taps = grid.tap_views(self.flat)
        self._cols = np.empty((grid.taps + 1) * largest * grid.cells, dtype)
        # the forward's products, or the backward's dout on the grid
        self._grid_out = np.empty(channels * largest * grid.cells, dtype)
        # END SOLUTION

    def cols(self, images: int) -> np.ndarray:
        """Columns of a block: (KH*KW*C + 1, B, ho, wg); row (a*KW + b)*C + c holds tap
        (a, b) of channel c, the last row is ones (for the bias)."""
        # BEGIN SOLUTION a2_convolution
        g = self.grid
        return self._cols[:(g.taps + 1) * images * g.cells].reshape(
            g.taps + 1, images, g.ho, g.wg)
        # END SOLUTION

    def grid_out(self, images: int) -> np.ndarray:
        """(F, B, ho, wg): one row of output cells per filter."""
        # BEGIN SOLUTION a2_convolution
        g = self.grid
        return self._grid_out[:self._grid_out.size // self.flat.shape[0] * images].reshape(
            -1, images, g.ho, g.wg)
        # END SOLUTION


def _fill_columns(x: np.ndarray, lo: int, images: int, part: tuple[int, int],
                  buffers: _Buffers) -> np.ndarray:
    """Pad images ``lo + i0 .. lo + i1`` of x (``part`` = (i0, i1)) into the flat grid and
    copy them into the block's columns, one copy per kernel tap. Returns the columns."""
    # BEGIN SOLUTION a2_convolution
    g, (i0, i1) = buffers.grid, part
    cols = buffers.cols(images)
    if i0 == i1:
        return cols
    flat = buffers.flat[i0:i1]
    flat.fill(0)
    g.crop(flat)[...] = x[lo + i0:lo + i1]
    by_tap = cols[:g.taps].reshape(g.kh * g.kw, g.c, images, g.ho, g.wg)
    for k, tap in enumerate(buffers.taps):
        by_tap[k, :, i0:i1] = tap[i0:i1].transpose(1, 0, 2, 3)
    cols[g.taps, i0:i1] = 1
    return cols
    # END SOLUTION


def _as_matrix(block: np.ndarray) -> np.ndarray:
    """(rows, B, ho, wg) -> (rows, B*ho*wg), a view: what the GEMMs take."""
    # BEGIN SOLUTION a2_convolution
    return block.reshape(block.shape[0], -1)
    # END SOLUTION


def conv2d_forward_fast(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: Pair = 1, pad: Pair = 0
) -> tuple[np.ndarray, tuple]:
    """``conv.conv2d_forward``, fast: same arguments, output and cache (x, w, b, stride, pad).

    Per block of images: pad and im2col in parallel (with the previous block's cropping),
    then W_ext (F, KH*KW*C + 1) @ columns on this thread, in BLAS.
    """
    # BEGIN SOLUTION a2_convolution
    check_conv_inputs(x, w, b)
    g = _Grid(x.shape, w.shape, stride, pad)
    dtype = np.result_type(x, w)
    f = w.shape[0]
    w_ext = np.empty((f, g.taps + 1), dtype)  # rows of W in the columns' order, then b
    w_ext[:, :-1] = w.transpose(0, 2, 3, 1).reshape(f, -1)
    w_ext[:, -1] = b
    out = np.empty((x.shape[0], f, g.ho, g.wo), dtype)
    blocks, parts = g.plan(x.shape[0], dtype.itemsize)
    largest = blocks[0][1] - blocks[0][0]
    buffers = _Buffers(g, largest, dtype, f)

    def crop(k: int, part: int) -> None:  # products of block k, junk columns dropped
        lo, hi = blocks[k]
        i0, i1 = share(hi - lo, part, parts)
        products = buffers.grid_out(hi - lo)
        out[lo + i0:lo + i1] = products[:, i0:i1, :, :g.wo].transpose(1, 0, 2, 3)

    for k, (lo, hi) in enumerate(blocks):
        def step(part: int, k: int = k, lo: int = lo, hi: int = hi) -> None:
            if k:
                crop(k - 1, part)
            _fill_columns(x, lo, hi - lo, share(hi - lo, part, parts), buffers)

        run_parallel(step, parts)
        np.matmul(w_ext, _as_matrix(buffers.cols(hi - lo)),
                  out=_as_matrix(buffers.grid_out(hi - lo)))
    run_parallel(lambda part: crop(len(blocks) - 1, part), parts)
    return out, (x, w, b, stride, pad)
    # END SOLUTION


def conv2d_backward_fast(
    dout: np.ndarray, cache: tuple
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``conv.conv2d_backward``, fast: dx (N, C, H, W), dw (F, C, KH, KW), db (F,).

    Per block: rebuild the columns and lay dout on the output grid (junk cells zero), in
    parallel with the previous block's col2im; then, in BLAS, [dw | db]^T += columns @
    dout^T and dcolumns = W^T @ dout.
    """
    # BEGIN SOLUTION a2_convolution
    x, w, _, stride, pad = cache
    g = _Grid(x.shape, w.shape, stride, pad)
    dtype = np.result_type(dout, x, w)
    f = w.shape[0]
    w_cols = w.transpose(2, 3, 1, 0).reshape(-1, f).astype(dtype)  # (KH*KW*C, F)
    dx = np.empty(x.shape, dtype)
    dw_db = np.zeros((g.taps + 1, f), dtype)  # [dw | db]^T, the ones row gives db
    blocks, parts = g.plan(x.shape[0], dtype.itemsize)
    largest = blocks[0][1] - blocks[0][0]
    buffers = _Buffers(g, largest, dtype, f)
    dflat = np.empty_like(buffers.flat)
    dtaps = g.tap_views(dflat)
    dcols = np.empty((g.taps, largest * g.cells), dtype)

    def spread(k: int, part: int) -> None:  # dout of block k on the grid
        lo, hi = blocks[k]
        i0, i1 = share(hi - lo, part, parts)
        on_grid = buffers.grid_out(hi - lo)
        on_grid[:, i0:i1, :, g.wo:] = 0  # junk cells send nothing back
        on_grid[:, i0:i1, :, :g.wo] = dout[lo + i0:lo + i1].transpose(1, 0, 2, 3)

    def col2im(k: int, part: int) -> None:  # add block k's dcolumns back, tap by tap
        lo, hi = blocks[k]
        i0, i1 = share(hi - lo, part, parts)
        if i0 == i1:
            return
        by_tap = dcols[:, :(hi - lo) * g.cells].reshape(
            g.kh * g.kw, g.c, hi - lo, g.ho, g.wg)
        dflat[i0:i1].fill(0)
        for t, dtap in enumerate(dtaps):
            dtap[i0:i1] += by_tap[t, :, i0:i1].transpose(1, 0, 2, 3)
        dx[lo + i0:lo + i1] = g.crop(dflat[i0:i1])

    for k, (lo, hi) in enumerate(blocks):
        def step(part: int, k: int = k, lo: int = lo, hi: int = hi) -> None:
            if k:
                col2im(k - 1, part)
            _fill_columns(x, lo, hi - lo, share(hi - lo, part, parts), buffers)
            spread(k, part)

        run_parallel(step, parts)
        cols = _as_matrix(buffers.cols(hi - lo))
        on_grid = _as_matrix(buffers.grid_out(hi - lo))
        dw_db += cols @ on_grid.T
        np.matmul(w_cols, on_grid, out=dcols[:, :on_grid.shape[1]])
    run_parallel(lambda part: col2im(len(blocks) - 1, part), parts)
    dw = dw_db[:-1].T.reshape(f, g.kh, g.kw, g.c).transpose(0, 3, 1, 2)
    return dx, np.ascontiguousarray(dw), dw_db[-1].copy()
    # END SOLUTION


def _window_views(x: np.ndarray, kh: int, kw: int, sh: int, sw: int, ho: int,
                  wo: int) -> list[np.ndarray]:
    """For each offset (a, b) inside the window, row-major, the (N, C, ho, wo) view whose
    entry (r, c) is window (r, c)'s element (a, b)."""
    # BEGIN SOLUTION a2_convolution
    return [x[:, :, a:a + sh * (ho - 1) + 1:sh, b:b + sw * (wo - 1) + 1:sw]
            for a in range(kh) for b in range(kw)]
    # END SOLUTION


def maxpool2d_forward_fast(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None
) -> tuple[np.ndarray, tuple]:
    """``pooling.maxpool2d_forward``, fast: no copy of the windows.

    The maximum is a running ``np.maximum`` over the offset views; the index of each
    window's first maximum counts the offsets passed before the first match (adds and
    ands: a masked copy of a scalar is ten times slower). NaN counts as a match, as in
    ``np.argmax``.
    """
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, ho, wo = pool_geometry(x.shape, kernel_size, stride)
    views = _window_views(x, kh, kw, sh, sw, ho, wo)
    out = views[0].copy()
    for view in views[1:]:
        np.maximum(out, view, out=out)  # propagates NaN, like max
    first = np.zeros(out.shape, dtype=np.int8 if len(views) < 128 else np.int32)
    not_found = (views[0] != out) & (views[0] == views[0])
    for view in views[1:]:
        np.add(first, not_found, out=first)
        not_found &= (view != out) & (view == view)
    return out, (x.shape, first, (kh, kw, sh, sw))
    # END SOLUTION


def maxpool2d_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """``pooling.maxpool2d_backward``, fast: one pass per window offset; where windows do
    not overlap, written in place instead of accumulated."""
    # BEGIN SOLUTION a2_convolution
    x_shape, first, (kh, kw, sh, sw) = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    ho, wo = first.shape[2], first.shape[3]
    regions = _window_views(dx, kh, kw, sh, sw, ho, wo)
    overlapping = sh < kh or sw < kw
    zero = np.zeros((), dtype=dout.dtype)
    for offset, region in enumerate(regions):
        if overlapping:  # windows share inputs: their gradients add up
            region += np.where(first == offset, dout, zero)
        else:  # each input in at most one window
            np.copyto(region, np.where(first == offset, dout, zero))
    return dx
    # END SOLUTION


def avgpool2d_forward_fast(
    x: np.ndarray, kernel_size: Pair, stride: Pair | None = None
) -> tuple[np.ndarray, tuple]:
    """``pooling.avgpool2d_forward``, fast: a sum of the offset views, no window copies."""
    # BEGIN SOLUTION a2_convolution
    kh, kw, sh, sw, ho, wo = pool_geometry(x.shape, kernel_size, stride)
    views = _window_views(x, kh, kw, sh, sw, ho, wo)
    out = views[0].copy()
    for view in views[1:]:
        out += view
    out /= kh * kw
    return out, (x.shape, (kh, kw, sh, sw))
    # END SOLUTION


def avgpool2d_backward_fast(dout: np.ndarray, cache: tuple) -> np.ndarray:
    """``pooling.avgpool2d_backward``, fast: one add per window offset."""
    # BEGIN SOLUTION a2_convolution
    x_shape, (kh, kw, sh, sw) = cache
    dx = np.zeros(x_shape, dtype=dout.dtype)
    each = dout / (kh * kw)  # every input of a window gets an equal part
    for region in _window_views(dx, kh, kw, sh, sw, dout.shape[2], dout.shape[3]):
        region += each
    return dx
    # END SOLUTION
