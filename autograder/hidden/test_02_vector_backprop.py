"""Hidden tests for 02_vector_backprop: numerical_gradient, relu, sigmoid, affine, softmax loss,
and the question on the size of the matrix multiply's Jacobians (matmul_jacobian_entries).

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` and from formulas worked out here, and backward passes are also
checked against ``cnnlib.numerical_gradient`` of the student's own forward pass. The usual
wrong versions (one-sided differences, the ReLU mask taken from dout, the sigmoid's local
gradient from its input, an affine input left unflattened, a mean instead of a sum for db,
a softmax that overflows or is not averaged over N) are recognized to name the mistake.
Random inputs come from the run's seed (``_checks.rng``); messages name the mistake and
may quote the student's own result, never the inputs or the expected values.

``numerical_gradient`` needs a function that lives in the student's process: the notebook's
setup cell imports numpy as ``np``, so ``student.np.tanh`` (a handle) is passed.
"""

from __future__ import annotations

import numpy as np
import pytest
from _checks import as_float, close, mismatch, raised, redraw, rng

import cnnlib

pytestmark = pytest.mark.a1_backprop


def _np_function(student, *path):
    """numpy.<path> as the student's process sees it (a handle), or ours for the reference."""
    try:
        target = student.np
        for name in path:
            target = getattr(target, name)
        return target
    except AttributeError:  # the reference stand-in has no np of its own
        target = np
        for name in path:
            target = getattr(target, name)
        return target


def _away_from_zero(gen, shape, low: float = 0.1, high: float = 3.0) -> np.ndarray:
    """Values with |v| in [low, high], far from a ReLU's kink at 0, half of them negative in
    random places: with signs drawn freely, one run in 64 would draw a (2, 3) x all negative,
    where a forward that returns zeros looks right."""
    signs = gen.permutation(np.resize([-1.0, 1.0], int(np.prod(shape)))).reshape(shape)
    return gen.uniform(low, high, size=shape) * signs


def _pair(result, name: str):
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        f"{name} should return the pair (out, cache), got {type(result).__name__}")
    return as_float(result[0]), result[1]


# --------------------------------------------------------------------------------------
# numerical_gradient
# --------------------------------------------------------------------------------------

def _numerical(student, path, x, dout=None):
    f = _np_function(student, *path)
    args = (f, x) if dout is None else (f, x, dout)
    grad = as_float(student.numerical_gradient(*args))
    assert grad.shape == x.shape, (
        f"numerical_gradient of np.{'.'.join(path)} at x of shape {x.shape}: result shape "
        f"{grad.shape}, expected x's shape")
    return grad


@pytest.mark.grade(grade_id="test_numerical_gradient", points=1)
def test_numerical_gradient_elementwise(student):
    gen = rng(11)
    x = gen.normal(size=(3, 4))
    dout = gen.normal(size=(3, 4))
    grad = _numerical(student, ("tanh",), x, dout)
    want = (1 - np.tanh(x) ** 2) * dout
    if close(grad, 1 - np.tanh(x) ** 2, 1e-6):
        raise AssertionError("np.tanh with an upstream gradient: dout was ignored; the result is "
                             "d(sum(f(x) * dout))/dx")
    assert close(grad, want, 1e-7), "np.tanh on a (3, 4) array with dout: wrong values"
    x = gen.normal(size=(2, 3))
    assert close(_numerical(student, ("square",), x), 2 * x, 1e-7), (
        "np.square with dout=None (all ones): wrong values; d(x^2)/dx = 2x")
    x = gen.normal(size=(2, 2, 3))
    dout = gen.normal(size=(2, 2, 3))
    assert close(_numerical(student, ("sin",), x, dout), np.cos(x) * dout, 1e-7), (
        "np.sin on a (2, 2, 3) array with dout: wrong values (every index of x, any rank)")


