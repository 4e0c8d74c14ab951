"""Hidden tests for 01_computational_graphs: add_mul_graph, sigmoid_neuron, the Value class and
the question on the gradient-flow patterns (gate_needs_forward_values).

Every ``student.<name>(...)`` call runs in the sandbox. ``student.Value(2.0)`` comes back as
a handle: arithmetic on it, ``.exp()``, ``.backward()`` and the like run remotely, and
``.data`` / ``.grad`` come back as floats. Expected values come from the reference
``cnnlib`` (the same graph built from ``cnnlib.Value``) or from formulas worked out here;
the usual wrong versions (mul not swapped, ``=`` instead of ``+=``, a node's backward run
before all of its uses have contributed, ``zero_grad`` resetting only the output) are
recognized to name the misconception. Random points come from the run's seed
(``_checks.rng``); messages name the operation and the student's own numbers, never the
points or the expected values.
"""

from __future__ import annotations

import numpy as np
import pytest
from _checks import error_name, raised, redraw, rng

import cnnlib

pytestmark = pytest.mark.a1_backprop


def _float(node, attr: str, what: str) -> float:
    """node.data or node.grad as a float, with a message when it is not there."""
    try:
        value = getattr(node, attr)
    except Exception as error:  # noqa: BLE001 - a student's object may raise anything
        raise AssertionError(
            f"{what}: could not read .{attr} ({error_name(error)}); does every operation "
            "return a Value?") from None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise AssertionError(f"{what}: .{attr} should be a number, got {value!r}") from None


def _backprop(student, build, numbers, what):
    """Leaves student.Value(n), out = build(*leaves), out.backward(); (data, leaf grads)."""
    leaves = [student.Value(float(n)) for n in numbers]
    out = build(*leaves)
    out.backward()
    data = _float(out, "data", what)
    grads = [_float(leaf, "grad", what) for leaf in leaves]
    return data, grads, out, leaves


def _expected(build, numbers):
    """The same graph through the reference Value: (data, leaf grads)."""
    leaves = [cnnlib.Value(float(n)) for n in numbers]
    out = build(*leaves)
    out.backward()
    return out.data, [leaf.grad for leaf in leaves]


def _near(a: float, b: float, tol: float = 1e-9) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(b))


def _signed(gen, count: int, low: float = 0.5, high: float = 3.0) -> tuple[float, ...]:
    """count numbers with magnitudes in [low, high] and random signs (never near 0)."""
    return tuple(float(v) for v in np.round(
        gen.uniform(low, high, size=count) * gen.choice([-1.0, 1.0], size=count), 3))


def _inputs(indices) -> str:
    names = [f"input {i + 1}" for i in indices]
    return " and ".join(names) if names else "no input"


def _check_op(student, what, build, numbers, hints=()):
    """Compare data and every leaf's grad with the reference; hints: (predicate, message).

    Messages say which operation and which input, and quote the student's numbers only.
    """
    data, grads, out, _ = _backprop(student, build, numbers, what)
    want_data, want_grads = _expected(build, numbers)
    assert _near(data, want_data), (
        f"{what}: the forward value {data} is wrong: check the forward rule of each operation")
    seed = _float(out, "grad", what)
    assert seed == 1.0, (
        f"{what}: after backward() the output's own grad is {seed}; seed it with 1.0")
    if all(g == 0.0 for g in grads) and any(abs(g) > 1e-12 for g in want_grads):
        raise AssertionError(
            f"{what}: every input's grad is still 0 after backward(): does the operation set "
            "out._backward, and does backward() call the _backward of every node?")
    wrong = [i for i, (g, w) in enumerate(zip(grads, want_grads, strict=True))
             if not _near(g, w, 1e-7)]
    if not wrong:
        return
    for predicate, message in hints:
        if predicate(numbers, grads):
            raise AssertionError(f"{what}: your gradients {grads}: {message}")
    raise AssertionError(f"{what}: your gradients {grads}; the grad of {_inputs(wrong)} is "
                         "wrong (local gradient times upstream gradient, summed over uses)")


# --------------------------------------------------------------------------------------
# add_mul_graph
# --------------------------------------------------------------------------------------

def _add_mul(student, x, y, z):
    result = student.add_mul_graph(float(x), float(y), float(z))
    assert isinstance(result, (tuple, list)) and len(result) == 4, (
        f"add_mul_graph should return four numbers (f, dfdx, dfdy, dfdz), got {result!r}")
    return [float(v) for v in result]


