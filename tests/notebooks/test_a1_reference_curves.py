"""The reference curves stored in a1's training sections are what the reference computes.

A student's training curve is drawn next to numbers stored in the notebook (the student
edition of a1 stubs the reference's layers and Value, so they cannot be computed there). So
that the stored numbers cannot go stale when the training code, the data or the reference
changes, each given training cell runs here with cnnlib's reference in place of the
student's functions.
"""

from __future__ import annotations

import math

import nbformat
import numpy as np
import pytest
from nbtools import SOLUTIONS

import cnnlib

pytestmark = pytest.mark.notebooks


def _given(notebook: str, cell_id: str, names: dict) -> dict:
    nb = nbformat.read(SOLUTIONS / "a1_backprop" / f"{notebook}.ipynb", as_version=4)
    (source,) = [c.source for c in nb.cells if c.get("id") == cell_id]
    namespace = {"np": np, "math": math, **names}
    exec(compile(source, f"{notebook}:{cell_id}", "exec"), namespace)  # noqa: S102 - our cell
    return namespace


@pytest.mark.nb01_computational_graphs
def test_the_stored_neuron_curve_is_the_reference_values():
    cell = _given("01_computational_graphs", "neuron-fit-setup", {})
    losses, weights = cell["fit_neuron"](cnnlib.Value)
    np.testing.assert_allclose(losses, cell["NEURON_REFERENCE"], rtol=0, atol=5.1e-5)
    assert len(weights) == len(losses) + 1


@pytest.mark.nb02_vector_backprop
def test_the_stored_network_curves_are_the_reference_layers():
    layers = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
              "softmax_cross_entropy")
    cell = _given("02_vector_backprop", "train-setup",
                  {name: getattr(cnnlib, name) for name in layers})
    history = cell["train_mlp"]()
    for curve in ("loss", "val_accuracy"):
        np.testing.assert_allclose(history[curve], cell["MLP_REFERENCE"][curve], rtol=0,
                                   atol=5.1e-5, err_msg=curve)
    assert abs(history["step_loss"][0] - math.log(10)) < 0.05  # the lecture's initial loss
