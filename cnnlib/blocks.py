"""Two building blocks of modern CNNs as forward/backward function pairs.

- The **residual block** of ResNet (lecture "Backward pass of a convolution layer"): two
  3x3 convolutions whose result is added to the block's own input before the last ReLU,
  ``out = relu(F(x) + x)``. The identity path copies ``x`` forward, so backward it *adds*
  the upstream gradient to whatever the convolutions send back: a path along which
  gradients reach early layers undiminished.
- The **Inception-style block** (same lecture): 1x1, 3x3 and 5x5 convolutions side by side
  on the same input ("features at multiple scales"), padded to keep H x W, their ReLU
  outputs concatenated along the channels. ``x`` feeds three branches, so backward its
  gradient is the sum of the three.

Both reuse the convolution and ReLU layers (``conv2d_forward`` etc.), NCHW throughout.
The module versions are ``cnnlib.Residual`` and ``cnnlib.Parallel``.
"""

from __future__ import annotations

import numpy as np

from .activations import relu_backward, relu_forward
from .conv import conv2d_backward, conv2d_forward

__all__ = ["inception_backward", "inception_forward", "residual_backward", "residual_forward"]


def residual_forward(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, tuple]:
    """Basic residual block: ``relu(conv(relu(conv(x, w1, b1)), w2, b2) + x)``.

    Both convolutions are 3x3 with stride 1 and padding 1, so they keep the shape of
    ``x`` and the addition is defined; the last ReLU comes *after* the addition.

    Args:
        x: (N, C, H, W); w1, w2: (C, C, 3, 3); b1, b2: (C,).

    Returns:
        out (N, C, H, W) and a cache for ``residual_backward``.
    """
    # BEGIN SOLUTION a3_cnns
    if w1.shape[0] != x.shape[1] or w2.shape[0] != x.shape[1]:
        raise ValueError(f"the block must keep {x.shape[1]} channels for the skip to add up; "
                         f"got filters {w1.shape[0]} and {w2.shape[0]}")
    pre1, conv1 = conv2d_forward(x, w1, b1, stride=1, pad=1)
    hidden, relu1 = relu_forward(pre1)
    pre2, conv2 = conv2d_forward(hidden, w2, b2, stride=1, pad=1)
    out, relu2 = relu_forward(pre2 + x)  # identity skip, then the nonlinearity
    return out, (conv1, relu1, conv2, relu2)
    # END SOLUTION


def residual_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward of ``residual_forward``.

    Args:
        dout: (N, C, H, W), upstream gradient of ``out``; cache from ``residual_forward``.

    Returns:
        (dx (N, C, H, W), dw1 (C, C, 3, 3), db1 (C,), dw2 (C, C, 3, 3), db2 (C,)); dx is
        the convolution path's gradient plus the gradient arriving through the skip.
    """
    # BEGIN SOLUTION a3_cnns
    conv1, relu1, conv2, relu2 = cache
    dsum = relu_backward(dout, relu2)  # gradient of F(x) + x: goes to both addends
    dhidden, dw2, db2 = conv2d_backward(dsum, conv2)
    dx_body, dw1, db1 = conv2d_backward(relu_backward(dhidden, relu1), conv1)
    return dx_body + dsum, dw1, db1, dw2, db2
    # END SOLUTION


def inception_forward(
    x: np.ndarray, w1: np.ndarray, b1: np.ndarray, w3: np.ndarray, b3: np.ndarray,
    w5: np.ndarray, b5: np.ndarray,
) -> tuple[np.ndarray, tuple]:
    """Inception-style block: three parallel "same" convolutions + ReLU, concatenated.

    Branches, in this order: 1x1 (pad 0), 3x3 (pad 1), 5x5 (pad 2), all stride 1, so
    every branch keeps H x W.

    Args:
        x: (N, C, H, W); w1 (F1, C, 1, 1), w3 (F3, C, 3, 3), w5 (F5, C, 5, 5);
        b1 (F1,), b3 (F3,), b5 (F5,).

    Returns:
        out (N, F1 + F3 + F5, H, W): channels [0, F1) from the 1x1 branch, then F3 from
        the 3x3 branch, then F5 from the 5x5 branch; and a cache for
        ``inception_backward``.
    """
    # BEGIN SOLUTION a3_cnns
    kept_caches = []
    outs = []
    for w, b, size in ((w1, b1, 1), (w3, b3, 3), (w5, b5, 5)):
        if w.shape[2:] != (size, size):
            raise ValueError(f"the {size}x{size} branch got a kernel of shape {w.shape}")
        pre, conv_cache = conv2d_forward(x, w, b, stride=1, pad=size // 2)
        act, relu_cache = relu_forward(pre)
        outs.append(act)
        kept_caches.append((conv_cache, relu_cache, w.shape[0]))
    return np.concatenate(outs, axis=1), tuple(kept_caches)
    # END SOLUTION


def inception_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, ...]:
    """Backward of ``inception_forward``.

    Args:
        dout: (N, F1 + F3 + F5, H, W); cache from ``inception_forward``.

    Returns:
        (dx (N, C, H, W), dw1, db1, dw3, db3, dw5, db5) with the shapes of the inputs; dx
        is the sum of the three branches' input gradients (x fed all three).
    """
    # BEGIN SOLUTION a3_cnns
    grads = []
    dx = None
    start = 0
    for conv_cache, relu_cache, filters in cache:
        dpart = dout[:, start:start + filters]  # this branch's channels
        start += filters
        dx_branch, dw, db = conv2d_backward(relu_backward(dpart, relu_cache), conv_cache)
        dx = dx_branch if dx is None else dx + dx_branch
        grads += [dw, db]
    if start != dout.shape[1]:
        raise ValueError(f"dout has {dout.shape[1]} channels, the branches {start}")
    return (dx, *grads)
    # END SOLUTION
