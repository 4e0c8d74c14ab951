"""Hidden tests for 05_training_a_cnn: momentum and Adam updates, the training step, and
the receptive-field calculator.

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` in this (trusted) process. When a result is wrong, the message names
the likely misconception, found by comparing with the usual wrong versions computed here.
Random inputs (and the seeds of the models the sandbox builds) come from the run's seed
(``_checks.rng``); messages never print them nor an expected value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _checks import as_float, close, raised, rng

import cnnlib

pytestmark = pytest.mark.a3_cnns


def _pair(result, names: str, what: str) -> tuple[np.ndarray, ...]:
    count = len(names.split(","))
    assert isinstance(result, (tuple, list)) and len(result) == count, (
        f"{what} should return a tuple ({names}); got {type(result).__name__}"
        + (f" of length {len(result)}" if isinstance(result, (tuple, list)) else "")
    )
    return tuple(as_float(r) for r in result)


# --------------------------------------------------------------------------------------
# sgd_momentum_update: v_new = momentum * v - lr * dw; w_new = w + v_new
# --------------------------------------------------------------------------------------

def _momentum_hint(w, dw, v, lr, mu, w_new, v_new) -> str:
    hints = []
    if close(v_new, mu * v + lr * dw):
        hints.append("the velocity adds +lr * dw: it should move against the gradient, "
                     "v_new = momentum * v - lr * dw")
    if close(w_new, w - (mu * v - lr * dw)):
        hints.append("w_new subtracts the velocity; the velocity already points downhill, "
                     "so w_new = w + v_new")
    if close(w_new, w + v) or close(w_new, w - lr * dw):
        hints.append("w_new uses the old velocity (or plain SGD): update v first, then "
                     "step w with the new velocity")
    if close(v_new, v - lr * dw) or close(v_new, mu * (v - lr * dw)):
        hints.append("the momentum factor multiplies the wrong term: only the old "
                     "velocity decays, v_new = momentum * v - lr * dw")
    return "; ".join(hints) or "compare with v_new = momentum * v - lr * dw, w_new = w + v_new"


MOMENTUM_CASES = [((5,), 1e-2, 0.9), ((3, 4), 0.3, 0.5), ((2, 3, 3, 3), 1e-3, 0.99),
                  ((1,), 0.1, 0.0)]


@pytest.mark.grade(grade_id="test_sgd_momentum_update", points=1)
def test_momentum_step_matches_the_rule(student):
    gen = rng(50)
    for shape, lr, mu in MOMENTUM_CASES:
        _check_momentum_case(student, gen, shape, lr, mu)


def _check_momentum_case(student, gen, shape, lr, mu):
    w, dw, v = (gen.normal(size=shape) for _ in range(3))
    expected_w, expected_v = cnnlib.sgd_momentum_update(w, dw, v, lr=lr, momentum=mu)
    if (lr, mu) == (1e-2, 0.9):  # the defaults of the signature
        result = student.sgd_momentum_update(w, dw, v)
    else:
        result = student.sgd_momentum_update(w, dw, v, lr=lr, momentum=mu)
    w_new, v_new = _pair(result, "w_new, v_new", "sgd_momentum_update")
    assert w_new.shape == shape and v_new.shape == shape, (
        f"w_new {w_new.shape} and v_new {v_new.shape} should both have the shape of w {shape}"
    )
    ok = close(w_new, expected_w) and close(v_new, expected_v)
    assert ok, (f"momentum step wrong (lr={lr}, momentum={mu}): "
                + _momentum_hint(w, dw, v, lr, mu, w_new, v_new))


@pytest.mark.grade(grade_id="test_sgd_momentum_update", points=0.5)
def test_constant_gradient_reaches_terminal_velocity(student):
    # With a constant gradient g the velocity tends to -lr * g / (1 - momentum): ten times
    # the plain SGD step for momentum 0.9. Chained through the student's own outputs.
    g = rng(58).uniform(0.5, 2.0, size=3) * np.array([1.0, -1.0, 1.0])
    w, v = np.zeros(3), np.zeros(3)
    for _ in range(150):
        w, v = _pair(student.sgd_momentum_update(w, g, v, lr=0.05, momentum=0.9),
                     "w_new, v_new", "sgd_momentum_update")
    terminal = -0.05 * g / (1 - 0.9)
    assert np.allclose(v, terminal, rtol=1e-5), (
        f"after 150 steps with a constant gradient your velocity is {np.round(v, 4)}: it "
        "should settle at -lr g / (1 - momentum), as the old velocity decays by `momentum` "
        "each step while -lr * dw is added"
    )
    ref_w, ref_v = np.zeros(3), np.zeros(3)
    for _ in range(150):
        ref_w, ref_v = cnnlib.sgd_momentum_update(ref_w, g, ref_v, lr=0.05, momentum=0.9)
    assert close(w, ref_w, 1e-6), "the weights drift away from the momentum rule over 150 steps"


@pytest.mark.grade(grade_id="test_sgd_momentum_update", points=0.5)
def test_momentum_large_and_zero_gradients(student):
    w = np.array([[1e6, -1e6], [3.0, 0.0]])
    v = np.array([[1e5, 0.0], [-2.0, 0.0]])
    dw = np.array([[1e7, -1e7], [0.0, 0.0]])
    w_new, v_new = _pair(student.sgd_momentum_update(w, dw, v, lr=1e-3, momentum=0.8),
                         "w_new, v_new", "sgd_momentum_update")
    expected_w, expected_v = cnnlib.sgd_momentum_update(w, dw, v, lr=1e-3, momentum=0.8)
    assert close(v_new, expected_v, 1e-9) and close(w_new, expected_w, 1e-9), (
        "wrong result for large weights and gradients, or where dw = 0 (there the velocity "
        "only decays: v_new = momentum * v): "
        + _momentum_hint(w, dw, v, 1e-3, 0.8, w_new, v_new)
    )


# --------------------------------------------------------------------------------------
# adam_update
# --------------------------------------------------------------------------------------

def _adam_variants(w, dw, m, v, t, lr, b1, b2, eps):
    """The usual wrong versions of Adam, name -> w_new."""
    m1 = b1 * m + (1 - b1) * dw
    v1 = b2 * v + (1 - b2) * dw**2
    out = {"no bias correction (use m_hat = m / (1 - beta1**t), v_hat = v / (1 - beta2**t))":
           w - lr * m1 / (np.sqrt(v1) + eps)}
    for shift, words in ((1, "t + 1"), (-1, "t - 1")):
        if t + shift >= 1:
            mh, vh = m1 / (1 - b1 ** (t + shift)), v1 / (1 - b2 ** (t + shift))
            out[f"bias correction with {words} instead of t (t is the 1-based step number "
                "you are given; do not shift it)"] = w - lr * mh / (np.sqrt(vh) + eps)
    mh, vh = m1 / (1 - b1**t), v1 / (1 - b2**t)
    out["eps inside the square root (it belongs outside: sqrt(v_hat) + eps)"] = (
        w - lr * mh / np.sqrt(vh + eps))
    out["the step goes uphill (w - lr * m_hat / ..., with a minus)"] = (
        w + lr * mh / (np.sqrt(vh) + eps))
    out["the second moment is of dw, not dw squared (v = beta2 v + (1 - beta2) dw**2)"] = (
        w - lr * mh / (np.sqrt((b2 * v + (1 - b2) * dw) / (1 - b2**t)) + eps))
    return out


def _adam_hint(w, dw, m, v, t, lr, b1, b2, eps, got_w) -> str:
    with np.errstate(all="ignore"):
        if not np.all(np.isfinite(got_w)):
            return ("w_new has inf or nan: with t = 0 the bias correction divides by "
                    "1 - beta**0 = 0; t counts steps from 1")
        for name, wrong in _adam_variants(w, dw, m, v, t, lr, b1, b2, eps).items():
            if close(got_w, wrong, 1e-6):
                return name
    return "compare each line with the update rule in the notebook"


def _run_adam(student, w, dw, m, v, t, **kw):
    return _pair(student.adam_update(w, dw, m, v, t, **kw), "w_new, m_new, v_new",
                 "adam_update")


@pytest.mark.grade(grade_id="test_adam_update", points=1)
def test_first_adam_step_is_lr_times_the_sign(student):
    # At t = 1 from zero moments the bias-corrected ratio is dw / |dw|: every weight moves
    # by (almost exactly) lr, whatever the gradient's size.
    gen = rng(51)
    for scale in (1e-3, 1.0, 1e4):
        _check_first_adam_step(student, gen, scale)


def _check_first_adam_step(student, gen, scale):
    w = gen.normal(size=(4, 3))
    dw = scale * gen.normal(size=(4, 3))
    zeros = np.zeros_like(w)
    w_new, m_new, v_new = _run_adam(student, w, dw, zeros, zeros, 1, lr=0.01)
    assert w_new.shape == w.shape and m_new.shape == w.shape and v_new.shape == w.shape, (
        f"shapes {w_new.shape}, {m_new.shape}, {v_new.shape}; all should be {w.shape}"
    )
    expected = cnnlib.adam_update(w, dw, zeros, zeros, 1, lr=0.01)[0]
    assert close(w_new, expected, 1e-6), (
        f"first step (t=1, gradients of size ~{scale:g}) should move each weight by lr = "
        "0.01 against the sign of its gradient; "
        + _adam_hint(w, dw, zeros, zeros, 1, 0.01, 0.9, 0.999, 1e-8, w_new)
    )


@pytest.mark.grade(grade_id="test_adam_update", points=1)
def test_adam_over_twelve_steps_matches_the_rule(student):
    gen = rng(52)
    _check_adam_chain(student, gen, (6,), {})
    _check_adam_chain(student, gen, (2, 3, 3, 3),
                      {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6})


def _check_adam_chain(student, gen, shape, kw):
    w = gen.normal(size=shape)
    m, v = np.zeros(shape), np.zeros(shape)
    ref_w, ref_m, ref_v = w.copy(), m.copy(), v.copy()
    full = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, **kw}
    for t in range(1, 13):
        dw = gen.normal(size=shape) + 0.5 * ref_w  # a noisy pull towards 0
        before = (w, m, v)
        w, m, v = _run_adam(student, w, dw, m, v, t, **kw)
        ref_w, ref_m, ref_v = cnnlib.adam_update(ref_w, dw, ref_m, ref_v, t, **full)
        assert close(m, ref_m, 1e-6), (
            f"m_new wrong at step t={t}: return the raw first moment "
            "beta1 * m + (1 - beta1) * dw (not bias-corrected; that is only for the step)"
        )
        assert close(v, ref_v, 1e-6), (
            f"v_new wrong at step t={t}: return the raw second moment "
            "beta2 * v + (1 - beta2) * dw**2 (not bias-corrected, not square-rooted)"
        )
        assert close(w, ref_w, 1e-6), (
            f"w_new wrong at step t={t} ({', '.join(f'{k}={x}' for k, x in kw.items())}): "
            + _adam_hint(*before[:1], dw, *before[1:], t, full["lr"], full["beta1"],
                         full["beta2"], full["eps"], w)
        )


@pytest.mark.grade(grade_id="test_adam_update", points=0.5)
def test_adam_eps_is_added_outside_the_square_root(student):
    # Gradients of 1e-9 make eps = 1e-8 dominate: ratio 1e-9 / (1e-9 + 1e-8) = 1/11.
    w = np.array([0.5, -0.5])
    dw = np.array([1e-9, -1e-9])
    zeros = np.zeros(2)
    w_new, _, _ = _run_adam(student, w, dw, zeros, zeros, 1, lr=0.1)
    expected = cnnlib.adam_update(w, dw, zeros, zeros, 1, lr=0.1)[0]
    assert close(w_new, expected, 1e-6), (
        "with tiny gradients eps decides the step: "
        + _adam_hint(w, dw, zeros, zeros, 1, 0.1, 0.9, 0.999, 1e-8, w_new)
    )


@pytest.mark.grade(grade_id="test_adam_update", points=0.5)
def test_adam_late_step_and_zero_gradient(student):
    # At t = 5000 the corrections are ~1; a zero gradient still moves w (the moments
    # remember earlier gradients) but leaves m and v merely decayed.
    w = np.array([1.0, 2.0, -3.0])
    m = np.array([0.1, -0.2, 0.0])
    v = np.array([0.01, 0.04, 0.0])
    dw = np.zeros(3)
    got = _run_adam(student, w, dw, m, v, 5000)
    expected = cnnlib.adam_update(w, dw, m, v, 5000)
    assert close(got[1], expected[1]) and close(got[2], expected[2]), (
        "with dw = 0 the moments should only decay: m_new = beta1 * m, v_new = beta2 * v"
    )
    assert close(got[0], expected[0], 1e-6), (
        "wrong w_new at t=5000 with dw = 0 (the third weight has m = v = 0 and must not "
        "move, nor become nan): "
        + _adam_hint(w, dw, m, v, 5000, 1e-3, 0.9, 0.999, 1e-8, got[0])
    )


# --------------------------------------------------------------------------------------
# train_step(model, x, y, optimizer) -> float
# Models and optimizers are built in the sandbox from the notebook's given imports
# (Sequential, Linear, ReLU, Conv2d, MaxPool2d, Flatten, SGD); their weights are read back
# with state_dict() and replayed here on the reference.
# --------------------------------------------------------------------------------------

def _mlp(lib, seed: int = 0):
    return lib.Sequential(lib.Linear(6, 5, rng=seed), lib.ReLU(), lib.Linear(5, 4, rng=seed + 1))


def _cnn(lib, seed: int = 0):
    return lib.Sequential(
        lib.Conv2d(1, 3, 3, pad=1, rng=seed), lib.ReLU(), lib.MaxPool2d(2),
        lib.Flatten(), lib.Linear(3 * 4 * 4, 10, rng=seed + 1),
    )


def _seed(gen) -> int:
    """A seed for the initial weights of a model the student's process builds."""
    return int(gen.integers(0, 2**31 - 2))