@pytest.mark.grade(grade_id="test_numerical_gradient", points=1)
def test_numerical_gradient_full_jacobians_and_scalars(student):
    gen = rng(12)
    x = gen.normal(size=6)
    dout = gen.normal(size=6)
    want = np.cumsum(dout[::-1])[::-1]  # x_i reaches every output m >= i
    assert close(_numerical(student, ("cumsum",), x, dout), want, 1e-7), (
        "np.cumsum (every output depends on several inputs) with dout: wrong values; sum "
        "the change of ALL outputs, each weighted by its dout")
    x = gen.uniform(0.5, 2.0, size=4)
    assert close(_numerical(student, ("prod",), x), np.prod(x) / x, 1e-7), (
        "np.prod (a scalar output, dout=None): expected prod(x) / x_i; is every entry put "
        "back after it was nudged? (else later entries are probed at a shifted point)")
    x = gen.normal(size=(3, 3)) + 2 * np.eye(3)
    # d det / dx_ij is the cofactor C_ij (= det(x) inv(x)^T, without dividing by det)
    want = np.array([[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(x, i, 0), j, 1))
                      for j in range(3)] for i in range(3)])
    assert close(_numerical(student, ("linalg", "det"), x), want, 1e-6), (
        "np.linalg.det of a 3x3 matrix (a scalar output): wrong values; the gradient of det "
        "is the matrix of cofactors, det(x) inv(x)^T")


@pytest.mark.grade(grade_id="test_numerical_gradient", points=1)
def test_numerical_gradient_is_centered(student):
    gen = rng(13)
    x = gen.uniform(-2.0, 4.0, size=3)
    grad = _numerical(student, ("exp",), x.copy())
    error = float(np.max(np.abs(grad - np.exp(x)) / np.exp(x)))
    if 1e-6 < error < 1e-4:
        raise AssertionError(
            "np.exp: the relative error has the size of a one-sided difference "
            "(f(x + h) - f(x)) / h; use the centered (f(x + h) - f(x - h)) / 2h")
    assert error < 1e-8, (
        "np.exp on 3 values: further off than centered differences with the default "
        "h = 1e-5 are")
    x = gen.uniform(-1.0, 1.0, size=(1, 1, 1, 1))
    dout = gen.uniform(-3.0, -1.0, size=(1, 1, 1, 1))
    grad = _numerical(student, ("exp",), x, dout)
    assert close(grad, dout * np.exp(x), 1e-8), (
        "a (1, 1, 1, 1) input with a negative dout: wrong value (every axis, and dout)")


# --------------------------------------------------------------------------------------
# relu
# --------------------------------------------------------------------------------------

@pytest.mark.grade(grade_id="test_relu_forward", points=1)
def test_relu_forward_shapes_and_values(student):
    gen = rng(21)
    cases = [np.array([1.0, -2.0, 3.0, -1.0]), gen.normal(size=(1, 7)),
             gen.normal(size=(2, 3, 4, 5)), 1e8 * gen.normal(size=(3, 2)),
             np.array([[0.0, -0.0, 1e-300, -1e-300]])]
    for x in cases:
        out, _ = _pair(student.relu_forward(x), "relu_forward")
        assert out.shape == x.shape, (
            f"relu_forward(x of shape {x.shape}): out has shape {out.shape}")
        want = np.maximum(x, 0.0)
        assert np.array_equal(out, want), (
            f"relu_forward(x of shape {x.shape}): wrong values"
            + ("; negative inputs must become 0" if np.any(out < 0) else ""))


