"""Shape helpers shared by the layers, their fast versions and the modules.

Public inside the package (``from .shapes import pair``), so no module imports a private
name from another. Nothing here computes a layer's output size: that is
``conv_output_size``, which notebook 03 asks students to write.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pair", "Window", "check_conv_inputs", "pair", "pool_geometry"]

Pair = int | tuple[int, int]


def pair(value: Pair, name: str) -> tuple[int, int]:
    """An int or an (h, w) pair as an (h, w) pair of ints.

    Raises:
        ValueError: a sequence that is not of length 2 (``name`` says which argument).
    """
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or an (h, w) pair, got {value!r}")
        return int(value[0]), int(value[1])
    return int(value), int(value)


@dataclass(frozen=True)
class Window:
    """How a convolution or pooling layer slides over its input, as (h, w) pairs.

    Modules report it (``Conv2d.window``, ``MaxPool2d.window``) so that receptive-field
    and accounting code can ask a layer for its geometry instead of guessing it from the
    class.
    """

    kernel: tuple[int, int]
    stride: tuple[int, int]
    pad: tuple[int, int] = (0, 0)


def check_conv_inputs(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> None:
    """Clear errors for arrays that cannot be a conv layer's x (N, C, H, W), w, b.

    Raises:
        ValueError: wrong number of dimensions, a channel mismatch between x and w, or a
            bias that is not one value per filter.
    """
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


def pool_geometry(
    x_shape: tuple[int, ...], kernel_size: Pair, stride: Pair | None
) -> tuple[int, int, int, int, int, int]:
    """(kh, kw, sh, sw, ho, wo) for pooling x_shape (N, C, H, W), with clear errors.

    ``stride`` None means ``kernel_size``. Ho = (H - kh) // sh + 1 (likewise Wo): like
    torch.nn.MaxPool2d(ceil_mode=False), a last partial window is dropped.

    Raises:
        ValueError: x is not 4-D, a size below 1, or a window larger than the input.
    """
    # BEGIN SOLUTION a2_convolution
    if len(x_shape) != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got {tuple(x_shape)}")
    kh, kw = pair(kernel_size, "kernel_size")
    sh, sw = pair(kernel_size if stride is None else stride, "stride")
    if min(kh, kw, sh, sw) < 1:
        raise ValueError(f"kernel_size {(kh, kw)} and stride {(sh, sw)} must be >= 1")
    h, w = x_shape[2], x_shape[3]
    if kh > h or kw > w:
        raise ValueError(f"pool window {(kh, kw)} does not fit the input's {(h, w)}")
    return kh, kw, sh, sw, (h - kh) // sh + 1, (w - kw) // sw + 1
    # END SOLUTION
