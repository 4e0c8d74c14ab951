"""Receptive fields: how much of the input one unit deep inside a CNN can see.

A unit of a convolution or pooling layer with kernel ``k`` looks at ``k`` neighbouring
units of the layer below; each of those looks at its own window one layer further down,
and so on back to the image (lecture "Backward pass of a convolution layer", section
"Simple Convolutional Neural Networks"). Along
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
- ``receptive_field_of(model)``: the same for a model, asking each module for its
  ``window`` (kernel and stride) and walking containers by their structure.

All three compute what ``receptive_field`` is graded for, so all three are solution regions
of a3_cnns.
"""

from __future__ import annotations

from collections.abc import Sequence

from .modules import Module, Parallel, Residual, Sequential

__all__ = ["receptive_field", "receptive_field_of", "receptive_field_table"]


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
    # BEGIN SOLUTION a3_cnns
    rows: list[dict[str, int]] = []
    rf, jump = 1, 1
    for index, (kernel, stride) in enumerate(layers, start=1):
        kernel, stride = _check(kernel, stride)
        rf += (kernel - 1) * jump  # the window grows by k - 1 units of the layer below
        jump *= stride
        rows.append({"layer": index, "kernel": kernel, "stride": stride,
                     "jump": jump, "receptive_field": rf})
    return rows
    # END SOLUTION


def receptive_field_of(model: Module, axis: int = 0) -> int:
    """Receptive field of one output unit of ``model``, a module or container of modules.

    A module with a ``window`` (Conv2d, MaxPool2d, AvgPool2d) widens the field; modules
    without one (ReLU, Dropout, ...) do not. A Sequential is walked in order, a Residual
    counts its body (the skip path sees less), a Parallel its widest branch. Walking stops
    at the first module that ``flattens`` (Flatten, Linear): past it a unit sees the
    whole input.

    Args:
        model: a module; usually a Sequential.
        axis: 0 for the height, 1 for the width (they differ only for non-square kernels
            or strides).

    Returns:
        The side of the input region, in pixels, along ``axis``.
    """
    # BEGIN SOLUTION a3_cnns
    if axis not in (0, 1):
        raise ValueError(f"axis must be 0 (height) or 1 (width), got {axis}")
    rf, _, _ = _walk(model, 1, 1, axis)
    return rf
    # END SOLUTION


def _walk(module: Module, rf: int, jump: int, axis: int) -> tuple[int, int, bool]:
    """(rf, jump, flattened) after ``module``, given rf and jump before it."""
    # BEGIN SOLUTION a3_cnns
    if module.flattens:
        return rf, jump, True
    if isinstance(module, Sequential):
        for layer in module.layers:
            rf, jump, flattened = _walk(layer, rf, jump, axis)
            if flattened:
                return rf, jump, True
        return rf, jump, False
    if isinstance(module, Residual):
        return _walk(module.body, rf, jump, axis)
    if isinstance(module, Parallel):
        ends = [_walk(branch, rf, jump, axis) for branch in module.branches]
        return max(end[0] for end in ends), ends[0][1], any(end[2] for end in ends)
    window = module.window
    if window is None:  # elementwise: each position maps to itself
        return rf, jump, False
    kernel, stride = _check(window.kernel[axis], window.stride[axis])
    return rf + (kernel - 1) * jump, jump * stride, False
    # END SOLUTION


def _check(kernel: object, stride: object) -> tuple[int, int]:
    """(kernel, stride) as ints, refusing values below 1."""
    kernel, stride = int(kernel), int(stride)
    if kernel < 1 or stride < 1:
        raise ValueError(f"kernel and stride must be >= 1, got ({kernel}, {stride})")
    return kernel, stride
