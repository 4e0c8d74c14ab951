"""Parameter and memory accounting for CNNs: where the parameters live, where the memory goes.

The lecture "Backward pass of a convolution layer" lays AlexNet and VGG out layer by layer
(output size, parameters, memory) and observes that most parameters sit in the fully
connected layers while most of the memory (activations kept for the backward pass) goes to
the early convolutions. Two independent ways to build that table:

- ``layer_table(input_shape, layers)`` (graded in 06_architectures): from a plain
  description of the layers, with the counting rules written out
  (conv: ``(k * k * C_in + 1) * F`` parameters; fc: ``(in + 1) * out``);
- ``model_table(model, input_shape)``: from a real ``Sequential``, by running one example
  through it and counting the arrays its modules hold. It shares no code with
  ``layer_table``, so each checks the other; it computes what ``layer_table`` is graded
  for, so it is a solution region of a3_cnns too.

``format_table(rows)`` prints either kind of table, with float32 memory per example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["BYTES_PER_VALUE", "format_table", "layer_table", "model_table"]

BYTES_PER_VALUE = 4  # float32: what a framework would store each activation as


def layer_table(input_shape: Sequence[int], layers: Sequence[tuple]) -> list[dict]:
    """One row of accounting per layer of a plain CNN.

    Args:
        input_shape: ``(C, H, W)`` of one example.
        layers: tuples, first layer first:
            ``("conv", filters, kernel, stride, pad)`` a square ``kernel`` x ``kernel``
            convolution with zero padding ``pad`` on every side;
            ``("pool", kernel, stride)`` max or average pooling (no parameters);
            ``("relu",)`` elementwise (no parameters, same shape);
            ``("fc", out_features)`` fully connected, flattening its input first.

    Returns:
        One dict per layer: ``"layer"`` (a short str such as ``"conv3-16"``),
        ``"output_shape"`` (tuple of ints: ``(F, H', W')`` after conv/pool/relu on a
        feature map, ``(out_features,)`` after fc), ``"params"`` (int: weights plus biases)
        and ``"activations"`` (int: output values per example, i.e. the product of
        ``output_shape``; times 4 bytes in float32). Spatial sizes follow
        ``(H + 2 pad - kernel) // stride + 1``.

    Raises:
        ValueError: an unknown layer kind, a conv or pool after fc, or a kernel that does
            not fit its (padded) input.
    """
    # BEGIN SOLUTION a3_cnns
    def side(size: int, kernel: int, stride: int, pad: int) -> int:
        if size + 2 * pad < kernel:
            raise ValueError(f"kernel {kernel} does not fit an input of {size} (pad {pad})")
        return (size + 2 * pad - kernel) // stride + 1

    shape = tuple(int(s) for s in input_shape)
    rows = []
    for spec in layers:
        kind = spec[0]
        if kind in ("conv", "pool") and len(shape) != 3:
            raise ValueError(f"{kind} needs a (C, H, W) input, got {shape} (after fc?)")
        if kind == "conv":
            _, filters, kernel, stride, pad = spec
            channels, height, width = shape
            shape = (int(filters), side(height, kernel, stride, pad),
                     side(width, kernel, stride, pad))
            # every filter has a kernel x kernel x C_in weight block and one bias
            params = (kernel * kernel * channels + 1) * filters
            name = f"conv{kernel}-{filters}"
        elif kind == "pool":
            _, kernel, stride = spec
            channels, height, width = shape
            shape = (channels, side(height, kernel, stride, 0), side(width, kernel, stride, 0))
            params, name = 0, f"pool{kernel}"
        elif kind == "relu":
            params, name = 0, "relu"
        elif kind == "fc":
            fan_in = int(np.prod(shape))  # the feature map is flattened first
            shape = (int(spec[1]),)
            params, name = (fan_in + 1) * shape[0], f"fc-{shape[0]}"
        else:
            raise ValueError(f"unknown layer kind {kind!r}: use conv, pool, relu or fc")
        rows.append({"layer": name, "output_shape": shape, "params": int(params),
                     "activations": int(np.prod(shape))})
    return rows
    # END SOLUTION


def model_table(model: Any, input_shape: Sequence[int]) -> list[dict]:
    """The same accounting, measured on a real ``Sequential`` of cnnlib modules.

    One zero example of shape ``(1, *input_shape)`` goes through ``model.layers`` one by
    one; each row records the layer's output shape (without the batch axis), the number
    of values in the arrays of its ``parameters()`` and the number of output values.

    Args:
        model: a ``Sequential`` (anything with ``.layers`` of modules).
        input_shape: ``(C, H, W)`` of one example.

    Returns:
        One dict per top-level layer with the keys of ``layer_table``: ``"layer"`` (the
        module's class name), ``"output_shape"``, ``"params"``, ``"activations"``.
    """
    # BEGIN SOLUTION a3_cnns
    x = np.zeros((1, *(int(s) for s in input_shape)), dtype=np.float64)
    rows = []
    for layer in model.layers:
        x = layer.forward(x)
        rows.append({
            "layer": type(layer).__name__,
            "output_shape": tuple(int(s) for s in x.shape[1:]),
            "params": int(sum(p.data.size for p in layer.parameters())),
            "activations": int(x[0].size),
        })
    return rows
    # END SOLUTION


def format_table(rows: Sequence[dict]) -> str:
    """A text table of ``layer_table`` / ``model_table`` rows with a totals line.

    Columns: layer, output shape, parameters, activations and their float32 memory per
    example in KiB; the totals line adds parameters and activations over all layers.
    """
    header = f"{'layer':<12} {'output shape':<16} {'params':>10} {'activations':>12} {'KiB':>9}"
    lines = [header, "-" * len(header)]
    total_params = total_acts = 0
    for row in rows:
        shape = "x".join(str(s) for s in row["output_shape"])
        kib = row["activations"] * BYTES_PER_VALUE / 1024
        lines.append(f"{row['layer']:<12} {shape:<16} {row['params']:>10,} "
                     f"{row['activations']:>12,} {kib:>9.1f}")
        total_params += row["params"]
        total_acts += row["activations"]
    lines.append("-" * len(header))
    lines.append(f"{'total':<12} {'':<16} {total_params:>10,} {total_acts:>12,} "
                 f"{total_acts * BYTES_PER_VALUE / 1024:>9.1f}")
    return "\n".join(lines)