def _reference_like(build, state):
    model = build(cnnlib)
    model.load_state_dict({k: as_float(a) for k, a in state.items()})
    return model


def _loss_of(model, x, y) -> float:
    return float(cnnlib.softmax_cross_entropy(model.forward(x), y)[0])


def _states_close(a: dict, b: dict, tol: float = 1e-7) -> bool:
    return set(a) == set(b) and all(close(a[k], b[k], tol) for k in a)


def _train_step(student, model, x, y, optimizer):
    """The student's train_step; the loss passed to model.backward is named as such."""
    try:
        return student.train_step(model, x, y, optimizer)
    except Exception as error:
        if raised(error, "ValueError") and "does not have enough dimensions" in str(error):
            raise AssertionError(
                "train_step failed inside model.backward on a single number: backward "
                "needs dscores, the gradient of the loss with respect to the scores (an "
                "array of shape (N, C), the second value softmax_cross_entropy returns), "
                "not the loss itself") from None
        raise


def _data(gen, n, shape, classes):
    return gen.normal(size=(n, *shape)), gen.integers(0, classes, size=n)


@pytest.mark.grade(grade_id="test_train_step", points=1)
def test_train_step_returns_the_loss_before_the_update(student):
    _check_returned_loss(student, _mlp)
    _check_returned_loss(student, _cnn)


