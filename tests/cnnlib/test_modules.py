"""cnnlib.modules: every backward against centered differences, containers, geometry,
state and modes."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb05_training_a_cnn


TOL = 1e-7


def check_module(module, x, rng, tol=TOL):
    """Backward's dx and every parameter gradient against numerical_gradient (float64)."""
    out = module.forward(x)
    dout = rng.standard_normal(out.shape)
    module.zero_grad()
    dx = module.backward(dout)
    assert dx.shape == x.shape
    numeric = c.numerical_gradient(module.forward, x.copy(), dout)
    assert c.rel_error(dx, numeric) <= tol, "dx"
    for name, p in module.named_parameters():
        assert p.grad.shape == p.data.shape
        # numerical_gradient nudges p.data in place; forward reads it from the module
        numeric = c.numerical_gradient(lambda _: module.forward(x), p.data, dout)
        assert c.rel_error(p.grad, numeric) <= tol, name


def _away_from_zero(x, margin=1e-2):
    """x with entries near 0 pushed out, so relu's kink is not inside a centered difference."""
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin * 3, x)


@pytest.mark.parametrize("shape", [(4, 6), (2, 2, 3), (3, 1, 2, 3)])
def test_linear(shape):
    rng = np.random.default_rng(0)
    layer = c.Linear(6, 5, rng=rng)
    layer.bias.data[:] = rng.standard_normal(5)  # a zero bias would hide a missing db
    out = layer.forward(rng.standard_normal(shape))
    assert out.shape == (shape[0], 5)
    check_module(layer, rng.standard_normal(shape), rng)


@pytest.mark.parametrize(
    "cin,cout,kernel,stride,pad,hw",
    [
        (1, 2, 3, 1, 0, (5, 5)),
        (3, 4, 3, 1, 1, (4, 6)),
        (2, 3, (2, 3), 2, 1, (6, 7)),
        (2, 2, 3, (2, 1), (0, 1), (7, 4)),
    ],
)
def test_conv2d(cin, cout, kernel, stride, pad, hw):
    # (With seed 1, one dx entry of the second case is 9e-6: its 1e-10 of rounding noise in
    # the centered difference is a relative 1.6e-6. The seed avoids near-zero gradients.)
    rng = np.random.default_rng(12)
    layer = c.Conv2d(cin, cout, kernel, stride=stride, pad=pad, rng=rng)
    layer.bias.data[:] = rng.standard_normal(cout)
    check_module(layer, rng.standard_normal((2, cin, *hw)), rng)


def test_conv2d_output_shape_and_parameter_shapes():
    layer = c.Conv2d(3, 8, (3, 5), stride=2, pad=1, rng=0)
    assert layer.weight.data.shape == (8, 3, 3, 5) and layer.bias.data.shape == (8,)
    assert layer.forward(np.zeros((2, 3, 9, 11))).shape == (2, 8, 5, 5)


@pytest.mark.parametrize("pool", [c.MaxPool2d, c.AvgPool2d])
@pytest.mark.parametrize("kernel,stride", [(2, None), (3, 1), ((2, 3), (1, 2))])
def test_pools(pool, kernel, stride):
    rng = np.random.default_rng(2)
    check_module(pool(kernel, stride), rng.standard_normal((2, 3, 6, 7)), rng)


def test_maxpool_stride_defaults_to_the_kernel():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    assert c.MaxPool2d(2).forward(x)[0, 0].tolist() == [[5, 7], [13, 15]]
    assert c.AvgPool2d(2).forward(x)[0, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]


@pytest.mark.parametrize("module", [c.ReLU, c.Sigmoid, c.Tanh, c.Flatten])
def test_stateless_modules(module):
    rng = np.random.default_rng(3)
    check_module(module(), _away_from_zero(rng.standard_normal((2, 3, 4, 2))), rng)


def test_flatten_shape():
    assert c.Flatten().forward(np.zeros((5, 2, 3, 4))).shape == (5, 24)


def test_sequential_cnn_with_every_layer_kind():
    rng = np.random.default_rng(4)
    model = c.Sequential(
        c.Conv2d(2, 3, 3, pad=1, rng=rng), c.Tanh(), c.AvgPool2d(2),
        c.Conv2d(3, 4, 2, rng=rng), c.Sigmoid(), c.MaxPool2d(2, stride=1),
        c.Flatten(), c.Linear(4 * 2 * 2, 3, rng=rng),
    )
    for p in model.parameters():
        if p.data.ndim == 1:
            p.data[:] = 0.1 * rng.standard_normal(p.data.shape)
    # Eight layers deep, a few dx entries are ~1e-5 and their centered differences carry
    # ~1e-12 of rounding: a relative 1e-7 per entry is noise, 1e-6 is not.
    check_module(model, rng.standard_normal((2, 2, 8, 8)), rng, tol=1e-6)


