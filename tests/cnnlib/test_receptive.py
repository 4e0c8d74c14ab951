"""Receptive fields: the lecture's growth rule, published figures, and what backprop sees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from strategies import layer_lists

import cnnlib
from cnnlib import receptive_field, receptive_field_of, receptive_field_table

pytestmark = pytest.mark.nb05_training_a_cnn

# Published receptive fields (Araujo, Norris & Sim, "Computing Receptive Fields of
# Convolutional Neural Networks", Distill 2019).
ALEXNET = [(11, 4), (3, 2), (5, 1), (3, 2), (3, 1), (3, 1), (3, 1), (3, 2)]
VGG16 = [(3, 1), (3, 1), (2, 2)] * 2 + [(3, 1), (3, 1), (3, 1), (2, 2)] * 3
# LeNet-5: C1 5x5, S2 2x2/2, C3 5x5, S4 2x2/2, C5 5x5 -> C5 sees its whole 32x32 input.
LENET5 = [(5, 1), (2, 2), (5, 1), (2, 2), (5, 1)]


def brute_force(layers):
    """Follow the input indices that feed unit 0 of the last layer back to the input (1-D).

    Returns the span from the first to the last index seen: when a stride exceeds the next
    kernel the region has holes, but its extent is still what the receptive field measures.
    """
    seen = {0}
    for kernel, stride in reversed(layers):
        seen = {i * stride + d for i in seen for d in range(kernel)}
    return max(seen) - min(seen) + 1


def test_stacked_3x3_convolutions_grow_by_two_per_layer():
    # "Backward pass of a convolution layer": each unit sees a small window of the layer
    # below, which sees its own...
    assert [receptive_field([(3, 1)] * depth) for depth in range(5)] == [1, 3, 5, 7, 9]


def test_stride_multiplies_the_growth_of_later_layers():
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(3, 1), (2, 2), (3, 1)]) == 3 + 1 + 2 * 2
    assert receptive_field([(3, 2), (3, 2), (3, 1)]) == 3 + 2 * 2 + 2 * 4


def test_the_last_layers_stride_does_not_widen_one_unit():
    assert receptive_field([(3, 1), (3, 7)]) == receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(1, 5)]) == 1


@pytest.mark.parametrize(
    ("layers", "expected"),
    [(ALEXNET, 195), (VGG16, 212), (VGG16[:-1], 196), (LENET5, 32), ([], 1)],
    ids=["alexnet-pool5", "vgg16-pool5", "vgg16-conv5_3", "lenet5-c5", "no-layers"],
)
def test_published_receptive_fields(layers, expected):
    assert receptive_field(layers) == expected
    assert isinstance(receptive_field(layers), int)


@pytest.mark.parametrize("bad", [[(0, 1)], [(3, 0)], [(3, 1), (-1, 1)]])
def test_kernel_and_stride_must_be_positive(bad):
    with pytest.raises(ValueError):
        receptive_field(bad)
    with pytest.raises(ValueError):
        receptive_field_table(bad)


@given(layer_lists)
def test_backward_recurrence_forward_table_and_brute_force_agree(layers):
    expected = brute_force(layers)
    assert receptive_field(layers) == expected
    rows = receptive_field_table(layers)
    assert len(rows) == len(layers)
    if rows:
        assert rows[-1]["receptive_field"] == expected


@given(layer_lists)
def test_table_rows_are_the_receptive_fields_of_each_prefix(layers):
    rows = receptive_field_table(layers)
    for depth, row in enumerate(rows, start=1):
        assert row["layer"] == depth
        assert (row["kernel"], row["stride"]) == tuple(layers[depth - 1])
        assert row["receptive_field"] == brute_force(layers[:depth])
        assert row["jump"] == int(np.prod([s for _, s in layers[:depth]]))


def test_receptive_field_of_asks_each_module_for_its_window():
    class Blur(cnnlib.Module):  # no cnnlib class: only its window says what it does
        window = cnnlib.shapes.Window((5, 1), (1, 1))

        def forward(self, x):
            return x

    model = cnnlib.Sequential(cnnlib.Conv2d(1, 1, 3, rng=0), Blur(), cnnlib.ReLU())
    assert receptive_field_of(model, axis=0) == 3 + 4
    assert receptive_field_of(model, axis=1) == 3


def _support_of_one_unit(model, shape):
    """Side lengths of the input region whose pixels change one central output unit.

    Positive weights and average pooling make every path's contribution positive, so
    no gradient cancels and the non-zero region of d(unit)/d(input) is the receptive field.
    """
    for p in model.parameters():
        p.data[...] = np.abs(p.data) + 0.1
    out = model.forward(np.ones(shape))
    dout = np.zeros_like(out)
    dout[0, 0, out.shape[2] // 2, out.shape[3] // 2] = 1.0
    dx = model.backward(dout)
    rows, cols = np.nonzero(dx[0].sum(axis=0))
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


@pytest.mark.parametrize(
    ("build", "size"),
    [
        (lambda: cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, rng=0), cnnlib.ReLU(),
                                   cnnlib.Conv2d(2, 2, 3, rng=1)), 40),
        (lambda: cnnlib.Sequential(cnnlib.Conv2d(1, 2, 3, pad=1, rng=0), cnnlib.AvgPool2d(2),
                                   cnnlib.Conv2d(2, 3, 3, pad=1, rng=1), cnnlib.AvgPool2d(2),
                                   cnnlib.Conv2d(3, 2, 3, rng=2)), 40),
        (lambda: cnnlib.Sequential(cnnlib.Conv2d(1, 2, 5, stride=2, rng=0),
                                   cnnlib.Sequential(cnnlib.Conv2d(2, 2, 3, stride=2, rng=1),
                                                     cnnlib.AvgPool2d(3, stride=1))), 41),
    ],
    ids=["two-3x3", "vgg-like-with-avgpool", "strided-and-nested"],
)
def test_receptive_field_of_matches_the_region_backprop_reaches(build, size):
    model = build()
    rows, cols = _support_of_one_unit(build(), (1, 1, size, size))
    assert receptive_field_of(model) == rows
    assert receptive_field_of(model, axis=1) == cols


def test_receptive_field_of_non_square_kernels_and_stops_at_flatten():
    model = cnnlib.Sequential(
        cnnlib.Conv2d(1, 2, (3, 5), rng=0), cnnlib.MaxPool2d((2, 1)),
        cnnlib.Conv2d(2, 2, 3, rng=1), cnnlib.Flatten(), cnnlib.Linear(2 * 6 * 12, 3, rng=2),
    )
    assert receptive_field_of(model, axis=0) == brute_force([(3, 1), (2, 2), (3, 1)]) == 8
    assert receptive_field_of(model, axis=1) == brute_force([(5, 1), (1, 1), (3, 1)]) == 7
    averaged = cnnlib.Sequential(cnnlib.Conv2d(1, 2, (3, 5), rng=0), cnnlib.AvgPool2d((2, 1)),
                                 cnnlib.Conv2d(2, 2, 3, rng=1))
    assert _support_of_one_unit(averaged, (1, 1, 20, 20)) == (8, 7)
