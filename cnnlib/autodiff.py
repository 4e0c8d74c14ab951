"""Scalar reverse-mode autodiff: ``Value`` nodes build a graph, ``backward`` walks it.

Each operation computes its output and, right beside it, the local rule that sends the
output's gradient back to its inputs (lecture "Backpropagation from first principles":
downstream = local * upstream). Gradients ACCUMULATE (``+=``): a node used twice receives
the sum of both paths (the copy gate).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["Value", "add_mul_graph", "gate_needs_forward_values", "sigmoid_neuron"]


class Value:
    """A scalar in a computational graph: ``data``, ``grad`` and how to backprop to inputs."""

    def __init__(self, data: float, _children: tuple[Value, ...] = (), _op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self._children = tuple(_children)
        self._op = _op
        self._backward = lambda: None  # leaves have nothing to pass on

    def __repr__(self) -> str:
        return f"Value(data={self.data:.4g}, grad={self.grad:.4g})"

    @staticmethod
    def _lift(other: Value | float) -> Value:
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other: Value | float) -> Value:
        """self + other; both inputs receive the output's gradient unchanged."""
        # BEGIN SOLUTION a1_backprop
        other = self._lift(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:  # add distributes the gradient unchanged
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def __mul__(self, other: Value | float) -> Value:
        """self * other; each input receives the other's value times the output's gradient."""
        # BEGIN SOLUTION a1_backprop
        other = self._lift(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:  # mul swaps: each input gets the other's value
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def __pow__(self, exponent: float) -> Value:
        """self ** exponent for a plain number exponent (power rule)."""
        # BEGIN SOLUTION a1_backprop
        if isinstance(exponent, Value):
            raise TypeError("only a number exponent is supported")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def exp(self) -> Value:
        """e ** self; its local gradient is its own output."""
        # BEGIN SOLUTION a1_backprop
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def tanh(self) -> Value:
        """tanh(self) as one gate; its local gradient 1 - tanh^2 reuses the output.

        Given code, not a solution region: notebook 01 shows this gate as the worked
        example of how every operation is written.
        """
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """1 / (1 + e ** -self) as one gate, with local gradient (1 - sigma) sigma."""
        # BEGIN SOLUTION a1_backprop
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else (
            math.exp(self.data) / (1.0 + math.exp(self.data))
        )
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:  # the lecture's (1 - sigma) sigma
            self.grad += (1 - s) * s * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def relu(self) -> Value:
        """max(self, 0); the gradient passes where the input was positive."""
        # BEGIN SOLUTION a1_backprop
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def max(self, other: Value | float) -> Value:
        """The larger of self and other; the gradient routes to it (to self on a tie)."""
        # BEGIN SOLUTION a1_backprop
        other = self._lift(other)
        winner = self if self.data >= other.data else other
        out = Value(winner.data, (self, other), "max")

        def _backward() -> None:  # max routes the whole gradient to the winner
            winner.grad += out.grad

        out._backward = _backward
        return out
        # END SOLUTION

    def _topological_order(self) -> list[Value]:
        """Every node of the graph below self, each after all of its children."""
        # BEGIN SOLUTION a1_backprop
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative DFS: deep graphs must not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._children)
        return order
        # END SOLUTION

    def backward(self) -> None:
        """Seed d(self)/d(self) = 1 and apply every node's rule, outputs before inputs."""
        # BEGIN SOLUTION a1_backprop
        order = self._topological_order()
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        # END SOLUTION

    def zero_grad(self) -> None:
        """Set the gradient of this node and of every node below it to 0."""
        # BEGIN SOLUTION a1_backprop
        for node in self._topological_order():
            node.grad = 0.0
        # END SOLUTION

    # The remaining operators are built from the ones above. They are graded too (notebook
    # 01 asks for them), so their bodies are solution regions like the rest.
    def __neg__(self) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self * -1.0
        # END SOLUTION

    def __sub__(self, other: Value | float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self + (-self._lift(other))
        # END SOLUTION

    def __truediv__(self, other: Value | float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self * self._lift(other) ** -1
        # END SOLUTION

    def __radd__(self, other: float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self + other
        # END SOLUTION

    def __rmul__(self, other: float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self * other
        # END SOLUTION

    def __rsub__(self, other: float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self._lift(other) - self
        # END SOLUTION

    def __rtruediv__(self, other: float) -> Value:
        # BEGIN SOLUTION a1_backprop
        return self._lift(other) / self
        # END SOLUTION

def add_mul_graph(x: float, y: float, z: float) -> tuple[float, float, float, float]:
    """The lecture's f = (x + y) z, backpropagated by hand through q = x + y.

    Returns:
        (f, df/dx, df/dy, df/dz); at x=-2, y=5, z=-4 that is (-12, -4, -4, 3).
    """
    # BEGIN SOLUTION a1_backprop
    q = x + y
    f = q * z
    df_dq, df_dz = z, q  # mul swaps
    df_dx = df_dy = df_dq * 1.0  # add distributes
    return float(f), float(df_dx), float(df_dy), float(df_dz)
    # END SOLUTION


def sigmoid_neuron(
    w: Sequence[float], x: Sequence[float]
) -> tuple[float, np.ndarray, np.ndarray]:
    """f = sigma(w0 x0 + w1 x1 + w2) and its gradients, by hand with sigma' = (1 - sigma) sigma.

    Args:
        w: 3 weights (the last is the bias); x: 2 inputs.

    Returns:
        (f, dw (3,), dx (2,)) as float, float arrays.
    """
    # BEGIN SOLUTION a1_backprop
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    f = 1.0 / (1.0 + np.exp(-z))
    dz = (1.0 - f) * f  # the sigmoid gate's local gradient times upstream 1.0
    dw = np.array([x[0] * dz, x[1] * dz, dz])
    dx = np.array([w[0] * dz, w[1] * dz])
    return float(f), dw, dx
    # END SOLUTION


def gate_needs_forward_values() -> dict[str, bool]:
    """Notebook 01's question on the lecture's four gradient-flow patterns: which gates must
    remember something from the forward pass (an input's value, or which input won) to send
    their gradient back?

    Returns:
        {"add": bool, "mul": bool, "copy": bool, "max": bool}: True where the backward pass
        needs something the forward pass saw. The add gate distributes and the copy gate
        adds whatever comes back, knowing nothing of the inputs; the mul gate swaps in the
        other input's value and the max gate routes to the input that was larger.
    """
    # BEGIN SOLUTION a1_backprop
    return {"add": False, "mul": True, "copy": False, "max": True}
    # END SOLUTION
