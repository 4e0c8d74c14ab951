"""cnnlib.tuning: grid and random search, learning-curve diagnosis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib import (
    diagnose_curves,
    grid_configs,
    random_configs,
)

pytestmark = pytest.mark.nb07_tuning_and_transfer


def test_grid_of_the_lecture_is_four_by_four_last_key_fastest():
    powers = [1e-4, 1e-3, 1e-2, 1e-1]
    configs = grid_configs({"weight_decay": powers, "lr": powers})
    assert len(configs) == 16
    assert configs[0] == {"weight_decay": 1e-4, "lr": 1e-4}
    assert configs[1] == {"weight_decay": 1e-4, "lr": 1e-3}
    assert configs[4] == {"weight_decay": 1e-3, "lr": 1e-4}
    assert [list(c) for c in configs] == [["weight_decay", "lr"]] * 16
    # a 4x4 grid tries only 4 distinct values of each hyperparameter
    assert len({c["lr"] for c in configs}) == 4


@given(st.lists(st.integers(1, 3), min_size=1, max_size=4))
def test_grid_is_the_nested_loop(sizes):
    space = {f"h{i}": list(range(10 * i, 10 * i + n)) for i, n in enumerate(sizes)}
    configs = grid_configs(space)
    assert len(configs) == math.prod(sizes)
    assert len({tuple(c.values()) for c in configs}) == len(configs)
    # nested loops with the first key outermost give lexicographic order of the tuples
    tuples = [tuple(c.values()) for c in configs]
    assert tuples == sorted(tuples)


SPACE = {"lr": (1e-4, 1e-1, "log"), "momentum": (0.5, 0.99, "linear")}


def test_random_configs_are_in_range_reproducible_and_distinct():
    configs = random_configs(SPACE, 16, seed=3)
    assert len(configs) == 16 and all(list(c) == ["lr", "momentum"] for c in configs)
    for c in configs:
        assert 1e-4 <= c["lr"] <= 1e-1 and 0.5 <= c["momentum"] <= 0.99
    assert configs == random_configs(SPACE, 16, seed=3)
    assert configs != random_configs(SPACE, 16, seed=4)
    # the same 16 trials as a 4x4 grid try 16 distinct values of each hyperparameter
    assert len({c["lr"] for c in configs}) == 16


def test_log_scale_is_uniform_in_the_exponent():
    lrs = np.array([c["lr"] for c in random_configs({"lr": (1e-4, 1e-1, "log")}, 3000)])
    decades = np.histogram(np.log10(lrs), bins=[-4, -3, -2, -1])[0] / len(lrs)
    np.testing.assert_allclose(decades, [1 / 3] * 3, atol=0.04)  # uniform: 0.001/0.009/0.99
    lin = np.array([c["x"] for c in random_configs({"x": (1e-4, 1e-1, "linear")}, 3000)])
    assert np.mean(lin < 1e-2) < 0.15  # uniform: under 10 % below 0.01


def test_random_configs_refuse_bad_ranges():
    for bad in ({"a": (0.0, 1.0, "log")}, {"a": (1.0, 0.1, "linear")}, {"a": (1, 2, "cubic")}):
        with pytest.raises(ValueError):
            random_configs(bad, 2)


@pytest.mark.parametrize("train,val,expected", [
    ([0.3, 0.5, 0.6], [0.3, 0.5, 0.6], "underfitting"),
    ([0.5, 0.9, 1.0], [0.5, 0.7, 0.75], "overfitting"),
    ([0.5, 0.9, 0.97], [0.5, 0.88, 0.93], "good"),
    ([0.9, 0.79], [0.9, 0.2], "underfitting"),  # the final epoch counts, not the best
    ([0.2, 0.8], [0.2, 0.75], "good"),  # exactly `low` is not underfitting
])
def test_diagnose_curves(train, val, expected):
    assert diagnose_curves(train, val) == expected


def test_diagnose_curves_gap_is_strict_and_thresholds_are_used():
    # 0.75 - 0.625 == 0.125 exactly in binary floating point
    assert diagnose_curves([0.75], [0.625], low=0.5, gap=0.125) == "good"
    assert diagnose_curves([0.75], [0.624], low=0.5, gap=0.125) == "overfitting"
    assert diagnose_curves(np.array([0.75]), np.array([0.7]), low=0.9) == "underfitting"

