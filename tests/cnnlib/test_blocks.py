"""cnnlib.blocks: residual and Inception blocks against numerical gradients and the modules."""

from __future__ import annotations

import numpy as np
import pytest

import cnnlib
from cnnlib import (
    Conv2d,
    Parallel,
    ReLU,
    Residual,
    Sequential,
    numerical_gradient,
    rel_error,
)

pytestmark = pytest.mark.nb06_architectures


def _grad_errors(forward, backward, args, seed):
    rng = np.random.default_rng(seed)
    out, cache = forward(*args)
    dout = rng.normal(size=out.shape)
    grads = backward(dout, cache)
    assert len(grads) == len(args)
    errors = []
    for i, arg in enumerate(args):
        def f(value, i=i):
            changed = list(args)
            changed[i] = value
            return forward(*changed)[0]
        assert grads[i].shape == arg.shape
        errors.append(rel_error(grads[i], numerical_gradient(f, arg.copy(), dout)))
    return errors


def _residual_args(seed, n=2, c=3, h=5, w=4):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(n, c, h, w)), 0.3 * rng.normal(size=(c, c, 3, 3)),
            rng.normal(size=c), 0.3 * rng.normal(size=(c, c, 3, 3)), rng.normal(size=c)]


@pytest.mark.parametrize("seed,shape", [(0, (2, 3, 5, 4)), (1, (1, 1, 3, 3)), (2, (3, 2, 4, 6))])
def test_residual_gradients(seed, shape):
    n, c, h, w = shape
    errors = _grad_errors(cnnlib.residual_forward, cnnlib.residual_backward,
                          _residual_args(seed, n, c, h, w), seed + 10)
    assert max(errors) <= 1e-7, errors


def test_residual_matches_the_modules_and_relu_comes_after_the_add():
    x, w1, b1, w2, b2 = _residual_args(3)
    conv1, conv2 = Conv2d(3, 3, 3, pad=1), Conv2d(3, 3, 3, pad=1)
    conv1.weight.data[...], conv1.bias.data[...] = w1, b1
    conv2.weight.data[...], conv2.bias.data[...] = w2, b2
    model = Sequential(Residual(Sequential(conv1, ReLU(), conv2)), ReLU())
    out, cache = cnnlib.residual_forward(x, w1, b1, w2, b2)
    np.testing.assert_allclose(out, model.forward(x), rtol=1e-12, atol=1e-12)
    assert (out == 0).any(), "test data must exercise the final ReLU"
    dout = np.random.default_rng(4).normal(size=out.shape)
    dx, dw1, db1, dw2, db2 = cnnlib.residual_backward(dout, cache)
    np.testing.assert_allclose(dx, model.backward(dout), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dw1, conv1.weight.grad, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db2, conv2.bias.grad, rtol=1e-10, atol=1e-12)


def test_residual_skip_is_a_gradient_highway():
    # with zero weights and biases the convolutions pass nothing: all of dx comes through
    # the skip, gated only by the final ReLU
    x = np.random.default_rng(5).normal(size=(1, 2, 3, 3))
    zeros_w, zeros_b = np.zeros((2, 2, 3, 3)), np.zeros(2)
    out, cache = cnnlib.residual_forward(x, zeros_w, zeros_b, zeros_w, zeros_b)
    np.testing.assert_array_equal(out, np.maximum(x, 0))
    dx = cnnlib.residual_backward(np.ones_like(x), cache)[0]
    np.testing.assert_array_equal(dx, (x > 0).astype(float))


def _inception_args(seed, n=2, c=3, h=5, w=6, filters=(2, 4, 1)):
    rng = np.random.default_rng(seed)
    args = [rng.normal(size=(n, c, h, w))]
    for f, k in zip(filters, (1, 3, 5), strict=True):
        args += [rng.normal(size=(f, c, k, k)), rng.normal(size=f)]
    return args


@pytest.mark.parametrize("seed,shape,filters", [
    (0, (2, 3, 5, 6), (2, 4, 1)), (1, (1, 1, 3, 3), (1, 1, 1)), (2, (2, 2, 6, 4), (3, 2, 2)),
])
def test_inception_gradients(seed, shape, filters):
    errors = _grad_errors(cnnlib.inception_forward, cnnlib.inception_backward,
                          _inception_args(seed, *shape, filters), seed + 20)
    assert max(errors) <= 1e-7, errors


def test_inception_matches_parallel_modules_in_branch_order():
    x, w1, b1, w3, b3, w5, b5 = _inception_args(6)
    branches = []
    for w, b, k in ((w1, b1, 1), (w3, b3, 3), (w5, b5, 5)):
        conv = Conv2d(3, w.shape[0], k, pad=k // 2)
        conv.weight.data[...], conv.bias.data[...] = w, b
        branches.append(Sequential(conv, ReLU()))
    model = Parallel(*branches)
    out, cache = cnnlib.inception_forward(x, w1, b1, w3, b3, w5, b5)
    assert out.shape == (2, 2 + 4 + 1, 5, 6)
    np.testing.assert_allclose(out, model.forward(x), rtol=1e-12, atol=1e-12)
    dout = np.random.default_rng(7).normal(size=out.shape)
    grads = cnnlib.inception_backward(dout, cache)
    np.testing.assert_allclose(grads[0], model.backward(dout), rtol=1e-10, atol=1e-12)
    for got, branch in zip((grads[1], grads[3], grads[5]), branches, strict=True):
        np.testing.assert_allclose(got, branch.layers[0].weight.grad, rtol=1e-10, atol=1e-12)

