"""cnnlib.optim: the update rules against hand-computed steps, and the classes that apply them."""

import math

import numpy as np
import pytest

import cnnlib as c
import cnnlib.optim
import cnnlib.training

pytestmark = pytest.mark.nb05_training_a_cnn


def test_momentum_step_by_hand():
    w, dw, v = np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 0.0]), np.array([0.1, 0.0, -0.2])
    saved = [a.copy() for a in (w, dw, v)]
    w_new, v_new = c.sgd_momentum_update(w, dw, v, lr=0.1, momentum=0.9)
    # v = 0.9 v - 0.1 dw; w = w + v
    np.testing.assert_allclose(v_new, [0.09 - 0.05, 0.1, -0.18])
    np.testing.assert_allclose(w_new, [1.04, -1.9, 0.32])
    for before, after in zip(saved, (w, dw, v), strict=True):
        np.testing.assert_array_equal(before, after)  # inputs not modified


def test_momentum_defaults_and_two_steps():
    w, v = np.array([0.0]), np.array([0.0])
    w, v = c.sgd_momentum_update(w, np.array([1.0]), v)  # lr 1e-2, momentum 0.9
    w, v = c.sgd_momentum_update(w, np.array([1.0]), v)
    assert v.item() == pytest.approx(-0.019) and w.item() == pytest.approx(-0.029)


@pytest.mark.parametrize("scale", [1e-4, 1.0, 1e3])
def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient(scale):
    # After bias correction m_hat = dw and v_hat = dw^2, so the step is lr * dw / |dw|,
    # whatever the gradient's size.
    w = np.array([1.0, -2.0, 0.5])
    dw = scale * np.array([0.5, -3.0, 2.0])
    m0, v0 = np.zeros(3), np.zeros(3)
    w_new, m, v = c.adam_update(w, dw, m0, v0, t=1, lr=0.01)
    # exactly lr * dw / (|dw| + eps): eps only matters for tiny gradients
    np.testing.assert_allclose(w_new, w - 0.01 * dw / (np.abs(dw) + 1e-8), rtol=1e-12)
    np.testing.assert_allclose(w_new, w - 0.01 * np.sign(dw), rtol=0, atol=1e-5)
    np.testing.assert_allclose(m, 0.1 * dw)
    np.testing.assert_allclose(v, 0.001 * dw**2)
    assert not m0.any() and not v0.any()


def test_adam_second_step_by_hand():
    b1, b2, lr, eps = 0.9, 0.999, 0.1, 1e-8
    w, m, v = np.array([1.0]), np.array([0.0]), np.array([0.0])
    w, m, v = c.adam_update(w, np.array([2.0]), m, v, t=1, lr=lr)
    w, m, v = c.adam_update(w, np.array([-1.0]), m, v, t=2, lr=lr)
    m_expected = b1 * (1 - b1) * 2.0 + (1 - b1) * -1.0
    v_expected = b2 * (1 - b2) * 4.0 + (1 - b2) * 1.0
    m_hat, v_hat = m_expected / (1 - b1**2), v_expected / (1 - b2**2)
    w_expected = 1.0 - lr - lr * m_hat / (math.sqrt(v_hat) + eps)
    assert m.item() == pytest.approx(m_expected) and v.item() == pytest.approx(v_expected)
    assert w.item() == pytest.approx(w_expected)


def _quadratic_grad(param, target, curvature):
    param.grad += 2 * curvature * (param.data - target)


@pytest.mark.parametrize(
    "make,steps",
    [
        (lambda p: c.SGD(p, lr=0.05), 300),
        (lambda p: c.SGDMomentum(p, lr=0.02, momentum=0.9), 300),
        (lambda p: c.Adam(p, lr=0.05), 600),
    ],
)
def test_optimizers_minimise_an_ill_conditioned_quadratic(make, steps):
    target = np.array([3.0, -1.0, 0.5])
    curvature = np.array([1.0, 5.0, 0.5])
    param = c.Parameter(np.zeros(3))
    data_array = param.data
    opt = make([param])
    for _ in range(steps):
        opt.zero_grad()
        _quadratic_grad(param, target, curvature)
        opt.step()
    assert param.data is data_array  # updated in place: modules keep their arrays
    np.testing.assert_allclose(param.data, target, atol=1e-3)


def test_optimizer_classes_apply_the_update_functions():
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(4) for _ in range(3)]
    for cls, kwargs in [(c.SGDMomentum, {"lr": 0.1, "momentum": 0.8}),
                        (c.Adam, {"lr": 0.01, "beta1": 0.8, "beta2": 0.99})]:
        param = c.Parameter(np.ones(4))
        opt = cls([param], **kwargs)
        w, s1, s2 = np.ones(4), np.zeros(4), np.zeros(4)
        for t, g in enumerate(grads, start=1):
            opt.zero_grad()
            param.grad += g
            opt.step()
            if cls is c.SGDMomentum:
                w, s1 = c.sgd_momentum_update(w, g, s1, **kwargs)
            else:
                w, s1, s2 = c.adam_update(w, g, s1, s2, t, **kwargs)
        np.testing.assert_allclose(param.data, w)

