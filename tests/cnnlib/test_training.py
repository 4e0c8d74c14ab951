"""cnnlib.training: the training step, the loop, evaluation, and the lecture's sanity checks."""

import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import cnnlib as c
import cnnlib.optim
import cnnlib.training

pytestmark = pytest.mark.nb05_training_a_cnn


REPO = Path(__file__).resolve().parents[2]


def test_plain_sgd_and_train_never_call_a_graded_function(monkeypatch):
    # a3 notebooks use SGD and train() while the student edition raises for these.
    def refuse(*args, **kwargs):
        raise AssertionError("a graded function was called")

    for name in ("sgd_momentum_update", "adam_update"):
        monkeypatch.setattr(cnnlib.optim, name, refuse)
    monkeypatch.setattr(cnnlib.training, "train_step", refuse)
    rng = np.random.default_rng(1)
    model = c.Sequential(c.Linear(4, 3, rng=rng))
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    history = c.train(model, c.SGD(model.parameters(), lr=0.1), x, y, epochs=2,
                      batch_size=5, progress=False)
    assert len(history.loss) == 4


def test_train_runs_in_the_a3_student_edition(tmp_path):
    # The strongest form of the check above: the real student edition, in a fresh process.
    from autograder.student_edition import build_student_cnnlib

    build_student_cnnlib("a3_cnns", tmp_path, course_dir=REPO)
    script = textwrap.dedent("""
        import numpy as np, cnnlib as c
        rng = np.random.default_rng(0)
        model = c.Sequential(c.Flatten(), c.Linear(64, 10, rng=rng))
        x, y = rng.standard_normal((40, 1, 8, 8)), rng.integers(0, 10, 40)
        h = c.train(model, c.SGD(model.parameters(), lr=0.1), x, y, epochs=2,
                    batch_size=16, progress=False)
        assert len(h.loss) == 6 and 0 <= c.evaluate(model, x, y) <= 1
        for call in (lambda: c.train_step(model, x, y, c.SGD(model.parameters(), 0.1)),
                     lambda: c.sgd_momentum_update(x, x, x)):
            try:
                call()
            except NotImplementedError:
                continue
            raise SystemExit("a graded function ran in the student edition")
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _small_cnn(rng):
    return c.Sequential(
        c.Conv2d(1, 8, 3, pad=1, rng=rng), c.ReLU(), c.MaxPool2d(2),
        c.Flatten(), c.Linear(8 * 4 * 4, 10, rng=rng),
    )


@pytest.fixture(scope="module")
def digits():
    return c.load_digits()


def test_initial_loss_is_log_10_with_small_final_weights(digits):
    # "Backpropagation from first principles", the first sanity check: with small weights
    # the softmax is near uniform over 10 classes, so the loss starts at log 10 = 2.30.
    for seed in range(3):
        model = _small_cnn(np.random.default_rng(seed))
        model[-1].weight.data *= 0.01
        loss, _ = c.softmax_cross_entropy(model.forward(digits.x_train), digits.y_train)
        assert loss == pytest.approx(math.log(10), abs=0.02)


def test_train_step_returns_the_loss_before_the_update_and_zeroes_stale_grads(digits):
    rng = np.random.default_rng(3)
    x, y = digits.x_train[:16], digits.y_train[:16]
    a, b = _small_cnn(rng), _small_cnn(rng)
    b.load_state_dict(a.state_dict())
    for p in b.parameters():
        p.grad[...] = 1e3  # stale gradients that train_step must clear first
    before, _ = c.softmax_cross_entropy(a.forward(x), y)
    loss_a = c.train_step(a, x, y, c.SGD(a.parameters(), lr=0.1))
    loss_b = c.train_step(b, x, y, c.SGD(b.parameters(), lr=0.1))
    assert isinstance(loss_a, float) and loss_a == pytest.approx(before)
    assert loss_b == pytest.approx(before)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(pa.data, pb.data)
    after, _ = c.softmax_cross_entropy(a.forward(x), y)
    assert after < before


def test_a_cnn_overfits_20_examples(digits):
    # The second sanity check: a model that cannot fit 20 examples has a bug.
    rng = np.random.default_rng(4)
    model = _small_cnn(rng)
    x, y = digits.x_train[:20], digits.y_train[:20]
    history = c.train(model, c.Adam(model.parameters(), lr=1e-2), x, y, epochs=60,
                      batch_size=20, rng=0, progress=False)
    assert history.train_acc[-1] == 1.0 and c.evaluate(model, x, y) == 1.0
    assert history.loss[-1] < 0.05 < history.loss[0]


def test_history_lengths_and_no_output_without_progress(digits, capsys):
    rng = np.random.default_rng(5)
    model = _small_cnn(rng)
    x, y = digits.x_train[:130], digits.y_train[:130]
    history = c.train(model, c.SGD(model.parameters(), lr=0.05), x, y, epochs=3,
                      batch_size=32, x_val=digits.x_val[:50], y_val=digits.y_val[:50],
                      rng=0, progress=False)
    assert len(history.loss) == 3 * 5  # ceil(130 / 32) steps per epoch
    assert len(history.train_acc) == len(history.val_acc) == 3
    assert all(0.0 <= a <= 1.0 for a in history.train_acc + history.val_acc)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    no_val = c.train(model, c.SGD(model.parameters(), lr=0.05), x, y, epochs=1,
                     batch_size=64, progress=False)
    assert (len(no_val.loss), len(no_val.train_acc), no_val.val_acc) == (3, 1, [])


def test_train_is_reproducible_from_its_seed(digits):
    runs = []
    for _ in range(2):
        model = _small_cnn(np.random.default_rng(6))
        history = c.train(model, c.SGD(model.parameters(), lr=0.05), digits.x_train[:64],
                          digits.y_train[:64], epochs=2, batch_size=16, rng=7, progress=False)
        runs.append(history.loss)
    assert runs[0] == runs[1]


class _FixedScores(c.Module):
    """A 'model' whose scores are given: evaluate's arithmetic checked without training."""

    def __init__(self, predictions):
        self.predictions = np.asarray(predictions)

    def forward(self, x):
        scores = np.zeros((len(x), 3))
        scores[np.arange(len(x)), self.predictions[x[:, 0].astype(int)]] = 1.0
        return scores


def test_evaluate_counts_correct_predictions_in_any_batch_size():
    x = np.arange(10.0)[:, None]  # each row carries its own index
    model = _FixedScores([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    y = np.array([0, 1, 2, 1, 1, 1, 0, 0, 2, 2])  # 6 of 10 agree
    for batch_size in (1, 3, 256):
        assert c.evaluate(model, x, y, batch_size=batch_size) == 0.6


def test_evaluate_uses_eval_mode_and_restores_the_mode():
    drop = c.Dropout(0.9, rng=0)
    model = c.Sequential(c.Flatten(), drop, c.Linear(4, 2, rng=0))
    x = np.ones((50, 4))
    y = model.eval().forward(x).argmax(axis=1)  # what the deterministic model predicts
    model.train()
    assert c.evaluate(model, x, y) == 1.0  # dropout off during evaluation
    assert drop.training

