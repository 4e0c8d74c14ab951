"""Modules: layers that hold their parameters and gradients, for optimizers and training.

Each module's forward keeps what its backward needs; backward ADDS parameter gradients
into ``Parameter.grad`` (so shared use accumulates) and returns dx. The arithmetic lives in
the functional layers (the fast versions, ``cnnlib.fast_layers``, for convolution and
pooling); modules only wire it up. A module also describes its geometry: ``window`` (how a
convolution or pooling layer slides, None for the others) and ``flattens`` (whether the
spatial layout ends there), which receptive-field code reads instead of class names.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from .activations import (
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    tanh_backward,
    tanh_forward,
)
from .dense import affine_backward, affine_forward
from .fast_layers import (
    avgpool2d_backward_fast,
    avgpool2d_forward_fast,
    conv2d_backward_fast,
    conv2d_forward_fast,
    maxpool2d_backward_fast,
    maxpool2d_forward_fast,
)
from .init import as_rng, he_init
from .shapes import Pair, Window, pair

__all__ = [
    "AvgPool2d",
    "Conv2d",
    "Dropout",
    "Flatten",
    "Linear",
    "MaxPool2d",
    "Module",
    "Parallel",
    "Parameter",
    "Pool2d",
    "ReLU",
    "Residual",
    "Sequential",
    "Sigmoid",
    "Tanh",
]


class Parameter:
    """A trainable array and the gradient accumulated into it (same shape)."""

    def __init__(self, data: np.ndarray) -> None:
        self.data = data
        self.grad = np.zeros_like(data)

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class: parameters are attributes holding Parameters, children are Modules."""

    training: bool = True
    #: True when the spatial layout ends here (Flatten, Linear): past this module a unit
    #: has no receptive field smaller than the whole input.
    flattens: bool = False

    @property
    def window(self) -> Window | None:
        """How this layer slides over its input (kernel, stride, padding), or None for a
        layer that maps each position to itself (activations, dropout) or a container."""
        return None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """The output for a batch x; keeps on self what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """dx (shaped like the last forward's x) for dout (shaped like its output).

        Parameter gradients are ADDED into ``Parameter.grad``: call ``zero_grad`` first.
        """
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) of each direct sub-module, in a stable order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value

    def named_parameters(self) -> list[tuple[str, Parameter]]:
        """Own parameters, then children's, with dotted names ("0.weight")."""
        found = [(n, v) for n, v in vars(self).items() if isinstance(v, Parameter)]
        for prefix, child in self.children():
            found += [(f"{prefix}.{n}", p) for n, p in child.named_parameters()]
        return found

    def parameters(self) -> list[Parameter]:
        """Every Parameter of self and its sub-modules, in ``named_parameters`` order.

        A Parameter shared by two sub-modules appears once, so an optimizer steps it once.
        """
        unique: dict[int, Parameter] = {}
        for _, p in self.named_parameters():
            unique.setdefault(id(p), p)
        return list(unique.values())

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad[...] = 0

    def train(self) -> Module:
        self._set_training(True)
        return self

    def eval(self) -> Module:
        self._set_training(False)
        return self

    def _set_training(self, flag: bool) -> None:
        self.training = flag
        for _, child in self.children():
            child._set_training(flag)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter array, by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        """Copy arrays into the parameters in place (optimizers keep their references)."""
        params = dict(self.named_parameters())
        if set(params) != set(state):
            raise KeyError(f"state has {sorted(state)}, model has {sorted(params)}")
        for name, p in params.items():
            if state[name].shape != p.data.shape:
                raise ValueError(f"{name}: shape {state[name].shape}, expected {p.data.shape}")
            p.data[...] = state[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    """out (N, out_features) = x.reshape(N, -1) @ weight + bias; weight (in, out)."""

    flattens = True

    def __init__(self, in_features: int, out_features: int, *,
                 rng: np.random.Generator | int | None = None, dtype=np.float64) -> None:
        self.weight = Parameter(he_init((in_features, out_features), in_features, rng, dtype))
        self.bias = Parameter(np.zeros(out_features, dtype=dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = affine_forward(x, self.weight.data, self.bias.data)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = affine_backward(dout, self._cache)
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def __repr__(self) -> str:
        return f"Linear({self.weight.data.shape[0]}, {self.weight.data.shape[1]})"


class Conv2d(Module):
    """Cross-correlation layer; weight (F, C, KH, KW), bias (F,); NCHW in and out."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair,
                 *, stride: Pair = 1, pad: Pair = 0,
                 rng: np.random.Generator | int | None = None, dtype=np.float64) -> None:
        kh, kw = pair(kernel_size, "kernel_size")
        fan_in = in_channels * kh * kw
        self.weight = Parameter(he_init((out_channels, in_channels, kh, kw), fan_in, rng, dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype=dtype))
        self.stride, self.pad = stride, pad

    @property
    def window(self) -> Window:
        kh, kw = self.weight.data.shape[2:]
        return Window((kh, kw), pair(self.stride, "stride"), pair(self.pad, "pad"))

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = conv2d_forward_fast(
            x, self.weight.data, self.bias.data, stride=self.stride, pad=self.pad
        )
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx, dw, db = conv2d_backward_fast(dout, self._cache)
        self.weight.grad += dw
        self.bias.grad += db
        return dx

    def __repr__(self) -> str:
        f, c, kh, kw = self.weight.data.shape
        return f"Conv2d({c}, {f}, kernel_size={(kh, kw)}, stride={self.stride}, pad={self.pad})"


class Pool2d(Module):
    """Base of the pooling modules: a window slid over each channel, no parameters.

    Subclasses name their forward and backward functions; the stride defaults to the
    kernel size (windows that tile the input).
    """

    def __init__(self, kernel_size: Pair, stride: Pair | None = None) -> None:
        self.kernel_size, self.stride = kernel_size, stride

    @staticmethod
    def _forward(x: np.ndarray, kernel_size: Pair, stride: Pair | None) -> tuple:
        raise NotImplementedError

    @staticmethod
    def _backward(dout: np.ndarray, cache: tuple) -> np.ndarray:
        raise NotImplementedError

    @property
    def window(self) -> Window:
        kernel = pair(self.kernel_size, "kernel_size")
        stride = kernel if self.stride is None else pair(self.stride, "stride")
        return Window(kernel, stride)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = self._forward(x, self.kernel_size, self.stride)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return self._backward(dout, self._cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.kernel_size}, stride={self.stride})"


class MaxPool2d(Pool2d):
    """Max over each window; (N, C, H, W) -> (N, C, Ho, Wo); stride defaults to the kernel.

    The gradient goes to the first maximum of a window (row-major) when there are ties.
    """

    _forward = staticmethod(maxpool2d_forward_fast)
    _backward = staticmethod(maxpool2d_backward_fast)


class AvgPool2d(Pool2d):
    """Mean over each window; (N, C, H, W) -> (N, C, Ho, Wo); the gradient is spread evenly."""

    _forward = staticmethod(avgpool2d_forward_fast)
    _backward = staticmethod(avgpool2d_backward_fast)


class ReLU(Module):
    """max(x, 0) elementwise; any shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = relu_forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return relu_backward(dout, self._cache)


class Sigmoid(Module):
    """1 / (1 + exp(-x)) elementwise; any shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = sigmoid_forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return sigmoid_backward(dout, self._cache)


class Tanh(Module):
    """tanh(x) elementwise; any shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out, self._cache = tanh_forward(x)
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return tanh_backward(dout, self._cache)


class Flatten(Module):
    """(N, d1, ..., dk) -> (N, d1 * ... * dk)."""

    flattens = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout.reshape(self._shape)


class Dropout(Module):
    """Inverted dropout: zero each unit with probability p and scale the rest by 1/(1-p).

    The identity in eval mode, so evaluation needs no rescaling.
    """

    def __init__(self, p: float, *, rng: np.random.Generator | int | None = None) -> None:
        if not 0 <= p < 1:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p, self.rng = p, as_rng(rng)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.training or self.p == 0:
            self._mask = None
            return x
        self._mask = (self.rng.random(x.shape) >= self.p).astype(x.dtype) / (1 - self.p)
        return x * self._mask

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout if self._mask is None else dout * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse."""

    def __init__(self, *layers: Module) -> None:
        self.layers = list(layers)

    def children(self) -> Iterator[tuple[str, Module]]:
        for index, layer in enumerate(self.layers):
            yield str(index), layer

    def forward(self, x: np.ndarray) -> np.ndarray:
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout: np.ndarray) -> np.ndarray:
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def __getitem__(self, index: int) -> Module:
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}) {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential(\n{inner}\n)"


class Residual(Module):
    """out = body(x) + x (identity skip); the skip adds dout to the body's dx.

    Assembled with Conv2d and ReLU it computes notebook 06's residual block, so its
    arithmetic is an a3_cnns solution region: the student edition of a3 (and earlier) raises.
    """

    def __init__(self, body: Module) -> None:
        self.body = body

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION a3_cnns
        out = self.body.forward(x)
        if out.shape != x.shape:
            raise ValueError(f"residual body changes the shape {x.shape} -> {out.shape}")
        return out + x
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION a3_cnns
        return self.body.backward(dout) + dout
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Residual({self.body!r})"


class Parallel(Module):
    """Inception-style: every branch sees x; outputs are concatenated on the channel axis.

    Assembled with Conv2d and ReLU it computes notebook 06's Inception block, so its
    arithmetic is an a3_cnns solution region, like Residual's.
    """

    def __init__(self, *branches: Module) -> None:
        self.branches = list(branches)

    def children(self) -> Iterator[tuple[str, Module]]:
        for index, branch in enumerate(self.branches):
            yield str(index), branch

    def forward(self, x: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION a3_cnns
        outs = [branch.forward(x) for branch in self.branches]
        self._sizes = [o.shape[1] for o in outs]
        return np.concatenate(outs, axis=1)
        # END SOLUTION

    def backward(self, dout: np.ndarray) -> np.ndarray:
        # BEGIN SOLUTION a3_cnns
        pieces = np.split(dout, np.cumsum(self._sizes)[:-1], axis=1)
        return sum(branch.backward(p) for branch, p in zip(self.branches, pieces, strict=True))
        # END SOLUTION

    def __repr__(self) -> str:
        return f"Parallel({', '.join(repr(b) for b in self.branches)})"
