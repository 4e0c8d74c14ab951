"""cnnlib.analysis: parameter and memory tables against published counts and real modules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cnnlib
from cnnlib import (
    Conv2d,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    layer_table,
    model_table,
)

pytestmark = pytest.mark.nb06_architectures


VGG16 = (
    [("conv", 64, 3, 1, 1), ("relu",)] * 2 + [("pool", 2, 2)]
    + [("conv", 128, 3, 1, 1), ("relu",)] * 2 + [("pool", 2, 2)]
    + [("conv", 256, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("conv", 512, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("conv", 512, 3, 1, 1), ("relu",)] * 3 + [("pool", 2, 2)]
    + [("fc", 4096), ("relu",), ("fc", 4096), ("relu",), ("fc", 1000)]
)


def test_lecture_112_parameters():
    (row,) = layer_table((3, 8, 8), [("conv", 4, 3, 1, 0)])
    assert row["params"] == 112, "(3*3*3 + 1) * 4 = 112: weights plus one bias per filter"
    assert row["output_shape"] == (4, 6, 6)
    assert row["activations"] == 4 * 6 * 6


def test_vgg16_has_its_published_parameter_count():
    rows = layer_table((3, 224, 224), VGG16)
    assert sum(r["params"] for r in rows) == 138_357_544  # Simonyan & Zisserman, torchvision
    convs = [r for r in rows if r["layer"].startswith("conv")]
    fcs = [r for r in rows if r["layer"].startswith("fc")]
    assert rows[-2]["output_shape"] == (4096,) and rows[-1]["output_shape"] == (1000,)
    # "Backward pass of a convolution layer": parameters live in the FC layers, memory in
    # the early convolutions
    assert sum(r["params"] for r in fcs) > 0.85 * sum(r["params"] for r in rows)
    assert convs[0]["activations"] == 64 * 224 * 224 == max(r["activations"] for r in rows)
    assert fcs[0]["params"] == (7 * 7 * 512 + 1) * 4096  # the fc input is flattened


def test_alexnet_first_layer_and_pool():
    rows = layer_table((3, 227, 227), [("conv", 96, 11, 4, 0), ("relu",), ("pool", 3, 2)])
    assert rows[0]["output_shape"] == (96, 55, 55)
    assert rows[0]["params"] == (11 * 11 * 3 + 1) * 96 == 34_944
    assert rows[1]["output_shape"] == (96, 55, 55) and rows[1]["params"] == 0
    assert rows[2]["output_shape"] == (96, 27, 27) and rows[2]["params"] == 0


def test_rows_have_the_documented_types():
    rows = layer_table((1, 8, 8), [("conv", 2, 3, 1, 1), ("pool", 2, 2), ("fc", 5)])
    for row in rows:
        assert set(row) == {"layer", "output_shape", "params", "activations"}
        assert isinstance(row["layer"], str) and isinstance(row["output_shape"], tuple)
        counts = (row["params"], row["activations"], *row["output_shape"])
        assert all(type(v) is int for v in counts)


def test_bad_layers_are_refused():
    with pytest.raises(ValueError):
        layer_table((1, 8, 8), [("dense", 3)])
    with pytest.raises(ValueError):
        layer_table((1, 4, 4), [("conv", 2, 5, 1, 0)])
    with pytest.raises(ValueError):
        layer_table((1, 4, 4), [("fc", 3), ("conv", 2, 1, 1, 0)])


LAYER_CHOICES = st.sampled_from(["same3", "valid3", "one", "relu", "pool"])


@given(channels=st.integers(1, 3), side=st.sampled_from([4, 6, 8]),
       kinds=st.lists(LAYER_CHOICES, max_size=5), widths=st.lists(st.integers(1, 4), min_size=5),
       head=st.lists(st.integers(1, 6), max_size=2))
def test_layer_table_agrees_with_model_table_of_real_modules(channels, side, kinds, widths, head):
    """Random small CNNs, described twice: as layer tuples and as real modules."""
    specs, modules, c, size = [], [], channels, side
    for kind, f in zip(kinds, widths, strict=False):
        if kind == "same3":
            specs.append(("conv", f, 3, 1, 1))
            modules.append(Conv2d(c, f, 3, pad=1, rng=0))
        elif kind == "valid3" and size >= 3:
            specs.append(("conv", f, 3, 1, 0))
            modules.append(Conv2d(c, f, 3, rng=0))
            size -= 2
        elif kind == "one":
            specs.append(("conv", f, 1, 1, 0))
            modules.append(Conv2d(c, f, 1, rng=0))
        elif kind == "pool" and size % 2 == 0:
            specs.append(("pool", 2, 2))
            modules.append(MaxPool2d(2))
            size //= 2
            continue
        elif kind == "relu":
            specs.append(("relu",))
            modules.append(ReLU())
            continue
        else:
            continue
        c = f
    flat = c * size * size
    if head:
        modules.append(Flatten())
    for out in head:
        specs.append(("fc", out))
        modules.append(Linear(flat, out, rng=0))
        flat = out
    shape = (channels, side, side)
    expected = [r for r in model_table(Sequential(*modules), shape) if r["layer"] != "Flatten"]
    got = layer_table(shape, specs)
    assert [r["output_shape"] for r in got] == [r["output_shape"] for r in expected]
    assert [r["params"] for r in got] == [r["params"] for r in expected]
    assert [r["activations"] for r in got] == [r["activations"] for r in expected]


def test_format_table_totals():
    text = cnnlib.format_table(layer_table((3, 8, 8), [("conv", 4, 3, 1, 0), ("fc", 2)]))
    assert "112" in text and "total" in text
    assert f"{112 + (4 * 6 * 6 + 1) * 2:,}" in text