@pytest.mark.grade(grade_id="test_relu_backward", points=1)
def test_relu_backward_lecture_example(student):
    x = np.array([1.0, -2.0, 3.0, -1.0])
    dout = np.array([4.0, -1.0, 5.0, 9.0])
    _, cache = _pair(student.relu_forward(x), "relu_forward")
    dx = as_float(student.relu_backward(dout, cache))
    assert dx.shape == (4,), f"the lecture's x: dx has shape {dx.shape}, expected (4,)"
    if np.array_equal(dx, dout * (dout > 0)):
        raise AssertionError(f"the lecture's x = [1, -2, 3, -1], dout = [4, -1, 5, 9]: your dx "
                             f"{dx.tolist()}: the mask came from dout; it must come from the "
                             "input x")
    if np.array_equal(dx, dout * (x <= 0)):
        raise AssertionError("the ReLU mask is inverted: the gradient passes where x > 0")
    assert np.array_equal(dx, [4.0, 0.0, 5.0, 0.0]), (
        f"the lecture's example: your dx = {dx.tolist()} is not the lecture's: dx = dout "
        "where x > 0, 0 elsewhere")
    gen = rng(23)
    x = np.array([[0.0, gen.uniform(0.1, 2.0), -gen.uniform(0.1, 2.0)]])
    dout = np.full((1, 3), gen.uniform(0.5, 3.0))
    _, cache = _pair(student.relu_forward(x), "relu_forward")
    dx = as_float(student.relu_backward(dout, cache))
    assert np.array_equal(dx, np.where(x > 0, dout, 0.0)), (
        f"x = [0, positive, negative]: your dx = {dx.tolist()}: the gradient passes only "
        "where x > 0, so an input of exactly 0 gets none")


@pytest.mark.grade(grade_id="test_relu_backward", points=1)
def test_relu_backward_against_reference_and_numeric(student):
    gen = rng(22)
    for shape in [(5,), (1, 6), (2, 3, 4), (2, 1, 3, 3)]:
        x = gen.normal(size=shape)
        dout = gen.normal(size=shape)
        _, cache = _pair(student.relu_forward(x), "relu_forward")
        dx = as_float(student.relu_backward(dout, cache))
        assert dx.shape == x.shape, f"x of shape {shape}: dx has shape {dx.shape}"
        assert np.array_equal(dx, cnnlib.relu_backward(dout, cnnlib.relu_forward(x)[1])), (
            f"x of shape {shape}: dx should be dout where x > 0 and 0 elsewhere")
    x = _away_from_zero(gen, (2, 3))  # centered differences never straddle the kink
    dout = gen.normal(size=x.shape)
    dx = as_float(student.relu_backward(dout, student.relu_forward(x)[1]))
    numeric = cnnlib.numerical_gradient(
        lambda v: as_float(student.relu_forward(v)[0]), x.copy(), dout)
    assert close(dx, numeric, 1e-6), (
        "relu_backward disagrees with centered differences of relu_forward")


# --------------------------------------------------------------------------------------
# sigmoid
# --------------------------------------------------------------------------------------

@pytest.mark.grade(grade_id="test_sigmoid_forward", points=1)
def test_sigmoid_forward_values_and_extremes(student):
    gen = rng(31)
    big = gen.uniform(30.0, 1000.0, size=(3, 1)) * np.array([[-1.0, 1.0]])
    cases = [np.array([0.0, 1.0, -1.0]), gen.normal(scale=3, size=(2, 3, 4)),
             np.array([[-1000.0, 1000.0], [-745.0, 745.0], [-40.0, 40.0]]), big]
    for x in cases:
        out, _ = _pair(student.sigmoid_forward(x), "sigmoid_forward")
        want = cnnlib.sigmoid_forward(x)[0]
        assert out.shape == x.shape, (
            f"sigmoid_forward(x of shape {x.shape}): out has shape {out.shape}")
        if np.any(~np.isfinite(out)):
            raise AssertionError(
                f"sigmoid_forward(x of shape {x.shape}) returned nan or inf for large |x|: an "
                "np.exp overflowed; let np.exp see only -|x|")
        assert np.allclose(out, want, rtol=1e-9, atol=1e-300), (
            f"sigmoid_forward(x of shape {x.shape}): wrong values "
            f"({mismatch(out, want, 1e-9, atol=1e-300)}); values near 0 keep their "
            "relative precision only if computed as e^x / (1 + e^x) for x < 0")


