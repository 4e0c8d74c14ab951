"""Optimizers: the update rules as functions (graded in 05), and classes that apply them.

Classes take ``model.parameters()`` and update ``Parameter.data`` in place.
"""

from __future__ import annotations

import numpy as np

from .modules import Parameter

__all__ = ["SGD", "Adam", "SGDMomentum", "adam_update", "sgd_momentum_update"]


def sgd_momentum_update(
    w: np.ndarray, dw: np.ndarray, v: np.ndarray, lr: float = 1e-2, momentum: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """One step of SGD with momentum; the velocity remembers past gradients.

    v_new = momentum * v - lr * dw; w_new = w + v_new. Inputs are not modified.

    Returns:
        (w_new, v_new), each shaped like w.
    """
    # BEGIN SOLUTION a3_cnns
    v_new = momentum * v - lr * dw
    return w + v_new, v_new
    # END SOLUTION


def adam_update(
    w: np.ndarray, dw: np.ndarray, m: np.ndarray, v: np.ndarray, t: int,
    lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One Adam step at step number t (1-based), with bias correction of both moments.

    Returns:
        (w_new, m_new, v_new), each shaped like w. Inputs are not modified.
    """
    # BEGIN SOLUTION a3_cnns
    m_new = beta1 * m + (1 - beta1) * dw
    v_new = beta2 * v + (1 - beta2) * dw * dw
    m_hat = m_new / (1 - beta1**t)
    v_hat = v_new / (1 - beta2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    # END SOLUTION


class _Optimizer:
    def __init__(self, params: list[Parameter], lr: float) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got no parameters")
        self.lr = lr

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad[...] = 0


class SGD(_Optimizer):
    """Plain gradient descent: w -= lr * dw."""

    def step(self) -> None:
        for p in self.params:
            p.data -= self.lr * p.grad


class SGDMomentum(_Optimizer):
    def __init__(self, params: list[Parameter], lr: float, momentum: float = 0.9) -> None:
        super().__init__(params, lr)
        self.momentum = momentum
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self) -> None:
        for i, p in enumerate(self.params):
            p.data[...], self.velocity[i] = sgd_momentum_update(
                p.data, p.grad, self.velocity[i], self.lr, self.momentum
            )


class Adam(_Optimizer):
    def __init__(self, params: list[Parameter], lr: float = 1e-3, beta1: float = 0.9,
                 beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(params, lr)
        self.beta1, self.beta2, self.eps = beta1, beta2, eps
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = 0

    def step(self) -> None:
        self.t += 1
        for i, p in enumerate(self.params):
            p.data[...], self.m[i], self.v[i] = adam_update(
                p.data, p.grad, self.m[i], self.v[i], self.t,
                self.lr, self.beta1, self.beta2, self.eps,
            )