@pytest.mark.grade(grade_id="test_add_mul_graph", points=1)
def test_add_mul_graph_lecture_point(student):
    f, dx, dy, dz = _add_mul(student, -2, 5, -4)
    assert f == -12.0, (
        f"at the lecture's x=-2, y=5, z=-4: f = {f}, not the lecture's value of (x + y) z")
    assert (dx, dy, dz) == (-4.0, -4.0, 3.0), (
        f"at the lecture's x=-2, y=5, z=-4: gradients ({dx}, {dy}, {dz}) are not the "
        "lecture's: with q = x + y, df/dx = df/dy = z and df/dz = q")


@pytest.mark.grade(grade_id="test_add_mul_graph", points=1)
def test_add_mul_graph_anywhere(student):
    gen = rng(101)
    points = [(p, "at random points") for p in gen.uniform(-5, 5, size=(6, 3))]
    points += [((0.0, 0.0, 0.0), "at x = y = z = 0"),
               ((1e6 * gen.uniform(0.5, 2), -1e6 * gen.uniform(2, 4),
                 gen.uniform(1, 5)), "with values of a million")]
    for (x, y, z), where in points:
        got = _add_mul(student, x, y, z)
        want = list(cnnlib.add_mul_graph(float(x), float(y), float(z)))
        assert _near(got[0], want[0]), f"{where}: your f = {got[0]} is not (x + y) z"
        if all(_near(g, w) for g, w in zip(got[1:], want[1:], strict=True)):
            continue
        if _near(got[3], z) and not _near(z, x + y):
            raise AssertionError(f"{where}: df/dz = z: the mul gate swaps, df/dz = x + y")
        if _near(got[1], 1.0) and not _near(z, 1.0):
            raise AssertionError(
                f"{where}: df/dx = 1 is the add gate's local gradient alone; multiply by the "
                "upstream df/dq = z")
        raise AssertionError(f"{where}: your gradients {got[1:]} are wrong: with q = x + y, "
                             "df/dx = df/dy = z (add gate) and df/dz = q (mul gate)")


# --------------------------------------------------------------------------------------
# sigmoid_neuron
# --------------------------------------------------------------------------------------

def _neuron(student, w, x):
    result = student.sigmoid_neuron(w, x)
    assert isinstance(result, (tuple, list)) and len(result) == 3, (
        f"sigmoid_neuron should return (f, dw, dx), got {type(result).__name__}")
    f = float(np.asarray(result[0], dtype=np.float64))
    dw = np.asarray(result[1], dtype=np.float64)
    dx = np.asarray(result[2], dtype=np.float64)
    assert dw.shape == (3,), f"dw has shape {dw.shape}, expected (3,): one entry per weight"
    assert dx.shape == (2,), f"dx has shape {dx.shape}, expected (2,): one entry per input"
    return f, dw, dx


@pytest.mark.grade(grade_id="test_sigmoid_neuron", points=1)
def test_sigmoid_neuron_lecture_example(student):
    f, dw, dx = _neuron(student, [2.0, -3.0, -3.0], [-1.0, -2.0])
    assert round(f, 2) == 0.73, (
        f"the lecture's neuron: f = {f:.4f}, not the lecture's value of sigma(w0 x0 + w1 x1 + w2)")
    lecture = np.array([-0.20, -0.39, 0.20, 0.39, -0.59])
    got = np.round(np.concatenate([dw, dx]), 2)
    if np.allclose(dw, 0.0):
        raise AssertionError(
            "all gradients are 0: the sigmoid's local gradient was computed from its input "
            "(1 - 1) * 1 = 0 instead of its output sigma")
    assert np.allclose(got, lecture), (
        f"the lecture's neuron: dw, dx rounded to 2 decimals are {got.tolist()}, not the "
        "lecture's: dw = (1 - f) f [x0, x1, 1], dx = (1 - f) f [w0, w1]")


