"""cnnlib.demo: the digits CNN that `make demo` trains (the training itself is timed in
benchmarks/bench_demo.py)."""

import numpy as np
import pytest

from cnnlib.demo import small_cnn

pytestmark = pytest.mark.nb05_training_a_cnn


def test_the_demo_cnn_maps_digits_to_ten_float32_scores_and_trains_every_layer():
    model = small_cnn(seed=0)
    x = np.random.default_rng(0).standard_normal((5, 1, 8, 8)).astype(np.float32)
    scores = model.forward(x)
    assert scores.shape == (5, 10) and scores.dtype == np.float32
    model.zero_grad()
    model.backward(np.ones_like(scores))
    assert all(p.grad.any() for p in model.parameters())