@pytest.mark.grade(grade_id="test_sigmoid_backward", points=1)
def test_sigmoid_backward_lecture_gate(student):
    x = np.array([1.0, -0.5, 2.0])
    _, cache = _pair(student.sigmoid_forward(x), "sigmoid_forward")
    dx = as_float(student.sigmoid_backward(np.ones(3), cache))
    sig = 1 / (1 + np.exp(-x))
    assert dx.shape == (3,), f"dx has shape {dx.shape}, expected (3,)"
    if np.allclose(dx, (1 - x) * x):
        raise AssertionError("the local gradient was (1 - x) x, from the input: it is "
                             "(1 - sigma(x)) sigma(x), from the output")
    if np.allclose(dx, sig):
        raise AssertionError("dx = sigma(x): the local gradient is (1 - sigma) sigma")
    assert round(float(dx[0]), 2) == 0.20, (
        f"at the lecture's x = 1: your dx = {dx[0]:.4f} is not the lecture's gate's: "
        "(1 - sigma) sigma")
    assert np.allclose(dx, (1 - sig) * sig, rtol=1e-10), (
        f"your dx = {dx.tolist()} is not (1 - sigma(x)) sigma(x) for every entry")


@pytest.mark.grade(grade_id="test_sigmoid_backward", points=1)
def test_sigmoid_backward_against_reference_and_numeric(student):
    gen = rng(32)
    for shape in [(4,), (3, 5), (2, 2, 2, 3)]:
        x = gen.normal(scale=2.5, size=shape)
        dout = gen.normal(size=shape)
        _, cache = _pair(student.sigmoid_forward(x), "sigmoid_forward")
        dx = as_float(student.sigmoid_backward(dout, cache))
        assert dx.shape == x.shape, f"x of shape {shape}: dx has shape {dx.shape}"
        want = cnnlib.sigmoid_backward(dout, cnnlib.sigmoid_forward(x)[1])
        assert close(dx, want, 1e-9), f"x of shape {shape}: dx should be dout (1 - sigma) sigma"
    x = gen.normal(size=(2, 4))
    dout = gen.normal(size=x.shape)
    dx = as_float(student.sigmoid_backward(dout, student.sigmoid_forward(x)[1]))
    numeric = cnnlib.numerical_gradient(lambda v: as_float(student.sigmoid_forward(v)[0]),
        x.copy(), dout)
    assert close(dx, numeric, 1e-7), (
        "sigmoid_backward disagrees with centered differences of sigmoid_forward")


# --------------------------------------------------------------------------------------
# affine
# --------------------------------------------------------------------------------------

X_MM = np.array([[2.0, 1.0, -3.0], [-3.0, 4.0, 2.0]])
W_MM = np.array([[3.0, 2.0, 1.0, -1.0], [2.0, 1.0, 3.0, 2.0], [3.0, 2.0, 1.0, -2.0]])
DY_MM = np.array([[2.0, 3.0, -3.0, 9.0], [-8.0, 1.0, 4.0, 6.0]])


def _affine_forward(student, x, w, b):
    try:
        return _pair(student.affine_forward(x, w, b), "affine_forward")
    except Exception as error:
        if x.ndim > 2 and raised(error, "ValueError"):
            raise AssertionError(
                f"affine_forward(x {x.shape}, w {w.shape}) raised a ValueError: is x reshaped to "
                f"(N, D) = ({x.shape[0]}, {w.shape[0]}) before the product?") from None
        raise