def _check_returned_loss(student, build):
    shape, classes = ((6,), 4) if build is _mlp else ((1, 8, 8), 10)
    gen = rng(53)
    x, y = _data(gen, 7, shape, classes)
    model = build(student, _seed(gen))
    state = model.state_dict()
    optimizer = student.SGD(model.parameters(), lr=0.5)
    loss = _train_step(student, model, x, y, optimizer)
    assert isinstance(loss, float) or np.ndim(loss) == 0, (
        f"train_step should return the loss as a Python float, got {type(loss).__name__}"
    )
    loss = float(loss)
    ref = _reference_like(build, state)
    before = _loss_of(ref, x, y)
    ref_opt = cnnlib.SGD(ref.parameters(), lr=0.5)
    cnnlib.train_step(ref, x, y, ref_opt)
    after = _loss_of(ref, x, y)
    if math.isclose(loss, after, rel_tol=1e-6) and not math.isclose(before, after):
        pytest.fail(f"you returned {loss:.6f}, the loss *after* the update; return the loss "
                    "of the forward pass that produced the gradients")
    assert math.isclose(loss, before, rel_tol=1e-6), (
        f"your returned loss {loss:.6f} is wrong: return the mean softmax cross-entropy of "
        "model.forward(x) on this batch, as a float"
    )


