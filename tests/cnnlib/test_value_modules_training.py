"""Value, modules, optimizers and training."""

import math

import numpy as np
import pytest

import cnnlib as c


def _centred(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.a1_backprop
@pytest.mark.parametrize(
    "op",
    [
        lambda v: v * v + 3 * v,
        lambda v: (v**3) / (v + 5),
        lambda v: (-v).exp() - 2,
        lambda v: v.sigmoid() * v.relu(),
        lambda v: 1 / (1 + (-v).exp()),
        lambda v: v.max(v * 2 - 1),
        lambda v: 2 - v,
    ],
)
@pytest.mark.parametrize("x", [-1.3, 0.7, 2.1])
def test_each_value_op_matches_a_centred_difference(op, x):
    node = c.Value(x)
    out = op(node)
    out.backward()
    numeric = _centred(lambda t: op(c.Value(t)).data, x)
    assert node.grad == pytest.approx(numeric, rel=1e-5, abs=1e-7)


@pytest.mark.a1_backprop
def test_gradient_flow_patterns():
    a, b = c.Value(3.0), c.Value(-4.0)
    (a + b).backward()
    assert (a.grad, b.grad) == (1.0, 1.0)  # add distributes
    a, b = c.Value(3.0), c.Value(-4.0)
    (a * b).backward()
    assert (a.grad, b.grad) == (-4.0, 3.0)  # mul swaps
    a, b = c.Value(3.0), c.Value(-4.0)
    a.max(b).backward()
    assert (a.grad, b.grad) == (1.0, 0.0)  # max routes


@pytest.mark.a1_backprop
def test_reused_node_accumulates_and_zero_grad_allows_a_second_pass():
    a, b = c.Value(2.0), c.Value(-3.0)
    out = a * b + a  # a is used twice: the copy gate adds its gradients
    out.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)
    out.zero_grad()
    assert (a.grad, b.grad, out.grad) == (0.0, 0.0, 0.0)
    out.backward()
    assert (a.grad, b.grad) == (-2.0, 2.0)


def _model(rng, dtype=np.float64):
    return c.Sequential(
        c.Conv2d(1, 3, 3, pad=1, rng=rng, dtype=dtype), c.ReLU(), c.MaxPool2d(2),
        c.Conv2d(3, 2, (2, 1), stride=(1, 1), rng=rng, dtype=dtype), c.Tanh(),
        c.Flatten(), c.Linear(2 * 3 * 4, 4, rng=rng, dtype=dtype),
    )


@pytest.mark.a3_cnns
def test_a_whole_small_cnn_has_correct_gradients():
    rng = np.random.default_rng(0)
    model = _model(rng)
    x = rng.standard_normal((2, 1, 8, 8))
    y = np.array([1, 3])

    def loss_of(_):
        return np.array(c.softmax_cross_entropy(model.forward(x), y)[0])

    loss, dscores = c.softmax_cross_entropy(model.forward(x), y)
    model.zero_grad()
    dx = model.backward(dscores)
    assert c.rel_error(dx, c.numerical_gradient(lambda t: np.array(
        c.softmax_cross_entropy(model.forward(t), y)[0]), x)) < 1e-5
    for name, p in model.named_parameters():
        numeric = c.numerical_gradient(loss_of, p.data)
        assert c.rel_error(p.grad, numeric) < 1e-5, name


@pytest.mark.a3_cnns
def test_residual_adds_the_skip_gradient_and_parallel_splits_it():
    rng = np.random.default_rng(1)
    body = c.Sequential(c.Conv2d(2, 2, 3, pad=1, rng=rng), c.ReLU())
    block = c.Residual(body)
    x = rng.standard_normal((1, 2, 4, 4))
    dout = rng.standard_normal((1, 2, 4, 4))
    block.forward(x)
    dx = block.backward(dout)
    body.forward(x)
    assert np.allclose(dx, body.backward(dout) + dout)
    branches = c.Parallel(c.Conv2d(2, 1, 1, rng=rng), c.Conv2d(2, 3, 3, pad=1, rng=rng))
    out = branches.forward(x)
    assert out.shape == (1, 4, 4, 4)
    numeric = c.numerical_gradient(branches.forward, x, np.ones_like(out))
    assert c.rel_error(branches.backward(np.ones_like(out)), numeric) < 1e-7