@pytest.mark.grade(grade_id="test_affine_forward", points=1)
def test_affine_forward_matrices(student):
    out, _ = _affine_forward(student, X_MM, W_MM, np.zeros(4))
    assert out.shape == (2, 4), f"the lecture's x (2, 3) and w (3, 4): out has shape {out.shape}"
    assert np.array_equal(out, X_MM @ W_MM), (
        f"the lecture's y = x w: got {out.tolist()}")
    gen = rng(41)
    for n, d, m in [(4, 3, 5), (1, 6, 2), (3, 1, 1), (1, 1, 1)]:
        x, w, b = gen.normal(size=(n, d)), gen.normal(size=(d, m)), gen.normal(size=m)
        out, _ = _affine_forward(student, x, w, b)
        assert out.shape == (n, m), f"x ({n}, {d}), w ({d}, {m}): out has shape {out.shape}"
        if close(out, x @ w, 1e-9) and not close(b, 0 * b):
            raise AssertionError(f"x ({n}, {d}), w ({d}, {m}): the bias b was not added")
        assert close(out, x @ w + b, 1e-9), f"x ({n}, {d}), w ({d}, {m}): out should be x w + b"


@pytest.mark.grade(grade_id="test_affine_forward", points=1)
def test_affine_forward_flattens_any_rank(student):
    gen = rng(42)
    for shape, m in [((2, 3, 4, 4), 5), ((1, 2, 3), 4), ((3, 5, 1, 1, 2), 2), ((2, 1, 1, 1), 3)]:
        x = gen.normal(size=shape)
        d = int(np.prod(shape[1:]))
        w, b = gen.normal(size=(d, m)), gen.normal(size=m)
        out, _ = _affine_forward(student, x, w, b)
        assert out.shape == (shape[0], m), (
            f"x {shape} flattened to ({shape[0]}, {d}), w ({d}, {m}): out has shape {out.shape}, "
            f"expected ({shape[0]}, {m})")
        assert close(out, cnnlib.affine_forward(x, w, b)[0], 1e-9), (
            f"x {shape}: wrong values; each example is flattened in C order (x.reshape(N, -1))")


def _affine_grads(student, x, w, b, dout):
    _, cache = _affine_forward(student, x, w, b)
    result = student.affine_backward(dout, cache)
    assert isinstance(result, (tuple, list)) and len(result) == 3, (
        "affine_backward should return (dx, dw, db)")
    return [as_float(g) for g in result]


@pytest.mark.grade(grade_id="test_affine_backward", points=1)
def test_affine_backward_lecture_example(student):
    dx, dw, db = _affine_grads(student, X_MM, W_MM, np.zeros(4), DY_MM)
    assert dx.shape == (2, 3), f"the lecture's example: dx has shape {dx.shape}, expected (2, 3)"
    if dw.shape == (4, 3):
        raise AssertionError("dw has shape (M, D) = (4, 3): dw = x^T dout has w's shape (3, 4)")
    assert dw.shape == (3, 4), f"the lecture's example: dw has shape {dw.shape}, expected (3, 4)"
    assert db.shape == (4,), f"the lecture's example: db has shape {db.shape}, expected (4,)"
    assert (dx[0, 0], dx[1, 2]) == (0.0, -30.0), (
        f"the lecture's dL/dx_(1,1) and dL/dx_(2,3): got {dx[0, 0]} and {dx[1, 2]}, not the "
        "lecture's values: dx = dout w^T")
    assert np.array_equal(dx, DY_MM @ W_MM.T), "dx should be dout w^T"
    assert np.array_equal(dw, X_MM.T @ DY_MM), "dw should be x^T dout"
    assert np.array_equal(db, DY_MM.sum(axis=0)), "db should be the sum of dout's rows"