@pytest.mark.grade(grade_id="test_sigmoid_neuron", points=1)
def test_sigmoid_neuron_other_points(student):
    gen = rng(202)
    cases = [(gen.normal(size=3), gen.normal(size=2), "random w and x")
             for _ in range(4)]
    for sign, words in ((1.0, "a large positive"), (-1.0, "a large negative")):
        x = gen.uniform(1.0, 2.0, size=2)
        w = gen.uniform(-5.0, 5.0, size=3)
        w[2] = sign * 30.0 - w[0] * x[0] - w[1] * x[1]  # s = +-30: the sigmoid saturates
        cases.append((w, x, f"a saturated neuron ({words} s)"))
    x = [float(v) for v in gen.uniform(0.5, 2.0, size=2)]
    w = [float(v) for v in gen.uniform(-1.0, 1.0, size=2)]
    cases.append(([*w, -(w[0] * x[0] + w[1] * x[1])], x, "plain lists, s = 0"))
    for w, x, where in cases:
        f, dw, dx = _neuron(student, w, x)
        want_f, want_dw, want_dx = cnnlib.sigmoid_neuron(w, x)
        assert _near(f, want_f, 1e-8), (
            f"{where}: your f = {f} is not sigma(s) with s = w0 x0 + w1 x1 + w2")
        if np.allclose(dw, want_dw, rtol=1e-7, atol=1e-12) and np.allclose(
                dx, want_dx, rtol=1e-7, atol=1e-12):
            continue
        s = float(np.dot(w[:2], x) + w[2])
        ds = (1 - s) * s
        if np.allclose(dw, ds * np.array([x[0], x[1], 1.0])):
            raise AssertionError(
                f"{where}: the local gradient used the sigmoid's input s: it is (1 - sigma) sigma "
                "with sigma the output")
        if np.allclose(dw, want_f * np.array([x[0], x[1], 1.0])):
            raise AssertionError(
                f"{where}: sigma was used as its own derivative; it is (1 - sigma) sigma")
        raise AssertionError(
            f"{where}: your dw = {dw}, dx = {dx} are wrong: with f = sigma(s), "
            "dw = (1 - f) f [x0, x1, 1] and dx = (1 - f) f [w0, w1]")


# --------------------------------------------------------------------------------------
# Value: single operations
# --------------------------------------------------------------------------------------

def _not_swapped(numbers, grads):
    a, b = numbers
    return _near(grads[0], a) and _near(grads[1], b)


def _power_rule_without_minus_one(k):
    def predicate(numbers, grads):
        a = numbers[0]
        return _near(grads[0], k * a**k)

    return predicate


@pytest.mark.grade(grade_id="test_value_ops", points=1)
def test_value_add_mul_pow(student):
    gen = rng(303)
    for a, b in [(1.5, -4.0), (0.0, 2.5), *(_signed(gen, 2) for _ in range(3))]:
        _check_op(student, "a + b", lambda p, q: p + q, (a, b), [
            (lambda n, g: g[0] == 0.0 or g[1] == 0.0,
             "the add gate gives the upstream gradient to BOTH inputs")])
        _check_op(student, "a * b", lambda p, q: p * q, (a, b), [
            (_not_swapped, "each input got its own value: the mul gate swaps (da = b, db = a)")])
    for k in (2, 3, -1, 0.5, -2.5, 1):
        a = _signed(gen, 1)[0]
        a = abs(a) if k != int(k) else a  # a fractional power needs a > 0
        _check_op(student, f"a ** {k}", lambda p, k=k: p ** k, (a,), [
            (_power_rule_without_minus_one(k), "the power rule is k * a ** (k - 1)")])
    _check_op(student, "(a + b) * a ** 2", lambda p, q: (p + q) * p ** 2, _signed(gen, 2))


@pytest.mark.grade(grade_id="test_value_ops", points=1)
def test_value_derived_and_reflected_ops(student):
    gen = rng(304)
    cases = [
        ("-a", lambda p: -p), ("a - b", lambda p, q: p - q), ("a - 3", lambda p: p - 3),
        ("a / b", lambda p, q: p / q), ("a / 4", lambda p: p / 4), ("3 + a", lambda p: 3 + p),
        ("3 * a", lambda p: 3 * p), ("3 - a", lambda p: 3 - p), ("3 / a", lambda p: 3 / p),
        ("a + 2.5 * b - 1 / a", lambda p, q: p + 2.5 * q - 1 / p),
    ]
    for what, build in cases:  # inputs away from 0: every input has a non-zero gradient
        numbers = _signed(gen, build.__code__.co_argcount)
        _check_op(student, what, build, numbers, [
            (lambda n, g: any(x == 0.0 for x in g),
             "an input got no gradient: build the derived operation from +, * and ** so their "
             "backward rules carry it")])


