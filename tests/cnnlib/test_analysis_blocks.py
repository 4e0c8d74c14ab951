"""Parameter/memory accounting and the residual and Inception blocks (notebook 06).

Expected values come from outside the code under test: the lecture's 112, VGG-16's
published 138,357,544 parameters, AlexNet's first layer, ``model_table`` of real modules,
the ``Residual`` / ``Parallel`` modules, and numerical gradients.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlib
from cnnlib import (
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    Parallel,
    ReLU,
    Residual,
    Sequential,
    layer_table,
    model_table,
    numerical_gradient,
    rel_error,
)

pytestmark = pytest.mark.a3_cnns

VGG16 = (
    [("conv", 64, 3, 1, 1), ("relu",)] * 2 + [("pool", 2, 2)]
    + [("conv", 128, 3, 1, 1), ("relu",)] * 2 + [("pool", 2, 2)]
    + [("conv", 256, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("conv", 512, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("conv", 512, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000)]
)


def test_lecture_112_parameters():
    (row,) = layer_table((3, 8, 8), [("conv", 4, 3, 1, 0)])
    assert row["params"] == 112, "(3*3*3 + 1) * 4 = 112: weights plus one bias per filter"
    assert row["output_shape"] == (4, 6, 6)
    assert row["activations"] == 4 * 6 * 6


def test_vgg16_has_its_published_parameter_count():
    rows = layer_table((3, 224, 224), VGG16)
    assert sum(r["params"] for r in rows) == 138_357_544  # Simonyan & Zisserman, torchvision
    convs = [r for r in rows if r["layer"].startswith("conv")]
    fcs = [r for r in rows if r["layer"].startswith("fc")]
    assert rows[-2]["output_shape"] == (4096,) and rows[-1]["output_shape"] == (1000,)
    # lecture 000: parameters live in the FC layers, memory in the early convolutions
    assert sum(r["params"] for r in fcs) > 0.85 * sum(r["params"] for r in rows)
    assert convs[0]["activations"] == 64 * 224 * 224 == max(r["activations"] for r in rows)
    assert fcs[0]["params"] == (7 * 7 * 512 + 1) * 4096  # the fc input is flattened


def test_alexnet_first_layer_and_pool():
    rows = layer_table((3, 227, 227), [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2)])
    assert rows[0]["output_shape"] == (96, 55, 55)
    assert rows[0]["params"] == (11 * 11 * 3 + 1) * 96 == 34_944
    assert rows[1]["output_shape"] == (96, 55, 55) and rows[1]["params"] == 0
    assert rows[2]["output_shape"] == (96, 27, 27) and rows[2]["params"] == 0


def test_rows_have_the_documented_types():
    rows = layer_table((1, 8, 8), [("conv", 2, 3, 1, 1), ("pool", 2, 2), ("fc", 5)])
    for row in rows:
        assert set(row) == {"layer", "output_shape", "params", "activations"}
        assert isinstance(row["layer"], str) and isinstance(row["output_shape"], tuple)
        counts = (row["params"], row["activations"], *row["output_shape"])
        assert all(type(v) is int for v in counts)


def test_bad_layers_are_refused():
    with pytest.raises(ValueError):
        layer_table((1, 8, 8), [("dense", 3)])
    with pytest.raises(ValueError):
        layer_table((1, 4, 4), [("conv", 2, 5, 1, 0)])
    with pytest.raises(ValueError):
        layer_table((1, 4, 4), [("fc", 3), ("conv", 2, 1, 1, 0)])


LAYER_CHOICES = st.sampled_from(["same3", "valid3", "one", "relu", "pool"])


@given(channels=st.integers(1, 3), side=st.sampled_from([4, 6, 8]),
       kinds=st.lists(LAYER_CHOICES, max_size=5), widths=st.lists(st.integers(1, 4), min_size=5),
       head=st.lists(st.integers(1, 6), max_size=2))
def test_layer_table_agrees_with_model_table_of_real_modules(channels, side, kinds, widths, head):
    """Random small CNNs, described twice: as layer tuples and as real modules."""
    specs, modules, c, size = [], [], channels, side
    for kind, f in zip(kinds, widths, strict=False):
        if kind == "same3":
            specs.append(("conv", f, 3, 1, 1))
            modules.append(Conv2d(c, f, 3, pad=1, rng=0))
        elif kind == "valid3" and size >= 3:
            specs.append(("conv", f, 3, 1, 0))
            modules.append(Conv2d(c, f, 3, rng=0))
            size -= 2
        elif kind == "one":
            specs.append(("conv", f, 1, 1, 0))
            modules.append(Conv2d(c, f, 1, rng=0))
        elif kind == "pool" and size % 2 == 0:
            specs.append(("pool", 2, 2))
            modules.append(MaxPool2d(2))
            size //= 2
            continue
        elif kind == "relu":
            specs.append(("relu",))
            modules.append(ReLU())
            continue
        else:
            continue
        c = f
    flat = c * size * size
    if head:
        modules.append(Flatten())
    for out in head:
        specs.append(("fc", out))
        modules.append(Linear(flat, out, rng=0))
        flat = out
    shape = (channels, side, side)
    expected = [r for r in model_table(Sequential(*modules), shape) if r["layer"] != "Flatten"]
    got = layer_table(shape, specs)
    assert [r["output_shape"] for r in got] == [r["output_shape"] for r in expected]
    assert [r["params"] for r in got] == [r["params"] for r in expected]
    assert [r["activations"] for r in got] == [r["activations"] for r in expected]


def test_format_table_totals():
    text = cnnlib.format_table(layer_table((3, 8, 8), [("conv", 4, 3, 1, 0), ("fc", 2)]))
    assert "112" in text and "total" in text
    assert f"{112 + (4 * 6 * 6 + 1) * 2:,}" in text


# --------------------------------------------------------------------------------------
# Blocks: gradients against numerical_gradient (float64), forward against the modules
# --------------------------------------------------------------------------------------

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
