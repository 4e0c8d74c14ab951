"""Receptive fields: how much of the input one unit deep inside a CNN can see.

A unit of a convolution or pooling layer with kernel ``k`` looks at ``k`` neighbouring
units of the layer below; each of those looks at its own window one layer further down,
and so on back to the image (lecture 000, "Simple Convolutional Neural Networks"). Along
one spatial axis the input region of one unit of the last layer is a run of

    r_L = 1 + sum_l (k_l - 1) * prod_{i<l} s_i

pixels: every layer widens the window by ``k - 1`` of its *input* units, and one input
unit of layer ``l`` is ``prod_{i<l} s_i`` pixels apart from its neighbour (the "jump").
Padding moves the window but does not change its size, so it plays no part here.

Three entry points, deliberately independent so each can check the others:

- ``receptive_field(layers)`` (graded in 05_training_a_cnn): the backward recurrence
  r <- (r - 1) * s + k from the last layer to the first;
- ``receptive_field_table(layers)``: the forward recurrence layer by layer (r and jump
  after each layer), for tables and pictures of the growth;
- ``receptive_field_of(model)``: the same for a ``Sequential`` of modules, reading kernel
  and stride from its Conv2d / MaxPool2d / AvgPool2d layers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["receptive_field", "receptive_field_of", "receptive_field_table"]

# Module class names whose (kernel, stride) change the receptive field. Matched by name so
# that this file does not import cnnlib.modules (and so works on any look-alike module).
_WINDOWED = ("Conv2d", "MaxPool2d", "AvgPool2d")


def receptive_field(layers: Sequence[tuple[int, int]]) -> int:
    """Side of the input region that one unit of the last layer sees.

    Args:
        layers: ``(kernel, stride)`` pairs of positive ints, first layer first; an empty
            list means no layers (a unit "sees" one pixel).

    Returns:
        r as an int: ``1 + sum_l (k_l - 1) * prod_{i<l} s_i``. The last layer's stride
        does not enter: it spaces the last layer's units, it does not widen one of them.

    Raises:
        ValueError: a kernel or stride below 1.
    """
    # BEGIN SOLUTION a3_cnns
    field = 1  # one unit of the last layer, in units of the last layer
    for kernel, stride in reversed(list(layers)):
        if int(kernel) < 1 or int(stride) < 1:
            raise ValueError(f"layer ({kernel}, {stride}): kernel and stride must be positive")
        # Step down one layer: field units spaced `stride` apart, each widened by the kernel.
        field = (field - 1) * int(stride) + int(kernel)
    return int(field)
    # END SOLUTION


def receptive_field_table(layers: Sequence[tuple[int, int]]) -> list[dict[str, int]]:
    """The growth of the receptive field, one row per layer, first layer first.

    Works forward (input to output), unlike ``receptive_field``: after layer ``l``,
    ``jump_l = jump_{l-1} * s_l`` and ``rf_l = rf_{l-1} + (k_l - 1) * jump_{l-1}``,
    starting from ``rf_0 = jump_0 = 1`` (one input pixel).

    Args:
        layers: ``(kernel, stride)`` pairs of positive ints, first layer first.

    Returns:
        One dict per layer with int values: ``"layer"`` (1-based index), ``"kernel"``,
        ``"stride"``, ``"jump"`` (input pixels between neighbouring units of this layer's
        output) and ``"receptive_field"`` (side of the input region one of its units sees).
    """
    rows: list[dict[str, int]] = []
    rf, jump = 1, 1
    for index, (kernel, stride) in enumerate(layers, start=1):
        kernel, stride = _check(kernel, stride)
        rf += (kernel - 1) * jump  # the window grows by k - 1 units of the layer below
        jump *= stride
        rows.append({"layer": index, "kernel": kernel, "stride": stride,
                     "jump": jump, "receptive_field": rf})
    return rows


def receptive_field_of(model: Any, axis: int = 0) -> int:
    """Receptive field of one output unit of ``model`` (a Sequential of cnnlib modules).

    Conv2d, MaxPool2d and AvgPool2d widen the window; elementwise layers (ReLU, Dropout,
    ...) do not. A nested Sequential is walked in order, a Residual counts its body (the
    skip path sees less), and a Parallel counts its widest branch. Anything after a
    Flatten or Linear sees the whole input, so walking stops there.

    Args:
        model: a Sequential (anything with ``.layers``) or a single module.
        axis: 0 for the height, 1 for the width (they differ only for non-square kernels
            or strides).

    Returns:
        The side of the input region, in pixels, along ``axis``.
    """
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (height) or 1 (width), got {axis}")
    rf, _ = _walk(model, 1, 1, axis)
    return rf


def _walk(module: Any, rf: int, jump: int, axis: int) -> tuple[int, int]:
    """(rf, jump) after ``module``, given them before it."""
    name = type(module).__name__
    if name in _WINDOWED:
        kernel, stride = _kernel_stride(module, axis)
        return rf + (kernel - 1) * jump, jump * stride
    if name == "Residual":
        return _walk(module.body, rf, jump, axis)
    if name == "Parallel":
        ends = [_walk(branch, rf, jump, axis) for branch in module.branches]
        return max(end[0] for end in ends), ends[0][1]
    if hasattr(module, "layers"):  # Sequential and look-alikes
        for layer in module.layers:
            if type(layer).__name__ in ("Flatten", "Linear"):
                break
            rf, jump = _walk(layer, rf, jump, axis)
        return rf, jump
    return rf, jump  # elementwise: ReLU, Sigmoid, Tanh, Dropout


def _kernel_stride(module: Any, axis: int) -> tuple[int, int]:
    """(kernel, stride) of a windowed module along ``axis``.

    Conv2d's kernel is read from its weight, (F, C, KH, KW), which every Conv2d has;
    pooling layers keep ``kernel_size`` (stride None meaning "same as the kernel").
    """
    if type(module).__name__ == "Conv2d":
        kernel = module.weight.data.shape[2 + axis]
    else:
        kernel = _pick(module.kernel_size, axis)
    stride = getattr(module, "stride", 1)
    stride = kernel if stride is None else _pick(stride, axis)
    return _check(kernel, stride)


def _pick(value: int | Iterable[int], axis: int) -> int:
    """An int, or the ``axis`` entry of an (h, w) pair."""
    if isinstance(value, int):
        return value
    return int(list(value)[axis])


def _check(kernel: Any, stride: Any) -> tuple[int, int]:
    kernel, stride = int(kernel), int(stride)
    if kernel < 1 or stride < 1:
        raise ValueError(f"kernel and stride must be >= 1, got ({kernel}, {stride})")
    return kernel, stride