@pytest.mark.grade(grade_id="test_affine_backward", points=1)
def test_affine_backward_any_rank(student):
    gen = rng(43)
    for shape, m in [((2, 3, 4, 4), 5), ((1, 2, 3), 4), ((3, 5, 1, 1, 2), 2)]:
        x = gen.normal(size=shape)
        d = int(np.prod(shape[1:]))
        w, b = gen.normal(size=(d, m)), gen.normal(size=m)
        dout = gen.normal(size=(shape[0], m))
        dx, dw, db = _affine_grads(student, x, w, b, dout)
        if dx.shape == (shape[0], d) and len(shape) > 2:
            raise AssertionError(f"x {shape}: dx has the flattened shape {dx.shape}: reshape it "
                                 "back to x's shape")
        assert dx.shape == shape, f"x {shape}: dx has shape {dx.shape}, expected x's shape"
        assert dw.shape == (d, m), f"x {shape}: dw has shape {dw.shape}, expected ({d}, {m})"
        want = cnnlib.affine_backward(dout, cnnlib.affine_forward(x, w, b)[1])
        for name, got, ref in zip(("dx", "dw", "db"), (dx, dw, db), want, strict=True):
            assert close(got, ref, 1e-9), f"x {shape}, w ({d}, {m}): wrong {name}"


@pytest.mark.grade(grade_id="test_affine_backward", points=1)
def test_affine_backward_bias_sum_and_numeric(student):
    gen = rng(44)
    x, w, b = gen.normal(size=(5, 3)), gen.normal(size=(3, 4)), gen.normal(size=4)
    dout = gen.normal(size=(5, 4))
    dx, dw, db = _affine_grads(student, x, w, b, dout)
    if not close(db, dout.sum(axis=0), 1e-9) and close(db, dout.mean(axis=0), 1e-9):
        raise AssertionError("db is the mean of dout over the batch: the bias is copied into "
                             "every row, so its gradients add up (sum)")
    assert close(db, dout.sum(axis=0), 1e-9), "db should be the sum of dout over the batch"
    x, w, b = gen.normal(size=(2, 2, 2)), gen.normal(size=(4, 3)), gen.normal(size=3)
    dout = gen.normal(size=(2, 3))
    dx, dw, db = _affine_grads(student, x, w, b, dout)
    checks = [("dx", dx, lambda v: as_float(student.affine_forward(v, w, b)[0]), x),
              ("dw", dw, lambda v: as_float(student.affine_forward(x, v, b)[0]), w),
              ("db", db, lambda v: as_float(student.affine_forward(x, w, v)[0]), b)]
    for name, got, forward, point in checks:
        assert got.shape == point.shape, (
            f"{name} has shape {got.shape}, expected {point.shape}: a gradient has the shape "
            "of its variable")
        numeric = cnnlib.numerical_gradient(forward, point.copy(), dout)
        assert close(got, numeric, 1e-6), (
            f"{name} disagrees with centered differences of your affine_forward")


# --------------------------------------------------------------------------------------
# softmax cross-entropy
# --------------------------------------------------------------------------------------

def _loss(student, scores, y):
    result = student.softmax_cross_entropy(scores, np.asarray(y, dtype=np.int64))
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        "softmax_cross_entropy should return (loss, dscores)")
    loss = as_float(result[0])
    assert loss.size == 1, f"the loss should be one number (the batch mean), got shape {loss.shape}"
    dscores = as_float(result[1])
    assert dscores.shape == np.shape(scores), (
        f"dscores has shape {dscores.shape}, expected scores' {np.shape(scores)}")
    return float(loss.reshape(())), dscores


