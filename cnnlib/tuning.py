"""Choosing hyperparameters: grid search, random search, learning curves.

From the lecture "Backpropagation from first principles":

- ``grid_configs(space)``: every combination of a few values per hyperparameter
  ("evaluate all possible choices on this hyperparameter grid");
- ``random_configs(space, n, seed)``: ``n`` independent draws, each hyperparameter
  log-uniform or uniform on its range ("run many different trials"). With the same
  budget, random search tries ``n`` distinct values of *every* hyperparameter, where a
  grid tries only its few per axis: when one hyperparameter matters much more than the
  others, random search explores it far better;
- ``diagnose_curves(train_acc, val_acc)``: read a pair of learning curves the way the
  lecture's step 6 does: both low means underfitting, a large gap means overfitting.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["diagnose_curves", "grid_configs", "random_configs"]


def grid_configs(space: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """The cartesian product of a hyperparameter grid.

    Args:
        space: name -> list of values to try, e.g. ``{"lr": [1e-3, 1e-2], "wd": [0, 1e-4]}``.

    Returns:
        ``prod(len(values))`` dicts, each with the keys of ``space`` in its order; the last
        key varies fastest (like nested for-loops with the first key outermost).
    """
    # BEGIN SOLUTION a3_cnns
    names = list(space)
    combos = itertools.product(*(space[k] for k in names))  # last iterable varies fastest
    return [dict(zip(names, combo, strict=True)) for combo in combos]
    # END SOLUTION


def random_configs(
    space: Mapping[str, tuple[float, float, str]], n: int, seed: int = 0
) -> list[dict[str, float]]:
    """``n`` random hyperparameter configurations.

    Args:
        space: name -> ``(low, high, scale)`` with ``scale`` ``"log"`` (log-uniform: the
            exponent is uniform, for rates and decays spanning powers of ten; needs
            ``0 < low``) or ``"linear"`` (uniform).
        n: how many configurations.
        seed: seed of ``np.random.default_rng``: the same seed gives the same configs.

    Returns:
        ``n`` dicts, keys in the order of ``space``, float values in ``[low, high]``.

    Raises:
        ValueError: an unknown scale, ``low > high``, or a log range that is not positive.
    """
    # BEGIN SOLUTION a3_cnns
    draws = np.random.default_rng(seed)  # one stream: configs in order, keys in order
    for name, (low, high, scale) in space.items():
        if scale not in ("log", "linear") or low > high or (scale == "log" and low <= 0):
            raise ValueError(f"{name}: bad range ({low}, {high}, {scale!r})")
    configs = []
    for _ in range(n):
        config = {}
        for name, (low, high, scale) in space.items():
            if scale == "log":  # uniform in the exponent
                value = math.exp(draws.uniform(math.log(low), math.log(high)))
            else:
                value = draws.uniform(low, high)
            config[name] = float(min(max(value, low), high))  # exp(log(x)) may overshoot
        configs.append(config)
    return configs
    # END SOLUTION


def diagnose_curves(
    train_acc: Sequence[float], val_acc: Sequence[float], low: float = 0.8, gap: float = 0.1
) -> str:
    """Read per-epoch learning curves.

    Args:
        train_acc, val_acc: accuracy after each epoch, 1-D of the same length >= 1.
        low: a final training accuracy below this means the model does not even fit the
            training data.
        gap: a final train - val difference above this means it memorizes instead of
            generalising.

    Returns:
        ``"underfitting"`` if ``train_acc[-1] < low``; else ``"overfitting"`` if
        ``train_acc[-1] - val_acc[-1] > gap``; else ``"good"``.
    """
    # BEGIN SOLUTION a3_cnns
    if len(train_acc) == 0 or len(val_acc) == 0:
        raise ValueError("need at least one epoch of accuracies")
    final_train, final_val = float(train_acc[-1]), float(val_acc[-1])
    if final_train < low:
        return "underfitting"
    if final_train - final_val > gap:
        return "overfitting"
    return "good"
    # END SOLUTION