@pytest.mark.a3_cnns
def test_state_dict_round_trip_and_dropout_eval_identity():
    rng = np.random.default_rng(2)
    a, b = _model(rng), _model(rng)
    x = rng.standard_normal((2, 1, 8, 8))
    assert not np.allclose(a.forward(x), b.forward(x))
    b.load_state_dict(a.state_dict())
    assert np.array_equal(a.forward(x), b.forward(x))
    drop = c.Dropout(0.5, rng=0)
    assert np.array_equal(drop.eval().forward(x), x)
    dropped = drop.train().forward(np.ones((1000,)))
    assert set(np.unique(dropped)) == {0.0, 2.0}


@pytest.mark.a3_cnns
def test_momentum_and_adam_steps_by_hand():
    w, dw, v = np.array([1.0, -2.0]), np.array([0.5, -1.0]), np.array([0.1, 0.0])
    w_new, v_new = c.sgd_momentum_update(w, dw, v, lr=0.1, momentum=0.9)
    assert np.allclose(v_new, [0.09 - 0.05, 0.1]) and np.allclose(w_new, w + v_new)
    w_new, m, s = c.adam_update(w, dw, np.zeros(2), np.zeros(2), t=1, lr=0.01)
    # with bias correction the first step moves each weight by ~lr against its gradient
    assert np.allclose(w_new, w - 0.01 * np.sign(dw), atol=1e-6)
    assert np.allclose(m, 0.1 * dw) and np.allclose(s, 0.001 * dw**2)


@pytest.mark.a3_cnns
@pytest.mark.parametrize("make", [lambda p: c.SGD(p, lr=0.1),
                                  lambda p: c.SGDMomentum(p, lr=0.05),
                                  lambda p: c.Adam(p, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    target = np.array([3.0, -1.0])
    param = c.Parameter(np.zeros(2))
    opt = make([param])
    for _ in range(300):
        opt.zero_grad()
        param.grad += 2 * (param.data - target)
        opt.step()
    assert np.allclose(param.data, target, atol=1e-2)


@pytest.mark.a3_cnns
def test_training_sanity_checks_on_digits():
    data = c.load_digits()
    rng = np.random.default_rng(3)
    model = c.Sequential(c.Flatten(), c.Linear(64, 32, rng=rng), c.ReLU(),
                         c.Linear(32, 10, rng=rng))
    for p in model.parameters()[-2:]:
        p.data *= 0.01  # small final layer: near-uniform predictions
    loss, _ = c.softmax_cross_entropy(model.forward(data.x_train), data.y_train)
    assert loss == pytest.approx(math.log(10), rel=0.05)
    # overfit 20 examples
    x, y = data.x_train[:20], data.y_train[:20]
    opt = c.Adam(model.parameters(), lr=1e-2)
    losses = [c.train_step(model, x, y, opt) for _ in range(150)]
    assert losses[-1] < 0.05 < losses[0]
    assert c.evaluate(model, x, y) == 1.0
    history = c.train(model, c.SGD(model.parameters(), lr=0.05), data.x_train[:128],
                      data.y_train[:128], epochs=2, batch_size=32, x_val=data.x_val,
                      y_val=data.y_val, progress=False)
    assert len(history.loss) == 2 * 4 and len(history.train_acc) == len(history.val_acc) == 2


@pytest.mark.a3_cnns
def test_data_and_plots(tmp_path):
    data = c.load_digits()
    assert data.x_train.shape[1:] == (1, 8, 8) and data.x_train.dtype == np.float64
    assert len(data.y_train) + len(data.y_val) + len(data.y_test) == 1797
    assert abs(data.x_train.mean()) < 1e-9
    again = c.load_digits()
    assert np.array_equal(again.y_test, data.y_test)
    x, y, pos = c.make_shapes(10, size=12, seed=1)
    assert x.shape == (10, 1, 12, 12) and set(np.unique(x)) <= {0.0, 1.0}
    for i in range(10):
        r, col = pos[i]
        assert x[i, 0, r:r + 5, col:col + 5].sum() == x[i].sum() > 0
    from cnnlib.plots import plot_kernels, plot_learning_curves, save_figure

    fig = plot_learning_curves(c.History(loss=[3.0, 2.0, 1.0], train_acc=[0.5], val_acc=[0.4]))
    assert len(fig.axes) == 2
    assert save_figure(fig, tmp_path / "curves.png").stat().st_size > 1000
    assert len([a for a in plot_kernels(np.ones((3, 1, 3, 3))).axes if a.images]) == 3