@pytest.mark.grade(grade_id="test_softmax_cross_entropy", points=1)
def test_softmax_small_examples_and_averaging(student):
    gen = rng(50)
    scores = gen.normal(size=(1, 3))
    y = int(gen.integers(0, 3))
    loss, dscores = _loss(student, scores, [y])
    p = np.exp(scores[0] - scores[0].max()) / np.exp(scores[0] - scores[0].max()).sum()
    assert abs(loss + np.log(p[y])) < 1e-10, (
        f"one example of three classes: your loss {loss} is not -log softmax(scores)[y]")
    assert close(dscores, [p - np.eye(3)[y]], 1e-10), (
        "dscores should be softmax - onehot(y) (over N)")
    for c in (2, 7, 100):
        loss, _ = _loss(student, np.full((4, c), gen.normal()), np.arange(4) % c)
        assert abs(loss - np.log(c)) < 1e-10, (
            f"equal scores over {c} classes: your loss {loss} is not log C")
    scores = gen.normal(scale=2.0, size=(3, 4))
    y = [int(v) for v in gen.integers(0, 4, size=3)]
    loss, dscores = _loss(student, scores, y)
    want_loss, want_d = cnnlib.softmax_cross_entropy(scores, np.array(y))
    if abs(loss - want_loss) >= 1e-10 and abs(loss - 3 * want_loss) < 1e-9:
        raise AssertionError("a batch of 3: the loss is the SUM over the batch; average it (/ N)")
    assert abs(loss - want_loss) < 1e-10, (
        f"a batch of 3: your loss {loss} is wrong: the mean over the batch of "
        "-log softmax(scores)[y]")
    if not close(dscores, want_d, 1e-9) and close(dscores, 3 * want_d, 1e-9):
        raise AssertionError("a batch of 3: dscores was not divided by N (the loss is a mean)")
    assert close(dscores, want_d, 1e-9), "a batch of 3: wrong dscores"


@pytest.mark.grade(grade_id="test_softmax_cross_entropy", points=1)
def test_softmax_large_scores(student):
    gen = rng(52)
    base = gen.normal(size=(2, 3))
    for shift in (1000.0, -1000.0, 1e4):
        loss, dscores = _loss(student, base + shift, [2, 0])
        want_loss, want_d = cnnlib.softmax_cross_entropy(base, np.array([2, 0]))
        if not np.isfinite(loss) or not np.all(np.isfinite(dscores)):
            raise AssertionError(
                f"scores around {shift:g} gave nan or inf: np.exp overflowed (or the sum "
                "underflowed to 0); subtract each row's maximum first")
        assert abs(loss - want_loss) < 1e-8 and close(dscores, want_d, 1e-8), (
            f"scores around {shift:g}: softmax does not change when a constant is subtracted "
            "from a row, so the result must equal that of the unshifted scores")
    rows = gen.normal(size=(2, 3)) + np.array([[1000.0], [-1000.0]])
    loss, dscores = _loss(student, rows, [1, 2])
    want_loss, want_d = cnnlib.softmax_cross_entropy(rows, np.array([1, 2]))
    if not np.isfinite(loss) or not np.all(np.isfinite(dscores)):
        raise AssertionError(
            "one row around +1000 and one around -1000 gave nan or inf: subtract each ROW's "
            "own maximum (axis=1), not the maximum of the whole batch")
    assert abs(loss - want_loss) < 1e-8 and close(dscores, want_d, 1e-8), (
        "one row around +1000 and one around -1000: wrong loss or dscores")
    gap = gen.uniform(750.0, 900.0)
    loss, _ = _loss(student, np.array([[0.0, gap]]), [0])
    assert np.isfinite(loss), (
        "a true class scored about 800 below the other: the loss came out inf: its "
        "probability (about e^-800) rounded to 0 before the log; compute "
        "log p = (s - max) - log(sum e^(s - max))")
    assert abs(loss - gap) < 1e-9 * gap, (
        f"a true class scored about 800 below the other: your loss {loss} is wrong: "
        "log p = (s - max) - log(sum e^(s - max))")


