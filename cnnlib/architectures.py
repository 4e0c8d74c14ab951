"""The published networks of notebook 06 as layer lists, and block diagrams of their ideas.

The layer lists use the format of ``layer_table`` (``("conv", filters, kernel, stride, pad)``,
``("pool", kernel, stride)``, ``("relu",)``, ``("fc", out_features)``):

- ``LENET5``: LeNet-5 on its 32x32 input (every C3 map sees all S2 maps here; the original
  connected each to a subset, and its output layer of "Gaussian connections" measured the
  distance to a fixed target code per class instead of computing scores);
- ``ALEXNET``: AlexNet on a 227x227 input as one tower, as most re-implementations build it
  (the original split conv2, conv4 and conv5 over two GPUs, each half seeing half of the
  channels below); local response normalization and dropout have no parameters and are
  left out;
- ``VGG16``: VGG-16 (configuration D) on a 224x224 input.

The drawings (``draw_residual_block``, ``draw_inception_module``) are schematic: boxes for
layers, arrows for the data, in the style of the papers' figures.
"""

from __future__ import annotations

__all__ = ["ALEXNET", "LENET5", "VGG16", "draw_inception_module", "draw_residual_block"]

LENET5 = [
    ("conv", 6, 5, 1, 0), ("pool", 2, 2),      # C1 6@28x28, S2 6@14x14
    ("conv", 16, 5, 1, 0), ("pool", 2, 2),     # C3 16@10x10, S4 16@5x5
    ("conv", 120, 5, 1, 0),                    # C5 120@1x1
    ("fc", 84), ("fc", 10),                    # F6, then the output layer
]

ALEXNET = [
    ("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2),
    ("conv", 256, 5, 1, 2), ("relu",), ("pool", 3, 2),
    ("conv", 384, 3, 1, 1), ("relu",), ("conv", 384, 3, 1, 1), ("relu",),
    ("conv", 256, 3, 1, 1), ("relu",), ("pool", 3, 2),
    ("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000),
]

VGG16: list[tuple] = []
for _channels, _repeats in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
    VGG16 += [("conv", _channels, 3, 1, 1), ("relu",)] * _repeats + [("pool", 2, 2)]
VGG16 += [("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000)]
del _channels, _repeats


def _axes(ax, size):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=size)
    ax.set_axis_off()
    ax.set_aspect("equal")
    return ax


def _box(ax, x, y, text, color, width=2.6, height=0.7):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05", facecolor=color,
                                edgecolor="black", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=9)


def _arrow(ax, start, end, **style):
    ax.annotate("", xy=end, xytext=start,
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2, **style})


def draw_residual_block(ax=None):
    """ResNet's basic block, bottom to top: x -> conv -> ReLU -> conv -> (+ x) -> ReLU.

    The skip arrow carries x around the two convolutions to the addition; backward, the
    same arrow carries dL/ds straight back to x. Returns the Axes.
    """
    from matplotlib.patches import Circle

    ax = _axes(ax, (3.6, 5.2))
    layers = [(0.0, "x"), (1.2, "conv 3x3, W1, b1"), (2.3, "ReLU"), (3.4, "conv 3x3, W2, b2"),
              (4.6, "+"), (5.7, "ReLU")]
    for (y0, _), (y1, _) in zip(layers, layers[1:], strict=False):
        _arrow(ax, (0, y0 + 0.38), (0, y1 - 0.38))
    for y, text in layers:
        if text == "x":
            ax.text(0, y, "x", ha="center", va="center", fontsize=12)
        elif text == "+":
            ax.add_patch(Circle((0, y), 0.3, facecolor="white", edgecolor="black"))
            ax.text(0, y, "+", ha="center", va="center", fontsize=14)
        else:
            _box(ax, 0, y, text, "#cfe2f3" if text.startswith("conv") else "#fce5cd", width=3.0)
    skip = {"color": "tab:red", "lw": 1.6}
    ax.plot([0.25, 2.0, 2.0], [0.0, 0.0, 4.6], **skip)
    _arrow(ax, (2.0, 4.6), (0.32, 4.6), **skip)
    ax.text(2.15, 2.3, "identity\n(skip)", color="tab:red", ha="left", va="center", fontsize=9)
    ax.text(-1.95, 2.3, "F(x)", ha="center", fontsize=11, style="italic")
    ax.text(0, 6.35, "out = relu(F(x) + x)", ha="center", fontsize=10)
    ax.set_xlim(-2.5, 3.4)
    ax.set_ylim(-0.5, 6.7)
    return ax


def draw_inception_module(ax=None, reduced: bool = True):
    """An Inception module: four branches side by side, concatenated on the channels.

    ``reduced`` draws GoogLeNet's version with the 1x1 convolutions that shrink the depth
    before the 3x3 and 5x5 kernels (and after the pooling); without it, the naive version
    with the 3x3 and 5x5 kernels on the full input. Returns the Axes.
    """
    ax = _axes(ax, (8.4, 4.4))
    xs = [-4.5, -1.5, 1.5, 4.5]
    if reduced:
        branches = [["conv 1x1"], ["conv 1x1", "conv 3x3"], ["conv 1x1", "conv 5x5"],
                    ["max-pool 3x3", "conv 1x1"]]
    else:
        branches = [["conv 1x1"], ["conv 3x3"], ["conv 5x5"], ["max-pool 3x3"]]
    ax.text(0, 0, "previous layer", ha="center", va="center", fontsize=10,
            bbox={"boxstyle": "round", "facecolor": "#eeeeee"})
    _box(ax, 0, 4.2, "concatenate along the channels", "#d9ead3", width=8.0)
    for x, stack in zip(xs, branches, strict=True):
        ys = [1.5, 2.8] if len(stack) == 2 else [2.15]
        _arrow(ax, (0, 0.3), (x, ys[0] - 0.38))
        for y, text in zip(ys, stack, strict=True):
            color = "#fff2cc" if text == "conv 1x1" and len(stack) == 2 else (
                "#fce5cd" if text.startswith("max") else "#cfe2f3")
            _box(ax, x, y, text, color)
        for y0, y1 in zip(ys, ys[1:], strict=False):
            _arrow(ax, (x, y0 + 0.38), (x, y1 - 0.38))
        _arrow(ax, (x, ys[-1] + 0.38), (x, 4.2 - 0.4))
    ax.set_xlim(-6.2, 6.2)
    ax.set_ylim(-0.5, 4.8)
    ax.set_title("Inception module, " + ("with 1x1 reductions (GoogLeNet)" if reduced
                                         else "naive version"), fontsize=10)
    return ax
