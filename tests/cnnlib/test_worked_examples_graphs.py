"""Lecture 003's computational graphs, worked through with cnnlib.

f = (x + y) z at x=-2, y=5, z=-4 and the sigmoid neuron with w=[2, -3, -3], x=[-1, -2],
by the hand-written functions and through Value graphs; the four gradient-flow patterns.
"""

import math

import numpy as np
import pytest

from cnnlib import Value, add_mul_graph, sigmoid_neuron

pytestmark = pytest.mark.a1_backprop

W, X = [2.0, -3.0, -3.0], [-1.0, -2.0]


def test_add_mul_graph_by_hand_gives_the_lecture_numbers():
    f, dfdx, dfdy, dfdz = add_mul_graph(-2.0, 5.0, -4.0)
    assert (f, dfdx, dfdy, dfdz) == (-12.0, -4.0, -4.0, 3.0)
    assert all(isinstance(v, float) for v in (f, dfdx, dfdy, dfdz))


@pytest.mark.parametrize("x,y,z", [(1.0, 2.0, 3.0), (-0.5, 4.0, 0.0), (7.0, -7.0, 2.5)])
def test_add_mul_graph_away_from_the_lecture_point(x, y, z):
    # df/dx = df/dy = z (add distributes the mul's swapped input), df/dz = x + y.
    assert add_mul_graph(x, y, z) == pytest.approx(((x + y) * z, z, z, x + y))


def test_the_same_graph_through_value():
    x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    q = x + y
    f = q * z
    f.backward()
    assert (f.data, q.data) == (-12.0, 3.0)
    assert (q.grad, x.grad, y.grad, z.grad) == (-4.0, -4.0, -4.0, 3.0)


def test_sigmoid_neuron_output_and_the_gate_step():
    f, dw, dx = sigmoid_neuron(W, X)
    assert round(f, 2) == 0.73
    # the sigmoid gate: downstream = (1 - 0.73) * 0.73 * 1.0 = 0.2
    assert round((1 - f) * f * 1.0, 1) == 0.2
    assert isinstance(f, float) and dw.shape == (3,) and dx.shape == (2,)
    np.testing.assert_allclose(dw, [-0.20, -0.39, 0.20], atol=0.005)
    np.testing.assert_allclose(dx, [0.39, -0.59], atol=0.005)


def test_sigmoid_neuron_accepts_arrays_and_matches_the_closed_form():
    rng = np.random.default_rng(0)
    for _ in range(5):
        w, x = rng.standard_normal(3), rng.standard_normal(2)
        f, dw, dx = sigmoid_neuron(w, x)
        s = 1 / (1 + math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
        assert f == pytest.approx(s)
        np.testing.assert_allclose(dw, s * (1 - s) * np.array([x[0], x[1], 1.0]))
        np.testing.assert_allclose(dx, s * (1 - s) * w[:2])


def _neuron_from_primitives(w, x):
    """The lecture's long graph: *, +, * -1, exp, + 1, 1/x, one gate at a time."""
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    return 1.0 / ((z * -1.0).exp() + 1.0)


def test_primitive_graph_and_sigmoid_gate_agree_on_every_gradient():
    # "The computational graph is not unique": both graphs give the same numbers.
    w1, x1 = [Value(v) for v in W], [Value(v) for v in X]
    long = _neuron_from_primitives(w1, x1)
    long.backward()
    w2, x2 = [Value(v) for v in W], [Value(v) for v in X]
    short = (w2[0] * x2[0] + w2[1] * x2[1] + w2[2]).sigmoid()
    short.backward()
    assert long.data == pytest.approx(short.data) and round(short.data, 2) == 0.73
    f, dw, dx = sigmoid_neuron(W, X)
    for a, b, hand in zip(w1 + x1, w2 + x2, list(dw) + list(dx), strict=True):
        assert a.grad == pytest.approx(b.grad) == pytest.approx(hand)


def test_intermediate_gradients_of_the_primitive_graph():
    # Backward through the long graph, gate by gate: 1/x gives -1/1.37^2 = -0.53, +1 passes
    # it on, exp multiplies by e^-1 = 0.37 (-0.20), * -1 flips it (0.20 at the sum).
    w, x = [Value(v) for v in W], [Value(v) for v in X]
    z = w[0] * x[0] + w[1] * x[1] + w[2]
    neg = z * -1.0
    e = neg.exp()
    d = e + 1.0
    f = 1.0 / d
    f.backward()
    assert round(z.data, 2) == 1.0 and round(e.data, 2) == 0.37 and round(d.data, 2) == 1.37
    assert round(d.grad, 2) == -0.53 and round(e.grad, 2) == -0.53
    assert round(neg.grad, 2) == -0.20 and round(z.grad, 2) == 0.20


def test_add_gate_distributes():
    a, b = Value(3.0), Value(-1.0)
    out = (a + b) * 5.0  # upstream 5 reaches the add
    out.backward()
    assert (a.grad, b.grad) == (5.0, 5.0)


def test_mul_gate_swaps():
    a, b = Value(3.0), Value(-1.0)
    out = (a * b) * 2.0
    out.backward()
    assert (a.grad, b.grad) == (-2.0, 6.0)  # each gets the other's value times upstream 2


def test_copy_gate_adds():
    a = Value(3.0)
    out = a * 2.0 + a * -4.0 + a  # three uses with local gradients 2, -4, 1
    out.backward()
    assert a.grad == -1.0


def test_max_gate_routes():
    a, b = Value(4.0), Value(-2.0)
    out = a.max(b) * 3.0
    out.backward()
    assert (a.grad, b.grad) == (3.0, 0.0)
    a, b = Value(-4.0), Value(-2.0)
    out = a.max(b) * 3.0
    out.backward()
    assert (a.grad, b.grad) == (0.0, 3.0)
