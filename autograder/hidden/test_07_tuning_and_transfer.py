"""Hidden tests for 07_tuning_and_transfer: grid and random search, learning-curve
diagnosis, the transfer-learning table and the frozen SGD step.

Every ``student.<name>(...)`` call runs in the sandbox; expected values come from the
reference ``cnnlib`` in this (trusted) process. Random configurations cannot be compared
value by value (the order of the draws is the student's choice), so their tests check
ranges, reproducibility and the distribution instead. Random inputs come from the run's
seed (``_checks.rng``); messages never print them nor an expected value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _checks import raises_value_error, rng

import cnnlib

pytestmark = pytest.mark.a3_cnns


# --------------------------------------------------------------------------------------
# grid_configs
# --------------------------------------------------------------------------------------

def _check_grid(student, space, what):
    expected = cnnlib.grid_configs(space)
    got = student.grid_configs(space)
    assert isinstance(got, (list, tuple)), (
        f"{what}: return a list of dicts, got {type(got).__name__}")
    got = list(got)
    if len(got) != len(expected):
        sizes = [len(v) for v in space.values()]
        hint = ""
        if len(got) == min(sizes):
            hint = ": the value lists were paired up (zip) instead of combined"
        elif len(got) == sum(sizes):
            hint = ": the values were listed one key at a time instead of combined"
        raise AssertionError(f"{what}: {len(got)} configurations, not one per combination "
                             f"({' x '.join(map(str, sizes))}){hint}")
    for i, config in enumerate(got):
        assert isinstance(config, dict), (
            f"{what}: item {i} is a {type(config).__name__}, not a dict")
        assert list(config) == list(space), (
            f"{what}: configuration {i} has keys {list(config)}: use the keys of space, in "
            "its order")
    if got != expected:
        keys = list(space)
        flipped = cnnlib.grid_configs({k: space[k] for k in reversed(keys)})
        if [tuple(c[k] for k in keys) for c in got] == [tuple(c[k] for k in keys) for c in flipped]:
            raise AssertionError(f"{what}: the first key varies fastest; the last key should "
                                 "(nested loops with the first key outermost)")
        if sorted(map(repr, got)) == sorted(map(repr, expected)):
            raise AssertionError(f"{what}: the right configurations in the wrong order: the "
                                 "first key outermost, the last key varying fastest")
        first = next(i for i, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        raise AssertionError(f"{what}: configuration #{first} is {got[first]}, not the "
                             "combination the nested loops reach there (first key outermost, "
                             "last key fastest)")


@pytest.mark.grade(grade_id="test_grid_configs", points=1)
def test_grid_configs_like_nested_loops(student):
    _check_grid(student, {"weight_decay": [1e-4, 1e-3, 1e-2, 1e-1],
                          "lr": [1e-4, 1e-3, 1e-2, 1e-1]}, "the lecture's 4 x 4 grid")
    _check_grid(student, {"lr": [0.3, 0.1], "batch": [16, 32, 64]}, "a 2 x 3 grid")
    _check_grid(student, {"a": [1, 2], "b": [3, 4], "c": [5, 6], "d": [7, 8, 9]}, "four keys")


@pytest.mark.grade(grade_id="test_grid_configs", points=1)
def test_grid_configs_edge_cases(student):
    _check_grid(student, {"lr": [0.1, 0.01, 0.001]}, "a single key")
    _check_grid(student, {"x": [1], "y": [2], "z": [3]}, "one value per key")
    _check_grid(student, {"opt": ["sgd", "adam"], "nesterov": [True, False], "p": [None, 0.5]},
                "values of any type (strings, booleans, None)")
    _check_grid(student, {"z": [3, 1, 2], "a": [0.5, -1.0]}, "keys not in alphabetical order")


# --------------------------------------------------------------------------------------
# random_configs
# --------------------------------------------------------------------------------------

SPACE = {"lr": (1e-5, 1.0, "log"), "momentum": (0.5, 0.99, "linear"),
         "weight_decay": (1e-6, 1e-2, "log")}


def _configs(student, space, n, **kw) -> list[dict]:
    got = student.random_configs(space, n, **kw)
    assert isinstance(got, (list, tuple)) and len(got) == n, (
        f"random_configs(space, {n}) should return a list of {n} dicts; got "
        + (f"{len(got)} items" if isinstance(got, (list, tuple)) else type(got).__name__))
    for i, config in enumerate(got):
        assert isinstance(config, dict) and list(config) == list(space), (
            f"configuration {i} should be a dict with the keys of space, in its order")
    return list(got)


def _seed(gen) -> int:
    """A seed to hand to the student's random_configs."""
    return int(gen.integers(0, 2**31 - 2))