@pytest.mark.grade(grade_id="test_value_ops", points=1)
def test_value_exp_and_sigmoid(student):
    gen = rng(305)
    for a in (0.0, *_signed(gen, 3)):
        _check_op(student, "a.exp()", lambda p: p.exp(), (a,))
    input_rule = [(lambda n, g: _near(g[0], (1 - n[0]) * n[0]),
                   "the sigmoid's local gradient is (1 - sigma) sigma of its OUTPUT sigma, "
                   "not of its input")]
    for a in (0.0, 12.0, *_signed(gen, 4)):
        _check_op(student, "a.sigmoid()", lambda p: p.sigmoid(), (a,), input_rule)
    for sign, words in ((-1.0, "negative"), (1.0, "positive")):
        a = sign * gen.uniform(750.0, 900.0)
        try:
            data, grads, _, _ = _backprop(student, lambda p: p.sigmoid(), (a,), "sigmoid")
        except Exception as error:
            if raised(error, "OverflowError"):
                raise AssertionError(
                    f"a.sigmoid() of a large {words} number overflowed: math.exp of a large "
                    "number; for negative inputs use e**a / (1 + e**a), which only needs e of "
                    "a negative number") from None
            raise
        want = 0.0 if a < 0 else 1.0
        assert abs(data - want) < 1e-12 and abs(grads[0]) < 1e-12, (
            f"a.sigmoid() of a large {words} number: data {data}, grad {grads[0]}: the "
            "sigmoid saturates there and its slope (1 - sigma) sigma vanishes")


@pytest.mark.grade(grade_id="test_value_ops", points=1)
def test_value_relu_and_max(student):
    gen = rng(306)
    for a in (1e-9, *_signed(gen, 3)):
        _check_op(student, "a.relu()", lambda p: p.relu(), (a,))
    data, grads, _, _ = _backprop(student, lambda p: p.relu(), (0.0,), "relu at 0")
    assert data == 0.0 and grads[0] == 0.0, (
        f"relu at exactly 0: data {data}, grad {grads[0]}: relu(0) is 0, and the gradient "
        "passes only where the input is > 0")
    routed = [(lambda n, g: g[0] != 0.0 and g[1] != 0.0,
               "both inputs got a gradient: max routes the whole gradient to the larger input")]
    pairs = [_signed(gen, 2) for _ in range(3)]
    pairs += [(-abs(a), -abs(a) - gen.uniform(0.1, 1)) for a, _ in pairs[:1]]
    pairs += [(3.0, 3.0000001)]
    for a, b in pairs:
        _check_op(student, "a.max(b)", lambda p, q: p.max(q), (a, b), routed)
    tie = float(np.round(gen.uniform(-3, 3), 3))
    data, grads, _, _ = _backprop(student, lambda p, q: p.max(q), (tie, tie), "tie")
    assert _near(data, tie, 0.0), f"a.max(b) with a == b gave {data}, which is neither"
    assert grads != [1.0, 1.0], (
        "a tie in a.max(b) sent the gradient to both: route it to one (self)")
    assert grads == [1.0, 0.0], (
        f"a tie in a.max(b): your grads {grads}: ties go to self, which gets the whole "
        "gradient")
    _check_op(student, "a.max(0.0) (a plain number)", lambda p: p.max(0.0), (-0.3,))
    _check_op(student, "(a * 2).max(b) * 3", lambda p, q: (p * 2).max(q) * 3, (1.0, 0.5), routed)


# --------------------------------------------------------------------------------------
# Value: whole graphs
# --------------------------------------------------------------------------------------

@pytest.mark.grade(grade_id="test_value_graphs", points=1)
def test_value_add_mul_graph(student):
    gen = rng(307)
    points = [((-2.0, 5.0, -4.0), "(x + y) z at the lecture's point")]
    points += [(_signed(gen, 3), "(x + y) z") for _ in range(2)]
    for (x, y, z), where in points:
        vx, vy, vz = student.Value(x), student.Value(y), student.Value(z)
        q = vx + vy
        f = q * vz
        f.backward()
        got = [_float(v, "grad", "(x + y) z") for v in (vx, vy, vz, q)]
        want = [z, z, x + y, z]
        assert _near(_float(f, "data", where), (x + y) * z), f"{where}: wrong forward value"
        assert got == want, (
            f"{where}: your grads (x, y, z, q) = {got} are wrong: dq = z, dx = dy = dq (add "
            "gate), dz = q (mul gate)")


