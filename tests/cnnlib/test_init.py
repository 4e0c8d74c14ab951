"""cnnlib.init: He and Xavier scales, dtypes and seeds."""

import numpy as np
import pytest

import cnnlib as c

pytestmark = pytest.mark.nb05_training_a_cnn


def test_he_and_xavier_scales_and_zero_biases():
    w = c.he_init((400, 500), fan_in=400, rng=0)
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02) and abs(w.mean()) < 1e-3
    v = c.xavier_init((400, 500), fan_in=400, fan_out=500, rng=0)
    assert v.std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)
    assert c.he_init((3, 3), 9, rng=0, dtype=np.float32).dtype == np.float32
    conv = c.Conv2d(16, 32, 3, rng=1)
    assert conv.weight.data.std() == pytest.approx(np.sqrt(2 / (16 * 9)), rel=0.05)
    assert not conv.bias.data.any()


def test_an_int_seed_makes_initialisation_reproducible():
    np.testing.assert_array_equal(c.Linear(5, 4, rng=3).weight.data,
                                  c.Linear(5, 4, rng=3).weight.data)
    assert not np.array_equal(c.Linear(5, 4, rng=3).weight.data,
                              c.Linear(5, 4, rng=4).weight.data)