@pytest.mark.grade(grade_id="test_train_step", points=1)
def test_train_step_updates_the_weights_once(student):
    _check_one_update(student, _mlp)
    _check_one_update(student, _cnn)


def _check_one_update(student, build):
    shape, classes = ((6,), 4) if build is _mlp else ((1, 8, 8), 10)
    gen = rng(54)
    x, y = _data(gen, 9, shape, classes)
    x2, y2 = _data(gen, 9, shape, classes)
    model = build(student, _seed(gen))
    state = model.state_dict()
    optimizer = student.SGD(model.parameters(), lr=0.2)
    _train_step(student, model, x, y, optimizer)
    got = model.state_dict()
    ref = _reference_like(build, state)
    ref_opt = cnnlib.SGD(ref.parameters(), lr=0.2)
    cnnlib.train_step(ref, x, y, ref_opt)
    if _states_close(got, state, 1e-12):
        pytest.fail("the weights did not change: is model.backward(dscores) called before "
                    "optimizer.step()? (without backward every gradient is zero)")
    assert _states_close(got, ref.state_dict(), 1e-6), (
        "the weights after one step differ from one SGD step on this batch's gradient: "
        "forward, loss, model.backward(dscores) with the loss's gradient, then one "
        "optimizer.step()"
    )
    # A second step on another batch, with the same optimizer.
    _train_step(student, model, x2, y2, optimizer)
    cnnlib.train_step(ref, x2, y2, ref_opt)
    assert _states_close(model.state_dict(), ref.state_dict(), 1e-6), (
        "the first step is right but the second is not: the second step also used the "
        "first batch's gradients. Call optimizer.zero_grad() at the start of every step "
        "(backward adds into .grad)"
    )