def _neuron_from_gates(w0, x0, w1, x1, w2):
    return 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())


def _neuron_with_gate(w0, x0, w1, x1, w2):
    return (w0 * x0 + w1 * x1 + w2).sigmoid()


@pytest.mark.grade(grade_id="test_value_graphs", points=1)
def test_value_sigmoid_neuron_graphs(student):
    lecture = (2.0, -1.0, -3.0, -2.0, -3.0)
    for build, how in ((_neuron_from_gates, "small gates"), (_neuron_with_gate, "a sigmoid gate")):
        data, grads, _, _ = _backprop(student, build, lecture, how)
        assert round(data, 2) == 0.73, (
            f"the lecture's neuron from {how}: f = {data:.4f}, not the lecture's value")
        rounded = [round(g, 2) for g in grads]
        assert rounded == [-0.2, 0.39, -0.39, -0.59, 0.2], (
            f"the lecture's neuron from {how}: grads (w0, x0, w1, x1, w2) = {rounded}, not "
            "the lecture's (rounded to 2 decimals)")
    gen = rng(404)
    for _ in range(2):
        numbers = tuple(float(v) for v in np.round(gen.normal(size=5), 3))
        for build, how in ((_neuron_from_gates, "small gates"),
                           (_neuron_with_gate, "a sigmoid gate")):
            _check_op(student, f"a sigmoid neuron from {how}", build, numbers)


def _mixed_graph(a, b, c):
    """A graph using every operation, with shared nodes and paths of different lengths."""
    h = (a * b + c).sigmoid()
    g = (a - c).exp() * h
    k = b ** 2 / (c.relu() + 1)
    return (g + k).max(h * 0.5) - a * h + 2 / (1 + k)


@pytest.mark.grade(grade_id="test_value_graphs", points=1)
def test_value_mixed_graph(student):
    gen = rng(505)
    for numbers in [(0.3, -1.2, 0.8), (1.1, 0.4, -0.6),
                    *np.round(gen.normal(size=(2, 3)), 3)]:
        _check_op(student, "a graph of all the operations", _mixed_graph, numbers)


# --------------------------------------------------------------------------------------
# Value: reused nodes, ordering, zero_grad
# --------------------------------------------------------------------------------------

def _apart(gen, count: int, gap: float = 0.25):
    """count signed numbers whose pairwise sums are away from 0 too (so that the right
    gradient of a reused input differs from each overwritten one)."""
    def spread(numbers):
        return min(abs(a + b) for i, a in enumerate(numbers) for b in numbers[i + 1:]) > gap

    return redraw(lambda: _signed(gen, count), spread)


@pytest.mark.grade(grade_id="test_value_reuse", points=1)
def test_value_reused_node_accumulates(student):
    gen = rng(606)
    overwritten = ("a gradient was assigned (=) instead of added (+=): when a value is used "
                   "twice, the gradients of both uses must add up (copy gate)")
    for a, b in [(3.0, -2.0), _apart(gen, 2)]:
        data, grads, _, _ = _backprop(student, lambda p, q: p * q + p, (a, b), "a * b + a")
        if _near(grads[0], b) or _near(grads[0], 1.0):
            raise AssertionError(f"a * b + a: a.grad = {grads[0]}: {overwritten}")
        assert _near(grads[0], b + 1) and _near(grads[1], a), (
            f"a * b + a: your grads {grads} are wrong: a is used twice, so a.grad = b + 1")
    for a, b in [(3.0, -1.0), _apart(gen, 2)]:
        data, grads, _, _ = _backprop(student, lambda p, q: (p + q) * p, (a, b), "(a + b) * a")
        if _near(grads[0], a) or _near(grads[0], a + b):
            raise AssertionError(f"(a + b) * a: a.grad = {grads[0]}: {overwritten}")
        assert _near(grads[0], 2 * a + b) and _near(grads[1], a), (
            f"(a + b) * a: your grads {grads} are wrong: a is used twice, so a.grad = 2a + b")
    for what, build, slope in [("a * a", lambda p: p * p, lambda a: 2 * a),
                               ("a + a", lambda p: p + p, lambda a: 2.0),
                               ("a * a * a", lambda p: p * p * p, lambda a: 3 * a * a)]:
        a = abs(_signed(gen, 1)[0]) + 1.0  # away from where 2a, 3a^2 would be 1 or a
        data, grads, _, _ = _backprop(student, build, (a,), what)
        assert _near(grads[0], slope(a)), f"{what}: your a.grad {grads[0]} is wrong; {overwritten}"