def test_a_small_cnn_with_softmax_loss_has_correct_gradients_everywhere():
    # conv - relu - pool - linear, loss = softmax cross-entropy: what training differentiates.
    rng = np.random.default_rng(5)
    model = c.Sequential(
        c.Conv2d(1, 4, 3, pad=1, rng=rng), c.ReLU(), c.MaxPool2d(2),
        c.Flatten(), c.Linear(4 * 3 * 3, 5, rng=rng),
    )
    x = rng.standard_normal((3, 1, 6, 6))
    y = np.array([0, 4, 2])

    def loss_at(inputs):
        return c.softmax_cross_entropy(model.forward(inputs), y)[0]

    _, dscores = c.softmax_cross_entropy(model.forward(x), y)
    model.zero_grad()
    dx = model.backward(dscores)
    assert c.rel_error(dx, c.numerical_gradient(loss_at, x.copy())) < 1e-5
    names = []
    for name, p in model.named_parameters():
        numeric = c.numerical_gradient(lambda _: loss_at(x), p.data)
        assert c.rel_error(p.grad, numeric) < 1e-5, name
        names.append(name)
    assert names == ["0.weight", "0.bias", "4.weight", "4.bias"]


def _residual_body(rng, channels=2):
    return c.Sequential(
        c.Conv2d(channels, channels, 3, pad=1, rng=rng), c.ReLU(),
        c.Conv2d(channels, channels, 3, pad=1, rng=rng),
    )


def test_residual_gradient_is_the_body_gradient_plus_the_skip():
    rng = np.random.default_rng(6)
    body = _residual_body(rng)
    block = c.Residual(body)
    x = rng.standard_normal((2, 2, 5, 5))
    dout = rng.standard_normal((2, 2, 5, 5))
    out = block.forward(x)
    np.testing.assert_allclose(out, body.forward(x) + x)
    block.zero_grad()
    body.forward(x)
    through_body = body.backward(dout)
    body.zero_grad()
    block.forward(x)
    np.testing.assert_allclose(block.backward(dout), through_body + dout)
    check_module(block, x, rng)


def test_residual_refuses_a_body_that_changes_the_shape():
    block = c.Residual(c.Conv2d(2, 3, 1, rng=0))
    with pytest.raises(ValueError, match="shape"):
        block.forward(np.zeros((1, 2, 4, 4)))


def test_parallel_concatenates_outputs_and_splits_the_gradient():
    rng = np.random.default_rng(7)
    branches = [
        c.Sequential(c.Conv2d(3, 1, 1, rng=rng), c.ReLU()),
        c.Sequential(c.Conv2d(3, 2, 3, pad=1, rng=rng), c.ReLU()),
        c.Sequential(c.Conv2d(3, 3, 5, pad=2, rng=rng), c.ReLU()),
    ]
    block = c.Parallel(*branches)
    x = rng.standard_normal((2, 3, 5, 5))
    out = block.forward(x)
    assert out.shape == (2, 6, 5, 5)
    expected = [branch.forward(x) for branch in branches]
    np.testing.assert_allclose(out, np.concatenate(expected, axis=1))

    dout = rng.standard_normal(out.shape)
    block.zero_grad()
    block.forward(x)
    dx = block.backward(dout)
    # each branch must see exactly its own channels of dout
    total = np.zeros_like(x)
    for branch, lo, hi in zip(branches, [0, 1, 3], [1, 3, 6], strict=True):
        grads_seen = [p.grad.copy() for p in branch.parameters()]
        branch.zero_grad()
        branch.forward(x)
        total += branch.backward(dout[:, lo:hi])
        for seen, p in zip(grads_seen, branch.parameters(), strict=True):
            np.testing.assert_allclose(seen, p.grad)
    np.testing.assert_allclose(dx, total)
    check_module(block, x, rng)


def test_state_dict_round_trip_copies_and_restores():
    rng = np.random.default_rng(8)

    def make():
        return c.Sequential(c.Conv2d(1, 2, 3, rng=rng), c.ReLU(), c.Flatten(),
                            c.Linear(2 * 4 * 4, 3, rng=rng))

    a, b = make(), make()
    x = rng.standard_normal((2, 1, 6, 6))
    assert not np.allclose(a.forward(x), b.forward(x))
    state = a.state_dict()
    assert sorted(state) == ["0.bias", "0.weight", "3.bias", "3.weight"]
    weight_before = b[0].weight.data
    b.load_state_dict(state)
    np.testing.assert_array_equal(a.forward(x), b.forward(x))
    assert b[0].weight.data is weight_before  # loaded in place: optimizers keep working
    state["0.weight"][...] = 0  # the dict holds copies, not the model's arrays
    assert np.any(a[0].weight.data != 0)