@pytest.mark.grade(grade_id="test_random_configs", points=0.5)
def test_random_configs_in_range(student):
    gen = rng(70)
    for config in _configs(student, SPACE, 200, seed=_seed(gen)):
        for name, (low, high, scale) in SPACE.items():
            value = config[name]
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (
                f"{name} should be a float, got {type(value).__name__}")
            assert low <= value <= high, (
                f"{name} = {value} is outside its range [low, high]"
                + (": for a log scale draw the exponent between log(low) and log(high), then "
                   "exponentiate" if scale == "log" else ""))
    narrow = _configs(student, {"a": (2.0, 2.0 + 1e-9, "linear"), "b": (3.0, 3.0001, "log")},
                      5, seed=_seed(gen))
    assert all(2.0 <= c["a"] <= 2.0 + 1e-9 and 3.0 <= c["b"] <= 3.0001 for c in narrow), (
        "values must stay in [low, high] even for narrow ranges")


@pytest.mark.grade(grade_id="test_random_configs", points=0.5)
def test_random_configs_reproducible(student):
    seed = _seed(rng(71))
    first = _configs(student, SPACE, 20, seed=seed)
    assert first == _configs(student, SPACE, 20, seed=seed), (
        "the same seed must give the same configurations: draw every value from "
        "np.random.default_rng(seed)")
    assert first != _configs(student, SPACE, 20, seed=seed + 1), (
        "a different seed gave the same configurations: is the seed used?")
    default = _configs(student, SPACE, 4)
    assert default == _configs(student, SPACE, 4, seed=0), "seed defaults to 0"
    assert len({c["lr"] for c in first}) == 20, (
        "20 random trials should try 20 distinct learning rates (each config draws anew)")
    assert len({c["momentum"] for c in first}) == 20, "each config draws every key anew"


@pytest.mark.grade(grade_id="test_random_configs", points=1)
def test_random_configs_distribution(student):
    space = {"lr": (1e-4, 1e-1, "log"), "p": (-2.0, 6.0, "linear")}
    configs = _configs(student, space, 3000, seed=_seed(rng(72)))
    lrs = np.array([c["lr"] for c in configs], dtype=np.float64)
    shares = np.histogram(np.log10(lrs), bins=[-4, -3, -2, -1])[0] / len(lrs)
    if shares[2] > 0.8:
        raise AssertionError(f"{shares[2]:.0%} of the log-scale draws fall in [1e-2, 1e-1]: "
                             "the value is uniform, not its logarithm (log-uniform: draw the "
                             "exponent uniformly)")
    assert np.allclose(shares, 1 / 3, atol=0.05), (
        f"log-uniform on [1e-4, 1e-1] puts about 1/3 of the draws in each decade; got {shares}")
    p = np.array([c["p"] for c in configs], dtype=np.float64)
    if np.mean(p < 0) > 0.5:
        raise AssertionError("linear draws look log-shaped: the linear scale is a plain uniform")
    quarter_shares = np.histogram(p, bins=[-2, 0, 2, 4, 6])[0] / len(p)
    assert np.allclose(quarter_shares, 0.25, atol=0.05), (
        f"uniform on [-2, 6] puts a quarter of the draws in each quarter; got {quarter_shares}")


# --------------------------------------------------------------------------------------
# diagnose_curves
# --------------------------------------------------------------------------------------