@pytest.mark.grade(grade_id="test_train_step", points=1)
def test_train_step_clears_gradients_left_from_before(student):
    gen = rng(55)
    x, y = _data(gen, 8, (6,), 4)
    model = _mlp(student, _seed(gen))
    state = model.state_dict()
    optimizer = student.SGD(model.parameters(), lr=0.3)
    # Leave stale gradients in .grad, as an earlier evaluation or step would.
    out = model.forward(x)
    model.backward(as_float(np.ones_like(as_float(out)) * 5.0))
    losses = [float(_train_step(student, model, x, y, optimizer)) for _ in range(3)]
    ref = _reference_like(_mlp, state)
    ref_opt = cnnlib.SGD(ref.parameters(), lr=0.3)
    expected = [float(cnnlib.train_step(ref, x, y, ref_opt)) for _ in range(3)]
    assert _states_close(model.state_dict(), ref.state_dict(), 1e-6), (
        "after three steps (with gradients left over in .grad from before) the weights "
        "differ from plain SGD: call optimizer.zero_grad() at the start of train_step, "
        "since backward adds into .grad and old gradients would be stepped again"
    )
    assert np.allclose(losses, expected, rtol=1e-6), (
        f"your losses over three steps {np.round(losses, 5)} are wrong: each must be the "
        "mean loss of the batch before that step's update"
    )


# --------------------------------------------------------------------------------------
# receptive_field(layers) -> int, layers = [(kernel, stride), ...] first layer first
# --------------------------------------------------------------------------------------

