"""Value: every operation's local rule against a centered difference, and the graph walk.

The derivatives are checked numerically (never against values the code produced) and, for
the patterns of "Backpropagation from first principles", against calculus by hand.
"""

import math
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import Value, add_mul_graph, gate_needs_forward_values, sigmoid_neuron

pytestmark = pytest.mark.nb01_computational_graphs


def _centered(f, x: float, h: float = 1e-6) -> float:
    return (f(x + h) - f(x - h)) / (2 * h)


# One-argument expressions that each exercise one operator (and its reflected form).
UNARY = {
    "add": lambda v: v + 2.5,
    "radd": lambda v: 2.5 + v,
    "sub": lambda v: v - 4.0,
    "rsub": lambda v: 4.0 - v,
    "mul": lambda v: v * -3.0,
    "rmul": lambda v: -3.0 * v,
    "div": lambda v: v / 1.7,
    "rdiv": lambda v: 1.7 / v,
    "neg": lambda v: -v,
    "pow2": lambda v: v**2,
    "pow3": lambda v: v**3,
    "pow_half": lambda v: (v * v + 1) ** 0.5,
    "pow_neg": lambda v: v**-2,
    "exp": lambda v: v.exp(),
    "tanh": lambda v: v.tanh(),
    "tanh_of_expr": lambda v: (v * v - 1).tanh() * v,
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "max_const": lambda v: v.max(0.25),
    "max_expr": lambda v: v.max(v * 2 - 1),
    "self_mul": lambda v: v * v,  # the same node on both inputs
    "self_div": lambda v: (v + 3) / (v * v + 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("x", [-1.3, 0.7, 2.1])
def test_each_operation_matches_a_centered_difference(name, x):
    op = UNARY[name]
    node = Value(x)
    out = op(node)
    out.backward()
    numeric = _centered(lambda t: op(Value(t)).data, x)
    assert node.grad == pytest.approx(numeric, rel=1e-6, abs=1e-8), name


@pytest.mark.parametrize("x", [-2.0, 0.5, 3.0])
def test_forward_values_are_the_plain_arithmetic(x):
    v = Value(x)
    assert (v + 1).data == x + 1 and (1 - v).data == 1 - x and (v * 3).data == 3 * x
    assert (2 / v).data == pytest.approx(2 / x) and (v**3).data == pytest.approx(x**3)
    assert v.exp().data == pytest.approx(math.exp(x))
    assert v.sigmoid().data == pytest.approx(1 / (1 + math.exp(-x)))
    assert v.relu().data == max(x, 0.0) and (-v).data == -x
    assert v.tanh().data == pytest.approx(math.tanh(x))


def test_two_input_operations_send_each_input_its_partial_derivative():
    for op, da, db in [
        (lambda a, b: a + b, lambda a, b: 1.0, lambda a, b: 1.0),
        (lambda a, b: a - b, lambda a, b: 1.0, lambda a, b: -1.0),
        (lambda a, b: a * b, lambda a, b: b, lambda a, b: a),
        (lambda a, b: a / b, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    ]:
        a, b = Value(1.5), Value(-2.5)
        op(a, b).backward()
        assert a.grad == pytest.approx(da(1.5, -2.5)) and b.grad == pytest.approx(db(1.5, -2.5))


def test_relu_passes_gradient_only_for_positive_input():
    for x, expected in [(2.0, 1.0), (-2.0, 0.0), (0.0, 0.0)]:
        v = Value(x)
        v.relu().backward()
        assert v.grad == expected, x


def test_max_routes_to_the_larger_and_a_tie_to_self():
    a, b = Value(1.0), Value(3.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (0.0, 1.0)
    a, b = Value(2.0), Value(2.0)
    out = a.max(b)
    out.backward()
    assert out.data == 2.0 and (a.grad, b.grad) == (1.0, 0.0)


def test_sigmoid_is_finite_for_large_magnitudes():
    for x in (-800.0, 800.0):
        v = Value(x)
        out = v.sigmoid()
        out.backward()
        assert 0.0 <= out.data <= 1.0 and v.grad == pytest.approx(0.0, abs=1e-300)


def test_a_value_exponent_is_refused():
    with pytest.raises(TypeError):
        Value(2.0) ** Value(3.0)


def test_backward_seeds_the_output_with_one():
    out = Value(3.0) * 2
    out.backward()
    assert out.grad == 1.0


def test_a_node_reached_by_two_paths_sums_them():
    # copy gate: x feeds both factors and the sum, so df/dx = 2x + 1 at x = 3 gives 7.
    x = Value(3.0)
    f = x * x + x
    f.backward()
    assert x.grad == 7.0


def test_a_shared_intermediate_node_is_backpropagated_once_with_the_total():
    # q = a * b is used twice; a node visited twice by the walk would double a's gradient.
    a, b = Value(2.0), Value(5.0)
    q = a * b
    f = q + q * 3  # df/dq = 4, so df/da = 4 b = 20, df/db = 4 a = 8
    f.backward()
    assert (q.grad, a.grad, b.grad) == (4.0, 20.0, 8.0)


def test_zero_grad_then_a_second_backward_gives_the_same_gradients():
    w, x = Value(-1.5), Value(0.8)
    f = (w * x + w).sigmoid() * x
    f.backward()
    first = (w.grad, x.grad)
    f.zero_grad()
    assert (w.grad, x.grad, f.grad) == (0.0, 0.0, 0.0)
    f.backward()
    assert (w.grad, x.grad) == first


def test_without_zero_grad_a_second_backward_accumulates():
    a = Value(4.0)
    f = a * 3
    f.backward()
    f.backward()
    assert a.grad == 6.0


def test_a_deep_chain_does_not_hit_the_recursion_limit():
    x = Value(0.5)
    y = x
    for _ in range(sys.getrecursionlimit() + 500):
        y = y + 0.001
    y.backward()
    assert x.grad == 1.0


def test_each_node_is_updated_after_everything_that_uses_it():
    # A graph in which a naive order (children first by insertion) would read a stale grad:
    # c depends on b twice through different depths.
    a = Value(1.5)
    b = a.exp()
    c = b * (b + 1).relu()
    c.backward()
    expected = _centered(lambda t: (math.exp(t) * (math.exp(t) + 1)), 1.5)
    assert a.grad == pytest.approx(expected, rel=1e-6)


small = st.floats(min_value=-2.0, max_value=2.0, allow_nan=False)


@given(small, small, small)
def test_random_polynomial_graphs_match_centered_differences(x0, y0, z0):
    def f(x, y, z):
        return (x * y - z) ** 2 + 3 * x * z - y / (1 + z * z) + (x + y).sigmoid()

    xs = [Value(x0), Value(y0), Value(z0)]
    f(*xs).backward()
    for i, node in enumerate(xs):
        def along(t, i=i):
            args = [Value(v) for v in (x0, y0, z0)]
            args[i] = Value(t)
            return f(*args).data

        base = (x0, y0, z0)[i]
        assert node.grad == pytest.approx(_centered(along, base), rel=1e-5, abs=1e-6)


def test_tanh_saturates_without_overflow_and_its_gradient_vanishes():
    for x, expected in [(-400.0, -1.0), (400.0, 1.0)]:
        v = Value(x)
        out = v.tanh()
        out.backward()
        assert out.data == expected and v.grad == 0.0


@pytest.mark.parametrize("x,y,z", [(1.0, 2.0, 3.0), (-0.5, 4.0, 0.0), (7.0, -7.0, 2.5)])
def test_add_mul_graph_away_from_the_lecture_point(x, y, z):
    # df/dx = df/dy = z (add distributes the mul's swapped input), df/dz = x + y.
    assert add_mul_graph(x, y, z) == pytest.approx(((x + y) * z, z, z, x + y))


def test_sigmoid_neuron_accepts_arrays_and_matches_the_closed_form():
    rng = np.random.default_rng(0)
    for _ in range(5):
        w, x = rng.standard_normal(3), rng.standard_normal(2)
        f, dw, dx = sigmoid_neuron(w, x)
        s = 1 / (1 + math.exp(-(w[0] * x[0] + w[1] * x[1] + w[2])))
        assert f == pytest.approx(s)
        np.testing.assert_allclose(dw, s * (1 - s) * np.array([x[0], x[1], 1.0]))
        np.testing.assert_allclose(dx, s * (1 - s) * w[:2])


# Each pattern as a graph of Values: the gate's inputs (a, b) and its output, with an
# upstream gradient of 2 (the copy gate is a used twice, as a * 1 and a * 1).
GATE_GRAPHS = {
    "add": lambda a, b: (a + b) * 2,
    "mul": lambda a, b: (a * b) * 2,
    "copy": lambda a, b: (a * 1.0 + a * 1.0 + b * 0.0) * 2,
    "max": lambda a, b: a.max(b) * 2,
}


@pytest.mark.parametrize("gate", sorted(GATE_GRAPHS))
def test_a_gate_needs_forward_values_exactly_when_its_gradients_depend_on_them(gate):
    # Whether a gate must remember its inputs: do the gradients it sends back change when
    # the inputs change (with the same upstream gradient)?
    sent = set()
    for a, b in [(3.0, -4.0), (-4.0, 3.0), (0.5, 2.0), (7.0, 1.0)]:
        va, vb = Value(a), Value(b)
        GATE_GRAPHS[gate](va, vb).backward()
        sent.add((va.grad, vb.grad))
    assert gate_needs_forward_values()[gate] == (len(sent) > 1)
    assert set(gate_needs_forward_values()) == set(GATE_GRAPHS)