CURVES = [  # (train_acc, val_acc, keyword arguments, what the curves are like)
    ([0.1, 0.3, 0.5], [0.1, 0.3, 0.5], {}, "curves that stay low"),
    ([0.5, 0.8, 0.95, 1.0], [0.5, 0.6, 0.66, 0.62], {}, "validation far below training"),
    ([0.5, 0.9, 0.97], [0.5, 0.88, 0.93], {}, "high curves close together"),
    ([0.99, 0.4], [0.99, 0.4], {}, "curves that collapse in the last epoch"),
    ([0.3, 0.95], [0.3, 0.5], {}, "a wide gap at the end"),
    ([0.9, 0.95], [0.9, 0.8], {"gap": 0.2}, "a gap, with a gap threshold given"),
    ([0.9, 0.95], [0.9, 0.8], {"gap": 0.1}, "a gap, with another gap threshold given"),
    ([0.9, 0.85], [0.9, 0.85], {"low": 0.9}, "close curves, with low given"),
    ([0.7], [0.2], {"low": 0.6, "gap": 0.3}, "one epoch, with low and gap given"),
    ([1.0], [0.95], {}, "one epoch at the top"),
    ([0.79], [0.2], {}, "one epoch with a wide gap"),
]


@pytest.mark.grade(grade_id="test_diagnose_curves", points=1)
def test_diagnose_curves_cases(student):
    for train_acc, val_acc, kw, call in CURVES:
        expected = cnnlib.diagnose_curves(train_acc, val_acc, **kw)
        got = student.diagnose_curves(train_acc, val_acc, **kw)
        if got != expected:
            hint = ""
            if expected == "underfitting":
                hint = ": the final training accuracy is below low"
                if max(train_acc) >= kw.get("low", 0.8):
                    hint += " (the last epoch counts, not the best)"
            elif expected == "overfitting":
                hint = ": final train - final val is above gap"
            elif got == "overfitting":
                hint = ": the gap is not above the threshold (use the gap argument, and >)"
            elif got == "underfitting":
                hint = ": the final training accuracy is not below low (use the low argument)"
            raise AssertionError(f"{call}: your {got!r} is wrong{hint}")


@pytest.mark.grade(grade_id="test_diagnose_curves", points=1)
def test_diagnose_curves_boundaries_and_order(student):
    # exact binary fractions, so the boundary is really hit
    assert student.diagnose_curves([0.5, 0.75], [0.5, 0.625], low=0.5, gap=0.125) == "good", (
        "train - val equals gap exactly (0.125): not overfitting, the gap must be *greater*")
    assert student.diagnose_curves([0.5], [0.5], low=0.5) == "good", (
        "train equals low exactly: not underfitting, it must be *below* low")
    got = student.diagnose_curves([0.6], [0.1])
    assert got == "underfitting", (
        f"a training accuracy below low with a wide gap gives {got!r}: check underfitting "
        "first; a model that does not fit its training data is underfitting whatever its gap")
    got = student.diagnose_curves(np.array([0.2, 0.9]), np.array([0.2, 0.85]))
    assert got == "good", (
        f"numpy arrays of accuracies (high and close at the end): your {got!r} is wrong; "
        "take the final entries of any sequence")


# --------------------------------------------------------------------------------------
# transfer_strategy
# --------------------------------------------------------------------------------------

@pytest.mark.grade(grade_id="test_transfer_strategy", points=0.75)
def test_transfer_table(student):
    cases = [(size, sim) for size in ("little", "lots") for sim in ("similar", "different")]
    answers = {case: cnnlib.transfer_strategy(*case) for case in cases}
    for case in cases:
        got = student.transfer_strategy(*case)
        if got != answers[case] and got in answers.values():
            raise AssertionError(f"transfer_strategy{case} = {got!r}: that is the lecture's "
                                 "answer for another case (rows: data size, columns: "
                                 "similarity)")
        assert got == answers[case], (
            f"transfer_strategy{case} = {got!r}, which is none of the lecture's four answers")


@pytest.mark.grade(grade_id="test_transfer_strategy", points=0.25)
def test_transfer_refuses_unknown_cases(student):
    for bad in (("some", "similar"), ("lots", "same"), ("Little", "similar"), ("", "")):
        ok, what = raises_value_error(lambda bad=bad: student.transfer_strategy(*bad))
        assert ok, f"transfer_strategy{bad} {what}; expected a ValueError for an unknown case"