def test_load_state_dict_refuses_missing_keys_and_wrong_shapes():
    model = c.Sequential(c.Linear(4, 3, rng=0))
    state = model.state_dict()
    with pytest.raises(KeyError):
        model.load_state_dict({"0.weight": state["0.weight"]})
    with pytest.raises(ValueError, match="shape"):
        model.load_state_dict({"0.weight": np.zeros((3, 4)), "0.bias": state["0.bias"]})


def test_dropout_is_the_identity_in_eval_and_inverted_in_train():
    x = np.random.default_rng(9).standard_normal((200, 50)) + 3.0
    drop = c.Dropout(0.3, rng=0)
    np.testing.assert_array_equal(drop.eval().forward(x), x)
    np.testing.assert_array_equal(drop.backward(x), x)
    out = drop.train().forward(x)
    kept = out != 0
    assert abs(1 - kept.mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[kept], x[kept] / 0.7)
    dout = np.ones_like(x)
    np.testing.assert_allclose(drop.backward(dout), kept / 0.7)  # the same mask
    with pytest.raises(ValueError):
        c.Dropout(1.0)


def test_train_and_eval_reach_nested_modules():
    drop = c.Dropout(0.5, rng=0)
    model = c.Sequential(c.Residual(c.Sequential(drop)), c.Parallel(c.ReLU()))
    assert model.eval() is model and not drop.training
    assert model.train() is model and drop.training


def test_backward_accumulates_and_zero_grad_clears():
    rng = np.random.default_rng(10)
    layer = c.Linear(3, 2, rng=rng)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    layer.forward(x)
    layer.backward(dout)
    once = layer.weight.grad.copy()
    layer.backward(dout)
    np.testing.assert_allclose(layer.weight.grad, 2 * once)
    layer.zero_grad()
    assert not layer.weight.grad.any() and not layer.bias.grad.any()


def test_a_module_used_twice_lists_its_parameters_once():
    layer = c.Linear(3, 3, rng=0)
    model = c.Sequential(layer, c.ReLU(), layer)
    assert len(model.parameters()) == 2


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_follows_the_parameters(dtype):
    rng = np.random.default_rng(11)
    model = c.Sequential(
        c.Conv2d(1, 2, 3, pad=1, rng=rng, dtype=dtype), c.ReLU(), c.MaxPool2d(2),
        c.Flatten(), c.Linear(2 * 2 * 2, 3, rng=rng, dtype=dtype),
    )
    x = rng.standard_normal((2, 1, 4, 4)).astype(dtype)
    out = model.forward(x)
    assert out.dtype == dtype
    _, dscores = c.softmax_cross_entropy(out, np.array([0, 2]))
    dx = model.backward(dscores)
    assert dx.dtype == dtype
    assert all(p.data.dtype == dtype and p.grad.dtype == dtype for p in model.parameters())



def test_pools_share_a_base_class_and_average_is_not_max():
    assert issubclass(c.MaxPool2d, c.Pool2d) and issubclass(c.AvgPool2d, c.Pool2d)
    assert not isinstance(c.AvgPool2d(2), c.MaxPool2d)
    assert not isinstance(c.MaxPool2d(2), c.AvgPool2d)
    assert repr(c.AvgPool2d(3, stride=1)) == "AvgPool2d(3, stride=1)"


def test_modules_report_their_geometry():
    from cnnlib.shapes import Window

    assert c.Conv2d(3, 4, (3, 5), stride=(2, 1), pad=1, rng=0).window == Window(
        (3, 5), (2, 1), (1, 1))
    assert c.MaxPool2d(2).window == Window((2, 2), (2, 2), (0, 0))  # stride: the kernel
    assert c.AvgPool2d((3, 2), stride=1).window == Window((3, 2), (1, 1), (0, 0))
    for module in (c.ReLU(), c.Tanh(), c.Dropout(0.5), c.Sequential(c.ReLU())):
        assert module.window is None and not module.flattens
    assert c.Flatten().flattens and c.Linear(2, 3, rng=0).flattens


def test_conv_and_pool_modules_take_remainders_like_torch():
    x = np.random.default_rng(13).standard_normal((2, 3, 8, 8))
    assert c.Conv2d(3, 4, 3, stride=2, pad=1, rng=0).forward(x).shape == (2, 4, 4, 4)
    assert c.MaxPool2d(3).forward(x).shape == (2, 3, 2, 2)  # rows 6 and 7 dropped
    assert c.AvgPool2d(3, stride=2).forward(x).shape == (2, 3, 3, 3)