def _late_use(a):
    m = a * a
    return m + (m * 2 + 1)


def _many_paths(x):
    y = x
    for _ in range(4):
        y = y * x + x
    return y


@pytest.mark.grade(grade_id="test_value_reuse", points=1)
def test_value_backward_order_and_shared_nodes(student):
    data, grads, _, _ = _backprop(student, _late_use, (1.5,), "m + (m * 2 + 1), m = a * a")
    if _near(grads[0], 3.0):
        raise AssertionError(
            "m + (m * 2 + 1) with m = a * a: only the direct use of m reached a: a node's "
            "_backward ran before all of its uses had added their gradient; go through the "
            "nodes in reverse topological order")
    if _near(grads[0], 12.0):
        raise AssertionError(
            "m + (m * 2 + 1) with m = a * a: a.grad is wrong because m's _backward ran once "
            "for each path that reaches it, the first time before both of its uses had added "
            "their share (a recursive backward that calls each input's _backward as it goes): "
            "order the nodes topologically first, then run each _backward once, in reverse")
    if _near(grads[0], 18.0):
        raise AssertionError(
            "m + (m * 2 + 1) with m = a * a: a.grad doubled: a node reached along two paths "
            "ran its _backward twice; each node must appear once in the topological order")
    assert _near(grads[0], 9.0), (
        f"m + (m * 2 + 1) with m = a * a: your a.grad {grads[0]} is wrong: dL/dm = 3 (both "
        "uses of m), dm/da = 2a")
    for x in (0.9, -1.1):
        _check_op(student, "x used by many gates, y = y * x + x four times", _many_paths, (x,))
        _check_op(student, "a diamond a -> (a * 3, a + 1) -> product",
                  lambda p: (p * 3) * (p + 1), (x,))


@pytest.mark.grade(grade_id="test_value_zero_grad", points=1)
def test_value_zero_grad_then_backward_again(student):
    numbers = (0.4, -0.9, 1.3)
    leaves = [student.Value(n) for n in numbers]
    out = _mixed_graph(*leaves)
    out.backward()
    first = [_float(v, "grad", "first backward") for v in leaves]
    out.zero_grad()
    cleared = [_float(v, "grad", "after zero_grad") for v in (*leaves, out)]
    assert cleared == [0.0] * 4, (
        f"after zero_grad the inputs and output hold grads {cleared}: zero_grad must set every "
        "node of the graph below the output to 0")
    out.backward()
    second = [_float(v, "grad", "second backward") for v in leaves]
    _, want = _expected(_mixed_graph, numbers)
    assert all(_near(a, b, 1e-7) for a, b in zip(first, want, strict=True)), (
        f"a graph of all the operations: the first backward gives wrong grads {first}")
    assert all(_near(a, b, 1e-12) for a, b in zip(second, first, strict=True)), (
        f"backward after zero_grad gives {second}, the first backward gave {first}: an inner "
        "node kept its old gradient (zero_grad must reach every node, not only the leaves "
        "and the output)")


# --------------------------------------------------------------------------------------
# Question: which gates need something from the forward pass
# --------------------------------------------------------------------------------------

@pytest.mark.grade(grade_id="test_gate_needs_forward_values", points=1)
def test_gate_needs_forward_values(student):
    answer = student.gate_needs_forward_values()
    gates = {"add", "mul", "copy", "max"}
    assert isinstance(answer, dict) and set(answer) == gates, (
        "gate_needs_forward_values should return a dict with the keys 'add', 'mul', 'copy' "
        "and 'max'")
    assert all(isinstance(v, bool) for v in answer.values()), (
        "answer True or False for each gate")
    want = cnnlib.gate_needs_forward_values()
    assert all(answer[g] == want[g] for g in gates), (
        "at least one of the four answers is wrong: for each gate, ask whether the gradients "
        "it sends back would change if the numbers that came in were different (try it with "
        "your Value: two different inputs, the same upstream gradient)")
