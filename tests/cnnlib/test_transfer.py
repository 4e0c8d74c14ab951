"""cnnlib.transfer: the lecture's transfer table and SGD with frozen parameters."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlib import (
    finetune_step,
    transfer_strategy,
)

pytestmark = pytest.mark.nb07_tuning_and_transfer


def test_transfer_table_of_the_lecture():
    assert transfer_strategy("little", "similar") == "linear_classifier_on_top"
    assert transfer_strategy("lots", "similar") == "finetune_few_layers"
    assert transfer_strategy("little", "different") == "linear_classifier_from_earlier_layers"
    assert transfer_strategy("lots", "different") == "finetune_many_layers"
    with pytest.raises(ValueError):
        transfer_strategy("some", "similar")


def test_finetune_step_updates_only_trainable_and_copies():
    rng = np.random.default_rng(0)
    params = {"0.weight": rng.normal(size=(2, 3)), "0.bias": rng.normal(size=2),
              "2.weight": rng.normal(size=(3, 4))}
    grads = {k: rng.normal(size=v.shape) for k, v in params.items()}
    before = {k: v.copy() for k, v in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    new = finetune_step(params, grads, 0.5, frozen=("0.weight", "0.bias"))
    assert list(new) == list(params)
    np.testing.assert_array_equal(new["0.weight"], before["0.weight"])
    assert new["0.weight"] is not params["0.weight"], "frozen values must be copies"
    np.testing.assert_allclose(new["2.weight"], before["2.weight"] - 0.5 * grads["2.weight"])
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        np.testing.assert_array_equal(grads[k], grads_before[k])
    everything = finetune_step(params, grads, 0.1)
    for k in params:
        np.testing.assert_allclose(everything[k], before[k] - 0.1 * grads[k])
    with pytest.raises(KeyError):
        finetune_step(params, grads, 0.1, frozen=("1.weight",))