@pytest.mark.grade(grade_id="test_softmax_cross_entropy", points=1)
def test_softmax_against_reference_and_numeric(student):
    gen = rng(51)
    for n, c in [(1, 2), (5, 10), (8, 3), (2, 1)]:
        scores = gen.normal(scale=4.0, size=(n, c))
        y = gen.integers(0, c, size=n)
        loss, dscores = _loss(student, scores, y)
        want_loss, want_d = cnnlib.softmax_cross_entropy(scores, y)
        assert abs(loss - want_loss) < 1e-9 * max(1.0, want_loss), (
            f"N={n}, C={c}: your loss {loss} is wrong")
        assert close(dscores, want_d, 1e-9), f"N={n}, C={c}: wrong dscores"
    scores = gen.normal(size=(3, 4))
    y = np.array([3, 0, 0])
    _, dscores = _loss(student, scores, y)
    numeric = cnnlib.numerical_gradient(lambda s: _loss(student, s, y)[0], scores.copy())
    assert close(dscores, numeric, 1e-6), (
        "dscores disagrees with centered differences of your loss")


# --------------------------------------------------------------------------------------
# Question: how many numbers the Jacobians of y = x w hold
# --------------------------------------------------------------------------------------

def _jacobian_counts(student, n, d, m):
    result = student.matmul_jacobian_entries(n, d, m)
    assert isinstance(result, (tuple, list)) and len(result) == 2, (
        "matmul_jacobian_entries should return the pair (entries of dy/dx, entries of dy/dw)")
    try:
        counts = [int(v) for v in result]
    except (TypeError, ValueError):
        raise AssertionError("matmul_jacobian_entries should return two whole numbers") from None
    assert all(int(v) == v for v in result), "the counts should be whole numbers"
    return counts


def _sizes(gen):
    """(n, d, m), all different and at least 2, so that every wrong count differs from the
    right one."""
    return redraw(lambda: tuple(int(v) for v in gen.integers(2, 60, size=3)),
                  lambda s: len(set(s)) == 3)


@pytest.mark.grade(grade_id="test_matmul_jacobian_entries", points=1)
def test_matmul_jacobian_of_x(student):
    gen = rng(61)
    for n, d, m in [(64, 4096, 4096), *(_sizes(gen) for _ in range(3))]:
        got = _jacobian_counts(student, n, d, m)[0]
        want, other = cnnlib.matmul_jacobian_entries(n, d, m)
        if got == want:
            continue
        if got == n * d:
            raise AssertionError(
                "dy/dx: your count is the number of entries of x (and of dL/dx), not of the "
                "Jacobian, which has one entry per pair (entry of x, entry of y)")
        if got == n * d * m:
            raise AssertionError(
                "dy/dx: your count holds only the entries that can be non-zero (each x[i, k] "
                "moves the m entries of row i of y); the Jacobian has one entry per pair "
                "(entry of x, entry of y), zeros included")
        if got == other:
            raise AssertionError("dy/dx: your first count is the one of dy/dw: the pair is "
                                 "(entries of dy/dx, entries of dy/dw)")
        raise AssertionError("dy/dx: your count is wrong: one entry per pair (entry of x, "
                             "entry of y)")


@pytest.mark.grade(grade_id="test_matmul_jacobian_entries", points=1)
def test_matmul_jacobian_of_w(student):
    gen = rng(62)
    for n, d, m in [_sizes(gen) for _ in range(4)]:
        got = _jacobian_counts(student, n, d, m)[1]
        other, want = cnnlib.matmul_jacobian_entries(n, d, m)
        if got == want:
            continue
        if got == d * m:
            raise AssertionError(
                "dy/dw: your count is the number of entries of w (and of dL/dw), not of the "
                "Jacobian, which has one entry per pair (entry of w, entry of y)")
        if got == d * m * n:
            raise AssertionError(
                "dy/dw: your count holds only the entries that can be non-zero (each w[k, j] "
                "moves the n entries of column j of y); the Jacobian has one entry per pair "
                "(entry of w, entry of y), zeros included")
        if got == other:
            raise AssertionError("dy/dw: your second count is the one of dy/dx: the pair is "
                                 "(entries of dy/dx, entries of dy/dw)")
        raise AssertionError("dy/dw: your count is wrong: one entry per pair (entry of w, "
                             "entry of y)")