def _rf_variants(layers) -> dict[str, int]:
    """What the usual wrong formulas give, name -> value."""
    out: dict[str, int] = {}
    jump_incl, total_incl = 1, 1
    for k, s in layers:
        jump_incl *= s
        total_incl += (k - 1) * jump_incl
    out["each layer's growth was multiplied by its own stride too; only the strides of "
        "the layers *before* it count (the last layer's stride never matters)"] = total_incl
    out["the strides are ignored: a stride s makes every later layer's kernel cover s "
        "times as many input pixels"] = 1 + sum(k - 1 for k, _ in layers)
    out["the kernels were added up without the -1: two stacked 3x3 layers see 5x5, not 6x6"] = (
        sum(k for k, _ in layers))
    backwards = list(reversed(layers))
    out["the layers were taken in the wrong order: layers[0] is the first layer (next to "
        "the input)"] = cnnlib.receptive_field(backwards)
    out["off by one: start from r = 1 (one unit of the last layer), not 0"] = (
        cnnlib.receptive_field(layers) - (
            int(np.prod([s for _, s in layers])) if layers else 1))
    return out


def _check_rf(student, layers, context: str) -> None:
    """context says which stack it is (the layers themselves only if they are public)."""
    expected = cnnlib.receptive_field(layers)
    got = student.receptive_field(layers)
    assert np.ndim(got) == 0, f"receptive_field should return an int, got {type(got).__name__}"
    assert float(got) == int(got), f"receptive_field should return a whole number, got {got}"
    if int(got) == expected:
        return
    hint = next((name for name, value in _rf_variants(layers).items()
                 if value == int(got) and value != expected), "")
    pytest.fail(f"{context}: your receptive field {got} is wrong"
                + (f"; {hint}" if hint else
                   ": r = 1 + sum over layers of (k - 1) * (product of the earlier strides)"))


def _stack(layers) -> str:
    return str([tuple(layer) for layer in layers])


@pytest.mark.grade(grade_id="test_receptive_field", points=0.5)
def test_receptive_field_of_stacked_stride_one_layers(student):
    _check_rf(student, [], "no layers: one unit sees one pixel")
    for depth in range(1, 7):
        _check_rf(student, [(3, 1)] * depth, f"{depth} stacked 3x3 convolutions")
    _check_rf(student, [(5, 1), (1, 1), (7, 1)], "stride-1 layers of mixed sizes")
    _check_rf(student, [(1, 1)] * 4, "1x1 convolutions do not widen anything")


@pytest.mark.grade(grade_id="test_receptive_field", points=0.5)
def test_receptive_field_with_strides(student):
    for layers, what in [([(3, 2)], "one strided layer"),
                         ([(3, 1), (3, 4)], "a stride in the last layer"),
                         ([(2, 2), (3, 1), (3, 1)], "a pool first"),
                         ([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)], "conv-pool stacks"),
                         ([(4, 3), (1, 2), (5, 1), (2, 5)], "unusual strides")]:
        _check_rf(student, layers, f"{what} {_stack(layers)}")


@pytest.mark.grade(grade_id="test_receptive_field", points=0.5)
def test_receptive_field_of_published_networks(student):
    alexnet = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
    vgg16 = [(3, 1), (3, 1), (2, 2)] * 2 + [(3, 1), (3, 1), (3, 1), (2, 2)] * 3
    _check_rf(student, alexnet, f"AlexNet up to pool5 {_stack(alexnet)}")
    _check_rf(student, vgg16, "VGG-16 up to pool5 (3x3 convolutions, 2x2 pools)")
    _check_rf(student, [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)], "LeNet-5 up to C5")
    _check_rf(student, [(7, 2), (3, 2)] + [(3, 1)] * 12, "a ResNet-like stem and body")


@pytest.mark.grade(grade_id="test_receptive_field", points=0.5)
def test_receptive_field_of_random_stacks(student):
    gen = rng(56)
    for _ in range(25):
        depth = int(gen.integers(1, 9))
        layers = [(int(gen.integers(1, 8)), int(gen.integers(1, 4))) for _ in range(depth)]
        _check_rf(student, layers, "a random stack of layers")
    # lists instead of tuples are fine too
    _check_rf(student, [[3, 1], [2, 2], [3, 1]], "layers given as lists")