# --------------------------------------------------------------------------------------
# finetune_step
# --------------------------------------------------------------------------------------

def _model_like(gen):
    shapes = {"0.weight": (4, 1, 3, 3), "0.bias": (4,), "3.weight": (8, 4, 3, 3),
              "3.bias": (8,), "7.weight": (32, 5), "7.bias": (5,)}
    params = {k: gen.normal(size=s) for k, s in shapes.items()}
    grads = {k: gen.normal(size=s) for k, s in shapes.items()}
    return params, grads


def _check_step(student, params, grads, lr, frozen, what):
    expected = cnnlib.finetune_step(params, grads, lr, frozen=frozen)
    got = student.finetune_step(params, grads, lr, frozen=frozen)
    assert isinstance(got, dict) and set(got) == set(params), (
        f"{what}: return a dict with every parameter name; got "
        + (f"names {sorted(got)}" if isinstance(got, dict) else type(got).__name__))
    for name in params:
        value = np.asarray(got[name], dtype=np.float64)
        assert value.shape == params[name].shape, (
            f"{what}: {name} has shape {value.shape}, expected {params[name].shape}")
        if np.allclose(value, expected[name], rtol=1e-12, atol=1e-12):
            continue
        if name in frozen:
            raise AssertionError(f"{what}: the frozen parameter {name} changed; frozen names "
                                 "keep their values")
        if np.allclose(value, params[name]):
            raise AssertionError(f"{what}: {name} is not frozen but was not updated")
        if np.allclose(value, params[name] + lr * grads[name]):
            raise AssertionError(f"{what}: {name} moved up the gradient: subtract lr * grad")
        raise AssertionError(f"{what}: {name} should be params - lr * grads")


@pytest.mark.grade(grade_id="test_finetune_step", points=1)
def test_finetune_step_frozen_and_trainable(student):
    params, grads = _model_like(rng(40))
    features = ("0.weight", "0.bias", "3.weight", "3.bias")
    _check_step(student, params, grads, 0.1, features, "frozen features, new head")
    _check_step(student, params, grads, 0.05, (), "finetune everything (frozen=())")
    _check_step(student, params, grads, 1e-3, ("7.weight", "7.bias"), "only the head frozen")
    _check_step(student, params, grads, 0.5, list(params), "everything frozen")
    _check_step(student, params, grads, 0.3, ["3.bias"], "one name, as a list")


@pytest.mark.grade(grade_id="test_finetune_step", points=0.5)
def test_finetune_step_large_values_and_default(student):
    params, grads = _model_like(rng(41))
    params = {k: 1e6 * v for k, v in params.items()}
    _check_step(student, params, grads, 2.0, ("0.weight",), "parameters of size 1e6")
    got = student.finetune_step(params, grads, 0.1)
    for name in params:
        value = np.asarray(got[name], dtype=np.float64)
        assert np.allclose(value, params[name] - 0.1 * grads[name], rtol=1e-12), (
            f"with frozen left out (default ()), {name} should be updated")


@pytest.mark.grade(grade_id="test_finetune_step", points=0.5)
def test_finetune_step_leaves_its_inputs_alone(student):
    # the sandbox gets copies, so in-place changes are caught by calling twice: a second call
    # on the same inputs must give the same result, and frozen values equal the originals.
    params, grads = _model_like(rng(42))
    frozen = ("0.weight", "0.bias")
    first = student.finetune_step(params, grads, 0.2, frozen=frozen)
    for name in frozen:
        assert np.array_equal(np.asarray(first[name]), params[name]), (
            f"frozen {name} must be an unchanged copy")
    trained = {k: np.asarray(v) for k, v in first.items()}
    second = student.finetune_step(trained, grads, 0.2, frozen=frozen)
    for name in params:
        expected = params[name] if name in frozen else params[name] - 0.4 * grads[name]
        value = np.asarray(second[name], dtype=np.float64)
        assert np.allclose(value, expected, rtol=1e-12, atol=1e-12), (
            f"two steps from the result of the first: {name} is off (each step should be "
            "params - lr * grads for the names it trains)")
    assert math.isfinite(float(np.sum([np.sum(v) for v in second.values()])))
